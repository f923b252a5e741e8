/* cmd_init.c - omopipe init [--foreign-keys]. */
#include "cli/cli.h"
#include "db/schema.h"

#include <stdio.h>
#include <string.h>

int cmd_init(struct cli *cli, int argc, char **argv)
{
	int fks = 0, created, rc;
	struct err e = { 0 };
	PGconn *conn;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--foreign-keys") == 0)
			fks = 1;
		else
			return cli_usage("init", "unexpected argument '%s'", argv[i]);
	}
	if ((rc = cli_connect(cli, &conn)) != 0)
		return rc;
	rc = schema_init(conn, &cli->conf, fks, &created, &e);
	db_close(conn);
	if (rc < 0)
		return cli_fail(&e);
	printf("%s: schemas %s (OMOP CDM v5.4), %s, %s at version %d%s\n",
	       created ? "created" : "up to date", cli->conf.schema_cdm, cli->conf.schema_results,
	       cli->conf.schema_omopipe, SCHEMA_VERSION, fks ? "; foreign keys in place" : "");
	return EXIT_OK;
}
