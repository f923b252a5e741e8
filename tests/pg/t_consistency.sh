#!/usr/bin/env bash
# Cross-format consistency (issue 7): the same generated patients written as
# HL7 v2 (epic and cerner dialects), as C-CDA (two vendor styles) and as CSV
# (both Synthea layouts) must give the same CDM facts: persons, visits,
# conditions, measurements with values and units, drugs, observations.
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"
feeds="hl7v2/epic hl7v2/cerner ccda/vendor-a ccda/vendor-b csv/synthea csv/synthea-2017"
for f in $feeds; do
  name=$(echo "$f" | tr '/-' '__')
  db="${PGDATABASE}_$name"
  out="$T/$name"
  omo generate --patients 12 --sites 1 --seed 23 --only "$f" --out "$out" >/dev/null
  PGDATABASE=postgres "$OMOPIPE" psql -X -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  PGDATABASE="$db" "$OMOPIPE" init >/dev/null
  PGDATABASE="$db" "$OMOPIPE" vocab load "$OMOPIPE_SHARE/mappings/demo-vocab" >/dev/null 2>&1
  PGDATABASE="$db" "$OMOPIPE" sitemap load --site north "$out/north/sitemap.csv" >/dev/null
  PGDATABASE="$db" expect_rc "load $f" 0 omo -c "$out/omopipe.conf" run
  expect_grep "$f: nothing quarantined" "+ 0 quarantined" "$T/out"
  PGDATABASE="$db" "$OMOPIPE" psql -X -q -At -v ON_ERROR_STOP=1 -f "$HERE/cdm_facts.sql" > "$T/$name.facts"
  [ "$(grep -c '|0|' "$T/$name.facts")" = 0 ] || fail "$f: some kind of fact is missing: $(cat "$T/$name.facts")"
done
ref="$T/hl7v2_epic.facts"
for f in $feeds; do
  name=$(echo "$f" | tr '/-' '__')
  diff "$ref" "$T/$name.facts" || fail "$f gives other CDM facts than hl7v2/epic"
  echo "ok: $f gives the same CDM facts as hl7v2/epic"
  PGDATABASE=postgres "$OMOPIPE" psql -X -q -c "DROP DATABASE IF EXISTS \"${PGDATABASE}_$name\" WITH (FORCE)" >/dev/null
done
cat "$ref"
echo "all formats agree"
