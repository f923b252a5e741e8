-- Schema version 2 -> 3 (run by `omopipe init` on an older database, in its
-- transaction, before the idempotent files create what is new: here the
-- source_record table).
-- Provenance of events: the record of its file that wrote each row
-- (id_map.record_no). Events loaded before version 3 have none (NULL) until a
-- later record rewrites them.
ALTER TABLE @omopipe.id_map ADD COLUMN IF NOT EXISTS record_no bigint;
