#!/bin/bash
# smoke.sh - the HL7 v2 and CSV benchmarks on small inputs (ctest bench.smoke):
# each runs to its end, its scans of the file and of memory agree (it exits 1
# otherwise), and it prints its ratio.
#
#   bench/smoke.sh BUILD DIR     BUILD holds hl7_gen, bench_hl7, bench_csv
set -euo pipefail
usage="usage: smoke.sh BUILD DIR"
build=${1:?$usage}
dir=${2:?$usage}
export OMOPIPE_SHARE=${OMOPIPE_SHARE:-$(cd "$(dirname "$0")/.." && pwd)}
mkdir -p "$dir"
"$build/hl7_gen" 3000 "$dir/oru.hl7"
out=$("$build/bench_hl7" "$dir/oru.hl7")
grep -E '^omopipe hl7v2 .*\(3000 loaded, 0 quarantined, 0 skipped' <<<"$out"
grep -E '^ratio +0\.[0-9]+ of the faster memchr scan' <<<"$out"
out=$("$build/bench_csv" --size 4 --reps 1 --dir "$dir/csv")
grep -E '^ceiling +[0-9]+ MB/s' <<<"$out"
grep -E '^extract +[0-9]+ MB/s 0\.[0-9]+' <<<"$out"
rm -rf "$dir"
