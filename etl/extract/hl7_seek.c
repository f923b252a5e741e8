/*
 * hl7_seek.c - a few fields of a segment that is not split.
 *
 * Of some segments a message reads a handful of fields: MSH-9, -10 and -18,
 * PV1-19 (the visit) in most messages. Those are found by counting the
 * field separators a block at a time rather than by splitting the segment
 * (hl7_tok.c, which notes where each field starts): only in a block that
 * holds a wanted separator are its bits looked at.
 */
#include "etl/extract/hl7_int.h"

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef HX_AVX2
#include <immintrin.h>
#endif

#ifdef __SSE2__
/* set bits of a mask of 32 (no popcnt instruction assumed) */
static inline unsigned pop32(uint32_t x)
{
	x -= (x >> 1) & 0x55555555u;
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0F0F0F0Fu;
	return (x * 0x01010101u) >> 24;
}

/* the field separators among the bytes from p to end (fewer than 32: a
 * segment shorter than a block), out of the way of the block loop */
__attribute__((noinline)) static uint32_t fs_mask_short(const struct hl7_msg *m, const char *p, const char *end)
{
	uint32_t mk = 0;
	for (const char *q = p; q < end; q++)
		mk |= (uint32_t)(*q == m->d.fs) << (q - p);
	return mk;
}
#endif

#ifdef HX_AVX2
/* the field separators among the 32 bytes at p */
__attribute__((target("avx2"))) static inline uint32_t fs_mask32(const struct hl7_msg *m, const char *p)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_broadcastsi128_si256(m->vfs)));
}
#endif

#ifdef __SSE2__
/* the field separators among the width bytes at p (32 with avx2, else 16) */
static inline __attribute__((always_inline)) uint32_t fs_mask(const struct hl7_msg *m, const char *p, int avx2)
{
#ifdef HX_AVX2
	if (avx2)
		return fs_mask32(m, p);
#endif
	(void)avx2;
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), m->vfs));
}

/* the set bits of mk: with avx2 by the popcnt instruction */
static inline __attribute__((always_inline)) unsigned pop(uint32_t mk, int avx2)
{
	return avx2 ? (unsigned)__builtin_popcount(mk) : pop32(mk);
}
#endif

/* Of the separators in a block (mask mk, at blk; k before it, c in it),
 * the wanted ones from want[j] on into at: its bits cleared lowest first,
 * once. Returns the next j. */
static inline size_t seps_pick(uint32_t mk, const char *blk, unsigned k, unsigned c, const unsigned *want, size_t j,
                               size_t n, const char **at)
{
	unsigned i = k + 1; /* the number of the lowest bit of mk */
	for (; j < n && want[j] <= k + c; j++) {
		for (; i < want[j]; i++)
			mk &= mk - 1;
		at[j] = blk + __builtin_ctz(mk);
	}
	return j;
}

/* The field separators of s numbered want[0] < want[1] < ... < want[n - 1]
 * (1-based, counted from byte 3: an MSH's first is MSH-1; n > 0) into
 * at[i]; at[i] is left as it was (NULL: the caller's) for those the segment
 * does not have. avx2: 32 bytes a block, popcnt. */
static inline __attribute__((always_inline)) void seps_find(const struct hl7_msg *m, const struct hl7_seg *s,
                                                            const unsigned *want, size_t n, const char **at, int avx2)
{
	const char *b = s->p + 3, *end = s->p + s->n;
	size_t j = 0;
	unsigned k = 0; /* separators before b */
#ifdef __SSE2__
	const size_t width = avx2 ? 32 : 16;
	uint32_t mk;
	unsigned c;
	for (; (size_t)(end - b) >= width; b += width) {
		mk = fs_mask(m, b, avx2);
		c = pop(mk, avx2);
		if (want[j] <= k + c && (j = seps_pick(mk, b, k, c, want, j, n, at)) == n)
			return;
		k += c;
	}
	if (b == end)
		return;
	const char *blk = b;
	if (s->n >= width) {
		/* the segment's last block, its bytes before b (looked at) masked off */
		blk = end - width;
		mk = fs_mask(m, blk, avx2) & ~0u << (b - blk);
	} else {
		mk = fs_mask_short(m, b, end);
	}
	c = pop(mk, avx2);
	seps_pick(mk, blk, k, c, want, j, n, at);
#else
	(void)avx2;
	for (; j < n && b < end; b++)
		if (*b == m->d.fs && ++k == want[j])
			at[j++] = b;
#endif
}

#ifdef HX_AVX2
__attribute__((target("avx2,popcnt"))) static void seps_find_avx2(const struct hl7_msg *m, const struct hl7_seg *s,
                                                                   const unsigned *want, size_t n, const char **at)
{
	seps_find(m, s, want, n, at, 1);
}
#endif

/* out of line as the AVX2 one is: hx_seps_of, a dispatch, is then two
 * tail calls that save no registers (with this inlined it saved them for
 * either) */
__attribute__((noinline)) static void seps_find_sse2(const struct hl7_msg *m, const struct hl7_seg *s,
                                                     const unsigned *want, size_t n, const char **at)
{
	seps_find(m, s, want, n, at, 0);
}

void hx_seps_of(const struct hl7_msg *m, const struct hl7_seg *s, const unsigned *want, size_t n, const char **at)
{
#ifdef HX_AVX2
	if (m->avx2) { /* AVX2, BMI and popcnt */
		seps_find_avx2(m, s, want, n, at);
		return;
	}
#endif
	seps_find_sse2(m, s, want, n, at);
}

unsigned hx_part_notes(const struct hl7_msg *m, const struct hl7_seg *s, struct span v)
{
	const char *b = v.p, *end = v.p + v.n;
	unsigned dirty = 0, subs = 0;
#ifdef __SSE2__
	/* 16 bytes at a time while they are inside the segment */
	for (const char *lim = s->p + s->n; b < end && lim - b >= 16; b += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
		unsigned keep = end - b < 16 ? (1u << (end - b)) - 1 : 0xFFFFu;
		dirty |= (unsigned)_mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, m->ves))) & keep;
		subs |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, m->vss)) & keep;
	}
#else
	(void)s;
#endif
	for (; b < end; b++) {
		dirty |= (*b == m->d.es) | ((unsigned char)*b >= 0x80);
		subs |= *b == m->d.ss;
	}
	return (dirty != 0) | (unsigned)(subs != 0) << 1;
}
