-- Derived tables (2 of 2): condition and drug eras of the persons in
-- derive_person, on a connection of its own while derive_period.sql runs
-- (etl/load/derive.c).
-- Ids: the person's site number in the high part, a number from derived_seq below.

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
