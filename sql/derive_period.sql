-- Derived tables (1 of 2): observation periods of the persons in derive_person
-- (the persons the run touched; omopipe fills that temporary table before
-- running this), and the CDM_SOURCE row. derive_eras.sql runs at the same time
-- on another connection (etl/load/derive.c).
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
