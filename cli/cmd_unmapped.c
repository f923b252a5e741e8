/*
 * cmd_unmapped.c - omopipe unmapped --site S --out FILE.csv [--min-count N]
 *
 * The site's codes that did not map, most frequent first, as a CSV a steward
 * opens in Usagi or a spreadsheet; fill target_concept_id and load it back
 * with `omopipe sitemap load --site S FILE.csv`.
 */
#include "cli/cli.h"
#include "db/db.h"
#include "etl/map/map_sitemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_unmapped(struct cli *cli, int argc, char **argv)
{
	const char *site = NULL, *out = NULL, *minc = NULL;
	for (int i = 1; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--site") == 0 ? &site : strcmp(argv[i], "--out") == 0 ? &out :
		                   strcmp(argv[i], "--min-count") == 0 ? &minc : NULL;
		if (!dst)
			return cli_usage("unmapped", "unexpected argument '%s'", argv[i]);
		if (i + 1 >= argc)
			return cli_usage("unmapped", "%s needs a value", argv[i]);
		*dst = argv[++i];
	}
	if (!site || !out)
		return cli_usage("unmapped", "expected --site S --out FILE.csv");
	if (!conf_valid_site_id(site))
		return cli_usage("unmapped", "'%s' is not a valid site id", site);
	uint64_t min_count = 1;
	if (minc) {
		char *end;
		min_count = strtoull(minc, &end, 10);
		if (*end || !*minc)
			return cli_usage("unmapped", "--min-count: expected a number, got '%s'", minc);
	}
	PGconn *conn;
	int rc = cli_connect_ready(cli, &conn);
	if (rc)
		return rc;
	struct err e = { 0 };
	uint64_t rows = 0;
	rc = map_unmapped_export(conn, &cli->conf, site, out, min_count, &rows, &e);
	db_close(conn);
	if (rc < 0)
		return cli_fail(&e);
	printf("%llu unmapped codes of site %s written to %s\n", (unsigned long long)rows, site, out);
	return EXIT_OK;
}
