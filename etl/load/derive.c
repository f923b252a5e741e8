/*
 * derive.c - the derived tables after a load (sql/derive.sql): observation
 * periods, condition and drug eras for the persons loads touched, and the
 * CDM_SOURCE row. One transaction, which also clears the touched-person rows
 * it served: a run killed before this step leaves them for the next run,
 * which then derives those persons too.
 */
#include "etl/load/load.h"
#include "etl/load/load_int.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>

int load_derive(struct load_run *r, struct err *e)
{
	char n[24];
	int rc;
	if ((rc = db_exec(r->conn, "BEGIN; "
	                  "CREATE TEMP TABLE IF NOT EXISTS derive_person (person_id bigint PRIMARY KEY) ON COMMIT DELETE ROWS; "
	                  "CREATE TEMP TABLE IF NOT EXISTS derive_touched (run_id bigint, person_id bigint) ON COMMIT DELETE ROWS", e)) < 0)
		return rc;
	char *sql = db_render(r->conf,
	        "INSERT INTO derive_touched SELECT run_id, person_id FROM @omopipe.touched_person; "
	        "INSERT INTO derive_person SELECT DISTINCT person_id FROM derive_touched; "
	        "DELETE FROM @omopipe.touched_person t USING derive_touched d WHERE t.run_id = d.run_id AND t.person_id = d.person_id");
	rc = db_exec(r->conn, sql, e);
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
