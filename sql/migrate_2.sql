-- Schema version 1 -> 2 (run by `omopipe init` on a version-1 database, in its
-- transaction, before the idempotent files create what is new).
-- id_map keys become uuid: the same 16 bytes, cheaper to index than bytea.
-- Event keys are now grouped by their first two key parts (etl/load/keytab.h),
-- so events loaded by version 1 keep their rows and ids, but a later
-- correction or re-sent copy of one of them is not recognised and adds a row:
-- reload such a database from its feeds if that matters.
ALTER TABLE @omopipe.id_map ALTER COLUMN key TYPE uuid USING encode(key, 'hex')::uuid;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM @omopipe.id_map WHERE kind = 6) THEN
        RAISE WARNING 'omopipe: events loaded before schema version 2 are not matched by later corrections: reload the feeds for exact re-run behaviour';
    END IF;
END $$;
