#!/usr/bin/env bash
# bench/gen_bench.sh - how fast `omopipe generate` writes a network of feeds.
#
#   bench/gen_bench.sh [OMOPIPE] [PATIENTS] [SITES] [OUT]
#
# Defaults: the build's omopipe, 100000 patients over 4 sites (25000 each),
# OUT a scratch folder removed afterwards. Prints MB/s and records/s, plain and
# --zstd, next to the ceilings measured in the same run on the same file
# system: writing the same number of bytes with dd (page cache, 1 MiB blocks)
# and `zstd -3 -T1` compressing one generated HL7 file.
set -euo pipefail
OMO=${1:-$(dirname "$0")/../build/omopipe}
PATIENTS=${2:-100000}
SITES=${3:-4}
OUT=${4:-$(mktemp -d /tmp/omopipe-genbench.XXXXXX)}
PER_SITE=$(( (PATIENTS + SITES - 1) / SITES ))
trap 'rm -rf "$OUT"' EXIT

now() { date +%s.%N; }
rm -rf "$OUT/plain" "$OUT/zstd"
echo "omopipe generate: $PATIENTS patients ($PER_SITE per site x $SITES sites), error rate 0.01"
t0=$(now); "$OMO" generate --patients "$PER_SITE" --sites "$SITES" --out "$OUT/plain" --error-rate 0.01 | tee "$OUT/plain.txt"; t1=$(now)
t2=$(now); "$OMO" generate --patients "$PER_SITE" --sites "$SITES" --out "$OUT/zstd" --error-rate 0.01 --zstd | tee "$OUT/zstd.txt"; t3=$(now)
BYTES=$(du -sb "$OUT/plain" | cut -f1)
RECORDS=$(python3 -c "import json;print(json.load(open('$OUT/plain/expected.json'))['totals']['records'])")

# ceilings: write the same bytes; compress one HL7 file with the zstd tool
MB=$(( BYTES / 1048576 + 1 ))
t4=$(now); dd if=/dev/zero of="$OUT/dd.bin" bs=1M count="$MB" status=none; t5=$(now); rm -f "$OUT/dd.bin"
ORU=$(ls -S "$OUT"/plain/*/hl7/*/oru-*.hl7 | head -1)
ORU_BYTES=$(stat -c %s "$ORU")
t6=$(now); zstd -q -3 -T1 -c "$ORU" > /dev/null; t7=$(now)

python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$t7" "$BYTES" "$RECORDS" "$MB" "$ORU_BYTES" "$PATIENTS" <<'PY'
import sys
t0,t1,t2,t3,t4,t5,t6,t7=map(float,sys.argv[1:9]); b,r,mb,ob,p=map(int,sys.argv[9:14])
g=t1-t0; z=t3-t2
print(f"\n{'':28s}{'seconds':>9s}{'MB/s':>9s}{'records/s':>12s}{'patients/s':>12s}")
print(f"{'generate (plain files)':28s}{g:9.2f}{b/1e6/g:9.1f}{r/g:12.0f}{p/g:12.0f}")
print(f"{'generate --zstd':28s}{z:9.2f}{b/1e6/z:9.1f}{r/z:12.0f}{p/z:12.0f}")
print(f"{'ceiling: dd same bytes':28s}{t5-t4:9.2f}{mb*1.048576/(t5-t4):9.1f}")
print(f"{'ceiling: zstd -3 one file':28s}{t7-t6:9.2f}{ob/1e6/(t7-t6):9.1f}")
print(f"\n{b/1e6:.0f} MB of feeds, {r} records (MB/s counts uncompressed feed bytes; times include process start)")
PY
