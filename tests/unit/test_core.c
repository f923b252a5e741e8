/*
 * test_core.c - the foundation: dates, spans, the configuration file format,
 * hashing, streaming input (plain and zstd, whole and one byte at a time),
 * the arena and the configuration's precedence and masking.
 */
#include "testutil.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/date.h"
#include "core/hash.h"
#include "core/ini.h"
#include "core/io.h"
#include "core/mem.h"
#include "core/span.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static struct dt parse_hl7(const char *s, int tz, int *rc)
{
	struct dt d;
	*rc = dt_parse_hl7(span_of(s), tz, &d);
	return d;
}

static void fmt_ts(struct dt d, char *out)
{
	dt_fmt_ts(d, out);
	out[19] = '\0';
}

static void test_dates_hl7(void **state)
{
	(void)state;
	int rc;
	char o[20];
	struct dt d = parse_hl7("20230215134501", DT_TZ_KEEP, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.prec, DT_TIME);
	fmt_ts(d, o);
	assert_string_equal(o, "2023-02-15 13:45:01");
	d = parse_hl7("202302", DT_TZ_KEEP, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.prec, DT_MONTH);
	d = parse_hl7("20230215134501.1234-0500", DT_TZ_KEEP, &rc);
	assert_int_equal(rc, 0);
	fmt_ts(d, o);
	assert_string_equal(o, "2023-02-15 13:45:01"); /* wall time kept */
	d = parse_hl7("20230215230000-0500", 0, &rc);  /* to UTC: crosses midnight */
	assert_int_equal(rc, 0);
	fmt_ts(d, o);
	assert_string_equal(o, "2023-02-16 04:00:00");
	/* malformed and impossible */
	const char *bad[] = { "2023021", "20230230", "20231301", "2023021525", "202302151", "abcd", "",
	                      "20230215134501-05", "20230215134501+2500", "20230215246000", "19000229" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		parse_hl7(bad[i], DT_TZ_KEEP, &rc);
		if (rc != -E_DATE)
			fail_msg("'%s' should be a bad date", bad[i]);
	}
	parse_hl7("20000229", DT_TZ_KEEP, &rc); /* leap year */
	assert_int_equal(rc, 0);
}

/* dt_parse_hl7 of YYYYMMDD[HHMM[SS]][+/-ZZZZ] step by step, for its fast
 * path to be checked against: rc, and the value when 0 */
static int ref_hl7(const char *s, int tz, struct dt *out)
{
	size_t n = strlen(s), fn = n;
	int v[7] = { 0, 1, 1, 0, 0, 0, 0 }, off = 0, zoned = 0;
	if (n >= 13 && (s[n - 5] == '+' || s[n - 5] == '-')) {
		fn = n - 5;
		zoned = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (i != fn && (s[i] < '0' || s[i] > '9'))
			return -E_DATE;
	if (fn != 8 && fn != 10 && fn != 12 && fn != 14) /* 10 (YYYYMMDDHH): the general parser's */
		return -E_DATE;
	v[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	for (size_t k = 1; 4 + 2 * k <= fn; k++)
		v[k] = (s[2 + 2 * k] - '0') * 10 + (s[3 + 2 * k] - '0');
	if (zoned) {
		int zh = (s[n - 4] - '0') * 10 + (s[n - 3] - '0'), zm = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
		if (zh > 14 || zm > 59)
			return -E_DATE;
		off = (s[fn] == '-' ? -1 : 1) * (zh * 60 + zm);
	}
	if (!date_valid(v[0], v[1], v[2]) || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -E_DATE;
	out->day = date_from_ymd(v[0], v[1], v[2]);
	out->prec = fn == 8 ? DT_DAY : DT_TIME;
	out->sec = fn == 8 ? -1 : v[3] * 3600 + v[4] * 60 + (v[5] == 60 ? 59 : v[5]);
	if (fn > 8 && zoned && tz != DT_TZ_KEEP) {
		int64_t t = (int64_t)out->day * 86400 + out->sec - (int64_t)off * 60 + (int64_t)tz * 60;
		int64_t dd = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
		out->day = (int32_t)dd;
		out->sec = (int32_t)(t - dd * 86400);
	}
	return 0;
}

/* The fixed-width fast path of dt_parse_hl7: every width, with and without
 * a zone, bad digits in every position, impossible dates and times, zones
 * that cross a day, leap years and seconds; against ref_hl7. */
static void test_dates_hl7_fixed(void **state)
{
	(void)state;
	const char *base[] = { "20240229", "20230228", "19000228", "20001231", "10000101", "99991231",
	                       "202402291359", "202312312359", "20231231235960", "20230101000000",
	                       "20230615120000", "16000229235959" };
	const char *zones[] = { "", "-0500", "+0000", "+1400", "-1459", "+0530", "+1500", "-0060", "-05" };
	const char *bad[] = { "20230229", "19000229", "20231301", "20230001", "20230100", "20230431", "09991231",
	                      "202301012400", "202301010060", "20230101000061", "2023010124", "2023010",
	                      "20230101120000.5" };
	const int tzs[] = { DT_TZ_KEEP, 0, -300, 600, 840 };
	char buf[40];
	for (size_t t = 0; t < sizeof tzs / sizeof *tzs; t++) {
		for (size_t i = 0; i < sizeof base / sizeof *base + sizeof bad / sizeof *bad; i++) {
			const char *b = i < sizeof base / sizeof *base ? base[i] : bad[i - sizeof base / sizeof *base];
			for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
				snprintf(buf, sizeof buf, "%s%s", b, zones[z]);
				size_t len = strlen(buf);
				/* as written, then each byte replaced by a non-digit */
				for (size_t k = 0; k <= len; k++) {
					char s[40];
					memcpy(s, buf, len + 1);
					if (k < len)
						s[k] = "/:a &("[k % 6]; /* ' ', '&', '(': a digit's low nibble */
					struct dt got, want = DT_EMPTY;
					int rg = dt_parse_hl7(span_of(s), tzs[t], &got), rw = ref_hl7(s, tzs[t], &want);
					/* the general parser takes more shapes (a fraction, YYYY) */
					if (rw < 0 && rg == 0 && strpbrk(s, "."))
						continue;
					if (rg != rw || (rw == 0 && (got.day != want.day || got.sec != want.sec ||
					                             got.prec != want.prec)))
						fail_msg("'%s' (tz %d): rc %d day %d sec %d prec %d, want rc %d day %d sec %d prec %d",
						         s, tzs[t], rg, got.day, got.sec, got.prec, rw, want.day, want.sec, want.prec);
					if (rg < 0 && (got.prec != DT_NONE || got.sec != -1))
						fail_msg("'%s': not empty after an error", s);
				}
			}
		}
	}
}

static void test_dates_iso_and_formats(void **state)
{
	(void)state;
	struct dt d;
	char o[20];
	assert_int_equal(dt_parse_iso(span_of("2019-02-03T04:05:06Z"), DT_TZ_KEEP, &d), 0);
	fmt_ts(d, o);
	assert_string_equal(o, "2019-02-03 04:05:06");
	assert_int_equal(dt_parse_iso(span_of("2019-02-03 04:05"), DT_TZ_KEEP, &d), 0);
	assert_int_equal(d.sec, 4 * 3600 + 5 * 60);
	assert_int_equal(dt_parse_iso(span_of("2019-02-03T23:30:00-02:00"), 0, &d), 0);
	fmt_ts(d, o);
	assert_string_equal(o, "2019-02-04 01:30:00");
	assert_int_equal(dt_parse_iso(span_of("20190203"), DT_TZ_KEEP, &d), 0);
	assert_int_equal(d.prec, DT_DAY);
	assert_int_equal(dt_parse_iso(span_of("2019-02-30"), DT_TZ_KEEP, &d), -E_DATE);
	assert_int_equal(dt_parse_iso(span_of("2019-2-3"), DT_TZ_KEEP, &d), -E_DATE);
	assert_int_equal(dt_parse_fmt(span_of("1/5/2023"), "%m/%d/%Y", DT_TZ_KEEP, &d), 0);
	fmt_ts(d, o);
	assert_string_equal(o, "2023-01-05 00:00:00");
	assert_int_equal(dt_parse_fmt(span_of("05.01.2023 14:03"), "%d.%m.%Y %H:%M", DT_TZ_KEEP, &d), 0);
	assert_int_equal(d.sec, 14 * 3600 + 3 * 60);
	assert_int_equal(dt_parse_fmt(span_of("2023-01-05T10:00:00Z"), "%Y-%m-%d%T", DT_TZ_KEEP, &d), 0);
	assert_int_equal(dt_parse_fmt(span_of("2023-01-05"), "%Y-%m-%d%T", DT_TZ_KEEP, &d), 0);
	assert_int_equal(d.prec, DT_DAY);
	assert_int_equal(dt_parse_fmt(span_of("2023-01-05x"), "%Y-%m-%d", DT_TZ_KEEP, &d), -E_DATE);
	/* round trip of the civil-day arithmetic over four centuries */
	for (int32_t day = -719468 + 400000; day < 200000; day += 97) {
		int y, m, dd;
		date_to_ymd(day, &y, &m, &dd);
		assert_int_equal(date_from_ymd(y, m, dd), day);
	}
	int tz;
	assert_int_equal(tz_parse_offset("+05:30", &tz), 0);
	assert_int_equal(tz, 330);
	assert_int_equal(tz_parse_offset("-0500", &tz), 0);
	assert_int_equal(tz, -300);
	assert_int_equal(tz_parse_offset("EST", &tz), -1);
}

static void test_spans(void **state)
{
	(void)state;
	int64_t v;
	double x;
	assert_int_equal(span_to_i64(span_of(" 42 "), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(span_to_i64(span_of("-9223372036854775808"), &v), 0);
	assert_int_equal(span_to_i64(span_of("9223372036854775808"), &v), -1);
	assert_int_equal(span_to_i64(span_of("4x"), &v), -1);
	assert_int_equal(span_to_double(span_of("1.5e3"), &x), 0);
	assert_true(x == 1500.0);
	assert_int_equal(span_to_double(span_of("nan"), &x), -1);
	assert_int_equal(span_to_double(span_of("1e999"), &x), -1);
	assert_true(span_utf8_valid(span_of("h\xc3\xa9llo")));
	assert_false(span_utf8_valid(span_of("h\xc3llo")));
	assert_false(span_utf8_valid(span_of("\xed\xa0\x80")));  /* surrogate */
	assert_false(span_utf8_valid(span_of("\xc0\xaf")));      /* overlong */
	struct span head, rest = span_cut(span_of("a^b^c"), '^', &head);
	assert_true(span_eq_str(head, "a"));
	assert_true(span_eq_str(rest, "b^c"));
	assert_true(span_ieq_str(span_of("LOINC"), "loinc"));
}

/* mem_eq_short and mem_copy_short agree with memcmp and memcpy at every
 * length and every position of a difference, and write nothing outside. */
static void test_short_strings(void **state)
{
	(void)state;
	char a[48], b[48], d[64];
	for (size_t i = 0; i < sizeof a; i++)
		a[i] = b[i] = (char)('a' + i % 26);
	for (size_t n = 0; n <= 40; n++) {
		assert_true(mem_eq_short(a, b, n));
		for (size_t k = 0; k < n; k++) {
			b[k] ^= 1;
			if (mem_eq_short(a, b, n))
				fail_msg("length %zu: a difference at %zu not seen", n, k);
			b[k] ^= 1;
		}
		memset(d, '#', sizeof d);
		mem_copy_short(d + 8, a, n);
		assert_memory_equal(d + 8, a, n);
		for (size_t k = 0; k < sizeof d; k++)
			if ((k < 8 || k >= 8 + n) && d[k] != '#')
				fail_msg("length %zu: byte %zu written", n, k);
	}
}

static void test_ini(void **state)
{
	(void)state;
	struct arena a;
	struct ini ini;
	struct err e = { 0 };
	arena_init(&a, 0);
	const char *text = "# comment\n[omopipe]\nworkers = 3\n\n[site north]\nname = \"North  Hospital\"\nfeed = a\nfeed = b\n";
	assert_int_equal(ini_parse(&ini, "x.conf", text, strlen(text), &a, &e), 0);
	assert_int_equal(ini.n, 4);
	assert_string_equal(ini_get(&ini, "site", "north", "name")->value, "North  Hospital");
	assert_string_equal(ini_get(&ini, "site", "north", "feed")->value, "b");
	assert_int_equal(ini_get(&ini, "omopipe", NULL, "workers")->line, 3);
	ini_free(&ini);
	const char *bad = "[ok]\nkey value\n";
	assert_int_equal(ini_parse(&ini, "bad.conf", bad, strlen(bad), &a, &e), -E_CONFIG);
	assert_string_equal(e.pos.file, "bad.conf");
	assert_int_equal(e.pos.line, 2);
	ini_free(&ini);
	const char *bad2 = "[site north\n";
	assert_int_equal(ini_parse(&ini, "b2.conf", bad2, strlen(bad2), &a, &e), -E_CONFIG);
	assert_int_equal(e.pos.line, 1);
	ini_free(&ini);
	arena_free(&a);
}

static void test_hash(void **state)
{
	(void)state;
	struct hash128 a = hash128("abc", 3), b = hash128("abd", 3), c = hash128("abc", 3);
	assert_true(a.lo == c.lo && a.hi == c.hi);
	assert_false(a.lo == b.lo);
	/* the stream hash depends on the content only, not on how it is fed */
	char *data = xmalloc(100000);
	for (int i = 0; i < 100000; i++)
		data[i] = (char)(i * 7 + i / 13);
	struct hash_stream s1, s2;
	hash_stream_init(&s1);
	hash_stream_add(&s1, data, 100000);
	hash_stream_init(&s2);
	for (size_t off = 0, step = 1; off < 100000; off += step, step = step * 3 % 9973 + 1)
		hash_stream_add(&s2, data + off, off + step > 100000 ? 100000 - off : step);
	struct hash128 h1 = hash_stream_end(&s1), h2 = hash_stream_end(&s2);
	assert_true(h1.lo == h2.lo && h1.hi == h2.hi);
	data[5000] ^= 1;
	hash_stream_init(&s1);
	hash_stream_add(&s1, data, 100000);
	struct hash128 h3 = hash_stream_end(&s1);
	assert_false(h3.lo == h1.lo && h3.hi == h1.hi);
	free(data);
}

/* Read everything through a window with a given read size; return a copy. */
static char *read_all(const void *p, size_t n, size_t max_read, size_t *out_n)
{
	struct win w;
	struct err e = { 0 };
	assert_int_equal(win_open_mem(&w, p, n, 1 << 20, &e), 0);
	w.rd.max_read = max_read;
	struct buf b = BUF_INIT;
	for (;;) {
		if (w.beg == w.end) {
			int rc = win_more(&w, &e);
			assert_true(rc >= 0);
			if (rc == 0)
				break;
		}
		buf_append(&b, w.buf + w.beg, w.end - w.beg);
		w.beg = w.end;
	}
	win_close(&w);
	*out_n = b.n;
	return buf_take(&b);
}

static void test_io_plain_and_zstd(void **state)
{
	(void)state;
	size_t n = 300000, zn, k;
	char *src = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = (char)('a' + i % 26);
	char *z = xmalloc(ZSTD_compressBound(n));
	zn = ZSTD_compress(z, ZSTD_compressBound(n), src, n, 3);
	assert_false(ZSTD_isError(zn));
	size_t sizes[] = { 1, 7, 4096, (size_t)-1 };
	for (size_t s = 0; s < 4; s++) {
		char *a = read_all(src, n, sizes[s], &k);
		assert_int_equal(k, n);
		assert_memory_equal(a, src, n);
		free(a);
		char *b = read_all(z, zn, sizes[s], &k);
		assert_int_equal(k, n);
		assert_memory_equal(b, src, n);
		free(b);
	}
	/* a truncated zstd stream is an I/O error, not silent short data */
	struct win w;
	struct err e = { 0 };
	assert_int_equal(win_open_mem(&w, z, zn / 2, 1 << 20, &e), 0);
	int rc;
	do {
		w.beg = w.end;
		rc = win_more(&w, &e);
	} while (rc > 0);
	assert_int_equal(rc, -E_IO);
	win_close(&w);
	/* the window refuses a record larger than its maximum */
	assert_int_equal(win_open_mem(&w, src, n, 1000, &e), 0);
	do
		rc = win_more(&w, &e); /* never consumes */
	while (rc > 0);
	assert_int_equal(rc, -E_TOO_LARGE);
	win_close(&w);
	free(src);
	free(z);
	/* a missing file names itself */
	struct rd r;
	assert_int_equal(rd_open(&r, "/nonexistent/file.hl7", &e), -E_INPUT);
	assert_non_null(strstr(e.msg, "/nonexistent/file.hl7"));
}

static void test_arena_and_buf(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 128);
	char *p = arena_strdup(&a, "hello");
	void *big = arena_alloc(&a, 10000); /* larger than a chunk */
	memset(big, 1, 10000);
	assert_string_equal(p, "hello");
	assert_int_equal(((uintptr_t)arena_alloc(&a, 3)) % 16, 0);
	arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_string_equal(arena_printf(&a, "%d-%s", 7, "x"), "7-x");
	arena_free(&a);
	struct buf b = BUF_INIT;
	buf_i64(&b, INT64_MIN);
	buf_putc(&b, ' ');
	buf_i64(&b, 1234567890123LL);
	assert_string_equal(b.p, "-9223372036854775808 1234567890123");
	buf_free(&b);
}

static void test_conf(void **state)
{
	(void)state;
	char m[256];
	conf_mask_conninfo("host=x password=s3cret dbname=y", m, sizeof m);
	assert_string_equal(m, "host=x password=***** dbname=y");
	conf_mask_conninfo("password = 'a b\\' c' host=x", m, sizeof m);
	assert_null(strstr(m, "a b"));
	assert_non_null(strstr(m, "host=x"));
	conf_mask_conninfo("postgresql://etl:s3cret@db:5432/omop", m, sizeof m);
	assert_null(strstr(m, "s3cret"));
	assert_true(conf_valid_ident("cdm_54"));
	assert_false(conf_valid_ident("Cdm"));
	assert_false(conf_valid_ident("1cdm"));
	assert_true(conf_valid_site_id("north-2"));
	assert_false(conf_valid_site_id("North"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates_hl7),
		cmocka_unit_test(test_dates_hl7_fixed),
		cmocka_unit_test(test_dates_iso_and_formats),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_short_strings),
		cmocka_unit_test(test_ini),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_io_plain_and_zstd),
		cmocka_unit_test(test_arena_and_buf),
		cmocka_unit_test(test_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
