#!/bin/bash
# ab_hl7.sh - is one build of the HL7 v2 extractor faster than another?
#
#   bench/ab_hl7.sh OLD/bench_hl7 NEW/bench_hl7 FILE [PAIRS]
#
# Runs the two bench_hl7 binaries one right after the other (in turn first), PAIRS times
# (default 10), extraction only (BENCH_ONLY_EXTRACT=1, best of its 3 rounds),
# and prints each pair's NEW/OLD messages per second, then their median, and
# the ratio of each build's best run. Why pairs: on a shared machine
# compute-bound code swings by up to 1.8x from one minute to the next (the
# host's other load), so runs minutes apart compare machine states, not
# builds; two runs seconds apart mostly see the same state. But the state
# also changes within a pair. Each build's best run is its least disturbed
# one: over 12 pairs, one build's best runs against its own came within 3%,
# and the best runs put a series of builds 5% apart in their order where the
# pairs' medians did not. Use a file of ~100 MB (hl7_gen 60000): a run then
# takes about a second. Running one build against itself gives the noise
# (medians within 2-4% of 1 here).
set -u
usage="usage: ab_hl7.sh OLD/bench_hl7 NEW/bench_hl7 FILE [PAIRS]"
old=${1:?$usage}
new=${2:?$usage}
file=${3:?$usage}
pairs=${4:-10}
export OMOPIPE_SHARE=${OMOPIPE_SHARE:-$(cd "$(dirname "$0")/.." && pwd)}

rate() {
	BENCH_ONLY_EXTRACT=1 "$1" "$file" | awk '/^omopipe/ { print $5 }'
}

ratios=()
best_a=0 best_b=0
for ((i = 0; i < pairs; i++)); do
	if ((i % 2)); then # each first in every other pair: no order effect in the median
		b=$(rate "$new") a=$(rate "$old")
	else
		a=$(rate "$old") b=$(rate "$new")
	fi
	[ -n "$a" ] && [ -n "$b" ] || {
		echo "ab_hl7: a bench_hl7 run failed" >&2
		exit 2
	}
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
	ratios+=("$r")
	((a > best_a)) && best_a=$a
	((b > best_b)) && best_b=$b
	printf 'pair %2d: old %7d msgs/s, new %7d msgs/s, new/old %s\n' $((i + 1)) "$a" "$b" "$r"
done
read -r med low high n _ < <(printf '%s\n' "${ratios[@]}" | sort -n | awk -f "$(dirname "$0")/median.awk")
printf 'median new/old %s over %d pairs (lowest %s, highest %s)\n' "$med" "$n" "$low" "$high"
printf 'best run of each: old %d msgs/s, new %d msgs/s, new/old %s\n' "$best_a" "$best_b" \
	"$(awk -v a="$best_a" -v b="$best_b" 'BEGIN { printf "%.3f", b / a }')"
