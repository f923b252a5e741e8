/* cmd_provenance.c - omopipe provenance ID...: where a CDM row came from. */
#include "cli/cli.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = { "", "person", "visit", "provider", "care site", "location", "event" };

int cmd_provenance(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("provenance", "expected one or more ids");
	for (int i = 1; i < argc; i++) {
		char *end;
		if (strtoll(argv[i], &end, 10) <= 0 || *end)
			return cli_usage("provenance", "'%s' is not an id (a positive number)", argv[i]);
	}
	PGconn *conn;
	int rc = cli_connect_ready(cli, &conn);
	if (rc != 0)
		return rc;
	/* id_map is keyed by source key: a scan, fine for a steward's question */
	char *sql = db_render(&cli->conf,
		"SELECT m.kind, s.site_id, f.path, f.format, f.profile, m.record_no, r.line_no, r.byte_offset, r.source_id "
		"FROM @omopipe.id_map m JOIN @omopipe.site s USING (site_no) "
		"LEFT JOIN @omopipe.source_file f ON f.file_id = m.file_id "
		"LEFT JOIN @omopipe.source_record r ON r.file_id = m.file_id AND r.record_no = m.record_no "
		"WHERE m.id = $1::bigint ORDER BY m.record_no NULLS LAST");
	int missing = 0;
	for (int i = 1; i < argc && rc == 0; i++) {
		const char *vals[] = { argv[i] };
		PGresult *r;
		struct err e = { 0 };
		if (db_exec_params(conn, sql, 1, vals, &r, &e) < 0) {
			rc = cli_fail(&e);
			break;
		}
		if (PQntuples(r) == 0) {
			printf("%s: no row omopipe loaded has this id\n", argv[i]);
			missing++;
		}
		for (int k = 0; k < PQntuples(r); k++) {
			int kind = atoi(PQgetvalue(r, k, 0));
			printf("%s: %s of site %s\n", argv[i], kind > 0 && kind <= 6 ? kinds[kind] : "?", PQgetvalue(r, k, 1));
			if (PQgetisnull(r, k, 2)) {
				printf("  merged from every record of the site that names it\n");
				continue;
			}
			printf("  file:    %s (%s, profile %s)\n", PQgetvalue(r, k, 2), PQgetvalue(r, k, 3), PQgetvalue(r, k, 4));
			if (PQgetisnull(r, k, 5))
				continue;
			printf("  record:  %s", PQgetvalue(r, k, 5));
			if (!PQgetisnull(r, k, 6))
				printf(" (line %s, byte %s)", PQgetvalue(r, k, 6), PQgetvalue(r, k, 7));
			else if (!PQgetisnull(r, k, 7))
				printf(" (byte %s)", PQgetvalue(r, k, 7));
			printf("\n");
			if (!PQgetisnull(r, k, 8))
				printf("  source:  %s\n", PQgetvalue(r, k, 8));
		}
		PQclear(r);
	}
	free(sql);
	db_close(conn);
	if (rc)
		return rc;
	return missing ? EXIT_DATA : EXIT_OK;
}
