/*
 * map_sitemap.c - site maps in (SOURCE_TO_CONCEPT_MAP) and unmapped codes out
 * (Usagi-ready CSV). See map_sitemap.h.
 */
#include "etl/map/map_sitemap.h"
#include "etl/map/map_internal.h"
#include "core/csvtok.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"
#include "db/db.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* mappings/sites/SITE/ *.csv, sorted; 0 files is not an error here. */
static int shipped_files(const char *site, char ***out, int *n, struct err *e)
{
	char dir[4096], rel[600];
	snprintf(rel, sizeof rel, "mappings/sites/%s", site);
	*out = NULL;
	*n = 0;
	if (path_share(rel, dir, sizeof dir, NULL) < 0 || !path_is_dir(dir))
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, E_INPUT, "cannot read %s", dir);
	struct dirent *de;
	int cap = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcasecmp(de->d_name + l - 4, ".csv") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, mem_mul((size_t)cap, sizeof **out));
		}
		char full[4400];
		path_join(full, sizeof full, dir, de->d_name);
		(*out)[(*n)++] = xstrdup(full);
	}
	closedir(d);
	if (*n)
		qsort(*out, (size_t)*n, sizeof **out, cmp_str);
	return 0;
}

static void free_list(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int row_fail(struct err *e, const char *path, uint64_t line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int row_fail(struct err *e, const char *path, uint64_t line, const char *fmt, ...)
{
	char m[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	err_set(e, E_INPUT, "%s:%llu: %s; the site map was not changed", path, (unsigned long long)line, m);
	err_pos_file(&e->pos, path);
	e->pos.line = line;
	return -E_INPUT;
}

static int col_of(const struct csvtok *t, const char *const *names)
{
	for (size_t i = 0; i < t->nf; i++)
		for (int k = 0; names[k]; k++)
			if (span_ieq_str(span_trim(t->f[i]), names[k]))
				return (int)i;
	return -1;
}

static struct span field(const struct csvtok *t, int k)
{
	return k >= 0 && (size_t)k < t->nf ? span_trim(t->f[k]) : SPAN_NULL;
}

/* Parse one file into COPY rows for the staging table. */
static int parse_file(const struct map_rules *r, const char *site, const char *path, int file_no, struct buf *b,
                      struct map_sitemap_stats *st, struct err *e)
{
	static const char *const c_sys[] = { "source_system", "source_vocabulary_id", "sourcesystem", NULL };
	static const char *const c_code[] = { "source_code", "sourcecode", NULL };
	static const char *const c_name[] = { "source_name", "sourcename", "source_code_description", NULL };
	static const char *const c_tgt[] = { "target_concept_id", "targetconceptid", "conceptid", NULL };
	static const char *const c_start[] = { "valid_start_date", NULL };
	static const char *const c_end[] = { "valid_end_date", NULL };
	struct csvtok t;
	int rc = csvtok_open(&t, path, ',', '"', 1 << 20, e);
	if (rc < 0)
		return rc;
	if ((rc = csvtok_next(&t, e)) <= 0) {
		csvtok_close(&t);
		return rc < 0 ? row_fail(e, path, t.line, "%s", e->msg) : row_fail(e, path, 1, "empty file, expected a header");
	}
	int ks = col_of(&t, c_sys), kc = col_of(&t, c_code), kn = col_of(&t, c_name), kt = col_of(&t, c_tgt);
	int k0 = col_of(&t, c_start), k1 = col_of(&t, c_end);
	if (ks < 0 || kc < 0 || kt < 0) {
		csvtok_close(&t);
		return row_fail(e, path, t.line, "the header needs source_system, source_code and target_concept_id");
	}
	while ((rc = csvtok_next(&t, e)) > 0) {
		uint64_t line = t.line;
		struct span sys = field(&t, ks), code = field(&t, kc), name = field(&t, kn), tgt = field(&t, kt);
		int64_t target;
		if (!tgt.n || span_eq_str(tgt, "0")) {
			st->skipped++;
			continue;
		}
		if (span_to_i64(tgt, &target) < 0 || target <= 0 || target > INT32_MAX) {
			csvtok_close(&t);
			return row_fail(e, path, line, "target_concept_id '%.*s' is not a concept id", (int)(tgt.n > 20 ? 20 : tgt.n), tgt.p);
		}
		if (!sys.n) {
			csvtok_close(&t);
			return row_fail(e, path, line, "source_system is empty");
		}
		if (!code.n) {
			csvtok_close(&t);
			return row_fail(e, path, line, "source_code is empty");
		}
		char key[64];
		size_t kl;
		int nm = map_rules_system(r, sys, key, sizeof key, &kl);
		char cand[MAP_MAX_CANDIDATES][MAP_CODE_MAX];
		size_t clen[MAP_MAX_CANDIDATES];
		int k = map_normalise(r, nm, code, cand, clen);
		if (k == 0 || clen[0] > 50) {
			csvtok_close(&t);
			return row_fail(e, path, line, "source_code is longer than 50 characters");
		}
		if (name.n > 255) {
			name.n = 255;
			while (name.n && ((unsigned char)name.p[name.n] & 0xC0) == 0x80)
				name.n--;
		}
		if (!span_utf8_valid(name) || !span_utf8_valid(sys)) {
			csvtok_close(&t);
			return row_fail(e, path, line, "invalid UTF-8");
		}
		char d0[11] = "1970-01-01", d1[11] = "2099-12-31";
		struct span ds[2] = { field(&t, k0), field(&t, k1) };
		for (int j = 0; j < 2; j++) {
			struct dt d;
			if (!ds[j].n)
				continue;
			if (dt_parse_iso(ds[j], DT_TZ_KEEP, &d) < 0 || d.prec < DT_DAY) {
				csvtok_close(&t);
				return row_fail(e, path, line, "%s '%.*s' is not a date", j ? "valid_end_date" : "valid_start_date",
				                (int)(ds[j].n > 20 ? 20 : ds[j].n), ds[j].p);
			}
			dt_fmt_date(d.day, j ? d1 : d0);
		}
		char ns[21];
		map_site_ns(site, key, kl, ns);
		copy_i64(b, file_no, 0);
		copy_i64(b, (int64_t)line, 0);
		copy_str(b, ns, 0);
		copy_field(b, span_make(key, kl), 0);
		copy_field(b, span_make(cand[0], clen[0]), 0);
		if (name.n)
			copy_field(b, name, 0);
		else
			copy_null(b, 0);
		copy_i64(b, target, 0);
		copy_str(b, d0, 0);
		copy_str(b, d1, 1);
		buf_putc(b, '\n');
		st->rows++;
	}
	csvtok_close(&t);
	if (rc < 0)
		return row_fail(e, path, t.line, "%s", e->msg);
	st->files++;
	return 0;
}

static int exec_count(PGconn *conn, const struct conf *c, const char *sql, uint64_t *n, struct err *e)
{
	char *q = db_render(c, sql);
	PGresult *res;
	int rc = db_exec_params(conn, q, 0, NULL, &res, e);
	free(q);
	if (rc < 0)
		return rc;
	if (n)
		*n = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

int map_sitemap_load(PGconn *conn, const struct conf *c, const char *site, char **paths, int npaths, int replace,
                     struct map_sitemap_stats *st, struct err *e)
{
	struct map_rules r;
	char **shipped = NULL;
	int nshipped = 0, rc;
	struct buf b = BUF_INIT;

	memset(st, 0, sizeof *st);
	if (!conf_valid_site_id(site))
		return err_set(e, E_USAGE, "'%s' is not a valid site id ([a-z0-9_-], at most 32 characters)", site);
	if (npaths == 0) {
		if ((rc = shipped_files(site, &shipped, &nshipped, e)) < 0)
			return rc;
		if (!nshipped)
			return err_set(e, E_INPUT, "no site map files given and none shipped in mappings/sites/%s/", site);
		paths = shipped;
		npaths = nshipped;
	}
	if ((rc = map_rules_load(&r, c, e)) < 0)
		goto out;
	for (int i = 0; i < npaths && rc == 0; i++)
		rc = parse_file(&r, site, paths[i], i, &b, st, e);
	map_rules_free(&r);
	if (rc < 0)
		goto out;

	if ((rc = db_exec(conn, "BEGIN; CREATE TEMP TABLE omo_sitemap_tmp (file_no int, line bigint, ns text, syskey text, "
	                        "code text, name text, target int, start_date date, end_date date) ON COMMIT DROP", e)) < 0)
		goto out;
	struct db_copy cp;
	if ((rc = db_copy_begin(&cp, conn, "COPY omo_sitemap_tmp FROM STDIN", "omo_sitemap_tmp", e)) < 0)
		goto rollback;
	if (b.n && PQputCopyData(conn, b.p, (int)b.n) != 1) {
		rc = db_error(conn, NULL, "COPY into omo_sitemap_tmp", e);
		db_copy_abort(&cp);
		goto rollback;
	}
	if ((rc = db_copy_end(&cp, e)) < 0)
		goto rollback;
	/* every target must be a valid standard concept */
	{
		char *q = db_render(c,
		        "SELECT file_no, line, target, why FROM (SELECT t.file_no, t.line, t.target, CASE "
		        "WHEN x.concept_id IS NULL THEN 'is not in the vocabulary (@cdm.concept)' "
		        "WHEN x.invalid_reason IS NOT NULL THEN 'is deprecated (invalid_reason ' || x.invalid_reason || ')' "
		        "WHEN x.standard_concept IS DISTINCT FROM 'S' THEN 'is not a standard concept' END AS why "
		        "FROM omo_sitemap_tmp t LEFT JOIN @cdm.concept x ON x.concept_id = t.target) s "
		        "WHERE why IS NOT NULL ORDER BY file_no, line LIMIT 1");
		PGresult *res;
		rc = db_exec_params(conn, q, 0, NULL, &res, e);
		free(q);
		if (rc < 0)
			goto rollback;
		if (PQntuples(res) == 1) {
			int fno = atoi(PQgetvalue(res, 0, 0));
			rc = row_fail(e, paths[fno], strtoull(PQgetvalue(res, 0, 1), NULL, 10), "target_concept_id %s %s",
			              PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
			PQclear(res);
			goto rollback;
		}
		PQclear(res);
	}
	rc = exec_count(conn, c, replace ?
	        "DELETE FROM @cdm.source_to_concept_map WHERE source_vocabulary_id IN (SELECT DISTINCT ns FROM omo_sitemap_tmp)" :
	        "DELETE FROM @cdm.source_to_concept_map s USING (SELECT DISTINCT ns, code FROM omo_sitemap_tmp) t "
	        "WHERE s.source_vocabulary_id = t.ns AND s.source_code = t.code", &st->replaced, e);
	if (rc < 0)
		goto rollback;
	rc = exec_count(conn, c,
	        "INSERT INTO @cdm.source_to_concept_map (source_code, source_concept_id, source_vocabulary_id, "
	        "source_code_description, target_concept_id, target_vocabulary_id, valid_start_date, valid_end_date, invalid_reason) "
	        "SELECT DISTINCT ON (t.ns, t.code, t.target, t.start_date) t.code, coalesce(sc.concept_id, 0), t.ns, t.name, "
	        "t.target, x.vocabulary_id, t.start_date, t.end_date, NULL "
	        "FROM omo_sitemap_tmp t JOIN @cdm.concept x ON x.concept_id = t.target "
	        "LEFT JOIN @cdm.concept sc ON sc.vocabulary_id = t.syskey AND sc.concept_code = t.code "
	        "ORDER BY t.ns, t.code, t.target, t.start_date, t.file_no DESC, t.line DESC", &st->rows, e);
	if (rc < 0)
		goto rollback;
	if ((rc = db_exec(conn, "COMMIT", e)) < 0)
		goto out;
	goto out;
rollback:
	db_exec(conn, "ROLLBACK", NULL);
out:
	buf_free(&b);
	free_list(shipped, nshipped);
	return rc;
}

int map_sitemap_load_shipped(PGconn *conn, const struct conf *c, struct map_sitemap_stats *st, struct err *e)
{
	char dir[4096];
	memset(st, 0, sizeof *st);
	if (path_share("mappings/sites", dir, sizeof dir, NULL) < 0 || !path_is_dir(dir))
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, E_INPUT, "cannot read %s", dir);
	char **sites = NULL;
	int n = 0, cap = 0, rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char full[4400];
		if (de->d_name[0] == '.' || !conf_valid_site_id(de->d_name))
			continue;
		path_join(full, sizeof full, dir, de->d_name);
		if (!path_is_dir(full))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			sites = xrealloc(sites, mem_mul((size_t)cap, sizeof *sites));
		}
		sites[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(sites, (size_t)n, sizeof *sites, cmp_str);
	for (int i = 0; i < n && rc == 0; i++) {
		struct map_sitemap_stats one;
		char **files;
		int nf;
		if ((rc = shipped_files(sites[i], &files, &nf, e)) < 0 || nf == 0)
			continue;
		rc = map_sitemap_load(conn, c, sites[i], files, nf, 0, &one, e);
		free_list(files, nf);
		if (rc == 0) {
			st->rows += one.rows;
			st->skipped += one.skipped;
			st->replaced += one.replaced;
			st->files += one.files;
			log_info("site %s: %llu shipped site map rows loaded", sites[i], (unsigned long long)one.rows);
		}
	}
	free_list(sites, n);
	return rc;
}

/* ------------------------------------------------------------ export */

static void csv_field(FILE *f, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	fputc(last ? '\n' : ',', f);
}

int map_unmapped_export(PGconn *conn, const struct conf *c, const char *site, const char *out, uint64_t min_count,
                        uint64_t *rows, struct err *e)
{
	char minc[32];
	snprintf(minc, sizeof minc, "%llu", (unsigned long long)min_count);
	const char *vals[] = { site, minc };
	char *q = db_render(c, "SELECT source_system, source_code, coalesce(source_name, ''), record_count, coalesce(reason, '') "
	                       "FROM @omopipe.unmapped_code WHERE site_id = $1 AND record_count >= $2::bigint "
	                       "ORDER BY record_count DESC, source_system, source_code");
	PGresult *res;
	int rc = db_exec_params(conn, q, 2, vals, &res, e);
	free(q);
	if (rc < 0)
		return rc;
	int n = PQntuples(res);

	/* codes the site map already covers */
	struct arena a;
	struct strtab done;
	arena_init(&a, 16 * 1024);
	strtab_init(&done, &a);
	if (n) {
		struct buf arr = BUF_INIT;
		buf_putc(&arr, '{');
		struct strtab seen;
		strtab_init(&seen, &a);
		for (int i = 0; i < n; i++) {
			const char *sys = PQgetvalue(res, i, 0);
			if (strtab_get(&seen, sys, strlen(sys)) >= 0)
				continue;
			strtab_put(&seen, sys, strlen(sys), 1);
			char ns[21];
			map_site_ns(site, sys, strlen(sys), ns);
			if (arr.n > 1)
				buf_putc(&arr, ',');
			buf_putc(&arr, '"');
			for (const char *p = ns; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_putc(&arr, '\\');
				buf_putc(&arr, *p);
			}
			buf_putc(&arr, '"');
		}
		buf_putc(&arr, '}');
		strtab_free(&seen);
		const char *v2[] = { arr.p };
		q = db_render(c, "SELECT source_vocabulary_id, source_code FROM @cdm.source_to_concept_map "
		                 "WHERE source_vocabulary_id = ANY($1::text[]) AND target_concept_id <> 0");
		PGresult *r2;
		rc = db_exec_params(conn, q, 1, v2, &r2, e);
		free(q);
		buf_free(&arr);
		if (rc < 0) {
			PQclear(res);
			strtab_free(&done);
			arena_free(&a);
			return rc;
		}
		for (int i = 0; i < PQntuples(r2); i++) {
			char k[200];
			int kn = snprintf(k, sizeof k, "%s\x1f%s", PQgetvalue(r2, i, 0), PQgetvalue(r2, i, 1));
			if (kn > 0 && (size_t)kn < sizeof k)
				strtab_put(&done, k, (size_t)kn, 1);
		}
		PQclear(r2);
	}

	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = err_set(e, E_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	fputs("source_system,source_code,source_name,frequency,target_concept_id,reason\n", f);
	*rows = 0;
	for (int i = 0; i < n; i++) {
		const char *sys = PQgetvalue(res, i, 0), *code = PQgetvalue(res, i, 1);
		char ns[21], k[200];
		map_site_ns(site, sys, strlen(sys), ns);
		int kn = snprintf(k, sizeof k, "%s\x1f%s", ns, code);
		if (kn > 0 && (size_t)kn < sizeof k && strtab_get(&done, k, (size_t)kn) >= 0)
			continue;
		csv_field(f, sys, 0);
		csv_field(f, code, 0);
		csv_field(f, PQgetvalue(res, i, 2), 0);
		csv_field(f, PQgetvalue(res, i, 3), 0);
		csv_field(f, "", 0);
		csv_field(f, PQgetvalue(res, i, 4), 1);
		(*rows)++;
	}
	if (fclose(f) != 0 || rename(tmp, out) != 0) {
		rc = err_set(e, E_IO, "cannot write %s: %s", out, strerror(errno));
		remove(tmp);
	}
done:
	PQclear(res);
	strtab_free(&done);
	arena_free(&a);
	return rc;
}
