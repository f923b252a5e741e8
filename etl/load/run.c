/*
 * run.c - a run: sites, their locks, the file queue, the workers, the ledger.
 *
 * Files are processed by N worker threads (conf workers), each with its own
 * connection, extractor instances and mapping statistics; the vocabulary index
 * is built once and shared read-only. Each site of the run is locked with a
 * session advisory lock on the run's main connection: a second omopipe for the
 * same site stops at once, other sites proceed; a killed process releases its
 * locks with its connection.
 */
#include "etl/load/load.h"
#include "etl/load/load_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"
#include "db/db.h"
#include "db/schema.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define SITE_LOCK_CLASS 7012002

static int qmain(struct load_run *r, const char *sql, int n, const char *const *vals, PGresult **res, struct err *e)
{
	char *s = db_render(r->conf, sql);
	int rc = db_exec_params(r->conn, s, n, vals, res, e);
	free(s);
	return rc;
}

int load_open(struct load_run **out, const struct conf *c, const char *command, struct err *e)
{
	struct load_run *r = xcalloc(1, sizeof *r);
	int rc;
	r->conf = c;
	arena_init(&r->arena, 64 * 1024);
	pthread_mutex_t *m = xmalloc(sizeof *m);
	pthread_mutex_init(m, NULL);
	r->lock = m;
	*out = r;
	if ((rc = db_connect(c, &r->conn, e)) < 0)
		return rc;
	if ((rc = schema_check(r->conn, c, e)) < 0 || (rc = ids_check_tables(r->conn, c, e)) < 0)
		return rc;
	/* runs that died without closing: their main connection is gone */
	qmain(r, "UPDATE @omopipe.run SET status = 'interrupted', finished_at = now() WHERE status = 'running' "
	         "AND backend_pid NOT IN (SELECT pid FROM pg_stat_activity)", 0, NULL, NULL, NULL);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	const char *vals[] = { command, host, omo_version() };
	PGresult *res;
	if ((rc = qmain(r, "INSERT INTO @omopipe.run (command, host, backend_pid, omopipe_version) "
	                   "VALUES ($1, $2, pg_backend_pid(), $3) RETURNING run_id", 3, vals, &res, e)) < 0)
		return rc;
	r->run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	r->tot.run_id = r->run_id;
	if ((rc = map_index_build(&r->ix, r->conn, c, e)) < 0)
		return rc;
	r->mst = map_stats_new();
	return 0;
}

/* The site's number, registering the site on first use. */
static int site_number(struct load_run *r, const struct conf_site *s, int *no, struct err *e)
{
	PGresult *res;
	const char *v[] = { s->id, s->name };
	int rc = qmain(r, "SELECT site_no FROM @omopipe.site WHERE site_id = $1", 1, v, &res, e);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = qmain(r, "WITH l AS (SELECT pg_advisory_xact_lock(7012003)) "
		              "INSERT INTO @omopipe.site (site_no, site_id, name) "
		              "SELECT coalesce(max(site_no), 0) + 1, $1, $2 FROM @omopipe.site, l "
		              "ON CONFLICT (site_id) DO UPDATE SET name = EXCLUDED.name RETURNING site_no", 2, v, &res, e);
		if (rc < 0)
			return rc;
		log_info("site %s registered", s->id);
	}
	*no = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static int lock_site(struct load_run *r, int no, const char *id, struct err *e)
{
	for (int i = 0; i < r->nlocked; i++)
		if (r->locked_sites[i] == no)
			return 0;
	if (r->nlocked == (int)(sizeof r->locked_sites / sizeof *r->locked_sites))
		return err_set(e, E_USAGE, "too many sites in one run");
	char cls[16], obj[16], buf[16];
	snprintf(cls, sizeof cls, "%d", SITE_LOCK_CLASS);
	snprintf(obj, sizeof obj, "%d", no);
	const char *v[] = { cls, obj };
	int rc = db_query_value(r->conn, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, v, buf, sizeof buf, e);
	if (rc < 0)
		return rc;
	if (strcmp(buf, "t") != 0) {
		char who[64] = "";
		db_query_value(r->conn, "SELECT coalesce(string_agg(DISTINCT a.client_hostname || ' pid ' || l.pid, ', '), '') "
		                        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
		                        "WHERE l.locktype = 'advisory' AND l.classid = $1::int AND l.objid = $2::int AND l.granted",
		               2, v, who, sizeof who, NULL);
		return err_set(e, E_LOCKED, "site %s is being loaded by another omopipe run (database backend %s); try again when it has finished",
		               id, who[0] ? who : "unknown");
	}
	r->locked_sites[r->nlocked++] = no;
	return 0;
}

/* path as text the database holds: itself, or (a file name not in UTF-8)
 * with \xHH for each byte that starts no valid character (buf_utf8), the
 * same each night, so that the file is still known when it comes again. */
static const char *db_path(struct arena *a, const char *path)
{
	if (span_utf8_valid(span_of(path)))
		return path;
	struct buf t = BUF_INIT;
	buf_utf8(&t, span_of(path));
	const char *o = arena_strdup(a, t.p);
	buf_free(&t);
	return o;
}

static void add_job(struct load_run *r, const struct conf_site *s, int no, const char *fmt, const char *prof, const char *path, uint64_t size)
{
	if (r->njobs == r->capjobs) {
		r->capjobs = r->capjobs ? r->capjobs * 2 : 64;
		r->jobs = xrealloc(r->jobs, mem_mul(r->capjobs, sizeof *r->jobs));
	}
	char *p = arena_strdup(&r->arena, path);
	r->jobs[r->njobs++] = (struct job){ s, no, fmt, prof, p, size, db_path(&r->arena, p) };
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Files under dir (recursively) that the extractor wants, sorted. */
static int walk(struct load_run *r, const struct extract_ops *ops, struct extractor *x, const char *dir,
                const struct conf_site *s, int no, const char *fmt, const char *prof, struct err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, E_INPUT, "cannot read folder %s", dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, mem_mul(cap, sizeof *names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n) /* an empty folder: no names, and qsort of NULL is undefined */
		qsort(names, n, sizeof *names, cmp_str);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char full[4096];
		struct stat st;
		if (rc == 0 && path_join(full, sizeof full, dir, names[i]) == 0 && stat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = walk(r, ops, x, full, s, no, fmt, prof, e);
			else if (S_ISREG(st.st_mode) && ops->wants(x, full))
				add_job(r, s, no, fmt, prof, full, (uint64_t)st.st_size);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int load_add(struct load_run *r, const struct conf_site *s, const char *format, const char *profile,
             const char *path, struct err *e)
{
	const struct extract_ops *ops = extract_find(format);
	if (!ops)
		return err_set(e, E_USAGE, "unknown format '%s' (known: csv, hl7v2, ccda)", format);
	if (!profile || !*profile)
		profile = ops->default_profile;
	int no, rc;
	if ((rc = site_number(r, s, &no, e)) < 0 || (rc = lock_site(r, no, s->id, e)) < 0)
		return rc;
	/* the profile must load now: a broken profile is a configuration error before any work */
	struct extractor *x;
	if ((rc = ops->open(&x, profile, s, e)) < 0)
		return rc;
	const char *fmt = arena_strdup(&r->arena, format), *prof = arena_strdup(&r->arena, profile);
	char abs[4096];
	if (path_absolute(path, abs, sizeof abs) < 0)
		rc = err_set(e, E_INPUT, "path too long: %s", path);
	else if (path_is_dir(abs))
		rc = walk(r, ops, x, abs, s, no, fmt, prof, e);
	else if (path_is_file(abs)) {
		struct stat st;
		stat(abs, &st);
		add_job(r, s, no, fmt, prof, abs, (uint64_t)st.st_size);
	} else
		rc = err_set(e, E_INPUT, "%s: no such file or folder", path);
	ops->close(x);
	return rc;
}

/* Small files of one site and feed share a transaction: up to GROUP_FILES
 * files under GROUP_FILE_BYTES each, GROUP_BYTES in all. */
#define GROUP_FILES 64
#define GROUP_FILE_BYTES (256u << 10)
#define GROUP_BYTES (8u << 20)

static int same_feed(const struct job *a, const struct job *b)
{
	return a->site == b->site && strcmp(a->format, b->format) == 0 && strcmp(a->profile, b->profile) == 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct load_run *r = w->run;
	pthread_mutex_t *m = r->lock;
	for (;;) {
		pthread_mutex_lock(m);
		if (r->stop || r->next >= r->njobs) {
			pthread_mutex_unlock(m);
			break;
		}
		const struct job *j = &r->jobs[r->next++];
		int n = 1;
		uint64_t bytes = j->size;
		while (j->size < GROUP_FILE_BYTES && n < GROUP_FILES && r->next < r->njobs) {
			const struct job *k = &r->jobs[r->next];
			if (!same_feed(j, k) || k->size >= GROUP_FILE_BYTES || bytes + k->size > GROUP_BYTES)
				break;
			bytes += k->size;
			r->next++;
			n++;
		}
		pthread_mutex_unlock(m);
		struct err e = { 0 };
		int rc = file_load(w, j, n, &e);
		if (rc < 0) {
			pthread_mutex_lock(m);
			if (!r->stop) {
				r->stop = 1;
				r->stop_err = e;
			}
			pthread_mutex_unlock(m);
			break;
		}
	}
	return NULL;
}

static void sum_totals(struct load_totals *into, const struct load_totals *t)
{
	into->files += t->files;
	into->files_loaded += t->files_loaded;
	into->files_unchanged += t->files_unchanged;
	into->files_failed += t->files_failed;
	into->read += t->read;
	into->loaded += t->loaded;
	into->quarantined += t->quarantined;
	into->skipped += t->skipped;
	into->bytes += t->bytes;
	for (int i = 0; i < T__COUNT; i++)
		into->rows[i] += t->rows[i];
}

int load_exec(struct load_run *r, struct err *e)
{
	int n = r->conf->workers;
	struct timespec t0, t1;
	if ((size_t)n > r->njobs)
		n = r->njobs ? (int)r->njobs : 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct worker *ws = xcalloc((size_t)n, sizeof *ws);
	pthread_t *th = xcalloc((size_t)n, sizeof *th);
	int rc = 0, started = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct worker *w = &ws[i];
		w->run = r;
		w->idx = i;
		w->mst = map_stats_new();
		w->zctx = ZSTD_createCCtx();
		keytab_init(&w->f.keys);
		if ((rc = db_connect(r->conf, &w->conn, e)) < 0)
			break;
		if ((rc = ids_prepare(w->conn, r->conf, e)) < 0)
			break;
		if ((rc = db_connect(r->conf, &w->conn_ids, e)) < 0 || (rc = ids_prepare(w->conn_ids, r->conf, e)) < 0)
			break;
		if ((rc = merge_prepare(w, e)) < 0)
			break;
		started++;
	}
	if (rc == 0) {
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, worker_main, &ws[i]);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < n; i++) {
		struct worker *w = &ws[i];
		sum_totals(&r->tot, &w->tot);
		if (w->mst) {
			map_stats_merge(r->mst, w->mst);
			map_stats_free(w->mst);
		}
		for (int k = 0; k < w->nxc; k++)
			w->xc[k].ops->close(w->xc[k].x);
		keytab_free(&w->f.keys);
		for (int t = 0; t < T__COUNT; t++)
			pend_free(&w->f.pend[t]);
		free(w->f.rr);
		free(w->f.ops);
		buf_free(&w->f.quar);
		buf_free(&w->f.prov);
		buf_free(&w->f.context);
		if (w->zctx)
			ZSTD_freeCCtx(w->zctx);
		db_close(w->conn);
		db_close(w->conn_ids);
		merge_free(w);
	}
	(void)started;
	free(ws);
	free(th);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->tot.seconds += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc < 0)
		return rc;
	if (r->stop) {
		*e = r->stop_err;
		return -e->code;
	}
	return map_stats_flush(r->mst, r->conn, r->conf, r->run_id, e);
}

void load_totals(const struct load_run *r, struct load_totals *t)
{
	*t = r->tot;
	t->ntables = T__COUNT;
	for (int i = 0; i < T__COUNT; i++)
		t->table[i] = load_tables[i].name;
}

void load_close(struct load_run *r, int failed)
{
	if (!r)
		return;
	if (r->conn && r->run_id) {
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)r->run_id);
		const char *v[] = { id, failed ? "failed" : r->tot.files_failed ? "partial" : "ok" };
		qmain(r, "UPDATE @omopipe.run SET status = $2, finished_at = now() WHERE run_id = $1", 2, v, NULL, NULL);
	}
	if (r->ix)
		map_index_free(r->ix);
	if (r->mst)
		map_stats_free(r->mst);
	db_close(r->conn);
	pthread_mutex_destroy(r->lock);
	free(r->lock);
	free(r->jobs);
	arena_free(&r->arena);
	free(r);
}

int load_finish(struct load_run *r, int rc, int derive, struct load_totals *t, struct err *e)
{
	if (rc == 0)
		rc = load_exec(r, e);
	if (rc == 0 && derive)
		rc = load_derive(r, e);
	load_totals(r, t);
	load_close(r, rc < 0);
	return rc;
}
