/*
 * derive.c - the derived tables after a load: observation periods and the
 * CDM_SOURCE row (sql/derive_period.sql) on the run's connection, condition
 * and drug eras (sql/derive_eras.sql) on a second one at the same time, each
 * for the persons loads touched.
 *
 * The run's transaction also clears the touched-person rows it served, and it
 * commits last: a run killed before then leaves them for the next run, which
 * derives those persons again (both files replace what they derive, so
 * deriving twice gives the same rows).
 */
#include "etl/load/load.h"
#include "etl/load/load_int.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>

#define PERSONS_TABLE "CREATE TEMP TABLE IF NOT EXISTS derive_person (person_id bigint PRIMARY KEY) ON COMMIT DELETE ROWS; "

int load_derive(struct load_run *r, struct err *e)
{
	char n[24];
	PGconn *eras = NULL;
	int rc = db_connect(r->conf, &eras, e);
	if (rc < 0)
		return rc;
	/* the eras' connection reads the touched persons before the run's deletes them */
	char *sql = db_render(r->conf, "BEGIN; " PERSONS_TABLE
	                      "INSERT INTO derive_person SELECT DISTINCT person_id FROM @omopipe.touched_person; "
	                      "ANALYZE derive_person");
	rc = db_exec(eras, sql, e);
	free(sql);
	if (rc == 0)
		rc = db_run_send(eras, r->conf, "sql/derive_eras.sql", e);
	if (rc == 0)
		rc = db_exec(r->conn, "BEGIN; " PERSONS_TABLE
		             "CREATE TEMP TABLE IF NOT EXISTS derive_touched (run_id bigint, person_id bigint) ON COMMIT DELETE ROWS", e);
	if (rc == 0) {
		sql = db_render(r->conf,
		        "INSERT INTO derive_touched SELECT run_id, person_id FROM @omopipe.touched_person; "
		        "INSERT INTO derive_person SELECT DISTINCT person_id FROM derive_touched; "
		        "DELETE FROM @omopipe.touched_person t USING derive_touched d WHERE t.run_id = d.run_id AND t.person_id = d.person_id; "
		        "ANALYZE derive_person");
		rc = db_exec(r->conn, sql, e);
		free(sql);
	}
	if (rc == 0)
		rc = db_query_value(r->conn, "SELECT count(*) FROM derive_person", 0, NULL, n, sizeof n, e);
	if (rc == 0)
		rc = db_run_file(r->conn, r->conf, "sql/derive_period.sql", e);
	/* collect the eras whatever happened, then commit them before the run's transaction */
	struct err e2 = { 0 };
	int rc2 = PQtransactionStatus(eras) == PQTRANS_ACTIVE ? db_run_wait(eras, "sql/derive_eras.sql", &e2) : 0;
	if (rc == 0 && rc2 < 0) {
		*e = e2;
		rc = rc2;
	}
	if (rc == 0)
		rc = db_exec(eras, "COMMIT", e);
	if (rc == 0)
		rc = db_exec(r->conn, "COMMIT", e);
	if (rc < 0) {
		db_exec(eras, "ROLLBACK", NULL);
		db_exec(r->conn, "ROLLBACK", NULL);
	}
	db_close(eras);
	if (rc == 0)
		log_info("derived tables recomputed for %s person(s)", n);
	return rc;
}
