/* fuzz.c - damaged input for the extractors' fuzz tests. See fuzz.h. */
#include "testutil.h"
#include "fuzz.h"
#include "core/date.h"
#include "core/path.h"
#include "core/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- random ------------------------------------------------------------- */

static uint64_t rng_state = 1;

void fuzz_seed(unsigned long seed)
{
	rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed * 0xD1B54A32D192ED03ull);
}

size_t fuzz_below(size_t n)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (size_t)((rng_state * 0x2545F4914F6CDD1Dull) % n) : 0;
}

unsigned long fuzz_env(const char *var, unsigned long dflt)
{
	const char *v = getenv(var);
	return v ? strtoul(v, NULL, 10) : dflt;
}

/* --- inputs --------------------------------------------------------------- */

struct fuzz_input *fuzz_seeds(const char *const *dirs, size_t ndirs, int (*keep)(const char *path, struct span text),
                              size_t *n)
{
	char **files = NULL;
	size_t nf = 0;
	for (size_t d = 0; d < ndirs; d++)
		tu_list_files(dirs[d], &files, &nf);
	struct fuzz_input *s = xcalloc(nf ? nf : 1, sizeof *s);
	*n = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t len;
		char *p = tu_slurp(files[i], &len);
		assert_non_null(p);
		if (!keep || keep(files[i], span_make(p, len))) {
			assert_true(len <= FUZZ_MAX);
			s[(*n)++] = (struct fuzz_input){ p, len };
		} else {
			free(p);
		}
		free(files[i]);
	}
	free(files);
	return s;
}

void fuzz_seeds_free(struct fuzz_input *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].p);
	free(s);
}

void fuzz_input_init(struct fuzz_input *in)
{
	in->p = xmalloc(FUZZ_MAX + FUZZ_SLACK);
	in->n = 0;
}

void fuzz_input_set(struct fuzz_input *in, const char *p, size_t n)
{
	assert_true(n <= FUZZ_MAX);
	memcpy(in->p, p, n);
	in->n = n;
}

void fuzz_input_free(struct fuzz_input *in)
{
	free(in->p);
	in->p = NULL;
}

static void put_at(struct fuzz_input *in, size_t at, const char *s, size_t k)
{
	if (in->n + k > FUZZ_MAX)
		return;
	memmove(in->p + at + k, in->p + at, in->n - at);
	memcpy(in->p + at, s, k);
	in->n += k;
}

static void cut(struct fuzz_input *in, size_t at, size_t k)
{
	if (at + k > in->n)
		k = in->n - at;
	memmove(in->p + at, in->p + at + k, in->n - at - k);
	in->n -= k;
}

void fuzz_mutate(struct fuzz_input *in, const struct fuzz_input *from, const char *bytes, const char *const *tokens,
                 size_t ntok)
{
	size_t nb = strlen(bytes), at = fuzz_below(in->n + 1);
	switch (fuzz_below(9)) {
	case 0: /* a byte replaced */
		if (in->n)
			in->p[fuzz_below(in->n)] = bytes[fuzz_below(nb)];
		break;
	case 1: /* a byte of the format's header replaced: delimiters, names, the prolog */
		if (in->n > 8)
			in->p[3 + fuzz_below(5)] = bytes[fuzz_below(nb)];
		break;
	case 2:
	case 3: { /* a token put in */
		const char *t = tokens[fuzz_below(ntok)];
		put_at(in, at, t, t[0] ? strlen(t) : 1);
		break;
	}
	case 4: /* a stretch removed */
		cut(in, at, 1 + fuzz_below(fuzz_below(2) ? 8 : 200));
		break;
	case 5: { /* a stretch repeated: repetitions, long fields, many lines */
		size_t k = 1 + fuzz_below(64);
		if (at + k > in->n)
			break;
		char piece[64];
		memcpy(piece, in->p + at, k);
		for (size_t r = 1 + fuzz_below(fuzz_below(4) ? 8 : 4000); r > 0; r--)
			put_at(in, at, piece, k);
		break;
	}
	case 6: /* cut short */
		in->n = at;
		break;
	case 7: /* a piece of another input */
		if (from->n) {
			size_t s = fuzz_below(from->n), k = 1 + fuzz_below(400);
			put_at(in, at, from->p + s, s + k > from->n ? from->n - s : k);
		}
		break;
	default: /* a stretch moved elsewhere: lines swapped */
		if (in->n > 2) {
			size_t k = 1 + fuzz_below(120);
			if (at + k > in->n)
				k = in->n - at;
			char piece[120];
			memcpy(piece, in->p + at, k);
			cut(in, at, k);
			put_at(in, fuzz_below(in->n + 1), piece, k);
		}
		break;
	}
}

int fuzz_clean(struct span v)
{
	return !memchr(v.p ? v.p : "", '\0', v.n) && span_utf8_valid(v);
}

/* --- the checking sink ---------------------------------------------------- */

static struct fuzz_sink *fz(struct sink *s) { return (struct fuzz_sink *)s; }

static void f_begin(struct sink *s, const struct err_pos *pos, struct span raw)
{
	struct fuzz_sink *f = fz(s);
	(void)pos;
	(void)raw; /* empty for a C-CDA document too large to read */
	if (f->open)
		fail_msg("%s: a begin inside a record", f->ctx);
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
	/* its text: the line sink_print wrote of it, looked at in fuzz_end */
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
		if (!ev->person.n)
			fail_msg("%s: an event without its person", f->ctx);
		break;
	}
	case REC_PAYER_PERIOD:
		dt_ok(f, "coverage start", r->u.payer_period.start);
		dt_ok(f, "coverage end", r->u.payer_period.end);
		break;
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

static void f_context(struct sink *s, struct span header)
{
	(void)s;
	(void)header;
}

static void f_source_id(struct sink *s, struct span id)
{
	struct fuzz_sink *f = fz(s);
	if (!fuzz_clean(id)) /* here: sink_print's line stops at a NUL byte */
		fail_msg("%s: a source id with invalid UTF-8 or a NUL byte", f->ctx);
	span_copy(id, f->last_id, sizeof f->last_id);
}

static const struct sink_ops fuzz_ops = { f_begin, f_emit, f_end, f_quarantine, f_skip, f_note, f_context, f_source_id };

struct sink *fuzz_begin(struct fuzz_sink *f, const char *ctx)
{
	memset(f, 0, sizeof *f);
	f->base.ops = &fuzz_ops;
	f->ctx = ctx;
	f->mf = open_memstream(&f->out, &f->nout);
	assert_non_null(f->mf);
	sink_print_init(&f->print, f->mf, &f->base);
	return &f->print.base;
}

void fuzz_end(struct fuzz_sink *f)
{
	assert_int_equal(fclose(f->mf), 0);
	f->mf = NULL;
	if (f->open || f->begun != f->loaded + f->quarantined + f->skipped)
		fail_msg("%s: %lu begun, %lu loaded, %lu quarantined, %lu skipped", f->ctx, f->begun, f->loaded,
		         f->quarantined, f->skipped);
	/* every line clean: each record's spans as record_print wrote them
	 * (bytes as they are, NUL bytes too), reasons, positions, notes */
	for (const char *l = f->out, *end = f->out + f->nout; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t k = nl ? (size_t)(nl - l) : (size_t)(end - l);
		if (!fuzz_clean(span_make(l, k)))
			fail_msg("%s: a line with invalid UTF-8 or a NUL byte: %.*s", f->ctx, (int)k, l);
		l += k + 1;
	}
}

void fuzz_keep_open(struct fuzz_keep *k)
{
	k->dir = getenv("OMO_FUZZ_WRITE");
	k->counts = NULL;
	if (!k->dir)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/counts", k->dir);
	if (path_mkdirs(k->dir, 0755, NULL) < 0 || !(k->counts = fopen(path, "w")))
		fail_msg("cannot write %s", path);
}

void fuzz_keep_add(struct fuzz_keep *k, const char *rel, const char *p, size_t n, const struct fuzz_sink *f, int failed)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", k->dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int made = path_mkdirs(path, 0755, NULL);
	*slash = '/';
	if (made < 0 || tu_write_bytes(path, p, n) < 0)
		fail_msg("cannot write %s", path);
	fprintf(k->counts, "%s\t%lu\t%lu\t%lu\t%lu\t%s\n", rel, f->begun, f->loaded, f->quarantined, f->skipped,
	        failed ? "failed" : "loaded");
}

void fuzz_keep_close(struct fuzz_keep *k)
{
	if (k->counts && fclose(k->counts) != 0)
		fail_msg("cannot write %s/counts", k->dir);
	k->counts = NULL;
}
