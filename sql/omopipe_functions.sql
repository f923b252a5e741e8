-- Functions the loader calls for records that change what is already loaded:
-- retractions (HL7 A11/A13 cancels, OBX-11 = D, RXA-21 = D) and patient merges
-- (ADT A40). Run inside the loading file's transaction.

CREATE OR REPLACE FUNCTION @omopipe.retract_event(p_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM @cdm.condition_occurrence WHERE condition_occurrence_id = p_id;
    DELETE FROM @cdm.drug_exposure WHERE drug_exposure_id = p_id;
    DELETE FROM @cdm.procedure_occurrence WHERE procedure_occurrence_id = p_id;
    DELETE FROM @cdm.device_exposure WHERE device_exposure_id = p_id;
    DELETE FROM @cdm.measurement WHERE measurement_id = p_id;
    DELETE FROM @cdm.observation WHERE observation_id = p_id;
    DELETE FROM @cdm.note WHERE note_id = p_id;
    DELETE FROM @cdm.specimen WHERE specimen_id = p_id;
    DELETE FROM @cdm.payer_plan_period WHERE payer_plan_period_id = p_id;
    DELETE FROM @cdm.cost WHERE cost_id = p_id OR cost_event_id = p_id;
END $$;

-- A cancelled visit goes; its events stay, no longer tied to it.
CREATE OR REPLACE FUNCTION @omopipe.retract_visit(p_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE @cdm.condition_occurrence SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.drug_exposure SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.procedure_occurrence SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.device_exposure SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.measurement SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.observation SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    UPDATE @cdm.note SET visit_occurrence_id = NULL WHERE visit_occurrence_id = p_id;
    DELETE FROM @cdm.cost WHERE cost_event_id = p_id AND cost_domain_id = 'Visit';
    DELETE FROM @cdm.visit_occurrence WHERE visit_occurrence_id = p_id;
END $$;

CREATE OR REPLACE FUNCTION @omopipe.retract_person(p_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM @cdm.condition_occurrence WHERE person_id = p_id;
    DELETE FROM @cdm.drug_exposure WHERE person_id = p_id;
    DELETE FROM @cdm.procedure_occurrence WHERE person_id = p_id;
    DELETE FROM @cdm.device_exposure WHERE person_id = p_id;
    DELETE FROM @cdm.measurement WHERE person_id = p_id;
    DELETE FROM @cdm.observation WHERE person_id = p_id;
    DELETE FROM @cdm.note WHERE person_id = p_id;
    DELETE FROM @cdm.specimen WHERE person_id = p_id;
    DELETE FROM @cdm.payer_plan_period WHERE person_id = p_id;
    DELETE FROM @cdm.visit_occurrence WHERE person_id = p_id;
    DELETE FROM @cdm.death WHERE person_id = p_id;
    DELETE FROM @cdm.observation_period WHERE person_id = p_id;
    DELETE FROM @cdm.condition_era WHERE person_id = p_id;
    DELETE FROM @cdm.drug_era WHERE person_id = p_id;
    DELETE FROM @cdm.person WHERE person_id = p_id;
END $$;

-- ADT A40: every row of p_from moves to p_into; the key of p_from now names
-- p_into, so later messages with the old identifier land on the survivor.
CREATE OR REPLACE FUNCTION @omopipe.merge_person(p_from bigint, p_into bigint, p_run bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_from = p_into THEN
        RETURN;
    END IF;
    UPDATE @cdm.condition_occurrence SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.drug_exposure SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.procedure_occurrence SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.device_exposure SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.measurement SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.observation SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.note SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.specimen SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.payer_plan_period SET person_id = p_into WHERE person_id = p_from;
    UPDATE @cdm.visit_occurrence SET person_id = p_into WHERE person_id = p_from;
    DELETE FROM @cdm.death WHERE person_id = p_from AND EXISTS (SELECT 1 FROM @cdm.death WHERE person_id = p_into);
    UPDATE @cdm.death SET person_id = p_into WHERE person_id = p_from;
    DELETE FROM @cdm.observation_period WHERE person_id = p_from;
    DELETE FROM @cdm.condition_era WHERE person_id = p_from;
    DELETE FROM @cdm.drug_era WHERE person_id = p_from;
    DELETE FROM @cdm.person WHERE person_id = p_from;
    UPDATE @omopipe.id_map SET id = p_into WHERE id = p_from AND kind = 1;
    INSERT INTO @omopipe.touched_person (run_id, person_id) VALUES (p_run, p_into) ON CONFLICT DO NOTHING;
END $$;
