/* schema.c - omopipe init. See schema.h. */
#include "db/schema.h"
#include "core/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_version(PGconn *conn, const struct conf *c, int *v, struct err *e)
{
	char buf[64];
	const char *vals[] = { c->schema_omopipe };
	int rc = db_query_value(conn,
	        "SELECT CASE WHEN to_regclass(quote_ident($1) || '.schema_version') IS NULL THEN -1 ELSE 0 END",
	        1, vals, buf, sizeof buf, e);
	if (rc < 0)
		return rc;
	if (atoi(buf) < 0) {
		*v = 0;
		return 0;
	}
	char *sql = db_render(c, "SELECT coalesce(max(version), 0) FROM @omopipe.schema_version");
	rc = db_query_value(conn, sql, 0, NULL, buf, sizeof buf, e);
	free(sql);
	*v = rc == 0 ? atoi(buf) : 0;
	return rc;
}

int schema_check(PGconn *conn, const struct conf *c, struct err *e)
{
	int v;
	int rc = current_version(conn, c, &v, e);
	if (rc < 0)
		return rc;
	if (v == 0)
		return err_set(e, E_DB, "the database has no omopipe schema '%s' yet: run `omopipe init` first", c->schema_omopipe);
	if (v > SCHEMA_VERSION)
		return err_set(e, E_DB, "the database schema is version %d, newer than this omopipe understands (%d): upgrade omopipe", v, SCHEMA_VERSION);
	if (v < SCHEMA_VERSION)
		return err_set(e, E_DB, "the database schema is version %d, this omopipe needs %d: run `omopipe init` to migrate", v, SCHEMA_VERSION);
	return 0;
}

int schema_init(PGconn *conn, const struct conf *c, int foreign_keys, int *created, struct err *e)
{
	static const char *files[] = {
		"sql/init_schemas.sql", "sql/cdm_tables.sql", "sql/cdm_indexes.sql", "sql/vocab_indexes.sql",
		"sql/omopipe_tables.sql", "sql/omopipe_functions.sql", "sql/results_tables.sql", "sql/grants.sql",
	};
	int rc, v;

	*created = 0;
	if ((rc = db_exec(conn, "BEGIN; SELECT pg_advisory_xact_lock(7012001)", e)) < 0)
		return rc;
	if ((rc = current_version(conn, c, &v, e)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		rc = err_set(e, E_DB, "the database schema is version %d, newer than this omopipe understands (%d): upgrade omopipe", v, SCHEMA_VERSION);
		goto fail;
	}
	*created = v == 0;
	/* migrations from each older version present, in order */
	for (int m = v + 1; v > 0 && m <= SCHEMA_VERSION; m++) {
		char f[64];
		snprintf(f, sizeof f, "sql/migrate_%d.sql", m);
		if ((rc = db_run_file(conn, c, f, e)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		if ((rc = db_run_file(conn, c, files[i], e)) < 0)
			goto fail;
	if (foreign_keys && (rc = db_run_file(conn, c, "sql/cdm_foreign_keys.sql", e)) < 0)
		goto fail;
	char ver[16];
	snprintf(ver, sizeof ver, "%d", SCHEMA_VERSION);
	const char *vals[] = { ver, omo_version() };
	char *sql = db_render(c, "INSERT INTO @omopipe.schema_version (version, omopipe_version) VALUES ($1::int, $2) ON CONFLICT (version) DO NOTHING");
	rc = db_exec_params(conn, sql, 2, vals, NULL, e);
	free(sql);
	if (rc < 0)
		goto fail;
	return db_exec(conn, "COMMIT", e);
fail:
	db_exec(conn, "ROLLBACK", NULL);
	return rc;
}
