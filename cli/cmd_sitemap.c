/*
 * cmd_sitemap.c - omopipe sitemap load: a site's code maps into
 * SOURCE_TO_CONCEPT_MAP.
 *
 *   omopipe sitemap load --site S [--replace] [FILE.csv ...]
 *   omopipe sitemap load --shipped
 */
#include "cli/cli.h"
#include "db/db.h"
#include "etl/map/map_sitemap.h"

#include <stdio.h>
#include <string.h>

int cmd_sitemap(struct cli *cli, int argc, char **argv)
{
	const char *site = NULL;
	int replace = 0, shipped = 0, nfiles = 0;
	if (argc < 2 || strcmp(argv[1], "load") != 0)
		return cli_usage("sitemap", argc < 2 ? "expected 'load'" : "unknown subcommand '%s' (expected load)", argv[argc < 2 ? 0 : 1]);
	char **files = argv + 2;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--site") == 0) {
			if (i + 1 >= argc)
				return cli_usage("sitemap", "--site needs a value");
			site = argv[++i];
		} else if (strcmp(argv[i], "--replace") == 0)
			replace = 1;
		else if (strcmp(argv[i], "--shipped") == 0)
			shipped = 1;
		else if (argv[i][0] == '-')
			return cli_usage("sitemap", "unknown option '%s'", argv[i]);
		else
			files[nfiles++] = argv[i]; /* compact the file names in place */
	}
	if (shipped && (site || nfiles || replace))
		return cli_usage("sitemap", "--shipped loads every site's shipped maps: no --site, --replace or files with it");
	if (!shipped && !site)
		return cli_usage("sitemap", "load: expected --site S [FILE.csv ...] or --shipped");
	if (site && !conf_valid_site_id(site))
		return cli_usage("sitemap", "'%s' is not a valid site id", site);
	PGconn *conn;
	int rc = cli_connect_ready(cli, &conn);
	if (rc)
		return rc;
	struct err e = { 0 };
	struct map_sitemap_stats st;
	if (shipped)
		rc = map_sitemap_load_shipped(conn, &cli->conf, &st, &e);
	else
		rc = map_sitemap_load(conn, &cli->conf, site, files, nfiles, replace, &st, &e);
	db_close(conn);
	if (rc < 0)
		return cli_fail(&e);
	printf("%llu site map rows loaded from %d files (%llu previous rows replaced, %llu rows without a target skipped)\n",
	       (unsigned long long)st.rows, st.files, (unsigned long long)st.replaced, (unsigned long long)st.skipped);
	return EXIT_OK;
}
