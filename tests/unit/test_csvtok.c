/*
 * test_csvtok.c - the delimited-text tokenizer (core/csvtok.h).
 *
 * Each case is tokenized whole, one byte per read (the window's read size
 * 1) and 7 bytes per read, each with the AVX2 fast path and with the SSE2
 * one, and all must give exactly the expected records: fields, first line,
 * byte offset, the ASCII flag, and soft errors with their line.
 */
#include "testutil.h"
#include "core/buf.h"
#include "core/csvtok.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Every record as "line@offset[a]: f1|f2|..." (a: known ASCII), errors as "ERR code@line: raw". */
static int use_avx2 = 1;  /* 0: the SSE2 / scalar path even where the CPU has AVX2 */

static char *tokenize(const char *in, size_t n, char delim, char quote, size_t max, size_t read_size)
{
	struct csvtok t;
	struct err e = { 0 };
	struct buf out = BUF_INIT;
	assert_int_equal(csvtok_open_mem(&t, in, n, delim, quote, max, &e), 0);
	if (read_size)
		t.w.rd.max_read = read_size;
	t.avx2 = t.avx2 && use_avx2;
	for (;;) {
		int rc = csvtok_next(&t, &e);
		if (rc == 0)
			break;
		if (rc < 0) {
			assert_true(err_is_soft(-rc));
			assert_int_equal(e.pos.line, t.line);
			buf_printf(&out, "ERR %d@%llu: ", -rc, (unsigned long long)t.line);
			buf_append(&out, t.raw.p, t.raw.n < 40 ? t.raw.n : 40);
			buf_putc(&out, '\n');
			continue;
		}
		buf_printf(&out, "%llu@%llu%s:", (unsigned long long)t.line, (unsigned long long)t.offset, t.ascii ? "a" : "");
		for (size_t i = 0; i < t.nf; i++) {
			buf_putc(&out, i ? '|' : ' ');
			for (size_t k = 0; k < t.f[i].n; k++) {
				char c = t.f[i].p[k];
				if (c == '\n')
					buf_puts(&out, "\\n");
				else if (c == '\r')
					buf_puts(&out, "\\r");
				else
					buf_putc(&out, c);
			}
		}
		buf_putc(&out, '\n');
	}
	csvtok_close(&t);
	return buf_take(&out);
}

static void check_one(const char *in, size_t n, char delim, char quote, size_t max, const char *want)
{
	char *whole = tokenize(in, n, delim, quote, max, 0);
	char *bytes = tokenize(in, n, delim, quote, max, 1);
	char *small = tokenize(in, n, delim, quote, max, 7);
	if (strcmp(whole, want) != 0)
		fail_msg("whole input:\n%s\nexpected:\n%s", whole, want);
	if (strcmp(bytes, want) != 0)
		fail_msg("one byte at a time:\n%s\nexpected:\n%s", bytes, want);
	if (strcmp(small, want) != 0)
		fail_msg("7 bytes at a time:\n%s\nexpected:\n%s", small, want);
	free(whole);
	free(bytes);
	free(small);
}

/* Every case with the AVX2 path (where the CPU has it) and without. */
static void check_n(const char *in, size_t n, char delim, char quote, size_t max, const char *want)
{
	use_avx2 = 1;
	check_one(in, n, delim, quote, max, want);
	use_avx2 = 0;
	check_one(in, n, delim, quote, max, want);
	use_avx2 = 1;
}

static void check(const char *in, const char *want)
{
	check_n(in, strlen(in), ',', '"', 0, want);
}

static void test_plain(void **state)
{
	(void)state;
	check("a,b,c\n1,2,3\n", "1@0a: a|b|c\n2@6a: 1|2|3\n");
	/* no line end at the end of the file */
	check("a,b\n1,2", "1@0a: a|b\n2@4a: 1|2\n");
	/* empty fields and a trailing delimiter */
	check(",,\na,b,\n", "1@0a: ||\n2@3a: a|b|\n");
	/* a field holding a lone CR keeps it */
	check("a\rb,c\n", "1@0a: a\\rb|c\n");
}

/* Rows with bytes beyond ASCII in one 32-byte block (the index notes such
 * a byte per block and per line in it): each row knows it is not ASCII, so
 * that it is validated or transcoded. */
static void test_high_bytes_row_after_row(void **state)
{
	(void)state;
	check("\xe9,a\n\xe9,b\nx,\xe9\nc,0123456789012345678901234567890123456789\n",
	      "1@0: \xe9|a\n2@4: \xe9|b\n3@8: x|\xe9\n4@12a: c|0123456789012345678901234567890123456789\n");
}

static void test_crlf_bom_blank(void **state)
{
	(void)state;
	check("a,b\r\n1,2\r\n", "1@0a: a|b\n2@5a: 1|2\n");
	/* BOM: skipped, offsets count it */
	check("\xEF\xBB\xBF" "a,b\n1,2\n", "1@3a: a|b\n2@7a: 1|2\n");
	/* blank lines (LF, CRLF) are no records; lines still count */
	check("a\n\n\r\nb\n\n", "1@0a: a\n4@5a: b\n");
	/* an empty file and a file of blank lines */
	check("", "");
	check("\n\r\n\n", "");
}

static void test_quotes(void **state)
{
	(void)state;
	check("x,\"a,b\",\"he said \"\"hi\"\"\"\n", "1@0: x|a,b|he said \"hi\"\n");
	/* embedded newline: the next record starts on line 3 */
	check("1,\"two\nlines\",3\n4,5,6\n", "1@0: 1|two\\nlines|3\n3@16a: 4|5|6\n");
	/* CRLF inside and after a quoted field */
	check("\"a\r\nb\",c\r\nd,e\r\n", "1@0: a\\r\\nb|c\n3@10a: d|e\n");
	/* an empty quoted field, a quoted last field, quoted at end of file */
	check("\"\",x,\"y\"\n\"z\"", "1@0: |x|y\n2@9: z\n");
	/* text after the closing quote joins the field (lenient); a quote inside a field is literal */
	check("\"ab\"cd,e\nab\"c,d\n", "1@0: abcd|e\n2@9: ab\"c|d\n");
	/* a quoted field ending the line with CRLF */
	check("a,\"b\"\r\nc\r\n", "1@0: a|b\n2@7a: c\n");
}

static void test_unterminated(void **state)
{
	(void)state;
	/* the broken record is reported at its first line; reading resumes on the next line */
	check("a,b\n\"bad,c\nd,e\n", "1@0a: a|b\nERR 32@2: \"bad,c\n3@11a: d|e\n");
	check("a,\"b\r\nc,d", "ERR 32@1: a,\"b\n2@6a: c|d\n");
}

static void test_no_quote_char(void **state)
{
	(void)state;
	/* Athena download: tab separated, quote characters are data */
	const char *in = "a\t\"b\tc\"\n1\t2\t3\n";
	check_n(in, strlen(in), '\t', '\0', 0, "1@0a: a|\"b|c\"\n2@8a: 1|2|3\n");
}

static void test_long_rows(void **state)
{
	(void)state;
	/* rows longer than the 16-byte blocks, fields across block edges, non-ASCII late in the row */
	struct buf in = BUF_INIT, want = BUF_INIT;
	size_t off = 0;
	for (int r = 0; r < 40; r++) {
		struct buf row = BUF_INIT;
		for (int f = 0; f < r % 13 + 1; f++) {
			if (f)
				buf_putc(&row, ';');
			for (int k = 0; k < (r * 7 + f * 3) % 23 + 1; k++)
				buf_putc(&row, (char)('a' + (r + f + k) % 26));
		}
		int utf = r % 5 == 4;
		if (utf)
			buf_puts(&row, "\xC3\xA9");
		buf_printf(&want, "%d@%zu%s: ", r + 1, off, utf ? "" : "a");
		for (size_t k = 0; k < row.n; k++)
			buf_putc(&want, row.p[k] == ';' ? '|' : row.p[k]);
		buf_putc(&want, '\n');
		buf_append(&in, row.p, row.n);
		buf_putc(&in, '\n');
		off += row.n + 1;
		buf_free(&row);
	}
	check_n(in.p, in.n, ';', '"', 0, want.p);
	buf_free(&in);
	buf_free(&want);
}

static void test_too_large(void **state)
{
	(void)state;
	/* max_record 1024: a 2000-byte row is a soft error; the next row reads */
	struct buf in = BUF_INIT;
	buf_puts(&in, "a,b\n");
	for (int i = 0; i < 2000; i++)
		buf_putc(&in, 'x');
	buf_puts(&in, "\nc,d\n");
	char *whole = tokenize(in.p, in.n, ',', '"', 1024, 0);
	char *bytes = tokenize(in.p, in.n, ',', '"', 1024, 1);
	assert_non_null(strstr(whole, "ERR 38@2: "));
	assert_non_null(strstr(whole, "3@2005a: c|d\n"));
	assert_string_equal(whole, bytes);
	free(whole);
	free(bytes);
	buf_free(&in);
}

/*
 * Many rows (several MB): the index is refilled, compacted and rebased many
 * times; rows with quotes, CRLF, blank lines and non-ASCII bytes are mixed
 * in. Every record is checked, for several read sizes, with and without AVX2.
 */
static void test_many_rows(void **state)
{
	(void)state;
	struct buf in = BUF_INIT;
	const int rows = 120000;
	for (int r = 0; r < rows; r++) {
		buf_printf(&in, "%d,", r);
		for (int k = 0; k < r % 61; k++)
			buf_putc(&in, (char)('a' + k % 26));
		if (r % 97 == 0)
			buf_printf(&in, ",\"q,%d\"", r);
		else
			buf_printf(&in, ",v%d", r);
		if (r % 13 == 0)
			buf_puts(&in, "\xC3\xA9");
		buf_puts(&in, r % 5 == 0 ? "\r\n" : "\n");
		if (r % 1000 == 999)
			buf_putc(&in, '\n');
	}
	static const size_t reads[] = { 0, 4099, 65536 + 17 };
	for (int avx = 0; avx <= 1; avx++) {
		for (size_t ri = 0; ri < sizeof reads / sizeof *reads; ri++) {
			struct csvtok t;
			struct err e = { 0 };
			assert_int_equal(csvtok_open_mem(&t, in.p, in.n, ',', '"', 0, &e), 0);
			if (reads[ri])
				t.w.rd.max_read = reads[ri];
			t.avx2 = t.avx2 && avx;
			uint64_t line = 1;
			for (int r = 0; r < rows; r++) {
				assert_int_equal(csvtok_next(&t, &e), 1);
				char want[64];
				assert_int_equal(t.line, line);
				assert_int_equal(t.nf, 3);
				snprintf(want, sizeof want, "%d", r);
				assert_true(span_eq_str(t.f[0], want));
				assert_int_equal(t.f[1].n, (size_t)(r % 61));
				if (r % 97 == 0)
					snprintf(want, sizeof want, "q,%d", r);
				else
					snprintf(want, sizeof want, "v%d", r);
				if (r % 13 == 0)
					strcat(want, "\xC3\xA9");
				if (!span_eq_str(t.f[2], want))
					fail_msg("row %d: '%.*s', expected '%s'", r, (int)t.f[2].n, t.f[2].p, want);
				assert_int_equal(t.ascii, r % 13 != 0 && r % 97 != 0);
				line += 1 + (r % 1000 == 999);
			}
			assert_int_equal(csvtok_next(&t, &e), 0);
			/* the index stayed small */
			assert_true(t.ixcap <= 1u << 16);
			csvtok_close(&t);
		}
	}
	buf_free(&in);
}

/* zstd-compressed input gives the same records (rd_open_mem detects the frame). */
static void test_zstd(void **state)
{
	(void)state;
	const char *in = "h1,h2\n\"q,1\",x\n3,4\r\n";
	size_t cap = ZSTD_compressBound(strlen(in));
	char *z = xmalloc(cap);
	size_t zn = ZSTD_compress(z, cap, in, strlen(in), 3);
	assert_false(ZSTD_isError(zn));
	char *plain = tokenize(in, strlen(in), ',', '"', 0, 0);
	char *comp = tokenize(z, zn, ',', '"', 0, 0);
	char *comp1 = tokenize(z, zn, ',', '"', 0, 1);
	assert_string_equal(plain, "1@0a: h1|h2\n2@6: q,1|x\n3@14a: 3|4\n");
	assert_string_equal(plain, comp);
	assert_string_equal(plain, comp1);
	free(plain);
	free(comp);
	free(comp1);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_high_bytes_row_after_row),
		cmocka_unit_test(test_crlf_bom_blank),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_no_quote_char),
		cmocka_unit_test(test_long_rows),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_zstd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
