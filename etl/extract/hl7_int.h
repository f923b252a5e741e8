/*
 * hl7_int.h - inside the HL7 v2 extractor (not for other modules).
 *
 *   hl7.c        extract_ops: profile, file loop, message dispatch, the
 *                helpers every handler uses (positions in errors, segments)
 *   hl7_val.c    values of fields: text, coded elements, dates, numbers,
 *                CX/EI keys, providers (XCN)
 *   hl7_seek.c   a few fields of a segment not split (MSH-9/10/18, PV1-19)
 *   hl7_prof.c   vendor profile (conf/profiles/hl7v2/NAME.conf) -> struct hl7_prof
 *   hl7_adt.c    PID (person, location, death), PV1 (visit, providers),
 *                ADT events, DG1/PR1/AL1, PPR problems, Z-segment fields
 *   hl7_res.c    ORU OBX results, VXU immunizations, RDE/RAS/RDS drugs
 *
 * A handler reads one parsed message and emits records; it returns 0 (the
 * message loads), a negative soft error with the position filled (the
 * message is quarantined) or a negative hard error from the sink.
 */
#ifndef OMO_HL7_INT_H
#define OMO_HL7_INT_H

#include "core/arena.h"
#include "core/io.h"
#include "core/mem.h"
#include "etl/extract/extract.h"
#include "etl/extract/hl7_tok.h"
#include "etl/record.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* The AVX2 paths are built (x86-64, gcc or clang), and taken when the CPU
 * has AVX2, BMI and popcnt (hl7_msg.avx2). */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#define HX_AVX2 1
#endif

enum hl7_handler {
	HH_NONE = 0,
	HH_ADT,              /* A01 A03 A04 A08: person, visit, providers, DG1/PR1/AL1/OBX */
	HH_ADT_PERSON,       /* A28 A31: person (+ DG1/PR1/AL1/OBX), no visit */
	HH_ADT_CANCEL,       /* A11: the visit is retracted */
	HH_ADT_UNDISCHARGE,  /* A13: the visit again, without its end */
	HH_ADT_MERGE,        /* A40: MRG-1 merged into PID-3 */
	HH_ORU,              /* ORU^R01: OBX results */
	HH_VXU,              /* VXU^V04: RXA immunizations */
	HH_RDE,              /* pharmacy order: RXE (prescription) */
	HH_RAS,              /* administration: RXA */
	HH_RDS,              /* dispense: RXD */
	HH_PPR,              /* PPR^PC1-3: PRB problems */
};

/* What happens to a result by its status (OBX-11) or an immunization by its
 * completion status (RXA-20). */
enum { HS_LOAD = 1, HS_RETRACT, HS_COUNT };

struct hl7_zfield {
	char seg[4];
	int field, comp;           /* comp 0: the whole first repetition */
	const char *system, *code, *display;
	uint8_t value;             /* enum val_kind */
	uint8_t kind;              /* enum ev_kind */
	char date_seg[4];
	int date_field;
};

#define HL7_MAX_TYPES 96
#define HL7_MAX_ALIASES 64
#define HL7_MAX_ZFIELDS 32

struct hl7_prof {
	struct arena a;            /* strings */
	char name[128];
	size_t max_message;
	size_t max_reps;           /* repetitions of one field ([profile] max_repetitions) */
	int charset;               /* enum hl7_charset: when MSH-18 is empty */
	struct { char type[16]; uint8_t h; } types[HL7_MAX_TYPES];
	size_t ntypes;
	char mrn_types[8][16];
	size_t mrn_len[8];
	size_t nmrn;
	int mrn_first;             /* no typed match: take the first repetition */
	int mrn_rep;               /* > 0: always this repetition */
	const char *date_fmt;      /* NULL: HL7 DTM */
	int has_assume, assume_offset;  /* minutes east of UTC of zone-less times */
	uint8_t obx_status[128];   /* HS_* by status letter */
	uint8_t obx_missing;       /* HS_* for an empty OBX-11 */
	char rxa_skip[8][4];
	size_t nrxa_skip;
	char rxa_retract[4][4];
	size_t nrxa_retract;
	struct { const char *from, *to; size_t nfrom; } alias[HL7_MAX_ALIASES];
	size_t nalias;
	struct hl7_zfield z[HL7_MAX_ZFIELDS];
	size_t nz;
	char ext[16][12];
	size_t next;
};

/* Load a profile by name or path (core/ini.h format, `base =` chains). */
int hl7_prof_load(struct hl7_prof *p, const char *name, struct err *e);
void hl7_prof_free(struct hl7_prof *p);
/* The handler for a message type "ADT^A01", HH_NONE if not loaded. */
int hl7_prof_handler(const struct hl7_prof *p, const char *type);

/* What an XCN says past its identifier (the name, whether the identifier
 * is an NPI), remembered by those bytes from message to message: a feed's
 * providers come back. The name lives here, so an entry is not replaced
 * during a message that read it (its records point into it until they end). */
#define HX_NXCN 4
struct hx_xcn_memo {
	struct hx_xcn_entry {
		uint64_t msg;          /* the message that last read it (extractor.nmsg); 0: empty */
		char cs, ss;           /* the separators that cut rest */
		uint8_t npi;
		uint8_t nrest, nname;
		char rest[96];         /* XCN.2 on, raw, of a segment without escapes or high bytes */
		char name[96];         /* "GIVEN FAMILY", or the one given */
	} e[HX_NXCN];
	unsigned next;             /* the entry replaced next (round robin) */
};

/* Coded elements of one field (its first repetition read one way: the same
 * default system) remembered by the field's raw bytes
 * from message to message: a feed repeats a few genders, races, visit
 * classes. An entry's code points into it (or to constants), so it is not
 * replaced during a message that read it. Filled and read by hx_code_memo. */
#define HX_NCODE 8
struct hx_code_memo {
	struct {
		uint64_t msg;          /* the message that last read it (extractor.nmsg); 0: empty */
		char cs, rs;           /* the separators that cut raw */
		uint8_t n;
		char raw[85];          /* the field, raw, of a segment without escapes, high bytes or subcomponents */
		struct code c;         /* spans into raw, or constants */
	} e[HX_NCODE];
	unsigned next;             /* the entry replaced next (round robin) */
};

struct extractor {
	struct hl7_prof prof;
	int tz;                    /* site's offset (minutes) or DT_TZ_KEEP */
	struct arena msg;          /* reset after each message */
	struct hl7_msg m;
	size_t max_read;           /* tests: bytes per read (0: default) */
	int sse2_only;             /* tests: find line ends with SSE2 even where the CPU has AVX2 */
	uint64_t batch_mismatch;   /* last run: BTS counts that did not match */
	char last_type[16];        /* the last message type looked up ... */
	int last_handler;          /* ... and its handler */
	char last_t9[32];          /* the last MSH-9 (first repetition) that gave its event itself ... */
	size_t last_t9n;           /* ... its length (> sizeof last_t9: none) ... */
	char last_t9cs;            /* ... the component separator that cut it ... */
	char last_trigger[8];      /* ... its event; its type and handler: last_type, last_handler */
	char last_cs[32];          /* the last MSH-18 seen (first repetition) ... */
	size_t last_csn;           /* ... its length (> sizeof last_cs: none) ... */
	int last_charset;          /* ... and the character set it gave */
	char last_date[32];        /* the raw field of the last date/time parsed ... */
	size_t last_dn;            /* ... its length (> sizeof last_date: none) ... */
	uint32_t last_dkey;        /* ... the component read, the component and repetition separators (hx_date_key) ... */
	struct dt last_dt;         /* ... and its value */
	struct record tmpl[REC_MERGE + 1]; /* record_init of each kind (to REC_MERGE), copied per record */
	uint64_t nmsg;             /* messages begun (the one being read) */
	struct hx_xcn_memo xcn;    /* providers' names */
	struct hx_code_memo pid8, pid10, pid22, pv1_2; /* gender, race, ethnicity, visit class */
};

/* Per message. */
struct hx {
	struct extractor *x;
	struct hl7_msg *m;
	struct sink *s;
	struct err *e;
	struct arena *a;
	int handler;
	char trigger[8];           /* event code: A01 ... */
	struct hl7_seg *msh, *evn;
	struct span person;        /* key of the current PID */
	struct span visit;         /* key of the current PV1 */
	size_t nprov;
	/* the current OBR, read once for all its OBX */
	struct hl7_seg *obr;
	struct span obr_key;       /* "obx|ORDER|" (ORDER: the filler OBR-3, else the placer OBR-2), the start
	                            * of its results' keys (empty without an order) */
	struct span obr_provider;  /* OBR-16 */
	/* last: not cleared per message (only the first nprov are read) */
	struct span providers[16]; /* provider keys already emitted */
};

/* Run over an opened window (tests set w->rd.max_read through x->max_read). */
int hl7x_run_win(struct extractor *x, struct win *w, const char *path, struct sink *s, struct err *e);

/* --- helpers -------------------------------------------------------------- */

/* hl7_seek.c: the field separators of s numbered want[0] < want[1] < ...
 * < want[n - 1] (1-based, counted from byte 3: an MSH's first is MSH-1;
 * n > 0) into at[i], 32 bytes at a time where the CPU can; at[i] is left as
 * it was for those the segment does not have. */
void hx_seps_of(const struct hl7_msg *m, const struct hl7_seg *s, const unsigned *want, size_t n, const char **at);
/* The field that starts after separator a (NULL: none) and ends at z (NULL:
 * the segment's end): as hl7_field gives it. */
static inline struct span hx_field_at(const struct hl7_seg *s, const char *a, const char *z)
{
	if (!a)
		return span_make(s->p + s->n, 0);
	a++;
	return span_make(a, (size_t)((z ? z : s->p + s->n) - a));
}
/* What the bytes of v (a part of segment s) hold, as the split notes it for
 * a segment: bit 0 the escape character or a byte beyond ASCII (not clean),
 * bit 1 the subcomponent separator. */
unsigned hx_part_notes(const struct hl7_msg *m, const struct hl7_seg *s, struct span v);

/* hl7.c and hl7_val.c: */

/* Fill e with code, "SEG[k]-f[.c]" and the segment's line; returns -code. */
int hx_fail(struct hx *h, const struct hl7_seg *s, int f, int c, int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Fill e for a segment the message lacks: "ID" as the position, MSH's line,
 * the reason why (NULL: "no ID segment"); returns -code. */
int hx_missing(struct hx *h, const char *id, int code, const char *why);
/* hx_find past the message's id set: the walk over its segments. */
struct hl7_seg *hx_find_walk(struct hx *h, size_t from, const char *id, const char *stop);
/* The first segment with this id at or after index from, before any of stop
 * ("ORC RXA": a space-separated list); NULL if none. Most messages have no
 * EVN, PD1 ...: known without a call. */
static inline struct hl7_seg *hx_find(struct hx *h, size_t from, const char *id, const char *stop)
{
	if (hl7_msg_lacks(h->m, id))
		return NULL;
	return hx_find_walk(h, from, id, stop);
}
/* Index of a segment in the message. */
static inline size_t hx_index(const struct hx *h, const struct hl7_seg *s) { return (size_t)(s - h->m->seg); }
static inline struct span hx_comp1(const struct hl7_msg *m, const struct hl7_seg *s, struct span v);
/* Of v, the raw field SEG-f: repetition rep (1-based), component c (0: all),
 * sub (0: all). */
static inline struct span hx_cut(struct hx *h, struct hl7_seg *s, int f, struct span v, int rep, int c, int sub)
{
	if (rep > 0 && !(f <= 2 && hl7_is_msh(s)) && !(rep == 1 && s->norep))
		v = hl7_rep(h->m, v, (unsigned)rep);
	if (c == 1)
		v = hx_comp1(h->m, s, v);
	else if (c > 0)
		v = hl7_comp(h->m, v, (unsigned)c);
	if (sub > 0)
		v = hl7_sub(h->m, v, (unsigned)sub);
	return v;
}
/* Raw span of SEG-f, repetition rep (1-based), component c (0: all), sub (0: all). */
static inline struct span hx_raw(struct hx *h, struct hl7_seg *s, int f, int rep, int c, int sub)
{
	return hx_cut(h, s, f, hl7_field(h->m, s, (unsigned)f), rep, c, sub);
}
/* The first repetition of SEG-f (hl7_rep of hl7_field). */
static inline struct span hx_rep1(struct hx *h, struct hl7_seg *s, int f)
{
	struct span v = hl7_field(h->m, s, (unsigned)f);
	return s->norep ? v : hl7_rep(h->m, v, 1);
}
/* span_trim (core/span.h), with the common case inline: it only removes
 * bytes up to ' ', so ends above ' ' leave nothing to trim. */
static inline __attribute__((always_inline)) struct span hx_trim(struct span s)
{
	if (s.n && ((unsigned char)s.p[0] <= ' ' || (unsigned char)s.p[s.n - 1] <= ' '))
		return span_trim(s);
	return s;
}
/* hl7_text of raw, a span inside segment s (already split): the segment's
 * clean flag spares the byte-by-byte look when it holds no escape character
 * and no byte beyond ASCII. Same results and errors as hl7_text. */
static inline int hx_tx(struct hx *h, const struct hl7_seg *s, struct span raw, struct span *out)
{
	if (s->clean) {
		*out = raw.n == 2 && raw.p[0] == '"' && raw.p[1] == '"' ? span_make(raw.p, 0) : raw;
		return 0;
	}
	return hl7_text(h->m, raw, out, h->e);
}
/* hx_tx of raw, a part of SEG-f (component c): a failure with that position. */
static inline int hx_tx_at(struct hx *h, struct hl7_seg *s, int f, int c, struct span raw, struct span *out)
{
	if (hx_tx(h, s, raw, out) < 0)
		return hx_fail(h, s, f, c, E_ENCODING, "%s", h->e->msg);
	return 0;
}
/* SEG-f's first repetition (its component c; 0: all of it) for a key:
 * trimmed, then as hx_tx_at gives it, so that a key is text the database
 * holds (escapes resolved, Latin-1 turned into UTF-8, invalid UTF-8 an error
 * with its position). */
static inline int hx_key_part(struct hx *h, struct hl7_seg *s, int f, int c, struct span *out)
{
	return hx_tx_at(h, s, f, c, hx_trim(hx_raw(h, s, f, 1, c, 0)), out);
}
/* The same, unescaped; error with position on a bad escape. */
int hx_text(struct hx *h, struct hl7_seg *s, int f, int rep, int c, int sub, struct span *out);
/* hx_comps_n past its fast path (hl7.c): 16 bytes at a time while they are
 * inside the segment, then a word at a time. */
size_t hx_comps_any(const struct hl7_msg *m, const struct hl7_seg *s, struct span v, struct span *out, size_t max);
/* The components of span v (a raw part of segment s, a repetition) cut at
 * the component separator, as hl7_piece gives them: out[0 .. n), n the
 * number returned (at most max; out[n .. max) left as they were). One pass.
 * Its fast path always inline (the caller's max and span known there: a
 * call cost more than the loop), the rest a call. */
static inline __attribute__((always_inline)) size_t hx_comps_n(const struct hl7_msg *m, const struct hl7_seg *s,
                                                                struct span v, struct span *out, size_t max)
{
#ifdef __SSE2__
	/* a field of at most 64 bytes with 64 readable behind its start in the
	 * segment (most: a code, a unit): its separators in one mask, one load
	 * for 16 bytes or less, no test per 16 bytes */
	const char *p = v.p, *end = v.p + v.n;
	if (v.n <= 64 && s->p + s->n - p >= 64) {
		const __m128i vc = m->vcs;
		/* o walks out up to its end: no index to scale per component */
		struct span *o = out, *oend = out + max;
		uint64_t mk = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), vc));
		if (v.n > 16) {
			mk |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			              _mm_loadu_si128((const __m128i *)(const void *)(p + 16)), vc)) << 16;
			if (v.n > 32)
				mk |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				              _mm_loadu_si128((const __m128i *)(const void *)(p + 32)), vc)) << 32 |
				      (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				              _mm_loadu_si128((const __m128i *)(const void *)(p + 48)), vc)) << 48;
		}
		if (v.n < 64)
			mk &= (1ull << v.n) - 1;
		for (const char *at = v.p; mk; mk &= mk - 1) {
			const char *q = at + __builtin_ctzll(mk);
			*o++ = span_make(p, (size_t)(q - p));
			if (o == oend)
				return max;
			p = q + 1;
		}
		*o++ = span_make(p, (size_t)(end - p));
		return (size_t)(o - out);
	}
#endif
	return hx_comps_any(m, s, v, out, max);
}
/* The first component of v (a raw part of segment s): hl7_comp(m, v, 1),
 * 16 bytes at a time. */
static inline struct span hx_comp1(const struct hl7_msg *m, const struct hl7_seg *s, struct span v)
{
	struct span c;
	/* a status, a type, a range: a byte loop costs less than setting up
	 * the vectors */
	if (v.n < 8) {
		for (size_t i = 0; i < v.n; i++)
			if (v.p[i] == m->d.cs)
				return span_make(v.p, i);
		return v;
	}
	hx_comps_n(m, s, v, &c, 1);
	return c;
}
/* The same, out[0 .. max) all set: the missing components empty at the end
 * of v. Returns how many are there. */
static inline size_t hx_comps(const struct hl7_msg *m, const struct hl7_seg *s, struct span v, struct span *out,
                              size_t max)
{
	size_t n = hx_comps_n(m, s, v, out, max);
	for (size_t k = n; k < max; k++)
		out[k] = span_make(v.p + v.n, 0);
	return n;
}

/* `""` (HL7 null) as an empty span, as hl7_text gives it */
static inline struct span hx_nul(struct span v)
{
	return v.n == 2 && v.p[0] == '"' && v.p[1] == '"' ? span_make(v.p, 0) : v;
}

/* hx_trim of hx_nul of v, their common case in one test: a first byte
 * above '"' (neither `""` nor a byte to trim) and a last byte above ' '. */
static inline __attribute__((always_inline)) struct span hx_trim_nul(struct span v)
{
	if (v.n && (unsigned char)v.p[0] > '"' && (unsigned char)v.p[v.n - 1] > ' ')
		return v;
	return hx_trim(hx_nul(v));
}

/* A code system as the profile's [code_systems] aliases rename it. */
static inline struct span hx_alias(const struct hx *h, struct span sys)
{
	const struct hl7_prof *p = &h->x->prof;
	for (size_t i = 0; i < p->nalias; i++)
		if (sys.n == p->alias[i].nfrom && memcmp(sys.p, p->alias[i].from, sys.n) == 0)
			return span_of(p->alias[i].to);
	return sys;
}

/* A coded element's system as read (trimmed): the profile's alias of it, or
 * dflt when none is written and the element has a code or a text. */
static inline void hx_code_system(const struct hx *h, const char *dflt, struct code *out)
{
	if (out->system.n)
		out->system = hx_alias(h, out->system);
	else if (dflt && (out->code.n || out->display.n))
		out->system = span_of(dflt);
}

/* Code, text, system from components k, k+1, k+2 (of nc) of a coded element
 * in a segment without escapes, high bytes or subcomponents: the components
 * are the values themselves. */
static inline __attribute__((always_inline)) void hx_code_clean(const struct hx *h, const struct span *comp, size_t nc,
                                                                int k, const char *dflt, struct code *out)
{
	out->code = (size_t)k - 1 < nc ? hx_trim_nul(comp[k - 1]) : span_make(NULL, 0);
	out->display = (size_t)k < nc ? hx_nul(comp[k]) : span_make(NULL, 0);
	out->system = (size_t)k + 1 < nc ? hx_trim_nul(comp[k + 1]) : span_make(NULL, 0);
	hx_code_system(h, dflt, out);
}

/* hx_code of the raw repetition r of a segment without escapes, high bytes
 * or subcomponents (s->clean, s->nosub): every part of c (and alt) set,
 * those not given empty. */
static inline __attribute__((always_inline)) void hx_code_raw(const struct hx *h, const struct hl7_seg *s, struct span r,
                                                              const char *dflt_system, struct code *c, struct code *alt)
{
	struct span comp[6];
	/* the components up to the alternate system: nothing else is read */
	size_t nc = r.n ? hx_comps_n(h->m, s, r, comp, alt ? 6 : 3) : 0;
	hx_code_clean(h, comp, nc, 1, dflt_system, c);
	if (alt)
		hx_code_clean(h, comp, nc, 4, NULL, alt);
}

/* hx_code for any segment (escapes, subcomponents). */
int hx_code_any(struct hx *h, struct hl7_seg *s, int f, int rep, const char *dflt_system,
                struct code *c, struct code *alt);
/* A coded element (CE/CWE/CNE) in a repetition of SEG-f: code 1-3, alternate
 * 4-6; system aliases of the profile applied; dflt_system when none written. */
static inline int hx_code(struct hx *h, struct hl7_seg *s, int f, int rep, const char *dflt_system,
                          struct code *c, struct code *alt)
{
	struct span r = hx_raw(h, s, f, rep, 0, 0); /* splits s up to f: clean and nosub hold for it */
	if (!(s->clean && s->nosub))
		return hx_code_any(h, s, f, rep, dflt_system, c, alt);
	hx_code_raw(h, s, r, dflt_system, c, alt);
	return 0;
}

/* What besides its bytes a date field's value depends on: the component
 * read and the separators that cut it. */
static inline uint32_t hx_date_key(const struct hx *h, int c)
{
	return (uint32_t)(c > 0 ? c : 1) | (uint32_t)(unsigned char)h->m->d.cs << 8 |
	       (uint32_t)(unsigned char)h->m->d.rs << 16;
}
/* hx_date of raw (SEG-f) when it is not the field parsed last. */
int hx_date_parse(struct hx *h, struct hl7_seg *s, int f, int c, struct span raw, struct dt *out);
/* hx_code of repetition 1 of SEG-f without its alternate, remembered in cm
 * (one table per field read, always with the same dflt_system). */
int hx_code_memo(struct hx *h, struct hl7_seg *s, int f, const char *dflt_system, struct hx_code_memo *cm,
                 struct code *c);

/* A date/time field (TS component 1, or component c): DT_EMPTY if empty,
 * E_DATE if bad. A message repeats its times (OBX-14, OBR-7 ...): the field
 * parsed last is remembered with what it gave, and found here without a
 * call. */
static inline int hx_date(struct hx *h, struct hl7_seg *s, int f, int c, struct dt *out)
{
	struct extractor *x = h->x;
	struct span raw = hl7_field(h->m, s, (unsigned)f);
	if (raw.n == x->last_dn && x->last_dkey == hx_date_key(h, c) && mem_eq_short(raw.p, x->last_date, raw.n)) {
		*out = x->last_dt;
		return 0;
	}
	return hx_date_parse(h, s, f, c, raw, out);
}

/* hx_number past its fast path. */
int hx_number_any(struct span s, double *out);
/* The number at the start of [p, end): an optional sign, digits, an
 * optional point and digits, at most 15 digits and point (exact in a
 * double). Its value in *out and the end of what it read; NULL when it has
 * no digit or more than 15 (hx_number_any decides those). */
static inline __attribute__((always_inline)) const char *hx_num_head(const char *p, const char *end, double *out)
{
	static const double p10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	                                 1e12, 1e13, 1e14, 1e15 };
	int neg = 0;
	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	/* the digits before the point, then those after it, each in a loop
	 * of its own (m may wrap past 15: not returned then) */
	uint64_t m = 0;
	const char *q = p;
	unsigned d;
	for (; q < end && (d = (unsigned)(unsigned char)*q - '0') <= 9; q++)
		m = m * 10 + d;
	size_t nd = (size_t)(q - p), frac = 0;
	if (q < end && *q == '.') {
		const char *f = ++q;
		for (; q < end && (d = (unsigned)(unsigned char)*q - '0') <= 9; q++)
			m = m * 10 + d;
		frac = (size_t)(q - f);
		nd += frac;
	}
	if (!nd || q - p > 15)
		return NULL;
	double v = (double)(int64_t)m; /* below 10^15: signed, a shorter conversion */
	if (frac > 0)
		v /= p10[frac];
	*out = neg ? -v : v;
	return q;
}
/* A number: 0, or -1 if s is not one (*out untouched then). */
static inline int hx_number(struct span s, double *out)
{
	s = hx_trim(s);
	double v;
	const char *end = s.p + s.n;
	if (!s.n || hx_num_head(s.p, end, &v) != end)
		return hx_number_any(s, out);
	*out = v;
	return 0;
}

/* Join parts with '|' into the message arena. */
static inline struct span hx_join(struct hx *h, size_t n, const struct span *parts)
{
	/* no overflow: a handful of spans, each inside a buffer in memory */
	size_t len = n ? n - 1 : 0;
	for (size_t i = 0; i < n; i++)
		len += parts[i].n;
	char *o = arena_alloc(h->a, len + 1), *w = o;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*w++ = '|';
		mem_copy_short(w, parts[i].p, parts[i].n);
		w += parts[i].n;
	}
	*w = '\0';
	return span_make(o, len);
}
#ifdef HX_AVX2
/* *r = *t, 32 bytes at a time (hl7.c; for a CPU with AVX2) */
void hx_record_copy_avx2(struct record *r, const struct record *t);
#endif
/* A record of the kind as record_init makes it (a copy of a template). */
static inline void hx_record(struct hx *h, struct record *r, enum rec_kind kind)
{
	if (kind > REC_MERGE) {
		record_init(r, kind);
		return;
	}
#ifdef HX_AVX2
	/* half the moves, for one call */
	if (h->m->avx2) {
		hx_record_copy_avx2(r, &h->x->tmpl[kind]);
		return;
	}
#endif
	/* 128 bytes at a time (eight 16-byte moves per round, few rounds): a
	 * plain struct copy becomes "rep movsq", whose start-up costs more
	 * than the copy */
	char *d = (char *)r;
	const char *src = (const char *)&h->x->tmpl[kind];
	size_t k = 0;
	for (; k + 128 <= sizeof *r; k += 128)
		memcpy(d + k, src + k, 128);
	for (; k + 32 <= sizeof *r; k += 32)
		memcpy(d + k, src + k, 32);
	if (k < sizeof *r)
		memcpy(d + k, src + k, sizeof *r - k);
}
/* Emit a record. */
int hx_emit(struct hx *h, const struct record *r);
void hx_note(struct hx *h, const char *what);
/* Key "AUTHORITY|ID" of a CX repetition (CX.1, CX.4 namespace or universal id). */
int hx_cx_key(struct hx *h, struct hl7_seg *s, int f, int rep, struct span *key);
/* The same of a repetition of SEG-f already cut into components: c[0 .. 4)
 * as hx_comps gives them (raw). */
int hx_cx_key_of(struct hx *h, struct hl7_seg *s, int f, const struct span *c, struct span *key);
/* Provider from an XCN (first repetition): REC_PROVIDER emitted once per
 * message; *key empty when the XCN has no identifier. */
int hx_provider(struct hx *h, struct hl7_seg *s, int f, struct span *key);
/* Order identifier of an EI field: "NAMESPACE|ID", empty if none. */
int hx_ei_key(struct hx *h, struct hl7_seg *s, int f, struct span *key);

/* --- handlers ------------------------------------------------------------ */

/* hl7_adt.c */
int hx_pid(struct hx *h, struct hl7_seg *pid, int emit);
int hx_patient(struct hx *h, int emit);   /* the first PID, or E_NO_PATIENT */
int hx_adt(struct hx *h);
int hx_ppr(struct hx *h);
int hx_zfields(struct hx *h);
/* hl7_res.c */
/* One OBX; h->obr (NULL in ADT) is its OBR, set with hx_set_obr. */
int hx_obx(struct hx *h, struct hl7_seg *obx, uint8_t kind, uint8_t origin);
int hx_set_obr(struct hx *h, struct hl7_seg *obr);
int hx_oru(struct hx *h);
int hx_vxu(struct hx *h);
int hx_rx(struct hx *h);

#endif
