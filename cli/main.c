/*
 * main.c - omopipe's entry point: global options and the command table.
 *
 *   omopipe [GLOBAL OPTIONS] COMMAND [ARGS]
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/path.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd commands[] = {
	{ "demo", cmd_demo, "the whole nightly job on generated feeds (start here)",
	  "usage: omopipe demo [--patients N] [--sites K]\n"
	  "\n"
	  "Starts the embedded PostgreSQL (unless a server is configured), creates the\n"
	  "CDM, loads omopipe's demo vocabulary, generates K sites x N patients of\n"
	  "synthetic feeds (default 3 x 1,000) in several vendors' dialects (HL7 v2,\n"
	  "C-CDA, CSV) into DATA_DIR/demo/feeds, loads the site code maps, runs the whole\n"
	  "nightly job over them and prints what was loaded and what was quarantined.\n"
	  "The feeds are the same every time: running it again shows a re-run that\n"
	  "changes nothing.\n" },
	{ "db", cmd_db, "start, stop or show the embedded PostgreSQL cluster",
	  "usage: omopipe db start|stop|status\n"
	  "\n"
	  "With no [database] conninfo configured, omopipe keeps a private PostgreSQL\n"
	  "cluster in DATA_DIR/pg, reachable only through a unix socket in DATA_DIR/run.\n"
	  "Every command that needs the database starts it when it is not running.\n"
	  "\n"
	  "  start    create the cluster on first use and start it (harmless if running)\n"
	  "  stop     stop it (fast shutdown)\n"
	  "  status   what is running where, and the libpq connection string in use\n" },
	{ "psql", cmd_psql, "open psql on the database in use",
	  "usage: omopipe psql [PSQL ARGS...]\n"
	  "\n"
	  "Runs psql connected to the database omopipe uses (the embedded cluster, started\n"
	  "if needed, or the configured server). Arguments are passed to psql, e.g.\n"
	  "  omopipe psql -c 'SELECT count(*) FROM cdm.person'\n" },
	{ "init", cmd_init, "create the schemas and the OMOP CDM v5.4 tables",
	  "usage: omopipe init [--foreign-keys]\n"
	  "\n"
	  "Creates the CDM schema (all 39 OMOP CDM v5.4 tables, primary keys, indexes),\n"
	  "the results schema, omopipe's own schema, and the roles omopipe_loader and\n"
	  "omopipe_reader. Idempotent: running it again changes nothing.\n"
	  "\n"
	  "  --foreign-keys   also add the CDM foreign keys (do this after a load)\n" },
	{ "vocab", cmd_vocab, "load an OMOP vocabulary (Athena download or CSV export)",
	  "usage: omopipe vocab load DIR\n"
	  "\n"
	  "Loads CONCEPT, CONCEPT_RELATIONSHIP, CONCEPT_ANCESTOR, CONCEPT_SYNONYM,\n"
	  "VOCABULARY, DOMAIN, CONCEPT_CLASS, RELATIONSHIP, DRUG_STRENGTH and\n"
	  "SOURCE_TO_CONCEPT_MAP from DIR: whichever are present, file names in any case,\n"
	  "optionally .zst-compressed. Both the Athena download (tab separated, unquoted,\n"
	  "YYYYMMDD dates) and CSV exports (comma separated, quoted, ISO dates) are read.\n"
	  "The tables whose files are present are replaced in one transaction: a malformed\n"
	  "row stops the load with file:line and leaves the previous vocabulary in place.\n" },
	{ "etl", cmd_etl, "load one site's feed files into the CDM",
	  "usage: omopipe etl --site SITE [--format csv|hl7v2|ccda] [--profile P] [--no-derive] [FILES|DIRS...]\n"
	  "\n"
	  "Loads files into the CDM: each file in one transaction, through COPY, with\n"
	  "records read = loaded + quarantined + skipped checked before it commits.\n"
	  "A file whose content was loaded before is skipped; a changed file replaces\n"
	  "the rows of its earlier version. Folders are searched recursively for the\n"
	  "files the format reads. Without FILES, the site's configured feeds are read.\n"
	  "With --format (and --profile) no configuration is needed: the site is\n"
	  "created on first use. The derived tables (observation periods, eras) are\n"
	  "recomputed for the persons touched unless --no-derive.\n"
	  "Exit 1 when a file failed; quarantined records are listed by\n"
	  "`omopipe quarantine list`.\n" },
	{ "run", cmd_run, "the nightly job: every configured site, then the derived tables",
	  "usage: omopipe run\n"
	  "\n"
	  "Loads every configured site's feeds ([site NAME] feed = FORMAT PROFILE PATH),\n"
	  "then recomputes observation periods, condition and drug eras and CDM_SOURCE.\n"
	  "Each site is locked while it loads: a second run for the same site stops at\n"
	  "once. Exit 1 when a file failed.\n" },
	{ "runs", cmd_runs, "list recent runs from the run ledger",
	  "usage: omopipe runs [--site SITE] [--limit N]\n"
	  "\n"
	  "Recent runs, newest first: when, how long, status (ok, partial, failed,\n"
	  "running, interrupted), files and records read, loaded, quarantined, skipped.\n" },
	{ "provenance", cmd_provenance, "where CDM rows came from: file, record, message or document id",
	  "usage: omopipe provenance ID...\n"
	  "\n"
	  "For a CDM row's id (measurement_id, person_id ...): its site, the file and\n"
	  "the record in it (message, row or document: number, line, byte offset) that\n"
	  "wrote it last, and the record's own id where its sender gave one (HL7 v2\n"
	  "MSH-10 message control id, C-CDA ClinicalDocument/id as ROOT|EXTENSION).\n"
	  "Persons, visits and the health system are merged from every record that\n"
	  "names them. No patient data is printed. Exit 1 when an id is unknown.\n" },
	{ "quarantine", cmd_quarantine, "list, show or replay quarantined records",
	  "usage: omopipe quarantine list [--site SITE] [--run N] [--reason R] [--limit N]\n"
	  "       omopipe quarantine show ID [--raw]\n"
	  "       omopipe quarantine replay ID... [--from FILE]\n"
	  "\n"
	  "A record that cannot be loaded is kept with its site, file, position, reason\n"
	  "and a compressed copy of the raw record. `show --raw` prints the raw record\n"
	  "(patient data: to stdout only). `replay` loads it again through its extractor,\n"
	  "as it was (after a profile or mapping fix) or from a corrected copy (--from),\n"
	  "and marks it replayed when it loads.\n" },
	{ "generate", cmd_generate, "write a synthetic multi-vendor network of feeds (or the demo vocabulary)",
	  "usage: omopipe generate --patients N --sites K --out DIR [--seed S] [--error-rate R] [--zstd]\n"
	  "                        [--only FEED] [--file-records M]\n"
	  "       omopipe generate --vocab DIR\n"
	  "\n"
	  "Writes N synthetic patients per site for K sites (north, south, east, west,\n"
	  "site5 ...) as each site's vendor mix of feeds: HL7 v2 (epic, cerner dialects),\n"
	  "C-CDA CCDs (two vendor styles) and Synthea CSV (current and 2017 layouts), in\n"
	  "DIR/SITE/{hl7,ccda,csv}/..., with DIR/omopipe.conf (run it with\n"
	  "`omopipe -c DIR/omopipe.conf run`), DIR/SITE/sitemap.csv (the site's local\n"
	  "codes) and DIR/expected.json (records and broken records per site, feed, file).\n"
	  "Same options, same bytes.\n"
	  "\n"
	  "  --seed S          random seed (default 1)\n"
	  "  --error-rate R    fraction of records broken as real feeds break: truncated\n"
	  "                    messages, impossible dates, unknown code systems, malformed\n"
	  "                    XML, CSV rows with a wrong column count (default 0)\n"
	  "  --zstd            write .zst files\n"
	  "  --only FEED       every patient to one feed: hl7v2/epic, hl7v2/cerner,\n"
	  "                    ccda/vendor-a, ccda/vendor-b, csv/synthea, csv/synthea-2017\n"
	  "  --file-records M  HL7 messages per file (default 100000)\n"
	  "  --vocab DIR       write the demo vocabulary (Athena format) instead\n" },
	{ "config", cmd_config, "print the resolved configuration (secrets masked)",
	  "usage: omopipe config check\n"
	  "\n"
	  "Reads the configuration (defaults < -c FILE or $OMOPIPE_CONFIG < $OMOPIPE_*\n"
	  "environment < command-line flags), reports the first error with file:line,\n"
	  "and prints the result. Passwords are shown as *****.\n" },
	{ "map", cmd_map, "look a source code up: vocabulary, site map, 'Maps to', standard concept",
	  "usage: omopipe map CODE --system SYSTEM [--date YYYY-MM-DD] [--site S]\n"
	  "       omopipe map --batch FILE.csv [--site S] [--record]\n"
	  "\n"
	  "Builds the vocabulary index a run builds and prints the path of one lookup: the\n"
	  "system resolved to an OMOP vocabulary (mappings/code_systems.csv), the code\n"
	  "normalised (mappings/code_formats.csv), the site map, the source concept, the\n"
	  "replacements followed, 'Maps to' and 'Maps to value', and the standard concept(s)\n"
	  "with the domain that decides the CDM table.\n"
	  "\n"
	  "  --date D     event date: picks among site map rows and replacements by validity\n"
	  "  --site S     try the site's map (SOURCE_TO_CONCEPT_MAP) first\n"
	  "  --batch F    map every row of a CSV with columns system,code[,display][,date]\n"
	  "  --record     with --batch and --site: count the unmapped codes for `omopipe unmapped`\n" },
	{ "unmapped", cmd_unmapped, "write a site's unmapped codes as a Usagi-ready CSV",
	  "usage: omopipe unmapped --site S --out FILE.csv [--min-count N]\n"
	  "\n"
	  "Writes the codes of site S that did not map (counted by every run in\n"
	  "omopipe.unmapped_code), most frequent first, leaving out those its site map now\n"
	  "covers. Columns: source_system,source_code,source_name,frequency,target_concept_id,\n"
	  "reason. Fill target_concept_id (Usagi, a spreadsheet) and load the file back with\n"
	  "`omopipe sitemap load --site S FILE.csv`.\n" },
	{ "sitemap", cmd_sitemap, "load a site's code map into SOURCE_TO_CONCEPT_MAP",
	  "usage: omopipe sitemap load --site S [--replace] [FILE.csv ...]\n"
	  "       omopipe sitemap load --shipped\n"
	  "\n"
	  "Loads site map CSVs (header: source_system,source_code,target_concept_id; source_name,\n"
	  "valid_start_date, valid_end_date optional; rows without a target are skipped) into\n"
	  "SOURCE_TO_CONCEPT_MAP with source_vocabulary_id SITE:SYSTEM. Each code in the files\n"
	  "replaces that code's earlier rows; --replace also drops the site's other rows of\n"
	  "the code systems in the files. Without files: mappings/sites/S/*.csv. --shipped:\n"
	  "the shipped maps of every site. A bad row stops the load with file:line and the\n"
	  "reason, and the previous site map stays in force.\n" },
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: omopipe [OPTIONS] COMMAND [ARGS]\n"
	        "\n"
	        "omopipe turns a hospital network's EHR feeds (HL7 v2, C-CDA, CSV) into an OMOP\n"
	        "CDM v5.4 in PostgreSQL, every night, safely re-runnable.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\n"
	        "Options (anywhere before '--'):\n"
	        "  -c, --config FILE    configuration file (also $OMOPIPE_CONFIG)\n"
	        "      --data-dir DIR   data directory: embedded cluster, locks, reports\n"
	        "                       (also $OMOPIPE_DATA_DIR)\n"
	        "      --conninfo STR   libpq connection string; empty: embedded cluster\n"
	        "                       (also $OMOPIPE_CONNINFO; PG* variables apply too)\n"
	        "      --workers N      parallel file workers (also $OMOPIPE_WORKERS)\n"
	        "  -v, --verbose        debug messages;  -q, --quiet: errors only\n"
	        "  -h, --help           this help; `omopipe COMMAND --help` for a command\n"
	        "      --version        print the version\n"
	        "\n"
	        "Exit codes: 0 ok; 1 data rejected or DQ gate failed; 2 usage; 3 configuration;\n"
	        "4 database; 5 internal or I/O error.\n");
}

const struct cmd *cli_find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "omopipe: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'omopipe %s%s--help'\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

int cli_fail(const struct err *e)
{
	log_err(LOG_ERROR, e);
	return err_exit_code(e->code);
}

int cli_conf(struct cli *cli)
{
	struct err e = { 0 };
	if (cli->conf_loaded)
		return 0;
	if (conf_load(&cli->conf, &cli->flags, &e) < 0)
		return cli_fail(&e);
	cli->conf_loaded = 1;
	return 0;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int cli_help(const struct cmd *c)
{
	fputs(c->help, stdout);
	fputs("\nGlobal options (-c, --data-dir, --conninfo, --workers, -v, -q): see 'omopipe --help'.\n", stdout);
	return EXIT_OK;
}

/* Take "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL if it is not opt. */
static const char *take_value(int argc, char **argv, int *i, const char *lng, const char *shrt, int *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (*i + 1 >= argc) {
			*missing = 1;
			return NULL;
		}
		return argv[++*i];
	}
	if (strncmp(a, lng, n) == 0 && a[n] == '=')
		return a + n + 1;
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli cli;
	memset(&cli, 0, sizeof cli);
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0, passthrough = 0, rc;

	if (!rest)
		return EXIT_INTERNAL;
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int missing = 0;
		if (passthrough || strcmp(a, "--") == 0) {
			passthrough = 1;
			rest[nrest++] = argv[i];
			continue;
		}
		/* everything after `psql` belongs to psql */
		if (nrest == 1 && strcmp(a, "psql") == 0) {
			passthrough = 1;
			rest[nrest++] = argv[i];
			continue;
		}
		if ((v = take_value(argc, argv, &i, "--config", "-c", &missing)))
			cli.flags.config = v;
		else if ((v = take_value(argc, argv, &i, "--data-dir", NULL, &missing)))
			cli.flags.data_dir = v;
		else if ((v = take_value(argc, argv, &i, "--conninfo", NULL, &missing)))
			cli.flags.conninfo = v;
		else if ((v = take_value(argc, argv, &i, "--workers", NULL, &missing))) {
			char *end;
			long w = strtol(v, &end, 10);
			if (*end || w < 1 || w > 256) {
				rc = cli_usage(NULL, "--workers: expected a number from 1 to 256, got '%s'", v);
				goto out;
			}
			cli.flags.workers = (int)w;
		} else if (missing) {
			rc = cli_usage(NULL, "option %s needs a value", a);
			goto out;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			cli.flags.log_level = "debug";
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			cli.flags.log_level = "error";
		else if (strcmp(a, "--version") == 0 && nrest == 1) {
			printf("omopipe %s\n", omo_version());
			rc = EXIT_OK;
			goto out;
		} else
			rest[nrest++] = argv[i];
	}
	if (nrest < 2) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	const char *name = rest[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		const struct cmd *c = nrest > 2 ? cli_find(rest[2]) : NULL;
		if (c)
			rc = cli_help(c);
		else {
			usage(stdout);
			rc = EXIT_OK;
		}
		goto out;
	}
	if (name[0] == '-') {
		rc = cli_usage(NULL, "unknown option '%s'", name);
		goto out;
	}
	const struct cmd *c = cli_find(name);
	if (!c) {
		rc = cli_usage(NULL, "unknown command '%s'", name);
		goto out;
	}
	if (strcmp(name, "psql") != 0 && cli_wants_help(nrest - 1, rest + 1)) {
		rc = cli_help(c);
		goto out;
	}
	rc = c->fn(&cli, nrest - 1, rest + 1);
out:
	if (cli.conf_loaded)
		conf_free(&cli.conf);
	free(rest);
	return rc;
}
