/*
 * hl7_val.c - the values handlers read out of fields: text, coded elements
 * (and the last ones read, kept from message to message), dates, numbers,
 * identifiers (CX, EI) as keys, providers (XCN, their names kept too).
 */
#include "etl/extract/hl7_int.h"
#include "core/date.h"
#include "core/mem.h"

#include <stdint.h>
#include <string.h>

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

/* Of a memo's n entries (their stamps msg, the first at first, one every
 * size bytes), the next in turn (*next, round robin) that no record of
 * message nmsg points into; -1 if all are. */
static int memo_slot(unsigned *next, unsigned n, const uint64_t *first, size_t size, uint64_t nmsg)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned i = *next;
		*next = (*next + 1) % n;
		uint64_t msg;
		memcpy(&msg, (const char *)first + i * size, sizeof msg);
		if (msg != nmsg)
			return (int)i;
	}
	return -1;
}

/* v, a part of from or a constant, as the same part of a copy of from at to */
static struct span rebase(struct span v, struct span from, const char *to)
{
	uintptr_t p = (uintptr_t)v.p, a = (uintptr_t)from.p;
	if (v.p && p >= a && p + v.n <= a + from.n)
		return span_make(to + (p - a), v.n);
	return v;
}

int hx_code_memo(struct hx *h, struct hl7_seg *s, int f, const char *dflt, struct hx_code_memo *cm, struct code *c)
{
	struct hl7_msg *m = h->m;
	struct span v = hl7_field(m, s, (unsigned)f); /* splits s up to f: clean and nosub hold for it */
	if (!(s->clean && s->nosub))
		return hx_code_any(h, s, f, 1, dflt, c, NULL);
	struct extractor *x = h->x;
	/* the field's bytes and the separators that cut its first repetition
	 * into components make the code (hx_code_raw) */
	char cs = m->d.cs, rs = m->d.rs;
	for (size_t i = 0; i < HX_NCODE; i++) {
		if (cm->e[i].msg && cm->e[i].n == v.n && cm->e[i].cs == cs && cm->e[i].rs == rs &&
		    mem_eq_short(v.p, cm->e[i].raw, v.n)) {
			cm->e[i].msg = x->nmsg;
			*c = cm->e[i].c;
			return 0;
		}
	}
	hx_code_raw(h, s, hx_cut(h, s, f, v, 1, 0, 0), dflt, c, NULL);
	if (v.n > sizeof cm->e[0].raw)
		return 0;
	/* an entry no record of this message points into, the next in turn */
	int i = memo_slot(&cm->next, HX_NCODE, &cm->e[0].msg, sizeof cm->e[0], x->nmsg);
	if (i < 0)
		return 0;
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
	return 0;
}

/* v as a date: the profile's date format, assumed zone. 0 or -E_DATE. */
static int date_value(const struct extractor *x, struct span v, struct dt *out)
{
	const struct hl7_prof *p = &x->prof;
	int rc = p->date_fmt ? dt_parse_fmt(v, p->date_fmt, x->tz, out) : dt_parse_hl7(v, x->tz, out);
	if (rc < 0)
		return rc;
	if (p->has_assume && out->prec == DT_TIME && x->tz != DT_TZ_KEEP && !p->date_fmt) {
		int zoned = 0;
		for (size_t i = 4; i < v.n; i++)
			zoned |= v.p[i] == '+' || v.p[i] == '-';
		if (!zoned)
			dt_set_seconds(out, dt_seconds(*out) + (int64_t)(x->tz - p->assume_offset) * 60);
	}
	return 0;
}

/* What hx_date remembers: raw (SEG-f, component c) gave *v. What is
 * remembered depends only on the field's bytes, the component read and the
 * separators that cut it (the profile and site do not change during a run);
 * MSH-1 and MSH-2, not cut into repetitions, are not remembered. */
static inline void date_remember(struct hx *h, const struct hl7_seg *s, int f, int c, struct span raw, const struct dt *v)
{
	struct extractor *x = h->x;
	if (raw.n <= sizeof x->last_date && !(f <= 2 && hl7_is_msh(s))) {
		mem_copy_short(x->last_date, raw.p, raw.n);
		x->last_dkey = hx_date_key(h, c);
		x->last_dn = raw.n;
		x->last_dt = *v;
	}
}

/* hx_date_parse the long way: the component cut out of the field's first
 * repetition, trimmed, parsed (by the profile's format, its assumed zone) */
__attribute__((noinline)) static int date_cut(struct hx *h, struct hl7_seg *s, int f, int c, struct span raw,
                                              struct dt *out)
{
	struct span v = hx_nul(hx_trim(hx_cut(h, s, f, raw, 1, c > 0 ? c : 1, 0)));
	*out = DT_EMPTY;
	if (v.n == 0)
		return 0;
	if (date_value(h->x, v, out) < 0)
		return hx_fail(h, s, f, 0, E_DATE, "not a date/time (%zu characters)", v.n);
	date_remember(h, s, f, c, raw, out);
	return 0;
}

/* A separator that cannot be in an HL7 date/time: none of + , - . / and
 * the digits (what dt_parse_hl7 accepts is made of + - . and digits). */
static inline int date_sep_ok(char c)
{
	return (unsigned char)(c - '+') > '9' - '+';
}

int hx_date_parse(struct hx *h, struct hl7_seg *s, int f, int c, struct span raw, struct dt *out)
{
	const struct extractor *x = h->x;
	/* Most fields are the date itself, HL7 DTM, parsed as it is: a raw
	 * field that parses holds no component or repetition separator (when
	 * those are not characters of a date), nor a byte to trim, so it is its
	 * first component of its first repetition. Anything else (a failure
	 * too) goes the long way. */
	if (c > 1 || x->prof.date_fmt || x->prof.has_assume || !date_sep_ok(h->m->d.cs) || !date_sep_ok(h->m->d.rs) ||
	    dt_parse_hl7(raw, x->tz, out) < 0)
		return date_cut(h, s, f, c, raw, out);
	date_remember(h, s, f, c, raw, out);
	return 0;
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
	/* frac counts the zeros after the point that nd does not: past the
	 * table, "0.000...1", strtod reads it */
	if (q == end && any && frac < (int)(sizeof pow10tab / sizeof pow10tab[0])) {
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
	*key = arena_join2(h->a, ns.n ? hx_trim(ns) : hx_trim(uid), '|', id);
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
		hx_seps_of(h->m, s, want, 2, at);
		struct span v = hx_field_at(s, at[0], at[1]);
		if (rep > 0)
			v = hl7_rep(h->m, v, (unsigned)rep);
		unsigned notes = hx_part_notes(h->m, s, v);
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
	*key = arena_join2(h->a, hx_trim(ns), '|', id);
	return 0;
}

/* The name ("GIVEN FAMILY", or the one given) and NPI-ness (XCN.13) of an
 * XCN past its identifier (rest, in SEG-f); remembered in x->xcn when the
 * segment has no escapes or high bytes (the bytes and separators then make
 * the result). */
static int xcn_name(struct hx *h, struct hl7_seg *s, int f, struct span rest, struct span *name, int *npi)
{
	struct extractor *x = h->x;
	struct hl7_msg *m = h->m;
	int memo = s->clean && rest.n <= sizeof x->xcn.e[0].rest;
	if (memo) {
		for (size_t i = 0; i < HX_NXCN; i++) {
			struct hx_xcn_entry *e = &x->xcn.e[i];
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
	*name = fam.n && given.n ? arena_join2(h->a, given, ' ', fam) : fam.n ? fam : given;
	/* an entry no record of this message points into, the next in turn */
	int i = memo ? memo_slot(&x->xcn.next, HX_NXCN, &x->xcn.e[0].msg, sizeof x->xcn.e[0], x->nmsg) : -1;
	if (i < 0)
		return 0;
	struct hx_xcn_entry *e = &x->xcn.e[i];
	e->msg = x->nmsg;
	e->cs = m->d.cs;
	e->ss = m->d.ss;
	e->npi = (uint8_t)*npi;
	e->nrest = (uint8_t)rest.n;
	memcpy(e->rest, rest.p, rest.n);
	/* the name is no longer than rest: its parts and a separator between */
	e->nname = (uint8_t)name->n;
	mem_copy_short(e->name, name->p, name->n);
	*name = span_make(e->name, name->n);
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
