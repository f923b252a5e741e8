#!/usr/bin/env bash
# Vocabulary benchmarks (issue 2 "Speed", issue 3 index): on a synthetic Athena
# download of N concepts and M relationships (bench/vocab_gen), in one run:
#
#   1. psql \copy of the same two files into the same tables, shaped like
#      `omopipe vocab load` (one transaction: drop the indexes, truncate, COPY,
#      primary key + indexes, ANALYZE), timed without and with the index phase
#   2. omopipe vocab load DIR under /usr/bin/time -v: rows/s and peak RSS
#   3. bench_map: the mapper's index built from that database (time, peak RSS)
#      and map_code() lookups per second on one core
#
# usage: bench/vocab_bench.sh BUILD_DIR N M [WORKDIR]
#   e.g. bench/vocab_bench.sh build 1000000 5000000        (1/10 scale, minutes)
#        bench/vocab_bench.sh build 10000000 50000000      (a full Athena's size)
# WORKDIR (default /tmp/omopipe-vocab-bench) holds the generated files and a
# private PostgreSQL cluster; it is removed at the end unless KEEP=1.
# SKIP_PSQL=1 leaves out step 1; LOOKUPS=N sets bench_map's lookups.
# The machine is shared and noisy: compare figures of the same run only.
set -euo pipefail
B=$(cd "$1" && pwd); N=$2; M=$3; W=${4:-/tmp/omopipe-vocab-bench}
SRC=$(cd "$(dirname "$0")/.." && pwd)
OMO="$B/omopipe"
export OMOPIPE_DATA_DIR="$W/data" OMOPIPE_CONFIG= OMOPIPE_CONNINFO= OMOPIPE_SHARE="$SRC"
unset PGDATABASE PGHOST PGPORT || true
V="$W/vocab-$N-$M"
mkdir -p "$W"
cleanup() { "$OMO" db stop >/dev/null 2>&1 || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
now() { date +%s.%N; }
psq() { "$OMO" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ ! -f "$V/CONCEPT_RELATIONSHIP.csv" ]; then
  t=$(now); "$B/vocab_gen" -n "$N" -m "$M" -o "$V"
  echo "generated in $(echo "$(now) - $t" | bc) s: $(du -sh "$V" | cut -f1)"
fi
ROWS=$(( $(wc -l < "$V/CONCEPT.csv") + $(wc -l < "$V/CONCEPT_RELATIONSHIP.csv") - 2 ))
"$OMO" db start >/dev/null
"$OMO" init >/dev/null
S=cdm
drop_sql() { cat "$SRC/sql/vocab_drop_indexes.sql" | sed "s/@cdm/$S/g";
  echo "ALTER TABLE $S.concept DROP CONSTRAINT IF EXISTS xpk_concept;"; }
idx_sql() { echo "ALTER TABLE $S.concept ADD CONSTRAINT xpk_concept PRIMARY KEY (concept_id);";
  sed "s/@cdm/$S/g" "$SRC/sql/vocab_indexes.sql"; echo "ANALYZE $S.concept; ANALYZE $S.concept_relationship;"; }
copy_sql() {
  echo "\\copy $S.concept FROM '$V/CONCEPT.csv' WITH (FORMAT text, NULL '', HEADER true)"
  echo "\\copy $S.concept_relationship FROM '$V/CONCEPT_RELATIONSHIP.csv' WITH (FORMAT text, NULL '', HEADER true)"; }

if [ "${SKIP_PSQL:-0}" != 1 ]; then
echo "== 1. psql \\copy baseline: $ROWS rows"
t=$(now)
{ echo "BEGIN;"; drop_sql; echo "TRUNCATE $S.concept, $S.concept_relationship;"; copy_sql; echo "COMMIT;"; } | psq -f - >/dev/null
T_COPY=$(echo "$(now) - $t" | bc)
t=$(now)
{ echo "BEGIN;"; drop_sql; echo "TRUNCATE $S.concept, $S.concept_relationship;"; copy_sql; idx_sql; echo "COMMIT;"; } | psq -f - >/dev/null
T_FULL=$(echo "$(now) - $t" | bc)
T_IDX=$(echo "$T_FULL - $T_COPY" | bc)
printf 'psql \\copy only:            %8.1f s  %9.0f rows/s\n' "$T_COPY" "$(echo "$ROWS / $T_COPY" | bc -l)"
printf 'psql \\copy + keys/indexes:  %8.1f s  %9.0f rows/s   (index phase %.1f s)\n' "$T_FULL" "$(echo "$ROWS / $T_FULL" | bc -l)" "$T_IDX"
fi

echo "== 2. omopipe vocab load"
t=$(now)
/usr/bin/time -v "$OMO" vocab load "$V" > "$W/load.out" 2> "$W/load.err" || { cat "$W/load.err"; exit 1; }
T_OMO=$(echo "$(now) - $t" | bc)
RSS=$(grep "Maximum resident" "$W/load.err" | awk '{print $NF}')
cat "$W/load.out"
printf 'omopipe vocab load:         %8.1f s  %9.0f rows/s   peak RSS %d MiB\n' "$T_OMO" "$(echo "$ROWS / $T_OMO" | bc -l)" $((RSS / 1024))
[ "${SKIP_PSQL:-0}" = 1 ] || printf 'omopipe rows/s / psql rows/s (same shape, keys and indexes included): %.2f\n' "$(echo "$T_FULL / $T_OMO" | bc -l)"

echo "== 3. mapper index from the database, lookups"
/usr/bin/time -v "$B/bench_map" --lookups "${LOOKUPS:-20000000}" > "$W/map.out" 2> "$W/map.err" || { cat "$W/map.err"; exit 1; }
cat "$W/map.out"
grep -E "Maximum resident" "$W/map.err"
