-- Dropped before a vocabulary load, rebuilt after it (vocab_indexes.sql).
DROP INDEX IF EXISTS @cdm.idx_concept_concept_code;
DROP INDEX IF EXISTS @cdm.idx_concept_vocabulary_id;
DROP INDEX IF EXISTS @cdm.idx_concept_domain_id;
DROP INDEX IF EXISTS @cdm.idx_concept_concept_class_id;
DROP INDEX IF EXISTS @cdm.idx_concept_relationship_concept_id_1;
DROP INDEX IF EXISTS @cdm.idx_concept_relationship_concept_id_2;
DROP INDEX IF EXISTS @cdm.idx_concept_relationship_relationship_id;
DROP INDEX IF EXISTS @cdm.idx_concept_synonym_concept_id;
DROP INDEX IF EXISTS @cdm.idx_concept_ancestor_ancestor_concept_id;
DROP INDEX IF EXISTS @cdm.idx_concept_ancestor_descendant_concept_id;
DROP INDEX IF EXISTS @cdm.idx_source_to_concept_map_source_vocabulary_id;
DROP INDEX IF EXISTS @cdm.idx_source_to_concept_map_target_concept_id;
DROP INDEX IF EXISTS @cdm.idx_source_to_concept_map_source_code;
DROP INDEX IF EXISTS @cdm.idx_drug_strength_drug_concept_id;
DROP INDEX IF EXISTS @cdm.idx_drug_strength_ingredient_concept_id;
