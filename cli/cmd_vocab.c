/* cmd_vocab.c - omopipe vocab load DIR. */
#include "cli/cli.h"
#include "db/schema.h"
#include "db/vocab_load.h"

#include <stdio.h>
#include <string.h>

int cmd_vocab(struct cli *cli, int argc, char **argv)
{
	struct err e = { 0 };
	struct vocab_load_stats st;
	PGconn *conn;
	int rc;

	if (argc < 2 || strcmp(argv[1], "load") != 0)
		return cli_usage("vocab", argc < 2 ? "expected 'load DIR'" : "unknown subcommand '%s' (expected load)", argv[argc < 2 ? 0 : 1]);
	if (argc != 3)
		return cli_usage("vocab", argc < 3 ? "load: expected the vocabulary folder" : "load: expected one folder");
	if ((rc = cli_connect_ready(cli, &conn)) != 0)
		return rc;
	rc = vocab_load(conn, &cli->conf, argv[2], &st, &e);
	db_close(conn);
	if (rc < 0)
		return cli_fail(&e);
	uint64_t total = 0;
	for (int i = 0; i < st.n; i++) {
		printf("%-24s %12llu rows\n", st.table[i], (unsigned long long)st.rows[i]);
		total += st.rows[i];
	}
	printf("%-24s %12llu rows in %.1f s (%.0f rows/s)\n", "total", (unsigned long long)total, st.seconds,
	       st.seconds > 0 ? (double)total / st.seconds : 0.0);
	return EXIT_OK;
}
