/*
 * hl7_tok.h - the HL7 v2 tokenizer: messages in a byte stream, and their
 * segments, fields, repetitions, components and subcomponents as spans.
 *
 *   file --win (core/io.h)--> lines ending in CR | LF | CRLF
 *        --hl7_stream_next--> frames: one message each (MSH up to the next
 *                             MSH, batch line FHS/BHS/BTS/FTS, MLLP end 0x1C
 *                             or end of file), or a run of segments that no
 *                             MSH introduces (HL7_JUNK), or a message larger
 *                             than the window allows (HL7_TOO_LARGE)
 *   frame --hl7_msg_init--> delimiters from MSH-1 / MSH-2 (never assumed),
 *                           segment table
 *   segment --hl7_field--> a field's bytes (the segment is split as far as
 *                          fields are asked for, and no further)
 *   span --hl7_rep / hl7_comp / hl7_sub--> narrower spans
 *   span --hl7_text--> the value with escapes resolved (\F\ \S\ \T\ \R\ \E\
 *                      \Xhh..\ \.br\ ...) and Latin-1 turned into UTF-8:
 *                      copied into the message arena only when that changes
 *                      something, else the same span.
 *
 * Between messages the stream skips blank lines, `/ * ... * /` comment
 * blocks and `//` comment lines, a UTF-8 byte-order mark and MLLP framing
 * bytes (0x0B before, 0x1C 0x0D after). Batch envelopes (FHS/BHS/BTS/FTS)
 * end the current message and are not records themselves.
 *
 * Spans handed out point into the stream's window (or the message arena)
 * and are valid until the next hl7_stream_next(). A frame larger than the
 * window's maximum record size (as opened) is reported as one HL7_TOO_LARGE
 * frame (its first bytes as raw, up to that size) and the rest of it is
 * skipped; memory stays bounded by twice that size (hl7_stream_init sets
 * the window's maximum: a frame's end and the start of the line after it).
 *
 * Fed whole or one byte at a time, the stream yields the same frames.
 */
#ifndef OMO_HL7_TOK_H
#define OMO_HL7_TOK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core/arena.h"
#include "core/err.h"
#include "core/io.h"
#include "core/span.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum hl7_frame_kind {
	HL7_MSG = 1,     /* a message starting with MSH */
	HL7_JUNK,        /* segments with no MSH before them */
	HL7_TOO_LARGE,   /* a message beyond the size limit (raw: its start) */
};

/* One segment line of a frame: offset and length relative to the frame start
 * (terminator excluded, MLLP bytes stripped), and its line in the file. */
struct hl7_segref {
	uint32_t off, n;
	uint64_t line;
};

struct hl7_frame {
	int kind;                  /* enum hl7_frame_kind */
	const char *p;             /* raw bytes of the frame */
	size_t n;
	uint64_t msgno;            /* 1-based record number in the file */
	uint64_t line;             /* line of the first segment */
	uint64_t offset;           /* byte offset of the first segment (decompressed) */
	const struct hl7_segref *segs;
	size_t nsegs;
};

struct hl7_stream {
	struct win *w;
	/* offsets relative to w->beg */
	size_t lstart;             /* start of the line being looked at */
	size_t scan;               /* where the search for line ends resumes */
	uint64_t eolm;             /* line ends found before scan and not yet passed:
	                              bit i for byte scan - 64 + i */
	uint64_t line;             /* line number of lstart */
	uint64_t msgno;
	int in_frame;              /* 0, HL7_MSG or HL7_JUNK */
	int in_comment;            /* inside a / * * / block */
	int discard;               /* skipping the rest of an oversized message */
	int discard_midline;       /* ... and not at a line start */
	size_t consume;            /* bytes to drop at the next call (the last frame) */
	size_t frame_end;          /* end of the last segment line of the frame */
	uint64_t frame_line, frame_offset;
	struct hl7_segref *segs;
	size_t nsegs, segcap;
	size_t max_frame;          /* larger frames are HL7_TOO_LARGE (the window's max when opened) */
	size_t raw_cap;            /* raw bytes kept for an HL7_TOO_LARGE frame */
	/* batch accounting */
	uint64_t batch_msgs;       /* messages since the last BHS */
	uint64_t batch_mismatch;   /* BTS counts that did not match */
	int avx2;                  /* find line ends with AVX2 (the CPU has it, BMI and popcnt) rather than SSE2 */
};

/* Start reading frames from w (already opened, BOM skipped or not); frames
 * up to w's max (w's max is raised to twice that and 2). */
void hl7_stream_init(struct hl7_stream *s, struct win *w);
/*
 * The next frame: 1 and *f filled, 0 at end of input, or a negative hard
 * error (-E_IO) in e. The frame's bytes stay valid until the next call.
 */
int hl7_stream_next(struct hl7_stream *s, struct hl7_frame *f, struct err *e);
void hl7_stream_free(struct hl7_stream *s);

/* --- one message -------------------------------------------------------- */

struct hl7_delims {
	char fs;   /* field separator, MSH-1 */
	char cs;   /* component, MSH-2[0] */
	char rs;   /* repetition, MSH-2[1] ('\0' if not given) */
	char es;   /* escape, MSH-2[2] ('\0' if not given) */
	char ss;   /* subcomponent, MSH-2[3] ('\0' if not given) */
};

enum hl7_charset { HL7_CS_UTF8 = 0, HL7_CS_LATIN1, HL7_CS_ASCII };

struct hl7_seg {
	const char *p;             /* segment bytes, "PID|..." */
	uint32_t n;
	char id[4];                /* "PID", NUL-terminated */
	uint64_t line;
	/* The split, done as far as fields are asked for: hl7_msg.fo[f0 ..
	 * f0 + nfo) hold where fields 1, 2 ... start (after their separator)
	 * and, once done, n + 1 (the end). MSH's start with an entry 4 for
	 * MSH-1, the separator itself, so that there too field n runs from
	 * entry n - 1 to entry n (n >= 2). */
	uint32_t f0;               /* UINT32_MAX: not split at all yet */
	const uint32_t *fe;        /* hl7_msg.fo + f0 once split (moved with fo when it grows) */
	uint32_t nfo;
	uint32_t pos;              /* where splitting goes on */
	uint32_t nf;               /* once done: number of fields after the segment id */
	uint8_t done;              /* split to the end */
	uint8_t clean;             /* 1 if the part split so far holds no escape character
	                              and no byte beyond ASCII: hl7_text changes nothing there */
	uint8_t nosub;             /* 1 if the part split so far holds no subcomponent separator */
	uint8_t norep;             /* 1 if the part split so far holds no repetition separator */
};

struct hl7_msg {
	const char *p;
	size_t n;
	struct hl7_delims d;
	uint64_t dkey;             /* the 8 bytes after "MSH" d was read from (0: none) */
	int charset;               /* enum hl7_charset */
	struct hl7_seg *seg;
	size_t nseg, segcap;
	uint32_t *fo;              /* field start offsets of split segments */
	size_t nfo, focap;
	/* the segment ids present (hl7_msg_init): bit hl7_id_bit(key) set for
	 * each, so that a clear bit tells an id is absent */
	uint64_t idset;
	struct arena *a;           /* where unescaped text goes (reset per message) */
	int avx2;                  /* split with AVX2 (the CPU has it, BMI and popcnt) rather than SSE2 */
#ifdef __SSE2__
	/* the delimiters in every byte of a vector (hl7_msg_init): made when
	 * MSH's delimiter bytes differ from the last message's (dkey) rather
	 * than at each split */
	__m128i vfs, vcs, vrs, ves, vss;
#endif
};

/* An empty message object; its tables are reused from message to message. */
void hl7_msg_setup(struct hl7_msg *m, struct arena *a);
void hl7_msg_free(struct hl7_msg *m);
/*
 * Take a frame of kind HL7_MSG: read the delimiters from MSH-1/MSH-2, build
 * the segment table. charset is the default (MSH-18 is read by the caller).
 * 0, or -E_PARSE (bad delimiters, a line that is not a segment) with
 * e->pos.where ("MSH-2", "segment 4") and e->pos.line set.
 */
int hl7_msg_init(struct hl7_msg *m, const struct hl7_frame *f, struct err *e);

/* A segment id's key (its 3 bytes and a NUL, as hl7_seg.id holds them) and
 * its bit in hl7_msg.idset. */
static inline uint32_t hl7_id_key(const char *id)
{
	uint32_t k = 0;
	memcpy(&k, id, 3);
	return k;
}
static inline uint64_t hl7_id_bit(uint32_t key)
{
	return 1ull << ((key * 2654435761u) >> 26);
}
/* 1 if the message holds no segment with this id (its first 3 bytes), 0 if
 * it does or the id set cannot tell (another id has the same bit): spares a
 * walk over the segments. */
static inline int hl7_msg_lacks(const struct hl7_msg *m, const char *id)
{
	return !(m->idset & hl7_id_bit(hl7_id_key(id)));
}
/* The 1-based occurrence of s's id in m (s one of m->seg): counted when
 * asked, as only error positions and a few keys need it. */
unsigned hl7_seg_ord(const struct hl7_msg *m, const struct hl7_seg *s);

/* Split s on (hl7_field does it when asked for a field not split yet) until
 * s->nfo > k, or to the end; k UINT_MAX: to the end. */
void hl7_split_more(struct hl7_msg *m, struct hl7_seg *s, unsigned k);

static inline int hl7_is_msh(const struct hl7_seg *s)
{
	return s->id[0] == 'M' && s->id[1] == 'S' && s->id[2] == 'H';
}

/*
 * Field n of a segment, raw (all repetitions, escapes unresolved); empty if
 * absent. MSH-1 is the field separator itself, MSH-2 the encoding characters.
 */
static inline struct span hl7_field(struct hl7_msg *m, struct hl7_seg *s, unsigned n)
{
	/* MSH's table has an entry for MSH-1 too (see hl7_seg): only fields 0
	 * and 1 need a look at the id, a test the compiler drops for a
	 * constant n above 1; MSH's field 0 is empty at the segment's end
	 * (no split needed for it) */
	if (n <= 1) {
		if (hl7_is_msh(s))
			return n ? span_make(s->p + 3, 1) : span_make(s->p + s->n, 0);
		if (n == 0)
			return span_make(s->p, 3);
	}
	if (n >= s->nfo) {
		/* field n runs from entry n - 1 to entry n */
		if (!s->done)
			hl7_split_more(m, s, n);
		if (n >= s->nfo)
			return span_make(s->p + s->n, 0);
	}
	const uint32_t *fo = s->fe + n - 1;
	return span_make(s->p + fo[0], fo[1] - 1 - fo[0]);
}
/* Split s (if not done yet) at least up to field k (of a segment other than
 * MSH; of MSH up to field k + 1): a handler that knows which fields it reads
 * splits once. */
static inline void hl7_split_to(struct hl7_msg *m, struct hl7_seg *s, unsigned k)
{
	k += hl7_is_msh(s);
	if (!s->done && k >= s->nfo)
		hl7_split_more(m, s, k);
}
/* Number of fields of a segment (after its id; for MSH counting MSH-1). */
unsigned hl7_nfields(struct hl7_msg *m, struct hl7_seg *s);

#ifdef __SSE2__
/* Byte c in all 16 lanes, from a general register (_mm_set1_epi8 of a
 * variable goes through the stack here: a byte store and a wider load, a
 * stall each time). */
static inline __m128i hl7_splat(char c)
{
	return _mm_set1_epi32((int)((unsigned char)c * 0x01010101u));
}
#endif

/* The first c in [p, end), or NULL. Eight bytes at a time: fields and
 * components are short, a plain word loop beats a memchr call. */
static inline const char *hl7_find_byte(const char *p, const char *end, char c)
{
	/* a zero byte in (word ^ c...c) is a match */
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t cc = ones * (unsigned char)c;
	if (end - p >= 8) {
		const char *last = end - 8;
		uint64_t v, z;
		for (; p < last; p += 8) {
			memcpy(&v, p, 8);
			v ^= cc;
			z = (v - ones) & ~v & highs;
			if (z)
				return p + (__builtin_ctzll(z) >> 3);
		}
		/* the last 8 bytes, some looked at already: no match there */
		memcpy(&v, last, 8);
		v ^= cc;
		z = (v - ones) & ~v & highs;
		return z ? last + (__builtin_ctzll(z) >> 3) : NULL;
	}
	for (; p < end; p++)
		if (*p == c)
			return p;
	return NULL;
}

/* The k-th (1-based) piece of s cut at c; empty if there are fewer. c '\0':
 * s itself for k == 1. */
static inline struct span hl7_piece(struct span s, char c, unsigned k)
{
	if (s.n == 0 || k == 0)
		return span_make(s.p, 0);
	if (!c)
		return k == 1 ? s : span_make(s.p + s.n, 0);
	const char *p = s.p, *end = s.p + s.n;
	while (--k) {
		const char *q = hl7_find_byte(p, end, c);
		if (!q)
			return span_make(end, 0);
		p = q + 1;
	}
	const char *q = hl7_find_byte(p, end, c);
	return span_make(p, (size_t)((q ? q : end) - p));
}
static inline struct span hl7_rep(const struct hl7_msg *m, struct span f, unsigned k) { return hl7_piece(f, m->d.rs, k); }
static inline struct span hl7_comp(const struct hl7_msg *m, struct span f, unsigned k) { return hl7_piece(f, m->d.cs, k); }
static inline struct span hl7_sub(const struct hl7_msg *m, struct span f, unsigned k) { return hl7_piece(f, m->d.ss, k); }

/* Split s at c into at most max pieces (the last holds the rest up to its
 * next c); returns how many. One pass: for reading several components. */
size_t hl7_pieces(struct span s, char c, struct span *out, size_t max);
/* Number of pieces (1 for an empty span). */
size_t hl7_count(struct span s, char c);

/*
 * Resolve escapes and the character set of a raw span. `""` (HL7 null)
 * gives an empty span. The result is raw itself when nothing changes, else a
 * copy in m->a. 0, or -E_ENCODING (a bad or unterminated escape, invalid
 * UTF-8) with a message in e (position left to the caller).
 */
int hl7_text(struct hl7_msg *m, struct span raw, struct span *out, struct err *e);

#endif
