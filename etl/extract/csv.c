/*
 * csv.c - the CSV extractor: a vendor's CSV export, as its layout profile
 * describes it, into records.
 *
 *   file (.csv or .csv.zst) --csvtok--> header (binds the profile's column
 *   names to positions) --> rows --checks (quote, column count, UTF-8)-->
 *   csv_build (the file's [record] sections) --> sink
 *
 * Per row: sink_begin(position, raw row), then the records, then exactly one
 * of sink_end, sink_quarantine (E_PARSE broken quote, E_TOO_LARGE, E_COLUMNS,
 * E_ENCODING, E_DATE, E_VALUE, E_MISSING, E_NO_PATIENT, with file:line and the
 * column in where) or sink_skip (a file the profile skips with its reason, or
 * a row no [record] applies to). The header row is not a record. Position:
 * record = data row number (1 = the first row after the header), line = the
 * row's first line, offset = its byte offset in the decompressed file.
 *
 * Memory per file: the tokenizer's window (one read chunk + the longest
 * row), the row arena (reset after every row), the repeat tables.
 */
#include "etl/extract/csv_extract.h"
#include "etl/extract/csv_build.h"
#include "etl/extract/csv_profile.h"
#include "etl/extract/extract.h"
#include "core/csvtok.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct extractor {
	struct csv_profile *p;
	size_t read_size;
	struct arena row;      /* per row: joins, transcoded values, repeat keys */
	struct arena hdr;      /* per file: header names */
};

void csv_extract_set_read_size(struct extractor *x, size_t n)
{
	x->read_size = n;
}

static int csv_open(struct extractor **out, const char *profile, const struct conf_site *site, struct err *e)
{
	char path[4096];
	int rc = extract_profile_path("csv", profile ? profile : extract_csv.default_profile, path, sizeof path, e);
	if (rc < 0)
		return rc;
	struct extractor *x = xcalloc(1, sizeof *x);
	if ((rc = csv_profile_load(&x->p, path, site ? site->tz : DT_TZ_KEEP, e)) < 0) {
		free(x);
		return rc;
	}
	arena_init(&x->row, 16 * 1024);
	arena_init(&x->hdr, 4 * 1024);
	*out = x;
	return 0;
}

static int csv_wants(const struct extractor *x, const char *path)
{
	return csv_profile_file(x->p, path) != NULL;
}

static void csv_close(struct extractor *x)
{
	if (!x)
		return;
	csv_profile_free(x->p);
	arena_free(&x->row);
	arena_free(&x->hdr);
	free(x);
}

/* The state of one file being read. */
struct run {
	struct extractor *x;
	const struct csv_filespec *fs;
	struct csvtok t;
	struct err_pos pos;
	const char **hname;    /* header names (for where), NULL entries when unknown */
	size_t ncols;          /* expected columns */
	size_t *idx;           /* slot -> field index */
	struct csv_build b;
	uint64_t rows, records, quarantined, skipped;
};

static const char *col_name(const struct run *r, size_t i, char *buf, size_t n)
{
	/* the header's name, where it is text that fits a position */
	if (r->hname && i < r->ncols && r->hname[i] && *r->hname[i] && strlen(r->hname[i]) <= 64 &&
	    span_utf8_valid(span_of(r->hname[i])))
		return r->hname[i];
	snprintf(buf, n, "column %zu", i + 1);
	return buf;
}

/* Read the header (or take the profile's column count) and bind the column slots. */
static int bind_columns(struct run *r, const char *path, struct sink *s, struct err *e)
{
	const struct csv_filespec *fs = r->fs;
	const struct csv_cols *cols = &fs->cols;
	struct extractor *x = r->x;

	r->idx = arena_zalloc(&x->hdr, (cols->n + 1) * sizeof *r->idx);
	if (fs->d.header) {
		int rc = csvtok_next(&r->t, e);
		if (rc == 0) {
			r->ncols = 0;
			return 0;
		}
		if (rc < 0) {
			if (!err_is_soft(-rc))
				return rc;
			char why[sizeof e->msg];
			memcpy(why, e->msg, sizeof why);
			return err_set(e, E_INPUT, "%s:%llu: the header line cannot be read: %s", path,
			               (unsigned long long)r->t.line, why);
		}
		size_t n = r->t.nf;
		/* a trailing delimiter after the last name adds no column */
		if (n > 1 && span_trim(r->t.f[n - 1]).n == 0)
			n--;
		r->ncols = n;
		/* a quarantined row is replayed with its header */
		sink_context(s, r->t.raw);
		r->hname = arena_alloc(&x->hdr, n * sizeof *r->hname);
		for (size_t i = 0; i < n; i++) {
			struct span h = span_trim(r->t.f[i]);
			r->hname[i] = arena_strndup(&x->hdr, h.p ? h.p : "", h.n);
		}
	} else {
		r->ncols = fs->d.columns;
	}
	for (size_t k = 0; k < cols->n; k++) {
		if (!cols->name[k]) {
			if (cols->num[k] > r->ncols)
				return err_set(e, E_INPUT, "%s: the profile (%s, [file %s]) reads column %zu, the file has %zu",
				               path, x->p->path, fs->name, cols->num[k], r->ncols);
			r->idx[k] = cols->num[k] - 1;
			continue;
		}
		size_t i;
		for (i = 0; i < r->ncols; i++)
			if (r->hname && span_ieq_str(span_of(r->hname[i]), cols->name[k]))
				break;
		if (i == r->ncols)
			return err_set(e, E_INPUT, "%s:1: no column %s in the header (profile %s, [file %s])",
			               path, cols->name[k], x->p->path, fs->name);
		r->idx[k] = i;
	}
	return 0;
}

/* Close the current row as quarantined with why (position completed here). */
static int quarantine(struct run *r, struct sink *s, struct err *why, struct err *e)
{
	char where[sizeof why->pos.where];
	memcpy(where, why->pos.where, sizeof where);
	why->pos = r->pos;
	memcpy(why->pos.where, where, sizeof where);
	r->quarantined++;
	return sink_quarantine(s, why, e);
}

static int bad_utf8(struct span v) { return !span_utf8_valid(v); }
static int has_nul(struct span v) { return v.n && memchr(v.p, '\0', v.n) != NULL; }

/* Where a row's bad bytes are: the column of the first field bad() finds. */
static void bad_where(const struct run *r, int (*bad)(struct span), struct err *why)
{
	char buf[32];
	const char *w = "row";
	for (size_t i = 0; i < r->t.nf; i++) {
		if (bad(r->t.f[i])) {
			w = col_name(r, i, buf, sizeof buf);
			break;
		}
	}
	snprintf(why->pos.where, sizeof why->pos.where, "%s", w);
}

static int one_row(struct run *r, struct sink *s, int tokrc, struct err *why, struct err *e)
{
	const struct csv_filespec *fs = r->fs;
	struct csvtok *t = &r->t;
	char buf[48];

	r->rows++;
	r->pos.record = r->rows;
	r->pos.line = t->line;
	r->pos.offset = t->offset;
	sink_begin(s, &r->pos, t->raw);
	if (tokrc < 0) {
		why->code = -tokrc;
		snprintf(why->pos.where, sizeof why->pos.where, "row"); /* the row as a whole: its quote, its size */
		return quarantine(r, s, why, e);
	}
	if (t->nf != r->ncols && !(t->nf == r->ncols + 1 && t->f[r->ncols].n == 0)) {
		why->code = E_COLUMNS;
		snprintf(why->msg, sizeof why->msg, "%zu columns, expected %zu", t->nf, r->ncols);
		const char *w = t->nf < r->ncols ? col_name(r, t->nf, buf, sizeof buf) : NULL;
		if (w)
			snprintf(why->pos.where, sizeof why->pos.where, "%s (first missing)", w);
		else
			snprintf(why->pos.where, sizeof why->pos.where, "column %zu (extra)", r->ncols + 1);
		return quarantine(r, s, why, e);
	}
	if (fs->d.encoding == CSV_UTF8 && !t->ascii && !span_utf8_valid(t->raw)) {
		why->code = E_ENCODING;
		snprintf(why->msg, sizeof why->msg, "invalid UTF-8");
		bad_where(r, bad_utf8, why);
		return quarantine(r, s, why, e);
	}
	if (has_nul(t->raw)) {
		/* no database text holds one: a COPY with it would fail the file */
		why->code = E_ENCODING;
		snprintf(why->msg, sizeof why->msg, "a NUL byte");
		bad_where(r, has_nul, why);
		return quarantine(r, s, why, e);
	}
	if (fs->skip) {
		r->skipped++;
		return sink_skip(s, fs->skip, e);
	}
	struct csv_row row = { t->f, t->nf, &r->x->row, fs->d.encoding, t->ascii,
	                       fs->d.encoding == CSV_UTF8 || t->ascii, t->raw.n };
	size_t emitted = 0;
	int rc = csv_build_row(&r->b, &row, s, why, &emitted);
	arena_reset(&r->x->row);
	if (rc < 0) {
		if (!err_is_soft(-rc)) {
			*e = *why;
			return rc;
		}
		return quarantine(r, s, why, e);
	}
	if (emitted == 0) {
		r->skipped++;
		return sink_skip(s, "no [record] of the profile applies to this row", e);
	}
	r->records += emitted;
	return sink_end(s, e);
}

static int csv_run(struct extractor *x, const char *path, struct sink *s, struct err *e)
{
	struct run r;
	struct err why;
	int rc;

	memset(&r, 0, sizeof r);
	r.x = x;
	r.fs = csv_profile_file(x->p, path);
	if (!r.fs)
		return err_set(e, E_INPUT, "%s: no [file] section of profile %s matches this file name", path, x->p->path);
	arena_reset(&x->hdr);
	if ((rc = csvtok_open(&r.t, path, r.fs->d.delim, r.fs->d.quote, r.fs->d.max_record, e)) < 0)
		return rc;
	if (x->read_size)
		r.t.w.rd.max_read = x->read_size;
	err_pos_file(&r.pos, path);
	memset(&why, 0, sizeof why);
	if ((rc = bind_columns(&r, path, s, e)) < 0)
		goto out;
	if ((rc = csv_build_init(&r.b, x->p, r.fs, r.idx, &why)) < 0) {
		rc = err_set(e, E_CONFIG, "%s, [file %s]: %s: %s", x->p->path, r.fs->name, why.pos.where, why.msg);
		goto out;
	}
	for (;;) {
		rc = csvtok_next(&r.t, e);
		if (rc == 0)
			break;
		if (rc < 0 && !err_is_soft(-rc))
			goto out;
		if (rc < 0)
			snprintf(why.msg, sizeof why.msg, "%s", e->msg);
		if ((rc = one_row(&r, s, rc, &why, e)) < 0)
			goto out;
	}
	log_debug("%s: %llu rows: %llu records, %llu quarantined, %llu skipped", path,
	          (unsigned long long)r.rows, (unsigned long long)r.records,
	          (unsigned long long)r.quarantined, (unsigned long long)r.skipped);
	rc = 0;
out:
	csv_build_free(&r.b);
	csvtok_close(&r.t);
	return rc;
}

const struct extract_ops extract_csv = {
	"csv", "synthea", csv_open, csv_wants, csv_run, csv_close,
};
