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
 * OMO_FUZZ_ITERS inputs (default 1500) from OMO_FUZZ_SEED (default 1). The
 * input being tried is in $OMO_TEST_TMP/test_hl7_fuzz/input.hl7, so that a
 * crash leaves it behind; a failed check names the seed and iteration.
 * OMO_FUZZ_REPLAY=FILE checks that one input, through every profile.
 */
#include "testutil.h"
#include "etl/extract/extract.h"
#include "etl/extract/hl7_int.h"
#include "etl/sink_print.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- random ------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* --- the input, growing and shrinking ----------------------------------- */

#define MAX_INPUT (256u << 10)

struct input {
	char *p;
	size_t n;
};

static void put_at(struct input *in, size_t at, const char *s, size_t k)
{
	if (in->n + k > MAX_INPUT)
		return;
	memmove(in->p + at + k, in->p + at, in->n - at);
	memcpy(in->p + at, s, k);
	in->n += k;
}

static void cut(struct input *in, size_t at, size_t k)
{
	if (at + k > in->n)
		k = in->n - at;
	memmove(in->p + at, in->p + at + k, in->n - at - k);
	in->n -= k;
}

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

static void add_token(struct input *in)
{
	const char *t = tokens[below(sizeof tokens / sizeof tokens[0])];
	size_t k = t[0] ? strlen(t) : 1; /* "\x00" is one NUL byte */
	put_at(in, below(in->n + 1), t, k);
}

/* One of the ways an input is damaged; `from` is another seed to splice. */
static void mutate(struct input *in, const struct input *from)
{
	static const char bytes[] = "|^~\\&\r\n\"0123456789.-+<>= MSHOBXPIDZ\x0b\x1c\x80\xff\xc3";
	size_t at = below(in->n + 1);
	switch (below(9)) {
	case 0: /* a byte replaced */
		if (in->n)
			in->p[below(in->n)] = bytes[below(sizeof bytes - 1)];
		break;
	case 1:
	case 2:
		add_token(in);
		break;
	case 3: /* a stretch removed */
		cut(in, at, 1 + below(below(2) ? 8 : 200));
		break;
	case 4: { /* a stretch repeated: repetitions, long fields, many segments */
		size_t k = 1 + below(64);
		if (at + k > in->n)
			break;
		char piece[64];
		memcpy(piece, in->p + at, k);
		for (size_t r = 1 + below(below(4) ? 8 : 4000); r > 0; r--)
			put_at(in, at, piece, k);
		break;
	}
	case 5: /* cut short */
		in->n = at;
		break;
	case 6: /* a piece of another file */
		if (from->n) {
			size_t s = below(from->n), k = 1 + below(400);
			put_at(in, at, from->p + s, s + k > from->n ? from->n - s : k);
		}
		break;
	case 7: /* MSH's delimiters changed, maybe to one another or to a line end */
		if (in->n > 8 && memcmp(in->p, "MSH", 3) == 0)
			in->p[3 + below(5)] = bytes[below(sizeof bytes - 1)];
		else
			add_token(in);
		break;
	default: /* two lines swapped: a stretch moved elsewhere */
		if (in->n > 2) {
			size_t k = 1 + below(120), to;
			if (at + k > in->n)
				k = in->n - at;
			char piece[120];
			memcpy(piece, in->p + at, k);
			cut(in, at, k);
			to = below(in->n + 1);
			put_at(in, to, piece, k);
		}
		break;
	}
}

/* --- checks on what the extractor says ---------------------------------- */

struct fuzz_sink {
	struct sink base;
	const char *ctx;           /* seed, iteration, profile: for failures */
	unsigned long begun, loaded, quarantined, skipped, records;
	int open;
	int last_loaded;           /* the last record's outcome */
	unsigned long last_records; /* records of the last source record */
	char last_id[64];
};

static struct fuzz_sink *fz(struct sink *s) { return (struct fuzz_sink *)s; }

static int utf8_clean(struct span v)
{
	return !memchr(v.p ? v.p : "", '\0', v.n) && span_utf8_valid(v);
}

static void f_begin(struct sink *s, const struct err_pos *pos, struct span raw)
{
	struct fuzz_sink *f = fz(s);
	(void)pos;
	if (f->open || !raw.n)
		fail_msg("%s: a begin inside a record, or of nothing", f->ctx);
	f->open = 1;
	f->begun++;
	f->last_records = 0;
	f->last_id[0] = '\0';
}

static void dt_ok(const struct fuzz_sink *f, const char *what, struct dt d)
{
	if (d.prec > DT_TIME || (d.prec != DT_NONE && (d.sec < -1 || d.sec > 86399)))
		fail_msg("%s: %s: a date with precision %d and second %d", f->ctx, what, d.prec, (int)d.sec);
}

static void num_ok(const struct fuzz_sink *f, const char *what, double v, int set)
{
	if (isinf(v) || (set && isnan(v)))
		fail_msg("%s: %s: %g, which a NUMERIC column cannot hold", f->ctx, what, v);
}

static int f_emit(struct sink *s, const struct record *r, struct err *e)
{
	struct fuzz_sink *f = fz(s);
	(void)e;
	if (!f->open)
		fail_msg("%s: a record outside begin/end", f->ctx);
	if (r->kind < REC_PERSON || r->kind > REC_PAYER_PERIOD)
		fail_msg("%s: record kind %d", f->ctx, r->kind);
	/* every span printed (record_print writes each as it is), then looked at */
	char *text = NULL;
	size_t n = 0;
	FILE *mf = open_memstream(&text, &n);
	assert_non_null(mf);
	record_print(mf, r);
	assert_int_equal(fclose(mf), 0);
	if (!utf8_clean(span_make(text, n)))
		fail_msg("%s: a record with invalid UTF-8 or a NUL byte: %s", f->ctx, text);
	free(text);
	switch (r->kind) {
	case REC_PERSON:
		dt_ok(f, "birth", r->u.person.birth);
		break;
	case REC_DEATH:
		dt_ok(f, "death", r->u.death.date);
		break;
	case REC_VISIT:
		dt_ok(f, "visit start", r->u.visit.start);
		dt_ok(f, "visit end", r->u.visit.end);
		break;
	case REC_EVENT: {
		const struct rec_event *ev = &r->u.event;
		dt_ok(f, "event start", ev->start);
		dt_ok(f, "event end", ev->end);
		num_ok(f, "value", ev->value.num, ev->value.kind == VAL_NUM);
		num_ok(f, "range low", ev->value.low, ev->value.has_low);
		num_ok(f, "range high", ev->value.high, ev->value.has_high);
		num_ok(f, "quantity", ev->quantity, 0);
		if (ev->days_supply < -1 || ev->refills < -1)
			fail_msg("%s: days supply %d, refills %d", f->ctx, (int)ev->days_supply, (int)ev->refills);
		if (!ev->key.n || !ev->person.n)
			fail_msg("%s: an event without its key or person", f->ctx);
		break;
	}
	default:
		break;
	}
	f->records++;
	f->last_records++;
	return 0;
}

static int f_close(struct fuzz_sink *f, int loaded)
{
	if (!f->open)
		fail_msg("%s: a record closed twice", f->ctx);
	f->open = 0;
	f->last_loaded = loaded;
	return 0;
}

static int f_end(struct sink *s, struct err *e)
{
	(void)e;
	fz(s)->loaded++;
	return f_close(fz(s), 1);
}

static int f_quarantine(struct sink *s, const struct err *why, struct err *e)
{
	struct fuzz_sink *f = fz(s);
	(void)e;
	if (!err_is_soft(why->code) || !why->pos.where[0] || !why->msg[0])
		fail_msg("%s: quarantined with code %d at '%s': '%s'", f->ctx, why->code, why->pos.where, why->msg);
	if (!utf8_clean(span_make(why->msg, strlen(why->msg))) ||
	    !utf8_clean(span_make(why->pos.where, strlen(why->pos.where))))
		fail_msg("%s: a reason or position that is not clean UTF-8", f->ctx);
	f->quarantined++;
	return f_close(f, 0);
}

static int f_skip(struct sink *s, const char *reason, struct err *e)
{
	(void)e;
	if (!reason[0])
		fail_msg("%s: skipped without a reason", fz(s)->ctx);
	fz(s)->skipped++;
	return f_close(fz(s), 0);
}

static void f_note(struct sink *s, const char *what)
{
	if (!fz(s)->open || !what[0])
		fail_msg("%s: a note outside a record, or empty", fz(s)->ctx);
}

static void f_source_id(struct sink *s, struct span id)
{
	struct fuzz_sink *f = fz(s);
	if (!utf8_clean(id))
		fail_msg("%s: a message control id with invalid UTF-8 or a NUL byte", f->ctx);
	span_copy(id, f->last_id, sizeof f->last_id);
}

static const struct sink_ops fuzz_ops = { f_begin, f_emit, f_end, f_quarantine, f_skip, f_note, NULL, f_source_id };

/* --- running one input -------------------------------------------------- */

/* How an input is read: whole, a few bytes per read, SSE2 only. */
struct way {
	size_t max_read;
	int sse2;
};

/* Extract in (n bytes) through x into f, printed into *out. */
static void extract(struct extractor *x, const char *in, size_t n, struct way w, const char *ctx, struct fuzz_sink *f,
                    char **out)
{
	struct win win;
	struct err e;
	memset(&e, 0, sizeof e);
	memset(f, 0, sizeof *f);
	f->base.ops = &fuzz_ops;
	f->ctx = ctx;
	size_t on;
	FILE *mf = open_memstream(out, &on);
	assert_non_null(mf);
	struct sink_print p;
	sink_print_init(&p, mf, &f->base);
	assert_int_equal(win_open_mem(&win, in, n, x->prof.max_message, &e), 0);
	int avx2 = x->m.avx2;
	x->max_read = w.max_read;
	x->sse2_only = w.sse2;
	if (w.sse2)
		x->m.avx2 = 0;
	int rc = hl7x_run_win(x, &win, "fuzz.hl7", &p.base, &e);
	x->m.avx2 = avx2;
	x->max_read = 0;
	x->sse2_only = 0;
	assert_int_equal(fclose(mf), 0);
	if (rc != 0)
		fail_msg("%s: the run stopped: %s", f->ctx, e.msg);
	if (f->open || f->begun != f->loaded + f->quarantined + f->skipped)
		fail_msg("%s: %lu begun, %lu loaded, %lu quarantined, %lu skipped", f->ctx, f->begun, f->loaded,
		         f->quarantined, f->skipped);
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

/* the first line where a and b differ */
static void same_lines(const char *ctx, const char *how, const char *a, const char *b)
{
	for (size_t k = 1; *a || *b; k++) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
		if (na != nb || memcmp(a, b, na) != 0)
			fail_msg("%s: line %zu differs %s:\n  whole: %.*s\n  %s: %.*s", ctx, k, how, (int)na, a, how, (int)nb,
			         b);
		a += na + (a[na] != '\0');
		b += nb + (b[nb] != '\0');
	}
}

/* The checks on one input through x: read whole, in reads of `small`
 * bytes and without AVX2, the same lines; with_tail: it ends with the good
 * message, which must load. f: the whole read's counts. */
static void check(struct extractor *x, const char *in, size_t n, int with_tail, size_t small, const char *ctx,
                  struct fuzz_sink *f)
{
	struct way ways[3] = { { 0, 0 }, { small, 0 }, { 0, 1 } };
	struct fuzz_sink fw[3];
	char *out[3];
	for (int w = 0; w < 3; w++)
		extract(x, in, n, ways[w], ctx, &fw[w], &out[w]);
	if (!utf8_clean(span_make(out[0], strlen(out[0]))))
		fail_msg("%s: what was printed is not clean UTF-8", ctx);
	same_lines(ctx, "in small reads", out[0], out[1]);
	same_lines(ctx, "without AVX2", out[0], out[2]);
	if (with_tail && (strcmp(fw[0].last_id, "FUZZ-TAIL") != 0 || !fw[0].last_loaded || fw[0].last_records < 2))
		fail_msg("%s: the good message after the damage did not load (last id '%s', %s, %lu records)", ctx,
		         fw[0].last_id, fw[0].last_loaded ? "loaded" : "not loaded", fw[0].last_records);
	*f = fw[0];
	for (int w = 0; w < 3; w++)
		free(out[w]);
}

/* --- seeds, profiles ---------------------------------------------------- */

static struct input *load_seeds(size_t *n)
{
	char **files = NULL;
	size_t nf = 0;
	tu_list_files(tu_shared("hl7v2"), &files, &nf);
	tu_list_files(tu_fixture("hl7v2"), &files, &nf);
	struct input *s = xcalloc(nf, sizeof *s);
	*n = 0;
	for (size_t i = 0; i < nf; i++) {
		if (!strstr(files[i], ".conf")) {
			s[*n].p = tu_slurp(files[i], &s[*n].n);
			assert_true(s[*n].n <= MAX_INPUT);
			(*n)++;
		}
		free(files[i]);
	}
	free(files);
	return s;
}

static void test_damaged_messages(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR); /* batch trailer counts that differ: damage, said per file */
	const char *ev = getenv("OMO_FUZZ_ITERS"), *es = getenv("OMO_FUZZ_SEED");
	unsigned long iters = ev ? strtoul(ev, NULL, 10) : 1500, seed = es ? strtoul(es, NULL, 10) : 1;
	static const struct { const char *profile; int tz; } profs[] = {
		{ "generic-2.5.1", DT_TZ_KEEP }, { "v2.8", 0 }, { "epic", -300 }, { "cerner", 60 }, { NULL, 0 },
	};
	size_t np = sizeof profs / sizeof profs[0];
	struct extractor *x[sizeof profs / sizeof profs[0]];
	char zprof[1024];
	snprintf(zprof, sizeof zprof, "%s", tu_fixture("hl7v2/profile-z.conf"));
	for (size_t i = 0; i < np; i++) {
		struct conf_site site;
		struct err e;
		memset(&site, 0, sizeof site);
		site.id = "fuzz";
		site.tz = profs[i].tz;
		if (extract_hl7v2.open(&x[i], profs[i].profile ? profs[i].profile : zprof, &site, &e) < 0)
			fail_msg("open %s: %s", profs[i].profile ? profs[i].profile : zprof, e.msg);
	}
	size_t nseed;
	struct input *seeds = load_seeds(&nseed);
	assert_true(nseed >= 180);
	char path[4096];
	snprintf(path, sizeof path, "%s/input.hl7", tu_tmpdir("test_hl7_fuzz"));
	struct input in = { xmalloc(MAX_INPUT + 1 + sizeof tail), 0 };
	unsigned long loaded = 0, quarantined = 0, tails = 0, big = 0;

	/* the tail alone loads under every profile (else the check below could not fail for the right reason) */
	for (size_t i = 0; i < np; i++) {
		struct fuzz_sink f;
		char *out;
		extract(x[i], tail, sizeof tail - 1, (struct way){ 0, 0 }, "the good message", &f, &out);
		free(out);
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
				check(x[i], p, n, with_tail, small, profs[i].profile ? profs[i].profile : "profile-z", &f);
		}
		free(p);
		iters = 0;
	}

	rng_state = 0x9E3779B97F4A7C15ull ^ (seed * 0xD1B54A32D192ED03ull);
	for (unsigned long it = 0; it < iters; it++) {
		const struct input *s = &seeds[below(nseed)], *from = &seeds[below(nseed)];
		size_t pi = it % np;
		memcpy(in.p, s->p, s->n);
		in.n = s->n;
		for (size_t k = 1 + below(4); k > 0; k--)
			mutate(&in, from);
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
		         profs[pi].profile ? profs[pi].profile : "profile-z");

		struct fuzz_sink f;
		check(x[pi], in.p, in.n, !framed, in.n < 16384 ? 1 + below(7) : 512 + below(4096), ctx, &f);
		tails += !framed;
		loaded += f.loaded;
		quarantined += f.quarantined;
	}
	/* the damage was real: much of it quarantined, some of it large */
	if (iters >= 1000 && !replay) {
		assert_true(quarantined > iters / 4);
		assert_true(loaded > iters);
		assert_true(tails > iters / 2);
		assert_true(big > 0);
	}
	printf("%lu inputs: %lu messages loaded, %lu quarantined; %lu good messages after the damage loaded; %lu "
	       "inputs over 64 KiB\n",
	       iters, loaded, quarantined, tails, big);
	free(in.p);
	for (size_t i = 0; i < nseed; i++)
		free(seeds[i].p);
	free(seeds);
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
