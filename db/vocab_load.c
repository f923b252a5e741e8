/* vocab_load.c - load an OMOP vocabulary into the CDM schema. See vocab_load.h. */
#include "db/vocab_load.h"
#include "core/csvtok.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const tables[] = {
	"concept", "concept_relationship", "concept_ancestor", "concept_synonym", "vocabulary",
	"domain", "concept_class", "relationship", "drug_strength", "source_to_concept_map",
};
#define NTABLES (sizeof tables / sizeof *tables)

enum coltype { COL_TEXT, COL_INT, COL_DATE, COL_NUM };

struct col {
	char name[64];
	enum coltype type;
	int maxlen;        /* characters, 0 = unlimited */
	int bigint;        /* COL_INT: 8 bytes in binary COPY */
	int required;
	int src;           /* index of the file column, -1 if absent */
};

/* "CONCEPT_RELATIONSHIP.csv.zst" -> table index, or -1 */
static int table_of(const char *fname)
{
	char b[256];
	size_t n = strlen(fname);
	if (n >= sizeof b)
		return -1;
	for (size_t i = 0; i <= n; i++)
		b[i] = (char)(fname[i] >= 'A' && fname[i] <= 'Z' ? fname[i] + 32 : fname[i]);
	static const char *suffixes[] = { ".zst", ".csv", ".txt", ".tsv", "_seed" };
	for (size_t s = 0; s < 5; s++) {
		size_t k = strlen(b), sl = strlen(suffixes[s]);
		if (k > sl && strcmp(b + k - sl, suffixes[s]) == 0)
			b[k - sl] = '\0';
	}
	for (size_t t = 0; t < NTABLES; t++)
		if (strcmp(b, tables[t]) == 0)
			return (int)t;
	return -1;
}

/* The table's columns, as the database has them. */
static int table_columns(PGconn *conn, const struct conf *c, const char *table, struct col **out, int *nout, struct err *e)
{
	const char *vals[] = { c->schema_cdm, table };
	PGresult *r;
	int rc = db_exec_params(conn,
	        "SELECT column_name, data_type, coalesce(character_maximum_length, 0), is_nullable "
	        "FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
	        2, vals, &r, e);
	if (rc < 0)
		return rc;
	int n = PQntuples(r);
	if (n == 0) {
		PQclear(r);
		return err_set(e, E_DB, "table %s.%s does not exist: run `omopipe init` first", c->schema_cdm, table);
	}
	struct col *cols = xcalloc((size_t)n, sizeof *cols);
	for (int i = 0; i < n; i++) {
		snprintf(cols[i].name, sizeof cols[i].name, "%s", PQgetvalue(r, i, 0));
		const char *t = PQgetvalue(r, i, 1);
		cols[i].type = strcmp(t, "integer") == 0 || strcmp(t, "bigint") == 0 ? COL_INT :
		               strcmp(t, "date") == 0 ? COL_DATE :
		               strcmp(t, "numeric") == 0 || strcmp(t, "double precision") == 0 ? COL_NUM : COL_TEXT;
		cols[i].maxlen = atoi(PQgetvalue(r, i, 2));
		cols[i].bigint = strcmp(t, "bigint") == 0;
		cols[i].required = strcmp(PQgetvalue(r, i, 3), "NO") == 0;
		cols[i].src = -1;
	}
	PQclear(r);
	*out = cols;
	*nout = n;
	return 0;
}

static size_t utf8_chars(struct span s)
{
	size_t k = 0;
	for (size_t i = 0; i < s.n; i++)
		k += ((unsigned char)s.p[i] & 0xC0) != 0x80;
	return k;
}

/*
 * Fast paths (the common shapes of an Athena download), each exactly as
 * strict as the general path below, which handles everything else:
 *   integers written as plain digits, copied as they are
 *   dates YYYYMMDD or YYYY-MM-DD, checked and rewritten by hand
 *   text that is ASCII without a byte COPY must escape, copied as it is
 */
static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int fast_int(struct buf *b, struct span v, int last)
{
	size_t i = v.n && v.p[0] == '-', nd = v.n - i;
	if (nd == 0 || nd > 9 || (v.p[i] == '0' && nd > 1))
		return 0; /* empty, possibly out of int32 range, or a leading zero: the general path */
	for (size_t k = i; k < v.n; k++)
		if (v.p[k] < '0' || v.p[k] > '9')
			return 0;
	buf_append(b, v.p, v.n);
	if (!last)
		buf_putc(b, '\t');
	return 1;
}

/* YYYYMMDD or YYYY-MM-DD, a real calendar date: 1 with y, m, d; 0 for the general path. */
static int fast_ymd(struct span v, int *y, int *mo, int *dd)
{
	const char *p = v.p;
	int d8 = v.n == 8, d10 = v.n == 10 && p[4] == '-' && p[7] == '-';
	if (!d8 && !d10)
		return 0;
	const char *m = p + (d8 ? 4 : 5), *d = p + (d8 ? 6 : 8);
	for (int k = 0; k < 4; k++)
		if (p[k] < '0' || p[k] > '9')
			return 0;
	if (m[0] < '0' || m[0] > '1' || m[1] < '0' || m[1] > '9' || d[0] < '0' || d[0] > '3' || d[1] < '0' || d[1] > '9')
		return 0;
	*y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	*mo = (m[0] - '0') * 10 + (m[1] - '0');
	*dd = (d[0] - '0') * 10 + (d[1] - '0');
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return *y >= 1 && *mo >= 1 && *mo <= 12 && *dd >= 1 && *dd <= mdays[*mo - 1] + (*mo == 2 && is_leap(*y));
}

static int fast_date(struct buf *b, struct span v, int last)
{
	int y, mo, dd;
	if (!fast_ymd(v, &y, &mo, &dd))
		return 0; /* the general path decides and reports */
	const char *p = v.p, *m = p + (v.n == 8 ? 4 : 5), *d = p + (v.n == 8 ? 6 : 8);
	char o[11];
	memcpy(o, p, 4);
	o[4] = '-';
	o[5] = m[0];
	o[6] = m[1];
	o[7] = '-';
	o[8] = d[0];
	o[9] = d[1];
	o[10] = '\t';
	buf_append(b, o, last ? 10 : 11);
	return 1;
}

static int fast_text(struct buf *b, const struct col *col, struct span v, int last)
{
	if (col->maxlen && v.n > (size_t)col->maxlen)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c >= 0x80 || c == '\\' || c < 0x20)
			return 0;
	}
	buf_reserve(b, v.n + 1);
	memcpy(b->p + b->n, v.p, v.n);
	b->n += v.n;
	if (!last)
		b->p[b->n++] = '\t';
	b->p[b->n] = '\0';
	return 1;
}

/* Check one value and append it to the COPY row. */
static int put_value(struct buf *b, const struct col *col, struct span v, int last, struct err *e)
{
	if (v.n && ((col->type == COL_INT && fast_int(b, v, last)) || (col->type == COL_DATE && fast_date(b, v, last)) ||
	            (col->type == COL_TEXT && fast_text(b, col, v, last))))
		return 0;
	if (v.n == 0) {
		if (col->required && col->type != COL_TEXT)
			return err_set(e, E_VALUE, "column %s: a value is required", col->name);
		if (col->required) {
			copy_field(b, v, last); /* NOT NULL text: an empty string, as Athena has a few */
			return 0;
		}
		copy_null(b, last);
		return 0;
	}
	switch (col->type) {
	case COL_INT: {
		int64_t x;
		if (span_to_i64(v, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
			return err_set(e, E_VALUE, "column %s: '%.*s' is not an integer", col->name, (int)(v.n > 40 ? 40 : v.n), v.p);
		copy_i64(b, x, last);
		return 0;
	}
	case COL_NUM: {
		double x;
		if (span_to_double(v, &x) < 0)
			return err_set(e, E_VALUE, "column %s: '%.*s' is not a number", col->name, (int)(v.n > 40 ? 40 : v.n), v.p);
		copy_field(b, span_trim(v), last);
		return 0;
	}
	case COL_DATE: {
		struct dt d;
		if (dt_parse_iso(span_trim(v), DT_TZ_KEEP, &d) < 0 || d.prec < DT_DAY)
			return err_set(e, E_VALUE, "column %s: '%.*s' is not a date (YYYYMMDD or YYYY-MM-DD)", col->name, (int)(v.n > 40 ? 40 : v.n), v.p);
		char out[10];
		dt_fmt_date(d.day, out);
		buf_append(b, out, 10);
		if (!last)
			buf_putc(b, '\t');
		return 0;
	}
	default:
		if (!span_utf8_valid(v))
			return err_set(e, E_ENCODING, "column %s: invalid UTF-8", col->name);
		if (col->maxlen && v.n > (size_t)col->maxlen && utf8_chars(v) > (size_t)col->maxlen)
			return err_set(e, E_VALUE, "column %s: %zu characters, longer than the %d allowed", col->name, utf8_chars(v), col->maxlen);
		copy_field(b, v, last);
		return 0;
	}
}

/*
 * Binary COPY (tables without numeric columns): the server parses nothing,
 * about a third less server CPU than text (PERF.md); the checks are those of
 * put_value, with the same messages.
 */
static void put_be32(struct buf *b, uint32_t v)
{
	unsigned char o[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v };
	buf_append(b, o, 4);
}

static int put_value_bin(struct buf *b, const struct col *col, struct span v, struct err *e)
{
	if (v.n == 0) {
		if (col->required && col->type != COL_TEXT)
			return err_set(e, E_VALUE, "column %s: a value is required", col->name);
		if (col->required) {
			put_be32(b, 0); /* NOT NULL text: an empty string, as Athena has a few */
			return 0;
		}
		put_be32(b, 0xFFFFFFFFu);
		return 0;
	}
	switch (col->type) {
	case COL_INT: {
		int64_t x;
		if (span_to_i64(v, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
			return err_set(e, E_VALUE, "column %s: '%.*s' is not an integer", col->name, (int)(v.n > 40 ? 40 : v.n), v.p);
		if (col->bigint) {
			put_be32(b, 8);
			put_be32(b, (uint32_t)((uint64_t)x >> 32));
			put_be32(b, (uint32_t)(uint64_t)x);
		} else {
			put_be32(b, 4);
			put_be32(b, (uint32_t)(int32_t)x);
		}
		return 0;
	}
	case COL_DATE: {
		struct dt d;
		int y, mo, dd;
		if (fast_ymd(v, &y, &mo, &dd))
			d.day = date_from_ymd(y, mo, dd);
		else if (dt_parse_iso(span_trim(v), DT_TZ_KEEP, &d) < 0 || d.prec < DT_DAY)
			return err_set(e, E_VALUE, "column %s: '%.*s' is not a date (YYYYMMDD or YYYY-MM-DD)", col->name, (int)(v.n > 40 ? 40 : v.n), v.p);
		put_be32(b, 4);
		put_be32(b, (uint32_t)(d.day - 10957)); /* PostgreSQL counts days from 2000-01-01 */
		return 0;
	}
	default:
		if (!span_utf8_valid(v))
			return err_set(e, E_ENCODING, "column %s: invalid UTF-8", col->name);
		if (col->maxlen && v.n > (size_t)col->maxlen && utf8_chars(v) > (size_t)col->maxlen)
			return err_set(e, E_VALUE, "column %s: %zu characters, longer than the %d allowed", col->name, utf8_chars(v), col->maxlen);
		put_be32(b, (uint32_t)v.n);
		buf_append(b, v.p, v.n);
		return 0;
	}
}

static int load_file(PGconn *conn, const struct conf *c, const char *path, const char *table, uint64_t *rows, struct err *e)
{
	struct col *cols = NULL;
	int ncols = 0, rc;
	struct csvtok t;
	char delim = ',', quote = '"';

	if ((rc = table_columns(conn, c, table, &cols, &ncols, e)) < 0)
		return rc;
	/* sniff the header: a tab means the Athena download format */
	{
		struct win w;
		if ((rc = win_open(&w, path, 1 << 20, e)) < 0)
			goto out;
		win_more(&w, e);
		const char *nl = w.end > w.beg ? memchr(w.buf + w.beg, '\n', w.end - w.beg) : NULL;
		size_t hl = nl ? (size_t)(nl - (w.buf + w.beg)) : w.end - w.beg;
		if (hl && memchr(w.buf + w.beg, '\t', hl)) {
			delim = '\t';
			quote = '\0';
		}
		win_close(&w);
	}
	if ((rc = csvtok_open(&t, path, delim, quote, 16 << 20, e)) < 0)
		goto out;
	rc = csvtok_next(&t, e);
	if (rc <= 0) {
		if (rc == 0)
			rc = err_set(e, E_INPUT, "%s is empty: expected a header line", path);
		goto close;
	}
	/* map header names (any case) to the table's columns */
	for (size_t i = 0; i < t.nf; i++) {
		struct span h = span_trim(t.f[i]);
		for (int k = 0; k < ncols; k++)
			if (span_ieq_str(h, cols[k].name))
				cols[k].src = (int)i;
	}
	size_t nfile = t.nf;
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "COPY %s.%s (", c->schema_cdm, table);
	int first = 1;
	for (int k = 0; k < ncols; k++) {
		if (cols[k].src < 0) {
			if (cols[k].required) {
				rc = err_set(e, E_INPUT, "%s:1: header has no column %s (required)", path, cols[k].name);
				buf_free(&sql);
				goto close;
			}
			continue;
		}
		buf_printf(&sql, "%s%s", first ? "" : ", ", cols[k].name);
		first = 0;
	}
	int binary = 1, ncopied = 0;
	for (int k = 0; k < ncols; k++)
		if (cols[k].src >= 0) {
			ncopied++;
			binary &= cols[k].type != COL_NUM; /* numeric's binary form is not worth writing */
		}
	buf_puts(&sql, binary ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN");
	int last_col = -1;
	for (int k = 0; k < ncols; k++)
		if (cols[k].src >= 0)
			last_col = k;
	struct db_copy cp;
	rc = db_copy_begin(&cp, conn, sql.p, table, e);
	buf_free(&sql);
	if (rc < 0)
		goto close;
	if (binary) {
		buf_append(&cp.b, "PGCOPY\n\377\r\n\0", 11);
		put_be32(&cp.b, 0);
		put_be32(&cp.b, 0);
	}
	while ((rc = csvtok_next(&t, e)) > 0) {
		/* Athena files may end rows with a trailing delimiter: allow one empty extra field */
		if (t.nf != nfile && !(t.nf == nfile + 1 && t.f[nfile].n == 0)) {
			err_pos_file(&e->pos, path);
			e->pos.line = t.line;
			rc = err_set(e, E_COLUMNS, "%zu columns, the header has %zu", t.nf, nfile);
			break;
		}
		if (binary) {
			unsigned char nf[2] = { (unsigned char)(ncopied >> 8), (unsigned char)ncopied };
			buf_append(&cp.b, nf, 2);
		}
		for (int k = 0; k < ncols && rc >= 0; k++) {
			if (cols[k].src < 0)
				continue;
			rc = binary ? put_value_bin(&cp.b, &cols[k], t.f[cols[k].src], e)
			            : put_value(&cp.b, &cols[k], t.f[cols[k].src], k == last_col, e);
		}
		if (rc < 0) {
			err_pos_file(&e->pos, path);
			e->pos.line = t.line;
			break;
		}
		if (!binary)
			rc = db_copy_row(&cp, e);
		else if (++cp.rows, cp.b.n >= 256 * 1024) {
			if (PQputCopyData(conn, cp.b.p, (int)cp.b.n) != 1)
				rc = db_error(conn, NULL, "COPY", e);
			buf_reset(&cp.b);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (err_is_soft(-rc) && !e->pos.file[0]) {
			err_pos_file(&e->pos, path);
			e->pos.line = t.line;
		}
		db_copy_abort(&cp);
		goto close;
	}
	*rows = cp.rows;
	if (binary)
		buf_append(&cp.b, "\377\377", 2); /* the trailer */
	rc = db_copy_end(&cp, e);
close:
	csvtok_close(&t);
out:
	free(cols);
	return rc;
}

/* Drop the table's indexes and primary key before loading it (rebuilt after). */
static int drop_indexes(PGconn *conn, const struct conf *c, const char *table, struct err *e)
{
	const char *vals[] = { c->schema_cdm, table };
	PGresult *r;
	int rc = db_exec_params(conn,
	        "SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, t.relname, con.conname) "
	        "FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
	        "WHERE n.nspname = $1 AND t.relname = $2 AND con.contype = 'p' "
	        "UNION ALL "
	        "SELECT format('DROP INDEX %I.%I', schemaname, indexname) FROM pg_indexes "
	        "WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE 'xpk_%'",
	        2, vals, &r, e);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++)
		rc = db_exec(conn, PQgetvalue(r, i, 0), e);
	PQclear(r);
	return rc;
}

static const char *pk_of(const char *table)
{
	if (strcmp(table, "concept") == 0) return "concept_id";
	if (strcmp(table, "vocabulary") == 0) return "vocabulary_id";
	if (strcmp(table, "domain") == 0) return "domain_id";
	if (strcmp(table, "concept_class") == 0) return "concept_class_id";
	if (strcmp(table, "relationship") == 0) return "relationship_id";
	return NULL;
}

int vocab_load(PGconn *conn, const struct conf *c, const char *dir, struct vocab_load_stats *st, struct err *e)
{
	char *paths[NTABLES] = { 0 };
	int rc = 0;
	struct timespec t0, t1;

	memset(st, 0, sizeof *st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!path_is_dir(dir))
		return err_set(e, E_INPUT, "vocabulary folder %s does not exist or is not a folder", dir);
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, E_INPUT, "cannot read vocabulary folder %s", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int ti = table_of(de->d_name);
		char full[4096];
		if (ti < 0 || path_join(full, sizeof full, dir, de->d_name) < 0 || !path_is_file(full))
			continue;
		if (paths[ti]) {
			closedir(d);
			rc = err_set(e, E_INPUT, "two files for table %s in %s: %s and %s", tables[ti], dir, paths[ti], full);
			goto out;
		}
		paths[ti] = xstrdup(full);
	}
	closedir(d);
	int any = 0;
	for (size_t i = 0; i < NTABLES; i++)
		any |= paths[i] != NULL;
	if (!any) {
		rc = err_set(e, E_INPUT, "no vocabulary files in %s (expected CONCEPT.csv, CONCEPT_RELATIONSHIP.csv, ... as in an Athena download)", dir);
		goto out;
	}
	if ((rc = db_exec(conn, "BEGIN", e)) < 0)
		goto out;
	for (size_t i = 0; i < NTABLES && rc == 0; i++) {
		if (!paths[i])
			continue;
		char sql[256];
		if ((rc = drop_indexes(conn, c, tables[i], e)) < 0)
			break;
		if (strcmp(tables[i], "source_to_concept_map") == 0)
			/* site code maps ("SITE:SYSTEM" namespaces, omopipe sitemap load) are not the vocabulary's */
			snprintf(sql, sizeof sql, "DELETE FROM %s.%s WHERE source_vocabulary_id NOT LIKE '%%:%%'", c->schema_cdm, tables[i]);
		else
			snprintf(sql, sizeof sql, "TRUNCATE %s.%s", c->schema_cdm, tables[i]);
		if ((rc = db_exec(conn, sql, e)) < 0)
			break;
		uint64_t rows = 0;
		log_debug("loading %s", paths[i]);
		if ((rc = load_file(conn, c, paths[i], tables[i], &rows, e)) < 0)
			break;
		snprintf(st->table[st->n], sizeof st->table[0], "%s", tables[i]);
		st->rows[st->n++] = rows;
	}
	for (size_t i = 0; i < NTABLES && rc == 0; i++) {
		const char *pk = pk_of(tables[i]);
		if (!paths[i] || !pk)
			continue;
		char sql[256];
		snprintf(sql, sizeof sql, "ALTER TABLE %s.%s ADD CONSTRAINT xpk_%s PRIMARY KEY (%s)", c->schema_cdm, tables[i], tables[i], pk);
		if ((rc = db_exec(conn, sql, e)) < 0 && strstr(e->msg, "23505"))
			rc = err_set(e, E_VALUE, "%s: duplicate %s values; the vocabulary was not changed", paths[i], pk);
	}
	if (rc == 0)
		rc = db_run_file(conn, c, "sql/vocab_indexes.sql", e);
	if (rc == 0) {
		for (size_t i = 0; i < NTABLES && rc == 0; i++) {
			char sql[256];
			if (!paths[i])
				continue;
			snprintf(sql, sizeof sql, "ANALYZE %s.%s", c->schema_cdm, tables[i]);
			rc = db_exec(conn, sql, e);
		}
	}
	if (rc == 0)
		rc = db_exec(conn, "COMMIT", e);
	else
		db_exec(conn, "ROLLBACK", NULL);
out:
	for (size_t i = 0; i < NTABLES; i++)
		free(paths[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}
