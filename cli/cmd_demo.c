/*
 * cmd_demo.c - omopipe demo: the whole nightly job on generated feeds.
 *
 *   database (embedded unless configured) -> init -> demo vocabulary
 *   -> generate 3 sites x 1,000 patients in several vendors' dialects
 *      (DATA_DIR/demo/feeds) -> site code maps -> the nightly run over every
 *      site (extract, map, load, derived tables) -> what was loaded, what was
 *      quarantined, where to look next.
 *
 * The feeds are generated the same way every time (fixed seed): running the
 * demo again shows a re-run that changes nothing.
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/path.h"
#include "db/db.h"
#include "db/schema.h"
#include "db/vocab_load.h"
#include "etl/load/load.h"
#include "etl/map/map_sitemap.h"
#include "gen/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	uint64_t patients = 1000;
	int sites = 3, rc, created;
	struct err e = { 0 };
	PGconn *conn;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--patients") == 0 && i + 1 < argc)
			patients = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--sites") == 0 && i + 1 < argc)
			sites = atoi(argv[++i]);
		else
			return cli_usage("demo", "unexpected argument '%s'", argv[i]);
	}
	if (patients < 1 || sites < 1 || sites > 50)
		return cli_usage("demo", "--patients must be at least 1 and --sites from 1 to 50");
	double t0 = now();
	if ((rc = cli_connect(cli, &conn)) != 0)
		return rc;
	const struct conf *c = &cli->conf;
	printf("omopipe demo: database %s\n", c->conninfo[0] ? "as configured" : "embedded (omopipe db status tells where)");

	if (schema_init(conn, c, 0, &created, &e) < 0)
		goto fail;
	char vocab[4096];
	struct vocab_load_stats vs;
	if (path_share("mappings/demo-vocab", vocab, sizeof vocab, &e) < 0 || vocab_load(conn, c, vocab, &vs, &e) < 0)
		goto fail;
	uint64_t vrows = 0;
	for (int i = 0; i < vs.n; i++)
		vrows += vs.rows[i];
	printf("1. CDM v5.4 schema %s; demo vocabulary loaded (%llu rows)\n", created ? "created" : "in place",
	       (unsigned long long)vrows);

	char out[4096], conf_path[4200];
	snprintf(out, sizeof out, "%s/demo/feeds", c->data_dir);
	struct gen_opts go = { .patients = patients, .sites = sites, .out = out, .seed = 1, .error_rate = 0.01 };
	struct gen_totals gt;
	double g0 = now();
	if (gen_run(&go, &gt, &e) < 0)
		goto fail;
	printf("2. generated %llu patients at %d sites: %llu files, %llu records (%llu broken on purpose), %.1f MB in %.1f s\n   feeds in %s\n",
	       (unsigned long long)gt.patients, sites, (unsigned long long)gt.files, (unsigned long long)gt.records,
	       (unsigned long long)gt.broken, (double)gt.bytes_raw / 1e6, now() - g0, out);

	/* the generated configuration's sites, loaded into this configuration */
	struct conf gen;
	struct conf_flags gf = { 0 };
	snprintf(conf_path, sizeof conf_path, "%s/omopipe.conf", out);
	gf.config = conf_path;
	if (conf_load(&gen, &gf, &e) < 0)
		goto fail;
	log_set_level((enum log_level)log_parse_level(c->log_level)); /* conf_load set it from the generated file */
	struct map_sitemap_stats ms = { 0 };
	for (size_t i = 0; i < gen.nsites && rc == 0; i++) {
		char map[4400], *paths[1] = { map };
		snprintf(map, sizeof map, "%s/%s/sitemap.csv", out, gen.sites[i].id);
		if (map_sitemap_load(conn, c, gen.sites[i].id, paths, 1, 0, &ms, &e) < 0) {
			conf_free(&gen);
			goto fail;
		}
	}
	printf("3. site code maps loaded for %zu sites (local lab codes -> LOINC concepts)\n", gen.nsites);
	db_close(conn);
	conn = NULL;

	printf("4. the nightly run: every site's HL7 v2, C-CDA and CSV feeds -> CDM, then the derived tables\n");
	struct load_run *r;
	rc = load_open(&r, c, "demo", &e);
	for (size_t s = 0; rc == 0 && s < gen.nsites; s++)
		for (size_t f = 0; rc == 0 && f < gen.sites[s].nfeeds; f++)
			rc = load_add(r, &gen.sites[s], gen.sites[s].feeds[f].format, gen.sites[s].feeds[f].profile,
			              gen.sites[s].feeds[f].path, &e);
	struct load_totals t;
	rc = load_finish(r, rc, 1, &t, &e);
	conf_free(&gen);
	if (rc < 0)
		return cli_fail(&e);

	printf("\n   %llu files: %llu loaded, %llu unchanged since the last demo, %llu failed\n",
	       (unsigned long long)t.files, (unsigned long long)t.files_loaded,
	       (unsigned long long)t.files_unchanged, (unsigned long long)t.files_failed);
	printf("   records: %llu read = %llu loaded + %llu quarantined + %llu skipped\n",
	       (unsigned long long)t.read, (unsigned long long)t.loaded, (unsigned long long)t.quarantined,
	       (unsigned long long)t.skipped);
	if ((rc = cli_connect(cli, &conn)) != 0)
		return rc;
	char *sql = db_render(c,
		"SELECT t, n FROM (VALUES "
		"('person', (SELECT count(*) FROM @cdm.person)), "
		"('visit_occurrence', (SELECT count(*) FROM @cdm.visit_occurrence)), "
		"('condition_occurrence', (SELECT count(*) FROM @cdm.condition_occurrence)), "
		"('drug_exposure', (SELECT count(*) FROM @cdm.drug_exposure)), "
		"('procedure_occurrence', (SELECT count(*) FROM @cdm.procedure_occurrence)), "
		"('measurement', (SELECT count(*) FROM @cdm.measurement)), "
		"('observation', (SELECT count(*) FROM @cdm.observation)), "
		"('death', (SELECT count(*) FROM @cdm.death)), "
		"('payer_plan_period', (SELECT count(*) FROM @cdm.payer_plan_period)), "
		"('cost', (SELECT count(*) FROM @cdm.cost)), "
		"('observation_period', (SELECT count(*) FROM @cdm.observation_period)), "
		"('condition_era', (SELECT count(*) FROM @cdm.condition_era)), "
		"('drug_era', (SELECT count(*) FROM @cdm.drug_era))) v(t, n) WHERE n > 0");
	PGresult *res;
	if (db_exec_params(conn, sql, 0, NULL, &res, &e) == 0) {
		printf("\n   the CDM now holds:\n");
		for (int i = 0; i < PQntuples(res); i++)
			printf("     %-22s %10s rows\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		PQclear(res);
	}
	free(sql);
	sql = db_render(c, "SELECT s.site_id, q.reason, count(*) FROM @omopipe.quarantine q JOIN @omopipe.site s USING (site_no) "
	                   "WHERE q.replayed_run_id IS NULL GROUP BY 1, 2 ORDER BY 1, 2");
	if (db_exec_params(conn, sql, 0, NULL, &res, &e) == 0) {
		if (PQntuples(res))
			printf("\n   quarantined (kept with reason, position and the raw record):\n");
		for (int i = 0; i < PQntuples(res); i++)
			printf("     %-8s %-14s %6s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		PQclear(res);
	}
	free(sql);
	db_close(conn);
	printf("\ndone in %.0f s. Next:\n"
	       "  omopipe runs                          the run ledger\n"
	       "  omopipe quarantine list               what could not be loaded, and why\n"
	       "  omopipe unmapped --site north --out unmapped.csv   codes to map (Usagi-ready)\n"
	       "  omopipe psql                          the CDM itself (schemas %s, %s, %s)\n",
	       now() - t0, c->schema_cdm, c->schema_results, c->schema_omopipe);
	return t.files_failed ? EXIT_DATA : EXIT_OK;
fail:
	if (conn)
		db_close(conn);
	return cli_fail(&e);
}
