/*
 * merge.c - persons, visits, health-system rows and deaths: staged during a
 * file, merged into the CDM at its end (sql/load_merge.sql, one section per
 * table). Only the tables the file staged rows in are merged and emptied, so
 * a C-CDA document or a lab file pays for what it holds, not for six upserts.
 */
#include "etl/load/load_int.h"
#include "core/mem.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The order of the merges: what others refer to first. */
static const int order[] = { T_LOCATION, T_CARE_SITE, T_PROVIDER, T_PERSON, T_VISIT, T_DEATH };

int merge_prepare(struct worker *w, struct err *e)
{
	char *sql = db_load_sql(w->run->conf, "sql/load_merge.sql", e);
	if (!sql)
		return -e->code;
	/* cut at each "-- merge: TABLE" line */
	for (char *p = strstr(sql, "-- merge: "); p; ) {
		char *name = p + 10, *eol = strchr(name, '\n');
		if (!eol)
			break;
		char *next = strstr(eol, "-- merge: ");
		size_t nl = (size_t)(eol - name);
		for (int t = 0; t < T_FIRST_EVENT; t++)
			if (strlen(load_tables[t].name) == nl && strncmp(load_tables[t].name, name, nl) == 0)
				w->merge_sql[t] = xstrndup(eol + 1, next ? (size_t)(next - eol - 1) : strlen(eol + 1));
		p = next;
	}
	free(sql);
	for (int t = 0; t < T_FIRST_EVENT; t++)
		if (!w->merge_sql[t])
			return err_set(e, E_INTERNAL, "sql/load_merge.sql has no section for %s", load_tables[t].name);
	return 0;
}

void merge_free(struct worker *w)
{
	for (int t = 0; t < T_FIRST_EVENT; t++) {
		free(w->merge_sql[t]);
		w->merge_sql[t] = NULL;
	}
}

/* One round trip: the sections of the staged tables and their emptying, sent together. */
int merge_staged(struct worker *w, struct filectx *f, struct err *e)
{
	int n = 0, rc = 0;
	struct buf sql = BUF_INIT;
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		int t = order[i];
		if (!(f->staged & (1u << t)))
			continue;
		n++;
		buf_puts(&sql, w->merge_sql[t]);
		buf_printf(&sql, ";\nDELETE FROM stage_%s;\n", load_tables[t].name);
	}
	f->staged = 0;
	if (!n)
		return 0;
	if (!PQsendQuery(w->conn, sql.p)) {
		buf_free(&sql);
		return db_error(w->conn, NULL, "merging persons and visits", e);
	}
	buf_free(&sql);
	PGresult *r;
	while ((r = PQgetResult(w->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			rc = db_error(w->conn, r, "merging persons and visits", e);
		PQclear(r);
	}
	return rc;
}
