/*
 * test_hl7_fuzz.c - the HL7 v2 extractor on damaged input: messages cut,
 * spliced, repeated, with delimiters, escapes, dates, numbers and framing
 * bytes thrown in, from seeds that are the project's fixtures and every file
 * in ../shared/data/hl7v2, through every shipped profile. For each input:
 *
 *   - nothing crashes or reads out of bounds (CI runs this under ASan/UBSan);
 *   - every begin is closed once (loaded, quarantined or skipped), and every
 *     quarantine has a soft error code, a position and a reason;
 *   - what a record holds can be loaded: its text is valid UTF-8 without NUL
 *     bytes (PostgreSQL refuses both, and a refused COPY would fail the whole
 *     file), its numbers are finite, its dates well formed;
 *   - read whole, a few bytes at a time and without AVX2, it gives the same
 *     lines (sink_print: frames, records, notes, outcomes);
 *   - a good message after the damage still loads (where the damage holds no
 *     framing: MLLP bytes, batch segments or comments, which may rightly
 *     take the next message with them).
 *
 * OMO_FUZZ_ITERS inputs (default 5000) from OMO_FUZZ_SEED (default 1). The
 * input being tried is in $OMO_TEST_TMP/test_hl7_fuzz/input.hl7, so that a
 * crash leaves it behind; a failed check names the seed and iteration.
 * OMO_FUZZ_REPLAY=FILE checks that one input, through every profile.
 * OMO_FUZZ_WRITE=DIR keeps the inputs, as DIR/PROFILE/fuzz-N.hl7 (PROFILE:
 * the one it went through, profile-z for the fixture's), with what the
 * extractor made of each in DIR/counts (fuzz_keep), for
 * tests/pg/t_fuzz_load.sh.
 */
#include "testutil.h"
#include "fuzz.h"
#include "etl/extract/extract.h"
#include "etl/extract/hl7_int.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What damage is made of: delimiters, escapes good and bad, line ends,
 * framing, segment starts, dates and numbers that are almost right, value
 * types, encodings. */
static const char *const tokens[] = {
	"|", "^", "~", "\\", "&", "#", "\r", "\n", "\r\n", "\r\r", "\"\"", "|||||||", "^^^^", "~~~~~~", "&&&",
	"\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\", "\\X41\\", "\\X\\", "\\X4\\", "\\XZZ\\", "\\.br\\", "\\.sp3\\",
	"\\H\\", "\\N\\", "\\Cxxyy\\", "\\Z1\\", "\\", "\\F", "\rMSH|^~\\&|", "MSH|^~\\&|", "MSH|||||", "MSH^|~\\&",
	"\rMSH", "\rPID|1||X1^^^A^MR|", "\rPV1|1|I|", "\rOBR|1|A|B|C^D^LN|||20230101", "\rOBX|1|NM|1-8^X^LN||5|",
	"\rOBX|1|SN|1-8^X^LN||>=^10|", "\rOBX|1|CWE|1-8^X^LN||A^B^SCT|", "\rOBX|1|TX|1-8^X^LN||a~b~c|",
	"\rOBX|1|ED|", "\rEVN|A01|", "\rRXA|0|1|20230101|20230101|08^HepB^CVX|0.5|mL|", "\rRXR|IM|",
	"\rRXE|1|00006-0749^X^NDC|", "\rDG1|1||I10^Hyp^I10|", "\rPRB|AD|20230101|I10^Hyp^I10|", "\rMRG|",
	"\rZZ1|a|b|", "\rNTE|1||x", "\x0b", "\x1c\r", "\x1c", "\xef\xbb\xbf", "/*", "*/", "\r/* c */\r",
	"\rFHS|^~\\&|", "\rBHS|^~\\&|", "\rBTS|7", "\rFTS|1", "2023021", "20230230", "20231301", "202302281260",
	"20230101120000-9999", "20230101120000+2500", "20230101120000.12345", "19000229", "00000101", "99991231235959",
	"1e309", "-", ".", "+", "1.2.3", "99999999999999999999999999", "-0", "0x1F", "NaN", "inf", "<", ">=",
	"NM", "SN", "CWE", "CE", "ST", "TX", "FT", "ED", "CQ", "MO", "DT", "XYZ", "F", "C", "D", "X", "P", "RE",
	"\x80", "\xc3\xa9", "\xc3", "\xff\xfe", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x00", "\t", " ", "   ",
	"UNICODE UTF-8", "8859/1", "ASCII",
};

static const char bytes[] = "|^~\\&\r\n\"0123456789.-+<>= MSHOBXPIDZ\x0b\x1c\x80\xff\xc3";

/* --- running one input -------------------------------------------------- */

/* How an input is read: whole, a few bytes per read, SSE2 only. */
struct way {
	size_t max_read;
	int sse2;
};

/* Extract in (n bytes) through x into f (fuzz_begin .. fuzz_end). */
static void extract(struct extractor *x, const char *in, size_t n, struct way w, const char *ctx, struct fuzz_sink *f)
{
	struct win win;
	struct err e;
	memset(&e, 0, sizeof e);
	struct sink *s = fuzz_begin(f, ctx);
	assert_int_equal(win_open_mem(&win, in, n, x->prof.max_message, &e), 0);
	int avx2 = x->m.avx2;
	x->max_read = w.max_read;
	x->sse2_only = w.sse2;
	if (w.sse2)
		x->m.avx2 = 0;
	int rc = hl7x_run_win(x, &win, "fuzz.hl7", s, &e);
	x->m.avx2 = avx2;
	x->max_read = 0;
	x->sse2_only = 0;
	if (rc != 0)
		fail_msg("%s: the run stopped: %s", ctx, e.msg);
	fuzz_end(f);
}

/* A message that loads under every profile, put after the damage. */
static const char tail[] =
	"MSH|^~\\&|LAB|NORTH|OMOP|NORTH|20230301080000-0500||ORU^R01^ORU_R01|FUZZ-TAIL|P|2.5.1\r"
	"PID|1||T100^^^NORTH^MR||DOE^JANE||19800115|F\r"
	"OBR|1|P1^EPIC|F1^LAB|80048^BMP^C4|||20230301071500-0500\r"
	"OBX|1|NM|2345-7^Glucose^LN||98|mg/dL^^UCUM|70-99|N|||F|||20230301073000-0500\r";

/* Damage that may rightly take the next message with it: MLLP framing, a
 * batch or file segment, a comment. */
static int has_framing(const char *p, size_t n)
{
	static const char *const marks[] = { "FHS", "BHS", "BTS", "FTS", "/*" };
	if (memchr(p, 0x0b, n) || memchr(p, 0x1c, n))
		return 1;
	for (size_t i = 0; i + 1 < n; i++)
		for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
			if (p[i] == marks[k][0] && p[i + 1] == marks[k][1] && (!marks[k][2] || (i + 2 < n && p[i + 2] == marks[k][2])))
				return 1;
	return 0;
}

/* The checks on one input through x: read whole, in reads of `small`
 * bytes and without AVX2, the same lines; with_tail: it ends with the good
 * message, which must load. *whole: the whole read's counts. */
static void check(struct extractor *x, const char *in, size_t n, int with_tail, size_t small, const char *ctx,
                  struct fuzz_sink *whole)
{
	struct way ways[3] = { { 0, 0 }, { small, 0 }, { 0, 1 } };
	struct fuzz_sink fw[3];
	for (int w = 0; w < 3; w++)
		extract(x, in, n, ways[w], ctx, &fw[w]);
	tu_same_lines(ctx, "in small reads", fw[0].out, fw[1].out);
	tu_same_lines(ctx, "without AVX2", fw[0].out, fw[2].out);
	if (with_tail && (strcmp(fw[0].last_id, "FUZZ-TAIL") != 0 || !fw[0].last_loaded || fw[0].last_records < 2))
		fail_msg("%s: the good message after the damage did not load (last id '%s', %s, %lu records)", ctx,
		         fw[0].last_id, fw[0].last_loaded ? "loaded" : "not loaded", fw[0].last_records);
	*whole = fw[0];
	for (int w = 0; w < 3; w++)
		free(fw[w].out);
	whole->out = NULL;
}

/* --- seeds, profiles ---------------------------------------------------- */

/* every file of the two folders but the fixtures' profile */
static int not_conf(const char *path, struct span text)
{
	(void)text;
	return !strstr(path, ".conf");
}

static void test_damaged_messages(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR); /* batch trailer counts that differ: damage, said per file */
	unsigned long iters = fuzz_env("OMO_FUZZ_ITERS", 5000), seed = fuzz_env("OMO_FUZZ_SEED", 1);
	/* the shipped profiles by name, the fixture's (Z segments) by its path */
	static const struct { const char *name; int tz; const char *fixture; } profs[] = {
		{ "generic-2.5.1", DT_TZ_KEEP, NULL }, { "v2.8", 0, NULL }, { "epic", -300, NULL }, { "cerner", 60, NULL },
		{ "profile-z", 0, "hl7v2/profile-z.conf" },
	};
	size_t np = sizeof profs / sizeof profs[0];
	struct extractor *x[sizeof profs / sizeof profs[0]];
	for (size_t i = 0; i < np; i++) {
		struct conf_site site;
		struct err e;
		memset(&site, 0, sizeof site);
		site.id = "fuzz";
		site.tz = profs[i].tz;
		const char *prof = profs[i].fixture ? tu_fixture(profs[i].fixture) : profs[i].name;
		if (extract_hl7v2.open(&x[i], prof, &site, &e) < 0)
			fail_msg("open %s: %s", prof, e.msg);
	}
	size_t nseed;
	const char *dirs[2] = { tu_shared("hl7v2"), tu_fixture("hl7v2") };
	struct fuzz_input *seeds = fuzz_seeds(dirs, 2, not_conf, &nseed);
	assert_true(nseed >= 180);
	char path[4096];
	snprintf(path, sizeof path, "%s/input.hl7", tu_tmpdir("test_hl7_fuzz"));
	struct fuzz_input in;
	fuzz_input_init(&in);
	unsigned long loaded = 0, quarantined = 0, tails = 0, big = 0;
	struct fuzz_keep keep;
	fuzz_keep_open(&keep);

	/* the tail alone loads under every profile (else the check below could not fail for the right reason) */
	for (size_t i = 0; i < np; i++) {
		struct fuzz_sink f;
		extract(x[i], tail, sizeof tail - 1, (struct way){ 0, 0 }, "the good message", &f);
		free(f.out);
		if (f.loaded != 1 || f.last_records < 2)
			fail_msg("the good message does not load under profile %zu", i);
	}

	/* OMO_FUZZ_REPLAY=FILE: that input alone, through every profile */
	const char *replay = getenv("OMO_FUZZ_REPLAY");
	if (replay) {
		size_t n;
		char *p = tu_slurp(replay, &n);
		assert_non_null(p);
		int with_tail = n >= sizeof tail - 1 && memcmp(p + n - (sizeof tail - 1), tail, sizeof tail - 1) == 0;
		for (size_t i = 0; i < np; i++) {
			struct fuzz_sink f;
			for (size_t small = 1; small <= 4096; small *= 8)
				check(x[i], p, n, with_tail, small, profs[i].name, &f);
		}
		free(p);
		iters = 0;
	}

	fuzz_seed(seed);
	for (unsigned long it = 0; it < iters; it++) {
		const struct fuzz_input *s = &seeds[fuzz_below(nseed)], *from = &seeds[fuzz_below(nseed)];
		size_t pi = it % np;
		fuzz_input_set(&in, s->p, s->n);
		for (size_t k = 1 + fuzz_below(4); k > 0; k--)
			fuzz_mutate(&in, from, bytes, tokens, sizeof tokens / sizeof tokens[0]);
		int framed = has_framing(in.p, in.n);
		if (!framed) {
			in.p[in.n++] = '\r';
			memcpy(in.p + in.n, tail, sizeof tail - 1);
			in.n += sizeof tail - 1;
		}
		big += in.n > 65536;
		if (tu_write_bytes(path, in.p, in.n) < 0)
			fail_msg("cannot write %s", path);
		char ctx[4400];
		snprintf(ctx, sizeof ctx, "seed %lu iteration %lu (%s, profile %s)", seed, it, path,
		         profs[pi].name);
		struct fuzz_sink f;
		check(x[pi], in.p, in.n, !framed, in.n < 16384 ? 1 + fuzz_below(7) : 512 + fuzz_below(4096), ctx, &f);
		tails += !framed;
		if (keep.counts) {
			char rel[64];
			snprintf(rel, sizeof rel, "%s/fuzz-%lu.hl7", profs[pi].name, it);
			fuzz_keep_add(&keep, rel, in.p, in.n, &f, 0);
		}
		loaded += f.loaded;
		quarantined += f.quarantined;
	}
	printf("%lu inputs: %lu messages loaded, %lu quarantined; %lu good messages after the damage loaded; %lu "
	       "inputs over 64 KiB\n",
	       iters, loaded, quarantined, tails, big);
	/* the damage was real: much of it quarantined, some of it large */
	if (iters >= 1000 && !replay) {
		assert_true(quarantined > iters / 4);
		assert_true(loaded > iters);
		assert_true(tails > iters / 2);
		assert_true(big > 0);
	}
	fuzz_keep_close(&keep);
	fuzz_input_free(&in);
	fuzz_seeds_free(seeds, nseed);
	for (size_t i = 0; i < np; i++)
		extract_hl7v2.close(x[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damaged_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
