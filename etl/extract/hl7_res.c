/*
 * hl7_res.c - results and medications: ORU OBX, VXU and RAS RXA, RDE RXE,
 * RDS RXD.
 *
 *   OBX-3 code (+ CWE alternate), OBX-2 value type -> value (NM, SN with its
 *   comparator, CE/CWE coded, ST/TX/FT text, CQ ...), OBX-6 unit, OBX-7
 *   reference range, OBX-14 else OBR-7 time, OBX-11 status by the profile's
 *   [results]: load, retract (REC_RETRACT of the same key) or count.
 *   Key of a result: filler order (OBR-3, else placer OBR-2) + OBX-3 + OBX-4,
 *   the same for a result and its correction.
 *
 *   RXA (VXU: EV_IMMUNIZATION, RAS: EV_DRUG administration) RXA-5 code,
 *   RXA-3/4 times, RXA-6/7 dose, RXA-15 lot, RXR-1 route, RXA-20 completion
 *   status and RXA-21 action by the profile's [immunizations].
 *   RXE (prescription): RXE-2, RXE-10/11 quantity, RXE-12 refills, RXE-7
 *   instructions, TQ1 times and service duration (days supply); where the
 *   RXE leaves one empty, the order's RXO (RXO-1, RXO-11/12, RXO-13, RXO-7).
 *   RXD (dispense): RXD-2/3/4/5, lot.
 */
#include "etl/extract/hl7_int.h"
#include "core/mem.h"

#include <math.h>
#include <string.h>

#define STATUS_NOTE(c) "result status " #c " not loaded"
static const char *const status_note[26] = {
	STATUS_NOTE(A), STATUS_NOTE(B), STATUS_NOTE(C), STATUS_NOTE(D), STATUS_NOTE(E), STATUS_NOTE(F),
	STATUS_NOTE(G), STATUS_NOTE(H), STATUS_NOTE(I), STATUS_NOTE(J), STATUS_NOTE(K), STATUS_NOTE(L),
	STATUS_NOTE(M), STATUS_NOTE(N), STATUS_NOTE(O), STATUS_NOTE(P), STATUS_NOTE(Q), STATUS_NOTE(R),
	STATUS_NOTE(S), STATUS_NOTE(T), STATUS_NOTE(U), STATUS_NOTE(V), STATUS_NOTE(W), STATUS_NOTE(X),
	STATUS_NOTE(Y), STATUS_NOTE(Z),
};

/* "<5", ">=10": the comparator in front of a number */
static struct span take_op(struct span *v)
{
	size_t k = 0;
	while (k < v->n && k < 2 && (v->p[k] == '<' || v->p[k] == '>' || v->p[k] == '='))
		k++;
	struct span op = span_make(v->p, k);
	v->p += k;
	v->n -= k;
	return op;
}

/* OBX-7 "3.5-5.0", "70_105", ">40", "<7800" */
static void range(struct span r, struct value *v)
{
	double a, b;
	r = hx_trim(r);
	if (!r.n)
		return;
	if (r.p[0] == '>' || r.p[0] == '<') {
		int gt = r.p[0] == '>';
		struct span x = r;
		take_op(&x);
		if (hx_number(x, &a) == 0) {
			if (gt) {
				v->low = a;
				v->has_low = 1;
			} else {
				v->high = a;
				v->has_high = 1;
			}
		}
		return;
	}
	for (size_t i = 1; i < r.n; i++) {
		if (r.p[i] != '-' && r.p[i] != '_')
			continue;
		if (hx_number(span_make(r.p, i), &a) == 0 && hx_number(span_make(r.p + i + 1, r.n - i - 1), &b) == 0) {
			v->low = a;
			v->high = b;
			v->has_low = v->has_high = 1;
			return;
		}
	}
}

/* range of a field OBX-7 of a plain segment that is two numbers joined by
 * '-' or '_' and nothing else ("3.5-5.1"), the most common: 1 when done,
 * with what range gives it (the field is its first component, has nothing
 * to trim, and its first '-' or '_' past the first byte ends the low
 * number); 0 for range to read it. */
static inline int range_plain(const struct hl7_msg *m, struct span r, struct value *v)
{
	/* a component separator that a number holds or that joins the two
	 * (MSH-2 sets it) would cut the field first */
	unsigned char cs = (unsigned char)m->d.cs;
	const uint64_t in_num = 1ull << '+' | 1ull << '-' | 1ull << '.' | 0x3ffull << '0';
	if ((cs < 64 && (in_num >> cs) & 1) || cs == '_')
		return 0;
	double a, b = 0; /* set when read (gcc cannot tell in obx_short) */
	const char *end = r.p + r.n, *q = hx_num_head(r.p, end, &a);
	if (!q || q == end || (*q != '-' && *q != '_') || hx_num_head(q + 1, end, &b) != end)
		return 0;
	v->low = a;
	v->high = b;
	v->has_low = v->has_high = 1;
	return 1;
}

static int type_is(struct span t, const char *const *list)
{
	for (; *list; list++)
		if (span_eq_str(t, *list))
			return 1;
	return 0;
}

static const char *const t_num[] = { "NM", NULL };
static const char *const t_coded[] = { "CE", "CWE", "CNE", "CF", "CD", NULL };
static const char *const t_text[] = { "ST", "TX", "FT", "ID", "IS", "DT", "DTM", "TS", "TM", "GTS", NULL };
static const char *const t_kept_not[] = { "ED", "RP", "AD", "CK", "CN", "CP", "CX", "DR", "EI", "MA",
	"NA", "PN", "TN", "XAD", "XCN", "XON", "XPN", "XTN", "SPS", "SRT", "TQ", NULL };

/* SEG-k of a segment other than MSH already split past k (hl7_split_to):
 * hl7_field without the checks that this spares; full: the segment is
 * known to have field k (s->nfo > k), not even that test. */
static inline struct span seg_field(const struct hl7_seg *s, unsigned k, int full)
{
	if (!full && k >= s->nfo)
		return span_make(s->p + s->n, 0);
	const uint32_t *fo = s->fe + k - 1;
	return span_make(s->p + fo[0], fo[1] - 1 - fo[0]);
}

/* All repetitions of a text OBX-5, joined by line breaks. */
static int text_value(struct hx *h, struct hl7_seg *s, struct span *out)
{
	struct span f = hl7_field(h->m, s, 5);
	size_t nrep = hl7_count(f, h->m->d.rs);
	if (nrep == 1)
		return hx_text(h, s, 5, 1, 0, 0, out);
	char *o = arena_alloc(h->a, mem_add(mem_mul(f.n, 2), nrep));
	size_t k = 0;
	for (size_t r = 1; r <= nrep; r++) {
		struct span t;
		int rc = hx_text(h, s, 5, (int)r, 0, 0, &t);
		if (rc < 0)
			return rc;
		if (r > 1)
			o[k++] = '\n';
		memcpy(o + k, t.p, t.n);
		k += t.n;
	}
	*out = span_make(o, k);
	return 0;
}

/* A numeric value t that is a number and nothing else ("4.7", most): 1 with
 * what num_value gives it (nothing to trim, take_op's empty comparator),
 * else 0 and v untouched. Inline where num_value is not. */
static inline __attribute__((always_inline)) int num_plain(struct span t, struct value *v)
{
	double x;
	if (!t.n || hx_num_head(t.p, t.p + t.n, &x) != t.p + t.n)
		return 0;
	v->text = t;
	v->op = span_make(t.p, 0);
	v->num = x;
	v->kind = VAL_NUM;
	return 1;
}

/* A numeric value t (NM, CQ, MO: unescaped, not empty): 1 if a number,
 * else 0 and kept as text. num_plain first. */
static int num_value(struct hx *h, struct span t, struct value *v)
{
	v->text = t;
	t = hx_trim(t);
	v->op = take_op(&t);
	if (hx_number(t, &v->num) == 0) {
		v->kind = VAL_NUM;
		return 1;
	}
	v->kind = VAL_TEXT;
	v->op = span_make(NULL, 0);
	hx_note(h, "numeric result that is not a number: kept as text");
	return 0;
}

/* A numeric value t: num_plain, else num_value. */
static inline __attribute__((always_inline)) int num_read(struct hx *h, struct span t, struct value *v)
{
	return num_plain(t, v) || num_value(h, t, v);
}

/* OBX-5 by OBX-2 (the segment split past 5) */
static int obx_value(struct hx *h, struct hl7_seg *s, struct value *v, int *numeric)
{
	struct hl7_msg *m = h->m;
	struct span type = hx_trim(hx_comp1(m, s, seg_field(s, 2, 0)));
	struct span f5 = seg_field(s, 5, 0);
	int rc;
	*numeric = 0;
	if (hx_nul(f5).n == 0)
		return 0;
	if (m->d.rs && !s->norep && memchr(f5.p, m->d.rs, f5.n) && !type_is(type, t_text))
		hx_note(h, "repeated result value: the first kept");
	int nm = type.n == 2 && type.p[0] == 'N' && type.p[1] == 'M';
	if (nm || type_is(type, t_num) || span_eq_str(type, "CQ") || span_eq_str(type, "MO")) {
		struct span t;
		int c = type.n == 2 && type.p[0] == 'N' ? 0 : 1;
		if ((rc = hx_tx_at(h, s, 5, c, hx_cut(h, s, 5, f5, 1, c, 0), &t)) < 0)
			return rc;
		*numeric = num_read(h, t, v);
		if (span_eq_str(type, "CQ")) {
			struct span u = hl7_comp(m, hl7_rep(m, f5, 1), 2);
			if (u.n) {
				struct span c1 = hl7_sub(m, u, 1), c2 = hl7_sub(m, u, 2), c3 = hl7_sub(m, u, 3);
				if ((rc = hl7_text(m, c1, &v->unit.code, h->e)) < 0 ||
				    (rc = hl7_text(m, c2, &v->unit.display, h->e)) < 0 ||
				    (rc = hl7_text(m, c3, &v->unit.system, h->e)) < 0)
					return hx_fail(h, s, 5, 2, E_ENCODING, "%s", h->e->msg);
			}
		}
		return 0;
	}
	if (span_eq_str(type, "SN")) {
		struct span op, n1, sep, n2;
		if ((rc = hx_text(h, s, 5, 1, 1, 0, &op)) < 0 || (rc = hx_text(h, s, 5, 1, 2, 0, &n1)) < 0 ||
		    (rc = hx_text(h, s, 5, 1, 3, 0, &sep)) < 0 || (rc = hx_text(h, s, 5, 1, 4, 0, &n2)) < 0)
			return rc;
		op = hx_trim(op);
		sep = hx_trim(sep);
		n2 = hx_trim(n2);
		size_t len = op.n + n1.n + sep.n + n2.n;
		char *o = arena_alloc(h->a, len + 1);
		size_t k = 0;
		memcpy(o + k, op.p, op.n), k += op.n;
		memcpy(o + k, n1.p, n1.n), k += n1.n;
		memcpy(o + k, sep.p, sep.n), k += sep.n;
		memcpy(o + k, n2.p, n2.n), k += n2.n;
		o[k] = '\0';
		v->text = span_make(o, k);
		if (!sep.n && !n2.n && hx_number(n1, &v->num) == 0) {
			v->kind = VAL_NUM;
			v->op = op;
			*numeric = 1;
		} else {
			v->kind = VAL_TEXT;
		}
		return 0;
	}
	if (type_is(type, t_coded)) {
		if ((rc = hx_code(h, s, 5, 1, NULL, &v->coded, NULL)) < 0)
			return rc;
		v->kind = VAL_CODED;
		v->text = v->coded.display;
		return 0;
	}
	if (type_is(type, t_text) || type.n == 0) {
		if ((rc = text_value(h, s, &v->text)) < 0)
			return rc;
		v->kind = VAL_TEXT;
		return 0;
	}
	if (type_is(type, t_kept_not)) {
		hx_note(h, "result value of a type that is not kept (ED, RP, ...)");
		return 0;
	}
	return hx_fail(h, s, 2, 0, E_VALUE, "unknown value type (%zu characters)", type.n);
}

int hx_set_obr(struct hx *h, struct hl7_seg *obr)
{
	int rc;
	struct span order; /* filler (OBR-3), else placer (OBR-2) */
	h->obr = obr;
	h->obr_key = h->obr_provider = span_make(NULL, 0);
	if (!obr)
		return 0;
	hl7_split_to(h->m, obr, 16); /* the fields read below, in one go */
	if ((rc = hx_ei_key(h, obr, 3, &order)) < 0)
		return rc;
	if (!order.n && (rc = hx_ei_key(h, obr, 2, &order)) < 0)
		return rc;
	if (order.n) {
		/* the part of the key all its results share, joined once */
		struct span kp[3] = { SPAN_LIT("obx"), order, SPAN_LIT("") };
		h->obr_key = hx_join(h, 3, kp);
	}
	return hx_provider(h, obr, 16, &h->obr_provider);
}

/* Key of a result of an OBR with an order: obr_key (hx_set_obr) then
 * "SYSTEM|CODE|SUB", as hx_join of all five parts would give it. */
static inline struct span obx_key(struct hx *h, struct span sys, struct span code, struct span sub)
{
	struct span pre = h->obr_key;
	size_t len = pre.n + sys.n + code.n + sub.n + 2;
	char *o = arena_alloc(h->a, len + 1), *w = o;
	mem_copy_short(w, pre.p, pre.n);
	w += pre.n;
	mem_copy_short(w, sys.p, sys.n);
	w += sys.n;
	*w++ = '|';
	mem_copy_short(w, code.p, code.n);
	w += code.n;
	*w++ = '|';
	mem_copy_short(w, sub.p, sub.n);
	w[sub.n] = '\0';
	return span_make(o, len);
}

/* hx_code of the first repetition of OBX-f (split past f). In a plain
 * segment, without escapes, high bytes, subcomponents or repetitions (most),
 * the field is the coded element as it stands: no cutting, no call. */
static inline __attribute__((always_inline)) int obx_code(struct hx *h, struct hl7_seg *s, int plain, int full, int f,
                                                          const char *dflt, struct code *c, struct code *alt)
{
	if (plain) {
		hx_code_raw(h, s, seg_field(s, (unsigned)f, full), dflt, c, alt);
		return 0;
	}
	return hx_code(h, s, f, 1, dflt, c, alt);
}

/* hx_key_part out of line, for the few results whose segment has escapes or
 * bytes beyond ASCII: inline it changed what gcc inlines into obx_read
 * (2% more instructions on every result, callgrind). */
static __attribute__((noinline, cold)) int key_part(struct hx *h, struct hl7_seg *s, int f, int c, struct span *out)
{
	return hx_key_part(h, s, f, c, out);
}

/* hx_obx past its split to OBX-14; full: s has every field read here (most
 * OBX), so that seg_field tests nothing. */
static inline __attribute__((always_inline)) int obx_read(struct hx *h, struct hl7_seg *s, uint8_t kind,
                                                          uint8_t origin, int full)
{
	struct hl7_seg *obr = h->obr;
	const struct hl7_prof *p = &h->x->prof;
	struct record r;
	struct rec_event *ev = &r.u.event;
	int rc;

	int plain = s->clean && s->nosub && s->norep;
	struct span st = hx_trim(hx_comp1(h->m, s, seg_field(s, 11, full)));
	uint8_t action;
	if (st.n == 0)
		action = p->obx_missing;
	else if (st.n == 1 && (unsigned char)st.p[0] < 128)
		action = p->obx_status[(unsigned char)st.p[0]];
	else
		action = 0;
	if (!action)
		return hx_fail(h, s, 11, 0, E_VALUE, "result status not in the profile's [results] lists");

	hx_record(h, &r, REC_EVENT);
	ev->kind = kind;
	ev->origin = origin;
	ev->person = h->person;
	ev->visit = h->visit;
	if ((rc = obx_code(h, s, plain, full, 3, NULL, &ev->code, &ev->code_alt)) < 0)
		return rc;
	if (!ev->code.code.n && !ev->code_alt.code.n)
		return hx_fail(h, s, 3, 0, E_CODE, "a result without an observation identifier");
	struct span sub;
	if (plain)
		sub = hx_trim(seg_field(s, 4, full));
	else if ((rc = key_part(h, s, 4, 0, &sub)) < 0)
		return rc;
	if (h->obr_key.n) {
		ev->key = obx_key(h, ev->code.system, ev->code.code, sub);
	} else {
		/* no order number (no OBR, or one without OBR-2/3): the visit or
		 * the patient, the test and its time (OBX-14, else OBR-7), so
		 * that a correction or deletion sent later finds the result */
		struct span t;
		if ((rc = key_part(h, s, 14, 1, &t)) < 0 || (!t.n && obr && (rc = key_part(h, obr, 7, 1, &t)) < 0))
			return rc;
		struct span kp[6] = { SPAN_LIT("obx"), h->visit.n ? h->visit : h->person, ev->code.system,
		                      ev->code.code, sub, t };
		ev->key = hx_join(h, 6, kp);
	}

	if (action == HS_COUNT) {
		unsigned char c = st.n ? (unsigned char)st.p[0] : 0;
		hx_note(h, c >= 'A' && c <= 'Z' ? status_note[c - 'A'] : "result without status not loaded");
		return 0;
	}
	if (action == HS_RETRACT) {
		hx_note(h, "result retracted (OBX-11 by the profile's [results] retract)");
		struct span rkey = ev->key; /* hx_record clears the union */
		hx_record(h, &r, REC_RETRACT);
		r.u.retract.target = REC_EVENT;
		r.u.retract.key = rkey;
		return hx_emit(h, &r);
	}

	if ((rc = hx_date(h, s, 14, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && obr && (rc = hx_date(h, obr, 7, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && !obr && h->evn && (rc = hx_date(h, h->evn, 2, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE)
		return hx_fail(h, s, 14, 0, E_MISSING, "a result without a time (OBX-14, OBR-7)");
	int numeric;
	struct span f2 = seg_field(s, 2, full), f5 = seg_field(s, 5, full);
	/* f5 neither empty nor "" written out: hx_nul(f5).n here compiles to
	 * more instructions on this path (callgrind) */
	if (plain && f2.n == 2 && f2.p[0] == 'N' && f2.p[1] == 'M' && f5.n && !(f5.n == 2 && f5.p[0] == '"' && f5.p[1] == '"'))
		numeric = num_read(h, f5, &ev->value); /* most results: obx_value's first case, without the call */
	else if ((rc = obx_value(h, s, &ev->value, &numeric)) < 0)
		return rc;
	if (!kind)
		ev->kind = numeric ? EV_MEASUREMENT : EV_OBSERVATION;
	if ((rc = obx_code(h, s, plain, full, 6, NULL, &ev->value.unit, NULL)) < 0 ||
	    (rc = obx_code(h, s, plain, full, 8, "HL70078", &ev->qualifier, NULL)) < 0)
		return rc;
	if (!plain || !range_plain(h->m, seg_field(s, 7, full), &ev->value))
		range(hx_comp1(h->m, s, plain ? seg_field(s, 7, full) : hx_rep1(h, s, 7)), &ev->value);
	ev->provider = h->obr_provider;
	return hx_emit(h, &r);
}

/* An OBX short of OBX-14 (many feeds end it at OBX-11): the same reading,
 * each field's presence tested; a copy of its own, so that the full one
 * tests none. */
static __attribute__((noinline)) int obx_short(struct hx *h, struct hl7_seg *s, uint8_t kind, uint8_t origin)
{
	return obx_read(h, s, kind, origin, 0);
}

int hx_obx(struct hx *h, struct hl7_seg *s, uint8_t kind, uint8_t origin)
{
	if (!h->person.n)
		return hx_fail(h, s, 0, 0, E_NO_PATIENT, "a result before any PID");
	hl7_split_to(h->m, s, 14); /* the fields read, in one go */
	if (s->nfo <= 14)
		return obx_short(h, s, kind, origin);
	return obx_read(h, s, kind, origin, 1);
}

int hx_oru(struct hx *h)
{
	int rc, pids = 0;
	for (size_t i = 1; i < h->m->nseg; i++) {
		struct hl7_seg *s = &h->m->seg[i];
		const char *id = s->id;
		if (id[0] == 'O' && id[1] == 'B' && id[2] == 'X') {
			if ((rc = hx_obx(h, s, EV_MEASUREMENT, ORIG_LAB)) < 0)
				return rc;
		} else if (memcmp(id, "OBR", 3) == 0) {
			if ((rc = hx_set_obr(h, s)) < 0)
				return rc;
		} else if (memcmp(id, "PID", 3) == 0) {
			if ((rc = hx_pid(h, s, 1)) < 0)
				return rc;
			h->visit = span_make(NULL, 0);
			hx_set_obr(h, NULL); /* a new patient: no order yet (cannot fail) */
			pids++;
		} else if (memcmp(id, "PV1", 3) == 0) {
			if ((rc = hx_cx_key(h, s, 19, 1, &h->visit)) < 0)
				return rc;
		}
	}
	if (!pids)
		return hx_missing(h, "PID", E_NO_PATIENT, NULL);
	return 0;
}

/* --- medications -------------------------------------------------------- */

static int in_list(struct span v, const char (*list)[4], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (span_eq_str(v, list[i]))
			return 1;
	return 0;
}

/* The ORC that governs segment i (the last one before it). */
static struct hl7_seg *orc_before(struct hx *h, size_t i)
{
	while (i-- > 1)
		if (memcmp(h->m->seg[i].id, "ORC", 3) == 0)
			return &h->m->seg[i];
	return NULL;
}

static int order_key(struct hx *h, struct hl7_seg *orc, int placer_first, struct span *key)
{
	int rc;
	*key = span_make(NULL, 0);
	if (!orc)
		return 0;
	if ((rc = hx_ei_key(h, orc, placer_first ? 2 : 3, key)) < 0)
		return rc;
	if (!key->n)
		rc = hx_ei_key(h, orc, placer_first ? 3 : 2, key);
	return rc;
}

static int route(struct hx *h, size_t i, const char *stop, struct code *c)
{
	struct hl7_seg *rxr = hx_find(h, i + 1, "RXR", stop);
	memset(c, 0, sizeof *c);
	return rxr ? hx_code(h, rxr, 1, 1, "HL70162", c, NULL) : 0;
}

static int quantity(struct hx *h, struct hl7_seg *s, int f, double *q)
{
	struct span v;
	int rc = hx_text(h, s, f, 1, 1, 0, &v);
	if (rc < 0)
		return rc;
	v = hx_trim(v);
	*q = NAN;
	if (v.n && hx_number(v, q) < 0)
		return hx_fail(h, s, f, 0, E_VALUE, "a quantity that is not a number");
	return 0;
}

/* SEG-f as a number of refills (kept only if there is one). */
static int refills(struct hx *h, struct hl7_seg *s, int f, int32_t *out)
{
	struct span v;
	int rc = hx_text(h, s, f, 1, 0, 0, &v);
	if (rc < 0)
		return rc;
	int64_t rf;
	if (hx_trim(v).n) {
		if (span_to_i64(v, &rf) < 0 || rf < 0 || rf > 1000)
			return hx_fail(h, s, f, 0, E_VALUE, "number of refills is not a count");
		*out = (int32_t)rf;
	}
	return 0;
}

static int rxa(struct hx *h, size_t i, int immunization)
{
	const struct hl7_prof *p = &h->x->prof;
	struct hl7_seg *s = &h->m->seg[i], *orc = orc_before(h, i);
	struct record r;
	struct rec_event *ev = &r.u.event;
	int rc;

	hx_record(h, &r, REC_EVENT);
	ev->kind = immunization ? EV_IMMUNIZATION : EV_DRUG;
	ev->person = h->person;
	ev->visit = h->visit;
	if ((rc = hx_code(h, s, 5, 1, NULL, &ev->code, &ev->code_alt)) < 0)
		return rc;
	struct span order, completion = hx_trim(hx_raw(h, s, 20, 1, 1, 0));
	struct span action = hx_trim(hx_raw(h, s, 21, 1, 1, 0));
	if ((rc = order_key(h, orc, 0, &order)) < 0)
		return rc;
	if (order.n) {
		struct span kp[4] = { SPAN_LIT("rxa"), order };
		if ((rc = hx_key_part(h, s, 1, 0, &kp[2])) < 0 || (rc = hx_key_part(h, s, 2, 0, &kp[3])) < 0)
			return rc;
		ev->key = hx_join(h, 4, kp);
	} else {
		struct span kp[5] = { SPAN_LIT("rxa"), h->person, ev->code.system, ev->code.code };
		if ((rc = hx_key_part(h, s, 3, 1, &kp[4])) < 0)
			return rc;
		ev->key = hx_join(h, 5, kp);
	}
	if (in_list(action, p->rxa_retract, p->nrxa_retract)) {
		hx_note(h, immunization ? "immunization deleted (RXA-21)" : "administration deleted (RXA-21)");
		struct span rkey = ev->key; /* hx_record clears the union */
		hx_record(h, &r, REC_RETRACT);
		r.u.retract.target = REC_EVENT;
		r.u.retract.key = rkey;
		return hx_emit(h, &r);
	}
	if (in_list(completion, p->rxa_skip, p->nrxa_skip)) {
		hx_note(h, span_eq_str(completion, "RE") ? "refused (RXA-20 RE): not loaded" :
		           span_eq_str(completion, "NA") ? "not administered (RXA-20 NA): not loaded" :
		                                           "completion status (RXA-20) not loaded");
		return 0;
	}
	if (!ev->code.code.n && !ev->code_alt.code.n)
		return hx_fail(h, s, 5, 0, E_CODE, "an administration without a code");
	if ((rc = hx_date(h, s, 3, 1, &ev->start)) < 0 || (rc = hx_date(h, s, 4, 1, &ev->end)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE)
		return hx_fail(h, s, 3, 0, E_MISSING, "an administration without a time");
	if ((rc = quantity(h, s, 6, &ev->quantity)) < 0)
		return rc;
	if (ev->quantity == 999) /* CDC immunization guide: amount unknown */
		ev->quantity = NAN;
	if ((rc = hx_code(h, s, 7, 1, NULL, &ev->value.unit, NULL)) < 0 ||
	    (rc = hx_text(h, s, 15, 1, 0, 0, &ev->lot)) < 0 ||
	    (rc = route(h, i, "RXA ORC", &ev->route)) < 0 ||
	    (rc = hx_provider(h, s, 10, &ev->provider)) < 0)
		return rc;
	if (!ev->provider.n && orc && (rc = hx_provider(h, orc, 12, &ev->provider)) < 0)
		return rc;
	ev->origin = ORIG_ADMINISTRATION;
	if (immunization) {
		struct span src = hx_trim(hx_raw(h, s, 9, 1, 1, 0));
		if (src.n && !span_eq_str(src, "00"))
			ev->origin = span_eq_str(src, "03") || span_eq_str(src, "04") ? ORIG_SELF_REPORT :
			             span_eq_str(src, "05") ? ORIG_REGISTRY : ORIG_EHR;
	}
	return hx_emit(h, &r);
}

int hx_vxu(struct hx *h)
{
	int rc;
	if ((rc = hx_patient(h, 1)) < 0)
		return rc;
	struct hl7_seg *pv1 = hx_find(h, 1, "PV1", NULL);
	if (pv1 && (rc = hx_cx_key(h, pv1, 19, 1, &h->visit)) < 0)
		return rc;
	for (size_t i = 1; i < h->m->nseg; i++)
		if (memcmp(h->m->seg[i].id, "RXA", 3) == 0 && (rc = rxa(h, i, 1)) < 0)
			return rc;
	return 0;
}

/* days from a TQ1-6 service duration "3^D" (D, W, and their spellings) */
static int days_supply(struct hx *h, struct hl7_seg *tq1)
{
	double n;
	struct span num = hx_trim(hx_raw(h, tq1, 6, 1, 1, 0));
	struct span unit = hx_trim(hx_raw(h, tq1, 6, 1, 2, 1));
	if (!num.n || hx_number(num, &n) < 0 || n < 0 || n > 100000)
		return -1;
	if (span_ieq_str(unit, "D") || span_ieq_str(unit, "d") || span_ieq_str(unit, "day") || span_ieq_str(unit, "days"))
		return (int)n;
	if (span_ieq_str(unit, "W") || span_ieq_str(unit, "wk") || span_ieq_str(unit, "week") || span_ieq_str(unit, "weeks"))
		return (int)(n * 7);
	return -1;
}

static int rxe(struct hx *h, size_t i)
{
	struct hl7_seg *s = &h->m->seg[i], *orc = orc_before(h, i);
	struct record r;
	struct rec_event *ev = &r.u.event;
	int rc;

	hx_record(h, &r, REC_EVENT);
	ev->kind = EV_DRUG;
	ev->origin = ORIG_PRESCRIPTION;
	ev->person = h->person;
	ev->visit = h->visit;
	struct span order;
	if ((rc = order_key(h, orc, 1, &order)) < 0)
		return rc;
	if (!order.n && (rc = hx_text(h, s, 15, 1, 0, 0, &order)) < 0)
		return rc;
	/* the order's RXO (pharmacy order): what the RXE leaves empty */
	struct hl7_seg *rxo = hx_find(h, orc ? hx_index(h, orc) + 1 : 1, "RXO", "ORC RXE");
	if ((rc = hx_code(h, s, 2, 1, NULL, &ev->code, &ev->code_alt)) < 0)
		return rc;
	if (!ev->code.code.n && !ev->code_alt.code.n && rxo && (rc = hx_code(h, rxo, 1, 1, NULL, &ev->code, &ev->code_alt)) < 0)
		return rc;
	if (order.n) {
		struct span kp[2] = { SPAN_LIT("rxe"), order };
		ev->key = hx_join(h, 2, kp);
	}
	struct span control = orc ? hx_trim(hx_raw(h, orc, 1, 1, 0, 0)) : span_make(NULL, 0);
	if (span_eq_str(control, "CA") || span_eq_str(control, "OC") || span_eq_str(control, "CR")) {
		hx_note(h, "order cancelled (ORC-1)");
		if (!ev->key.n)
			return 0;
		struct span rkey = ev->key; /* hx_record clears the union */
		hx_record(h, &r, REC_RETRACT);
		r.u.retract.target = REC_EVENT;
		r.u.retract.key = rkey;
		return hx_emit(h, &r);
	}
	if (!ev->code.code.n && !ev->code_alt.code.n)
		return hx_fail(h, s, 2, 0, E_CODE, "an order without a give code (RXE-2, RXO-1)");
	/* timing: TQ1 of the RXE, else of the order; older versions: RXE-1 */
	struct hl7_seg *tq1 = hx_find(h, i + 1, "TQ1", "ORC RXE RXD RXA");
	struct hl7_seg *otq1 = orc ? hx_find(h, hx_index(h, orc) + 1, "TQ1", "ORC RXE RXD RXA RXO") : NULL;
	if (!tq1)
		tq1 = otq1;
	if (tq1) {
		if ((rc = hx_date(h, tq1, 7, 1, &ev->start)) < 0 || (rc = hx_date(h, tq1, 8, 1, &ev->end)) < 0)
			return rc;
		ev->days_supply = days_supply(h, tq1);
	}
	if (ev->days_supply < 0 && otq1) /* the give timing in hours, the order's in days */
		ev->days_supply = days_supply(h, otq1);
	if (ev->start.prec == DT_NONE && (rc = hx_date(h, s, 1, 4, &ev->start)) < 0)
		return rc;
	if (ev->end.prec == DT_NONE && (rc = hx_date(h, s, 1, 5, &ev->end)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && orc && (rc = hx_date(h, orc, 15, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && orc && (rc = hx_date(h, orc, 9, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE)
		return hx_fail(h, s, 1, 0, E_MISSING, "an order without a start (TQ1-7, RXE-1, ORC-15, ORC-9)");
	if ((rc = quantity(h, s, 10, &ev->quantity)) < 0 ||
	    (isnan(ev->quantity) && rxo && (rc = quantity(h, rxo, 11, &ev->quantity)) < 0) ||
	    (rc = hx_code(h, s, 11, 1, NULL, &ev->value.unit, NULL)) < 0 ||
	    (!ev->value.unit.code.n && rxo && (rc = hx_code(h, rxo, 12, 1, NULL, &ev->value.unit, NULL)) < 0) ||
	    (rc = refills(h, s, 12, &ev->refills)) < 0 ||
	    (ev->refills < 0 && rxo && (rc = refills(h, rxo, 13, &ev->refills)) < 0) ||
	    (rc = route(h, i, "ORC RXE RXD RXA RXO", &ev->route)) < 0)
		return rc;
	/* instructions: RXE-7 (else RXO-7), its text, else its code */
	struct hl7_seg *is = rxo && !hl7_field(h->m, s, 7).n ? rxo : s;
	if ((rc = hx_text(h, is, 7, 1, 2, 0, &ev->sig)) < 0)
		return rc;
	if (!ev->sig.n && (rc = hx_text(h, is, 7, 1, 1, 0, &ev->sig)) < 0)
		return rc;
	if (orc && (rc = hx_provider(h, orc, 12, &ev->provider)) < 0)
		return rc;
	return hx_emit(h, &r);
}

static int rxd(struct hx *h, size_t i)
{
	struct hl7_seg *s = &h->m->seg[i], *orc = orc_before(h, i);
	struct record r;
	struct rec_event *ev = &r.u.event;
	int rc;

	hx_record(h, &r, REC_EVENT);
	ev->kind = EV_DRUG;
	ev->origin = ORIG_DISPENSE;
	ev->person = h->person;
	ev->visit = h->visit;
	struct span order;
	if ((rc = order_key(h, orc, 1, &order)) < 0)
		return rc;
	if (!order.n && (rc = hx_text(h, s, 7, 1, 0, 0, &order)) < 0)
		return rc;
	if ((rc = hx_code(h, s, 2, 1, NULL, &ev->code, &ev->code_alt)) < 0)
		return rc;
	if (!ev->code.code.n && !ev->code_alt.code.n)
		return hx_fail(h, s, 2, 0, E_CODE, "a dispense without a code");
	if (order.n) {
		struct span kp[3] = { SPAN_LIT("rxd"), order };
		if ((rc = hx_key_part(h, s, 1, 0, &kp[2])) < 0)
			return rc;
		ev->key = hx_join(h, 3, kp);
	}
	if ((rc = hx_date(h, s, 3, 1, &ev->start)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE)
		return hx_fail(h, s, 3, 0, E_MISSING, "a dispense without a time");
	if ((rc = quantity(h, s, 4, &ev->quantity)) < 0 ||
	    (rc = hx_code(h, s, 5, 1, NULL, &ev->value.unit, NULL)) < 0 ||
	    (rc = hx_text(h, s, 18, 1, 0, 0, &ev->lot)) < 0 ||
	    (rc = route(h, i, "ORC RXE RXD RXA RXO", &ev->route)) < 0 ||
	    (rc = hx_provider(h, s, 10, &ev->provider)) < 0)
		return rc;
	struct hl7_seg *e = orc ? hx_find(h, hx_index(h, orc) + 1, "RXE", "ORC") : NULL;
	if (e) {
		struct span refills = hx_trim(hx_raw(h, e, 12, 1, 0, 0));
		int64_t rf;
		if (refills.n && span_to_i64(refills, &rf) == 0 && rf >= 0 && rf <= 1000)
			ev->refills = (int32_t)rf;
	}
	return hx_emit(h, &r);
}

int hx_rx(struct hx *h)
{
	int rc, n = 0;
	if ((rc = hx_patient(h, 1)) < 0)
		return rc;
	struct hl7_seg *pv1 = hx_find(h, 1, "PV1", NULL);
	if (pv1 && (rc = hx_cx_key(h, pv1, 19, 1, &h->visit)) < 0)
		return rc;
	const char *want = h->handler == HH_RDE ? "RXE" : h->handler == HH_RDS ? "RXD" : "RXA";
	for (size_t i = 1; i < h->m->nseg; i++) {
		if (memcmp(h->m->seg[i].id, want, 3) != 0)
			continue;
		n++;
		rc = h->handler == HH_RDE ? rxe(h, i) : h->handler == HH_RDS ? rxd(h, i) : rxa(h, i, 0);
		if (rc < 0)
			return rc;
	}
	if (!n)
		return hx_missing(h, want, E_MISSING, NULL);
	return 0;
}
