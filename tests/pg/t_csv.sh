#!/usr/bin/env bash
# CSV feeds end to end through `omopipe etl --format csv`: both Synthea layouts
# (profiles synthea and synthea-2017) into the CDM with the rows per table;
# a re-run changes nothing; a changed file replaces its earlier rows; the
# 2017 export compressed with zstd loads the same; malformed rows are
# quarantined with reason and position (file:line, column).
#
# Row counts: person, visit, provider, care site, location and death follow
# from the files alone (rows of patients.csv, encounters.csv ...; locations =
# patients + organizations; deaths = non-empty DEATHDATE), and so does the sum
# over the event tables (one event per row of the clinical files). How events
# split between condition / observation / measurement / procedure follows from
# the vocabulary (the concept's domain), here Eunomia-Synthea27Nj_5.4.
source "$(dirname "$0")/lib.sh"
CUR="$OMO_SHARED_DATA/csv/synthea-OHDSI-dbt-synthea-seeds/synthea"
OLD="$OMO_SHARED_DATA/csv/synthea-v1-2017-pressleydavid-fusephir/csv"
F="$OMO_FIXTURES/csv"
cdm() { sql "SELECT count(*) FROM cdm.$1 ${2:-}"; }
events() { sql "SELECT (SELECT count(*) FROM cdm.condition_occurrence) + (SELECT count(*) FROM cdm.drug_exposure)
  + (SELECT count(*) FROM cdm.procedure_occurrence) + (SELECT count(*) FROM cdm.device_exposure)
  + (SELECT count(*) FROM cdm.measurement) + (SELECT count(*) FROM cdm.observation)"; }

expect_rc "init" 0 omo init
expect_rc "vocab load" 0 omo vocab load "$OMO_SHARED_DATA/vocab/Eunomia-Synthea27Nj_5.4"

# --- the current layout, from a copy (so that a file can be changed later)
S="$T/seeds"; mkdir -p "$S"; cp "$CUR"/*.csv "$S"/; chmod u+w "$S"/*.csv
expect_rc "etl synthea" 0 omo etl --site seeds --format csv --profile synthea "$S"
# 10950 rows in 18 files; claims, claims_transactions, payers (6505 rows) skipped
expect_grep "synthea files" "18 file(s): 18 loaded, 0 unchanged, 0 failed" "$T/out"
expect_grep "synthea records" "records: 10950 read = 4445 loaded + 0 quarantined + 6505 skipped" "$T/out"
expect_eq "person" 27 "$(cdm person)"
expect_eq "death" 2 "$(cdm death)"
expect_eq "visit_occurrence" 604 "$(cdm visit_occurrence)"
expect_eq "provider" 166 "$(cdm provider)"
expect_eq "care_site" 63 "$(cdm care_site)"
expect_eq "location (27 patients + 63 organizations)" 90 "$(cdm location)"
expect_eq "events (rows of the 10 clinical files)" 2534 "$(events)"
expect_eq "condition_occurrence" 187 "$(cdm condition_occurrence)"
expect_eq "drug_exposure (663 medications + 29 immunizations)" 692 "$(cdm drug_exposure)"
expect_eq "procedure_occurrence" 188 "$(cdm procedure_occurrence)"
expect_eq "device_exposure (3 devices + 72 supplies)" 75 "$(cdm device_exposure)"
expect_eq "measurement" 620 "$(cdm measurement)"
expect_eq "observation" 772 "$(cdm observation)"
expect_eq "cost (604 encounters + 663 medications + 29 immunizations + 249 procedures)" 1545 "$(cdm cost)"
expect_eq "costs of visits" 604 "$(cdm cost "WHERE cost_domain_id = 'Visit'")"
expect_eq "every cost's event exists" 0 "$(sql "SELECT count(*) FROM cdm.cost c WHERE NOT EXISTS (SELECT 1 FROM cdm.visit_occurrence v WHERE v.visit_occurrence_id = c.cost_event_id)
  AND NOT EXISTS (SELECT 1 FROM cdm.drug_exposure d WHERE d.drug_exposure_id = c.cost_event_id)
  AND NOT EXISTS (SELECT 1 FROM cdm.procedure_occurrence p WHERE p.procedure_occurrence_id = c.cost_event_id)
  AND NOT EXISTS (SELECT 1 FROM cdm.observation o WHERE o.observation_id = c.cost_event_id)
  AND NOT EXISTS (SELECT 1 FROM cdm.measurement m WHERE m.measurement_id = c.cost_event_id)")"
expect_eq "payer_plan_period (rows of payer_transitions)" 1051 "$(cdm payer_plan_period)"
expect_eq "payer periods end after they start" 0 "$(cdm payer_plan_period "WHERE payer_plan_period_end_date < payer_plan_period_start_date")"
expect_eq "a payer period" "2014-10-14|2015-10-20|6e2f1a2d-27bd-3701-8d08-dae202c58632" "$(sql "SELECT payer_plan_period_start_date || '|' || payer_plan_period_end_date || '|' || payer_source_value
  FROM cdm.payer_plan_period p JOIN cdm.person USING (person_id) WHERE person_source_value = '3edac2e3-d223-6fae-d515-daf96ef6bc76'
  ORDER BY 1 LIMIT 1")"
expect_eq "inpatient visits (ENCOUNTERCLASS inpatient)" 11 "$(cdm visit_occurrence "WHERE visit_concept_id = 9201")"
expect_eq "emergency visits (17 emergency + 2 urgentcare)" 19 "$(cdm visit_occurrence "WHERE visit_concept_id = 9203")"
expect_eq "a body height" "127.9" "$(sql "SELECT value_as_number FROM cdm.measurement m JOIN cdm.person p USING (person_id)
  WHERE p.person_source_value = '3edac2e3-d223-6fae-d515-daf96ef6bc76' AND m.measurement_source_value = '8302-2'
  AND m.measurement_date = '2023-10-10'")"
expect_eq "a birth date" "2014-10-06" "$(sql "SELECT birth_datetime::date FROM cdm.person WHERE person_source_value = '3edac2e3-d223-6fae-d515-daf96ef6bc76'")"

# --- a re-run changes nothing
before="$(events) $(cdm person) $(cdm visit_occurrence)"
expect_rc "etl synthea again" 0 omo etl --site seeds --format csv --profile synthea "$S"
expect_grep "nothing to do" "18 file(s): 0 loaded, 18 unchanged, 0 failed" "$T/out"
expect_eq "same rows" "$before" "$(events) $(cdm person) $(cdm visit_occurrence)"

# --- a changed file replaces its earlier rows: the height corrected, the
# last 10 observation rows gone
python3 - "$S/observations.csv" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, encoding='utf-8').read().split('\n')
if lines[-1] == '':
    lines.pop()
lines = [l.replace('8302-2,Body Height,127.9,cm', '8302-2,Body Height,128.4,cm') for l in lines[:-10]]
open(p, 'w', encoding='utf-8').write('\n'.join(lines) + '\n')
EOF
gone=$(tail -n 10 "$CUR/observations.csv" | wc -l)
expect_rc "etl changed observations" 0 omo etl --site seeds --format csv --profile synthea "$S"
expect_grep "only the changed file" "18 file(s): 1 loaded, 17 unchanged, 0 failed" "$T/out"
expect_grep "its rows" "records: 980 read = 980 loaded" "$T/out"
expect_eq "events after the change" $((2534 - gone)) "$(events)"
expect_eq "the corrected height" "128.4" "$(sql "SELECT value_as_number FROM cdm.measurement m JOIN cdm.person p USING (person_id)
  WHERE p.person_source_value = '3edac2e3-d223-6fae-d515-daf96ef6bc76' AND m.measurement_source_value = '8302-2'
  AND m.measurement_date = '2023-10-10'")"
expect_eq "no old height left" 0 "$(cdm measurement "WHERE value_as_number = 127.9 AND measurement_source_value = '8302-2'")"
expect_eq "other tables untouched" "27 604 187" "$(cdm person) $(cdm visit_occurrence) $(cdm condition_occurrence)"

# --- the 2017 layout
expect_rc "etl synthea-2017" 0 omo etl --site y2017 --format csv --profile synthea-2017 "$OLD"
expect_grep "2017 files" "9 file(s): 9 loaded, 0 unchanged, 0 failed" "$T/out"
expect_grep "2017 records" "records: 14412 read = 14412 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "2017 persons (27 + 285)" 312 "$(cdm person)"
expect_eq "2017 deaths (2 + 85)" 87 "$(cdm death)"
expect_eq "2017 visits (604 + 1785)" 2389 "$(cdm visit_occurrence)"
# 874 + 775 + 1266 + 7019 + 854 + 103 + 1451 events, the 186 repeated
# observations and 17 repeated care-plan activities kept as rows of their own
expect_eq "2017 events" $((2534 - gone + 12342)) "$(events)"

# --- the same export compressed: read directly
Z="$T/z2017"; mkdir -p "$Z"
for f in "$OLD"/*.csv; do zstd -q -o "$Z/$(basename "$f").zst" "$f"; done
expect_rc "etl synthea-2017 .zst" 0 omo etl --site z2017 --format csv --profile synthea-2017 "$Z"
expect_grep "zst records" "records: 14412 read = 14412 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "zst persons" 597 "$(cdm person)"

# --- malformed rows: quarantined with reason and position, the rest loads
expect_rc "etl malformed" 0 omo etl --site bad --format csv --profile synthea "$F/malformed"
expect_grep "malformed totals" "records: 22 read = 11 loaded + 11 quarantined + 0 skipped" "$T/out"
expect_rc "quarantine list" 0 omo quarantine list
expect_grep "wrong column count" "column_count .*observations.csv:3: record 2, TYPE (first missing)" "$T/out"
expect_grep "bad date" "bad_date .*observations.csv:4: record 3, DATE" "$T/out"
expect_grep "invalid UTF-8" "bad_encoding .*observations.csv:10: record 7, DESCRIPTION" "$T/out"
expect_grep "no patient" "no_patient .*observations.csv:11: record 8, PATIENT" "$T/out"
expect_grep "broken quote" "parse .*observations.csv:16: record 13" "$T/out"
expect_grep "impossible birth date" "bad_date .*patients.csv:3: record 2, BIRTHDATE" "$T/out"
expect_eq "a quoted value with a delimiter loaded" 1 "$(cdm observation "WHERE value_as_string = 'Never smoker'
  AND observation_source_value = '72166-2' AND person_id IN (SELECT person_id FROM cdm.person WHERE person_source_value = 'p1')")"

# --- dates without their day: an event's start, a visit's start and a death
# date given to the month or the year load as their first day, with a note
# (the database refused them before, with no position)
P="$T/partial"; mkdir -p "$P"
head -1 "$CUR/patients.csv" > "$P/patients.csv"
pat=partial-1 # a patient of its own, with a death date without its day
sed -n 2p "$CUR/patients.csv" | awk -F, -v id=$pat 'BEGIN { OFS = "," } { $1 = id; $3 = "2019-06"; print }' >> "$P/patients.csv"
printf 'Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION\n' > "$P/careplans.csv"
printf 'cp1,1988-11,,%s,e1,384758001,Self-care interventions (procedure),,\n' "$pat" >> "$P/careplans.csv"
printf 'cp2,1990,,%s,e1,384758001,Self-care interventions (procedure),,\n' "$pat" >> "$P/careplans.csv"
expect_rc "etl dates without their day" 0 omo etl --site partial --format csv --profile synthea "$P"
expect_grep "all loaded" "records: 3 read = 3 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "the first day of the month and of the year" "1988-11-01,1990-01-01" \
  "$(sql "SELECT string_agg(d::text, ',' ORDER BY d) FROM (SELECT person_id, observation_date d FROM cdm.observation
          UNION ALL SELECT person_id, procedure_date FROM cdm.procedure_occurrence) x
          JOIN cdm.person p USING (person_id) WHERE p.person_source_value = '$pat'")"
expect_eq "death on the first day of its month" "2019-06-01" "$(sql "SELECT death_date FROM cdm.death d JOIN cdm.person p USING (person_id) WHERE p.person_source_value = '$pat'")"
expect_eq "noted" '{"event date without its day: its first day taken": 2} {"date of death without its day: its first day taken": 1}' \
  "$(sql "SELECT string_agg(notes_per_reason::text, ' ' ORDER BY path) FROM omopipe.run_file WHERE path LIKE '$P/%'")"

# --- a record the loader refuses (a cost for no visit or event) has no
# position of its own: not the one of the row quarantined before it
C="$T/costs"; mkdir -p "$C"
cat > "$C/costs.conf" <<'CONF'
[csv]
header = yes
[file costs]
match = costs_*.csv
[record patient]
file = costs
kind = person
key = P
[record cost]
file = costs
kind = cost
visit = V
total_charge = AMT
CONF
printf 'P,V,AMT\n1,v1,10,extra\n2,,20\n' > "$C/costs_1.csv"
expect_rc "etl costs" 0 omo etl --site costs --format csv --profile "$C/costs.conf" "$C/costs_1.csv"
expect_grep "both rows quarantined" "records: 2 read = 0 loaded + 2 quarantined + 0 skipped" "$T/out"
expect_eq "the extractor's position, then none" "1|column 4 (extra)
2|" "$(sql "SELECT record_no || '|' || coalesce(position, '') FROM omopipe.quarantine q JOIN omopipe.run_file f USING (run_id, path) WHERE q.path LIKE '$C/%' ORDER BY record_no")"
