-- The facts of a CDM that must not depend on the feed format they came from:
-- persons (birth date, sex), visits (start, concept), conditions, measurements
-- (concept, date, value, unit), drugs and observations, each row told by its
-- person's birth date instead of an id; one line per kind: kind|rows|md5.
WITH p AS (SELECT person_id, birth_datetime::date AS b, gender_concept_id g FROM cdm.person)
SELECT 'persons', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT b || '/' || g AS x FROM p) s
UNION ALL SELECT 'visits', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT p.b || '/' || v.visit_start_date || '/' || v.visit_concept_id AS x FROM cdm.visit_occurrence v JOIN p USING (person_id)) s
UNION ALL SELECT 'conditions', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT p.b || '/' || c.condition_concept_id || '/' || c.condition_start_date AS x FROM cdm.condition_occurrence c JOIN p USING (person_id)) s
UNION ALL SELECT 'measurements', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT p.b || '/' || m.measurement_concept_id || '/' || m.measurement_date || '/' || coalesce(round(m.value_as_number, 2)::text, '-') || '/' || coalesce(m.unit_concept_id, 0) AS x FROM cdm.measurement m JOIN p USING (person_id)) s
UNION ALL SELECT 'drugs', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT p.b || '/' || d.drug_concept_id || '/' || d.drug_exposure_start_date AS x FROM cdm.drug_exposure d JOIN p USING (person_id)) s
UNION ALL SELECT 'observations', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT p.b || '/' || o.observation_concept_id || '/' || o.observation_date AS x FROM cdm.observation o JOIN p USING (person_id)) s;
