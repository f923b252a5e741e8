#!/usr/bin/env bash
# bench/compare_loads.sh - do two omopipe builds load the same CDM?
#
#   bench/compare_loads.sh OLD_OMOPIPE NEW_OMOPIPE [PATIENTS_PER_SITE] [SITES]
#   (defaults: 1500 patients at 4 sites)
#
# Generates feeds with 3% broken records, then loads them once with each
# binary (init, demo vocabulary, site maps, `run`) into two databases of one
# private embedded cluster in BENCH_DIR (default /tmp/omopipe-compare), and
# compares tests/pg/cdm_checksum.sql (every CDM table, ids replaced by their
# source keys) and omopipe.unmapped_code (codes, counts, examples, reasons).
# Prints each run's time; exits 1 if anything differs. For a change that must
# not change what is loaded (a faster mapper, loader or extractor).
set -euo pipefail
usage="usage: compare_loads.sh OLD_OMOPIPE NEW_OMOPIPE [PATIENTS_PER_SITE] [SITES]"
OLD=$(realpath "${1:?$usage}")
NEW=$(realpath "${2:?$usage}")
PATIENTS=${3:-1500}
SITES=${4:-4}
W=${BENCH_DIR:-/tmp/omopipe-compare}
SHARE=$(cd "$(dirname "$0")/.." && pwd)
export OMOPIPE_SHARE="$SHARE" OMOPIPE_DATA_DIR="$W/data"
"$NEW" db stop >/dev/null 2>&1 || true
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
"$NEW" generate --patients "$PATIENTS" --sites "$SITES" --out "$W/feeds" --seed 11 --error-rate 0.03 >/dev/null
"$NEW" -q db start >/dev/null

load() { # binary database
  local omo=$1 db=$2
  PGDATABASE=postgres "$omo" psql -X -q -c "CREATE DATABASE $db" >/dev/null
  export PGDATABASE=$db
  "$omo" init >/dev/null
  "$omo" vocab load "$SHARE/mappings/demo-vocab" >/dev/null 2>&1
  for s in $(sed -n 's/^\[site \(.*\)\]$/\1/p' "$W/feeds/omopipe.conf"); do
    "$omo" sitemap load --site "$s" "$W/feeds/$s/sitemap.csv" >/dev/null
  done
  local t0 t1
  t0=$(date +%s.%N)
  "$omo" -q -c "$W/feeds/omopipe.conf" run >/dev/null || [ $? -eq 1 ] # 1: some files hold broken records on purpose; 2-5 stop here
  t1=$(date +%s.%N)
  echo "$db: run took $(echo "$t1 - $t0" | bc -l | cut -c1-6) s"
  "$omo" psql -X -q -At -v ON_ERROR_STOP=1 -f "$SHARE/tests/pg/cdm_checksum.sql" > "$W/$db.cdm"
  "$omo" psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT site_id, source_system, vocabulary_id, source_code, source_name, \
    record_count, reason FROM omopipe.unmapped_code ORDER BY 1, 2, 4" > "$W/$db.unmapped"
}
load "$OLD" old_load
load "$NEW" new_load
"$NEW" db stop >/dev/null
same=0
if diff "$W/old_load.cdm" "$W/new_load.cdm"; then
  echo "CDM: identical ($(wc -l < "$W/new_load.cdm") tables; $(grep '^measurement|' "$W/new_load.cdm" | cut -d'|' -f2) measurement rows)"
else
  echo "CDM: DIFFERENT"; same=1
fi
if diff "$W/old_load.unmapped" "$W/new_load.unmapped"; then
  echo "unmapped codes: identical ($(wc -l < "$W/new_load.unmapped") rows)"
else
  echo "unmapped codes: DIFFERENT"; same=1
fi
rm -rf "$W"
exit $same
