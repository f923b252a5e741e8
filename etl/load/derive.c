/*
 * derive.c - the derived tables after a load: observation periods and the
 * CDM_SOURCE row (sql/derive_period.sql) on the run's connection, condition
 * and drug eras (sql/derive_eras.sql) on a second one at the same time, both
 * for the persons whose touched-person rows the run's transaction takes (the
 * second connection gets a copy of that list: a load of another site that
 * commits meanwhile cannot make the two lists differ).
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

static int add_row(void *ctx, struct span row)
{
	buf_span(ctx, row);
	buf_putc(ctx, '\n');
	return 0;
}

/* The run's derive_person, copied to the eras' connection: both derive the
 * same persons, those whose touched rows the run's transaction deletes. */
static int share_persons(struct load_run *r, PGconn *eras, struct err *e)
{
	struct buf ids = BUF_INIT;
	int rc = db_copy_out(r->conn, "COPY derive_person TO STDOUT", add_row, &ids, e);
	if (rc == 0)
		rc = db_exec(eras, "BEGIN; " PERSONS_TABLE, e);
	if (rc == 0) {
		struct span data = span_make(ids.p, ids.n);
		rc = db_copy_data(eras, "COPY derive_person FROM STDIN", "derive_person", &data, 1, e);
	}
	if (rc == 0)
		rc = db_exec(eras, "ANALYZE derive_person", e);
	buf_free(&ids);
	return rc;
}

int load_derive(struct load_run *r, struct err *e)
{
	char n[24];
	PGconn *eras = NULL;
	int rc = db_connect(r->conf, &eras, e);
	if (rc < 0)
		return rc;
	rc = db_exec(r->conn, "BEGIN; " PERSONS_TABLE
	             "CREATE TEMP TABLE IF NOT EXISTS derive_touched (run_id bigint, person_id bigint) ON COMMIT DELETE ROWS", e);
	if (rc == 0) {
		char *sql = db_render(r->conf,
		        "INSERT INTO derive_touched SELECT run_id, person_id FROM @omopipe.touched_person; "
		        "INSERT INTO derive_person SELECT DISTINCT person_id FROM derive_touched; "
		        "DELETE FROM @omopipe.touched_person t USING derive_touched d WHERE t.run_id = d.run_id AND t.person_id = d.person_id; "
		        "ANALYZE derive_person");
		rc = db_exec(r->conn, sql, e);
		free(sql);
	}
	if (rc == 0)
		rc = share_persons(r, eras, e);
	if (rc == 0)
		rc = db_run_send(eras, r->conf, "sql/derive_eras.sql", e);
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
