-- Derived tables, recomputed for the persons in derive_person (the persons the
-- run touched; omopipe fills that temporary table before running this).
-- Ids: the person's site number in the high part, a number from derived_seq below.

-- OBSERVATION_PERIOD: one period per person from the first to the last recorded
-- event of any clinical table (the usual assumption for EHR data), type
-- 44814724 "Period covering healthcare encounters".
DELETE FROM @cdm.observation_period o USING derive_person d WHERE o.person_id = d.person_id;
INSERT INTO @cdm.observation_period (observation_period_id, person_id, observation_period_start_date,
                                     observation_period_end_date, period_type_concept_id)
SELECT (person_id / 1000000000000) * 1000000000000 + nextval('@omopipe.derived_seq'), person_id, min(s), max(e), 44814724
FROM (
    SELECT v.person_id, visit_start_date AS s, greatest(visit_end_date, visit_start_date) AS e
      FROM @cdm.visit_occurrence v JOIN derive_person USING (person_id)
    UNION ALL SELECT c.person_id, condition_start_date, greatest(coalesce(condition_end_date, condition_start_date), condition_start_date)
      FROM @cdm.condition_occurrence c JOIN derive_person USING (person_id)
    UNION ALL SELECT x.person_id, drug_exposure_start_date, greatest(drug_exposure_end_date, drug_exposure_start_date)
      FROM @cdm.drug_exposure x JOIN derive_person USING (person_id)
    UNION ALL SELECT p.person_id, procedure_date, procedure_date
      FROM @cdm.procedure_occurrence p JOIN derive_person USING (person_id)
    UNION ALL SELECT m.person_id, measurement_date, measurement_date
      FROM @cdm.measurement m JOIN derive_person USING (person_id)
    UNION ALL SELECT o.person_id, observation_date, observation_date
      FROM @cdm.observation o JOIN derive_person USING (person_id)
    UNION ALL SELECT d.person_id, device_exposure_start_date, greatest(coalesce(device_exposure_end_date, device_exposure_start_date), device_exposure_start_date)
      FROM @cdm.device_exposure d JOIN derive_person USING (person_id)
) ev
WHERE EXISTS (SELECT 1 FROM @cdm.person p WHERE p.person_id = ev.person_id)
GROUP BY person_id;

-- CONDITION_ERA (OHDSI's standard rule): occurrences of the same standard
-- condition concept less than 30 days apart form one era. An occurrence
-- without an end lasts one day.
DELETE FROM @cdm.condition_era c USING derive_person d WHERE c.person_id = d.person_id;
INSERT INTO @cdm.condition_era (condition_era_id, person_id, condition_concept_id, condition_era_start_date,
                                condition_era_end_date, condition_occurrence_count)
SELECT (person_id / 1000000000000) * 1000000000000 + nextval('@omopipe.derived_seq'),
       person_id, condition_concept_id, min(s), max(e), count(*)
FROM (
    SELECT *, sum(starts_era) OVER (PARTITION BY person_id, condition_concept_id ORDER BY s, e
                                    ROWS UNBOUNDED PRECEDING) AS era
    FROM (
        SELECT person_id, condition_concept_id, s, e,
               CASE WHEN s <= max(e) OVER (PARTITION BY person_id, condition_concept_id ORDER BY s, e
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + 30
                    THEN 0 ELSE 1 END AS starts_era
        FROM (SELECT c.person_id, c.condition_concept_id, c.condition_start_date AS s,
                     greatest(coalesce(c.condition_end_date, c.condition_start_date + 1), c.condition_start_date) AS e
              FROM @cdm.condition_occurrence c JOIN derive_person USING (person_id)
              WHERE c.condition_concept_id <> 0) occ
    ) marked
) numbered
GROUP BY person_id, condition_concept_id, era;

-- DRUG_ERA (OHDSI's standard rule): exposures rolled up to their ingredients
-- through CONCEPT_ANCESTOR; exposures of an ingredient less than 30 days apart
-- form one era; gap_days = days in the era not covered by any exposure.
-- An exposure ends at its end date, else start + days_supply, else start + 1.
DELETE FROM @cdm.drug_era x USING derive_person d WHERE x.person_id = d.person_id;
WITH exposure AS (
    SELECT d.person_id, ca.ancestor_concept_id AS ingredient, d.drug_exposure_start_date AS s,
           greatest(coalesce(d.drug_exposure_end_date, d.drug_exposure_start_date + d.days_supply,
                             d.drug_exposure_start_date + 1), d.drug_exposure_start_date) AS e
    FROM @cdm.drug_exposure d
    JOIN derive_person USING (person_id)
    JOIN @cdm.concept_ancestor ca ON ca.descendant_concept_id = d.drug_concept_id
    JOIN @cdm.concept c ON c.concept_id = ca.ancestor_concept_id
    WHERE d.drug_concept_id <> 0 AND c.concept_class_id = 'Ingredient'
      AND c.vocabulary_id IN ('RxNorm', 'RxNorm Extension')
),
-- overlapping exposures merge into sub-exposures (for the gap days)
sub_marked AS (
    SELECT *, CASE WHEN s <= max(e) OVER (PARTITION BY person_id, ingredient ORDER BY s, e
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   THEN 0 ELSE 1 END AS starts_sub
    FROM exposure
),
sub AS (
    SELECT person_id, ingredient, min(s) AS s, max(e) AS e, count(*) AS n
    FROM (SELECT *, sum(starts_sub) OVER (PARTITION BY person_id, ingredient ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS k
          FROM sub_marked) x
    GROUP BY person_id, ingredient, k
),
era_marked AS (
    SELECT *, CASE WHEN s <= max(e) OVER (PARTITION BY person_id, ingredient ORDER BY s, e
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + 30
                   THEN 0 ELSE 1 END AS starts_era
    FROM sub
)
INSERT INTO @cdm.drug_era (drug_era_id, person_id, drug_concept_id, drug_era_start_date, drug_era_end_date,
                           drug_exposure_count, gap_days)
SELECT (person_id / 1000000000000) * 1000000000000 + nextval('@omopipe.derived_seq'),
       person_id, ingredient, min(s), max(e), sum(n), (max(e) - min(s)) - sum(e - s)
FROM (SELECT *, sum(starts_era) OVER (PARTITION BY person_id, ingredient ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS era
      FROM era_marked) y
GROUP BY person_id, ingredient, era;

-- CDM_SOURCE: one row describing this CDM.
DELETE FROM @cdm.cdm_source;
INSERT INTO @cdm.cdm_source (cdm_source_name, cdm_source_abbreviation, cdm_holder, source_description,
                             source_documentation_reference, cdm_etl_reference, source_release_date,
                             cdm_release_date, cdm_version, cdm_version_concept_id, vocabulary_version)
SELECT 'omopipe CDM', 'omopipe', 'omopipe',
       'EHR feeds (HL7 v2, C-CDA, CSV) of ' || (SELECT count(*) FROM @omopipe.site) || ' site(s), loaded nightly by omopipe',
       NULL, 'omopipe ' || (SELECT omopipe_version FROM @omopipe.schema_version ORDER BY version DESC LIMIT 1),
       current_date, current_date, '5.4', 756265,
       coalesce((SELECT vocabulary_version FROM @cdm.vocabulary WHERE vocabulary_id = 'None'), 'unknown');
