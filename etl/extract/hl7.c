/*
 * hl7.c - the HL7 v2 extractor (extract_hl7v2).
 *
 *   file --hl7_tok (frames, segments, fields)--> one message at a time
 *        --MSH-9 + profile [messages]--> handler (hl7_adt.c, hl7_res.c)
 *        --struct record--> sink
 *
 * Every frame the tokenizer finds is one source record: sink_begin, then
 * sink_end (loaded), sink_quarantine (bad: reason and SEG[k]-f position) or
 * sink_skip (a message type the profile does not load: "message type
 * ACK^A01 not loaded"). Segments without MSH and oversized messages are
 * quarantined too; the rest of the file goes on. The message arena is reset
 * after each message.
 */
#include "etl/extract/hl7_int.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef HX_AVX2
#include <immintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* a few fields of a segment not split                                        */

/*
 * Of some segments a message reads a handful of fields: MSH-9, -10 and -18,
 * PV1-19 (the visit) in most messages. Those are found by counting the
 * field separators a block at a time rather than by splitting the segment
 * (which notes where each field starts): only in a block that holds a
 * wanted separator are its bits looked at.
 */

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
#ifdef HX_AVX2
		if (avx2)
			mk = fs_mask32(m, b);
		else
#endif
			mk = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)b), m->vfs));
		c = avx2 ? (unsigned)__builtin_popcount(mk) : pop32(mk);
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
#ifdef HX_AVX2
		if (avx2)
			mk = fs_mask32(m, blk);
		else
#endif
			mk = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)blk), m->vfs));
		mk &= ~0u << (b - blk);
	} else {
		mk = fs_mask_short(m, b, end);
	}
	c = avx2 ? (unsigned)__builtin_popcount(mk) : pop32(mk);
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

/* seps_find, 32 bytes at a time where the CPU can */
static void seps_of(const struct extractor *x, const struct hl7_msg *m, const struct hl7_seg *s, const unsigned *want,
                    size_t n, const char **at)
{
#ifdef HX_AVX2
	if (m->avx2 && x->popcnt) {
		seps_find_avx2(m, s, want, n, at);
		return;
	}
#else
	(void)x;
#endif
	seps_find(m, s, want, n, at, 0);
}

/* The field that starts after separator a (NULL: none) and ends at z (NULL:
 * the segment's end): as hl7_field gives it. */
static struct span field_at(const struct hl7_seg *s, const char *a, const char *z)
{
	if (!a)
		return span_make(s->p + s->n, 0);
	a++;
	return span_make(a, (size_t)((z ? z : s->p + s->n) - a));
}

/* What the bytes of v (a part of segment s) hold, as the split notes it for
 * a segment: bit 0 the escape character or a byte beyond ASCII (not clean),
 * bit 1 the subcomponent separator. */
static unsigned part_notes(const struct hl7_msg *m, const struct hl7_seg *s, struct span v)
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

/* ------------------------------------------------------------------------ */
/* helpers for the handlers                                                  */

int hx_fail(struct hx *h, const struct hl7_seg *s, int f, int c, int code, const char *fmt, ...)
{
	struct err *e = h->e;
	char msg[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap); /* fmt's arguments may point into e->msg */
	va_end(ap);
	memcpy(e->msg, msg, sizeof msg);
	e->code = code;
	if (s) {
		e->pos.line = s->line;
		if (f > 0 && c > 0)
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]-%d.%d", s->id, s->ord, f, c);
		else if (f > 0)
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]-%d", s->id, s->ord, f);
		else
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]", s->id, s->ord);
	}
	return -code;
}

/* hx_find for a stop list of any length */
static struct hl7_seg *hx_find_long(struct hx *h, size_t from, const char *id, const char *stop)
{
	for (size_t i = from; i < h->m->nseg; i++) {
		struct hl7_seg *s = &h->m->seg[i];
		if (memcmp(s->id, id, 3) == 0)
			return s;
		for (const char *p = stop; *p; p += p[3] ? 4 : 3)
			if (memcmp(s->id, p, 3) == 0)
				return NULL;
	}
	return NULL;
}

/* the three bytes of a segment id as a number */
static inline uint32_t id3(const char *p)
{
	return (uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 | (uint32_t)(unsigned char)p[2] << 16;
}

struct hl7_seg *hx_find(struct hx *h, size_t from, const char *id, const char *stop)
{
	uint32_t want = id3(id), stops[16];
	size_t ns = 0;
	if (hl7_msg_lacks(h->m, id))
		return NULL; /* EVN, PD1 ...: most messages have none */
	if (stop) {
		for (const char *p = stop; *p; p += p[3] ? 4 : 3) {
			if (ns == sizeof stops / sizeof stops[0])
				return hx_find_long(h, from, id, stop);
			stops[ns++] = id3(p);
		}
	}
	for (size_t i = from; i < h->m->nseg; i++) {
		uint32_t sid = id3(h->m->seg[i].id);
		if (sid == want)
			return &h->m->seg[i];
		for (size_t k = 0; k < ns; k++)
			if (sid == stops[k])
				return NULL;
	}
	return NULL;
}

int hx_text(struct hx *h, struct hl7_seg *s, int f, int rep, int c, int sub, struct span *out)
{
	return hx_tx_at(h, s, f, c, hx_raw(h, s, f, rep, c, sub), out);
}

/* code, text, system from components k, k+1, k+2 of a coded element */
static int code_at(struct hx *h, struct hl7_seg *s, int f, const struct span *comp, size_t nc, int k,
                   const char *dflt, struct code *out)
{
	struct span a = (size_t)k - 1 < nc ? comp[k - 1] : span_make(NULL, 0);
	struct span b = (size_t)k < nc ? comp[k] : span_make(NULL, 0);
	struct span c = (size_t)k + 1 < nc ? comp[k + 1] : span_make(NULL, 0);
	/* subcomponents are not part of a code: keep the first */
	if (h->m->d.ss) {
		a = hl7_sub(h->m, a, 1);
		c = hl7_sub(h->m, c, 1);
	}
	if (hx_tx(h, s, a, &out->code) < 0 || hx_tx(h, s, b, &out->display) < 0 ||
	    hx_tx(h, s, c, &out->system) < 0)
		return hx_fail(h, s, f, k, E_ENCODING, "%s", h->e->msg);
	out->code = hx_trim(out->code);
	out->system = hx_trim(out->system);
	hx_code_system(h, dflt, out);
	return 0;
}

int hx_code_any(struct hx *h, struct hl7_seg *s, int f, int rep, const char *dflt, struct code *c, struct code *alt)
{
	struct span r = hx_raw(h, s, f, rep, 0, 0), comp[7];
	memset(c, 0, sizeof *c);
	if (alt)
		memset(alt, 0, sizeof *alt);
	if (r.n == 0)
		return 0;
	size_t nc = hx_comps_n(h->m, s, r, comp, alt ? 7 : 4);
	int rc = code_at(h, s, f, comp, nc, 1, dflt, c);
	if (rc == 0 && alt && nc > 3)
		rc = code_at(h, s, f, comp, nc, 4, NULL, alt);
	return rc;
}

/* v, a part of from or a constant, as the same part of a copy of from at to */
static struct span rebase(struct span v, struct span from, const char *to)
{
	uintptr_t p = (uintptr_t)v.p, a = (uintptr_t)from.p;
	if (v.p && p >= a && p + v.n <= a + from.n)
		return span_make(to + (p - a), v.n);
	return v;
}

int hx_code_memo(struct hx *h, struct hl7_seg *s, int f, const char *dflt, struct hx_code_memo *cm, struct code *c,
                 struct code *alt)
{
	struct hl7_msg *m = h->m;
	struct span v = hl7_field(m, s, (unsigned)f); /* splits s up to f: clean and nosub hold for it */
	if (!(s->clean && s->nosub))
		return hx_code_any(h, s, f, 1, dflt, c, alt);
	struct extractor *x = h->x;
	/* the field's bytes and the separators that cut its first repetition
	 * into components make the code (hx_code_raw) */
	char cs = m->d.cs, rs = m->d.rs;
	for (size_t i = 0; i < HX_NCODE; i++) {
		if (cm->e[i].msg && cm->e[i].n == v.n && cm->e[i].cs == cs && cm->e[i].rs == rs &&
		    mem_eq_short(v.p, cm->e[i].raw, v.n)) {
			cm->e[i].msg = x->nmsg;
			*c = cm->e[i].c;
			if (alt)
				*alt = cm->e[i].alt;
			return 0;
		}
	}
	hx_code_raw(h, s, hx_cut(h, s, f, v, 1, 0, 0), dflt, c, alt);
	if (v.n > sizeof cm->e[0].raw)
		return 0;
	/* an entry no record of this message points into, the next in turn */
	for (unsigned k = 0; k < HX_NCODE; k++) {
		unsigned i = cm->next;
		cm->next = (cm->next + 1) % HX_NCODE;
		if (cm->e[i].msg == x->nmsg)
			continue;
		cm->e[i].msg = x->nmsg;
		cm->e[i].cs = cs;
		cm->e[i].rs = rs;
		cm->e[i].n = (uint8_t)v.n;
		memcpy(cm->e[i].raw, v.p, v.n);
		const char *to = cm->e[i].raw;
		c->code = rebase(c->code, v, to);
		c->display = rebase(c->display, v, to);
		c->system = rebase(c->system, v, to);
		cm->e[i].c = *c;
		if (alt) {
			alt->code = rebase(alt->code, v, to);
			alt->display = rebase(alt->display, v, to);
			alt->system = rebase(alt->system, v, to);
			cm->e[i].alt = *alt;
		}
		break;
	}
	return 0;
}

/* shift a wall time by minutes */
static void dt_shift(struct dt *d, int minutes)
{
	int64_t t = (int64_t)d->sec + (int64_t)minutes * 60;
	int32_t day = d->day;
	while (t < 0) {
		t += 86400;
		day--;
	}
	while (t >= 86400) {
		t -= 86400;
		day++;
	}
	d->day = day;
	d->sec = (int32_t)t;
}

/* hx_date of a value v cut out of SEG-f: the profile's date format, assumed zone */
static int date_of(struct hx *h, struct hl7_seg *s, int f, struct span v, struct dt *out)
{
	struct extractor *x = h->x;
	const struct hl7_prof *p = &x->prof;
	int rc = p->date_fmt ? dt_parse_fmt(v, p->date_fmt, x->tz, out) : dt_parse_hl7(v, x->tz, out);
	if (rc < 0)
		return hx_fail(h, s, f, 0, E_DATE, "not a date/time (%zu characters)", v.n);
	if (p->has_assume && out->prec == DT_TIME && x->tz != DT_TZ_KEEP && !p->date_fmt) {
		int zoned = 0;
		for (size_t i = 4; i < v.n; i++)
			zoned |= v.p[i] == '+' || v.p[i] == '-';
		if (!zoned)
			dt_shift(out, x->tz - p->assume_offset);
	}
	return 0;
}

int hx_date_parse(struct hx *h, struct hl7_seg *s, int f, int c, struct span raw, struct dt *out)
{
	struct extractor *x = h->x;
	/* What is remembered (hx_date) depends only on the field's bytes, the
	 * component read and the separators that cut it (the profile and site do
	 * not change during a run; MSH-1 and MSH-2, not cut into repetitions,
	 * are not remembered). */
	int whole = hl7_is_msh(s) && f <= 2; /* MSH-1, MSH-2: not cut into repetitions */
	struct span v = hx_nul(hx_trim(hx_cut(h, s, f, raw, 1, c > 0 ? c : 1, 0)));
	*out = DT_EMPTY;
	if (v.n == 0)
		return 0;
	int rc = date_of(h, s, f, v, out);
	if (rc == 0 && raw.n <= sizeof x->last_date && !whole) {
		memcpy(x->last_date, raw.p, raw.n);
		x->last_dkey = hx_date_key(h, c);
		x->last_dn = raw.n;
		x->last_dt = *out;
	}
	return rc;
}

static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int hx_number_any(struct span s, double *out)
{
	s = hx_trim(s);
	const char *p = s.p, *end = s.p + s.n;
	int neg = 0;
	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	/* fast path: up to 15 digits with an optional point (exact in a double) */
	uint64_t m = 0;
	int nd = 0, frac = -1, any = 0;
	const char *q = p;
	for (; q < end; q++) {
		if (*q >= '0' && *q <= '9') {
			if (nd < 15) {
				m = m * 10 + (uint64_t)(*q - '0');
				if (m)
					nd++;
				if (frac >= 0)
					frac++;
			} else {
				break;
			}
			any = 1;
		} else if (*q == '.' && frac < 0) {
			frac = 0;
		} else {
			break;
		}
	}
	if (q == end && any) {
		double v = (double)m;
		if (frac > 0)
			v /= pow10tab[frac];
		*out = neg ? -v : v;
		return 0;
	}
	if (!any && q == end)
		return -1;
	return span_to_double(s, out);
}

#ifdef HX_AVX2
__attribute__((target("avx2"))) void hx_record_copy_avx2(struct record *r, const struct record *t)
{
	char *d = (char *)r;
	const char *src = (const char *)t;
	size_t k = 0;
	for (; k + 32 <= sizeof *r; k += 32)
		_mm256_storeu_si256((__m256i *)(void *)(d + k), _mm256_loadu_si256((const __m256i *)(const void *)(src + k)));
	if (k < sizeof *r)
		memcpy(d + k, src + k, sizeof *r - k);
}
#endif

int hx_emit(struct hx *h, const struct record *r)
{
	int rc = h->s->ops->emit(h->s, r, h->e);
	return rc < 0 ? rc : 0;
}

void hx_note(struct hx *h, const char *what)
{
	sink_note(h->s, what);
}

/* hx_cx_key_of, whether the parts read hold no escape or high byte (clean)
 * and no subcomponent separator (nosub) given */
static int cx_key(struct hx *h, struct hl7_seg *s, int f, const struct span *c, int clean, int nosub, struct span *key)
{
	struct span id, ns, uid;
	*key = span_make(NULL, 0);
	if (clean) {
		id = hx_nul(c[0]);
	} else if (hl7_text(h->m, c[0], &id, h->e) < 0) {
		return hx_fail(h, s, f, 1, E_ENCODING, "%s", h->e->msg);
	}
	id = hx_trim(id);
	if (id.n == 0)
		return 0;
	/* HD: namespace & universal id; without subcomponents the component
	 * is the namespace */
	struct span ns_raw = nosub ? c[3] : hl7_sub(h->m, c[3], 1);
	struct span uid_raw = nosub ? span_make(c[3].p + c[3].n, 0) : hl7_sub(h->m, c[3], 2);
	if (clean) {
		ns = hx_nul(ns_raw);
		uid = hx_nul(uid_raw);
	} else if (hl7_text(h->m, ns_raw, &ns, h->e) < 0 || hl7_text(h->m, uid_raw, &uid, h->e) < 0) {
		return hx_fail(h, s, f, 4, E_ENCODING, "%s", h->e->msg);
	}
	struct span parts[2] = { ns.n ? hx_trim(ns) : hx_trim(uid), id };
	*key = hx_join(h, 2, parts);
	return 0;
}

int hx_cx_key_of(struct hx *h, struct hl7_seg *s, int f, const struct span *c, struct span *key)
{
	return cx_key(h, s, f, c, s->clean, s->nosub, key);
}

int hx_cx_key(struct hx *h, struct hl7_seg *s, int f, int rep, struct span *key)
{
	struct span c[4];
	if (s->f0 == UINT32_MAX && !hl7_is_msh(s) && f > 0) {
		/* not split (PV1-19 is most often the one field read of its
		 * segment): the field alone, its notes of its own */
		const unsigned want[2] = { (unsigned)f, (unsigned)f + 1 };
		const char *at[2] = { NULL, NULL };
		seps_of(h->x, h->m, s, want, 2, at);
		struct span v = field_at(s, at[0], at[1]);
		if (rep > 0)
			v = hl7_rep(h->m, v, (unsigned)rep);
		unsigned notes = part_notes(h->m, s, v);
		hx_comps(h->m, s, v, c, 4);
		return cx_key(h, s, f, c, !(notes & 1), !(notes & 2), key);
	}
	hx_comps(h->m, s, hx_raw(h, s, f, rep, 0, 0), c, 4);
	return hx_cx_key_of(h, s, f, c, key);
}

int hx_ei_key(struct hx *h, struct hl7_seg *s, int f, struct span *key)
{
	struct span id, ns, c[2];
	int rc;
	*key = span_make(NULL, 0);
	if (!s)
		return 0;
	hx_comps(h->m, s, hx_raw(h, s, f, 1, 0, 0), c, 2);
	if ((rc = hx_tx_at(h, s, f, 1, c[0], &id)) < 0 || (rc = hx_tx_at(h, s, f, 2, c[1], &ns)) < 0)
		return rc;
	id = hx_trim(id);
	if (id.n == 0)
		return 0;
	struct span parts[2] = { hx_trim(ns), id };
	*key = hx_join(h, 2, parts);
	return 0;
}

/* An entry of x->xcn that no record of this message points into: the
 * next in turn, NULL if all are. */
static struct hx_xcn_memo *xcn_slot(struct extractor *x)
{
	for (unsigned k = 0; k < HX_NXCN; k++) {
		struct hx_xcn_memo *e = &x->xcn[x->xcn_next];
		x->xcn_next = (x->xcn_next + 1) % HX_NXCN;
		if (e->msg != x->nmsg)
			return e;
	}
	return NULL;
}

/* The name ("GIVEN FAMILY", or the one given) and NPI-ness (XCN.13) of an
 * XCN past its identifier (rest, in SEG-f); remembered in x->xcn when the
 * segment has no escapes or high bytes (the bytes and separators then make
 * the result). */
static int xcn_name(struct hx *h, struct hl7_seg *s, int f, struct span rest, struct span *name, int *npi)
{
	struct extractor *x = h->x;
	struct hl7_msg *m = h->m;
	int memo = s->clean && rest.n <= sizeof x->xcn[0].rest;
	if (memo) {
		for (size_t i = 0; i < HX_NXCN; i++) {
			struct hx_xcn_memo *e = &x->xcn[i];
			if (e->msg && e->nrest == rest.n && e->cs == m->d.cs && e->ss == m->d.ss &&
			    mem_eq_short(rest.p, e->rest, rest.n)) {
				e->msg = x->nmsg;
				*name = span_make(e->name, e->nname);
				*npi = e->npi;
				return 0;
			}
		}
	}
	struct span c[12], fam, given, idtype;
	int rc;
	hx_comps(m, s, rest, c, 12);
	if ((rc = hx_tx_at(h, s, f, 2, hl7_sub(m, c[0], 1), &fam)) < 0 || (rc = hx_tx_at(h, s, f, 3, c[1], &given)) < 0 ||
	    (rc = hx_tx_at(h, s, f, 13, c[11], &idtype)) < 0)
		return rc;
	*npi = idtype.n == 3 && memcmp(idtype.p, "NPI", 3) == 0;
	/* "GIVEN FAMILY": both are parts of rest, with a separator between */
	size_t n = fam.n && given.n ? given.n + 1 + fam.n : fam.n ? fam.n : given.n;
	struct hx_xcn_memo *e = memo ? xcn_slot(x) : NULL;
	char *o;
	if (e) {
		e->msg = x->nmsg;
		e->cs = m->d.cs;
		e->ss = m->d.ss;
		e->npi = (uint8_t)*npi;
		e->nrest = (uint8_t)rest.n;
		e->nname = (uint8_t)n;
		memcpy(e->rest, rest.p, rest.n);
		o = e->name;
	} else if (fam.n && given.n) {
		o = arena_alloc(h->a, n + 1);
	} else {
		*name = fam.n ? fam : given;
		return 0;
	}
	if (fam.n && given.n) {
		mem_copy_short(o, given.p, given.n);
		o[given.n] = ' ';
		mem_copy_short(o + given.n + 1, fam.p, fam.n);
	} else {
		mem_copy_short(o, fam.n ? fam.p : given.p, n);
	}
	if (!e)
		o[n] = '\0';
	*name = span_make(o, n);
	return 0;
}

int hx_provider(struct hx *h, struct hl7_seg *s, int f, struct span *key)
{
	struct span id, c[1];
	int rc;
	*key = span_make(NULL, 0);
	if (!s)
		return 0;
	struct span x = hx_raw(h, s, f, 1, 0, 0);
	hx_comps(h->m, s, x, c, 1);
	if ((rc = hx_tx_at(h, s, f, 1, c[0], &id)) < 0)
		return rc;
	id = hx_trim(id);
	if (id.n == 0)
		return 0;
	*key = id;
	for (size_t i = 0; i < h->nprov; i++)
		if (span_eq(h->providers[i], id))
			return 0;
	/* the components after the identifier (found above) */
	struct span rest = c[0].n < x.n ? span_make(c[0].p + c[0].n + 1, x.n - c[0].n - 1) : span_make(x.p + x.n, 0), name;
	int npi;
	if ((rc = xcn_name(h, s, f, rest, &name, &npi)) < 0)
		return rc;
	struct record r;
	hx_record(h, &r, REC_PROVIDER);
	r.u.provider.key = id;
	r.u.provider.name = name;
	if (npi)
		r.u.provider.npi = id;
	if (h->nprov < sizeof h->providers / sizeof h->providers[0])
		h->providers[h->nprov++] = id;
	return hx_emit(h, &r);
}

/* ------------------------------------------------------------------------ */
/* one message                                                               */

static int charset_of(struct span v, int dflt)
{
	v = hx_trim(v);
	if (v.n == 0)
		return dflt;
	if (span_ieq_str(v, "8859/1") || span_ieq_str(v, "ISO-8859-1") || span_ieq_str(v, "ISO IR100"))
		return HL7_CS_LATIN1;
	if (span_ieq_str(v, "UNICODE UTF-8") || span_ieq_str(v, "UTF-8") || span_ieq_str(v, "UNICODE"))
		return HL7_CS_UTF8;
	if (span_ieq_str(v, "ASCII"))
		return HL7_CS_ASCII;
	return dflt;
}

/* printable part of a message-type component, for the type string */
static size_t type_part(char *o, size_t cap, struct span v)
{
	size_t k = 0;
	v = hx_trim(v);
	for (size_t i = 0; i < v.n && k + 1 < cap; i++) {
		char c = v.p[i];
		o[k++] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '?';
	}
	o[k] = '\0';
	return k;
}

/* The message type "TYPE^EVENT" of MSH-9's first repetition t9 (the event
 * from EVN-1 when MSH-9 has none), its event (trigger) and handler. A file
 * mostly holds one message type: the last MSH-9 read from the message itself
 * is remembered, with the component separator that cut it. 0, or -1 when
 * MSH-9 has no type. */
static int msg_type(struct hx *h, struct span t9, char type[16])
{
	struct extractor *x = h->x;
	struct hl7_msg *m = h->m;
	if (t9.n == x->last_t9n && m->d.cs == x->last_t9cs && mem_eq_short(t9.p, x->last_t9, t9.n)) {
		memcpy(type, x->last_type, 16);
		memcpy(h->trigger, x->last_trigger, sizeof h->trigger);
		h->handler = x->last_handler;
		return 0;
	}
	char ev[8];
	memset(type, 0, 16);
	size_t k = type_part(type, 8, hl7_comp(m, t9, 1));
	if (k == 0)
		return -1;
	size_t ke = type_part(ev, sizeof ev, hl7_comp(m, t9, 2));
	int own = ke > 0; /* the event from MSH-9 itself: remembered */
	if (ke == 0 && h->evn)
		ke = type_part(ev, sizeof ev, hl7_rep(m, hl7_field(m, h->evn, 1), 1));
	/* "TYPE^EVENT": at most 7 + 1 + 7 characters, it fits */
	type[k] = '^';
	memcpy(type + k + 1, ev, ke + 1);
	memcpy(h->trigger, ev, sizeof h->trigger);
	if (memcmp(type, x->last_type, 16) != 0) {
		memcpy(x->last_type, type, 16);
		x->last_handler = hl7_prof_handler(&x->prof, type);
	}
	h->handler = x->last_handler;
	x->last_t9n = SIZE_MAX;
	if (own && t9.n <= sizeof x->last_t9) {
		memcpy(x->last_t9, t9.p, t9.n);
		x->last_t9n = t9.n;
		x->last_t9cs = m->d.cs;
		memcpy(x->last_trigger, h->trigger, sizeof h->trigger);
	}
	return 0;
}

/* 0 loaded, 1 skipped (reason filled), < 0 error */
static int message(struct extractor *x, const struct hl7_frame *f, struct sink *s, struct err *q,
                   char *reason, size_t rn)
{
	struct hl7_msg *m = &x->m;
	x->nmsg++;
	int rc = hl7_msg_init(m, f, q);
	if (rc < 0)
		return rc;
	struct hx h;
	/* field by field: the providers table is only read up to nprov, and
	 * a memset of the struct becomes a slow "rep stos" */
	h.x = x;
	h.m = m;
	h.s = s;
	h.e = q;
	h.a = &x->msg;
	h.handler = HH_NONE;
	memset(h.trigger, 0, sizeof h.trigger);
	h.msh = &m->seg[0];
	h.person = h.visit = h.obr_order = h.obr_key = h.obr_provider = span_make(NULL, 0);
	h.nprov = 0;
	h.obr = NULL;
	h.evn = hl7_msg_lacks(m, "EVN") ? NULL : hx_find(&h, 1, "EVN", NULL); /* most have none: known without a call */

	/* MSH-9, MSH-10 and MSH-18 (after the 8th, 9th and 17th separator,
	 * MSH-1 the first): the only MSH fields read per message */
	static const unsigned want[5] = { 8, 9, 10, 17, 18 };
	const char *sep[5] = { NULL };
	seps_of(x, m, h.msh, want, 5, sep);
	struct span cs = hl7_rep(m, field_at(h.msh, sep[3], sep[4]), 1);
	if (cs.n == x->last_csn && mem_eq_short(cs.p, x->last_cs, cs.n)) {
		m->charset = x->last_charset; /* as in the last message */
	} else {
		m->charset = charset_of(cs, x->prof.charset);
		x->last_csn = cs.n <= sizeof x->last_cs ? cs.n : SIZE_MAX;
		if (cs.n <= sizeof x->last_cs)
			memcpy(x->last_cs, cs.p, cs.n);
		x->last_charset = m->charset;
	}

	/* MSH-10, the message control id: the message's name in the ledger */
	sink_source_id(s, hl7_rep(m, field_at(h.msh, sep[1], sep[2]), 1));

	char type[16];
	if (msg_type(&h, hl7_rep(m, field_at(h.msh, sep[0], sep[1]), 1), type) < 0)
		return hx_fail(&h, h.msh, 9, 0, E_MISSING, "no message type");
	if (h.handler == HH_NONE) {
		snprintf(reason, rn, "message type %s not loaded", type);
		return 1;
	}
	switch (h.handler) {
	case HH_ADT: case HH_ADT_PERSON: case HH_ADT_CANCEL: case HH_ADT_UNDISCHARGE: case HH_ADT_MERGE:
		rc = hx_adt(&h);
		break;
	case HH_ORU:
		rc = hx_oru(&h);
		break;
	case HH_VXU:
		rc = hx_vxu(&h);
		break;
	case HH_RDE: case HH_RAS: case HH_RDS:
		rc = hx_rx(&h);
		break;
	case HH_PPR:
		rc = hx_ppr(&h);
		break;
	default:
		rc = err_set(q, E_INTERNAL, "no handler %d", h.handler);
	}
	if (rc == 0 && x->prof.nz)
		rc = hx_zfields(&h);
	return rc;
}

int hl7x_run_win(struct extractor *x, struct win *w, const char *path, struct sink *s, struct err *e)
{
	struct hl7_stream st;
	struct hl7_frame f;
	struct err q;
	struct err_pos pos;
	char reason[128];
	int r;

	if (x->max_read)
		w->rd.max_read = x->max_read;
	win_skip_bom(w);
	hl7_stream_init(&st, w);
	memset(&pos, 0, sizeof pos);
	err_pos_file(&pos, path);
	memset(&q, 0, sizeof q);
	q.pos = pos;
	while ((r = hl7_stream_next(&st, &f, e)) > 0) {
		pos.record = f.msgno;
		pos.line = f.line;
		pos.offset = f.offset;
		sink_begin(s, &pos, span_make(f.p, f.n));
		q.code = 0;
		q.msg[0] = '\0';
		q.pos.record = f.msgno;
		q.pos.line = f.line;
		q.pos.offset = f.offset;
		q.pos.where[0] = '\0';
		int rc;
		if (f.kind == HL7_TOO_LARGE) {
			snprintf(q.pos.where, sizeof q.pos.where, "message");
			rc = err_set(&q, E_TOO_LARGE, "message larger than %zu bytes (profile max_message_bytes)", x->prof.max_message);
		} else if (f.kind == HL7_JUNK) {
			snprintf(q.pos.where, sizeof q.pos.where, "MSH");
			rc = err_set(&q, E_MISSING, "%zu segment(s) without an MSH segment before them", f.nsegs);
		} else {
			rc = message(x, &f, s, &q, reason, sizeof reason);
		}
		if (rc == 0) {
			r = sink_end(s, e);
		} else if (rc == 1) {
			r = sink_skip(s, reason, e);
		} else if (err_is_soft(-rc)) {
			r = sink_quarantine(s, &q, e);
		} else {
			/* a hard error from the sink (database): stop the file */
			if (e && e != &q && q.code)
				*e = q;
			r = rc;
		}
		arena_reset(&x->msg);
		if (r < 0)
			break;
	}
	x->batch_mismatch = st.batch_mismatch;
	if (st.batch_mismatch)
		log_msg(LOG_WARN, &pos, "%llu batch trailer count(s) (BTS-1) differ from the messages in the batch",
		        (unsigned long long)st.batch_mismatch);
	hl7_stream_free(&st);
	win_close(w);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------ */
/* extract_ops                                                               */

static int hl7x_open(struct extractor **out, const char *profile, const struct conf_site *site, struct err *e)
{
	struct extractor *x = xcalloc(1, sizeof *x);
	int rc = hl7_prof_load(&x->prof, profile ? profile : extract_hl7v2.default_profile, e);
	if (rc < 0) {
		hl7_prof_free(&x->prof);
		free(x);
		return rc;
	}
	x->tz = site ? site->tz : DT_TZ_KEEP;
#ifdef HX_AVX2
	x->popcnt = __builtin_cpu_supports("popcnt");
#endif
	x->last_csn = SIZE_MAX;
	x->last_t9n = SIZE_MAX;
	x->last_dn = SIZE_MAX;
	for (int k = REC_PERSON; k <= REC_MERGE; k++)
		record_init(&x->tmpl[k], (enum rec_kind)k);
	arena_init(&x->msg, 64 * 1024);
	hl7_msg_setup(&x->m, &x->msg);
	*out = x;
	return 0;
}

static int hl7x_wants(const struct extractor *x, const char *path)
{
	return extract_has_ext(path, x->prof.ext[0], sizeof x->prof.ext[0], x->prof.next);
}

static int hl7x_run(struct extractor *x, const char *path, struct sink *s, struct err *e)
{
	struct win w;
	int rc = win_open(&w, path, x->prof.max_message, e);
	if (rc < 0) {
		win_close(&w);
		return rc;
	}
	return hl7x_run_win(x, &w, path, s, e);
}

static void hl7x_close(struct extractor *x)
{
	if (!x)
		return;
	hl7_msg_free(&x->m);
	arena_free(&x->msg);
	hl7_prof_free(&x->prof);
	free(x);
}

const struct extract_ops extract_hl7v2 = {
	"hl7v2",
	"generic-2.5.1",
	hl7x_open,
	hl7x_wants,
	hl7x_run,
	hl7x_close,
};
