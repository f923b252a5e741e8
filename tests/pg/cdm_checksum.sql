-- One line per CDM clinical table: table|rows|md5 of its content, comparable
-- across databases: every surrogate id is replaced by the source key it was
-- made from (omopipe.id_map), and ids of derived rows are left out, so two
-- loads of the same feeds give the same lines whatever order, workers or
-- interruptions assigned the numbers.
SET client_min_messages = warning;
CREATE TEMP TABLE idk AS SELECT id, min(key::text) AS k FROM omopipe.id_map GROUP BY id;
CREATE UNIQUE INDEX ON idk (id);
CREATE OR REPLACE FUNCTION pg_temp.cdm_checksum(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    cols text := '';
    joins text := '';
    c record;
    n int := 0;
    res text;
BEGIN
    FOR c IN SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'cdm' AND table_name = t ORDER BY ordinal_position LOOP
        n := n + 1;
        IF c.data_type = 'bigint' AND c.column_name LIKE '%\_id' THEN
            IF c.column_name IN ('observation_period_id', 'condition_era_id', 'drug_era_id', 'dose_era_id') THEN
                CONTINUE;
            END IF;
            joins := joins || format(' LEFT JOIN idk j%s ON j%s.id = x.%I', n, n, c.column_name);
            cols := cols || format(', coalesce(j%s.k, x.%I::text, ''-'')', n, c.column_name);
        ELSE
            cols := cols || format(', coalesce(x.%I::text, ''-'')', c.column_name);
        END IF;
    END LOOP;
    EXECUTE format('SELECT %L || ''|'' || count(*) || ''|'' || coalesce(md5(string_agg(r, E''\n'' ORDER BY r)), ''-'') '
                   'FROM (SELECT concat_ws(''|'' %s) AS r FROM cdm.%I x %s) s', t, cols, t, joins) INTO res;
    RETURN res;
END $$;
SELECT pg_temp.cdm_checksum(t) FROM unnest(ARRAY['person', 'visit_occurrence', 'condition_occurrence',
    'drug_exposure', 'procedure_occurrence', 'device_exposure', 'measurement', 'observation', 'death',
    'note', 'specimen', 'provider', 'care_site', 'location', 'observation_period', 'condition_era',
    'drug_era', 'cost', 'payer_plan_period']) t ORDER BY 1;
