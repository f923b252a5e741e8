/* cmd_etl.c - omopipe etl (one site's files) and omopipe run (every configured site). */
#include "cli/cli.h"
#include "core/log.h"
#include "etl/extract/extract.h"
#include "etl/load/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print what a run loaded; the exit code it deserves. */
static int report(const struct load_totals *t)
{
	printf("run %lld: %llu file(s): %llu loaded, %llu unchanged, %llu failed\n", (long long)t->run_id,
	       (unsigned long long)t->files, (unsigned long long)t->files_loaded,
	       (unsigned long long)t->files_unchanged, (unsigned long long)t->files_failed);
	printf("records: %llu read = %llu loaded + %llu quarantined + %llu skipped\n",
	       (unsigned long long)t->read, (unsigned long long)t->loaded,
	       (unsigned long long)t->quarantined, (unsigned long long)t->skipped);
	uint64_t rows = 0;
	for (int i = 0; i < t->ntables; i++)
		if (t->rows[i]) {
			printf("  %-22s %12llu rows\n", t->table[i], (unsigned long long)t->rows[i]);
			rows += t->rows[i];
		}
	if (t->seconds > 0 && t->files_loaded)
		printf("%.1f s, %.0f records/s, %.0f rows/s, %.1f MB/s\n", t->seconds, (double)t->read / t->seconds,
		       (double)rows / t->seconds, (double)t->bytes / 1e6 / t->seconds);
	if (t->quarantined)
		printf("quarantined records: omopipe quarantine list --run %lld\n", (long long)t->run_id);
	return t->files_failed ? EXIT_DATA : EXIT_OK;
}

static int finish(struct load_run *r, int rc, struct err *e, int derive)
{
	struct load_totals t;
	if (load_finish(r, rc, derive, &t, e) < 0)
		return cli_fail(e);
	return report(&t);
}

int cmd_etl(struct cli *cli, int argc, char **argv)
{
	const char *site_id = NULL, *format = NULL, *profile = NULL;
	int derive = 1, rc, nfiles = 0;
	char **files = calloc((size_t)argc, sizeof *files);
	struct err e = { 0 };

	if (!files)
		return EXIT_INTERNAL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--site") == 0 || strcmp(a, "--format") == 0 || strcmp(a, "--profile") == 0) && i + 1 < argc) {
			const char **dst = a[2] == 's' ? &site_id : a[2] == 'f' ? &format : &profile;
			*dst = argv[++i];
		} else if (strcmp(a, "--no-derive") == 0) {
			derive = 0;
		} else if (a[0] == '-' && a[1]) {
			free(files);
			return cli_usage("etl", "unknown option '%s'", a);
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (!site_id) {
		free(files);
		return cli_usage("etl", "--site is required");
	}
	if (!conf_valid_site_id(site_id)) {
		free(files);
		return cli_usage("etl", "--site '%s': a site id is 1-32 characters of a-z, 0-9, '_', '-'", site_id);
	}
	if (format && !extract_find(format)) {
		free(files);
		return cli_usage("etl", "--format '%s': expected csv, hl7v2 or ccda", format);
	}
	if ((rc = cli_conf(cli)) != 0) {
		free(files);
		return rc;
	}
	const struct conf_site *site = conf_site(&cli->conf, site_id);
	if (!site) {
		if (!format || !nfiles) {
			free(files);
			fprintf(stderr, "omopipe: etl: site '%s' is not configured: give --format (and --profile) and the files to load, or add [site %s] to the configuration\n", site_id, site_id);
			return EXIT_CONFIG;
		}
		site = conf_add_site(&cli->conf, site_id);
	}
	if (nfiles && !format) {
		/* the site's own format when it has only one */
		for (size_t i = 0; i < site->nfeeds; i++) {
			if (format && strcmp(format, site->feeds[i].format) != 0) {
				free(files);
				return cli_usage("etl", "site %s has feeds of several formats: give --format", site_id);
			}
			format = site->feeds[i].format;
			if (!profile)
				profile = site->feeds[i].profile;
		}
		if (!format) {
			free(files);
			return cli_usage("etl", "give --format for these files");
		}
	}
	if (!nfiles && !site->nfeeds) {
		free(files);
		fprintf(stderr, "omopipe: etl: site %s has no feeds configured; give the files to load\n", site_id);
		return EXIT_CONFIG;
	}
	struct load_run *r;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "etl --site %s", site_id);
	rc = load_open(&r, &cli->conf, cmd, &e);
	for (int i = 0; rc == 0 && i < nfiles; i++)
		rc = load_add(r, site, format, profile, files[i], &e);
	for (size_t i = 0; rc == 0 && !nfiles && i < site->nfeeds; i++)
		rc = load_add(r, site, site->feeds[i].format, site->feeds[i].profile, site->feeds[i].path, &e);
	free(files);
	return finish(r, rc, &e, derive);
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct err e = { 0 };
	int rc;
	for (int i = 1; i < argc; i++)
		return cli_usage("run", "unexpected argument '%s'", argv[i]);
	if ((rc = cli_conf(cli)) != 0)
		return rc;
	if (!cli->conf.nsites) {
		fprintf(stderr, "omopipe: run: no sites configured: add [site NAME] sections with 'feed = FORMAT PROFILE PATH' lines to the configuration (see conf/omopipe.conf.example)\n");
		return EXIT_CONFIG;
	}
	struct load_run *r;
	rc = load_open(&r, &cli->conf, "run", &e);
	for (size_t s = 0; rc == 0 && s < cli->conf.nsites; s++) {
		const struct conf_site *site = &cli->conf.sites[s];
		for (size_t i = 0; rc == 0 && i < site->nfeeds; i++)
			rc = load_add(r, site, site->feeds[i].format, site->feeds[i].profile, site->feeds[i].path, &e);
	}
	return finish(r, rc, &e, 1);
}
