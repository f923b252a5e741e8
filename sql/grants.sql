-- Privileges of the two roles (see init_schemas.sql). Idempotent; skipped
-- where the roles do not exist.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'omopipe_reader') THEN
        GRANT USAGE ON SCHEMA @cdm, @results TO omopipe_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA @cdm, @results TO omopipe_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA @cdm, @results GRANT SELECT ON TABLES TO omopipe_reader;
        REVOKE ALL ON SCHEMA @omopipe FROM omopipe_reader;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'omopipe_loader') THEN
        GRANT USAGE, CREATE ON SCHEMA @cdm, @results, @omopipe TO omopipe_loader;
        GRANT ALL ON ALL TABLES IN SCHEMA @cdm, @results, @omopipe TO omopipe_loader;
        GRANT ALL ON ALL SEQUENCES IN SCHEMA @omopipe TO omopipe_loader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA @cdm, @results, @omopipe GRANT ALL ON TABLES TO omopipe_loader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA @omopipe GRANT ALL ON SEQUENCES TO omopipe_loader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'omopipe: not allowed to grant privileges; grant them as the schema owner';
END $$;
