-- Merge the staged persons, visits, health-system rows and deaths of one file
-- into the CDM (run inside the file's transaction, after its rows are staged).
-- One section per staged table, each starting with a "-- merge: TABLE" line;
-- the loader runs the sections of the tables the file staged rows in, then
-- empties those staging tables.
-- The latest record of a file wins (DISTINCT ON ... ORDER BY _ord DESC); against
-- rows already in the CDM, a new value replaces the old one only when it says
-- something (not NULL, not concept 0): an ORU's thin PID must not erase what an
-- ADT said. ON CONFLICT keeps this safe when workers merge the same person.

-- merge: location
INSERT INTO @cdm.location AS t
SELECT location_id, address_1, address_2, city, state, zip, county, location_source_value,
       country_concept_id, country_source_value, latitude, longitude
FROM (SELECT DISTINCT ON (location_id) * FROM stage_location ORDER BY location_id, _ord DESC) s
ORDER BY location_id
ON CONFLICT (location_id) DO UPDATE SET
    address_1 = coalesce(EXCLUDED.address_1, t.address_1),
    address_2 = coalesce(EXCLUDED.address_2, t.address_2),
    city = coalesce(EXCLUDED.city, t.city),
    state = coalesce(EXCLUDED.state, t.state),
    zip = coalesce(EXCLUDED.zip, t.zip),
    county = coalesce(EXCLUDED.county, t.county),
    location_source_value = coalesce(EXCLUDED.location_source_value, t.location_source_value),
    country_concept_id = coalesce(nullif(EXCLUDED.country_concept_id, 0), t.country_concept_id),
    country_source_value = coalesce(EXCLUDED.country_source_value, t.country_source_value),
    latitude = coalesce(EXCLUDED.latitude, t.latitude),
    longitude = coalesce(EXCLUDED.longitude, t.longitude);

-- merge: care_site
INSERT INTO @cdm.care_site AS t
SELECT care_site_id, care_site_name, place_of_service_concept_id, location_id,
       care_site_source_value, place_of_service_source_value
FROM (SELECT DISTINCT ON (care_site_id) * FROM stage_care_site ORDER BY care_site_id, _ord DESC) s
ORDER BY care_site_id
ON CONFLICT (care_site_id) DO UPDATE SET
    care_site_name = coalesce(EXCLUDED.care_site_name, t.care_site_name),
    place_of_service_concept_id = coalesce(nullif(EXCLUDED.place_of_service_concept_id, 0), t.place_of_service_concept_id),
    location_id = coalesce(EXCLUDED.location_id, t.location_id),
    care_site_source_value = coalesce(EXCLUDED.care_site_source_value, t.care_site_source_value),
    place_of_service_source_value = coalesce(EXCLUDED.place_of_service_source_value, t.place_of_service_source_value);

-- merge: provider
INSERT INTO @cdm.provider AS t
SELECT provider_id, provider_name, npi, dea, specialty_concept_id, care_site_id, year_of_birth,
       gender_concept_id, provider_source_value, specialty_source_value, specialty_source_concept_id,
       gender_source_value, gender_source_concept_id
FROM (SELECT DISTINCT ON (provider_id) * FROM stage_provider ORDER BY provider_id, _ord DESC) s
ORDER BY provider_id
ON CONFLICT (provider_id) DO UPDATE SET
    provider_name = coalesce(EXCLUDED.provider_name, t.provider_name),
    npi = coalesce(EXCLUDED.npi, t.npi),
    dea = coalesce(EXCLUDED.dea, t.dea),
    specialty_concept_id = coalesce(nullif(EXCLUDED.specialty_concept_id, 0), t.specialty_concept_id),
    care_site_id = coalesce(EXCLUDED.care_site_id, t.care_site_id),
    year_of_birth = coalesce(EXCLUDED.year_of_birth, t.year_of_birth),
    gender_concept_id = coalesce(nullif(EXCLUDED.gender_concept_id, 0), t.gender_concept_id),
    provider_source_value = coalesce(EXCLUDED.provider_source_value, t.provider_source_value),
    specialty_source_value = coalesce(EXCLUDED.specialty_source_value, t.specialty_source_value),
    specialty_source_concept_id = coalesce(nullif(EXCLUDED.specialty_source_concept_id, 0), t.specialty_source_concept_id),
    gender_source_value = coalesce(EXCLUDED.gender_source_value, t.gender_source_value),
    gender_source_concept_id = coalesce(nullif(EXCLUDED.gender_source_concept_id, 0), t.gender_source_concept_id);

-- merge: person
INSERT INTO @cdm.person AS t
SELECT person_id, gender_concept_id, year_of_birth, month_of_birth, day_of_birth, birth_datetime,
       race_concept_id, ethnicity_concept_id, location_id, provider_id, care_site_id,
       person_source_value, gender_source_value, gender_source_concept_id, race_source_value,
       race_source_concept_id, ethnicity_source_value, ethnicity_source_concept_id
FROM (SELECT DISTINCT ON (person_id) * FROM stage_person ORDER BY person_id, _ord DESC) s
ORDER BY person_id
ON CONFLICT (person_id) DO UPDATE SET
    gender_concept_id = CASE WHEN EXCLUDED.gender_concept_id <> 0 THEN EXCLUDED.gender_concept_id ELSE t.gender_concept_id END,
    year_of_birth = EXCLUDED.year_of_birth,
    month_of_birth = coalesce(EXCLUDED.month_of_birth, t.month_of_birth),
    day_of_birth = coalesce(EXCLUDED.day_of_birth, t.day_of_birth),
    birth_datetime = coalesce(EXCLUDED.birth_datetime, t.birth_datetime),
    race_concept_id = CASE WHEN EXCLUDED.race_concept_id <> 0 THEN EXCLUDED.race_concept_id ELSE t.race_concept_id END,
    ethnicity_concept_id = CASE WHEN EXCLUDED.ethnicity_concept_id <> 0 THEN EXCLUDED.ethnicity_concept_id ELSE t.ethnicity_concept_id END,
    location_id = coalesce(EXCLUDED.location_id, t.location_id),
    provider_id = coalesce(EXCLUDED.provider_id, t.provider_id),
    care_site_id = coalesce(EXCLUDED.care_site_id, t.care_site_id),
    person_source_value = coalesce(EXCLUDED.person_source_value, t.person_source_value),
    gender_source_value = coalesce(EXCLUDED.gender_source_value, t.gender_source_value),
    gender_source_concept_id = coalesce(nullif(EXCLUDED.gender_source_concept_id, 0), t.gender_source_concept_id),
    race_source_value = coalesce(EXCLUDED.race_source_value, t.race_source_value),
    race_source_concept_id = coalesce(nullif(EXCLUDED.race_source_concept_id, 0), t.race_source_concept_id),
    ethnicity_source_value = coalesce(EXCLUDED.ethnicity_source_value, t.ethnicity_source_value),
    ethnicity_source_concept_id = coalesce(nullif(EXCLUDED.ethnicity_source_concept_id, 0), t.ethnicity_source_concept_id);

-- merge: visit_occurrence
INSERT INTO @cdm.visit_occurrence AS t
SELECT visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_start_datetime,
       visit_end_date, visit_end_datetime, visit_type_concept_id, provider_id, care_site_id,
       visit_source_value, visit_source_concept_id, admitted_from_concept_id, admitted_from_source_value,
       discharged_to_concept_id, discharged_to_source_value, preceding_visit_occurrence_id
FROM (SELECT DISTINCT ON (visit_occurrence_id) * FROM stage_visit_occurrence ORDER BY visit_occurrence_id, _ord DESC) s
ORDER BY visit_occurrence_id
ON CONFLICT (visit_occurrence_id) DO UPDATE SET
    person_id = EXCLUDED.person_id,
    visit_concept_id = CASE WHEN EXCLUDED.visit_concept_id <> 0 THEN EXCLUDED.visit_concept_id ELSE t.visit_concept_id END,
    visit_start_date = EXCLUDED.visit_start_date,
    visit_start_datetime = coalesce(EXCLUDED.visit_start_datetime, t.visit_start_datetime),
    -- the loader writes visit_end_datetime exactly when the record knows the end;
    -- a record that does not (an ORU's PV1) keeps the end an ADT gave
    visit_end_date = CASE WHEN EXCLUDED.visit_end_datetime IS NOT NULL THEN EXCLUDED.visit_end_date
                          ELSE greatest(t.visit_end_date, EXCLUDED.visit_start_date) END,
    visit_end_datetime = coalesce(EXCLUDED.visit_end_datetime, t.visit_end_datetime),
    visit_type_concept_id = EXCLUDED.visit_type_concept_id,
    provider_id = coalesce(EXCLUDED.provider_id, t.provider_id),
    care_site_id = coalesce(EXCLUDED.care_site_id, t.care_site_id),
    visit_source_value = coalesce(EXCLUDED.visit_source_value, t.visit_source_value),
    visit_source_concept_id = coalesce(nullif(EXCLUDED.visit_source_concept_id, 0), t.visit_source_concept_id),
    admitted_from_concept_id = coalesce(nullif(EXCLUDED.admitted_from_concept_id, 0), t.admitted_from_concept_id),
    admitted_from_source_value = coalesce(EXCLUDED.admitted_from_source_value, t.admitted_from_source_value),
    discharged_to_concept_id = coalesce(nullif(EXCLUDED.discharged_to_concept_id, 0), t.discharged_to_concept_id),
    discharged_to_source_value = coalesce(EXCLUDED.discharged_to_source_value, t.discharged_to_source_value);

-- merge: death
DELETE FROM @cdm.death d USING stage_death s WHERE d.person_id = s.person_id;
INSERT INTO @cdm.death
SELECT person_id, death_date, death_datetime, death_type_concept_id, cause_concept_id,
       cause_source_value, cause_source_concept_id
FROM (SELECT DISTINCT ON (person_id) * FROM stage_death ORDER BY person_id, _ord DESC) s;
