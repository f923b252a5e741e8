/*
 * csvtok.c - streaming delimited-text tokenizer. See csvtok.h.
 *
 *   window bytes --ix_more--> structural index --scan_plain--> fields as spans into the window
 *                \-scan_quoted-> field refs (window or scratch) --publish--> spans
 *
 * Fast path: the window is indexed ahead, 32 bytes at a time (AVX2 where the
 * CPU has it, else SSE2 where the compiler offers it, else bytes): the
 * positions of delimiters, line ends, quotes and of non-ASCII bytes. A
 * record without a quote on its first line is split by walking its entries,
 * and knows on the way whether it is plain ASCII (so that callers can skip
 * UTF-8 validation). Slow path: a loop that follows quotes across lines;
 * quoted fields without "" escapes still point into the window, only escaped
 * or irregular ones are copied into the scratch buffer.
 * When a record runs off the end of the window, more input is read and the
 * record is scanned again from its start (at most once per read chunk).
 */
#include "core/csvtok.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static int have_avx2(void);

static void init(struct csvtok *t, char delim, char quote)
{
	t->avx2 = have_avx2();
	t->ix = NULL;
	t->ixn = t->ixi = t->ixcap = 0;
	t->ixorg = t->ixto = 0;
	t->delim = delim;
	t->quote = quote;
	t->started = 0;
	t->ascii = 0;
	t->resync = 0;
	t->line = 0;
	t->next_line = 1;
	t->record = 0;
	t->offset = 0;
	t->raw = SPAN_NULL;
	t->f = NULL;
	t->nf = t->fcap = 0;
	t->ref = NULL;
	t->rcap = 0;
	t->scratch = (struct buf)BUF_INIT;
}

int csvtok_open(struct csvtok *t, const char *path, char delim, char quote, size_t max_record, struct err *e)
{
	init(t, delim, quote);
	return win_open(&t->w, path, max_record, e);
}

int csvtok_open_mem(struct csvtok *t, const void *p, size_t n, char delim, char quote, size_t max_record, struct err *e)
{
	init(t, delim, quote);
	return win_open_mem(&t->w, p, n, max_record, e);
}

static void grow_fields(struct csvtok *t)
{
	t->fcap = t->fcap ? mem_mul(t->fcap, 2) : 32;
	t->f = xrealloc(t->f, mem_mul(t->fcap, sizeof *t->f));
}

static void add_ref(struct csvtok *t, size_t off, size_t n, int scratch)
{
	if (t->nf == t->rcap) {
		t->rcap = t->rcap ? mem_mul(t->rcap, 2) : 32;
		t->ref = xrealloc(t->ref, mem_mul(t->rcap, sizeof *t->ref));
	}
	t->ref[t->nf++] = (struct csv_field_ref){ off, n, scratch };
}

enum scan { SCAN_OK, SCAN_NEED_MORE, SCAN_UNTERMINATED, SCAN_QUOTED };

/*
 * The structural index: positions of every delimiter, line end and quote in
 * the window, and of the first byte >= 0x80 of every 32-byte block and of
 * every line in it (so that a record knows whether it is plain ASCII: each
 * record that holds such a byte has one in the index), built ahead of the records in
 * batches, 32 bytes at a time (AVX2, or two SSE2 halves, or bytes). A record
 * is then split by walking its entries instead of its bytes.
 *
 * Positions are stream offsets relative to ixorg, so they survive win_more()
 * moving the window. Only whole blocks are indexed until the end of input is
 * known; the last partial block is indexed byte by byte then.
 */
#define IX_BATCH (256u * 1024)

static void ix_reserve(struct csvtok *t, size_t more)
{
	if (t->ixn + more <= t->ixcap)
		return;
	size_t cap = t->ixcap ? t->ixcap : 4096;
	while (cap < t->ixn + more)
		cap = mem_mul(cap, 2);
	t->ix = xrealloc(t->ix, mem_mul(cap, sizeof *t->ix));
	t->ixcap = cap;
}

#define IX_BITS(m)                                                        \
	while (m) {                                                       \
		out[n++] = (uint32_t)(rel + (unsigned)__builtin_ctz(m));  \
		m &= m - 1;                                               \
	}

/* Of a block's bytes >= 0x80 (hi) and line ends (nl): the first of them,
 * and the first after each line end. */
static inline unsigned hi_firsts(unsigned hi, unsigned nl)
{
	unsigned m = hi & (0u - hi);
	for (; hi && nl; nl &= nl - 1) {
		unsigned after = hi & ~(((nl & (0u - nl)) << 1) - 1);
		m |= after & (0u - after);
	}
	return m;
}

/* Index the nb whole blocks at b[i]; rel: the position of b[i]. Returns the new entry count. */
static size_t ix_blocks_sse2(struct csvtok *t, const char *b, size_t i, size_t nb, uint64_t rel)
{
	uint32_t *out = t->ix;
	size_t n = t->ixn;
#if defined(__SSE2__)
	const char q = t->quote;
	const __m128i vd = _mm_set1_epi8(t->delim), vn = _mm_set1_epi8('\n');
	const __m128i vq = _mm_set1_epi8(q ? q : '\n');
	for (size_t k = 0; k < nb; k++, i += 32, rel += 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 16));
		__m128i na = _mm_cmpeq_epi8(a, vn), nc = _mm_cmpeq_epi8(c, vn);
		unsigned ma = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(a, vd), na), _mm_cmpeq_epi8(a, vq)));
		unsigned mc = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(c, vd), nc), _mm_cmpeq_epi8(c, vq)));
		unsigned hi = (unsigned)_mm_movemask_epi8(a) | (unsigned)_mm_movemask_epi8(c) << 16;
		unsigned m = ma | mc << 16;
		if (hi)
			m |= hi_firsts(hi, (unsigned)_mm_movemask_epi8(na) | (unsigned)_mm_movemask_epi8(nc) << 16);
		IX_BITS(m)
	}
#else
	const char d = t->delim, q = t->quote;
	for (size_t k = 0; k < nb * 32; k++, rel++) {
		unsigned char c = (unsigned char)b[i + k];
		if (c == (unsigned char)d || c == '\n' || (c == (unsigned char)q && q) || c >= 0x80)
			out[n++] = (uint32_t)rel;
	}
#endif
	return n;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CSVTOK_AVX2 1
__attribute__((target("avx2")))
static size_t ix_blocks_avx2(struct csvtok *t, const char *b, size_t i, size_t nb, uint64_t rel)
{
	uint32_t *out = t->ix;
	size_t n = t->ixn;
	const char q = t->quote;
	const __m256i vd = _mm256_set1_epi8(t->delim), vn = _mm256_set1_epi8('\n');
	const __m256i vq = _mm256_set1_epi8(q ? q : '\n');
	for (size_t k = 0; k < nb; k++, i += 32, rel += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
		unsigned hi = (unsigned)_mm256_movemask_epi8(v);
		__m256i nl = _mm256_cmpeq_epi8(v, vn);
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, vd), nl), _mm256_cmpeq_epi8(v, vq)));
		if (hi)
			m |= hi_firsts(hi, (unsigned)_mm256_movemask_epi8(nl));
		IX_BITS(m)
	}
	return n;
}

static int have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#else
static int have_avx2(void)
{
	return 0;
}
#endif

/*
 * Index more of the window after ixto: up to IX_BATCH bytes of whole
 * blocks, or at the end of input the rest. Returns 1 if the indexed range
 * grew, 0 if nothing more can be indexed yet.
 */
static int ix_more(struct csvtok *t)
{
	struct win *w = &t->w;
	uint64_t wend = w->base + w->end;
	if (t->ixto >= wend)
		return 0;
	size_t i = (size_t)(t->ixto - w->base);
	size_t avail = w->end - i, nb = (avail < IX_BATCH ? avail : IX_BATCH) / 32;
	uint64_t rel = t->ixto - t->ixorg;
	if (nb) {
		for (size_t done = 0; done < nb;) {
			size_t step = nb - done < 1024 ? nb - done : 1024;
			ix_reserve(t, step * 32); /* a block adds at most 32 entries */
#ifdef CSVTOK_AVX2
			if (t->avx2)
				t->ixn = ix_blocks_avx2(t, w->buf, i, step, rel);
			else
#endif
				t->ixn = ix_blocks_sse2(t, w->buf, i, step, rel);
			i += step * 32;
			rel += step * 32;
			done += step;
		}
		t->ixto += (uint64_t)nb * 32;
		return 1;
	}
	if (!w->eof)
		return 0;
	/* the end of input: the last partial block, byte by byte */
	const char d = t->delim, q = t->quote;
	ix_reserve(t, avail);
	for (; i < w->end; i++, rel++) {
		unsigned char c = (unsigned char)w->buf[i];
		if (c == (unsigned char)d || c == '\n' || (c == (unsigned char)q && q) || c >= 0x80)
			t->ix[t->ixn++] = (uint32_t)rel;
	}
	t->ixto = wend;
	return 1;
}

/* Drop the index entries before stream offset at, where a record starts. */
static void ix_align(struct csvtok *t, uint64_t at)
{
	while (t->ixi < t->ixn && t->ixorg + t->ix[t->ixi] < at)
		t->ixi++;
	if (t->ixi == t->ixn) {
		/* empty: start afresh, positions relative to the record */
		t->ixi = t->ixn = 0;
		if (t->ixto < at)
			t->ixto = at;
		t->ixorg = at;
	}
}

/*
 * Before indexing more in the middle of the record that starts at stream
 * offset at: drop the entries of earlier records and count positions from
 * at, so that the index holds one batch plus one record and its 32-bit
 * positions stay small however long the file. Returns how many entries
 * were dropped.
 */
static size_t ix_compact(struct csvtok *t, uint64_t at)
{
	size_t drop = t->ixi, live = t->ixn - drop;
	uint32_t base = (uint32_t)(at - t->ixorg);
	for (size_t k = 0; k < live; k++)
		t->ix[k] = t->ix[drop + k] - base;
	t->ixi = 0;
	t->ixn = live;
	t->ixorg = at;
	return drop;
}

/*
 * Fast path: split the record at buf[s] by its index entries, as long as it
 * holds no quote character. Fields go straight into t->f as spans into the
 * window. SCAN_QUOTED: a quote was seen, use scan_quoted() from s instead.
 * t->ixi moves past the record only when it is complete.
 */
static enum scan scan_plain(struct csvtok *t, size_t s, size_t *rec_end, size_t *next, uint64_t *lines)
{
	struct win *w = &t->w;
	const char *b = w->buf;
	const char d = t->delim;
	struct span *F = t->f;
	size_t nf = 0, cap = t->fcap, f = s, le;
	unsigned hi = 0;
	int has_nl = 1;

	ix_align(t, w->base + s);
	/* locals: the stores into F could alias t's fields otherwise */
	size_t ixi = t->ixi, ixn = t->ixn;
	const uint32_t *ix = t->ix;
	size_t org = (size_t)(t->ixorg - w->base); /* position 0 in window terms (may wrap; cancels out) */
	for (;;) {
		if (ixi == ixn) {
			ixi -= ix_compact(t, w->base + s);
			if (ix_more(t)) {
				ixn = t->ixn;
				ix = t->ix;
				org = (size_t)(t->ixorg - w->base);
				continue;
			}
			if (!w->eof)
				return SCAN_NEED_MORE;
			le = w->end;
			has_nl = 0;
			break;
		}
		size_t p = org + ix[ixi++];
		char c = b[p];
		if (c == d) {
			if (nf == cap) {
				t->nf = nf;
				grow_fields(t);
				F = t->f;
				cap = t->fcap;
			}
			F[nf].p = b + f;
			F[nf].n = p - f;
			nf++;
			f = p + 1;
			continue;
		}
		if (c == '\n') {
			le = p;
			break;
		}
		if ((unsigned char)c & 0x80) {
			hi = 1;
			continue;
		}
		return SCAN_QUOTED;
	}
	size_t ce = le;
	if (ce > f && b[ce - 1] == '\r')
		ce--;
	if (nf == cap) {
		t->nf = nf;
		grow_fields(t);
		F = t->f;
	}
	F[nf].p = b + f;
	F[nf].n = ce - f;
	t->nf = nf + 1;
	t->ixi = ixi;
	*rec_end = ce;
	*next = has_nl ? le + 1 : le;
	*lines = (uint64_t)has_nl;
	t->ascii = hi == 0;
	return SCAN_OK;
}

static uint64_t count_nl(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *e = p + n;
	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/*
 * Slow path: scan one record starting at buf[s] (s < end), following quotes
 * across lines. Fields become refs (publish() turns them into spans). On
 * SCAN_OK: *rec_end is the index of the line end (or end of data), *next the
 * start of the next record, *lines the number of line breaks consumed.
 */
static enum scan scan_quoted(struct csvtok *t, size_t s, size_t *rec_end, size_t *next, uint64_t *lines)
{
	const char *b = t->w.buf;
	const size_t end = t->w.end;
	const char d = t->delim, q = t->quote;
	const int eof = t->w.eof;
	size_t i = s;

	t->nf = 0;
	t->ascii = 0;
	buf_reset(&t->scratch);
	*lines = 0;
	for (;;) {
		if (i < end && b[i] == q) {
			/* quoted field: content [start, k) unless escapes force a copy */
			size_t start = ++i, sc0 = t->scratch.n;
			int copy = 0;
			for (;;) {
				const char *qp = memchr(b + i, q, end - i);
				if (!qp)
					return eof ? SCAN_UNTERMINATED : SCAN_NEED_MORE;
				size_t k = (size_t)(qp - b);
				*lines += count_nl(b + i, k - i);
				if (k + 1 >= end && !eof)
					return SCAN_NEED_MORE;
				if (k + 1 < end && b[k + 1] == q) {
					if (!copy) {
						copy = 1;
						buf_append(&t->scratch, b + start, k - start);
					} else {
						buf_append(&t->scratch, b + i, k - i);
					}
					buf_putc(&t->scratch, q);
					i = k + 2;
					continue;
				}
				if (copy)
					buf_append(&t->scratch, b + i, k - i);
				i = k + 1;
				/* lenient: text after the closing quote joins the field */
				if (i < end && b[i] != d && b[i] != '\n' && !(b[i] == '\r' && i + 1 < end && b[i + 1] == '\n')) {
					if (!copy) {
						copy = 1;
						buf_append(&t->scratch, b + start, k - start);
					}
					while (i < end && b[i] != d && b[i] != '\n' && !(b[i] == '\r' && i + 1 < end && b[i + 1] == '\n'))
						buf_putc(&t->scratch, b[i++]);
				}
				if (copy)
					add_ref(t, sc0, t->scratch.n - sc0, 1);
				else
					add_ref(t, start, k - start, 0);
				break;
			}
		} else {
			size_t f = i;
			while (i < end && b[i] != d && b[i] != '\n')
				i++;
			size_t fe = i;
			if (fe > f && b[fe - 1] == '\r' && (i == end || b[i] == '\n'))
				fe--;
			add_ref(t, f, fe - f, 0);
		}
		if (i >= end) {
			if (!eof)
				return SCAN_NEED_MORE;
			*rec_end = end;
			*next = end;
			return SCAN_OK;
		}
		if (b[i] == d) {
			i++;
			if (i >= end && eof) {
				add_ref(t, i, 0, 0);
				*rec_end = *next = end;
				return SCAN_OK;
			}
			continue;
		}
		if (b[i] == '\r' && i + 1 < end && b[i + 1] == '\n') {
			*rec_end = i;
			*next = i + 2;
			(*lines)++;
			return SCAN_OK;
		}
		if (b[i] == '\n') {
			*rec_end = i > s && b[i - 1] == '\r' ? i - 1 : i;
			*next = i + 1;
			(*lines)++;
			return SCAN_OK;
		}
		/* a lone \r: belongs to the data */
		i++;
	}
}

static void publish(struct csvtok *t)
{
	while (t->fcap < t->nf)
		grow_fields(t);
	for (size_t k = 0; k < t->nf; k++) {
		const char *base = t->ref[k].scratch ? t->scratch.p : t->w.buf;
		t->f[k] = span_make(base ? base + t->ref[k].off : "", t->ref[k].n);
	}
}

/* Report the record at the window's start as broken (its first line), resume
 * after it (when the line end is not in the window yet: once it has been read). */
static void skip_line(struct csvtok *t)
{
	struct win *w = &t->w;
	const char *nl = memchr(w->buf + w->beg, '\n', w->end - w->beg);
	size_t le = nl ? (size_t)(nl - w->buf) : w->end;
	t->resync = !nl && !w->eof;
	size_t re = le > w->beg && w->buf[le - 1] == '\r' ? le - 1 : le;
	t->line = t->next_line;
	t->offset = win_offset(w, w->beg);
	t->raw = span_make(w->buf + w->beg, re - w->beg);
	t->record++;
	t->next_line++;
	t->nf = 0;
	t->ascii = 0;
	w->beg = nl ? le + 1 : w->end;
}

int csvtok_next(struct csvtok *t, struct err *e)
{
	struct win *w = &t->w;
	if (!t->started) {
		t->started = 1;
		win_skip_bom(w);
	}
	for (;;) {
		if (t->resync) {
			const char *nl = memchr(w->buf + w->beg, '\n', w->end - w->beg);
			w->beg = nl ? (size_t)(nl - w->buf) + 1 : w->end;
			t->resync = !nl;
		}
		if (w->beg >= w->end) {
			int rc = win_more(w, e);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return 0;
			continue;
		}
		size_t rec_end = 0, next = 0;
		uint64_t lines = 0;
		enum scan sc = scan_plain(t, w->beg, &rec_end, &next, &lines);
		int quoted = sc == SCAN_QUOTED;
		if (quoted)
			sc = scan_quoted(t, w->beg, &rec_end, &next, &lines);
		if (sc == SCAN_NEED_MORE) {
			int rc = win_more(w, e);
			if (rc == -E_TOO_LARGE) {
				skip_line(t);
				e->pos.line = t->line;
				e->pos.offset = t->offset;
				return rc;
			}
			if (rc < 0)
				return rc;
			continue;
		}
		if (sc == SCAN_UNTERMINATED) {
			skip_line(t);
			e->pos.line = t->line;
			e->pos.offset = t->offset;
			return err_set(e, E_PARSE, "quote opened and never closed");
		}
		t->line = t->next_line;
		t->next_line += lines;
		t->offset = win_offset(w, w->beg);
		t->raw = span_make(w->buf + w->beg, rec_end - w->beg);
		size_t before_nl = next - (size_t)(t->raw.p - w->buf) - (lines && w->buf[next - 1] == '\n' ? 1 : 0);
		w->beg = next;
		if (before_nl >= w->max) {
			/* the same limit (see win_more) whether the record came in one read or many */
			t->record++;
			t->nf = 0;
			t->ascii = 0;
			e->pos.line = t->line;
			e->pos.offset = t->offset;
			return err_set(e, E_TOO_LARGE, "record larger than %zu bytes", w->max);
		}
		/* blank line: skip */
		if (t->raw.n == 0)
			continue;
		t->record++;
		if (quoted)
			publish(t);
		return 1;
	}
}

void csvtok_close(struct csvtok *t)
{
	win_close(&t->w);
	free(t->f);
	free(t->ref);
	free(t->ix);
	buf_free(&t->scratch);
	t->f = NULL;
	t->ref = NULL;
	t->ix = NULL;
	t->nf = t->fcap = t->rcap = 0;
}
