/*
 * derive.c - the derived tables after a load (sql/derive.sql): observation
 * periods, condition and drug eras for the persons the run touched, and the
 * CDM_SOURCE row. One transaction.
 */
#include "etl/load/load.h"
#include "etl/load/load_int.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>

int load_derive(struct load_run *r, struct err *e)
{
	char run[24], n[24];
	snprintf(run, sizeof run, "%lld", (long long)r->run_id);
	const char *v[] = { run };
	int rc;
	if ((rc = db_exec(r->conn, "BEGIN; CREATE TEMP TABLE IF NOT EXISTS derive_person (person_id bigint PRIMARY KEY) ON COMMIT DELETE ROWS", e)) < 0)
		return rc;
	char *sql = db_render(r->conf, "INSERT INTO derive_person SELECT person_id FROM @omopipe.touched_person WHERE run_id = $1::bigint");
	rc = db_exec_params(r->conn, sql, 1, v, NULL, e);
	free(sql);
	if (rc == 0)
		rc = db_exec(r->conn, "ANALYZE derive_person", e);
	if (rc == 0)
		rc = db_query_value(r->conn, "SELECT count(*) FROM derive_person", 0, NULL, n, sizeof n, e);
	if (rc == 0)
		rc = db_run_file(r->conn, r->conf, "sql/derive.sql", e);
	if (rc == 0)
		rc = db_exec(r->conn, "COMMIT", e);
	else
		db_exec(r->conn, "ROLLBACK", NULL);
	if (rc == 0)
		log_info("derived tables recomputed for %s person(s)", n);
	return rc;
}
