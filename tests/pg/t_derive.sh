#!/usr/bin/env bash
# Derived tables (issue "Load and run", item 8) on hand-made rows whose
# answers are worked out below: OHDSI's condition and drug era rules (30-day
# persistence window, drug eras by ingredient through CONCEPT_ANCESTOR, gap
# days, overlapping exposures), observation periods, only the touched persons
# recomputed, and recomputing twice gives the same rows.
source "$(dirname "$0")/lib.sh"
omo init >/dev/null
omo vocab load "$OMOPIPE_SHARE/mappings/demo-vocab" >/dev/null 2>&1
P=1000000000001   # touched
Q=1000000000002   # not touched: its (deliberately wrong) era must stay
sql "
INSERT INTO cdm.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
VALUES ($P, 8507, 1960, 0, 0), ($Q, 8532, 1970, 0, 0);
-- essential hypertension (320128): Jan 1 (no end: one day) and Jan 25-27 are
-- within 30 days, one era; Mar 1 is 33 days after Jan 27, a new one.
-- type 2 diabetes (201826) alone; concept 0 gives no era.
INSERT INTO cdm.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id,
    condition_start_date, condition_end_date, condition_type_concept_id) VALUES
  (1, $P, 320128, '2020-01-01', NULL, 32817), (2, $P, 320128, '2020-01-25', '2020-01-27', 32817),
  (3, $P, 320128, '2020-03-01', NULL, 32817), (4, $P, 201826, '2020-02-01', NULL, 32817),
  (5, $P, 0, '2019-06-01', NULL, 32817);
-- lisinopril products (descendants of ingredient 1308216): Jan 1-30, Jan 10-20
-- inside it, Feb 15-Mar 15 (16 days after: same era), May 1-10 (47 days after:
-- a new era); an amlodipine product (ingredient 1332418) once.
INSERT INTO cdm.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date,
    drug_exposure_end_date, drug_type_concept_id) VALUES
  (1, $P, 19080128, '2020-01-01', '2020-01-30', 32817), (2, $P, 19080128, '2020-01-10', '2020-01-20', 32817),
  (3, $P, 19080128, '2020-02-15', '2020-03-15', 32817), (4, $P, 19080128, '2020-05-01', '2020-05-10', 32817),
  (5, $P, 1332419, '2020-04-01', '2020-04-02', 32817);
INSERT INTO cdm.condition_era VALUES (99, $Q, 320128, '2000-01-01', '2000-01-02', 7);
INSERT INTO omopipe.touched_person (run_id, person_id) VALUES (0, $P);"
mkdir -p "$T/empty"
derive() { omo -q etl --site north --format csv --profile synthea "$T/empty" >/dev/null; }
derive

eras() { sql "SELECT string_agg(format('%s %s..%s n=%s', condition_concept_id, condition_era_start_date,
  condition_era_end_date, condition_occurrence_count), '; ' ORDER BY condition_concept_id, condition_era_start_date)
  FROM cdm.condition_era WHERE person_id = $P"; }
expect_eq "condition eras" "201826 2020-02-01..2020-02-02 n=1; 320128 2020-01-01..2020-01-27 n=2; 320128 2020-03-01..2020-03-02 n=1" "$(eras)"
drug_eras() { sql "SELECT string_agg(format('%s %s..%s n=%s gap=%s', drug_concept_id, drug_era_start_date,
  drug_era_end_date, drug_exposure_count, gap_days), '; ' ORDER BY drug_concept_id, drug_era_start_date)
  FROM cdm.drug_era WHERE person_id = $P"; }
expect_eq "drug eras" "1308216 2020-01-01..2020-03-15 n=3 gap=16; 1308216 2020-05-01..2020-05-10 n=1 gap=0; 1332418 2020-04-01..2020-04-02 n=1 gap=0" "$(drug_eras)"
expect_eq "observation period" "2019-06-01..2020-05-10" \
  "$(sql "SELECT observation_period_start_date || '..' || observation_period_end_date FROM cdm.observation_period WHERE person_id = $P")"
expect_eq "an untouched person keeps its rows" "1" "$(sql "SELECT count(*) FROM cdm.condition_era WHERE person_id = $Q AND condition_occurrence_count = 7")"
expect_eq "touched persons served" 0 "$(sql "SELECT count(*) FROM omopipe.touched_person")"
expect_eq "cdm_source: one row with the vocabulary version" 1 \
  "$(sql "SELECT count(*) FROM cdm.cdm_source WHERE vocabulary_version IS NOT NULL AND vocabulary_version <> ''")"

# touched again: the same eras, not twice as many
sql "INSERT INTO omopipe.touched_person (run_id, person_id) VALUES (0, $P)"
before="$(eras) | $(drug_eras)"
derive
expect_eq "recomputed: the same eras" "$before" "$(eras) | $(drug_eras)"
expect_eq "recomputed: one observation period" 1 "$(sql "SELECT count(*) FROM cdm.observation_period WHERE person_id = $P")"
