#!/usr/bin/env bash
# Vocabulary mapper end to end through the CLI: omopipe map on the shared
# Eunomia vocabulary (ICD10CM K92.2 -> SNOMED 192671, Condition) and on the
# hand-made fixture vocabulary (every path), the closed loop
# map --record -> unmapped -> fill -> sitemap load -> maps, bad site map rows
# (file:line, previous map in force), shipped site maps, usage errors.
source "$(dirname "$0")/lib.sh"
V="$OMO_SHARED_DATA/vocab"
F="$OMO_FIXTURES/map"
# the value of "key:   value" lines of omopipe map's output
field() { grep -m1 "^$1:" "$T/out" | sed "s/^$1: *//"; }

expect_rc "init" 0 omo init

# --- the shared Eunomia vocabulary (has ICD10CM) ---
expect_rc "vocab load GiBleed" 0 omo vocab load "$V/Eunomia-GiBleed_5.3"
expect_rc "map K92.2" 0 omo map K92.2 --system ICD10CM
expect_grep "system resolved" "ICD10CM -> ICD10CM" "$T/out"
expect_grep "source concept" "source: *35208414 'Gastrointestinal hemorrhage, unspecified'" "$T/out"
expect_grep "standard concept and table" "standard: *192671 .*-> Condition table" "$T/out"
expect_eq "status" "mapped" "$(field result)"
expect_rc "map K922 (no dot)" 0 omo map K922 --system I10
expect_grep "normalised" "code: *K922 -> K92.2" "$T/out"
expect_grep "same standard concept" "standard: *192671 " "$T/out"
expect_rc "map NDC 4-4-2" 0 omo map 0025-1525-31 --system NDC
expect_grep "NDC to 11 digits" "-> 00025152531" "$T/out"
expect_grep "NDC maps to RxNorm" "standard: *1118088 .*-> Drug table" "$T/out"
expect_rc "map by C-CDA OID" 0 omo map 33 --system 2.16.840.1.113883.12.292
expect_grep "CVX standard" "standard: *40213201 " "$T/out"

# --- the fixture vocabulary: every path ---
expect_rc "vocab load fixtures" 0 omo vocab load "$F/vocab"
expect_rc "deprecated with replacement" 0 omo map X02.2 --system I10
expect_grep "replacement followed" "replaced by: *2000000004" "$T/out"
expect_grep "replacement is the target" "standard: *2000000004 " "$T/out"
expect_rc "updated concept, event before the change" 0 omo map X01.1 --system I10 --date 2015-06-01
expect_grep "own mapping before" "standard: *2000000011 " "$T/out"
expect_rc "updated concept, event after the change" 0 omo map X01.1 --system I10 --date 2020-01-01
expect_grep "replacement after" "standard: *2000000010 " "$T/out"
expect_rc "several Maps to" 0 omo map X03.3 --system I10
expect_eq "two standard concepts" 2 "$(grep -c '^standard:' "$T/out")"
expect_grep "Observation target" "standard: *2000000013 .*-> Observation table" "$T/out"
expect_rc "Maps to value" 0 omo map Z80.0 --system I10
expect_grep "value concept" "value: *2000000015 " "$T/out"
expect_rc "invalid code" 0 omo map 12345 --system I10
expect_eq "invalid status" "invalid code (fails the vocabulary's pattern)" "$(field result)"
expect_eq "kept as source: no concept" 0 "$(field source_concept_id)"
expect_rc "outside validity dates" 0 omo map 99999-9 --system LN --date 2015-01-01
expect_grep "dates flagged" "outside the source concept's validity" "$T/out"
expect_rc "unknown system" 0 omo map 123 --system FOOBAR
expect_eq "unknown system status" "unknown code system" "$(field result)"
expect_rc "site map from the vocabulary folder" 0 omo map K92.2 --system I10 --site north
expect_grep "site map overrides" "standard: *2000000012 " "$T/out"
expect_rc "other site keeps the vocabulary" 0 omo map K92.2 --system I10 --site south
expect_grep "vocabulary for south" "standard: *192671 " "$T/out"

# --- the closed loop: unmapped -> fill -> load -> maps ---
expect_rc "batch with --record" 0 omo map --batch "$F/batch.csv" --site east --record
expect_eq "unknown system reported once" 1 "$(grep -c "unknown code system 'FOOBAR'" "$T/err")"
expect_grep "with its count" "unknown code system 'FOOBAR': 3 codes" "$T/err"
expect_grep "batch output" "I10,K922,mapped,35208414,192671,Condition" "$T/out"
expect_eq "unmapped rows" 6 "$(sql "select count(*) from omopipe.unmapped_code where site_id='east'")"
expect_eq "counted per code" 2 "$(sql "select record_count from omopipe.unmapped_code where site_id='east' and source_system='L' and source_code='HGB'")"
expect_eq "reason" invalid_code "$(sql "select reason from omopipe.unmapped_code where site_id='east' and source_code='12345'")"
expect_eq "example text" "Hemoglobin" "$(sql "select source_name from omopipe.unmapped_code where site_id='east' and source_code='HGB'")"
expect_rc "record again adds up" 0 omo map --batch "$F/batch.csv" --site east --record
expect_eq "counts accumulate" 4 "$(sql "select record_count from omopipe.unmapped_code where site_id='east' and source_code='HGB'")"
expect_rc "unmapped export" 0 omo unmapped --site east --out "$T/east.csv"
expect_eq "header" "source_system,source_code,source_name,frequency,target_concept_id,reason" "$(head -1 "$T/east.csv")"
expect_grep "most frequent first, target empty" "^L,HGB,Hemoglobin,4,,unknown_code" "$T/east.csv"
expect_eq "all unmapped codes" 7 "$(wc -l < "$T/east.csv")"
# the steward fills two targets
awk -F, 'BEGIN{OFS=","} NR>1 && $1=="L" && $2=="HGB" {$5=3000483} NR>1 && $1=="FOOBAR" && $2=="123" {$5=2000000040} {print}' "$T/east.csv" > "$T/east_filled.csv"
expect_rc "sitemap load the filled file" 0 omo sitemap load --site east "$T/east_filled.csv"
expect_grep "rows loaded" "^2 site map rows loaded from 1 files" "$T/out"
expect_eq "source_vocabulary_id scheme" "east:FOOBAR,east:L" "$(sql "select string_agg(source_vocabulary_id, ',' order by 1) from cdm.source_to_concept_map where source_vocabulary_id like 'east:%'")"
expect_rc "now maps" 0 omo map HGB --system L --site east
expect_grep "site map used" "site map: *east:L: found" "$T/out"
expect_grep "local code mapped" "standard: *3000483 .*-> Measurement table" "$T/out"
expect_rc "unknown system code maps through the site map" 0 omo map 123 --system FOOBAR --site east
expect_grep "FOOBAR mapped" "standard: *2000000040 " "$T/out"
expect_rc "unmapped export again" 0 omo unmapped --site east --out "$T/east2.csv"
grep -q '^L,HGB,' "$T/east2.csv" && fail "a mapped code is still listed"
expect_eq "two fewer" 5 "$(wc -l < "$T/east2.csv")"

# --- bad site maps: file:line and the reason; the previous map stays ---
expect_rc "target not in the vocabulary" 1 omo sitemap load --site east "$F/site_bad.csv"
expect_grep "file:line" "site_bad.csv:3" "$T/err"
expect_grep "reason" "999999999 is not in the vocabulary" "$T/err"
expect_rc "previous map in force" 0 omo map GLU --system L --site east
expect_eq "GLU not loaded" "unknown code" "$(field result)"
expect_rc "non-standard target" 1 omo sitemap load --site east "$F/site_nonstd.csv"
expect_grep "non-standard named" "site_nonstd.csv:2: target_concept_id 35208414 is not a standard concept" "$T/err"
expect_rc "not a number" 1 omo sitemap load --site east "$F/site_badid.csv"
expect_grep "not a number named" "site_badid.csv:2: target_concept_id 'x12' is not a concept id" "$T/err"
expect_eq "east rows unchanged" 2 "$(sql "select count(*) from cdm.source_to_concept_map where source_vocabulary_id like 'east:%'")"
expect_rc "missing file" 1 omo sitemap load --site east "$T/nope.csv"
expect_grep "names it" "nope.csv" "$T/err"

# overriding the vocabulary from a loaded file (I10 K922 -> K92.2), rows without a target skipped
expect_rc "site override file" 0 omo sitemap load --site west "$F/site_north.csv"
expect_grep "skipped counted" "1 rows without a target skipped" "$T/out"
expect_eq "code normalised in the map" "K92.2" "$(sql "select source_code from cdm.source_to_concept_map where source_vocabulary_id='west:ICD10CM'")"
expect_eq "source concept filled" 35208414 "$(sql "select source_concept_id from cdm.source_to_concept_map where source_vocabulary_id='west:ICD10CM'")"
expect_rc "override applies" 0 omo map K92.2 --system ICD-10-CM --site west
expect_grep "override target" "standard: *2000000012 " "$T/out"
expect_rc "load again: replaces, does not add" 0 omo sitemap load --site west "$F/site_north.csv"
expect_eq "no duplicates" 2 "$(sql "select count(*) from cdm.source_to_concept_map where source_vocabulary_id like 'west:%'")"

# --- shipped site maps, on the Synthea vocabulary (holds the LOINC lab concepts) ---
expect_rc "vocab load Synthea27Nj" 0 omo vocab load "$V/Eunomia-Synthea27Nj_5.4"
expect_rc "shipped maps of north" 0 omo sitemap load --site north
expect_grep "shipped rows" "^7 site map rows loaded from 1 files" "$T/out"
expect_rc "shipped map used" 0 omo map K --system L --site north
expect_grep "potassium" "standard: *3023103 .*-> Measurement table" "$T/out"
grep -q "mappings/.*csv: concept" "$T/err" && { cat "$T/err"; fail "fixed maps disagree with the Synthea vocabulary"; }
echo "ok: fixed maps agree with the Synthea vocabulary's domains"
expect_rc "shipped for all sites" 0 omo sitemap load --shipped

# --- usage ---
expect_rc "map without system" 2 omo map K92.2
expect_grep "try help" "try 'omopipe map --help'" "$T/err"
expect_rc "bad date" 2 omo map K92.2 --system I10 --date 2020-02-30
expect_rc "sitemap without site" 2 omo sitemap load
expect_rc "bad site id" 2 omo unmapped --site 'Bad Site' --out "$T/x.csv"
expect_rc "unmapped without out" 2 omo unmapped --site east
expect_rc "help" 0 omo sitemap --help
echo "all map checks passed"

# a vocabulary load with its own SOURCE_TO_CONCEPT_MAP file keeps the site maps
before=$(sql "select count(*) from cdm.source_to_concept_map where source_vocabulary_id like '%:%'")
[ "$before" -gt 0 ] || fail "no site map rows to keep"
expect_rc "vocab load with a SOURCE_TO_CONCEPT_MAP file" 0 omo vocab load "$OMO_SHARED_DATA/vocab/Eunomia-GiBleed_5.3"
expect_eq "site map rows survive" "$before" "$(sql "select count(*) from cdm.source_to_concept_map where source_vocabulary_id like '%:%'")"
