#!/bin/bash
# compare_hl7.sh - do two builds of the HL7 v2 extractor make the same records?
#
#   bench/compare_hl7.sh OLD/hl7_records NEW/hl7_records [MESSAGES]
#
# Runs both hl7_records binaries (bench/hl7_records.c) over every file in
# tests/fixtures/hl7v2 and ../shared/data/hl7v2, over MESSAGES (default 5000)
# generated ORU^R01 messages, and over three mutations of those (escapes,
# Latin-1 and UTF-8 bytes, repetitions, subcomponents, other value types,
# impossible dates, cut segments), with every profile in conf/profiles/hl7v2
# and three site time zones. Prints the first differing lines of each case
# that differs; exit 1 if any does.
set -uo pipefail
old=$(readlink -f "${1:?usage: compare_hl7.sh OLD/hl7_records NEW/hl7_records [MESSAGES]}")
new=$(readlink -f "${2:?usage: compare_hl7.sh OLD/hl7_records NEW/hl7_records [MESSAGES]}")
n=${3:-5000}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(readlink -f "$root/../shared/data/hl7v2" 2>/dev/null || true)
gen=$(dirname "$new")/hl7_gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMOPIPE_SHARE=$root

"$gen" "$n" "$tmp/gen.hl7" >/dev/null || exit 2
# Deterministic mutations (seeded), each aimed at a slower path of the extractor.
perl -e '
	srand(7);
	my @m = (
		sub { s/\^LN\|/\\T\\x^LN|/ ; s/(OBX\|\d+\|NM\|[^|]*\|\|)([0-9.]+)/$1\\X3C\\$2/ },           # escapes
		sub { s/Potassium/Pot\xc3\xa4ss\\E\\ium\\.br\\/ ; s/Sodium/Sod\xe9um/ },                   # UTF-8, \E\ \.br\, a Latin-1 byte
		sub { s/(OBX\|\d+\|)NM(\|[^|]*\|\|)([0-9.]+)/$1SN$2>^$3/ },                                  # SN with comparator
		sub { s/(OBX\|\d+\|)NM(\|[^|]*\|\|)([0-9.]+)/$1ST$2$3 text~second/ },                       # text, repetition
		sub { s/(OBX\|\d+\|)NM(\|[^|]*\|\|)[0-9.]+/$1CWE$2 260385009^Negative^SCT/ },              # coded value
		sub { s/\^LN\|/&sub^LN|/ },                                                                # subcomponent
		sub { s/\|20(\d\d)(\d\d)(\d\d)/|20$1${2}3$3/ },                                            # impossible date
		sub { s/\|(\d{8})(\d{6})-0500/|$1/ },                                                      # date only, no zone
		sub { s/MR~/MR~~/ ; s/\|F\|\|\|/|C|||/ },                                                  # empty repetition, corrected
		sub { s/\|X\|/|/ ; s/\|3\.5-5\.1\|/|>3.5|/ ; s/(OBX\|[^\r]{30})[^\r]*/$1/ },               # cut segment, range
		sub { s/\^UCUM\|/^^\|/ ; s/\|F\|\|\|/|X|||/ },                                              # no unit system, X status
		sub { s/\|MR~/|MR\\R\\~/ },                                                                # escaped repetition
	);
	for my $k (1 .. 3) {
		open(my $in, "<:raw", $ARGV[0]) or die;
		open(my $out, ">:raw", "$ARGV[1]$k.hl7") or die;
		local $/ = "\r";
		while (<$in>) {
			$m[int(rand(@m))]->() if rand() < 0.25 * $k;
			print $out $_;
		}
	}
' "$tmp/gen.hl7" "$tmp/mut" || exit 2

files=("$tmp/gen.hl7" "$tmp/mut1.hl7" "$tmp/mut2.hl7" "$tmp/mut3.hl7" "$root"/tests/fixtures/hl7v2/*.hl7)
[ -n "$shared" ] && while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$shared" -type f -print0 | sort -z)

bad=0 cases=0
for prof in "$root"/conf/profiles/hl7v2/*.conf; do
	p=$(basename "$prof" .conf)
	for tz in 0 keep -300; do
		for f in "${files[@]}"; do
			cases=$((cases + 1))
			"$old" "$f" "$p" "$tz" >"$tmp/a" 2>&1
			echo "exit $?" >>"$tmp/a" # a crash after the same lines differs too
			"$new" "$f" "$p" "$tz" >"$tmp/b" 2>&1
			echo "exit $?" >>"$tmp/b"
			if ! cmp -s "$tmp/a" "$tmp/b"; then
				bad=$((bad + 1))
				echo "DIFFERS: $f (profile $p, tz $tz)"
				diff "$tmp/a" "$tmp/b" | head -6
			fi
		done
	done
done
echo "$cases cases, $bad differ ($(wc -l <"$tmp/a") lines in the last)"
[ "$bad" -eq 0 ]
