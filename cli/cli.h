/*
 * cli.h - the omopipe command line: global options, subcommands, exit codes.
 *
 * main.c strips the global options (-c/--config, --data-dir, --conninfo,
 * --workers, -v/--verbose, -q/--quiet) from anywhere before a "--", resolves
 * the configuration lazily, and dispatches to a cmd_* function that returns
 * an exit code from enum omo_exit (core/err.h).
 */
#ifndef OMO_CLI_H
#define OMO_CLI_H

#include "core/conf.h"
#include "core/err.h"

struct cli {
	struct conf_flags flags;
	struct conf conf;
	int conf_loaded;
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *help;   /* full text for `omopipe CMD --help` */
};

/* Resolve the configuration (once). 0, or the exit code of the error (printed). */
int cli_conf(struct cli *cli);
/* Print "omopipe: CMD: message" and "try 'omopipe CMD --help'"; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log e as an error and return its exit code. */
int cli_fail(const struct err *e);
/* 1 if argv holds -h or --help (before any "--"). */
int cli_wants_help(int argc, char **argv);
/* Print cmd's help to stdout and return EXIT_OK. */
int cli_help(const struct cmd *c);
/* The command table (main.c). */
const struct cmd *cli_find(const char *name);

/* subcommands */
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_db(struct cli *cli, int argc, char **argv);
int cmd_psql(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_vocab(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_map(struct cli *cli, int argc, char **argv);
int cmd_unmapped(struct cli *cli, int argc, char **argv);
int cmd_sitemap(struct cli *cli, int argc, char **argv);
int cmd_generate(struct cli *cli, int argc, char **argv);
int cmd_etl(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_runs(struct cli *cli, int argc, char **argv);
int cmd_provenance(struct cli *cli, int argc, char **argv);
int cmd_quarantine(struct cli *cli, int argc, char **argv);

#endif

#include <libpq-fe.h>
/* Resolve the configuration and connect (starting the embedded cluster if
 * needed). 0, or the exit code of the error (printed). */
int cli_connect(struct cli *cli, PGconn **conn);
/* cli_connect, then check the schema is initialised at this version. */
int cli_connect_ready(struct cli *cli, PGconn **conn);
