#!/usr/bin/env bash
# bench/idmap_bench.sh - why event keys are grouped (etl/load/keytab.h).
#
#   bench/idmap_bench.sh [OMOPIPE] [BASE_KEYS] [NEW_KEYS] [PER_GROUP]
#   (defaults: build/omopipe 10000000 1000000 100)
#
# Two tables shaped like omopipe.id_map (uuid primary key), each holding
# BASE_KEYS keys, then a COPY of NEW_KEYS more into each, sorted as the loader
# sends them, in the same run:
#   grouped: the first 6 bytes of a key are its group's (PER_GROUP new keys per
#            group, as a file's results share an order or a patient)
#   random:  keys as plain 128-bit hashes
# and prints both times and their ratio. Uses a private embedded cluster in
# BENCH_DIR (default /tmp/omopipe-idmap-bench), removed afterwards.
set -euo pipefail
OMO=$(realpath "${1:-build/omopipe}")
BASE=${2:-10000000}
NEW=${3:-1000000}
PER=${4:-100}
W=${BENCH_DIR:-/tmp/omopipe-idmap-bench}
export OMOPIPE_DATA_DIR="$W/data" PGDATABASE=idmap
"$OMO" db stop >/dev/null 2>&1 || true
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
"$OMO" -q db start >/dev/null
psql_() { "$OMO" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

# grouped(g, i): 12 hex digits of the group, 20 of the key
psql_ -c "
CREATE TABLE grouped (key uuid PRIMARY KEY, id bigint NOT NULL, kind smallint NOT NULL, site_no int NOT NULL, file_id bigint);
CREATE TABLE random  (LIKE grouped INCLUDING ALL);
INSERT INTO grouped SELECT (left(md5((i / $PER)::text), 12) || left(md5(i::text), 20))::uuid, i, 6, 1, i / 1000
  FROM generate_series(1, $BASE) i;
INSERT INTO random SELECT md5(i::text)::uuid, i, 6, 1, i / 1000 FROM generate_series(1, $BASE) i;"
# the new keys: NEW / PER groups, each of them an existing group
psql_ -c "\\copy (SELECT k, i, 6, 1, i / 1000 FROM (SELECT (left(md5(((i % ($NEW / $PER)) * ($BASE / ($NEW / $PER)) / $PER)::text), 12) || left(md5(i::text), 20))::uuid AS k, i FROM generate_series($BASE + 1, $BASE + $NEW) i) s ORDER BY k) TO '$W/grouped.copy'"
psql_ -c "\\copy (SELECT k, i, 6, 1, i / 1000 FROM (SELECT md5(i::text)::uuid AS k, i FROM generate_series($BASE + 1, $BASE + $NEW) i) s ORDER BY k) TO '$W/random.copy'"

t() { psql_ -c "CHECKPOINT"; local t0; t0=$(now); psql_ -c "\\copy $1 FROM '$W/$1.copy'"; echo "$(now) - $t0" | bc -l; }
tg=$(t grouped)
tr=$(t random)
printf 'id_map-shaped table of %d keys, COPY of %d more (sorted):\n' "$BASE" "$NEW"
printf '  grouped keys (%d per group)  %6.1f s\n' "$PER" "$tg"
printf '  random keys                  %6.1f s\n' "$tr"
printf '  random / grouped             %6.2f\n' "$(echo "$tr / $tg" | bc -l)"
"$OMO" db stop >/dev/null
rm -rf "$W"
