#!/usr/bin/env bash
# The loader end to end (issue "Load and run"): generated multi-vendor feeds
# through `omopipe run`; accounting per file; re-runs change nothing; a changed
# file replaces its rows; corrections, retractions and merges; quarantine
# list/show/replay; the run ledger; derived tables; the per-site lock; and
# crash safety: killed with SIGKILL at several points, the next run gives the
# same CDM as an uninterrupted one (content checksums, ids by source key).
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"
checksum() { PGDATABASE="${1:-$PGDATABASE}" "$OMOPIPE" psql -X -q -At -v ON_ERROR_STOP=1 -f "$HERE/cdm_checksum.sql"; }
prepare_db() { # DB: a fresh database with the CDM, the demo vocabulary and the site maps
  PGDATABASE=postgres "$OMOPIPE" psql -X -q -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
  PGDATABASE="$1" "$OMOPIPE" init >/dev/null
  PGDATABASE="$1" "$OMOPIPE" vocab load "$OMOPIPE_SHARE/mappings/demo-vocab" >/dev/null 2>&1
  for s in north south; do PGDATABASE="$1" "$OMOPIPE" sitemap load --site $s "$G/$s/sitemap.csv" >/dev/null; done
}

# --- feeds: two sites, HL7 (epic, cerner) and CSV (both Synthea layouts), 2% broken ---
G="$T/feeds"
omo generate --patients 40 --sites 2 --out "$G" --seed 7 --error-rate 0.02 --file-records 60 >/dev/null
grep -v '^feed = ccda' "$G/omopipe.conf" > "$G/load.conf"
C="$G/load.conf"
prepare_db "$PGDATABASE"

expect_rc "nightly run" 0 omo -c "$C" run
expect_grep "files loaded" "loaded, 0 unchanged, 0 failed" "$T/out"
read_n=$(sed -n 's/^records: \([0-9]*\) read.*/\1/p' "$T/out")
expected_n=$(python3 -c "
import json; d=json.load(open('$G/expected.json'))
print(sum(f['records'] for s in d['site_list'] for fd in s['feeds'] if fd['format']!='ccda' for f in fd['files']))")
expect_eq "every record written is read" "$expected_n" "$read_n"
expected_q=$(python3 -c "
import json; d=json.load(open('$G/expected.json')); q=d['quarantine_kinds']
print(sum(v for s in d['site_list'] for fd in s['feeds'] if fd['format']!='ccda' for f in fd['files'] for k,v in f['errors'].items() if k in q))")
expect_grep "quarantined as broken" "+ $expected_q quarantined" "$T/out"
expect_eq "ledger: read = loaded + quarantined + skipped in every file" 0 \
  "$(sql "SELECT count(*) FROM omopipe.run_file WHERE records_read <> records_loaded + records_quarantined + records_skipped")"
expect_eq "quarantine rows match" "$expected_q" "$(sql "SELECT count(*) FROM omopipe.quarantine")"
expect_eq "every quarantined record has reason, position and raw copy" 0 \
  "$(sql "SELECT count(*) FROM omopipe.quarantine WHERE reason = '' OR record_no IS NULL OR raw_zst IS NULL")"
expect_eq "ids carry the site" 0 "$(sql "SELECT count(*) FROM cdm.measurement m JOIN cdm.person p USING (person_id) WHERE m.measurement_id / 1000000000000 <> p.person_id / 1000000000000")"
expect_eq "sites never collide" 2 "$(sql "SELECT count(DISTINCT person_id / 1000000000000) FROM cdm.person")"
expect_eq "no orphan events" 0 "$(sql "SELECT count(*) FROM cdm.measurement m WHERE NOT EXISTS (SELECT 1 FROM cdm.person p WHERE p.person_id = m.person_id)")"
expect_eq "type concept always set" 0 "$(sql "SELECT count(*) FROM cdm.measurement WHERE measurement_type_concept_id IS NULL OR measurement_type_concept_id = 0")"
expect_eq "every person has an observation period" 0 "$(sql "SELECT count(*) FROM cdm.person p WHERE NOT EXISTS (SELECT 1 FROM cdm.observation_period o WHERE o.person_id = p.person_id) AND EXISTS (SELECT 1 FROM cdm.visit_occurrence v WHERE v.person_id = p.person_id)")"
[ "$(sql "SELECT count(*) FROM cdm.condition_era")" -gt 0 ] || fail "no condition eras"
[ "$(sql "SELECT count(*) FROM cdm.drug_era")" -gt 0 ] || fail "no drug eras"
expect_eq "drug eras are ingredients" 0 "$(sql "SELECT count(*) FROM cdm.drug_era d JOIN cdm.concept c ON c.concept_id = d.drug_concept_id WHERE c.concept_class_id <> 'Ingredient'")"
expect_eq "cdm_source" "1|5.4" "$(sql "SELECT count(*) || '|' || max(cdm_version) FROM cdm.cdm_source")"
checksum > "$T/first.sum"

# --- a re-run changes nothing ---
expect_rc "re-run" 0 omo -c "$C" run
expect_grep "all unchanged" "0 loaded, .* unchanged, 0 failed" "$T/out"
checksum > "$T/rerun.sum"
diff "$T/first.sum" "$T/rerun.sum" || fail "a re-run changed the CDM"
echo "ok: re-run changes nothing"

# --- a changed file replaces its earlier rows ---
OBS="$G/north/csv/synthea/observations.csv"
before=$(sql "SELECT count(*) FROM cdm.measurement")
sed -i '2,11d' "$OBS"    # ten rows fewer
expect_rc "run after a file changed" 0 omo -c "$C" run
expect_grep "one file reloaded" "1 loaded, .* unchanged, 0 failed" "$T/out"
after=$(sql "SELECT count(*) FROM cdm.measurement m JOIN cdm.person p USING (person_id)")
[ "$after" -lt "$before" ] || fail "removed rows still there ($before -> $after)"
prepare_db "${PGDATABASE}_fresh"
PGDATABASE="${PGDATABASE}_fresh" "$OMOPIPE" -c "$C" run >/dev/null 2>&1
checksum "${PGDATABASE}_fresh" > "$T/fresh.sum"
checksum > "$T/changed.sum"
diff "$T/fresh.sum" "$T/changed.sum" || fail "reloading a changed file differs from loading it fresh"
echo "ok: a changed file replaces its earlier rows exactly"

# --- workers: one worker gives the same CDM as several ---
prepare_db "${PGDATABASE}_w1"
PGDATABASE="${PGDATABASE}_w1" "$OMOPIPE" -c "$C" --workers 1 run >/dev/null 2>&1
diff "$T/fresh.sum" <(checksum "${PGDATABASE}_w1") || fail "1 worker and 2 workers differ"
echo "ok: the same CDM with 1 or 2 workers"

# --- crash safety: SIGKILL at several points, then a full run ---
# Kill points: before any file commits, after 1 file, a quarter, half, three
# quarters, and when all files are in (the derived tables are then being built).
midway=0
total_files=$(sql "SELECT count(*) FROM omopipe.source_file")
for target in 0 1 $((total_files / 4)) $((total_files / 2)) $((total_files * 3 / 4)) "$total_files"; do
  prepare_db "${PGDATABASE}_kill"
  PGDATABASE="${PGDATABASE}_kill" "$OMOPIPE" -q -c "$C" --workers 1 run >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 600); do
    done_files=$(PGDATABASE="${PGDATABASE}_kill" "$OMOPIPE" psql -X -At -c "SELECT count(*) FROM omopipe.run_file WHERE status = 'loaded'" 2>/dev/null || echo 0)
    [ "$done_files" -ge "$target" ] && break
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  partial=$(PGDATABASE="${PGDATABASE}_kill" "$OMOPIPE" psql -X -At -c "SELECT count(*) FROM omopipe.run_file WHERE status = 'loaded'")
  PGDATABASE="${PGDATABASE}_kill" "$OMOPIPE" -q -c "$C" run >/dev/null 2>&1 || fail "the run after a kill at $partial files failed"
  if [ "$partial" -gt 0 ] && [ "$partial" -lt "$total_files" ]; then
    midway=$((midway + 1))
    expect_eq "a run killed mid-way is marked interrupted" interrupted \
      "$(PGDATABASE="${PGDATABASE}_kill" "$OMOPIPE" psql -X -At -c "SELECT status FROM omopipe.run ORDER BY run_id LIMIT 1")"
  fi
  diff "$T/fresh.sum" <(checksum "${PGDATABASE}_kill") || fail "killed with $partial of $total_files files committed: the CDM differs from an uninterrupted run"
  echo "ok: killed with $partial of $total_files files committed, the next run completes the same CDM"
done
[ "$midway" -ge 2 ] || fail "only $midway kills landed between the first and the last file: the test proves little"
echo "ok: $midway kills landed mid-way"

# --- the site lock: a second run for the same site exits at once ---
site_no=$(sql "SELECT site_no FROM omopipe.site WHERE site_id = 'north'")
"$OMOPIPE" psql -X -q -c "SELECT pg_advisory_lock(7012002, $site_no), pg_sleep(8)" >/dev/null &
holder=$!
for i in $(seq 50); do
  [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7012002 AND objid = $site_no AND granted")" = 1 ] && break
  sleep 0.1
done
start=$(date +%s)
expect_rc "second run of a locked site" 1 omo -c "$C" etl --site north
expect_grep "says who holds it" "being loaded by another omopipe" "$T/err"
[ $(( $(date +%s) - start )) -le 3 ] || fail "the locked run did not exit at once"
expect_rc "another site runs meanwhile" 0 omo -c "$C" etl --site south
wait "$holder"

# --- corrections, deletions, merges (HL7) ---
F="$OMO_FIXTURES/hl7v2"
tr '\r' '\n' < "$F/epic.hl7" | awk -v d="$T" '/^MSH/ { n++ } { print > (d "/epic" n ".txt") }'
for i in 1 2; do tr '\n' '\r' < "$T/epic$i.txt" > "$T/epic$i.hl7"; done
expect_rc "original results" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/epic1.hl7"
glu_id=$(sql "SELECT measurement_id FROM cdm.measurement WHERE measurement_source_value = '2345-7' AND value_as_number = 98")
[ -n "$glu_id" ] || fail "original glucose not loaded"
expect_eq "local result loaded" 1 "$(sql "SELECT count(*) FROM cdm.measurement WHERE measurement_source_value = 'GLU' AND person_id / 1000000000000 = $glu_id / 1000000000000")"
expect_rc "correction (OBX-11 = C) and deletion (D) in a later file" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/epic2.hl7"
expect_eq "corrected value, same row" "89" "$(sql "SELECT value_as_number FROM cdm.measurement WHERE measurement_id = $glu_id")"
expect_eq "no duplicate of the corrected result" 1 "$(sql "SELECT count(*) FROM cdm.measurement WHERE measurement_source_value = '2345-7' AND person_id / 1000000000000 = $glu_id / 1000000000000")"
expect_eq "deleted result gone" 0 "$(sql "SELECT count(*) FROM cdm.measurement WHERE measurement_source_value = 'GLU' AND person_id / 1000000000000 = $glu_id / 1000000000000")"

printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230301080000||ADT^A04|M1|P|2.5.1\rPID|1||A1^^^NORTH^MR||ONE^A||19700101|M\rPV1|1|O|CLINIC||||||||||||||||VA1^^^NORTH^VN|||||||||||||||||||||||||20230301070000|\rDG1|1||E11.9^Type 2 diabetes^I10|||F\r' > "$T/m1.hl7"
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230302080000||ADT^A04|M2|P|2.5.1\rPID|1||B2^^^NORTH^MR||TWO^B||19700101|M\rPV1|1|O|CLINIC||||||||||||||||VB2^^^NORTH^VN|||||||||||||||||||||||||20230302070000|\rDG1|1||I10^Hypertension^I10|||F\r' >> "$T/m1.hl7"
expect_rc "two patients" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/m1.hl7"
a=$(sql "SELECT person_id FROM cdm.person WHERE person_source_value LIKE '%A1'")
b=$(sql "SELECT person_id FROM cdm.person WHERE person_source_value LIKE '%B2'")
[ -n "$a" ] && [ -n "$b" ] || fail "patients A1 and B2 not loaded"
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230303080000||ADT^A40|M3|P|2.5.1\rEVN|A40|20230303080000\rPID|1||A1^^^NORTH^MR||ONE^A||19700101|M\rMRG|B2^^^NORTH^MR\r' > "$T/m2.hl7"
expect_rc "merge B2 into A1 (A40)" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/m2.hl7"
expect_eq "merged person gone" 0 "$(sql "SELECT count(*) FROM cdm.person WHERE person_id = $b")"
expect_eq "its conditions moved to the survivor" 2 "$(sql "SELECT count(*) FROM cdm.condition_occurrence WHERE person_id = $a")"
expect_eq "its visits moved to the survivor" 2 "$(sql "SELECT count(*) FROM cdm.visit_occurrence WHERE person_id = $a")"
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230304080000||ADT^A08|M4|P|2.5.1\rPID|1||B2^^^NORTH^MR||TWO^B||19700101|F\rPV1|1|O|CLINIC||||||||||||||||VB3^^^NORTH^VN|||||||||||||||||||||||||20230304070000|\r' > "$T/m3.hl7"
expect_rc "a later message under the old identifier" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/m3.hl7"
expect_eq "lands on the survivor" 3 "$(sql "SELECT count(*) FROM cdm.visit_occurrence WHERE person_id = $a")"
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230305080000||ADT^A11|M5|P|2.5.1\rPID|1||A1^^^NORTH^MR||ONE^A||19700101|M\rPV1|1|O|CLINIC||||||||||||||||VB3^^^NORTH^VN|||||||||||||||||||||||||20230304070000|\r' > "$T/m4.hl7"
expect_rc "cancel a visit (A11)" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/m4.hl7"
expect_eq "cancelled visit gone" 2 "$(sql "SELECT count(*) FROM cdm.visit_occurrence WHERE person_id = $a")"

# A new patient's events are taken as new without looking them up (ids.c); an
# event key that exists all the same (the lab re-sends an order under another
# identifier) is found on the retry and its row replaced, not duplicated.
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230306080000||ORU^R01|R1|P|2.5.1\rPID|1||N1^^^NORTH^MR||N^N||19800101|F\rOBR|1|P77|F77|80048^BMP^C4|||20230301071500\rOBX|1|NM|2345-7^Glucose^LN||71.125|mg/dL^^UCUM|70-99|N|||F|||20230301073000\r' > "$T/n1.hl7"
sed 's/N1^^^NORTH/N2^^^NORTH/; s/|R1|/|R2|/; s/||71.125|/||72.125|/' "$T/n1.hl7" > "$T/n2.hl7"
expect_rc "a result of a new patient" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/n1.hl7"
n_id=$(sql "SELECT measurement_id FROM cdm.measurement WHERE value_as_number = 71.125")
[ -n "$n_id" ] || fail "result of N1 not loaded"
expect_rc "the same order under a new identifier" 0 omo -v -v etl --site hosp --format hl7v2 --profile epic "$T/n2.hl7"
expect_grep "taken as new, found on the retry" "duplicate key value violates unique constraint \"id_map_pkey\"" "$T/err"
expect_eq "the same row, now the new patient's value" "72.125|1" "$(sql "SELECT value_as_number, count(*) OVER () FROM cdm.measurement WHERE measurement_id = $n_id OR value_as_number IN (71.125, 72.125)")"
expect_eq "under the new patient" "$(sql "SELECT person_id FROM cdm.person WHERE person_source_value LIKE '%N2'")" "$(sql "SELECT person_id FROM cdm.measurement WHERE measurement_id = $n_id")"

# --- quarantine: list, show, replay after a fix ---
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230306080000||ORU^R01|Q1|P|2.5.1\rPID|1||Q9^^^NORTH^MR||Q^Q||19800101|F\rOBR|1|P9|F9|80048^BMP^C4|||20230230071500\rOBX|1|NM|2345-7^Glucose^LN||77|mg/dL^^UCUM|70-99|N|||F|||20230230073000\r' > "$T/q.hl7"
expect_rc "a bad date" 0 omo etl --site hosp --format hl7v2 --profile epic "$T/q.hl7"
expect_grep "counted" "0 loaded + 1 quarantined" "$T/out"
qid=$(sql "SELECT max(quarantine_id) FROM omopipe.quarantine WHERE path LIKE '%/q.hl7'")
expect_rc "quarantine list" 0 omo quarantine list --site hosp
expect_grep "listed with reason and position" "bad_date .*q.hl7" "$T/out"
grep -q "Q9" "$T/out" && fail "quarantine list shows patient data"
expect_rc "quarantine show" 0 omo quarantine show "$qid"
expect_grep "shows the position" "position:" "$T/out"
expect_rc "quarantine show --raw" 0 omo quarantine show "$qid" --raw
expect_grep "raw record kept" "OBX|1|NM|2345-7" "$T/out"
cp "$T/out" "$T/raw.hl7"
expect_rc "replay as it was" 1 omo quarantine replay "$qid"
expect_grep "still bad" "still not loadable" "$T/out"
sed 's/20230230/20230228/g' "$T/raw.hl7" > "$T/fixed.hl7"
expect_rc "replay the fixed record" 0 omo quarantine replay "$qid" --from "$T/fixed.hl7"
expect_grep "replayed" "replayed, loaded in run" "$T/out"
expect_eq "the fixed result is in" 1 "$(sql "SELECT count(*) FROM cdm.measurement m JOIN cdm.person p USING (person_id) WHERE p.person_source_value LIKE '%Q9' AND m.value_as_number = 77")"

# --- small files share a transaction; one that fails does not take the others with it ---
GR="$T/group"; mkdir -p "$GR"
for i in 1 2 3 4 5; do
  printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|2023030%d080000||ADT^A04|G%d|P|2.5.1\rPID|1||G%d^^^NORTH^MR||G^G||19700101|M\r' "$i" "$i" "$i" > "$GR/g$i.hl7"
done
printf 'MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230309080000||ADT^A04|G9|P|2.5.1\rPID|1||G9^^^NORTH^MR||G^G||19700101|M\r' | zstd -q > "$GR/g3b.hl7.zst"
head -c 20 "$GR/g3b.hl7.zst" > "$GR/g3c.hl7.zst"   # a truncated zstd stream: an I/O error
expect_rc "a group with a broken file" 1 omo etl --site grp --format hl7v2 --profile epic "$GR"
expect_grep "the others load" "6 loaded, 0 unchanged, 1 failed" "$T/out"
expect_grep "the broken one is named" "g3c.hl7.zst" "$T/err"
expect_eq "their persons are in" 6 "$(sql "SELECT count(*) FROM cdm.person WHERE person_source_value LIKE 'NORTH|G%'")"
expect_eq "one ledger row each" 7 "$(sql "SELECT count(*) FROM omopipe.run_file f JOIN omopipe.site s USING (site_no) WHERE s.site_id = 'grp'")"

# --- the ledger ---
expect_rc "runs" 0 omo runs --site north
expect_grep "runs listed" "ok" "$T/out"
expect_rc "runs of another site" 0 omo runs --site hosp --limit 3
[ "$(grep -c . "$T/out")" -le 4 ] || fail "--limit not honoured"

# --- usage ---
expect_rc "etl without --site" 2 omo etl
expect_rc "unknown site without --format" 3 omo etl --site nowhere
expect_rc "missing file" 1 omo etl --site hosp --format hl7v2 "$T/none.hl7"
expect_grep "names it" "none.hl7" "$T/err"
expect_rc "run without sites" 3 omo run
# rows go out in binary, each value in its column's type: a CDM table made
# with other types is a configuration error before any file, not wrong values
sql "ALTER TABLE cdm.measurement ALTER COLUMN value_as_number TYPE double precision"
expect_rc "a column of another type" 3 omo etl --site hosp --format hl7v2 --profile epic "$T/n1.hl7"
expect_grep "names the column and the fix" "column cdm.measurement.value_as_number is double precision, omopipe writes numeric: create the CDM tables with \`omopipe init\`" "$T/err"
sql "ALTER TABLE cdm.measurement ALTER COLUMN value_as_number TYPE numeric"
# a file whose name is not UTF-8 (a Latin-1 name from an old system) loads:
# the ledger keeps its name with \xE9 for the byte it cannot hold, the same
# each time, so that the next run finds it unchanged (the file failed before)
L="$T/latin1"; mkdir -p "$L"; cp "$OMO_FIXTURES/hl7v2/cerner.hl7" "$L/$(printf 'r\351sultats.hl7')"
expect_rc "a file named in Latin-1" 0 omo etl --site latin1 --format hl7v2 --profile cerner "$L"
expect_grep "it loads" "1 loaded, 0 unchanged, 0 failed" "$T/out"
expect_eq "its name in the ledger" "r\\xE9sultats.hl7" "$(sql "SELECT regexp_replace(path, '.*/', '') FROM omopipe.source_file WHERE path LIKE '%sultats.hl7'")"
expect_rc "the same file again" 0 omo etl --site latin1 --format hl7v2 --profile cerner "$L"
expect_grep "known again" "0 loaded, 1 unchanged, 0 failed" "$T/out"
# one that fails (a header without the columns its profile reads) in a
# folder named in Latin-1: its failure, whose message names the file, is in
# the run's ledger as well (its INSERT failed on the name before)
L2="$T/$(printf 'donn\351es')"; mkdir -p "$L2"; printf 'Id,NAME\np1,x\n' > "$L2/patients.csv"
expect_rc "a failing file in a Latin-1 folder" 1 omo etl --site latin1 --format csv --profile synthea "$L2"
expect_grep "it fails" "0 loaded, 0 unchanged, 1 failed" "$T/out"
expect_eq "its failure in the ledger" "failed|true" "$(sql "SELECT status || '|' || (strpos(message, 'donn\\xE9es/patients.csv') > 0) FROM omopipe.run_file WHERE path LIKE '%/patients.csv' AND site_no = (SELECT site_no FROM omopipe.site WHERE site_id = 'latin1')")"

for db in fresh w1 kill; do PGDATABASE=postgres "$OMOPIPE" psql -X -q -c "DROP DATABASE IF EXISTS \"${PGDATABASE}_$db\" WITH (FORCE)" >/dev/null; done
echo "all loader checks passed"
