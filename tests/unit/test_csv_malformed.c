/*
 * test_csv_malformed.c - the CSV extractor on malformed and unusual input,
 * a vendor layout that is only a profile, and broken profiles.
 *
 * Fixtures (tests/fixtures/csv/):
 *   malformed/observations.csv  BOM; wrong column count (too few, too many),
 *                               bad date, blank line, quoted delimiter,
 *                               embedded newline, invalid UTF-8, no patient,
 *                               trailing delimiter, non-number, unknown value
 *                               type, broken quote (then resync)
 *   malformed/encounters.csv    CRLF, a quoted CRLF, blank line, a time with
 *                               an offset, no line end at the end
 *   malformed/patients.csv      impossible birth date, no Id, bad death date
 *   vendor/acme.conf + files    headerless, semicolons, Latin-1, day-first
 *                               dates, local times, value ranges
 * Every row's outcome (loaded / quarantined with reason / skipped) and
 * position are checked, whole and one byte at a time.
 */
#include "testutil.h"
#include "etl/extract/csv_extract.h"
#include "etl/extract/extract.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/path.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* ---- a sink that records every row's outcome ---- */

struct outcome {
	uint64_t record, line, offset;
	char status;           /* L loaded, Q quarantined, S skipped */
	int code;              /* quarantine reason */
	char where[96];
	char file[256];
	int nrec;
	struct record first;   /* the first record (spans copied below) */
	char text[4][128];     /* code, code.display, value.text, event text / location city */
	int32_t sec, day;
};

struct rsink {
	struct sink base;
	struct outcome o[64];
	size_t n;
	int open;
};

static void copy_span(char *dst, struct span s)
{
	span_copy(s, dst, 128);
}

static void r_begin(struct sink *b, const struct err_pos *pos, struct span raw)
{
	struct rsink *s = (struct rsink *)b;
	(void)raw;
	assert_false(s->open);
	assert_true(s->n < 64);
	s->open = 1;
	struct outcome *o = &s->o[s->n];
	memset(o, 0, sizeof *o);
	o->record = pos->record;
	o->line = pos->line;
	o->offset = pos->offset;
	snprintf(o->file, sizeof o->file, "%s", pos->file);
}

static int r_emit(struct sink *b, const struct record *r, struct err *e)
{
	struct rsink *s = (struct rsink *)b;
	(void)e;
	assert_true(s->open);
	struct outcome *o = &s->o[s->n];
	if (o->nrec++ == 0) {
		o->first = *r;
		if (r->kind == REC_EVENT) {
			copy_span(o->text[0], r->u.event.code.code);
			copy_span(o->text[1], r->u.event.code.display);
			copy_span(o->text[2], r->u.event.value.text);
			copy_span(o->text[3], r->u.event.text);
			o->day = r->u.event.start.day;
			o->sec = r->u.event.start.sec;
		} else if (r->kind == REC_VISIT) {
			copy_span(o->text[0], r->u.visit.key);
			copy_span(o->text[1], r->u.visit.cls.code);
			o->day = r->u.visit.start.day;
			o->sec = r->u.visit.start.sec;
		} else if (r->kind == REC_PERSON) {
			copy_span(o->text[0], r->u.person.key);
			copy_span(o->text[1], r->u.person.gender.code);
			o->day = r->u.person.birth.day;
		}
	}
	if (r->kind == REC_LOCATION)
		copy_span(o->text[3], r->u.location.city);
	return 0;
}

static void close_row(struct rsink *s, char status)
{
	assert_true(s->open);
	s->open = 0;
	s->o[s->n++].status = status;
}

static int r_end(struct sink *b, struct err *e)
{
	(void)e;
	close_row((struct rsink *)b, 'L');
	return 0;
}

static int r_quarantine(struct sink *b, const struct err *why, struct err *e)
{
	struct rsink *s = (struct rsink *)b;
	(void)e;
	struct outcome *o = &s->o[s->n];
	o->code = why->code;
	snprintf(o->where, sizeof o->where, "%s", why->pos.where);
	/* the position of the error is the row's */
	assert_int_equal(why->pos.line, o->line);
	assert_int_equal(why->pos.record, o->record);
	assert_string_equal(why->pos.file, o->file);
	assert_true(why->msg[0] != '\0');
	close_row(s, 'Q');
	return 0;
}

static int r_skip(struct sink *b, const char *reason, struct err *e)
{
	(void)e;
	assert_non_null(reason);
	close_row((struct rsink *)b, 'S');
	return 0;
}

static void r_note(struct sink *b, const char *what)
{
	(void)b;
	(void)what;
}

static const struct sink_ops r_ops = { r_begin, r_emit, r_end, r_quarantine, r_skip, r_note, NULL, NULL };

static int run_file(const char *profile, const struct conf_site *site, const char *path, size_t read_size,
                    struct rsink *s, struct err *e)
{
	const struct extract_ops *op = extract_find("csv");
	struct extractor *x;
	memset(s, 0, sizeof *s);
	s->base.ops = &r_ops;
	int rc = op->open(&x, profile, site, e);
	if (rc < 0)
		return rc;
	csv_extract_set_read_size(x, read_size);
	assert_true(op->wants(x, path));
	rc = op->run(x, path, &s->base, e);
	op->close(x);
	assert_false(s->open);
	return rc;
}

struct want {
	uint64_t line;
	char status;
	int code;
	const char *where;
};

static void check_rows(const struct rsink *s, const struct want *w, size_t n)
{
	if (s->n != n)
		fail_msg("%zu rows, expected %zu", s->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct outcome *o = &s->o[i];
		if (o->line != w[i].line || o->status != w[i].status || o->code != w[i].code ||
		    (w[i].where && strcmp(o->where, w[i].where) != 0))
			fail_msg("row %zu: line %llu %c code %d where '%s'; expected line %llu %c code %d where '%s'",
			         i + 1, (unsigned long long)o->line, o->status, o->code, o->where,
			         (unsigned long long)w[i].line, w[i].status, w[i].code, w[i].where ? w[i].where : "");
		assert_int_equal(o->record, i + 1);
	}
}

static void test_observations(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ 2, 'L', 0, NULL },
		{ 3, 'Q', E_COLUMNS, "TYPE (first missing)" },
		{ 4, 'Q', E_DATE, "DATE" },
		{ 6, 'L', 0, NULL },
		{ 7, 'L', 0, NULL },
		{ 9, 'L', 0, NULL },
		{ 10, 'Q', E_ENCODING, "DESCRIPTION" },
		{ 11, 'Q', E_NO_PATIENT, "PATIENT" },
		{ 12, 'L', 0, NULL },
		{ 13, 'Q', E_VALUE, "VALUE" },
		{ 14, 'Q', E_COLUMNS, "column 10 (extra)" },
		{ 15, 'Q', E_VALUE, "TYPE" },
		{ 16, 'Q', E_PARSE, "row" },
		{ 17, 'L', 0, NULL },
	};
	const char *path = tu_fixture("csv/malformed/observations.csv");
	for (size_t rs = 0; rs <= 1; rs++) {
		struct rsink s;
		struct err e = { 0 };
		assert_int_equal(run_file("synthea", NULL, path, rs, &s, &e), 0);
		check_rows(&s, w, sizeof w / sizeof *w);
		/* the first data row starts after the BOM and the header */
		assert_int_equal(s.o[0].offset, 3 + strlen("DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"));
		assert_string_equal(s.o[0].text[2], "127.9");
		assert_int_equal(s.o[0].first.u.event.value.kind, VAL_NUM);
		/* a quoted field with the delimiter */
		assert_string_equal(s.o[3].text[1], "Tobacco smoking status, NHIS");
		assert_int_equal(s.o[3].first.u.event.value.kind, VAL_TEXT);
		/* a quoted field across two lines, with escaped quotes */
		assert_string_equal(s.o[4].text[1], "multi\nline \"quoted\" description");
		assert_string_equal(s.o[5].text[1], "Caf\xc3\xa9 ok");
		/* the trailing delimiter adds no value */
		assert_string_equal(s.o[8].text[0], "X5");
		assert_string_equal(s.o[13].text[2], "130");
	}
}

static void test_encounters_crlf(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ 2, 'L', 0, NULL },
		{ 5, 'L', 0, NULL },
		{ 6, 'L', 0, NULL },
	};
	const char *path = tu_fixture("csv/malformed/encounters.csv");
	struct conf_site site = { "north", "North", 60, "+01:00", NULL, 0 };
	for (size_t rs = 0; rs <= 1; rs++) {
		struct rsink s;
		struct err e = { 0 };
		assert_int_equal(run_file("synthea", NULL, path, rs, &s, &e), 0);
		check_rows(&s, w, 3);
		assert_string_equal(s.o[0].text[0], "e1");
		assert_string_equal(s.o[0].text[1], "ambulatory");
		assert_int_equal(s.o[0].sec, 16 * 3600 + 17 * 60 + 47);
		/* without a site zone the wall time is kept as written, offset or not */
		assert_int_equal(s.o[1].sec, 16 * 3600 + 17 * 60 + 47);
		assert_int_equal(s.o[1].first.u.visit.end.prec, DT_NONE);
		assert_int_equal(s.o[2].day, date_from_ymd(2023, 1, 29));
		assert_int_equal(s.o[2].sec, -1);
		/* a site at +01:00: Z and -05:00 times are converted */
		assert_int_equal(run_file("synthea", &site, path, rs, &s, &e), 0);
		assert_int_equal(s.o[0].sec, 17 * 3600 + 17 * 60 + 47);
		assert_int_equal(s.o[1].day, date_from_ymd(2023, 1, 28));
		assert_int_equal(s.o[1].sec, 22 * 3600 + 17 * 60 + 47);
	}
}

static void test_patients(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ 2, 'L', 0, NULL },
		{ 3, 'Q', E_DATE, "BIRTHDATE" },
		{ 4, 'Q', E_NO_PATIENT, "Id" },
		{ 5, 'Q', E_DATE, "DEATHDATE" },
		{ 6, 'L', 0, NULL },
	};
	struct rsink s;
	struct err e = { 0 };
	assert_int_equal(run_file("synthea", NULL, tu_fixture("csv/malformed/patients.csv"), 0, &s, &e), 0);
	check_rows(&s, w, 5);
	assert_int_equal(s.o[0].nrec, 2); /* person + location */
	assert_int_equal(s.o[4].nrec, 3); /* person + location + death */
	assert_string_equal(s.o[0].text[3], "Town");
}

/* A NUL byte, which no database text holds (a COPY with it would fail the
 * whole file): its row quarantined at its column, the others load. */
static void test_nul_byte(void **state)
{
	(void)state;
	char path[4200];
	snprintf(path, sizeof path, "%s/patients.csv", tu_tmpdir("csv_nul"));
	/* the rows of malformed/patients.csv's first, one with a NUL in CITY */
#define HEAD "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY," \
	     "GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE\n"
#define ROW(id, city) id ",1990-01-02,,999-00-0000,,,,First,Last,,,,white,nonhispanic,F,Somewhere,1 Main St," city \
	",Massachusetts,County,01234,42.0,-71.0,1.0,1.0\n"
	static const char in[] = HEAD ROW("p1", "Town") ROW("p2", "To\0wn") ROW("p3", "Town");
#undef ROW
#undef HEAD
	assert_int_equal(tu_write_bytes(path, in, sizeof in - 1), 0);
	static const struct want w[] = {
		{ 2, 'L', 0, NULL },
		{ 3, 'Q', E_ENCODING, "CITY" },
		{ 4, 'L', 0, NULL },
	};
	struct rsink s;
	struct err e = { 0 };
	assert_int_equal(run_file("synthea", NULL, path, 0, &s, &e), 0);
	check_rows(&s, w, 3);
}

/* A vendor layout that is only a profile: no header, ';', Latin-1, local times. */
static void test_vendor_profile(void **state)
{
	(void)state;
	char profile[4096]; /* tu_fixture's buffers are reused */
	snprintf(profile, sizeof profile, "%s", tu_fixture("csv/vendor/acme.conf"));
	struct conf_site site = { "acme", "ACME", 0, "UTC", NULL, 0 };
	struct rsink s;
	struct err e = { 0 };

	int rc = run_file(profile, &site, tu_fixture("csv/vendor/acme_pat_20240201.txt"), 1, &s, &e);
	if (rc < 0)
		fail_msg("%s:%llu: %s", e.pos.file, (unsigned long long)e.pos.line, e.msg);
	static const struct want wp[] = { { 1, 'L', 0, NULL }, { 2, 'Q', E_DATE, "column 2" } };
	check_rows(&s, wp, 2);
	assert_string_equal(s.o[0].text[0], "ACME|1001");
	assert_string_equal(s.o[0].text[1], "F");
	assert_int_equal(s.o[0].day, date_from_ymd(1980, 3, 2));
	assert_string_equal(s.o[0].text[3], "M\xc3\xbcnchen"); /* Latin-1 -> UTF-8 */

	/* the same lab file, plain and compressed */
	const char *tmp = tu_tmpdir("csv_vendor");
	char zpath[4200];
	snprintf(zpath, sizeof zpath, "%s/acme_lab_20240201.txt.zst", tmp);
	size_t n;
	char *p = tu_slurp(tu_fixture("csv/vendor/acme_lab_20240201.txt"), &n);
	assert_non_null(p);
	size_t cap = ZSTD_compressBound(n);
	char *z = xmalloc(cap);
	size_t zn = ZSTD_compress(z, cap, p, n, 3);
	FILE *f = fopen(zpath, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(z, 1, zn, f), zn);
	fclose(f);
	free(z);
	free(p);
	char plain[4096];
	snprintf(plain, sizeof plain, "%s", tu_fixture("csv/vendor/acme_lab_20240201.txt"));
	const char *labs[2] = { plain, zpath };
	for (int k = 0; k < 2; k++) {
		rc = run_file(profile, &site, labs[k], 0, &s, &e);
		if (rc < 0)
			fail_msg("%s:%llu: %s", e.pos.file, (unsigned long long)e.pos.line, e.msg);
		static const struct want wl[] = { { 1, 'L', 0, NULL }, { 2, 'L', 0, NULL }, { 3, 'Q', E_DATE, "column 4" } };
		check_rows(&s, wl, 3);
		const struct rec_event *ev = &s.o[0].first.u.event;
		assert_int_equal(ev->origin, ORIG_LAB);
		assert_int_equal(ev->value.kind, VAL_NUM);
		assert_true(ev->value.num == 5.5);
		assert_true(ev->value.has_low && ev->value.low == 3.9);
		assert_true(ev->value.has_high && ev->value.high == 5.5);
		assert_string_equal(s.o[0].text[3], "H\xc3\xa4molyse");
		/* 10:30 at +01:00 is 09:30 UTC; 00:30 on New Year's Eve is the day before */
		assert_int_equal(s.o[0].sec, 9 * 3600 + 30 * 60);
		assert_int_equal(s.o[1].day, date_from_ymd(2023, 12, 30));
		assert_int_equal(s.o[1].sec, 23 * 3600 + 30 * 60);
		assert_true(s.o[1].first.u.event.value.has_low && s.o[1].first.u.event.value.low == 12);
	}
	/* "<5.5": the comparator is kept */
	assert_int_equal(s.o[0].first.u.event.value.op.n, 1);
}

/* An event needs its start: a lab row without one is quarantined at that
 * column (the loader refused it before, with no position). */
static void test_event_without_start(void **state)
{
	(void)state;
	char profile[4096], path[4200];
	snprintf(profile, sizeof profile, "%s", tu_fixture("csv/vendor/acme.conf"));
	snprintf(path, sizeof path, "%s/acme_lab_20240201.txt", tu_tmpdir("csv_nostart"));
	assert_int_equal(tu_write(path, "L1;1081;2345-7;01.02.2024 10:30;98;mg/dL;70-99;N\n"
	                                "L2;1081;2345-7;;98;mg/dL;70-99;N\n"),
	                 0);
	struct conf_site site = { "acme", "ACME", 0, "UTC", NULL, 0 };
	struct rsink s;
	struct err e = { 0 };
	assert_int_equal(run_file(profile, &site, path, 0, &s, &e), 0);
	static const struct want w[] = { { 1, 'L', 0, NULL }, { 2, 'Q', E_MISSING, "column 4" } };
	check_rows(&s, w, 2);
}

/* Profiles with mistakes fail with file:line and what is wrong. */
static void check_bad_profile(const char *text, int line, const char *what)
{
	const char *tmp = tu_tmpdir("csv_badprof");
	char path[4200];
	snprintf(path, sizeof path, "%s/bad.conf", tmp);
	assert_int_equal(tu_write(path, text), 0);
	struct extractor *x;
	struct err e = { 0 };
	int rc = extract_find("csv")->open(&x, path, NULL, &e);
	assert_int_equal(rc, -E_CONFIG);
	if (!strstr(e.msg, what) || (line && e.pos.line != (uint64_t)line))
		fail_msg("got line %llu '%s', expected line %d '%s'", (unsigned long long)e.pos.line, e.msg, line, what);
}

static void test_bad_profiles(void **state)
{
	(void)state;
	const char *head = "[file f]\nmatch = f.csv\n[record r]\nfile = f\n";
	char buf[1024];
	snprintf(buf, sizeof buf, "%skind = condition\nperson = P\ncolour = X\n", head);
	check_bad_profile(buf, 7, "'colour' is not a field");
	snprintf(buf, sizeof buf, "%skind = condition\nperson = upper(P)\n", head);
	check_bad_profile(buf, 6, "unknown function");
	snprintf(buf, sizeof buf, "%skind = condition\ncode = C\n", head);
	check_bad_profile(buf, 4, "needs 'person");
	snprintf(buf, sizeof buf, "%skind = thing\nperson = P\n", head);
	check_bad_profile(buf, 5, "kind:");
	snprintf(buf, sizeof buf, "[csv]\ndate_format = %%d.%%Q\n%skind = condition\nperson = P\n", head);
	check_bad_profile(buf, 2, "date_format");
	snprintf(buf, sizeof buf, "%skind = condition\nperson = map(nomap, P)\n", head);
	check_bad_profile(buf, 6, "no [map NAME]");
	snprintf(buf, sizeof buf, "%skind = condition\nperson = P\nvalue.low = match(V, '(')\n", head);
	check_bad_profile(buf, 7, "bad regex");
	check_bad_profile("[file f]\nmatch = f.csv\n", 2, "no [record] reads it");
	check_bad_profile("[csv]\nheader = no\n[file f]\nmatch = f.csv\nskip = x\n", 4, "columns = N");
	check_bad_profile("[sheet]\nx = 1\n", 2, "unknown section");
}

/* A column the profile names but the header lacks stops the file (hard error, not one row per row). */
static void test_missing_column(void **state)
{
	(void)state;
	const char *tmp = tu_tmpdir("csv_missing");
	char path[4200];
	snprintf(path, sizeof path, "%s/conditions.csv", tmp);
	assert_int_equal(tu_write(path, "START,STOP,PATIENT,ENCOUNTER,DESCRIPTION\n2020-01-01,,p,e,d\n"), 0);
	struct rsink s;
	struct err e = { 0 };
	assert_int_equal(run_file("synthea", NULL, path, 0, &s, &e), -E_INPUT);
	assert_non_null(strstr(e.msg, "no column CODE"));
	assert_int_equal(s.n, 0);
}

/* Files the profile does not describe are not wanted, and not read. */
static void test_wants(void **state)
{
	(void)state;
	const struct extract_ops *op = extract_find("csv");
	struct extractor *x;
	struct err e = { 0 };
	assert_int_equal(op->open(&x, "synthea", NULL, &e), 0);
	assert_true(op->wants(x, "/feeds/north/patients.csv"));
	assert_true(op->wants(x, "/feeds/north/PATIENTS.CSV.zst"));
	assert_false(op->wants(x, "/feeds/north/states.csv"));
	assert_false(op->wants(x, "/feeds/north/patients.csv.bak"));
	struct rsink s;
	memset(&s, 0, sizeof s);
	s.base.ops = &r_ops;
	assert_int_equal(op->run(x, "/feeds/north/states.csv", &s.base, &e), -E_INPUT);
	assert_int_equal(s.n, 0);
	op->close(x);
	/* no such profile */
	assert_int_equal(op->open(&x, "no-such-vendor", NULL, &e), -E_CONFIG);
	assert_non_null(strstr(e.msg, "no-such-vendor"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observations),
		cmocka_unit_test(test_encounters_crlf),
		cmocka_unit_test(test_patients),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_vendor_profile),
		cmocka_unit_test(test_event_without_start),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_missing_column),
		cmocka_unit_test(test_wants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
