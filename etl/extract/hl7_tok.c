/* hl7_tok.c - the HL7 v2 tokenizer: framing, delimiters, fields, escapes. See hl7_tok.h. */
#include "etl/extract/hl7_tok.h"
#include "core/mem.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#define HL7_AVX2 1
#include <immintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* scanning                                                                  */

/* Line ends (CR, LF) among the n bytes at p, n <= 64: bit i for p[i]. */
static uint64_t eol_bits_tail(const char *p, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= (uint64_t)(p[i] == '\r' || p[i] == '\n') << i;
	return m;
}

#ifdef __SSE2__
/* Line ends among the 64 bytes at p, bit i for p[i]. */
static inline uint64_t eol_bits(const char *p)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	uint64_t m = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
		v = _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (16 * k);
	}
	return m;
}
#else
static inline uint64_t eol_bits(const char *p)
{
	uint64_t m = 0;
	for (int i = 0; i < 64; i++)
		m |= (uint64_t)(p[i] == '\r' || p[i] == '\n') << i;
	return m;
}
#endif

#ifdef HL7_AVX2
/* eol_bits with AVX2: the 64 bytes in two registers, and one compare for
 * both CR and LF: a byte equals its entry in a table looked up by its low
 * half only if it is CR or LF (the other entries are 0x80, which no byte
 * below 0x80 equals; a byte from 0x80 on looks up 0). */
__attribute__((target("avx2,bmi")))
static inline uint64_t eol_bits_avx2(const char *p)
{
	const __m256i tab = _mm256_setr_epi8(-128, -128, -128, -128, -128, -128, -128, -128,
	                                     -128, -128, '\n', -128, -128, '\r', -128, -128,
	                                     -128, -128, -128, -128, -128, -128, -128, -128,
	                                     -128, -128, '\n', -128, -128, '\r', -128, -128);
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	a = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(tab, a), a);
	b = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(tab, b), b);
	return (uint64_t)(unsigned)_mm256_movemask_epi8(a) | (uint64_t)(unsigned)_mm256_movemask_epi8(b) << 32;
}
#endif

/* 1 if p[0, n) holds the end of a block comment */
static int has_comment_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '*' && p[i + 1] == '/')
			return 1;
	return 0;
}

static int is_idch(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int is_alnum(char c) { return is_idch(c) || (c >= 'a' && c <= 'z'); }

/* 1 if the line starts with the 3 letters of id followed by a non-alphanumeric
 * byte (a field separator) or ends there. */
static int line_is(const char *p, size_t n, const char *id)
{
	return n >= 3 && p[0] == id[0] && p[1] == id[1] && p[2] == id[2] &&
	       (n == 3 || (!is_alnum(p[3]) && p[3] != ' '));
}

/* 1 if the line is an MSH line: "MSH" and a field separator at least */
static inline int is_msh_line(const char *p, size_t n)
{
	return line_is(p, n, "MSH") && n >= 4;
}

#ifdef HL7_AVX2
/* 1 if the CPU has what the AVX2 paths use: AVX2, BMI and popcnt (the
 * stream's and the message's avx2) */
static int cpu_avx2(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("popcnt");
}
#endif

/* ------------------------------------------------------------------------ */
/* the stream                                                                */

void hl7_stream_init(struct hl7_stream *s, struct win *w)
{
	memset(s, 0, sizeof *s);
	s->w = w;
	s->line = 1;
	s->raw_cap = 1u << 20;
	/* frames up to the window's max; the window itself holds up to twice
	 * that and 2 (a frame's end and the start of a line after it), so
	 * that more() can tell a frame too large from one followed by a long
	 * line: what it decides is what a whole read decides */
	s->max_frame = w->max;
	w->max = mem_add(mem_mul(w->max, 2), 2);
#ifdef HL7_AVX2
	s->avx2 = cpu_avx2();
#endif
}

void hl7_stream_free(struct hl7_stream *s)
{
	free(s->segs);
	s->segs = NULL;
	s->segcap = s->nsegs = 0;
}

/* Drop the first k bytes of the unconsumed window. */
static void drop(struct hl7_stream *s, size_t k)
{
	s->w->beg += k;
	s->lstart = s->lstart > k ? s->lstart - k : 0;
	s->scan = s->scan > k ? s->scan - k : 0;
	s->frame_end = s->frame_end > k ? s->frame_end - k : 0;
}

static void push_seg(struct hl7_stream *s, size_t off, size_t n, uint64_t line)
{
	if (s->nsegs == s->segcap) {
		s->segcap = s->segcap ? mem_mul(s->segcap, 2) : 64;
		s->segs = xrealloc(s->segs, mem_mul(s->segcap, sizeof *s->segs));
	}
	s->segs[s->nsegs].off = (uint32_t)off;
	s->segs[s->nsegs].n = (uint32_t)n;
	s->segs[s->nsegs].line = line;
	s->nsegs++;
}

static void fill(struct hl7_stream *s, struct hl7_frame *f, int kind, size_t n)
{
	f->kind = kind;
	f->p = s->w->buf + s->w->beg;
	f->n = n;
	f->msgno = ++s->msgno;
	f->line = s->frame_line;
	f->offset = s->frame_offset;
	f->segs = s->segs;
	f->nsegs = kind == HL7_TOO_LARGE ? 0 : s->nsegs;
}

/* An oversized frame: its first max_frame bytes at most (raw_cap), whether
 * found whole or cut off while read. */
static void fill_too_large(struct hl7_stream *s, struct hl7_frame *f)
{
	fill(s, f, HL7_TOO_LARGE, s->max_frame < s->raw_cap ? s->max_frame : s->raw_cap);
}

/* Close the open frame; the line at lstart is not part of it. A frame over
 * max_frame is HL7_TOO_LARGE, and segment lines after it are dropped until
 * the next MSH or batch line, as after one cut off while read (more()). */
static int finish(struct hl7_stream *s, struct hl7_frame *f)
{
	int kind = s->in_frame;
	if (s->frame_end > s->max_frame) {
		fill_too_large(s, f);
		s->discard = 1;
	} else {
		fill(s, f, kind, s->frame_end);
		if (kind == HL7_MSG)
			s->batch_msgs++;
	}
	s->consume = s->lstart;
	s->in_frame = 0;
	return 1;
}

/* Open a frame at the line at lstart: what precedes it is dropped. */
static void start(struct hl7_stream *s, int kind)
{
	drop(s, s->lstart);
	s->in_frame = kind;
	s->nsegs = 0;
	s->frame_end = 0;
	s->frame_line = s->line;
	s->frame_offset = win_offset(s->w, s->w->beg);
}

/* A BTS line: compare its count with the messages seen since BHS. */
static void batch_trailer(struct hl7_stream *s, const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i = 4, k = 0;
	if (n < 5)
		return;
	while (i < n && p[i] >= '0' && p[i] <= '9' && k < 18) {
		v = v * 10 + (uint64_t)(p[i] - '0');
		i++;
		k++;
	}
	if (k && v != s->batch_msgs)
		s->batch_mismatch++;
}

/* The start of a line past MLLP start bytes and a byte-order mark. */
static const char *line_body(const char *lp, size_t *ln)
{
	while (*ln && lp[0] == 0x0B) {
		lp++;
		(*ln)--;
	}
	if (*ln >= 3 && memcmp(lp, "\xEF\xBB\xBF", 3) == 0) {
		lp += 3;
		*ln -= 3;
	}
	return lp;
}

static int is_env_line(const char *p, size_t n)
{
	return line_is(p, n, "FHS") || line_is(p, n, "BHS") || line_is(p, n, "BTS") || line_is(p, n, "FTS");
}

/* 1 if the line at lstart, its end not read yet, is an MSH or batch line
 * (one that ends the open frame). */
static int next_frame_line(struct hl7_stream *s)
{
	size_t ln = s->w->end - s->w->beg - s->lstart;
	const char *lp = line_body(s->w->buf + s->w->beg + s->lstart, &ln);
	return is_msh_line(lp, ln) || is_env_line(lp, ln);
}

/*
 * Ask the window for more bytes. An oversized frame becomes an HL7_TOO_LARGE
 * frame (returned as 2); in discard mode the data is simply dropped.
 */
static int more(struct hl7_stream *s, struct hl7_frame *f, struct err *e)
{
	struct win *w = s->w;
	struct err tmp;
	int r = win_more(w, &tmp);
	if (r != -E_TOO_LARGE) {
		if (r < 0 && e)
			*e = tmp;
		return r;
	}
	if (s->discard && !s->discard_midline && next_frame_line(s))
		s->discard = 0; /* an MSH or batch line too long itself: reported below */
	if (s->discard) {
		/* drop what was scanned of the oversized line; a CR waiting
		 * for a possible LF (at scan) stays */
		drop(s, s->scan);
		s->discard_midline = 1;
		return 1;
	}
	if (s->in_frame && (s->frame_end > s->max_frame || next_frame_line(s))) {
		/* the frame ends at frame_end (too large or not: finish says);
		 * the unfinished line after it is read on as any other */
		finish(s, f);
		return 2;
	}
	if (!s->in_frame) {
		drop(s, s->lstart);
		s->frame_line = s->line;
		s->frame_offset = win_offset(w, w->beg);
	}
	/* the frame goes on into a line longer than max_frame, or is one */
	fill_too_large(s, f);
	s->in_frame = 0;
	s->in_comment = 0;
	s->discard = 1;
	s->discard_midline = 1;
	s->consume = s->scan;
	return 2;
}

/*
 * The first line end not passed yet (at or after lstart): from s->eolm, else
 * found in the bytes from s->scan on, 64 at a time (the rest, under 64, at
 * once). avail if there is none before avail (then s->scan is avail).
 */
static inline __attribute__((always_inline)) size_t eol_next(struct hl7_stream *s, const char *b, size_t avail,
                                                              int avx2)
{
	while (!s->eolm) {
		size_t i = s->scan, n = avail - i;
		if (n == 0)
			return avail;
		if (n >= 64) {
#ifdef HL7_AVX2
			if (avx2)
				s->eolm = eol_bits_avx2(b + i);
			else
#endif
				s->eolm = eol_bits(b + i);
			s->scan = i + 64;
		} else {
			/* as the last n bytes of 64 ending at avail */
			s->eolm = eol_bits_tail(b + i, n) << (64 - n);
			s->scan = avail;
		}
	}
	(void)avx2;
	return s->scan - 64 + (size_t)__builtin_ctzll(s->eolm);
}

/* Pass the line end at t, the lowest bit of *m (the line ends among the 64
 * bytes before *scan); crlf: it is a CRLF's CR, and the LF is passed too (its
 * bit cleared, or scan moved past it). */
static inline __attribute__((always_inline)) void eol_step(uint64_t *m, size_t *scan, size_t t, int crlf)
{
	*m &= *m - 1;
	if (crlf) {
		if (t + 1 < *scan)
			*m &= ~(1ull << (t + 65 - *scan));
		else
			*scan = t + 2;
	}
}

/* Pass the line end at t (eol_next's), the next line starting at next: t + 1,
 * or t + 2 after CRLF. */
static inline void eol_pass(struct hl7_stream *s, size_t t, size_t next)
{
	eol_step(&s->eolm, &s->scan, t, next == t + 2);
}

/*
 * The common case with the stream's state in registers: inside a frame,
 * lines that start with a capital other than M, F or B (so neither MSH nor a
 * batch line, nor a comment, blank or MLLP line) and do not end with 0x1C:
 * segments, as the general way would find. An MSH line that does not end with
 * 0x1C ends the frame (1 returned: finish it), or outside one starts the next
 * (if nothing precedes it in the window, so that start() drops nothing).
 * Stops before any other line, and before one whose end is not found yet or
 * is the last byte we have (a CR there may be half a CRLF): the general way
 * takes those. Not for a stream discarding or inside a comment.
 */
static inline __attribute__((always_inline)) int plain_lines(struct hl7_stream *s, const char *b, size_t avail,
                                                              int avx2)
{
	uint64_t m = s->eolm, line = s->line;
	size_t scan = s->scan, ls = s->lstart, ls0 = ls;
	struct hl7_segref *r = s->segs + s->nsegs, *rend = s->segs + s->segcap;
	int ends = 0;
	if (ls >= avail || (!s->in_frame && b[ls] != 'M'))
		return 0; /* outside a frame only an MSH line is taken here */
	if (m && scan == avail)
		return 0; /* a line end may be the last byte (eol_next's tail) */
	for (;;) {
		while (!m) {
			/* a byte beyond the block: no line end found in it is the
			 * last byte we have */
			if (avail - scan < 65)
				goto out;
#ifdef HL7_AVX2
			if (avx2)
				m = eol_bits_avx2(b + scan);
			else
#endif
				m = eol_bits(b + scan);
			scan += 64;
		}
		size_t t = scan - 64 + (size_t)__builtin_ctzll(m);
		unsigned char c = (unsigned char)b[ls];
		/* a capital: the line is not empty (b[t] is CR or LF) */
		if (c < 'A' || c > 'Z' || b[t - 1] == 0x1C || r == rend)
			break;
		if (c == 'M' || c == 'F' || c == 'B') {
			if (!is_msh_line(b + ls, t - ls))
				break;
			if (s->in_frame) {
				ends = 1;
				break;
			}
			if (ls != 0)
				break;
			/* start(s, HL7_MSG) with nothing to drop (the first line
			 * of this call), written out: the call costs 0.2% of all
			 * instructions here (callgrind) */
			s->in_frame = HL7_MSG;
			s->frame_line = line;
			s->frame_offset = win_offset(s->w, s->w->beg);
			r = s->segs;
		}
		int crlf = b[t + 1] == '\n' && b[t] == '\r';
		size_t next = t + 1 + (size_t)crlf;
		eol_step(&m, &scan, t, crlf);
		r->off = (uint32_t)ls;
		r->n = (uint32_t)(t - ls);
		r->line = line++;
		r++;
		ls = next;
	}
out:
	(void)avx2;
	s->eolm = m;
	s->scan = scan;
	if (ls != ls0) {
		s->lstart = s->frame_end = ls;
		s->line = line;
		s->nsegs = (size_t)(r - s->segs);
	}
	return ends;
}

/* plain_lines out of line, with its own registers */
static __attribute__((noinline)) int plain_lines_sse2(struct hl7_stream *s, const char *b, size_t avail)
{
	return plain_lines(s, b, avail, 0);
}
#ifdef HL7_AVX2
__attribute__((target("avx2,bmi"))) static __attribute__((noinline)) int
plain_lines_avx2(struct hl7_stream *s, const char *b, size_t avail)
{
	return plain_lines(s, b, avail, 1);
}
#endif

static inline __attribute__((always_inline)) int stream_next(struct hl7_stream *s, struct hl7_frame *f,
                                                               struct err *e, int avx2)
{
	struct win *w = s->w;

	if (s->consume) {
		drop(s, s->consume);
		s->consume = 0;
	}
	for (;;) {
		size_t avail = w->end - w->beg;
		size_t t, next;
		if (w->buf && !(s->discard | s->in_comment | s->discard_midline)) {
			int ends;
#ifdef HL7_AVX2
			if (avx2)
				ends = plain_lines_avx2(s, w->buf + w->beg, avail);
			else
#endif
				ends = plain_lines_sse2(s, w->buf + w->beg, avail);
			if (ends)
				return finish(s, f); /* an MSH line starts the next round */
		}
		t = w->buf ? eol_next(s, w->buf + w->beg, avail, avx2) : 0;
		if (t == avail) {
			if (!w->eof) {
				int r = more(s, f, e);
				if (r < 0)
					return r;
				if (r == 2)
					return 1;
				continue;
			}
			if (s->lstart == avail) {
				if (s->in_frame)
					return finish(s, f);
				drop(s, s->lstart);
				return 0;
			}
			next = avail; /* a last line without terminator */
		} else if (w->buf[w->beg + t] == '\r' && t + 1 == avail && !w->eof) {
			/* a CR at the end of what we have: is it CRLF? (found
			 * again after the next read) */
			s->scan = t;
			s->eolm = 0;
			int r = more(s, f, e);
			if (r < 0)
				return r;
			if (r == 2)
				return 1;
			continue;
		} else {
			const char *b = w->buf + w->beg;
			next = t + 1 + (b[t] == '\r' && t + 1 < avail && b[t + 1] == '\n');
		}

		const char *b = w->buf + w->beg;
		const char *lp = b + s->lstart;
		size_t ln = t - s->lstart;
		int mllp_end = 0;
		lp = line_body(lp, &ln);
		while (ln && lp[ln - 1] == 0x1C) {
			ln--;
			mllp_end = 1;
		}
		size_t blank = 0;
		while (blank < ln && (lp[blank] == ' ' || lp[blank] == '\t'))
			blank++;

		enum { L_SKIP, L_MSH, L_ENV, L_SEG } kind = L_SEG;
		if (s->discard_midline) {
			s->discard_midline = 0;
			kind = L_SKIP;
		} else if (s->in_comment) {
			if (has_comment_end(lp, ln))
				s->in_comment = 0;
			kind = L_SKIP;
		} else if (blank == ln) {
			kind = L_SKIP;
		} else if (ln >= 2 && lp[0] == '/' && lp[1] == '*') {
			s->in_comment = !has_comment_end(lp + 2, ln - 2);
			kind = L_SKIP;
		} else if (ln >= 2 && lp[0] == '/' && lp[1] == '/') {
			kind = L_SKIP;
		} else if (is_msh_line(lp, ln)) {
			kind = L_MSH;
		} else if (is_env_line(lp, ln)) {
			kind = L_ENV;
		}
		if (s->discard) {
			if (kind == L_MSH || kind == L_ENV)
				s->discard = 0;
			else
				kind = L_SKIP;
		}

		if ((kind == L_MSH || kind == L_ENV) && s->in_frame)
			return finish(s, f); /* this line starts the next round */
		if (!s->discard && t - s->lstart > s->max_frame && kind != L_MSH) {
			/* a line longer than a frame may be, of any kind: a
			 * segment, so that its frame (or one of its own) is too
			 * large, as when more() finds it outgrowing the window */
			kind = L_SEG;
			s->in_comment = 0;
		}
		if (t < avail)
			eol_pass(s, t, next);

		if (kind == L_ENV) {
			if (lp[0] == 'B' && lp[1] == 'H')
				s->batch_msgs = 0;
			else if (lp[0] == 'B' && lp[1] == 'T')
				batch_trailer(s, lp, ln);
		}
		size_t beg0 = w->beg;
		if (kind == L_MSH)
			start(s, HL7_MSG);
		else if (kind == L_SEG && !s->in_frame)
			start(s, HL7_JUNK);
		next -= w->beg - beg0; /* start() dropped what preceded the line */
		if (kind == L_MSH || kind == L_SEG) {
			push_seg(s, (size_t)(lp - (w->buf + w->beg)), ln, s->line);
			s->frame_end = next;
		}
		s->line++;
		s->lstart = next;
		if (!s->in_frame)
			drop(s, s->lstart);
		if (mllp_end && s->in_frame)
			return finish(s, f);
	}
}

#ifdef HL7_AVX2
/* The same compiled for AVX2 (the CPU has it): line ends found 64 bytes a
 * round in two registers. */
__attribute__((target("avx2,bmi"))) static int stream_next_avx2(struct hl7_stream *s, struct hl7_frame *f, struct err *e)
{
	return stream_next(s, f, e, 1);
}
#endif

int hl7_stream_next(struct hl7_stream *s, struct hl7_frame *f, struct err *e)
{
#ifdef HL7_AVX2
	if (s->avx2)
		return stream_next_avx2(s, f, e);
#endif
	return stream_next(s, f, e, 0);
}

/* ------------------------------------------------------------------------ */
/* messages                                                                  */

void hl7_msg_setup(struct hl7_msg *m, struct arena *a)
{
	memset(m, 0, sizeof *m);
	m->a = a;
#ifdef HL7_AVX2
	m->avx2 = cpu_avx2();
#endif
}

void hl7_msg_free(struct hl7_msg *m)
{
	free(m->seg);
	free(m->fo);
	memset(m, 0, sizeof *m);
}

static int delim_ok(char c)
{
	unsigned char u = (unsigned char)c;
	return u > ' ' && u < 0x7F && !is_alnum(c);
}

/* 1 if the id bytes of key (those of the lanes whose high bits are hi; the
 * other lane 0) are capitals or digits: for a byte x below 0x80, x + 0x50
 * has its high bit set from '0' on, 0xB9 - x up to '9', x + 0x3F from 'A'
 * on and 0xDA - x up to 'Z' (and no carry or borrow leaves a byte). */
static inline int id_ok(uint32_t key, uint32_t hi)
{
	const uint32_t ones = 0x01010101u;
	if (key & hi)
		return 0;
	uint32_t digit = (key + 0x50 * ones) & (0xB9 * ones - key);
	uint32_t upper = (key + 0x3F * ones) & (0xDA * ones - key);
	return ((digit | upper) & hi) == hi;
}

/* The delimiters from MSH-1 and MSH-2 of the MSH line msh[0, mn) (mn >= 4)
 * into m->d and its vectors: 0, or -E_PARSE with e->pos.where set. */
static int read_delims(struct hl7_msg *m, const char *msh, size_t mn, struct err *e)
{
	char fs = msh[3];
	memset(&m->d, 0, sizeof m->d);
	if (!delim_ok(fs)) {
		if (e)
			snprintf(e->pos.where, sizeof e->pos.where, "MSH-1");
		return err_set(e, E_PARSE, "field separator is not a printable non-alphanumeric character");
	}
	size_t k = 4;
	while (k < mn && msh[k] != fs)
		k++;
	size_t nenc = k - 4;
	char enc[5] = { 0, 0, 0, 0, 0 };
	if (nenc < 1 || nenc > 5) {
		if (e)
			snprintf(e->pos.where, sizeof e->pos.where, "MSH-2");
		return err_set(e, E_PARSE, "%zu encoding characters (1 to 5 expected)", nenc);
	}
	for (size_t i = 0; i < nenc; i++) {
		enc[i] = msh[4 + i];
		int dup = enc[i] == fs;
		for (size_t j = 0; j < i; j++)
			dup |= enc[j] == enc[i];
		if (!delim_ok(enc[i]) || dup) {
			if (e)
				snprintf(e->pos.where, sizeof e->pos.where, "MSH-2");
			return err_set(e, E_PARSE, "encoding character %zu is %s", i + 1,
			               dup ? "used twice" : "not a printable non-alphanumeric character");
		}
	}
	m->d.fs = fs;
	m->d.cs = enc[0];
	m->d.rs = enc[1];
	m->d.es = enc[2];
	m->d.ss = enc[3];
#ifdef __SSE2__
	m->vfs = hl7_splat(fs);
	m->vcs = hl7_splat(enc[0]);
	m->vrs = hl7_splat(enc[1]);
	m->ves = hl7_splat(enc[2]);
	m->vss = hl7_splat(enc[3]);
#endif
	return 0;
}

int hl7_msg_init(struct hl7_msg *m, const struct hl7_frame *f, struct err *e)
{
	m->p = f->p;
	m->n = f->n;
	m->nseg = 0;
	m->nfo = 0;
	m->idset = 0;
	const char *why;
	if (f->nsegs == 0) {
		why = "no segments";
		goto no_msh;
	}
	const char *msh = f->p + f->segs[0].off;
	size_t mn = f->segs[0].n;
	if (e)
		e->pos.line = f->segs[0].line;
	if (mn < 4 || memcmp(msh, "MSH", 3) != 0) {
		if (e)
			snprintf(e->pos.where, sizeof e->pos.where, "MSH");
		why = "message does not start with MSH";
		goto no_msh;
	}
	/* the same 8 bytes after "MSH" as in the last message: the same
	 * delimiters (MSH-2 ends within them), read and checked already */
	uint64_t dkey = 0;
	if (mn >= 11)
		memcpy(&dkey, msh + 3, 8);
	if (dkey == 0 || dkey != m->dkey) {
		m->dkey = 0;
		int rc = read_delims(m, msh, mn, e);
		if (rc < 0)
			return rc;
		m->dkey = dkey;
	}
	char fs = m->d.fs;

	if (m->segcap < f->nsegs) {
		m->segcap = f->nsegs;
		m->seg = xrealloc(m->seg, mem_mul(m->segcap, sizeof *m->seg));
	}
	/* the segments: an id of 3 capitals or digits, then the field
	 * separator or the end */
	const struct hl7_segref *r = f->segs;
	struct hl7_seg *seg = m->seg;
	size_t nseg = f->nsegs, i;
	uint32_t idmask, hi, okkey = UINT32_MAX; /* no key: its 4th byte is 0 */
	uint64_t idset = 0;
	memcpy(&idmask, "\xFF\xFF\xFF", 4); /* the id's 3 bytes of a 4-byte load */
	hi = idmask & 0x80808080u;
	for (i = 0; i < nseg; i++) {
		const char *p = f->p + r[i].off;
		uint32_t n = r[i].n, key;
		if (n > 3) {
			if (p[3] != fs)
				break;
			memcpy(&key, p, 4);
			key &= idmask;
		} else if (n == 3) {
			key = hl7_id_key(p);
		} else {
			break;
		}
		/* an id like the one before (OBX after OBX): known good, and
		 * in idset already */
		if (key != okkey) {
			if (!id_ok(key, hi))
				break;
			okkey = key;
			idset |= hl7_id_bit(key);
		}
		struct hl7_seg *s = &seg[i];
		s->p = p;
		s->n = n;
		memcpy(s->id, &key, sizeof s->id); /* the 3 bytes and a NUL */
		s->line = r[i].line;
		s->f0 = UINT32_MAX;
		s->nfo = s->pos = s->nf = 0;
		s->done = s->clean = s->nosub = s->norep = 0;
	}
	if (i < nseg) {
		if (e) {
			e->pos.line = r[i].line;
			snprintf(e->pos.where, sizeof e->pos.where, "segment %zu", i + 1);
		}
		return err_set(e, E_PARSE, "line %zu of the message is not a segment (truncated, or wrong field separator)", i + 1);
	}
	m->idset = idset;
	m->nseg = nseg;
	return 0;

no_msh:
	/* no delimiters read: none kept for the next message either */
	memset(&m->d, 0, sizeof m->d);
	m->dkey = 0;
	return err_set(e, E_PARSE, "%s", why);
}

unsigned hl7_seg_ord(const struct hl7_msg *m, const struct hl7_seg *s)
{
	unsigned ord = 1;
	for (const struct hl7_seg *t = m->seg; t < s; t++)
		ord += memcmp(t->id, s->id, sizeof s->id) == 0;
	return ord;
}

/* More room in m->fo, always in a new block (rare: the room stays from
 * message to message), so that a segment's fe not moved with it would show
 * in every test that grows it. */
static __attribute__((noinline, cold)) void fo_more(struct hl7_msg *m, size_t extra)
{
	size_t cap = m->focap ? m->focap : 1024;
	while (cap < m->nfo + extra)
		cap = mem_mul(cap, 2);
	uint32_t *fo = xmalloc(mem_mul(cap, sizeof *fo));
	if (m->nfo)
		memcpy(fo, m->fo, m->nfo * sizeof *fo);
	free(m->fo);
	m->fo = fo;
	m->focap = cap;
	for (size_t i = 0; i < m->nseg; i++)
		if (m->seg[i].f0 != UINT32_MAX)
			m->seg[i].fe = m->fo + m->seg[i].f0;
}

static inline void fo_reserve(struct hl7_msg *m, size_t extra)
{
	if (m->nfo + extra > m->focap)
		fo_more(m, extra);
}

/* More room at w (the write position in m->fo): at least need entries; the
 * new w, *lim the end of the room. */
static uint32_t *fo_grow(struct hl7_msg *m, uint32_t *w, uint32_t **lim, size_t need)
{
	m->nfo = (size_t)(w - m->fo);
	fo_reserve(m, need);
	*lim = m->fo + m->focap;
	return m->fo + m->nfo;
}

#ifdef __SSE2__
/* Append at w the offsets at + (index of each set bit of mask), lowest
 * first. w needs room for 32. */
static inline uint32_t *flatten(uint32_t *w, unsigned mask, uint32_t at)
{
	while (mask) {
		*w++ = at + (uint32_t)__builtin_ctz(mask);
		mask &= mask - 1;
	}
	return w;
}

#ifdef HL7_AVX2
/* Byte b's set bits, lowest first, as bytes: entry b of 8 bytes holds the
 * index of its first set bit, then its second ... (0 beyond the last). */
static const uint64_t bit_index[256] = {
	0x0000000000000000ull, 0x0000000000000000ull, 0x0000000000000001ull, 0x0000000000000100ull,
	0x0000000000000002ull, 0x0000000000000200ull, 0x0000000000000201ull, 0x0000000000020100ull,
	0x0000000000000003ull, 0x0000000000000300ull, 0x0000000000000301ull, 0x0000000000030100ull,
	0x0000000000000302ull, 0x0000000000030200ull, 0x0000000000030201ull, 0x0000000003020100ull,
	0x0000000000000004ull, 0x0000000000000400ull, 0x0000000000000401ull, 0x0000000000040100ull,
	0x0000000000000402ull, 0x0000000000040200ull, 0x0000000000040201ull, 0x0000000004020100ull,
	0x0000000000000403ull, 0x0000000000040300ull, 0x0000000000040301ull, 0x0000000004030100ull,
	0x0000000000040302ull, 0x0000000004030200ull, 0x0000000004030201ull, 0x0000000403020100ull,
	0x0000000000000005ull, 0x0000000000000500ull, 0x0000000000000501ull, 0x0000000000050100ull,
	0x0000000000000502ull, 0x0000000000050200ull, 0x0000000000050201ull, 0x0000000005020100ull,
	0x0000000000000503ull, 0x0000000000050300ull, 0x0000000000050301ull, 0x0000000005030100ull,
	0x0000000000050302ull, 0x0000000005030200ull, 0x0000000005030201ull, 0x0000000503020100ull,
	0x0000000000000504ull, 0x0000000000050400ull, 0x0000000000050401ull, 0x0000000005040100ull,
	0x0000000000050402ull, 0x0000000005040200ull, 0x0000000005040201ull, 0x0000000504020100ull,
	0x0000000000050403ull, 0x0000000005040300ull, 0x0000000005040301ull, 0x0000000504030100ull,
	0x0000000005040302ull, 0x0000000504030200ull, 0x0000000504030201ull, 0x0000050403020100ull,
	0x0000000000000006ull, 0x0000000000000600ull, 0x0000000000000601ull, 0x0000000000060100ull,
	0x0000000000000602ull, 0x0000000000060200ull, 0x0000000000060201ull, 0x0000000006020100ull,
	0x0000000000000603ull, 0x0000000000060300ull, 0x0000000000060301ull, 0x0000000006030100ull,
	0x0000000000060302ull, 0x0000000006030200ull, 0x0000000006030201ull, 0x0000000603020100ull,
	0x0000000000000604ull, 0x0000000000060400ull, 0x0000000000060401ull, 0x0000000006040100ull,
	0x0000000000060402ull, 0x0000000006040200ull, 0x0000000006040201ull, 0x0000000604020100ull,
	0x0000000000060403ull, 0x0000000006040300ull, 0x0000000006040301ull, 0x0000000604030100ull,
	0x0000000006040302ull, 0x0000000604030200ull, 0x0000000604030201ull, 0x0000060403020100ull,
	0x0000000000000605ull, 0x0000000000060500ull, 0x0000000000060501ull, 0x0000000006050100ull,
	0x0000000000060502ull, 0x0000000006050200ull, 0x0000000006050201ull, 0x0000000605020100ull,
	0x0000000000060503ull, 0x0000000006050300ull, 0x0000000006050301ull, 0x0000000605030100ull,
	0x0000000006050302ull, 0x0000000605030200ull, 0x0000000605030201ull, 0x0000060503020100ull,
	0x0000000000060504ull, 0x0000000006050400ull, 0x0000000006050401ull, 0x0000000605040100ull,
	0x0000000006050402ull, 0x0000000605040200ull, 0x0000000605040201ull, 0x0000060504020100ull,
	0x0000000006050403ull, 0x0000000605040300ull, 0x0000000605040301ull, 0x0000060504030100ull,
	0x0000000605040302ull, 0x0000060504030200ull, 0x0000060504030201ull, 0x0006050403020100ull,
	0x0000000000000007ull, 0x0000000000000700ull, 0x0000000000000701ull, 0x0000000000070100ull,
	0x0000000000000702ull, 0x0000000000070200ull, 0x0000000000070201ull, 0x0000000007020100ull,
	0x0000000000000703ull, 0x0000000000070300ull, 0x0000000000070301ull, 0x0000000007030100ull,
	0x0000000000070302ull, 0x0000000007030200ull, 0x0000000007030201ull, 0x0000000703020100ull,
	0x0000000000000704ull, 0x0000000000070400ull, 0x0000000000070401ull, 0x0000000007040100ull,
	0x0000000000070402ull, 0x0000000007040200ull, 0x0000000007040201ull, 0x0000000704020100ull,
	0x0000000000070403ull, 0x0000000007040300ull, 0x0000000007040301ull, 0x0000000704030100ull,
	0x0000000007040302ull, 0x0000000704030200ull, 0x0000000704030201ull, 0x0000070403020100ull,
	0x0000000000000705ull, 0x0000000000070500ull, 0x0000000000070501ull, 0x0000000007050100ull,
	0x0000000000070502ull, 0x0000000007050200ull, 0x0000000007050201ull, 0x0000000705020100ull,
	0x0000000000070503ull, 0x0000000007050300ull, 0x0000000007050301ull, 0x0000000705030100ull,
	0x0000000007050302ull, 0x0000000705030200ull, 0x0000000705030201ull, 0x0000070503020100ull,
	0x0000000000070504ull, 0x0000000007050400ull, 0x0000000007050401ull, 0x0000000705040100ull,
	0x0000000007050402ull, 0x0000000705040200ull, 0x0000000705040201ull, 0x0000070504020100ull,
	0x0000000007050403ull, 0x0000000705040300ull, 0x0000000705040301ull, 0x0000070504030100ull,
	0x0000000705040302ull, 0x0000070504030200ull, 0x0000070504030201ull, 0x0007050403020100ull,
	0x0000000000000706ull, 0x0000000000070600ull, 0x0000000000070601ull, 0x0000000007060100ull,
	0x0000000000070602ull, 0x0000000007060200ull, 0x0000000007060201ull, 0x0000000706020100ull,
	0x0000000000070603ull, 0x0000000007060300ull, 0x0000000007060301ull, 0x0000000706030100ull,
	0x0000000007060302ull, 0x0000000706030200ull, 0x0000000706030201ull, 0x0000070603020100ull,
	0x0000000000070604ull, 0x0000000007060400ull, 0x0000000007060401ull, 0x0000000706040100ull,
	0x0000000007060402ull, 0x0000000706040200ull, 0x0000000706040201ull, 0x0000070604020100ull,
	0x0000000007060403ull, 0x0000000706040300ull, 0x0000000706040301ull, 0x0000070604030100ull,
	0x0000000706040302ull, 0x0000070604030200ull, 0x0000070604030201ull, 0x0007060403020100ull,
	0x0000000000070605ull, 0x0000000007060500ull, 0x0000000007060501ull, 0x0000000706050100ull,
	0x0000000007060502ull, 0x0000000706050200ull, 0x0000000706050201ull, 0x0000070605020100ull,
	0x0000000007060503ull, 0x0000000706050300ull, 0x0000000706050301ull, 0x0000070605030100ull,
	0x0000000706050302ull, 0x0000070605030200ull, 0x0000070605030201ull, 0x0007060503020100ull,
	0x0000000007060504ull, 0x0000000706050400ull, 0x0000000706050401ull, 0x0000070605040100ull,
	0x0000000706050402ull, 0x0000070605040200ull, 0x0000070605040201ull, 0x0007060504020100ull,
	0x0000000706050403ull, 0x0000070605040300ull, 0x0000070605040301ull, 0x0007060504030100ull,
	0x0000070605040302ull, 0x0007060504030200ull, 0x0007060504030201ull, 0x0706050403020100ull,
};

/* flatten with AVX2, at in every lane of *at (moved on by 32): the mask 8
 * bits at a time, each byte's offsets from bit_index widened to 8 lanes and
 * stored at once (those beyond its set bits too): no branch and no work per
 * field. w needs room for 32 + 8 (up to 8 written past the last offset, left
 * as garbage beyond the returned end). */
__attribute__((target("avx2,bmi")))
static inline uint32_t *flatten_tab(uint32_t *w, unsigned mask, __m256i *at)
{
	const __m256i eight = _mm256_set1_epi32(8);
	__m256i base = *at;
	for (int j = 0; j < 4; j++, mask >>= 8) {
		unsigned b = mask & 0xFF;
		__m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)&bit_index[b]));
		_mm256_storeu_si256((__m256i *)(void *)w, _mm256_add_epi32(v, base));
		w += __builtin_popcount(b);
		base = _mm256_add_epi32(base, eight);
	}
	*at = base;
	return w;
}
#endif

/* The delimiters as vectors, and what the bytes looked at so far held. */
struct split_vec {
	__m128i f, e, s, r;            /* field, escape, subcomponent, repetition separators */
	__m128i acc_e, acc_s, acc_r;   /* the escape or a high bit / a subcomponent / a repetition separator seen */
};

/* The 16 bytes at p: the mask of field separators; the rest noted in sv. */
static inline unsigned split16(struct split_vec *sv, const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	sv->acc_e = _mm_or_si128(sv->acc_e, _mm_or_si128(v, _mm_cmpeq_epi8(v, sv->e)));
	sv->acc_s = _mm_or_si128(sv->acc_s, _mm_cmpeq_epi8(v, sv->s));
	sv->acc_r = _mm_or_si128(sv->acc_r, _mm_cmpeq_epi8(v, sv->r));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sv->f));
}

/* The 32-byte rounds of hl7_split_more from i on, while i + 32 <= end:
 * the field starts appended at *pw, until it reaches stop; the rest noted
 * in sv. Returns where the rounds stopped. */
static inline size_t split_rounds(struct split_vec *sv, const char *p, size_t i, size_t end, uint32_t **pw,
                                  const uint32_t *stop)
{
	uint32_t *w = *pw;
	while (i + 32 <= end) {
		/* two 16-byte compares, one mask: one flatten and one test */
		unsigned mask = split16(sv, p + i) | split16(sv, p + i + 16) << 16;
		w = flatten(w, mask, (uint32_t)i + 1);
		i += 32;
		if (w >= stop)
			break;
	}
	*pw = w;
	return i;
}

#ifdef HL7_AVX2
/* The delimiters and the notes of struct split_vec in 32-byte registers. */
struct split_vec32 {
	__m256i f, e, s, r;
	__m256i acc_e, acc_s, acc_r;
};

/* The delimiters f, e, s, r (in every byte of 16) in both halves, nothing
 * noted yet. */
__attribute__((target("avx2,bmi")))
static inline void split_vec32_init(struct split_vec32 *v, __m128i f, __m128i e, __m128i s, __m128i r)
{
	v->f = _mm256_broadcastsi128_si256(f);
	v->e = _mm256_broadcastsi128_si256(e);
	v->s = _mm256_broadcastsi128_si256(s);
	v->r = _mm256_broadcastsi128_si256(r);
	v->acc_e = v->acc_s = v->acc_r = _mm256_setzero_si256();
}

/* split16 for the 32 bytes at p. */
__attribute__((target("avx2,bmi")))
static inline unsigned split32(struct split_vec32 *sv, const char *p)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	sv->acc_e = _mm256_or_si256(sv->acc_e, _mm256_or_si256(v, _mm256_cmpeq_epi8(v, sv->e)));
	sv->acc_s = _mm256_or_si256(sv->acc_s, _mm256_cmpeq_epi8(v, sv->s));
	sv->acc_r = _mm256_or_si256(sv->acc_r, _mm256_cmpeq_epi8(v, sv->r));
	return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, sv->f));
}

/* split_rounds with AVX2: the 32 bytes of a round in one register. */
__attribute__((target("avx2,bmi")))
static inline size_t split_rounds_avx2(struct split_vec32 *sv, const char *p, size_t i, size_t end, uint32_t **pw,
                                       const uint32_t *stop)
{
	uint32_t *w = *pw;
	__m256i at = _mm256_set1_epi32((int)i + 1);
	while (i + 32 <= end) {
		w = flatten_tab(w, split32(sv, p + i), &at);
		i += 32;
		if (w >= stop)
			break;
	}
	*pw = w;
	return i;
}

/* split_rounds_avx2 for split_more: its notes folded into sv's 16-byte ones. */
__attribute__((target("avx2,bmi")))
static inline size_t split_rounds_avx2_sv(struct split_vec *sv, const char *p, size_t i, size_t end, uint32_t **pw,
                                          const uint32_t *stop)
{
	struct split_vec32 v;
	split_vec32_init(&v, sv->f, sv->e, sv->s, sv->r);
	i = split_rounds_avx2(&v, p, i, end, pw, stop);
	/* both halves into sv's 16-byte notes */
	sv->acc_e = _mm_or_si128(sv->acc_e, _mm_or_si128(_mm256_castsi256_si128(v.acc_e),
	                                                 _mm256_extracti128_si256(v.acc_e, 1)));
	sv->acc_s = _mm_or_si128(sv->acc_s, _mm_or_si128(_mm256_castsi256_si128(v.acc_s),
	                                                 _mm256_extracti128_si256(v.acc_s, 1)));
	sv->acc_r = _mm_or_si128(sv->acc_r, _mm_or_si128(_mm256_castsi256_si128(v.acc_r),
	                                                 _mm256_extracti128_si256(v.acc_r, 1)));
	return i;
}
#endif
#endif

/* The start of a split: the segment's first, or one after another
 * segment's (this one's entries are moved to the end of m->fo, so that a
 * segment's entries stay contiguous). Then m->fo + m->nfo is where the next
 * entry goes. */
static inline void split_begin(struct hl7_msg *m, struct hl7_seg *s)
{
	if (s->f0 == UINT32_MAX) {
		s->f0 = (uint32_t)m->nfo;
		s->nfo = 0;
		s->pos = 3;
		s->clean = s->nosub = s->norep = 1;
		if (hl7_is_msh(s)) {
			/* MSH-1's entry (see hl7_seg) */
			fo_reserve(m, 1);
			m->fo[m->nfo++] = 4;
			s->nfo = 1;
		}
	} else if (s->f0 + s->nfo != m->nfo) {
		/* another segment was split since: move this one's entries to the end */
		fo_reserve(m, s->nfo);
		memcpy(m->fo + m->nfo, m->fo + s->f0, s->nfo * sizeof *m->fo);
		s->f0 = (uint32_t)m->nfo;
		m->nfo += s->nfo;
	}
}

/* The end of a split: the entries up to w, looked at up to byte i, and
 * whether those bytes held an escape or high byte (dirty), a subcomponent
 * (subs) or a repetition separator (reps). */
static inline void split_end(struct hl7_msg *m, struct hl7_seg *s, const uint32_t *w, size_t i, unsigned dirty,
                             unsigned subs, unsigned reps)
{
	s->pos = (uint32_t)i;
	s->fe = m->fo + s->f0;
	s->nfo = (uint32_t)((size_t)(w - m->fo) - s->f0);
	if (s->done)
		s->nf = s->nfo - 1;
	s->clean &= !dirty;
	s->nosub &= !subs;
	s->norep &= !reps;
	m->nfo = (size_t)(w - m->fo);
}

/*
 * Find field starts from s->pos on, 32 bytes at a time, until s->nfo > k or
 * the end; note whether the bytes looked at hold the escape character or a
 * byte beyond ASCII (s->clean), the subcomponent separator (s->nosub) or the
 * repetition separator (s->norep).
 * A segment's entries are contiguous in m->fo: one split partly before
 * another segment's is moved to the end first.
 */
static inline __attribute__((always_inline)) void split_more(struct hl7_msg *m, struct hl7_seg *s, unsigned k,
                                                              int avx2)
{
	if (s->done)
		return;
	split_begin(m, s);
	const char *p = s->p;
	size_t n = s->n, i = s->pos;
	size_t want = (size_t)k + 1; /* entries */
	(void)want;
	char fs = m->d.fs, es = m->d.es, ss = m->d.ss, rs = m->d.rs;
	uint32_t *w = m->fo + m->nfo, *lim = m->fo + m->focap;
	unsigned dirty = 0, subs = 0, reps = 0;
#ifdef __SSE2__
	struct split_vec sv;
	sv.f = m->vfs;
	sv.e = m->ves;
	sv.s = m->vss;
	sv.r = m->vrs;
	sv.acc_e = sv.acc_s = sv.acc_r = _mm_setzero_si128();
	while (i + 16 <= n) {
		/* a chunk of at most 1 KiB: room for a field start per byte of it
		 * first (plus the end and the overlapping last block) */
		size_t cend = n - i > 1024 ? i + 1024 : n, room = cend - i + 18;
		if ((size_t)(lim - w) < room)
			w = fo_grow(m, w, &lim, room);
		size_t have = (size_t)(w - m->fo) - s->f0;
		uint32_t *stop = want - have < room ? w + (want - have) : lim;
		/* 32 bytes a round, then 16 if left */
#ifdef HL7_AVX2
		if (avx2)
			i = split_rounds_avx2_sv(&sv, p, i, cend, &w, stop);
		else
#endif
			i = split_rounds(&sv, p, i, cend, &w, stop);
		if (w >= stop)
			goto out;
		if (i + 16 <= cend) {
			w = flatten(w, split16(&sv, p + i), (uint32_t)i + 1);
			i += 16;
			if (w >= stop)
				goto out;
		}
	}
	if ((size_t)(lim - w) < 18)
		w = fo_grow(m, w, &lim, 18);
	if (i < n && n >= 19) {
		/* the last 16 bytes of the segment, those before i masked off */
		size_t j = n - 16;
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
		unsigned keep = 0xFFFFu << (i - j);
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sv.f)) & keep;
		dirty |= (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, sv.e))) & keep;
		subs |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sv.s)) & keep;
		reps |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sv.r)) & keep;
		w = flatten(w, mask, (uint32_t)j + 1);
		i = n;
	}
#endif
	for (; i < n; i++) { /* with SSE2: at most 15 bytes */
		unsigned char c = (unsigned char)p[i];
		if (lim - w < 2)
			w = fo_grow(m, w, &lim, 64);
		if (c == (unsigned char)fs)
			*w++ = (uint32_t)(i + 1);
		dirty |= (c == (unsigned char)es) | (c >= 0x80);
		subs |= c == (unsigned char)ss;
		reps |= c == (unsigned char)rs;
	}
	*w++ = (uint32_t)(n + 1);
	s->done = 1;
#ifdef __SSE2__
out:
	dirty |= (unsigned)_mm_movemask_epi8(sv.acc_e);
	subs |= (unsigned)_mm_movemask_epi8(sv.acc_s);
	reps |= (unsigned)_mm_movemask_epi8(sv.acc_r);
#endif
	split_end(m, s, w, i, dirty, subs, reps);
}

#ifdef HL7_AVX2
/* The end of a split of a segment of 32 bytes or more whose rounds stopped
 * at i: its last 32 bytes in one more round (the field separators before i
 * masked off; bytes looked at twice change no note), then the end entry. */
__attribute__((target("avx2,bmi")))
static inline uint32_t *split_last_avx2(struct split_vec32 *sv, const char *p, size_t i, size_t n, uint32_t *w)
{
	if (i < n) {
		size_t j = n - 32;
		__m256i at = _mm256_set1_epi32((int)j + 1);
		w = flatten_tab(w, split32(sv, p + j) & (~0u << (i - j)), &at);
	}
	*w++ = (uint32_t)(n + 1);
	return w;
}

/* The most bytes left to split that the AVX2 short way takes (a segment's
 * first split starts after its 3-byte id: up to 3 + SPLIT_SHORT bytes). */
#define SPLIT_SHORT 1024

/* The short way of an AVX2 split from *pi on of the segment p[0, n) (n >=
 * 32, at most SPLIT_SHORT bytes left), its notes in sv (set up here): room
 * for all its entries reserved at once (an entry per byte left at most, and
 * the end, and flatten_tab's 8 beyond), up to want of them appended from
 * m->fo + m->nfo on (into *start, if start is given), then if not stopped by
 * those the last 32 bytes and the end (*done set). Returns the end of the
 * entries, *pi where it stopped. (*start as given here: m->fo read after the
 * rounds would be loaded again, as their vector stores may alias it.) */
__attribute__((target("avx2,bmi"))) static inline __attribute__((always_inline)) uint32_t *
split_short_avx2(struct hl7_msg *m, struct split_vec32 *sv, const char *p, size_t *pi, size_t n, size_t want,
                 uint32_t **start, uint8_t *done)
{
	size_t i = *pi, room = n - i + 1;
	fo_reserve(m, room + 8);
	uint32_t *w = m->fo + m->nfo, *stop = w + (want < room ? want : room);
	if (start)
		*start = w;
	split_vec32_init(sv, m->vfs, m->ves, m->vss, m->vrs);
	i = split_rounds_avx2(sv, p, i, n, &w, stop);
	*done = w < stop;
	if (*done) {
		w = split_last_avx2(sv, p, i, n, w);
		i = n;
	}
	*pi = i;
	return w;
}

/*
 * split_more with AVX2 (the CPU has it). A segment of 32 bytes or more with
 * at most 1 KiB left to split (most are) takes a shorter way, as a split is
 * done once per segment read and its fixed costs count: room for all its
 * entries reserved at once, the notes kept in 32-byte registers, and after
 * the 32-byte rounds the segment's last 32 bytes looked at in one more (the
 * field separators before i masked off; bytes looked at twice, or the
 * segment id's letters and digits, change no other note) rather than 16
 * bytes and then byte by byte. The
 * others go the general way, 32 bytes a round in one register and the
 * 16-byte operations as three-operand VEX instructions.
 */
__attribute__((target("avx2,bmi"))) static void split_more_avx2(struct hl7_msg *m, struct hl7_seg *s, unsigned k)
{
	if (s->done)
		return;
	split_begin(m, s);
	const char *p = s->p;
	size_t n = s->n, i = s->pos;
	if (n < 32 || n - i > SPLIT_SHORT) {
		split_more(m, s, k, 1);
		return;
	}
	struct split_vec32 sv;
	uint32_t *w = split_short_avx2(m, &sv, p, &i, n, (size_t)k + 1 - s->nfo, NULL, &s->done);
	split_end(m, s, w, i, (unsigned)_mm256_movemask_epi8(sv.acc_e), (unsigned)_mm256_movemask_epi8(sv.acc_s),
	          (unsigned)_mm256_movemask_epi8(sv.acc_r));
}

/*
 * The first split of a segment other than MSH, of 32 bytes up to 1 KiB
 * (nearly every split): split_more_avx2's short way with nothing to carry
 * over, so nothing of split_begin / split_end's bookkeeping (no entries to
 * move, no notes to merge with earlier ones). A call of its own from
 * hl7_split_more (a target("avx2") function is not inlined into a caller
 * without it).
 */
__attribute__((target("avx2,bmi"))) static inline void split_first_avx2(struct hl7_msg *m, struct hl7_seg *s,
                                                                        unsigned k)
{
	size_t n = s->n, f0 = m->nfo, i = 3;
	struct split_vec32 sv;
	uint32_t *fe;
	uint8_t done;
	uint32_t *w = split_short_avx2(m, &sv, s->p, &i, n, (size_t)k + 1, &fe, &done);
	uint32_t nfo = (uint32_t)(w - fe);
	s->f0 = (uint32_t)f0;
	s->fe = fe;
	s->nfo = nfo;
	s->pos = (uint32_t)i;
	s->nf = done ? nfo - 1 : 0;
	s->done = done;
	s->clean = !_mm256_movemask_epi8(sv.acc_e);
	s->nosub = !_mm256_movemask_epi8(sv.acc_s);
	s->norep = !_mm256_movemask_epi8(sv.acc_r);
	m->nfo = f0 + nfo;
}
#endif

void hl7_split_more(struct hl7_msg *m, struct hl7_seg *s, unsigned k)
{
#ifdef HL7_AVX2
	if (m->avx2) {
		if (s->f0 == UINT32_MAX && s->n >= 32 && s->n <= 3 + SPLIT_SHORT && !hl7_is_msh(s))
			split_first_avx2(m, s, k);
		else
			split_more_avx2(m, s, k);
		return;
	}
#endif
	split_more(m, s, k, 0);
}

unsigned hl7_nfields(struct hl7_msg *m, struct hl7_seg *s)
{
	hl7_split_more(m, s, UINT_MAX);
	return s->nf; /* MSH's counts MSH-1 by its first entry */
}

size_t hl7_pieces(struct span s, char c, struct span *out, size_t max)
{
	size_t k = 0;
	if (max == 0)
		return 0;
	if (s.n == 0 || !c) {
		out[0] = s;
		return 1;
	}
	const char *p = s.p, *end = s.p + s.n, *q;
	while ((q = hl7_find_byte(p, end, c)) != NULL) {
		out[k++] = span_make(p, (size_t)(q - p));
		p = q + 1;
		if (k == max)
			return k;
	}
	out[k++] = span_make(p, (size_t)(end - p));
	return k;
}

size_t hl7_count(struct span s, char c)
{
	size_t k = 1;
	if (!c)
		return 1;
	for (size_t i = 0; i < s.n; i++)
		k += s.p[i] == c;
	return k;
}

/* ------------------------------------------------------------------------ */
/* text                                                                      */

static int any_high(const char *p, size_t n)
{
	size_t i = 0;
	uint64_t acc = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		acc |= v;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & 0x8080808080808080ull) != 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append byte c to o, as UTF-8 if the message is Latin-1. */
static size_t put(char *o, size_t k, unsigned char c, int latin1)
{
	if (latin1 && c >= 0x80) {
		o[k++] = (char)(0xC0 | (c >> 6));
		o[k++] = (char)(0x80 | (c & 0x3F));
	} else {
		o[k++] = (char)c;
	}
	return k;
}

int hl7_text(struct hl7_msg *m, struct span raw, struct span *out, struct err *e)
{
	if (raw.n == 2 && raw.p[0] == '"' && raw.p[1] == '"') {
		*out = span_make(raw.p, 0);
		return 0;
	}
	char es = m->d.es;
	int has_esc = 0, high = 0;
	if (raw.n < 64) {
		unsigned char acc = 0;
		for (size_t i = 0; i < raw.n; i++) {
			acc |= (unsigned char)raw.p[i];
			has_esc |= raw.p[i] == es;
		}
		high = acc >= 0x80;
		has_esc &= es != '\0';
	} else {
		has_esc = es && memchr(raw.p, es, raw.n) != NULL;
		high = any_high(raw.p, raw.n);
	}
	if (!has_esc && !high) {
		*out = raw;
		return 0;
	}
	if (!has_esc && m->charset == HL7_CS_UTF8) {
		if (!span_utf8_valid(raw))
			return err_set(e, E_ENCODING, "invalid UTF-8");
		*out = raw;
		return 0;
	}
	if (high && m->charset == HL7_CS_ASCII)
		return err_set(e, E_ENCODING, "a byte beyond ASCII in a message declared ASCII");
	int latin1 = m->charset == HL7_CS_LATIN1;
	char *o = arena_alloc(m->a, mem_add(mem_mul(raw.n, 2), 1));
	size_t k = 0;
	const char *p = raw.p, *end = raw.p + raw.n;
	while (p < end) {
		if (*p != es || !has_esc) {
			k = put(o, k, (unsigned char)*p++, latin1);
			continue;
		}
		const char *q = memchr(p + 1, es, (size_t)(end - p - 1));
		if (!q)
			return err_set(e, E_ENCODING, "unterminated escape sequence");
		const char *a = p + 1;
		size_t an = (size_t)(q - a);
		if (an == 0)
			return err_set(e, E_ENCODING, "empty escape sequence");
		if (an == 1) {
			switch (a[0]) {
			case 'F': o[k++] = m->d.fs; break;
			case 'S': o[k++] = m->d.cs; break;
			case 'T': o[k++] = m->d.ss ? m->d.ss : '&'; break;
			case 'R': o[k++] = m->d.rs ? m->d.rs : '~'; break;
			case 'E': o[k++] = es; break;
			case 'P': o[k++] = '#'; break;
			case 'H': case 'N': break; /* highlighting on / off */
			default:
				return err_set(e, E_ENCODING, "unknown escape sequence");
			}
		} else if (a[0] == 'X') {
			if ((an - 1) % 2 != 0 || an < 3)
				return err_set(e, E_ENCODING, "odd number of hex digits in a \\X escape");
			for (size_t i = 1; i < an; i += 2) {
				int h = hexval(a[i]), l = hexval(a[i + 1]);
				if (h < 0 || l < 0)
					return err_set(e, E_ENCODING, "non-hex digit in a \\X escape");
				if (h == 0 && l == 0)
					return err_set(e, E_ENCODING, "a \\X escape of a NUL byte");
				k = put(o, k, (unsigned char)(h * 16 + l), latin1);
			}
		} else if (a[0] == '.') {
			/* formatting: .br and .sp make a line break, the rest nothing */
			if ((an >= 3 && a[1] == 'b' && a[2] == 'r') || (an >= 3 && a[1] == 's' && a[2] == 'p'))
				o[k++] = '\n';
			else if (!(an >= 3 && ((a[1] == 'i' && a[2] == 'n') || (a[1] == 't' && a[2] == 'i') ||
			                       (a[1] == 's' && a[2] == 'k') || (a[1] == 'c' && a[2] == 'e') ||
			                       (a[1] == 'f' && a[2] == 'i') || (a[1] == 'n' && a[2] == 'f'))))
				return err_set(e, E_ENCODING, "unknown formatting escape");
		} else if (a[0] == 'Z') {
			/* locally defined: dropped */
		} else if (a[0] == 'C' || a[0] == 'M') {
			return err_set(e, E_ENCODING, "character set escapes (\\C, \\M) are not supported");
		} else {
			return err_set(e, E_ENCODING, "unknown escape sequence");
		}
		p = q + 1;
	}
	o[k] = '\0';
	*out = span_make(o, k);
	if (!latin1 && !span_utf8_valid(*out))
		return err_set(e, E_ENCODING, "invalid UTF-8");
	return 0;
}
