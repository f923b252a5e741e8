/*
 * file.c - input files into the CDM, a transaction at a time.
 *
 *   hash -> BEGIN
 *   for each file of the group:
 *     claim it in @omopipe.source_file (unchanged: skip it; a new version:
 *     remove the rows of the old one) -> extractor -> sink -> batches (ids.c)
 *     -> accounting: read = loaded + quarantined + skipped
 *   -> merge staged persons/visits/... (merge.c) -> quarantine rows -> a
 *   ledger row per file -> COMMIT
 *
 * A group is one file, or several small files of the same site and feed (a
 * night's C-CDA documents), which then share the transaction's fixed costs.
 * Each file is still all or nothing: should one of a group fail, the group is
 * rolled back and its files are loaded one by one. Killed at any instant, the
 * open transaction is rolled back by the server and the next run loads those
 * files again: the CDM never holds part of a file.
 */
#include "etl/load/load_int.h"
#include "core/io.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

static int q(struct worker *w, const char *sql, int n, const char *const *vals, PGresult **res, struct err *e)
{
	char *s = db_render(w->run->conf, sql);
	int rc = db_exec_params(w->conn, s, n, vals, res, e);
	free(s);
	return rc;
}

static struct extractor *extractor_for(struct worker *w, const struct job *j, const struct extract_ops **ops, struct err *e)
{
	for (int i = 0; i < w->nxc; i++)
		if (w->xc[i].site == j->site && strcmp(w->xc[i].ops->format, j->format) == 0 &&
		    strcmp(w->xc[i].profile, j->profile) == 0) {
			*ops = w->xc[i].ops;
			return w->xc[i].x;
		}
	const struct extract_ops *o = extract_find(j->format);
	if (!o) {
		err_set(e, E_CONFIG, "no extractor for format '%s'", j->format);
		return NULL;
	}
	struct extractor *x;
	if (o->open(&x, j->profile, j->site, e) < 0)
		return NULL;
	if (w->nxc == (int)(sizeof w->xc / sizeof *w->xc)) {
		w->nxc--;
		w->xc[w->nxc].ops->close(w->xc[w->nxc].x);
	}
	w->xc[w->nxc++] = (struct xcache){ o, j->site, j->profile, x };
	*ops = o;
	return x;
}

/* Record a file's outcome in its own little transaction (after a rollback). */
static void record_outcome(struct worker *w, const struct job *j, const char *hash, const char *status, const char *msg)
{
	char run[24], site[16];
	struct err e2 = { 0 };
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	snprintf(site, sizeof site, "%d", j->site_no);
	struct buf text = BUF_INIT; /* the message as text: it may name the file (not UTF-8) */
	if (msg)
		buf_utf8(&text, span_of(msg));
	const char *vals[] = { run, site, j->db_path, hash, j->format, j->profile, status, msg ? (text.p ? text.p : "") : NULL };
	if (q(w, "INSERT INTO @omopipe.run_file (run_id, site_no, path, content_hash, format, profile, status, message, finished_at) "
	         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (run_id, site_no, path) DO UPDATE "
	         "SET status = EXCLUDED.status, message = EXCLUDED.message, finished_at = now()",
	      8, vals, NULL, &e2) < 0)
		log_err(LOG_WARN, &e2);
	buf_free(&text);
}

/* Remove what the previous version of this file loaded. */
static int remove_old_version(struct worker *w, int64_t file_id, struct err *e)
{
	char fid[24], run[24];
	snprintf(fid, sizeof fid, "%lld", (long long)file_id);
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	const char *vals[] = { fid, run };
	int rc = 0;
	for (int t = T_FIRST_EVENT; t < T__COUNT && rc == 0; t++) {
		char sql[800];
		int np = 2;
		if (t == T_COST) { /* no person_id: nobody's derived tables change */
			snprintf(sql, sizeof sql, "DELETE FROM @cdm.%s t USING @omopipe.id_map m "
			         "WHERE m.file_id = $1::bigint AND m.kind = %d AND t.%s = m.id",
			         load_tables[t].name, KC_EVENT, load_tables[t].id_col);
			np = 1;
		} else
			snprintf(sql, sizeof sql,
			         "WITH d AS (DELETE FROM @cdm.%s t USING @omopipe.id_map m "
			         "WHERE m.file_id = $1::bigint AND m.kind = %d AND t.%s = m.id RETURNING t.person_id) "
			         "INSERT INTO @omopipe.touched_person (run_id, person_id) "
			         "SELECT DISTINCT $2::bigint, person_id FROM d ON CONFLICT DO NOTHING",
			         load_tables[t].name, KC_EVENT, load_tables[t].id_col);
		rc = q(w, sql, np, vals, NULL, e);
	}
	if (rc == 0)
		rc = q(w, "DELETE FROM @omopipe.quarantine WHERE file_id = $1::bigint AND replayed_run_id IS NULL", 1, vals, NULL, e);
	if (rc == 0)
		rc = q(w, "DELETE FROM @omopipe.source_record WHERE file_id = $1::bigint", 1, vals, NULL, e);
	return rc;
}

/* COPY the rows in b into @omopipe.table (cols). */
static int copy_own(struct worker *w, const char *table, const char *cols, const struct buf *b, struct err *e)
{
	if (!b->n)
		return 0;
	char sql[512];
	snprintf(sql, sizeof sql, "COPY %s.%s (%s) FROM STDIN", w->run->conf->schema_omopipe, table, cols);
	struct span data = span_make(b->p, b->n);
	return db_copy_data(w->conn, sql, table, &data, 1, e);
}

static int touched_persons(struct worker *w, struct filectx *f, struct err *e)
{
	struct buf ids = BUF_INIT;
	buf_putc(&ids, '{');
	for (size_t i = 0; i < f->keys.n; i++) {
		if (f->keys.v[i].cls != KC_PERSON)
			continue;
		if (ids.n > 1)
			buf_putc(&ids, ',');
		buf_i64(&ids, f->keys.v[i].id);
	}
	buf_putc(&ids, '}');
	int rc = 0;
	if (ids.n > 2) {
		char run[24];
		snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
		const char *vals[] = { run, ids.p };
		rc = q(w, "INSERT INTO @omopipe.touched_person (run_id, person_id) "
		          "SELECT $1::bigint, unnest($2::bigint[]) ON CONFLICT DO NOTHING", 2, vals, NULL, e);
	}
	buf_free(&ids);
	return rc;
}

static int write_ledger(struct worker *w, const struct file_done *d, struct err *e)
{
	const struct job *j = d->j;
	struct buf rows = BUF_INIT, skips = BUF_INIT, notes = BUF_INIT;
	buf_putc(&rows, '{');
	int first = 1;
	for (int t = 0; t < T__COUNT; t++) {
		if (!d->rows[t])
			continue;
		buf_printf(&rows, "%s\"%s\": %llu", first ? "" : ", ", load_tables[t].name, (unsigned long long)d->rows[t]);
		first = 0;
	}
	buf_putc(&rows, '}');
	reasons_json(&d->skips, &skips);
	reasons_json(&d->notes, &notes);
	char run[24], site[16], fid[24], nr[24], nl[24], nq[24], ns[24], t0[32], t1[32];
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	snprintf(site, sizeof site, "%d", j->site_no);
	snprintf(fid, sizeof fid, "%lld", (long long)d->file_id);
	snprintf(nr, sizeof nr, "%llu", (unsigned long long)d->read);
	snprintf(nl, sizeof nl, "%llu", (unsigned long long)d->loaded);
	snprintf(nq, sizeof nq, "%llu", (unsigned long long)d->quarantined);
	snprintf(ns, sizeof ns, "%llu", (unsigned long long)d->skipped);
	snprintf(t0, sizeof t0, "%.6f", d->t0);
	snprintf(t1, sizeof t1, "%.6f", d->t1);
	const char *vals[] = { run, site, j->db_path, fid, d->hash, j->format, j->profile, nr, nl, nq, ns, rows.p, skips.p, notes.p, t0, t1 };
	int rc = q(w, "INSERT INTO @omopipe.run_file (run_id, site_no, path, file_id, content_hash, format, profile, status, "
	              "records_read, records_loaded, records_quarantined, records_skipped, rows_per_table, skipped_per_reason, "
	              "notes_per_reason, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'loaded', $8, $9, $10, $11, $12, $13, $14, "
	              "to_timestamp($15::float8), to_timestamp($16::float8)) "
	              "ON CONFLICT (run_id, site_no, path) DO UPDATE SET status = 'loaded', file_id = EXCLUDED.file_id, "
	              "records_read = EXCLUDED.records_read, records_loaded = EXCLUDED.records_loaded, "
	              "records_quarantined = EXCLUDED.records_quarantined, records_skipped = EXCLUDED.records_skipped, "
	              "rows_per_table = EXCLUDED.rows_per_table, skipped_per_reason = EXCLUDED.skipped_per_reason, "
	              "notes_per_reason = EXCLUDED.notes_per_reason, message = NULL, started_at = EXCLUDED.started_at, "
	              "finished_at = EXCLUDED.finished_at",
	           16, vals, NULL, e);
	buf_free(&rows);
	buf_free(&skips);
	buf_free(&notes);
	return rc;
}

/* A new transaction: empty batch state. */
static void filectx_reset(struct worker *w, const struct job *j, struct file_done *done)
{
	struct filectx *f = &w->f;
	f->w = w;
	f->conn = w->conn;
	f->conn_ids = w->conn_ids;
	f->conf = w->run->conf;
	f->site = j->site;
	f->site_no = j->site_no;
	f->run_id = w->run->run_id;
	f->format = j->format;
	f->profile = j->profile;
	f->ix = w->run->ix;
	f->mst = w->mst;
	f->zctx = w->zctx;
	f->done = done;
	f->gi = 0;
	keytab_clear(&f->keys);
	for (int t = 0; t < T__COUNT; t++)
		pend_reset(&f->pend[t]);
	f->ord = 0;
	f->staged = 0;
	f->correcting = 0;
	f->flushes = 0;
	f->in_record = 0;
	f->nrr = 0;
	f->nops = 0;
	buf_reset(&f->quar);
	buf_reset(&f->prov);
	filectx_sink_init(f);
}

/* The next file of the group: its own id, path and counters. */
static void filectx_file(struct filectx *f, int gi)
{
	struct file_done *d = &f->done[gi];
	f->gi = gi;
	f->file_id = d->file_id;
	f->path = d->j->path;
	f->db_path = d->j->db_path;
	buf_reset(&f->context);
	d->read = d->loaded = d->quarantined = d->skipped = 0;
	memset(d->rows, 0, sizeof d->rows);
	d->skips.n = 0;
	d->notes.n = 0;
}

static double wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Is this a conflict with a concurrent transaction that a retry resolves? */
static int retryable(const struct err *e)
{
	return strstr(e->msg, "40P01") || strstr(e->msg, "40001") || strstr(e->msg, "23505");
}

/* Claim file d in the ledger: unchanged (*unchanged = 1), or its file_id,
 * after removing what an earlier version of it loaded. */
static int claim(struct worker *w, struct file_done *d, struct err *e)
{
	const struct job *j = d->j;
	char site[16], sz[24], run[24];
	PGresult *r;
	int rc;
	snprintf(site, sizeof site, "%d", j->site_no);
	snprintf(sz, sizeof sz, "%llu", (unsigned long long)d->size);
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	d->unchanged = 0;
	const char *v1[] = { site, j->db_path };
	if ((rc = q(w, "SELECT file_id, content_hash FROM @omopipe.source_file WHERE site_no = $1 AND path = $2 FOR UPDATE", 2, v1, &r, e)) < 0)
		return rc;
	if (PQntuples(r) == 1) {
		d->file_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		d->unchanged = strcmp(PQgetvalue(r, 0, 1), d->hash) == 0;
		PQclear(r);
		if (d->unchanged)
			return 0;
		log_info("%s: changed since it was loaded: replacing its rows", j->path);
		if ((rc = remove_old_version(w, d->file_id, e)) < 0)
			return rc;
		char fid[24];
		snprintf(fid, sizeof fid, "%lld", (long long)d->file_id);
		const char *v2[] = { fid, d->hash, sz, j->format, j->profile, run };
		return q(w, "UPDATE @omopipe.source_file SET content_hash = $2, size_bytes = $3, format = $4, profile = $5, "
		            "loaded_run_id = $6, loaded_at = now() WHERE file_id = $1", 6, v2, NULL, e);
	}
	PQclear(r);
	const char *v2[] = { site, j->db_path, d->hash, sz, j->format, j->profile, run };
	if ((rc = q(w, "INSERT INTO @omopipe.source_file (site_no, path, content_hash, size_bytes, format, profile, loaded_run_id) "
	               "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING file_id", 7, v2, &r, e)) < 0)
		return rc;
	d->file_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* Load the group's files in one transaction. On error, e names the file. */
static int load_attempt(struct worker *w, struct file_done *done, int n, struct err *e)
{
	int rc;
	if ((rc = db_exec(w->conn, "BEGIN", e)) < 0)
		return rc;
	filectx_reset(w, done[0].j, done);
	struct filectx *f = &w->f;
	int any = 0;
	for (int i = 0; i < n; i++) {
		struct file_done *d = &done[i];
		const struct job *j = d->j;
		d->t0 = wall();
		if ((rc = claim(w, d, e)) < 0)
			goto fail_file;
		if (d->unchanged)
			continue;
		any = 1;
		filectx_file(f, i);
		const struct extract_ops *ops;
		struct extractor *x = extractor_for(w, j, &ops, e);
		if (!x) {
			rc = -e->code;
			goto fail_file;
		}
		if ((rc = ops->run(x, j->path, &f->base, e)) < 0)
			goto fail_file;
		if (f->in_record) {
			rc = err_set(e, E_INTERNAL, "the %s extractor left a record open", j->format);
			goto fail_file;
		}
		if (d->read != d->loaded + d->quarantined + d->skipped) {
			rc = err_set(e, E_ACCOUNTING, "records read %llu != loaded %llu + quarantined %llu + skipped %llu",
			             (unsigned long long)d->read, (unsigned long long)d->loaded,
			             (unsigned long long)d->quarantined, (unsigned long long)d->skipped);
			goto fail_file;
		}
		d->t1 = wall();
		continue;
fail_file:
		if (!e->pos.file[0])
			err_pos_file(&e->pos, j->path);
		goto fail;
	}
	if (!any)
		return db_exec(w->conn, "ROLLBACK", e);
	if ((rc = ids_flush(f, e)) < 0 ||
	    (rc = merge_staged(w, f, e)) < 0 ||
	    (rc = touched_persons(w, f, e)) < 0 ||
	    (rc = copy_own(w, "quarantine", "run_id, site_no, file_id, path, record_no, line_no, byte_offset, position, "
	                   "reason, message, format, profile, raw_zst", &f->quar, e)) < 0 ||
	    (rc = copy_own(w, "source_record", "file_id, record_no, line_no, byte_offset, source_id", &f->prov, e)) < 0)
		goto fail;
	for (int i = 0; i < n; i++)
		if (!done[i].unchanged && (rc = write_ledger(w, &done[i], e)) < 0)
			goto fail;
	return db_exec(w->conn, "COMMIT", e);
fail:
	db_exec(w->conn, "ROLLBACK", NULL);
	return rc;
}

/* Load the group with retries for conflicts with concurrent loads. */
static int load_group(struct worker *w, struct file_done *done, int n, struct err *e)
{
	int rc;
	for (int attempt = 0;; attempt++) {
		err_clear(e);
		rc = load_attempt(w, done, n, e);
		if (rc == 0 || attempt >= 8 || !retryable(e))
			return rc;
		log_debug("%s: a key conflict (a concurrent load, or an event taken as new that was not), retrying (%s)", done[0].j->path, e->msg);
		/* the other transaction is finishing: give it a moment, a little more each time */
		struct timespec ts = { 0, (long)(20 + 40 * attempt + (rand() % 20)) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void count_done(struct worker *w, const struct file_done *d)
{
	w->tot.files++;
	if (d->unchanged) {
		w->tot.files_unchanged++;
		record_outcome(w, d->j, d->hash, "unchanged", NULL);
		log_debug("%s: unchanged since its last load, skipped", d->j->path);
		return;
	}
	w->tot.files_loaded++;
	w->tot.bytes += d->size;
	w->tot.read += d->read;
	w->tot.loaded += d->loaded;
	w->tot.quarantined += d->quarantined;
	w->tot.skipped += d->skipped;
	for (int t = 0; t < T__COUNT; t++)
		w->tot.rows[t] += d->rows[t];
	log_debug("%s: %llu records: %llu loaded, %llu quarantined, %llu skipped", d->j->path,
	          (unsigned long long)d->read, (unsigned long long)d->loaded,
	          (unsigned long long)d->quarantined, (unsigned long long)d->skipped);
}

/* A file that failed alone: log and record it. 0, or rc when the connection is gone. */
static int count_failed(struct worker *w, const struct file_done *d, int rc, struct err *e)
{
	w->tot.files++;
	w->tot.files_failed++;
	if (!e->pos.file[0])
		err_pos_file(&e->pos, d->j->path);
	log_err(LOG_ERROR, e);
	if (PQstatus(w->conn) == CONNECTION_BAD)
		return rc; /* the run cannot go on */
	record_outcome(w, d->j, d->hash, "failed", e->msg);
	return 0;
}

int file_load(struct worker *w, const struct job *jobs, int n, struct err *e)
{
	struct file_done *done = xcalloc((size_t)n, sizeof *done);
	int rc = 0, m = 0;

	for (int i = 0; i < n; i++) {
		struct hash128 h;
		struct file_done *d = &done[m];
		d->j = &jobs[i];
		if (io_hash_file(jobs[i].path, &h, &d->size, e) < 0) {
			log_err(LOG_ERROR, e);
			record_outcome(w, &jobs[i], "", "failed", e->msg);
			w->tot.files++;
			w->tot.files_failed++;
			continue;
		}
		hash128_hex(h, d->hash);
		m++;
	}
	if (m && (rc = load_group(w, done, m, e)) == 0) {
		for (int i = 0; i < m; i++)
			count_done(w, &done[i]);
	} else if (m == 1) {
		rc = count_failed(w, &done[0], rc, e);
	} else if (m > 1) {
		/* one of the group failed: each file alone, so only that one fails */
		if (PQstatus(w->conn) == CONNECTION_BAD) {
			log_err(LOG_ERROR, e);
		} else {
			rc = 0;
			for (int i = 0; i < m && rc == 0; i++) {
				struct file_done one = done[i];
				memset(&one.skips, 0, sizeof one.skips);
				memset(&one.notes, 0, sizeof one.notes);
				int r1 = load_group(w, &one, 1, e);
				if (r1 == 0)
					count_done(w, &one);
				else
					rc = count_failed(w, &one, r1, e);
				reasons_free(&one.skips);
				reasons_free(&one.notes);
			}
		}
	}
	for (int i = 0; i < n; i++) {
		reasons_free(&done[i].skips);
		reasons_free(&done[i].notes);
	}
	free(done);
	return rc;
}
