/*
 * test_copybin.c - binary COPY (db/copybin.c) against the server: every value
 * the loader writes in binary must be stored exactly as the text COPY of the
 * same value was (numeric digits and scale, dates, timestamps, text, NULLs).
 */
#include "testutil.h"
#include "core/date.h"
#include "db/db.h"
#include "gen/gen_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGconn *conn;

static void run(const char *sql)
{
	struct err e = { 0 };
	if (db_exec(conn, sql, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
}

static long count(const char *sql)
{
	char v[32];
	struct err e = { 0 };
	if (db_query_value(conn, sql, 0, NULL, v, sizeof v, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
	return atol(v);
}

static struct rng rs; /* the generator's random stream (gen/gen_int.h) */
static uint64_t rnd(void) { return rng_u64(&rs); }

#define NV 4000

/* The same rows through both formats: (i int, n numeric, q int, d date, t timestamp, s text). */
static void test_same_as_text(void **state)
{
	(void)state;
	static const double fixed[] = {
		0.0, -0.0, 1, -1, 0.5, -0.5, 123.45, -123.45, 0.0015, 1e-7, 1.5e-7, -2.5e-300, 1e300, 1.5e20,
		999999999999999.0, 1e15, -1e15, 1e15 + 2, 123456789012345.6, 0.1, 0.2, 0.30000000000000004,
		9999.9999, 10000, 0.0001, 12345678.9, 5.4, 98.6, 7.25, 1e-5, 3.14159265358979, NAN, INFINITY,
		-INFINITY, 2147483647.4, 2.5, -2.5, 4.9e-324,
	};
	struct buf bin = BUF_INIT, txt = BUF_INIT;
	rng_seed(&rs, 1, 2, 3);
	for (int i = 0; i < NV; i++) {
		double v;
		if (i < (int)(sizeof fixed / sizeof *fixed))
			v = fixed[i];
		else if (i % 3 == 0) /* a ratio */
			v = (double)(int64_t)(rnd() % 2000000) / (double)(1 + rnd() % 1000);
		else if (i % 3 == 1) /* a lab value: a few decimals, maybe negative, maybe tiny */
			v = (double)((int64_t)(rnd() % 200000000) - 100000000) / pow(10, (double)(1 + rnd() % 12));
		else { /* any finite double */
			uint64_t u = rnd();
			memcpy(&v, &u, sizeof v);
			if (!isfinite(v))
				v = 1.0;
		}
		int32_t day = (int32_t)(rnd() % 80000) - 30000, sec = i % 5 == 0 ? -1 : (int32_t)(rnd() % 86400);
		char s[8] = "a\tb\\c\n";
		cb_row(&bin, 6);
		cb_i32(&bin, i);
		cb_numeric(&bin, v);
		cb_i32(&bin, (int32_t)(i - NV / 2));
		cb_date(&bin, day);
		cb_ts(&bin, day, sec);
		if (i % 7 == 0)
			cb_null(&bin);
		else
			cb_bytes(&bin, s, strlen(s));

		copy_i64(&txt, i, 0);
		copy_num(&txt, v, 0);
		copy_i64(&txt, i - NV / 2, 0);
		char o[19];
		dt_fmt_date(day, o);
		copy_field(&txt, span_make(o, 10), 0);
		dt_fmt_ts((struct dt){ day, sec, DT_TIME }, o);
		copy_field(&txt, span_make(o, 19), 0);
		if (i % 7 == 0)
			copy_null(&txt, 1);
		else
			copy_str(&txt, s, 1);
		buf_putc(&txt, '\n');
	}
	run("CREATE TEMP TABLE b (i int, n numeric, q int, d date, t timestamp, s text)");
	run("CREATE TEMP TABLE x (LIKE b)");
	struct err e = { 0 };
	if (db_copy_bin(conn, "COPY b FROM STDIN (FORMAT binary)", "b", &bin, &e) < 0)
		fail_msg("binary COPY: %s", e.msg);
	struct span data = span_make(txt.p, txt.n);
	assert_int_equal(db_copy_data(conn, "COPY x FROM STDIN", "x", &data, 1, &e), 0);
	assert_int_equal(count("SELECT count(*) FROM b"), NV);
	/* stored alike: the numeric's text shows its digits and scale */
	PGresult *r = PQexec(conn, "SELECT i, b.n, x.n, b.t, x.t FROM b JOIN x USING (i) WHERE b.n::text IS DISTINCT FROM x.n::text "
	                           "OR b.t <> x.t OR b.d <> x.d LIMIT 5");
	for (int k = 0; k < PQntuples(r); k++) /* what differs, should the next check fail */
		fprintf(stderr, "row %s: binary %s %s, text %s %s\n", PQgetvalue(r, k, 0), PQgetvalue(r, k, 1),
		        PQgetvalue(r, k, 3), PQgetvalue(r, k, 2), PQgetvalue(r, k, 4));
	PQclear(r);
	assert_int_equal(count("SELECT count(*) FROM b JOIN x USING (i) WHERE b.n::text IS NOT DISTINCT FROM x.n::text "
	                       "AND b.q = x.q AND b.d = x.d AND b.t = x.t AND b.s IS NOT DISTINCT FROM x.s"), NV);
	/* and the values are the ones meant, not merely equal to the text path's */
	assert_int_equal(count("SELECT count(*) FROM b WHERE i = 8 AND n::text = '0.0015'"), 1);
	assert_int_equal(count("SELECT count(*) FROM b WHERE i = 11 AND n = '-2.5E-300' AND scale(n) = 301"), 1);
	assert_int_equal(count("SELECT count(*) FROM b WHERE i IN (31, 32, 33) AND n IS NULL"), 3);
	assert_int_equal(count("SELECT count(*) FROM b WHERE s IS NULL"), (NV + 6) / 7);
	buf_free(&bin);
	buf_free(&txt);
}

/* A value of the wrong binary type is the server's clear error, not a wrong value. */
static void test_wrong_type_fails(void **state)
{
	(void)state;
	run("CREATE TEMP TABLE w (n int)");
	struct buf b = BUF_INIT;
	cb_row(&b, 1);
	cb_i64(&b, 5);
	struct err e = { 0 };
	assert_true(db_copy_bin(conn, "COPY w FROM STDIN (FORMAT binary)", "w", &b, &e) < 0);
	assert_non_null(strstr(e.msg, "binary"));
	buf_free(&b);
}

/* copy_text: text made of input's pieces goes in, each byte that starts no
 * valid UTF-8 character as \xHH; copy_str of the same fails the COPY. */
static void test_text_not_utf8(void **state)
{
	(void)state;
	static const struct { const char *in, *want; } cases[] = {
		{ "ok \xc3\xa9", "ok \xc3\xa9" },                         /* valid: as it is */
		{ "cut \xc3", "cut \\xC3" },                             /* a character cut at its end */
		{ "\xe9t\xe9", "\\xE9t\\xE9" },                         /* Latin-1 */
		{ "\xed\xa0\x80x", "\\xED\\xA0\\x80x" },                /* a surrogate */
		{ "\xf4\x90\x80\x80-\xc3\xa9", "\\xF4\\x90\\x80\\x80-\xc3\xa9" }, /* beyond U+10FFFF, then valid */
	};
	run("CREATE TEMP TABLE tx (i int, s text)");
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		copy_i64(&b, (int64_t)i, 0);
		copy_text(&b, cases[i].in, 1);
		buf_putc(&b, '\n');
	}
	struct err e = { 0 };
	struct span part = span_make(b.p, b.n);
	if (db_copy_data(conn, "COPY tx FROM STDIN", "tx", &part, 1, &e) < 0)
		fail_msg("copy_text: %s", e.msg);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char sql[64], v[96];
		snprintf(sql, sizeof sql, "SELECT s FROM tx WHERE i = %zu", i);
		if (db_query_value(conn, sql, 0, NULL, v, sizeof v, &e) < 0)
			fail_msg("%s: %s", sql, e.msg);
		assert_string_equal(v, cases[i].want);
	}
	buf_reset(&b);
	copy_i64(&b, 9, 0);
	copy_str(&b, cases[1].in, 1);
	buf_putc(&b, '\n');
	part = span_make(b.p, b.n);
	assert_true(db_copy_data(conn, "COPY tx FROM STDIN", "tx", &part, 1, &e) < 0);
	assert_non_null(strstr(e.msg, "UTF8"));
	buf_free(&b);
}

int main(void)
{
	struct conf c;
	struct err e = { 0 };
	tu_conf(&c);
	if (db_connect(&c, &conn, &e) < 0) {
		fprintf(stderr, "test_copybin: %s\n", e.msg);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_text),
		cmocka_unit_test(test_wrong_type_fails),
		cmocka_unit_test(test_text_not_utf8),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	db_close(conn);
	conf_free(&c);
	return rc;
}
