/* copy.c - COPY FROM STDIN in text format. See db.h. */
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FLUSH_AT (256 * 1024)

int db_copy_begin(struct db_copy *cp, PGconn *conn, const char *sql, const char *what, struct err *e)
{
	cp->conn = conn;
	cp->b = (struct buf)BUF_INIT;
	cp->rows = 0;
	cp->what = what;
	PGresult *r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		char w[300];
		snprintf(w, sizeof w, "starting COPY into %s", what);
		int rc = db_error(conn, r, w, e);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	return 0;
}

static int flush(struct db_copy *cp, struct err *e)
{
	if (cp->b.n == 0)
		return 0;
	if (PQputCopyData(cp->conn, cp->b.p, (int)cp->b.n) != 1) {
		char w[300];
		snprintf(w, sizeof w, "COPY into %s", cp->what);
		return db_error(cp->conn, NULL, w, e);
	}
	buf_reset(&cp->b);
	return 0;
}

int db_copy_row(struct db_copy *cp, struct err *e)
{
	buf_putc(&cp->b, '\n');
	cp->rows++;
	return cp->b.n >= FLUSH_AT ? flush(cp, e) : 0;
}

int db_copy_end(struct db_copy *cp, struct err *e)
{
	int rc = flush(cp, e);
	char w[300];
	snprintf(w, sizeof w, "COPY into %s", cp->what);
	if (rc == 0 && PQputCopyEnd(cp->conn, NULL) != 1)
		rc = db_error(cp->conn, NULL, w, e);
	PGresult *r;
	while ((r = PQgetResult(cp->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = db_error(cp->conn, r, w, e);
		PQclear(r);
	}
	buf_free(&cp->b);
	return rc;
}

void db_copy_abort(struct db_copy *cp)
{
	PGresult *r;
	if (cp->conn && PQputCopyEnd(cp->conn, "aborted by omopipe") == 1)
		while ((r = PQgetResult(cp->conn)) != NULL)
			PQclear(r);
	buf_free(&cp->b);
	cp->conn = NULL;
}

int db_copy_data(PGconn *conn, const char *sql, const char *what, const struct span *parts, size_t n, struct err *e)
{
	struct db_copy cp;
	int rc = db_copy_begin(&cp, conn, sql, what, e);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (parts[i].n && PQputCopyData(conn, parts[i].p, (int)parts[i].n) != 1) {
			db_copy_abort(&cp);
			char w[300];
			snprintf(w, sizeof w, "COPY into %s", what);
			return db_error(conn, NULL, w, e);
		}
	}
	return rc < 0 ? rc : db_copy_end(&cp, e);
}

void copy_field(struct buf *b, struct span v, int last)
{
	buf_reserve(b, v.n * 2 + 1);
	char *o = b->p + b->n;
	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		switch (c) {
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		case '\r': *o++ = '\\'; *o++ = 'r'; break;
		default: *o++ = c;
		}
	}
	if (!last)
		*o++ = '\t';
	b->n = (size_t)(o - b->p);
	b->p[b->n] = '\0';
}

void copy_str(struct buf *b, const char *s, int last)
{
	copy_field(b, span_of(s), last);
}

void copy_text(struct buf *b, const char *s, int last)
{
	struct span v = span_of(s);
	if (span_utf8_valid(v)) {
		copy_field(b, v, last);
		return;
	}
	struct buf t = BUF_INIT;
	buf_utf8(&t, v);
	copy_field(b, span_make(t.p, t.n), last);
	buf_free(&t);
}

void copy_null(struct buf *b, int last)
{
	buf_append(b, last ? "\\N" : "\\N\t", last ? 2 : 3);
}

void copy_i64(struct buf *b, int64_t v, int last)
{
	buf_i64(b, v);
	if (!last)
		buf_putc(b, '\t');
}

void copy_num(struct buf *b, double v, int last)
{
	if (!isfinite(v)) {
		copy_null(b, last);
		return;
	}
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		buf_i64(b, (int64_t)v);
	} else {
		char tmp[32];
		int n = snprintf(tmp, sizeof tmp, "%.15g", v);
		buf_append(b, tmp, (size_t)n);
	}
	if (!last)
		buf_putc(b, '\t');
}

int db_copy_out(PGconn *conn, const char *sql, int (*fn)(void *ctx, struct span row), void *ctx, struct err *e)
{
	PGresult *r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		int rc = db_error(conn, r, "COPY TO STDOUT", e);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	int rc = 0;
	for (;;) {
		char *line = NULL;
		int n = PQgetCopyData(conn, &line, 0);
		if (n == -1)
			break;
		if (n < 0) {
			rc = db_error(conn, NULL, "COPY TO STDOUT", e);
			break;
		}
		if (rc == 0) {
			size_t k = (size_t)n;
			if (k && line[k - 1] == '\n')
				k--;
			rc = fn(ctx, span_make(line, k));
		}
		PQfreemem(line);
	}
	while ((r = PQgetResult(conn)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = db_error(conn, r, "COPY TO STDOUT", e);
		PQclear(r);
	}
	return rc;
}

size_t copy_unescape(char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\' || i + 1 == n) {
			p[o++] = p[i];
			continue;
		}
		char c = p[++i];
		switch (c) {
		case 't': p[o++] = '\t'; break;
		case 'n': p[o++] = '\n'; break;
		case 'r': p[o++] = '\r'; break;
		case 'b': p[o++] = '\b'; break;
		case 'f': p[o++] = '\f'; break;
		case 'v': p[o++] = '\v'; break;
		default: p[o++] = c; break;
		}
	}
	return o;
}
