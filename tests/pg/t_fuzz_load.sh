#!/usr/bin/env bash
# Damaged feeds end to end: the inputs of the extractors' fuzz tests
# (tests/unit/test_*_fuzz.c, kept with OMO_FUZZ_WRITE) loaded by
# `omopipe etl` into the database. The fuzz tests check what the extractors
# make of them; this checks that the database takes all of it: no file
# fails but those the extractor refused (a record or quarantine row
# PostgreSQL refused would fail its whole file), each file's counts in the
# ledger are the extractor's (read, loaded, quarantined, skipped), every
# quarantined record has its row, and a second run finds every file
# unchanged. OMO_FUZZ_LOAD_ITERS files per format (default 2000; C-CDA
# documents: half as many) from OMO_FUZZ_SEED (default 1).
source "$(dirname "$0")/lib.sh"
n=${OMO_FUZZ_LOAD_ITERS:-2000}

expect_rc "init" 0 omo init
expect_rc "vocab load" 0 omo vocab load "$OMO_SHARED_DATA/vocab/Eunomia-Synthea27Nj_5.4"

# fuzz_load NAME FUZZ-TEST ITERS DIR ETL-ARGS...: ITERS of FUZZ-TEST's
# inputs kept in $T/NAME (once); those in its folder DIR ("": all) loaded
# with ETL-ARGS, twice
fuzz_load() {
	local name=$1 bin=$2 iters=$3 sub=$4 d="$T/$1"
	shift 4
	# (a scratch folder of its own: the unit test of the same name may be running)
	[ -s "$d/counts" ] ||
		expect_rc "$name: damaged files written" 0 env OMO_FUZZ_ITERS="$iters" OMO_FUZZ_WRITE="$d" \
			OMO_TEST_TMP="$T/scratch" "$OMO_TEST_BIN/$bin"
	local what="$name${sub:+ $sub}" base="$d${sub:+/$sub}" want="$d/want${sub:+-$sub}" got="$d/got${sub:+-$sub}"
	# the extractor's lines (path under $d, read, loaded, quarantined, skipped, outcome) for DIR
	awk -F'\t' -v s="${sub:+$sub/}" 'substr($1, 1, length(s)) == s' "$d/counts" | sort > "$want"
	local files failed run="(SELECT max(run_id) FROM omopipe.run)"
	files=$(wc -l < "$want")
	failed=$(awk -F'\t' '$6 == "failed"' "$want" | wc -l)
	[ "$files" -gt 0 ] || fail "$what: no files"
	expect_rc "$what: etl of $files files ($failed refused)" $((failed > 0 ? 1 : 0)) omo etl --site north "$@" "$base"
	sql "SELECT substr(path, length('$d/') + 1) || E'\t' || records_read || E'\t' || records_loaded || E'\t' ||
	            records_quarantined || E'\t' || records_skipped || E'\t' || status
	       FROM omopipe.run_file WHERE run_id = $run" | sort > "$got"
	diff "$want" "$got" > "$d/diff" || { head -20 "$d/diff" >&2; fail "$what: counts differ (< extractor, > database)"; }
	echo "ok: $what: every file's counts and outcome as the extractor gave them"
	expect_eq "$what: a reason for each refused file" "0" \
		"$(sql "SELECT count(*) FROM omopipe.run_file WHERE run_id = $run AND status = 'failed' AND coalesce(message, '') = ''")"
	expect_eq "$what: a quarantine row for each record quarantined" \
		"$(awk -F'\t' '{ q += $4 } END { print q + 0 }' "$want")" \
		"$(sql "SELECT count(*) FROM omopipe.quarantine WHERE run_id = $run")"
	expect_rc "$what: etl again" $((failed > 0 ? 1 : 0)) omo etl --site north "$@" "$base"
	expect_eq "$what: unchanged the second time" "$((files - failed))" \
		"$(sql "SELECT count(*) FROM omopipe.run_file WHERE run_id = $run AND status = 'unchanged'")"
}

for p in generic-2.5.1 v2.8 epic cerner; do
	fuzz_load hl7 test_hl7_fuzz "$n" $p --format hl7v2 --profile $p
done
fuzz_load hl7 test_hl7_fuzz "$n" profile-z --format hl7v2 --profile "$OMO_FIXTURES/hl7v2/profile-z.conf"
expect_eq "hl7: the damage was real" "t" \
	"$(sql "SELECT sum(records_quarantined) > $n / 4 AND sum(records_loaded) > $n FROM omopipe.run_file WHERE path LIKE '$T/hl7/%'")"
fuzz_load csv test_csv_fuzz "$n" synthea --format csv --profile synthea
fuzz_load csv test_csv_fuzz "$n" synthea-2017 --format csv --profile synthea-2017
fuzz_load csv test_csv_fuzz "$n" acme --format csv --profile "$OMO_FIXTURES/csv/vendor/acme.conf"
fuzz_load ccda test_ccda_fuzz "$((n / 2))" "" --format ccda
