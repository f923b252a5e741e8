-- The three schemas (OHDSI convention) and the two roles the design names.
--   @cdm      clinical + vocabulary tables: what every OHDSI tool reads
--   @results  data-quality results (and cohorts)
--   @omopipe  the pipeline's own: run ledger, id maps, quarantine, staging
-- omopipe_loader may write everything; omopipe_reader (researchers) may only
-- read @cdm and @results. Both are NOLOGIN group roles: grant them to login
-- roles (GRANT omopipe_reader TO alice). Creating roles needs CREATEROLE; on a
-- server where the connecting user lacks it, init goes on without them.
CREATE SCHEMA IF NOT EXISTS @cdm;
CREATE SCHEMA IF NOT EXISTS @results;
CREATE SCHEMA IF NOT EXISTS @omopipe;

-- Roles belong to the whole server: an init of another database may be
-- creating the same role at this moment (hence the unique_violation handler).
-- Each role on its own: one that cannot be made does not stop the other.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['omopipe_loader', 'omopipe_reader'] LOOP
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            END IF;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'omopipe: no CREATEROLE privilege; role % not created', r;
            WHEN unique_violation OR duplicate_object THEN
                NULL;
        END;
    END LOOP;
END $$;
