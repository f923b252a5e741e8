#!/usr/bin/env bash
# The demo vocabulary (mappings/demo-vocab, Athena format) loads through
# `omopipe vocab load`, is exactly what `omopipe generate --vocab` writes, and
# every code that `omopipe generate` puts in the feeds resolves to a concept
# (and a standard one through 'Maps to'), except the two unmappable on purpose
# (local POCT99, SNOMED 160903007). The site maps point at concepts it has.
source "$(dirname "$0")/lib.sh"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
V="$SRC/mappings/demo-vocab"

expect_rc "init" 0 omo init
expect_rc "vocab load demo" 0 omo vocab load "$V"
expect_eq "concepts loaded" "$(($(wc -l < "$V/CONCEPT.csv") - 1))" "$(sql "select count(*) from cdm.concept")"
expect_eq "relationships loaded" "$(($(wc -l < "$V/CONCEPT_RELATIONSHIP.csv") - 1))" "$(sql "select count(*) from cdm.concept_relationship")"
expect_eq "ancestors loaded" "$(($(wc -l < "$V/CONCEPT_ANCESTOR.csv") - 1))" "$(sql "select count(*) from cdm.concept_ancestor")"
expect_eq "every non-standard concept maps to a standard one" 0 "$(sql "
  select count(*) from cdm.concept c where c.standard_concept is null and c.concept_id <> 0
  and not exists (select 1 from cdm.concept_relationship r join cdm.concept s on s.concept_id = r.concept_id_2
                  where r.concept_id_1 = c.concept_id and r.relationship_id = 'Maps to' and s.standard_concept = 'S')")"
expect_eq "ICD-10-CM I10 maps to Essential hypertension" 320128 "$(sql "
  select r.concept_id_2 from cdm.concept c join cdm.concept_relationship r on r.concept_id_1 = c.concept_id
  where c.vocabulary_id = 'ICD10CM' and c.concept_code = 'I10' and r.relationship_id = 'Maps to'")"
expect_eq "NDC 00025152531 maps to celecoxib 200 MG [Celebrex]" 1118088 "$(sql "
  select r.concept_id_2 from cdm.concept c join cdm.concept_relationship r on r.concept_id_1 = c.concept_id
  where c.vocabulary_id = 'NDC' and c.concept_code = '00025152531' and r.relationship_id = 'Maps to'")"
expect_eq "lisinopril 10 MG has its ingredient" 1308216 "$(sql "
  select a.ancestor_concept_id from cdm.concept_ancestor a join cdm.concept i on i.concept_id = a.ancestor_concept_id
  where a.descendant_concept_id = 19080128 and i.concept_class_id = 'Ingredient'")"
for id in 8507 8532 8527 8516 8515 38003563 38003564 9201 9202 9203 581477 32817 32856 4132161 8840 8876; do
  expect_eq "fixed-value concept $id" 1 "$(sql "select count(*) from cdm.concept where concept_id = $id")"
done

# the shipped files are what the generator writes: they cannot drift from its codes
expect_rc "generate --vocab" 0 omo generate --vocab "$T/vocab"
for f in "$V"/*.csv; do
  cmp -s "$f" "$T/vocab/$(basename "$f")" || fail "$(basename "$f") differs from what 'omopipe generate --vocab' writes"
done
echo "ok: shipped vocabulary = generated vocabulary"

# every code in a generated network
expect_rc "generate" 0 omo generate --patients 150 --sites 4 --out "$T/net" --seed 11
N="$T/net"
{
  # CSV, both layouts: CODE columns come before any quoted description
  for d in "$N"/*/csv/synthea; do
    awk -F, 'FNR>1{print "SNOMED," $5}' "$d/conditions.csv" "$d/allergies.csv"
    awk -F, 'FNR>1{print "RxNorm," $6}' "$d/medications.csv"
    awk -F, 'FNR>1{print "CVX," $4}' "$d/immunizations.csv"
    awk -F, 'FNR>1{print "LOINC," $5; print "UCUM," $(NF-1)}' "$d/observations.csv"
    awk -F, 'FNR>1{print "SNOMED," $9}' "$d/encounters.csv"
  done
  for d in "$N"/*/csv/synthea-2017; do
    awk -F, 'FNR>1{print "SNOMED," $5}' "$d/conditions.csv" "$d/allergies.csv"
    awk -F, 'FNR>1{print "RxNorm," $5}' "$d/medications.csv"
    awk -F, 'FNR>1{print "CVX," $4}' "$d/immunizations.csv"
    awk -F, 'FNR>1{print "LOINC," $4; print "UCUM," $NF}' "$d/observations.csv"
  done
  # HL7: coded fields with their coding system
  cat "$N"/*/hl7/*/*.hl7 | tr '\r' '\n' | awk -F'|' '
    $1=="OBX" { split($4,c,"^"); if (c[3]=="LN") print "LOINC," c[1]; if (c[6]=="LN") print "LOINC," c[4];
                split($7,u,"^"); print "UCUM," u[1] }
    $1=="DG1" { split($4,c,"^"); print (c[3]=="I10" ? "ICD10CM," : "SNOMED,") c[1] }
    $1=="AL1" { split($4,c,"^"); print "SNOMED," c[1] }
    $1=="RXA" { split($6,c,"^"); print "CVX," c[1] }
    $1=="RXE" { split($3,c,"^"); print (c[3]=="NDC" ? "NDC," : "RxNorm,") c[1] }'
} | grep -v ',$' | sort -u > "$T/codes.csv"
[ "$(wc -l < "$T/codes.csv")" -gt 80 ] || fail "too few codes found: $(wc -l < "$T/codes.csv")"
sql "create table public.gen_codes (vocabulary_id text, concept_code text)"
omo psql -X -q -v ON_ERROR_STOP=1 -c "\\copy public.gen_codes from '$T/codes.csv' csv" >/dev/null
expect_eq "codes without a concept (only the unmappable ones)" "LOINC,POCT99 SNOMED,160903007" "$(sql "
  select string_agg(vocabulary_id || ',' || concept_code, ' ' order by 1) from public.gen_codes g
  where not exists (select 1 from cdm.concept c where c.vocabulary_id = g.vocabulary_id and c.concept_code = g.concept_code)")"
expect_eq "codes without a standard concept" 0 "$(sql "
  select count(*) from public.gen_codes g join cdm.concept c on c.vocabulary_id = g.vocabulary_id and c.concept_code = g.concept_code
  where not exists (select 1 from cdm.concept_relationship r join cdm.concept s on s.concept_id = r.concept_id_2
                    where r.concept_id_1 = c.concept_id and r.relationship_id = 'Maps to' and s.standard_concept = 'S')")"
awk -F, 'FNR>1 && $4 != 0 {print $4}' "$N"/*/sitemap.csv | sort -u > "$T/targets"
[ -s "$T/targets" ] || fail "site maps are empty"
for id in $(cat "$T/targets"); do
  [ "$(sql "select count(*) from cdm.concept where concept_id = $id and standard_concept = 'S'")" == 1 ] || fail "site map target $id is not a standard concept"
done
echo "ok: $(wc -l < "$T/targets") site map targets are standard concepts"
echo "all demo vocabulary checks passed"
