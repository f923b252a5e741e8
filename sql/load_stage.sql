-- Staging for the rows that are upserted, not appended: persons, visits and the
-- health-system tables, and deaths. One set per connection (TEMP); the loader
-- empties a table in the same transaction that merged it (load_merge.sql), and
-- every commit truncates them in place (ON COMMIT DELETE ROWS): temp tables are
-- never vacuumed, and the dead rows of thousands of files would otherwise be
-- scanned by every merge.
-- Columns are the CDM table's plus _ord, the record order within the file (the
-- latest record about a person or visit wins).
-- Event rows do not pass through staging: they are copied straight into the CDM.
CREATE TEMP TABLE IF NOT EXISTS stage_person (LIKE @cdm.person, _ord bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_visit_occurrence (LIKE @cdm.visit_occurrence, _ord bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_provider (LIKE @cdm.provider, _ord bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_care_site (LIKE @cdm.care_site, _ord bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_location (LIKE @cdm.location, _ord bigint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_death (LIKE @cdm.death, _ord bigint) ON COMMIT DELETE ROWS;
