/* cmd_config.c - omopipe config check. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int cmd_config(struct cli *cli, int argc, char **argv)
{
	int rc;
	if (argc != 2 || strcmp(argv[1], "check") != 0)
		return cli_usage("config", argc < 2 ? "expected 'check'" : "unknown subcommand '%s' (expected check)", argv[1]);
	if ((rc = cli_conf(cli)) != 0)
		return rc;
	conf_print(&cli->conf, stdout);
	return EXIT_OK;
}
