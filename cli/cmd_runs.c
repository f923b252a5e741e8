/* cmd_runs.c - omopipe runs: the run ledger. */
#include "cli/cli.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_runs(struct cli *cli, int argc, char **argv)
{
	const char *site = NULL, *limit = "20";
	PGconn *conn;
	struct err e = { 0 };
	int rc;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--site") == 0 && i + 1 < argc)
			site = argv[++i];
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = argv[++i];
		else
			return cli_usage("runs", "unexpected argument '%s'", argv[i]);
	}
	if (atoi(limit) <= 0)
		return cli_usage("runs", "--limit: expected a positive number");
	if ((rc = cli_connect_ready(cli, &conn)) != 0)
		return rc;
	char *sql = db_render(&cli->conf,
		"SELECT r.run_id, to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS'), "
		"coalesce(to_char(r.finished_at - r.started_at, 'HH24:MI:SS'), ''), "
		"CASE WHEN r.status = 'running' AND r.backend_pid NOT IN (SELECT pid FROM pg_stat_activity) "
		"     THEN 'interrupted' ELSE r.status END, r.command, "
		"count(f.path), count(f.path) FILTER (WHERE f.status = 'failed'), "
		"coalesce(sum(f.records_read), 0), coalesce(sum(f.records_loaded), 0), "
		"coalesce(sum(f.records_quarantined), 0), coalesce(sum(f.records_skipped), 0), "
		"coalesce(string_agg(DISTINCT s.site_id, ','), '') "
		"FROM @omopipe.run r LEFT JOIN @omopipe.run_file f ON f.run_id = r.run_id "
		"LEFT JOIN @omopipe.site s ON s.site_no = f.site_no "
		"WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM @omopipe.run_file f2 JOIN @omopipe.site s2 USING (site_no) "
		"                                  WHERE f2.run_id = r.run_id AND s2.site_id = $1) "
		"GROUP BY r.run_id ORDER BY r.run_id DESC LIMIT $2::int");
	const char *vals[] = { site, limit };
	PGresult *r;
	rc = db_exec_params(conn, sql, 2, vals, &r, &e);
	free(sql);
	if (rc < 0) {
		db_close(conn);
		return cli_fail(&e);
	}
	printf("%6s  %-19s  %-8s  %-11s  %5s  %6s  %10s  %10s  %11s  %8s  %s\n", "run", "started", "took", "status",
	       "files", "failed", "read", "loaded", "quarantined", "skipped", "sites / command");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%6s  %-19s  %-8s  %-11s  %5s  %6s  %10s  %10s  %11s  %8s  %s / %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 5),
		       PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8), PQgetvalue(r, i, 9),
		       PQgetvalue(r, i, 10), PQgetvalue(r, i, 11), PQgetvalue(r, i, 4));
	PQclear(r);
	db_close(conn);
	return EXIT_OK;
}
