#!/usr/bin/env bash
# bench/nightly.sh - the nightly job at scale, against its ceiling in the same run.
#
#   bench/nightly.sh [OMOPIPE] [PATIENTS_PER_SITE] [SITES]
#   (defaults: build/omopipe 25000 4, i.e. 100,000 patients)
#
# 1. generates the multi-vendor feeds (omopipe generate), timed
# 2. loads them with `omopipe run` on a fresh embedded cluster, timed, with peak RSS
# 3. prints records/s and MB/s per extractor (from the run ledger: the files'
#    own durations, summed over workers), rows per CDM table and rows/s
# 4. the ceiling: the same final rows, dumped and loaded back with plain COPY into
#    copies of the same tables (same primary keys and indexes), with as many
#    parallel sessions as the run had workers; ratio = ceiling time / load time
#
# Needs: /usr/bin/time (Debian package `time`), disk for the feeds (about 42 KB
# per patient) and the database. Environment: BENCH_DIR (default
# /tmp/omopipe-bench), OMOPIPE_WORKERS (default: cores), BENCH_KEEP=1 keeps
# the data afterwards.
set -euo pipefail
OMO=$(realpath "${1:-build/omopipe}")
PATIENTS=${2:-25000}
SITES=${3:-4}
W=${BENCH_DIR:-/tmp/omopipe-bench}
WORKERS=${OMOPIPE_WORKERS:-$(( $(nproc) * 2 < 8 ? $(nproc) * 2 : 8 ))}
export OMOPIPE_DATA_DIR="$W/data" OMOPIPE_WORKERS="$WORKERS" PGDATABASE=bench
SHARE=$(cd "$(dirname "$0")/.." && pwd)
export OMOPIPE_SHARE="$SHARE"
psql_() { "$OMO" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
# CPU seconds PostgreSQL has used so far: exited backends (the postmaster's
# children times) plus the live processes (checkpointer, WAL writer ...)
pg_cpu() {
  local pm ticks t=0
  pm=$(head -1 "$OMOPIPE_DATA_DIR/pg/postmaster.pid")
  ticks=$(getconf CLK_TCK)
  t=$(awk '{print $16 + $17}' "/proc/$pm/stat")
  for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
    [ -r "/proc/$c/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$t / $ticks" | bc -l
}
secs() { echo "$2 - $1" | bc -l; }

"$OMO" db stop >/dev/null 2>&1 || true
rm -rf "$W"
mkdir -p "$W"
"$OMO" -q db start >/dev/null
"$OMO" -q init >/dev/null
"$OMO" -q vocab load "$SHARE/mappings/demo-vocab" >/dev/null

echo "== generate: $PATIENTS patients x $SITES sites"
t0=$(now)
"$OMO" generate --patients "$PATIENTS" --sites "$SITES" --out "$W/feeds" --error-rate 0.01 | head -2
t1=$(now)
bytes=$(du -sb "$W/feeds" | cut -f1)
printf 'generate: %.1f s, %.1f MB/s\n' "$(secs "$t0" "$t1")" "$(echo "$bytes / 1000000 / $(secs "$t0" "$t1")" | bc -l)"
conf="$W/feeds/omopipe.conf"
if ! "$OMO" etl --help >/dev/null 2>&1 || ! "$OMO" -c "$conf" config check >/dev/null 2>&1; then
  echo "configuration does not check" >&2; exit 1
fi
for s in $(sed -n 's/^\[site \(.*\)\]$/\1/p' "$conf"); do
  "$OMO" -q sitemap load --site "$s" "$W/feeds/$s/sitemap.csv" >/dev/null
done

echo "== omopipe run ($WORKERS workers)"
pg0=$(pg_cpu)
t0=$(now)
/usr/bin/time -v -o "$W/time.txt" "$OMO" -q -c "$conf" run | tee "$W/run.txt"
t1=$(now)
run_s=$(secs "$t0" "$t1")
pg1=$(pg_cpu)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.txt")
load_s=$(psql_ -c "SELECT extract(epoch FROM max(finished_at) - min(started_at)) FROM omopipe.run_file WHERE status = 'loaded'")
printf 'run: %.1f s wall (load phase %.1f s), peak RSS %.0f MB\n' "$run_s" "$load_s" "$(echo "$rss / 1024" | bc -l)"
om_cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$W/time.txt")
printf 'CPU: omopipe %.1f s, PostgreSQL %.1f s (less noisy than wall time on a shared machine)\n' "$om_cpu" "$(secs "$pg0" "$pg1")"

echo "== per extractor (file durations summed over workers)"
psql_ -F ' ' -c "
SELECT rpad(f.format, 6) || lpad(count(*)::text, 6) || ' files' || lpad(sum(f.records_read)::text, 10) || ' records'
       || lpad(round(sum(s.size_bytes) / 1e6, 1)::text, 9) || ' MB'
       || lpad(round(sum(f.records_read) / nullif(extract(epoch FROM sum(f.finished_at - f.started_at)), 0))::text, 10) || ' records/s'
       || lpad(round(sum(s.size_bytes) / 1e6 / nullif(extract(epoch FROM sum(f.finished_at - f.started_at)), 0), 1)::text, 8) || ' MB/s'
       || lpad(round(1000 * extract(epoch FROM sum(f.finished_at - f.started_at)) / count(*), 1)::text, 8) || ' ms/file'
FROM omopipe.run_file f JOIN omopipe.source_file s USING (file_id)
WHERE f.status = 'loaded' GROUP BY f.format ORDER BY f.format"

echo "== rows per CDM table"
tables=$(psql_ -c "SELECT string_agg(t, ' ') FROM unnest(ARRAY['person','visit_occurrence','condition_occurrence',
  'drug_exposure','procedure_occurrence','device_exposure','measurement','observation','death','note',
  'specimen','provider','care_site','location','observation_period','condition_era','drug_era',
  'cost','payer_plan_period']) t")
total=0
mkdir -p "$W/ceiling"
psql_ -c "CREATE SCHEMA ceiling"
for t in $tables; do
  n=$(psql_ -c "SELECT count(*) FROM cdm.$t")
  [ "$n" -gt 0 ] || continue
  total=$((total + n))
  printf '  %-22s %12d rows %10.0f rows/s\n' "$t" "$n" "$(echo "$n / $load_s" | bc -l)"
  psql_ -c "\\copy cdm.$t TO '$W/ceiling/$t.copy'"
  psql_ -c "CREATE TABLE ceiling.$t (LIKE cdm.$t INCLUDING ALL)"
  split -n "l/$WORKERS" -d "$W/ceiling/$t.copy" "$W/ceiling/$t.part."
done
printf '  %-22s %12d rows %10.0f rows/s (load phase), %.0f rows/s (whole run)\n' total "$total" \
  "$(echo "$total / $load_s" | bc -l)" "$(echo "$total / $run_s" | bc -l)"

echo "== ceiling: plain COPY of the same rows into copies of the same tables ($WORKERS sessions)"
pg0=$(pg_cpu)
t0=$(now)
for k in $(seq 0 $((WORKERS - 1))); do
  (
    for t in $tables; do
      f="$W/ceiling/$t.part.$(printf '%02d' "$k")"
      [ -s "$f" ] && psql_ -c "\\copy ceiling.$t FROM '$f'"
    done
  ) &
done
wait
t1=$(now)
ceil_s=$(secs "$t0" "$t1")
pg1=$(pg_cpu)
printf 'ceiling: %.1f s, %.0f rows/s, PostgreSQL CPU %.1f s\n' "$ceil_s" "$(echo "$total / $ceil_s" | bc -l)" "$(secs "$pg0" "$pg1")"
printf 'omopipe / ceiling: %.2f (load phase), %.2f (whole run incl. startup, mapping index, derived tables)\n' \
  "$(echo "$ceil_s / $load_s" | bc -l)" "$(echo "$ceil_s / $run_s" | bc -l)"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
  "$OMO" db stop >/dev/null
  rm -rf "$W"
fi
