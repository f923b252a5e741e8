/*
 * hl7_adt.c - patients and encounters: PID, PV1, ADT events, DG1/PR1/AL1,
 * PPR problems, profile-chosen Z-segment fields.
 *
 *   PID-3 (the profile's MRN repetition) -> person key "AUTHORITY|ID"
 *   PID-7/8/10/22 -> REC_PERSON, PID-11 -> REC_LOCATION, PID-29/30 -> REC_DEATH
 *   PV1-19 -> visit key, PV1-2/44/45 -> REC_VISIT, PV1-7/8/17 -> REC_PROVIDER
 *   A11 -> REC_RETRACT of the visit, A13 -> the visit without its end,
 *   A40 -> REC_MERGE (MRG-1 into PID-3)
 *   DG1 -> EV_CONDITION, PR1 -> EV_PROCEDURE, AL1 -> EV_ALLERGY,
 *   OBX in ADT -> EV_MEASUREMENT / EV_OBSERVATION, PRB -> EV_CONDITION
 *
 * Codes are emitted as written (system from the element, else the HL7 table
 * the field draws from, e.g. "HL70001" for PID-8); mapping is the loader's.
 */
#include "etl/extract/hl7_int.h"
#include "core/mem.h"

#include <string.h>

/*
 * The components c[0 .. 5) of the CX repetition that starts at p (in the
 * field ending at end of segment s), cut in the same pass that looks for
 * the repetition's end: those missing empty at its end. Returns the
 * repetition separator that ends it, end for the last one, or NULL when the
 * five components end before the repetition does (its end not looked for).
 * As hx_comps of the repetition hl7_find_byte would cut.
 */
static const char *cx_comps(const struct hl7_msg *m, const struct hl7_seg *s, const char *p, const char *end,
                            struct span *c)
{
	const char *b = p, *lim = s->p + s->n;
	char cs = m->d.cs, rs = m->d.rs;
	size_t k = 0;
#ifdef __SSE2__
	/* no repetition separator: look for the component separator twice */
	const __m128i vc = m->vcs, vr = rs ? m->vrs : m->vcs;
	for (; b < end && lim - b >= 16; b += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)b);
		unsigned mk = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vr)));
		if (end - b < 16)
			mk &= (1u << (end - b)) - 1;
		for (; mk; mk &= mk - 1) {
			const char *q = b + __builtin_ctz(mk);
			c[k++] = span_make(p, (size_t)(q - p));
			if (rs && *q == rs) {
				end = q;
				goto done;
			}
			if (k == 5)
				return NULL;
			p = q + 1;
		}
	}
#endif
	for (; b < end; b++) {
		if (rs && *b == rs) {
			end = b;
			break;
		}
		if (*b == cs) {
			c[k++] = span_make(p, (size_t)(b - p));
			if (k == 5)
				return NULL;
			p = b + 1;
		}
	}
	c[k++] = span_make(p, (size_t)(end - p));
done:
	for (; k < 5; k++)
		c[k] = span_make(end, 0);
	return end;
}

/*
 * The identifier repetition of a CX field (PID-3, MRG-1) that the profile
 * designates: mrn_repetition, else the first repetition whose type (CX.5) is
 * in mrn_types (in their order), else the first with an id if mrn_fallback =
 * first. Walks the repetitions once (a field may hold very many), and stops
 * at one that nothing after it can beat (mrn_repetition, or the first of
 * the first type): its components, already cut, make the key. Each
 * repetition's end is looked for only when the walk goes on past it.
 */
static int pick_id(struct hx *h, struct hl7_seg *s, int f, struct span *key)
{
	const struct hl7_prof *p = &h->x->prof;
	struct hl7_msg *m = h->m;
	struct span v = hl7_field(m, s, (unsigned)f);
	/* repetitions found (their bytes, not cut out again); p == NULL: none */
	struct span best[8], first = span_make(NULL, 0), chosen = span_make(NULL, 0), c[5];
	for (size_t i = 0; i < 8; i++)
		best[i] = span_make(NULL, 0);
	*key = span_make(NULL, 0);
	if (v.n == 0)
		return 0;
	const char *q = v.p, *end = v.p + v.n;
	int rep = 0;
	for (;;) {
		const char *r = cx_comps(m, s, q, end, c);
		rep++;
		struct span id = hx_trim(c[0]), type = span_make(NULL, 0);
		int has_id = id.n && !(id.n == 2 && id.p[0] == '"');
		if (has_id) {
			if (p->mrn_rep == rep)
				return hx_cx_key_of(h, s, f, c, key);
			type = hx_trim(c[4]);
			if (p->mrn_rep <= 0 && p->nmrn && type.n == p->mrn_len[0] && mem_eq_short(type.p, p->mrn_types[0], type.n))
				return hx_cx_key_of(h, s, f, c, key); /* best[0]: chosen */
		}
		if (!r) /* the five components end before the repetition */
			r = m->d.rs ? hl7_find_byte(c[4].p + c[4].n, end, m->d.rs) : NULL;
		if (!r)
			r = end;
		if (has_id) {
			struct span one = span_make(q, (size_t)(r - q));
			if (!first.p)
				first = one;
			for (size_t i = 0; i < p->nmrn; i++) {
				if (best[i].p || type.n != p->mrn_len[i] || !mem_eq_short(type.p, p->mrn_types[i], type.n))
					continue;
				best[i] = one;
			}
		}
		if (r == end)
			break;
		q = r + 1;
	}
	if (p->mrn_rep <= 0) {
		for (size_t i = 0; i < p->nmrn && !chosen.p; i++)
			chosen = best[i];
		if (!chosen.p && p->mrn_first)
			chosen = first;
	}
	if (!chosen.p)
		return 0;
	hx_comps(m, s, chosen, c, 4);
	return hx_cx_key_of(h, s, f, c, key);
}

/* The XAD components read as parts of a location, in this order */
static const int xad_comp[7] = { 1, 2, 3, 4, 5, 9, 6 };

/* The parts of a location from the components raw[0 .. nc) of an XAD
 * repetition in SEG-f: unescaped and trimmed, the street (SAD) with its
 * subcomponents joined. */
static int location_parts(struct hx *h, struct hl7_seg *s, int f, const struct span *raw, size_t nc, struct span *part)
{
	int rc;
	for (int i = 0; i < 7; i++) {
		/* SAD (street) may have subcomponents: street address & street name & number */
		struct span r = (size_t)xad_comp[i] <= nc ? raw[xad_comp[i] - 1] : span_make(NULL, 0);
		if (hx_tx(h, s, r, &part[i]) < 0)
			return hx_fail(h, s, f, xad_comp[i], E_ENCODING, "%s", h->e->msg);
		if (i == 0 && h->m->d.ss && !(s->clean && s->nosub) && memchr(part[0].p, h->m->d.ss, part[0].n)) {
			char *o = arena_alloc(h->a, part[0].n + 1);
			size_t k = 0;
			for (int j = 1; j <= 3; j++) {
				struct span sub;
				if ((rc = hx_text(h, s, f, 1, 1, j, &sub)) < 0)
					return rc;
				sub = hx_trim(sub);
				if (!sub.n)
					continue;
				if (k)
					o[k++] = ' ';
				memcpy(o + k, sub.p, sub.n);
				k += sub.n;
			}
			part[0] = span_make(o, k);
		}
		part[i] = hx_trim(part[i]);
	}
	return 0;
}

/* REC_LOCATION from an XAD repetition; *key empty when it holds no address. */
static int location(struct hx *h, struct hl7_seg *s, int f, struct span *key)
{
	struct span part[7], raw[9];
	int rc;
	*key = span_make(NULL, 0);
	struct span rep = hx_raw(h, s, f, 1, 0, 0);
	if (!rep.n)
		return 0;
	size_t nc = hx_comps_n(h->m, s, rep, raw, 9);
	if (s->clean && s->nosub) {
		/* no escapes, high bytes or subcomponents: the components are the parts */
#pragma GCC unroll 7 /* constant components: no table read */
		for (int i = 0; i < 7; i++)
			part[i] = (size_t)xad_comp[i] <= nc ? hx_trim_nul(raw[xad_comp[i] - 1]) : span_make(NULL, 0);
	} else if ((rc = location_parts(h, s, f, raw, nc, part)) < 0) {
		return rc;
	}
	if (!part[0].n && !part[2].n && !part[3].n && !part[4].n)
		return 0;
	struct span kp[6] = { SPAN_LIT("loc"), part[0], part[2], part[3], part[4], part[6] };
	*key = hx_join(h, 6, kp);
	struct record r;
	hx_record(h, &r, REC_LOCATION);
	r.u.location.key = *key;
	r.u.location.address_1 = part[0];
	r.u.location.address_2 = part[1];
	r.u.location.city = part[2];
	r.u.location.state = part[3];
	r.u.location.zip = part[4];
	r.u.location.county = part[5];
	r.u.location.country = part[6];
	return hx_emit(h, &r);
}

int hx_pid(struct hx *h, struct hl7_seg *pid, int emit)
{
	int rc;
	struct span key;
	hl7_split_to(h->m, pid, 30); /* the fields read below, in one go */
	if ((rc = pick_id(h, pid, 3, &key)) < 0)
		return rc;
	if (!key.n && (rc = pick_id(h, pid, 2, &key)) < 0) /* v2.1-2.3 external id */
		return rc;
	if (!key.n)
		return hx_fail(h, pid, 3, 0, E_NO_PATIENT, "no usable patient identifier (PID-3 by the profile's identifier types, PID-2)");
	h->person = key;
	if (!emit)
		return 0;

	struct record r;
	hx_record(h, &r, REC_PERSON);
	struct rec_person *p = &r.u.person;
	p->key = key;
	if ((rc = hx_date(h, pid, 7, 1, &p->birth)) < 0 ||
	    (rc = hx_code_memo(h, pid, 8, "HL70001", &h->x->pid8, &p->gender)) < 0 ||
	    (rc = hx_code_memo(h, pid, 10, "HL70005", &h->x->pid10, &p->race)) < 0 ||
	    (rc = hx_code_memo(h, pid, 22, "HL70189", &h->x->pid22, &p->ethnicity)) < 0 ||
	    (rc = location(h, pid, 11, &p->location)) < 0)
		return rc;
	struct hl7_seg *pd1 = hx_find(h, hx_index(h, pid) + 1, "PD1", "PID");
	if (pd1 && (rc = hx_provider(h, pd1, 4, &p->provider)) < 0)
		return rc;
	if ((rc = hx_emit(h, &r)) < 0)
		return rc;

	/* PID-29, PID-30: empty in most messages */
	struct span f29 = hl7_field(h->m, pid, 29);
	if (!f29.n && !hl7_field(h->m, pid, 30).n)
		return 0;
	struct dt death; /* f29 parsed (hx_date's look at the date parsed last spared: rarely this one) */
	if ((rc = hx_date_parse(h, pid, 29, 1, f29, &death)) < 0)
		return rc;
	struct span ind = hx_trim(hx_raw(h, pid, 30, 1, 0, 0));
	if (death.prec != DT_NONE) {
		hx_record(h, &r, REC_DEATH);
		r.u.death.person = key;
		r.u.death.date = death;
		r.u.death.origin = ORIG_EHR;
		return hx_emit(h, &r);
	}
	if (span_eq_str(ind, "Y"))
		hx_note(h, "death indicator without a date (PID-30 Y, PID-29 empty)");
	return 0;
}

int hx_patient(struct hx *h, int emit)
{
	struct hl7_seg *pid = hx_find(h, 1, "PID", NULL);
	if (!pid)
		return hx_missing(h, "PID", E_NO_PATIENT, NULL);
	return hx_pid(h, pid, emit);
}

/* A fallback date for events that carry none of their own. */
static int msg_date(struct hx *h, struct dt *d)
{
	int rc;
	*d = DT_EMPTY;
	if (h->evn && (rc = hx_date(h, h->evn, 2, 1, d)) < 0)
		return rc;
	if (d->prec == DT_NONE && (rc = hx_date(h, h->msh, 7, 1, d)) < 0)
		return rc;
	return 0;
}

static int visit(struct hx *h, struct hl7_seg *pv1, struct dt *start_out)
{
	int rc;
	struct record r;
	hx_record(h, &r, REC_VISIT);
	struct rec_visit *v = &r.u.visit;
	v->key = h->visit;
	v->person = h->person;
	v->origin = ORIG_EHR_ENCOUNTER;
	if ((rc = hx_code_memo(h, pv1, 2, "HL70004", &h->x->pv1_2, &v->cls)) < 0 ||
	    (rc = hx_date(h, pv1, 44, 1, &v->start)) < 0 ||
	    (rc = hx_date(h, pv1, 45, 1, &v->end)) < 0 ||
	    (rc = hx_code(h, pv1, 14, 1, "HL70023", &v->admitted_from, NULL)) < 0 ||
	    (rc = hx_code(h, pv1, 36, 1, "HL70112", &v->discharged_to, NULL)) < 0)
		return rc;
	if (v->start.prec == DT_NONE && h->evn &&
	    (strcmp(h->trigger, "A01") == 0 || strcmp(h->trigger, "A04") == 0)) {
		if ((rc = hx_date(h, h->evn, 6, 1, &v->start)) < 0)
			return rc;
		if (v->start.prec == DT_NONE && (rc = hx_date(h, h->evn, 2, 1, &v->start)) < 0)
			return rc;
	}
	if (h->handler == HH_ADT_UNDISCHARGE)
		v->end = DT_EMPTY;
	struct span other;
	if ((rc = hx_provider(h, pv1, 7, &v->provider)) < 0 ||
	    (rc = hx_provider(h, pv1, 8, &other)) < 0 ||
	    (rc = hx_provider(h, pv1, 17, &other)) < 0)
		return rc;
	*start_out = v->start;
	if (!v->key.n) {
		/* a visit is known by its number only: events keep the person */
		hx_note(h, "visit without a visit number (PV1-19): not loaded");
		return 0;
	}
	return hx_emit(h, &r);
}

/* The date of an event: its own field, else the visit start, else EVN-2 / MSH-7. */
static int event_date(struct hx *h, struct hl7_seg *s, int f, struct dt vstart, struct dt *out)
{
	int rc = hx_date(h, s, f, 1, out);
	if (rc < 0)
		return rc;
	if (out->prec == DT_NONE)
		*out = vstart;
	if (out->prec == DT_NONE)
		return msg_date(h, out);
	return 0;
}

/* DG1, PR1, AL1: code field cf, coding-method field mf (older versions), text field tf */
static int coded_event(struct hx *h, struct hl7_seg *s, int cf, int mf, int tf, struct code *c, struct code *alt)
{
	int rc;
	struct span method = mf ? hx_trim(hx_raw(h, s, mf, 1, 1, 0)) : span_make(NULL, 0);
	char dflt[32] = "";
	if (method.n && method.n < sizeof dflt && !memchr(method.p, h->m->d.es ? h->m->d.es : '\\', method.n))
		memcpy(dflt, method.p, method.n);
	if ((rc = hx_code(h, s, cf, 1, dflt[0] ? arena_strdup(h->a, dflt) : NULL, c, alt)) < 0)
		return rc;
	if (!c->code.n && !c->display.n && tf && (rc = hx_text(h, s, tf, 1, 0, 0, &c->display)) < 0)
		return rc;
	return 0;
}

static int adt_events(struct hx *h, struct dt vstart)
{
	int rc;
	struct span owner = h->visit.n ? h->visit : h->person;
	for (size_t i = 1; i < h->m->nseg; i++) {
		struct hl7_seg *s = &h->m->seg[i];
		struct record r;
		struct rec_event *ev = &r.u.event;
		if (memcmp(s->id, "DG1", 3) == 0) {
			hx_record(h, &r, REC_EVENT);
			ev->kind = EV_CONDITION;
			ev->origin = ORIG_EHR_ENCOUNTER;
			if ((rc = coded_event(h, s, 3, 2, 4, &ev->code, &ev->code_alt)) < 0 ||
			    (rc = event_date(h, s, 5, vstart, &ev->start)) < 0 ||
			    (rc = hx_code(h, s, 6, 1, "HL70052", &ev->qualifier, NULL)) < 0 ||
			    (rc = hx_provider(h, s, 16, &ev->provider)) < 0)
				return rc;
			if (!ev->code.code.n && !ev->code_alt.code.n && !ev->code.display.n) {
				hx_note(h, "DG1 without a diagnosis code or text");
				continue;
			}
			struct span kp[6] = { SPAN_LIT("dg1"), owner, ev->code.system, ev->code.code,
			                      ev->code.code.n ? span_make(NULL, 0) : ev->code.display, ev->qualifier.code };
			ev->key = hx_join(h, 6, kp);
		} else if (memcmp(s->id, "PR1", 3) == 0) {
			hx_record(h, &r, REC_EVENT);
			ev->kind = EV_PROCEDURE;
			ev->origin = ORIG_EHR;
			if ((rc = coded_event(h, s, 3, 2, 4, &ev->code, &ev->code_alt)) < 0 ||
			    (rc = event_date(h, s, 5, vstart, &ev->start)) < 0 ||
			    (rc = hx_provider(h, s, 11, &ev->provider)) < 0)
				return rc;
			if (!ev->provider.n && (rc = hx_provider(h, s, 12, &ev->provider)) < 0)
				return rc;
			if (!ev->code.code.n && !ev->code_alt.code.n && !ev->code.display.n) {
				hx_note(h, "PR1 without a procedure code or text");
				continue;
			}
			struct span kp[6] = { SPAN_LIT("pr1"), owner, ev->code.system, ev->code.code,
			                      ev->code.code.n ? span_make(NULL, 0) : ev->code.display,
			                      hx_trim(hx_raw(h, s, 5, 1, 1, 0)) };
			ev->key = hx_join(h, 6, kp);
		} else if (memcmp(s->id, "AL1", 3) == 0) {
			hx_record(h, &r, REC_EVENT);
			ev->kind = EV_ALLERGY;
			ev->origin = ORIG_EHR;
			if ((rc = coded_event(h, s, 3, 0, 0, &ev->code, &ev->code_alt)) < 0 ||
			    (rc = event_date(h, s, 6, vstart, &ev->start)) < 0 ||
			    (rc = hx_code(h, s, 4, 1, "HL70128", &ev->qualifier, NULL)) < 0 ||
			    (rc = hx_text(h, s, 5, 1, 0, 0, &ev->value.text)) < 0)
				return rc;
			if (ev->value.text.n)
				ev->value.kind = VAL_TEXT;
			if (!ev->code.code.n && !ev->code_alt.code.n && !ev->code.display.n) {
				hx_note(h, "AL1 without an allergen");
				continue;
			}
			struct span kp[5] = { SPAN_LIT("al1"), h->person, ev->code.system, ev->code.code,
			                      ev->code.code.n ? span_make(NULL, 0) : ev->code.display };
			ev->key = hx_join(h, 5, kp);
		} else if (memcmp(s->id, "OBX", 3) == 0) {
			if ((rc = hx_obx(h, s, 0, ORIG_EHR)) < 0)
				return rc;
			continue;
		} else {
			continue;
		}
		ev->person = h->person;
		ev->visit = h->visit;
		if ((rc = hx_emit(h, &r)) < 0)
			return rc;
	}
	return 0;
}

static int merge(struct hx *h)
{
	int rc, n = 0;
	for (size_t i = 1; i < h->m->nseg; i++) {
		struct hl7_seg *pid = &h->m->seg[i];
		if (memcmp(pid->id, "PID", 3) != 0)
			continue;
		if ((rc = hx_pid(h, pid, 1)) < 0)
			return rc;
		struct hl7_seg *mrg = hx_find(h, i + 1, "MRG", "PID");
		if (!mrg)
			return hx_fail(h, pid, 0, 0, E_MISSING, "a merge needs an MRG segment after each PID");
		struct span from;
		if ((rc = pick_id(h, mrg, 1, &from)) < 0)
			return rc;
		if (!from.n)
			return hx_fail(h, mrg, 1, 0, E_NO_PATIENT, "no usable prior patient identifier");
		struct record r;
		hx_record(h, &r, REC_MERGE);
		r.u.merge.from = from;
		r.u.merge.to = h->person;
		if ((rc = hx_emit(h, &r)) < 0)
			return rc;
		n++;
	}
	if (!n)
		return hx_missing(h, "PID", E_NO_PATIENT, NULL);
	return 0;
}

int hx_adt(struct hx *h)
{
	int rc;
	if (h->handler == HH_ADT_MERGE)
		return merge(h);
	if ((rc = hx_patient(h, 1)) < 0)
		return rc;
	struct hl7_seg *pv1 = hx_find(h, 1, "PV1", NULL);
	struct dt vstart = DT_EMPTY;
	int visit_read = pv1 && h->handler != HH_ADT_PERSON && h->handler != HH_ADT_CANCEL;
	if (visit_read)
		hl7_split_to(h->m, pv1, 45); /* the fields visit() reads, in one go (PV1-19 too) */
	if (pv1 && (rc = hx_cx_key(h, pv1, 19, 1, &h->visit)) < 0)
		return rc;
	if (h->handler == HH_ADT_CANCEL) {
		if (!pv1)
			return hx_missing(h, "PV1", E_MISSING, "a cancelled visit needs a PV1 with its visit number (PV1-19)");
		if (!h->visit.n)
			return hx_fail(h, pv1, 19, 0, E_MISSING, "a cancelled visit needs its visit number (PV1-19)");
		struct record r;
		hx_record(h, &r, REC_RETRACT);
		r.u.retract.target = REC_VISIT;
		r.u.retract.key = h->visit;
		hx_note(h, "visit cancelled");
		return hx_emit(h, &r);
	}
	if (visit_read && (rc = visit(h, pv1, &vstart)) < 0)
		return rc;
	return adt_events(h, vstart);
}

int hx_ppr(struct hx *h)
{
	int rc;
	if ((rc = hx_patient(h, 1)) < 0)
		return rc;
	struct hl7_seg *pv1 = hx_find(h, 1, "PV1", NULL);
	if (pv1 && (rc = hx_cx_key(h, pv1, 19, 1, &h->visit)) < 0)
		return rc;
	for (size_t i = 1; i < h->m->nseg; i++) {
		struct hl7_seg *s = &h->m->seg[i];
		if (memcmp(s->id, "PID", 3) == 0 && i > 1) {
			if ((rc = hx_pid(h, s, 1)) < 0)
				return rc;
			continue;
		}
		if (memcmp(s->id, "PRB", 3) != 0)
			continue;
		struct record r;
		struct rec_event *ev = &r.u.event;
		hx_record(h, &r, REC_EVENT);
		ev->kind = EV_CONDITION;
		ev->origin = ORIG_PROBLEM_LIST;
		ev->person = h->person;
		ev->visit = h->visit;
		struct span inst, action = hx_trim(hx_raw(h, s, 1, 1, 1, 0));
		if ((rc = hx_code(h, s, 3, 1, NULL, &ev->code, &ev->code_alt)) < 0 ||
		    (rc = hx_ei_key(h, s, 4, &inst)) < 0)
			return rc;
		if (!ev->code.code.n && !ev->code_alt.code.n && !ev->code.display.n && !span_eq_str(action, "DE"))
			return hx_fail(h, s, 3, 0, E_CODE, "a problem without a code or text");
		struct span kp[4] = { SPAN_LIT("prb"), h->person, inst, span_make(NULL, 0) };
		if (!inst.n) {
			struct span kc[2] = { ev->code.system, ev->code.code.n ? ev->code.code : ev->code.display };
			kp[3] = hx_join(h, 2, kc);
		}
		ev->key = hx_join(h, 4, kp);
		if (span_eq_str(action, "DE")) {
			struct span rkey = ev->key; /* hx_record clears the union */
			hx_record(h, &r, REC_RETRACT);
			r.u.retract.target = REC_EVENT;
			r.u.retract.key = rkey;
			hx_note(h, "problem deleted (PRB-1 DE)");
			if ((rc = hx_emit(h, &r)) < 0)
				return rc;
			continue;
		}
		if ((rc = hx_date(h, s, 16, 1, &ev->start)) < 0)
			return rc;
		if (ev->start.prec == DT_NONE && (rc = hx_date(h, s, 7, 1, &ev->start)) < 0)
			return rc;
		if (ev->start.prec == DT_NONE && (rc = hx_date(h, s, 2, 1, &ev->start)) < 0)
			return rc;
		if (ev->start.prec == DT_NONE)
			return hx_fail(h, s, 16, 0, E_MISSING, "a problem without a date (PRB-16, PRB-7, PRB-2)");
		if ((rc = hx_date(h, s, 9, 1, &ev->end)) < 0 ||
		    (rc = hx_code(h, s, 14, 1, NULL, &ev->qualifier, NULL)) < 0)
			return rc;
		if ((rc = hx_emit(h, &r)) < 0)
			return rc;
	}
	return 0;
}

int hx_zfields(struct hx *h)
{
	const struct hl7_prof *p = &h->x->prof;
	int rc;
	if (!h->person.n)
		return 0;
	for (size_t z = 0; z < p->nz; z++) {
		const struct hl7_zfield *zf = &p->z[z];
		struct hl7_seg *ds = hx_find(h, 0, zf->date_seg, NULL);
		/* the occurrence of s's id (hl7_seg_ord of s), counted as the
		 * segments go by */
		unsigned ord = memcmp(h->m->seg[0].id, zf->seg, 3) == 0;
		for (size_t i = 1; i < h->m->nseg; i++) {
			struct hl7_seg *s = &h->m->seg[i];
			if (memcmp(s->id, zf->seg, 3) != 0)
				continue;
			ord++;
			struct record r;
			struct rec_event *ev = &r.u.event;
			hx_record(h, &r, REC_EVENT);
			ev->kind = zf->kind;
			ev->origin = ORIG_EHR;
			ev->person = h->person;
			ev->visit = h->visit;
			ev->code.system = span_of(zf->system);
			ev->code.code = span_of(zf->code);
			ev->code.display = span_of(zf->display);
			struct span raw = hx_trim(hx_raw(h, s, zf->field, 1, zf->comp, 0));
			if (!raw.n || (raw.n == 2 && raw.p[0] == '"'))
				continue;
			if (zf->value == VAL_CODED && !zf->comp) {
				if ((rc = hx_code(h, s, zf->field, 1, NULL, &ev->value.coded, NULL)) < 0)
					return rc;
				ev->value.kind = VAL_CODED;
			} else {
				if ((rc = hx_text(h, s, zf->field, 1, zf->comp, 0, &ev->value.text)) < 0)
					return rc;
				ev->value.kind = VAL_TEXT;
				if (zf->value == VAL_NUM) {
					if (hx_number(ev->value.text, &ev->value.num) < 0)
						return hx_fail(h, s, zf->field, zf->comp, E_VALUE, "not a number");
					ev->value.kind = VAL_NUM;
				}
			}
			if (ds && (rc = hx_date(h, ds, zf->date_field, 1, &ev->start)) < 0)
				return rc;
			if (ev->start.prec == DT_NONE && (rc = msg_date(h, &ev->start)) < 0)
				return rc;
			char ref[16];
			snprintf(ref, sizeof ref, "%s-%d.%d", zf->seg, zf->field, zf->comp);
			char nth[12];
			snprintf(nth, sizeof nth, "%u", ord);
			struct span kp[4] = { SPAN_LIT("z"), h->person, span_of(arena_strdup(h->a, ref)),
			                      span_of(arena_strdup(h->a, nth)) };
			ev->key = hx_join(h, 4, kp);
			if ((rc = hx_emit(h, &r)) < 0)
				return rc;
		}
	}
	return 0;
}
