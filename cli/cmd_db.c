/* cmd_db.c - omopipe db start|stop|status, omopipe psql. */
#include "cli/cli.h"
#include "db/cluster.h"
#include "db/db.h"
#include "db/schema.h"
#include "core/log.h"
#include "core/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_connect(struct cli *cli, PGconn **conn)
{
	struct err e = { 0 };
	int rc = cli_conf(cli);
	if (rc)
		return rc;
	if (db_connect(&cli->conf, conn, &e) < 0)
		return cli_fail(&e);
	return 0;
}

int cli_connect_ready(struct cli *cli, PGconn **conn)
{
	struct err e = { 0 };
	int rc = cli_connect(cli, conn);
	if (rc)
		return rc;
	if (schema_check(*conn, &cli->conf, &e) < 0) {
		db_close(*conn);
		*conn = NULL;
		return cli_fail(&e);
	}
	return 0;
}

static int db_status(struct cli *cli)
{
	const struct conf *c = &cli->conf;
	char ci[2048];
	struct err e = { 0 };

	if (db_conninfo(c, ci, sizeof ci, 1, &e) < 0)
		return cli_fail(&e);
	if (!c->conninfo[0]) {
		int st = cluster_running(c);
		char bindir[4096] = "";
		cluster_bindir(bindir, sizeof bindir, NULL);
		printf("database:   embedded PostgreSQL cluster\n");
		printf("cluster:    %s/pg (%s)\n", c->data_dir, st > 0 ? "running" : st == 0 ? "stopped" : "not created yet");
		printf("socket:     %s/run (unix socket only, no TCP port)\n", c->data_dir);
		printf("binaries:   %s\n", bindir[0] ? bindir : "(not found)");
		printf("log:        %s/log/postgresql.log\n", c->data_dir);
		printf("conninfo:   %s\n", ci);
		return st > 0 ? EXIT_OK : EXIT_DB;
	}
	printf("database:   configured server\n");
	printf("conninfo:   %s\n", ci);
	PGconn *conn;
	if (db_connect(c, &conn, &e) < 0) {
		printf("status:     unreachable\n");
		return cli_fail(&e);
	}
	printf("status:     reachable (server %d)\n", PQserverVersion(conn));
	db_close(conn);
	return EXIT_OK;
}

int cmd_db(struct cli *cli, int argc, char **argv)
{
	struct err e = { 0 };
	int rc;

	if (argc != 2)
		return cli_usage("db", argc < 2 ? "expected start, stop or status" : "too many arguments");
	const char *sub = argv[1];
	if (strcmp(sub, "start") && strcmp(sub, "stop") && strcmp(sub, "status"))
		return cli_usage("db", "unknown subcommand '%s' (expected start, stop or status)", sub);
	if ((rc = cli_conf(cli)) != 0)
		return rc;
	if (strcmp(sub, "status") == 0)
		return db_status(cli);
	if (cli->conf.conninfo[0]) {
		fprintf(stderr, "omopipe: db %s: a server is configured ([database] conninfo); omopipe only starts and stops its embedded cluster\n", sub);
		return EXIT_CONFIG;
	}
	if (strcmp(sub, "start") == 0) {
		int started;
		if (cluster_start(&cli->conf, &started, &e) < 0)
			return cli_fail(&e);
		/* create the database too, so that `db start` leaves it usable */
		PGconn *conn;
		if (db_connect(&cli->conf, &conn, &e) < 0)
			return cli_fail(&e);
		db_close(conn);
		printf("embedded PostgreSQL %s (%s/run)\n", started ? "started" : "already running", cli->conf.data_dir);
		return EXIT_OK;
	}
	int was;
	if (cluster_stop(&cli->conf, &was, &e) < 0)
		return cli_fail(&e);
	printf("embedded PostgreSQL %s\n", was ? "stopped" : "was not running");
	return EXIT_OK;
}

int cmd_psql(struct cli *cli, int argc, char **argv)
{
	struct err e = { 0 };
	char ci[2048], bindir[4096], exe[4200];
	PGconn *conn;
	int rc = cli_connect(cli, &conn); /* starts the embedded cluster if needed */
	if (rc)
		return rc;
	db_close(conn);
	if (db_conninfo(&cli->conf, ci, sizeof ci, 0, &e) < 0)
		return cli_fail(&e);
	char **av = calloc((size_t)argc + 3, sizeof *av);
	if (!av)
		return EXIT_INTERNAL;
	if (cluster_bindir(bindir, sizeof bindir, NULL) == 0 && path_join(exe, sizeof exe, bindir, "psql") == 0 && access(exe, X_OK) == 0)
		av[0] = exe;
	else
		av[0] = "psql";
	int k = 1;
	int skip = argc > 1 && strcmp(argv[1], "--") == 0;
	av[k++] = "-d";
	av[k++] = ci;
	for (int i = 1 + skip; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	fflush(NULL);
	execvp(av[0], av);
	fprintf(stderr, "omopipe: psql: cannot run %s: %s; install the postgresql-client package\n", av[0], strerror(errno));
	free(av);
	return EXIT_INTERNAL;
}
