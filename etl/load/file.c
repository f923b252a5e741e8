/*
 * file.c - one input file, one transaction.
 *
 *   hash -> unchanged? record and stop
 *   BEGIN; claim the file in @omopipe.source_file (a new version removes the
 *   rows of the old one) -> extractor -> sink -> batches (ids.c)
 *   -> merge staged persons/visits/... (sql/load_merge.sql) -> quarantine rows
 *   -> accounting: read = loaded + quarantined + skipped -> ledger -> COMMIT
 *
 * Killed at any instant, the transaction is rolled back by the server and the
 * next run loads the file again from scratch: the CDM never holds part of a file.
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
	const char *vals[] = { run, site, j->path, hash, j->format, j->profile, status, msg };
	if (q(w, "INSERT INTO @omopipe.run_file (run_id, site_no, path, content_hash, format, profile, status, message, finished_at) "
	         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (run_id, site_no, path) DO UPDATE "
	         "SET status = EXCLUDED.status, message = EXCLUDED.message, finished_at = now()",
	      8, vals, NULL, &e2) < 0)
		log_err(LOG_WARN, &e2);
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
		snprintf(sql, sizeof sql,
		         "WITH d AS (DELETE FROM @cdm.%s t USING @omopipe.id_map m "
		         "WHERE m.file_id = $1::bigint AND m.kind = %d AND t.%s = m.id RETURNING t.person_id) "
		         "INSERT INTO @omopipe.touched_person (run_id, person_id) "
		         "SELECT DISTINCT $2::bigint, person_id FROM d ON CONFLICT DO NOTHING",
		         load_tables[t].name, KC_EVENT, load_tables[t].id_col);
		rc = q(w, sql, 2, vals, NULL, e);
	}
	if (rc == 0)
		rc = q(w, "DELETE FROM @omopipe.quarantine WHERE file_id = $1::bigint AND replayed_run_id IS NULL", 1, vals, NULL, e);
	return rc;
}

static int copy_quarantine(struct worker *w, struct filectx *f, struct err *e)
{
	if (!f->quar.n)
		return 0;
	char sql[512];
	snprintf(sql, sizeof sql, "COPY %s.quarantine (run_id, site_no, file_id, path, record_no, line_no, byte_offset, "
	         "position, reason, message, format, profile, raw_zst) FROM STDIN", w->run->conf->schema_omopipe);
	struct db_copy cp;
	int rc = db_copy_begin(&cp, w->conn, sql, "quarantine", e);
	if (rc < 0)
		return rc;
	if (PQputCopyData(w->conn, f->quar.p, (int)f->quar.n) != 1) {
		db_copy_abort(&cp);
		return db_error(w->conn, NULL, "COPY quarantine", e);
	}
	return db_copy_end(&cp, e);
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

static int write_ledger(struct worker *w, const struct job *j, struct filectx *f, const char *hash, struct err *e)
{
	struct buf rows = BUF_INIT, skips = BUF_INIT, notes = BUF_INIT;
	buf_putc(&rows, '{');
	int first = 1;
	for (int t = 0; t < T__COUNT; t++) {
		if (!f->rows[t])
			continue;
		buf_printf(&rows, "%s\"%s\": %llu", first ? "" : ", ", load_tables[t].name, (unsigned long long)f->rows[t]);
		first = 0;
	}
	buf_putc(&rows, '}');
	reasons_json(&f->skips, &skips);
	reasons_json(&f->notes, &notes);
	char run[24], site[16], fid[24], nr[24], nl[24], nq[24], ns[24];
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	snprintf(site, sizeof site, "%d", j->site_no);
	snprintf(fid, sizeof fid, "%lld", (long long)f->file_id);
	snprintf(nr, sizeof nr, "%llu", (unsigned long long)f->read);
	snprintf(nl, sizeof nl, "%llu", (unsigned long long)f->loaded);
	snprintf(nq, sizeof nq, "%llu", (unsigned long long)f->quarantined);
	snprintf(ns, sizeof ns, "%llu", (unsigned long long)f->skipped);
	const char *vals[] = { run, site, j->path, fid, hash, j->format, j->profile, nr, nl, nq, ns, rows.p, skips.p, notes.p };
	int rc = q(w, "INSERT INTO @omopipe.run_file (run_id, site_no, path, file_id, content_hash, format, profile, status, "
	              "records_read, records_loaded, records_quarantined, records_skipped, rows_per_table, skipped_per_reason, "
	              "notes_per_reason, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'loaded', $8, $9, $10, $11, $12, $13, $14, "
	              "now(), clock_timestamp()) "
	              "ON CONFLICT (run_id, site_no, path) DO UPDATE SET status = 'loaded', file_id = EXCLUDED.file_id, "
	              "records_read = EXCLUDED.records_read, records_loaded = EXCLUDED.records_loaded, "
	              "records_quarantined = EXCLUDED.records_quarantined, records_skipped = EXCLUDED.records_skipped, "
	              "rows_per_table = EXCLUDED.rows_per_table, skipped_per_reason = EXCLUDED.skipped_per_reason, "
	              "notes_per_reason = EXCLUDED.notes_per_reason, message = NULL, started_at = EXCLUDED.started_at, "
	              "finished_at = EXCLUDED.finished_at",
	           14, vals, NULL, e);
	buf_free(&rows);
	buf_free(&skips);
	buf_free(&notes);
	return rc;
}

static void filectx_reset(struct worker *w, const struct job *j, int64_t file_id)
{
	struct filectx *f = &w->f;
	f->w = w;
	f->conn = w->conn;
	f->conn_ids = w->conn_ids;
	f->conf = w->run->conf;
	f->site = j->site;
	f->site_no = j->site_no;
	f->run_id = w->run->run_id;
	f->file_id = file_id;
	f->path = j->path;
	f->format = j->format;
	f->profile = j->profile;
	f->ix = w->run->ix;
	f->mst = w->mst;
	f->zctx = w->zctx;
	keytab_clear(&f->keys);
	for (int t = 0; t < T__COUNT; t++)
		pend_reset(&f->pend[t]);
	f->ord = 0;
	f->staged = 0;
	f->correcting = 0;
	f->in_record = 0;
	f->nrr = 0;
	f->nops = 0;
	f->read = f->loaded = f->quarantined = f->skipped = 0;
	memset(f->rows, 0, sizeof f->rows);
	f->skips.n = 0;
	f->notes.n = 0;
	buf_reset(&f->quar);
	buf_reset(&f->context);
	f->nquar_rows = 0;
	filectx_sink_init(f);
}

/* Is this a conflict with a concurrent transaction that a retry resolves? */
static int retryable(const struct err *e)
{
	return strstr(e->msg, "40P01") || strstr(e->msg, "40001") || strstr(e->msg, "23505");
}

static int load_attempt(struct worker *w, const struct job *j, const char *hash, uint64_t size, int *unchanged, struct err *e)
{
	char site[16], sz[24], run[24];
	PGresult *r;
	int rc;
	int64_t file_id = 0;

	*unchanged = 0;
	snprintf(site, sizeof site, "%d", j->site_no);
	snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
	snprintf(run, sizeof run, "%lld", (long long)w->run->run_id);
	if ((rc = db_exec(w->conn, "BEGIN", e)) < 0)
		return rc;
	const char *v1[] = { site, j->path };
	if ((rc = q(w, "SELECT file_id, content_hash FROM @omopipe.source_file WHERE site_no = $1 AND path = $2 FOR UPDATE", 2, v1, &r, e)) < 0)
		goto fail;
	if (PQntuples(r) == 1) {
		file_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		int same = strcmp(PQgetvalue(r, 0, 1), hash) == 0;
		PQclear(r);
		if (same) {
			*unchanged = 1;
			return db_exec(w->conn, "ROLLBACK", e);
		}
		log_info("%s: changed since it was loaded: replacing its rows", j->path);
		if ((rc = remove_old_version(w, file_id, e)) < 0)
			goto fail;
		char fid[24];
		snprintf(fid, sizeof fid, "%lld", (long long)file_id);
		const char *v2[] = { fid, hash, sz, j->format, j->profile, run };
		if ((rc = q(w, "UPDATE @omopipe.source_file SET content_hash = $2, size_bytes = $3, format = $4, profile = $5, "
		               "loaded_run_id = $6, loaded_at = now() WHERE file_id = $1", 6, v2, NULL, e)) < 0)
			goto fail;
	} else {
		PQclear(r);
		const char *v2[] = { site, j->path, hash, sz, j->format, j->profile, run };
		if ((rc = q(w, "INSERT INTO @omopipe.source_file (site_no, path, content_hash, size_bytes, format, profile, loaded_run_id) "
		               "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING file_id", 7, v2, &r, e)) < 0)
			goto fail;
		file_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}

	filectx_reset(w, j, file_id);
	struct filectx *f = &w->f;
	const struct extract_ops *ops;
	struct extractor *x = extractor_for(w, j, &ops, e);
	if (!x) {
		rc = -e->code;
		goto fail;
	}
	if ((rc = ops->run(x, j->path, &f->base, e)) < 0)
		goto fail;
	if (f->in_record) {
		rc = err_set(e, E_INTERNAL, "the %s extractor left a record open", j->format);
		goto fail;
	}
	if ((rc = ids_flush(f, e)) < 0 ||
	    (rc = merge_staged(w, f, e)) < 0 ||
	    (rc = touched_persons(w, f, e)) < 0 ||
	    (rc = copy_quarantine(w, f, e)) < 0)
		goto fail;
	if (f->read != f->loaded + f->quarantined + f->skipped) {
		rc = err_set(e, E_ACCOUNTING, "records read %llu != loaded %llu + quarantined %llu + skipped %llu",
		             (unsigned long long)f->read, (unsigned long long)f->loaded,
		             (unsigned long long)f->quarantined, (unsigned long long)f->skipped);
		goto fail;
	}
	if ((rc = write_ledger(w, j, f, hash, e)) < 0)
		goto fail;
	return db_exec(w->conn, "COMMIT", e);
fail:
	db_exec(w->conn, "ROLLBACK", NULL);
	return rc;
}

int file_load(struct worker *w, const struct job *j, struct err *e)
{
	struct hash128 h;
	uint64_t size;
	char hash[33];
	int rc, unchanged;

	if ((rc = io_hash_file(j->path, &h, &size, e)) < 0) {
		log_err(LOG_ERROR, e);
		record_outcome(w, j, "", "failed", e->msg);
		w->tot.files_failed++;
		return 0;
	}
	hash128_hex(h, hash);
	for (int attempt = 0;; attempt++) {
		err_clear(e);
		rc = load_attempt(w, j, hash, size, &unchanged, e);
		if (rc == 0 || attempt >= 8 || !retryable(e))
			break;
		log_debug("%s: conflict with a concurrent load, retrying (%s)", j->path, e->msg);
		/* the other transaction is finishing: give it a moment, a little more each time */
		struct timespec ts = { 0, (long)(20 + 40 * attempt + (rand() % 20)) * 1000000L };
		nanosleep(&ts, NULL);
	}
	w->tot.files++;
	if (rc == 0 && unchanged) {
		w->tot.files_unchanged++;
		record_outcome(w, j, hash, "unchanged", NULL);
		log_debug("%s: unchanged since its last load, skipped", j->path);
		return 0;
	}
	if (rc == 0) {
		struct filectx *f = &w->f;
		w->tot.files_loaded++;
		w->tot.bytes += size;
		w->tot.read += f->read;
		w->tot.loaded += f->loaded;
		w->tot.quarantined += f->quarantined;
		w->tot.skipped += f->skipped;
		for (int t = 0; t < T__COUNT; t++)
			w->tot.rows[t] += f->rows[t];
		log_debug("%s: %llu records: %llu loaded, %llu quarantined, %llu skipped", j->path,
		         (unsigned long long)f->read, (unsigned long long)f->loaded,
		         (unsigned long long)f->quarantined, (unsigned long long)f->skipped);
		return 0;
	}
	w->tot.files_failed++;
	if (!e->pos.file[0])
		err_pos_file(&e->pos, j->path);
	log_err(LOG_ERROR, e);
	if (PQstatus(w->conn) == CONNECTION_BAD)
		return rc; /* the run cannot go on */
	record_outcome(w, j, hash, "failed", e->msg);
	return 0;
}
