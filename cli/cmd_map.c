/*
 * cmd_map.c - omopipe map: look codes up the way the pipeline does.
 *
 *   omopipe map CODE --system SYSTEM [--date YYYY-MM-DD] [--site S]
 *       the path of one lookup: system -> vocabulary, normalised code, site
 *       map, source concept, replacements, 'Maps to', standard concept(s)
 *       with domain, value concept
 *   omopipe map --batch FILE [--site S] [--record]
 *       every row of a CSV (system,code[,display][,date]) -> one result line;
 *       --record adds the unmapped ones to @omopipe.unmapped_code for the site
 *
 * Both build the same in-memory index the nightly run builds.
 */
#include "cli/cli.h"
#include "core/csvtok.h"
#include "core/date.h"
#include "core/mem.h"
#include "db/db.h"
#include "etl/map/map.h"
#include "etl/map/map_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *status_text(uint8_t s)
{
	switch (s) {
	case MAP_MAPPED: return "mapped";
	case MAP_NO_STANDARD: return "no standard concept";
	case MAP_UNKNOWN_CODE: return "unknown code";
	case MAP_UNKNOWN_SYSTEM: return "unknown code system";
	case MAP_INVALID_CODE: return "invalid code (fails the vocabulary's pattern)";
	default: return "empty code";
	}
}

/* "id 'name' (VOCAB code, standard, valid a..b, invalid X)" from the database. */
static void describe(PGconn *conn, const struct conf *c, int32_t id, char *out, size_t n)
{
	char ids[16];
	snprintf(ids, sizeof ids, "%d", id);
	const char *vals[] = { ids };
	char *q = db_render(c, "SELECT concept_name, vocabulary_id, concept_code, domain_id, coalesce(standard_concept, '-'), "
	                       "valid_start_date, valid_end_date, coalesce(invalid_reason, '') FROM @cdm.concept WHERE concept_id = $1::int");
	PGresult *r = NULL;
	struct err e = { 0 };
	if (db_exec_params(conn, q, 1, vals, &r, &e) == 0 && PQntuples(r) == 1) {
		const char *inv = PQgetvalue(r, 0, 7);
		snprintf(out, n, "%d '%s' (%s %s, %s, %s%s, valid %s..%s%s%s)", id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
		         PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
		         PQgetvalue(r, 0, 4)[0] == 'S' ? "standard" : PQgetvalue(r, 0, 4)[0] == 'C' ? "classification" : "non-standard",
		         "", PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6), inv[0] ? ", invalid_reason " : "", inv);
	} else
		snprintf(out, n, "%d", id);
	if (r)
		PQclear(r);
	free(q);
}

static int parse_day(const char *s, int32_t *day)
{
	struct dt d;
	if (dt_parse_iso(span_of(s), DT_TZ_KEEP, &d) < 0 || d.prec < DT_DAY)
		return -1;
	*day = d.day;
	return 0;
}

static void print_one(PGconn *conn, const struct conf *c, const struct map_index *ix, const struct code *code,
                      const char *site, int32_t day)
{
	struct map_result res;
	struct map_trace tr;
	char d[700];
	map_code_ex(ix, NULL, site, code, day, &res, &tr);
	printf("system:       %.*s -> %s\n", (int)code->system.n, code->system.p,
	       tr.vocab_resolved == 1 ? tr.syskey : tr.vocab_resolved == 2 ? "local code system (site maps only)" : "unknown code system");
	printf("code:         %.*s", (int)code->code.n, code->code.p);
	if (tr.ncand) {
		printf(" -> %s", tr.norm[0]);
		for (int k = 1; k < tr.ncand; k++)
			printf(" | %s", tr.norm[k]);
	}
	printf("\n");
	if (tr.site_ns[0] || tr.site_hit)
		printf("site map:     %s: %s\n", tr.site_ns[0] ? tr.site_ns : tr.syskey,
		       tr.site_hit == 1 ? "found (overrides the vocabulary)" : tr.site_hit == 2 ? "no entry; global entry found" : "no entry");
	if (tr.source_id) {
		describe(conn, c, tr.source_id, d, sizeof d);
		printf("source:       %s\n", d);
	} else
		printf("source:       not in the vocabulary%s\n", tr.valid == 0 ? " (fails the vocabulary's code pattern)" : "");
	for (int k = 0; k < tr.nchain; k++) {
		describe(conn, c, tr.chain[k], d, sizeof d);
		printf("replaced by:  %s\n", d);
	}
	for (int k = 0; k < tr.nmaps; k++) {
		describe(conn, c, tr.maps_to[k], d, sizeof d);
		printf("maps to:      %s\n", d);
	}
	for (int k = 0; k < tr.nvalues; k++) {
		describe(conn, c, tr.values[k], d, sizeof d);
		printf("maps to value: %s\n", d);
	}
	if (tr.out_of_dates)
		printf("dates:        the event date is outside the source concept's validity\n");
	printf("result:       %s\n", status_text(res.status));
	for (int k = 0; k < res.n; k++) {
		if (!res.t[k].concept_id)
			continue;
		describe(conn, c, res.t[k].concept_id, d, sizeof d);
		printf("standard:     %s -> %s table\n", d, map_domain_name(res.t[k].domain));
		if (res.t[k].value_concept_id) {
			describe(conn, c, res.t[k].value_concept_id, d, sizeof d);
			printf("value:        %s\n", d);
		}
	}
	printf("source_concept_id: %d\n", res.source_concept_id);
}

static int run_batch(PGconn *conn, const struct conf *c, const struct map_index *ix, const char *path, const char *site,
                     int record, struct err *e)
{
	struct csvtok t;
	int rc = csvtok_open(&t, path, ',', '"', 1 << 20, e);
	if (rc < 0)
		return rc;
	if ((rc = csvtok_next(&t, e)) <= 0) {
		csvtok_close(&t);
		return rc < 0 ? rc : err_set(e, E_INPUT, "%s: empty, expected a header (system,code[,display][,date])", path);
	}
	int ks = -1, kc = -1, kd = -1, kt = -1;
	for (size_t i = 0; i < t.nf; i++) {
		struct span h = span_trim(t.f[i]);
		if (span_ieq_str(h, "system") || span_ieq_str(h, "source_system")) ks = (int)i;
		else if (span_ieq_str(h, "code") || span_ieq_str(h, "source_code")) kc = (int)i;
		else if (span_ieq_str(h, "display") || span_ieq_str(h, "source_name")) kd = (int)i;
		else if (span_ieq_str(h, "date")) kt = (int)i;
	}
	if (ks < 0 || kc < 0) {
		csvtok_close(&t);
		return err_set(e, E_INPUT, "%s:1: the header needs the columns system and code", path);
	}
	struct map_stats *st = record ? map_stats_new() : NULL;
	printf("system,code,status,source_concept_id,concept_id,domain,value_concept_id,flags\n");
	while ((rc = csvtok_next(&t, e)) > 0) {
		struct code code = { (size_t)ks < t.nf ? t.f[ks] : SPAN_NULL, (size_t)kc < t.nf ? t.f[kc] : SPAN_NULL,
		                     kd >= 0 && (size_t)kd < t.nf ? t.f[kd] : SPAN_NULL };
		int32_t day = INT32_MIN;
		if (kt >= 0 && (size_t)kt < t.nf && t.f[kt].n) {
			struct dt d;
			if (dt_parse_iso(span_trim(t.f[kt]), DT_TZ_KEEP, &d) == 0)
				day = d.day;
		}
		struct map_result res;
		map_code(ix, st, site, &code, day, &res);
		const char *reason = map_status_reason(res.status);
		for (int k = 0; k < res.n; k++)
			printf("%.*s,%.*s,%s,%d,%d,%s,%d,%s%s%s%s\n", (int)code.system.n, code.system.p, (int)code.code.n, code.code.p,
			       reason, res.source_concept_id, res.t[k].concept_id, map_domain_name(res.t[k].domain),
			       res.t[k].value_concept_id, res.flags & MAPR_SITE_MAP ? "site_map " : "",
			       res.flags & MAPR_REPLACED ? "replaced " : "", res.flags & MAPR_OUT_OF_DATES ? "out_of_dates " : "",
			       res.flags & MAPR_NORMALISED ? "normalised" : "");
	}
	csvtok_close(&t);
	if (rc == 0 && st)
		rc = map_stats_flush(st, conn, c, 0, e);
	map_stats_free(st);
	return rc;
}

int cmd_map(struct cli *cli, int argc, char **argv)
{
	const char *code = NULL, *system = NULL, *date = NULL, *site = NULL, *batch = NULL;
	int record = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = strcmp(a, "--system") == 0 ? &system : strcmp(a, "--date") == 0 ? &date :
		                   strcmp(a, "--site") == 0 ? &site : strcmp(a, "--batch") == 0 ? &batch : NULL;
		if (dst) {
			if (i + 1 >= argc)
				return cli_usage("map", "%s needs a value", a);
			*dst = argv[++i];
		} else if (strcmp(a, "--record") == 0)
			record = 1;
		else if (a[0] == '-' && a[1])
			return cli_usage("map", "unknown option '%s'", a);
		else if (!code)
			code = a;
		else
			return cli_usage("map", "unexpected argument '%s'", a);
	}
	if (batch && code)
		return cli_usage("map", "give either CODE --system SYSTEM or --batch FILE");
	if (!batch && (!code || !system))
		return cli_usage("map", "expected CODE --system SYSTEM (or --batch FILE)");
	if (record && (!batch || !site))
		return cli_usage("map", "--record needs --batch and --site");
	if (site && !conf_valid_site_id(site))
		return cli_usage("map", "'%s' is not a valid site id", site);
	int32_t day = INT32_MIN;
	if (date && parse_day(date, &day) < 0)
		return cli_usage("map", "--date: expected YYYY-MM-DD, got '%s'", date);

	PGconn *conn;
	int rc = cli_connect_ready(cli, &conn);
	if (rc)
		return rc;
	struct err e = { 0 };
	struct map_index *ix;
	if (map_index_build(&ix, conn, &cli->conf, &e) < 0) {
		db_close(conn);
		return cli_fail(&e);
	}
	if (batch)
		rc = run_batch(conn, &cli->conf, ix, batch, site, record, &e);
	else {
		struct code c = { span_of(system), span_of(code), SPAN_NULL };
		print_one(conn, &cli->conf, ix, &c, site, day);
	}
	map_index_free(ix);
	db_close(conn);
	return rc < 0 ? cli_fail(&e) : EXIT_OK;
}
