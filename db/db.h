/*
 * db.h - the database: connecting, running SQL, streaming COPY.
 *
 * Only db/ includes libpq. Every value reaches the server as a parameter
 * (db_exec_params) or through COPY text escaping (copy_field); SQL text is
 * built only from omopipe's own sql/ files with validated schema names.
 *
 * Connecting: with an empty conninfo the embedded cluster (cluster.h) is
 * started if needed and its database created if missing. Otherwise the
 * configured conninfo is used, each of its settings overridden by libpq's PG*
 * environment variable when that is set (environment beats file). Failure is
 * one line naming the host or socket and what to check, code E_DB.
 */
#ifndef OMO_DB_H
#define OMO_DB_H

#include <libpq-fe.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/span.h"

/* Connect as configured. 0 or -E_DB / -E_CONFIG. */
int db_connect(const struct conf *c, PGconn **out, struct err *e);
void db_close(PGconn *conn);
/* The libpq connection string of the database in use (password masked). */
int db_conninfo(const struct conf *c, char *buf, size_t n, int masked, struct err *e);

/* Run SQL (one or more statements, no parameters). 0 or -E_DB. */
int db_exec(PGconn *conn, const char *sql, struct err *e);
/* Run one statement with text parameters; *res (may be NULL) receives the
 * result for the caller to PQclear. 0 or -E_DB. */
int db_exec_params(PGconn *conn, const char *sql, int n, const char *const *vals, PGresult **res, struct err *e);
/* Single value of a one-row query, copied into buf ("" for NULL). */
int db_query_value(PGconn *conn, const char *sql, int n, const char *const *vals, char *buf, size_t bn, struct err *e);
/* Fill e from a failed result: "what: SQLSTATE message". Returns -E_DB. */
int db_error(PGconn *conn, const PGresult *r, const char *what, struct err *e);

/* Replace @cdm, @results, @omopipe in sql with the configured schema names. */
char *db_render(const struct conf *c, const char *sql);
/* Read an sql/ file and render it (caller frees); NULL with e filled. */
char *db_load_sql(const struct conf *c, const char *rel, struct err *e);
/* Load an sql/ file, render it and run it. */
int db_run_file(PGconn *conn, const struct conf *c, const char *rel, struct err *e);
/* The same in two steps, so that files run on several connections at once:
 * send it, and later wait for it to finish. */
int db_run_send(PGconn *conn, const struct conf *c, const char *rel, struct err *e);
int db_run_wait(PGconn *conn, const char *rel, struct err *e);

/*
 * COPY FROM STDIN, text format. Rows are built in b with copy_* and ended with
 * db_copy_row(); data goes to the server in ~256 KiB chunks.
 */
struct db_copy {
	PGconn *conn;
	struct buf b;
	uint64_t rows;
	const char *what;   /* table name for messages */
};

int db_copy_begin(struct db_copy *cp, PGconn *conn, const char *sql, const char *what, struct err *e);
int db_copy_row(struct db_copy *cp, struct err *e);
int db_copy_end(struct db_copy *cp, struct err *e);
/* Abort an open COPY (the transaction is then rolled back by the caller). */
void db_copy_abort(struct db_copy *cp);
/* A whole COPY of data already built: sql ("COPY ... FROM STDIN ..."), then
 * the bytes of parts[0 .. n) in order, then the end. */
int db_copy_data(PGconn *conn, const char *sql, const char *what, const struct span *parts, size_t n, struct err *e);

/*
 * COPY ... TO STDOUT: fn is called once per row with the row's text (COPY
 * text format, without its newline; split on '\t', "\N" is NULL, unescape with
 * copy_unescape). A non-zero return from fn stops the copy and is returned.
 */
int db_copy_out(PGconn *conn, const char *sql, int (*fn)(void *ctx, struct span row), void *ctx, struct err *e);
/* Undo COPY text escaping of one field in place; returns the new length. */
size_t copy_unescape(char *p, size_t n);

/* COPY text: the value escaped, then a tab (last = 1: no tab). */
void copy_field(struct buf *b, struct span v, int last);
void copy_str(struct buf *b, const char *s, int last);
/* copy_str for text made of input's pieces (a position, a reason): each
 * byte that starts no valid UTF-8 character written as \xHH (buf_utf8), as
 * PostgreSQL refuses the row (and the COPY) otherwise. */
void copy_text(struct buf *b, const char *s, int last);
void copy_null(struct buf *b, int last);
void copy_i64(struct buf *b, int64_t v, int last);
/* A number written with up to 15 significant digits, no printf on the common path. */
void copy_num(struct buf *b, double v, int last);

/*
 * COPY FROM STDIN (FORMAT binary), for the loader's bulk rows: no escaping and
 * no parsing on either side (PostgreSQL receives the values as they are
 * stored). A row is cb_row(number of fields), then one cb_* per field, whose
 * type must be the column's own: cb_i16 smallint, cb_i32 integer, cb_i64
 * bigint, cb_numeric numeric, cb_date date, cb_ts timestamp, cb_bytes text,
 * varchar and uuid (16 bytes).
 */
void cb_row(struct buf *b, int nfields);
void cb_null(struct buf *b);
void cb_i16(struct buf *b, int16_t v);
void cb_i32(struct buf *b, int32_t v);
void cb_i64(struct buf *b, int64_t v);
void cb_bytes(struct buf *b, const void *p, size_t n);
/* The value copy_num would write, exactly (NaN, infinities: NULL). */
void cb_numeric(struct buf *b, double v);
/* day: days since 1970-01-01; sec: seconds into the day (< 0: midnight) */
void cb_date(struct buf *b, int32_t day);
void cb_ts(struct buf *b, int32_t day, int32_t sec);
/* An int8 written in place (a placeholder patched later): 8 bytes, big-endian. */
void cb_be64(char *p, int64_t v);
/* COPY the rows (cb_row ...) with sql ("COPY ... FROM STDIN (FORMAT binary)"). */
int db_copy_bin(PGconn *conn, const char *sql, const char *what, const struct buf *rows, struct err *e);

#endif
