/*
 * ccda_sec.c - C-CDA entries, by the kind of section they are in.
 *
 *   problems       act (Problem Concern) / entryRelationship / observation,
 *                  or a bare observation: value CD -> EV_CONDITION
 *                  (ORIG_PROBLEM_LIST); Problem Status value -> qualifier
 *   medications    substanceAdministration: manufacturedMaterial code ->
 *                  EV_DRUG (moodCode INT: prescription, EVN: EHR), route,
 *                  dose, supply order quantity and repeatNumber (refills)
 *   immunizations  substanceAdministration -> EV_IMMUNIZATION (CVX), lot,
 *                  dose; negationInd=true (not given) is not loaded
 *   results        organizer / component / observation, or a bare observation
 *                  -> EV_MEASUREMENT (ORIG_LAB): code, value (PQ with unit, CD,
 *                  ST ...), referenceRange
 *   vitals         the same, ORIG_EHR
 *   allergies      act / entryRelationship / observation: the participant's
 *                  playingEntity code (the substance), else the value ->
 *                  EV_ALLERGY
 *   encounters     encounter -> REC_VISIT; its Encounter Diagnosis acts ->
 *                  EV_CONDITION linked to it
 *   procedures     procedure, act or observation -> EV_PROCEDURE
 *   social         observation -> EV_OBSERVATION (an ASSERTION code takes
 *                  its value as the code)
 *
 * Keys: the clinical statement's id (ROOT|EXTENSION), empty without one.
 * An event links to its encounter when it is inside one or references one
 * (entryRelationship/encounter/id). What is left out on purpose (negated,
 * planned, cancelled, no code, no date) is counted with sink_note.
 */
#include "etl/extract/ccda_int.h"

#include <math.h>
#include <string.h>

#define OID_ACTCODE "2.16.840.1.113883.5.4"

/* ------------------------------------------------------------------------ */
/* common parts                                                              */

static struct span visit_of(struct cx *c, const xmlNode *act)
{
	if (c->enc_visit.n)
		return c->enc_visit;
	for (xmlNodePtr er = cx_child(act, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr en = cx_child(er, "encounter");
		if (en) {
			struct span k = cx_id(c, en);
			if (k.n)
				return k;
		}
	}
	return SPAN_NULL;
}

/* The performer of an act, else its author (people only). */
static int act_provider(struct cx *c, const xmlNode *act, struct span *key)
{
	int rc;
	*key = SPAN_NULL;
	for (xmlNodePtr pf = cx_child(act, "performer"); pf && !key->n; pf = cx_next(pf, "performer"))
		if ((rc = cx_provider(c, cx_child(pf, "assignedEntity"), key)) < 0)
			return rc;
	for (xmlNodePtr au = cx_child(act, "author"); au && !key->n; au = cx_next(au, "author"))
		if ((rc = cx_provider(c, cx_child(au, "assignedAuthor"), key)) < 0)
			return rc;
	return 0;
}

static struct rec_event *ev_start(struct cx *c, struct record *r, int kind, int origin, const xmlNode *act)
{
	record_init(r, REC_EVENT);
	struct rec_event *ev = &r->u.event;
	ev->kind = (uint8_t)kind;
	ev->origin = (uint8_t)origin;
	ev->person = c->person_key;
	ev->key = cx_id(c, act);
	ev->visit = visit_of(c, act);
	return ev;
}

/* Dates (the statement's author/time when it has none of its own) by the
 * profile's rule, the provider, and out. */
static int ev_finish(struct cx *c, struct record *r, const xmlNode *act, const char *no_date)
{
	int rc;
	struct rec_event *ev = &r->u.event;
	/* no time of its own: when it was recorded (author/time) */
	for (xmlNodePtr au = cx_child(act, "author"); au && ev->start.prec == DT_NONE; au = cx_next(au, "author"))
		if ((rc = cx_ts(c, cx_child(au, "time"), &ev->start)) < 0)
			return rc;
	if (!cx_event_dates(c, ev)) {
		sink_note(c->s, no_date);
		return 0;
	}
	if ((rc = act_provider(c, act, &ev->provider)) < 0)
		return rc;
	return cx_emit(c, r);
}

/* 1 (with a note) if the statement is negated or was not done. */
static int not_done(struct cx *c, const xmlNode *act, const char *negated, const char *cancelled)
{
	if (cx_true(c, act, "negationInd")) {
		sink_note(c->s, negated);
		return 1;
	}
	struct span st = cx_attr(c, cx_child(act, "statusCode"), "code");
	if (span_eq_str(st, "cancelled") || span_eq_str(st, "nullified") || span_eq_str(st, "aborted")) {
		sink_note(c->s, cancelled);
		return 1;
	}
	return 0;
}

/* 1 if the mood is an event (or not said). */
static int is_event(struct cx *c, const xmlNode *act)
{
	struct span m = cx_attr(c, act, "moodCode");
	return !m.n || span_eq_str(m, "EVN");
}

/* 1 if the observation carries one of the templates (a NULL-ended list). */
static int has_templ(struct cx *c, const xmlNode *o, const char *const *roots)
{
	for (size_t i = 0; roots[i]; i++)
		if (cx_templ(c, o, roots[i]))
			return 1;
	return 0;
}

/* Observations that sit beside the problem or allergy in a concern act and
 * are about it, not another one: status, severity, criticality, reaction,
 * age, prognosis (C-CDA 4.x and CCD 1.0 templates). */
static const char *const about_problem[] = {
	"2.16.840.1.113883.10.20.22.4.6", "2.16.840.1.113883.10.20.22.4.5", "2.16.840.1.113883.10.20.22.4.31",
	"2.16.840.1.113883.10.20.22.4.113", "2.16.840.1.113883.10.20.1.50", "2.16.840.1.113883.10.20.1.51",
	"2.16.840.1.113883.10.20.1.38", NULL
};
static const char *const about_allergy[] = {
	"2.16.840.1.113883.10.20.22.4.145", "2.16.840.1.113883.10.20.22.4.8", "2.16.840.1.113883.10.20.22.4.28",
	"2.16.840.1.113883.10.20.22.4.9", "2.16.840.1.113883.10.20.1.55", "2.16.840.1.113883.10.20.1.39",
	"2.16.840.1.113883.10.20.1.54", NULL
};

/* ------------------------------------------------------------------------ */
/* problems                                                                  */

static int problem_obs(struct cx *c, xmlNodePtr o, xmlNodePtr concern, int origin)
{
	int rc;
	if (not_done(c, o, "ccda: problem negated (negationInd=true): not loaded", "ccda: problem cancelled or nullified: not loaded"))
		return 0;
	if (!is_event(c, o)) {
		sink_note(c->s, "ccda: problem not an event (moodCode): not loaded");
		return 0;
	}
	struct record r;
	struct rec_event *ev = ev_start(c, &r, EV_CONDITION, origin, o);
	cx_code(c, cx_child(o, "value"), &ev->code, &ev->code_alt);
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, "ccda: problem without a code: not loaded");
		return 0;
	}
	if ((rc = cx_time(c, o, &ev->start, &ev->end)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && concern) {
		struct dt s, e;
		if ((rc = cx_time(c, concern, &s, &e)) < 0)
			return rc;
		ev->start = s;
	}
	for (xmlNodePtr er = cx_child(o, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr so = cx_child(er, "observation");
		if (so && (cx_templ(c, so, "2.16.840.1.113883.10.20.22.4.6") || cx_templ(c, so, "2.16.840.1.113883.10.20.1.50") ||
		           span_eq_str(cx_attr(c, cx_child(so, "code"), "code"), "33999-4"))) {
			cx_code(c, cx_child(so, "value"), &ev->qualifier, NULL);
			break;
		}
	}
	return ev_finish(c, &r, o, "ccda: problem without a date: not loaded");
}

/* A concern act's observations, or a bare observation. */
static int problem(struct cx *c, xmlNodePtr k, int origin)
{
	int rc, any = 0;
	if (cx_is(k, "observation"))
		return problem_obs(c, k, NULL, origin);
	if (!cx_is(k, "act")) {
		sink_note(c->s, "ccda: problem entry not understood: not loaded");
		return 0;
	}
	for (xmlNodePtr er = cx_child(k, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr o = cx_child(er, "observation");
		if (!o || has_templ(c, o, about_problem))
			continue;
		any = 1;
		if ((rc = problem_obs(c, o, k, origin)) < 0)
			return rc;
	}
	if (!any)
		sink_note(c->s, "ccda: problem act without an observation: not loaded");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* medications and immunizations                                             */

static int substance(struct cx *c, xmlNodePtr sa, int imm)
{
	int rc;
	if (!cx_is(sa, "substanceAdministration")) {
		sink_note(c->s, imm ? "ccda: immunization entry not understood: not loaded" : "ccda: medication entry not understood: not loaded");
		return 0;
	}
	if (imm ? not_done(c, sa, "ccda: immunization not given (negationInd=true): not loaded", "ccda: immunization cancelled or nullified: not loaded")
	        : not_done(c, sa, "ccda: medication not taken (negationInd=true): not loaded", "ccda: medication cancelled or nullified: not loaded"))
		return 0;
	struct span mood = cx_attr(c, sa, "moodCode");
	int origin;
	if (imm) {
		if (!is_event(c, sa)) {
			sink_note(c->s, "ccda: immunization planned, not given (moodCode): not loaded");
			return 0;
		}
		origin = ORIG_ADMINISTRATION;
	} else if (span_eq_str(mood, "INT")) {
		origin = ORIG_PRESCRIPTION;
	} else if (is_event(c, sa)) {
		origin = ORIG_EHR;
	} else {
		sink_note(c->s, "ccda: medication proposed or requested (moodCode): not loaded");
		return 0;
	}
	struct record r;
	struct rec_event *ev = ev_start(c, &r, imm ? EV_IMMUNIZATION : EV_DRUG, origin, sa);
	xmlNodePtr mm = cx_path(sa, "consumable", "manufacturedProduct", "manufacturedMaterial", NULL);
	cx_code(c, cx_child(mm, "code"), &ev->code, &ev->code_alt);
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, imm ? "ccda: immunization without a vaccine code: not loaded" : "ccda: medication without a drug code: not loaded");
		return 0;
	}
	if ((rc = cx_time(c, sa, &ev->start, &ev->end)) < 0)
		return rc;
	cx_code(c, cx_child(sa, "routeCode"), &ev->route, NULL);
	ev->lot = cx_text(c, cx_child(mm, "lotNumberText"));

	/* the amount: given (immunizations, administrations), else the supply order's */
	xmlNodePtr dose = cx_child(sa, "doseQuantity");
	double q;
	if ((imm || origin != ORIG_PRESCRIPTION) && dose && !cx_null(dose) &&
	    span_to_double(cx_attr(c, dose, "value"), &q) == 0 && isfinite(q)) {
		ev->quantity = q;
		ev->value.unit.code = cx_attr(c, dose, "unit");
	}
	for (xmlNodePtr er = cx_child(sa, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr sup = cx_child(er, "supply");
		if (!sup || !span_eq_str(cx_attr(c, sup, "moodCode"), "INT"))
			continue;
		xmlNodePtr qn = cx_child(sup, "quantity");
		if (isnan(ev->quantity) && qn && !cx_null(qn) && span_to_double(cx_attr(c, qn, "value"), &q) == 0 && isfinite(q)) {
			ev->quantity = q;
			ev->value.unit.code = cx_attr(c, qn, "unit");
		}
		int64_t rep;
		if (span_to_i64(cx_attr(c, cx_child(sup, "repeatNumber"), "value"), &rep) == 0 && rep >= 1 && rep <= 1000)
			ev->refills = (int32_t)(rep - 1);
		break;
	}
	return ev_finish(c, &r, sa, imm ? "ccda: immunization without a date: not loaded" : "ccda: medication without a start date: not loaded");
}

/* ------------------------------------------------------------------------ */
/* results and vital signs                                                   */

static int result_obs(struct cx *c, xmlNodePtr o, xmlNodePtr org, int origin)
{
	int rc;
	if (not_done(c, o, "ccda: result negated (negationInd=true): not loaded", "ccda: result cancelled or nullified: not loaded"))
		return 0;
	if (!is_event(c, o)) {
		sink_note(c->s, "ccda: result not an event (moodCode): not loaded");
		return 0;
	}
	struct record r;
	struct rec_event *ev = ev_start(c, &r, EV_MEASUREMENT, origin, o);
	if (!ev->visit.n && org)
		ev->visit = visit_of(c, org);
	cx_code(c, cx_child(o, "code"), &ev->code, &ev->code_alt);
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, "ccda: result without a code: not loaded");
		return 0;
	}
	cx_value(c, cx_child(o, "value"), &ev->value);
	xmlNodePtr rr = cx_path(o, "referenceRange", "observationRange", "value", NULL);
	if (rr && !cx_null(rr)) {
		xmlNodePtr lo = cx_child(rr, "low"), hi = cx_child(rr, "high");
		if (lo && !cx_null(lo) && span_to_double(cx_attr(c, lo, "value"), &ev->value.low) == 0)
			ev->value.has_low = 1;
		if (hi && !cx_null(hi) && span_to_double(cx_attr(c, hi, "value"), &ev->value.high) == 0)
			ev->value.has_high = 1;
	}
	if ((rc = cx_time(c, o, &ev->start, &ev->end)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && org) {
		struct dt s, e;
		if ((rc = cx_time(c, org, &s, &e)) < 0)
			return rc;
		ev->start = s;
	}
	if (!ev->provider.n && org && (rc = act_provider(c, org, &ev->provider)) < 0)
		return rc;
	return ev_finish(c, &r, o, "ccda: result without a date: not loaded");
}

static int organizer(struct cx *c, xmlNodePtr org, int origin, int level)
{
	int rc;
	if (not_done(c, org, "ccda: result organizer negated (negationInd=true): not loaded",
	             "ccda: result organizer cancelled or nullified: not loaded"))
		return 0;
	for (xmlNodePtr cp = cx_child(org, "component"); cp; cp = cx_next(cp, "component")) {
		xmlNodePtr k = cx_first_el(cp);
		for (; k; k = cx_next_el(k)) {
			if (cx_is(k, "observation"))
				rc = result_obs(c, k, org, origin);
			else if (cx_is(k, "organizer") && level < 4)
				rc = organizer(c, k, origin, level + 1);
			else
				continue;
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int result(struct cx *c, xmlNodePtr k, int origin)
{
	if (cx_is(k, "organizer"))
		return organizer(c, k, origin, 0);
	if (cx_is(k, "observation"))
		return result_obs(c, k, NULL, origin);
	sink_note(c->s, "ccda: result entry not understood: not loaded");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* allergies                                                                 */

static int allergy_obs(struct cx *c, xmlNodePtr o, xmlNodePtr concern)
{
	int rc;
	if (not_done(c, o, "ccda: allergy negated (no known allergy): not loaded", "ccda: allergy cancelled or nullified: not loaded"))
		return 0;
	struct record r;
	struct rec_event *ev = ev_start(c, &r, EV_ALLERGY, ORIG_EHR, o);
	for (xmlNodePtr pa = cx_child(o, "participant"); pa && !ev->code.code.n; pa = cx_next(pa, "participant"))
		cx_code(c, cx_path(pa, "participantRole", "playingEntity", "code", NULL), &ev->code, &ev->code_alt);
	struct code type, type_alt;
	cx_code(c, cx_child(o, "value"), &type, &type_alt);
	if (!ev->code.code.n) {
		/* no coded substance: the allergy's type is the code, the substance's name its value */
		if (type.code.n) {
			if (ev->code.display.n) {
				ev->value.kind = VAL_TEXT;
				ev->value.text = ev->code.display;
			}
			ev->code = type;
			ev->code_alt = type_alt;
		}
	} else if (type.code.n) {
		ev->value.kind = VAL_CODED;
		ev->value.coded = type;
	}
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, "ccda: allergy without a substance or allergy code: not loaded");
		return 0;
	}
	for (xmlNodePtr er = cx_child(o, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr so = cx_child(er, "observation");
		if (so && (cx_templ(c, so, "2.16.840.1.113883.10.20.22.4.8") || cx_templ(c, so, "2.16.840.1.113883.10.20.22.4.145"))) {
			cx_code(c, cx_child(so, "value"), &ev->qualifier, NULL);
			break;
		}
	}
	if ((rc = cx_time(c, o, &ev->start, &ev->end)) < 0)
		return rc;
	if (ev->start.prec == DT_NONE && concern) {
		struct dt s, e;
		if ((rc = cx_time(c, concern, &s, &e)) < 0)
			return rc;
		ev->start = s;
	}
	return ev_finish(c, &r, o, "ccda: allergy without a date: not loaded");
}

static int allergy(struct cx *c, xmlNodePtr k)
{
	int rc, any = 0;
	if (cx_is(k, "observation"))
		return allergy_obs(c, k, NULL);
	if (!cx_is(k, "act")) {
		sink_note(c->s, "ccda: allergy entry not understood: not loaded");
		return 0;
	}
	for (xmlNodePtr er = cx_child(k, "entryRelationship"); er; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr o = cx_child(er, "observation");
		if (!o || has_templ(c, o, about_allergy))
			continue;
		any = 1;
		if ((rc = allergy_obs(c, o, k)) < 0)
			return rc;
	}
	if (!any)
		sink_note(c->s, "ccda: allergy act without an observation: not loaded");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* encounters                                                                */

static int encounter(struct cx *c, xmlNodePtr en)
{
	int rc;
	if (!cx_is(en, "encounter")) {
		sink_note(c->s, "ccda: encounter entry not understood: not loaded");
		return 0;
	}
	if (not_done(c, en, "ccda: encounter negated (negationInd=true): not loaded", "ccda: encounter cancelled or nullified: not loaded"))
		return 0;
	if (!is_event(c, en)) {
		sink_note(c->s, "ccda: encounter planned (moodCode): not loaded");
		return 0;
	}
	struct record r;
	record_init(&r, REC_VISIT);
	struct rec_visit *v = &r.u.visit;
	v->key = cx_id(c, en);
	v->person = c->person_key;
	v->origin = ORIG_EHR_ENCOUNTER;
	if (v->key.n) {
		ccda_visit_class(c, cx_child(en, "code"), &v->cls);
		if ((rc = cx_time(c, en, &v->start, &v->end)) < 0)
			return rc;
		/* a start to the year or month: its first day, or (partial_start =
		 * not_loaded) none, so that the loader does not take its first day */
		if (v->start.prec != DT_NONE && v->start.prec < DT_DAY) {
			if (c->x->prof.partial_first_day)
				v->start.prec = DT_DAY;
			else
				v->start = DT_EMPTY;
		}
		if (v->end.prec != DT_NONE && v->end.prec < DT_DAY)
			v->end.prec = DT_DAY;
		for (xmlNodePtr pf = cx_child(en, "performer"); pf && !v->provider.n; pf = cx_next(pf, "performer"))
			if ((rc = cx_provider(c, cx_child(pf, "assignedEntity"), &v->provider)) < 0)
				return rc;
		for (xmlNodePtr pa = cx_child(en, "participant"); pa && !v->care_site.n; pa = cx_next(pa, "participant")) {
			if (!span_eq_str(cx_attr(c, pa, "typeCode"), "LOC"))
				continue;
			xmlNodePtr role = cx_child(pa, "participantRole");
			struct span key = cx_id(c, role);
			if (!key.n)
				continue;
			v->care_site = key;
			if (cx_first_use(c, REC_CARE_SITE, key)) {
				struct record cs;
				record_init(&cs, REC_CARE_SITE);
				cs.u.care_site.key = key;
				cs.u.care_site.name = cx_text(c, cx_path(role, "playingEntity", "name", NULL));
				cx_code(c, cx_child(role, "code"), &cs.u.care_site.place_of_service, NULL);
				if ((rc = cx_emit(c, &cs)) < 0)
					return rc;
			}
		}
		if ((rc = cx_emit(c, &r)) < 0)
			return rc;
	} else {
		sink_note(c->s, "ccda: encounter without an id: visit not loaded");
	}
	/* the encounter's diagnoses */
	c->enc_visit = v->key;
	rc = 0;
	for (xmlNodePtr er = cx_child(en, "entryRelationship"); er && rc == 0; er = cx_next(er, "entryRelationship")) {
		xmlNodePtr act = cx_child(er, "act"), o = cx_child(er, "observation");
		if (act && (cx_templ(c, act, "2.16.840.1.113883.10.20.22.4.80") ||
		            span_eq_str(cx_attr(c, cx_child(act, "code"), "code"), "29308-4")))
			rc = problem(c, act, ORIG_EHR_ENCOUNTER);
		else if (o && cx_templ(c, o, "2.16.840.1.113883.10.20.22.4.4"))
			rc = problem_obs(c, o, NULL, ORIG_EHR_ENCOUNTER);
	}
	c->enc_visit = SPAN_NULL;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* procedures and social history                                             */

static int procedure(struct cx *c, xmlNodePtr p)
{
	int rc;
	if (!cx_is(p, "procedure") && !cx_is(p, "act") && !cx_is(p, "observation")) {
		sink_note(c->s, "ccda: procedure entry not understood: not loaded");
		return 0;
	}
	if (not_done(c, p, "ccda: procedure negated (negationInd=true): not loaded", "ccda: procedure cancelled or nullified: not loaded"))
		return 0;
	if (!is_event(c, p)) {
		sink_note(c->s, "ccda: procedure planned (moodCode): not loaded");
		return 0;
	}
	struct record r;
	struct rec_event *ev = ev_start(c, &r, EV_PROCEDURE, ORIG_EHR, p);
	cx_code(c, cx_child(p, "code"), &ev->code, &ev->code_alt);
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, "ccda: procedure without a code: not loaded");
		return 0;
	}
	if ((rc = cx_time(c, p, &ev->start, &ev->end)) < 0)
		return rc;
	return ev_finish(c, &r, p, "ccda: procedure without a date: not loaded");
}

static int social(struct cx *c, xmlNodePtr o)
{
	int rc;
	if (!cx_is(o, "observation")) {
		sink_note(c->s, "ccda: social history entry not understood: not loaded");
		return 0;
	}
	if (not_done(c, o, "ccda: social history observation negated (negationInd=true): not loaded",
	             "ccda: social history observation cancelled or nullified: not loaded"))
		return 0;
	struct record r;
	struct rec_event *ev = ev_start(c, &r, EV_OBSERVATION, ORIG_EHR, o);
	cx_code(c, cx_child(o, "code"), &ev->code, &ev->code_alt);
	cx_value(c, cx_child(o, "value"), &ev->value);
	/* CCD 1.0 style: code ASSERTION, the finding in the value */
	if (span_eq_str(ev->code.system, OID_ACTCODE) && span_eq_str(ev->code.code, "ASSERTION") && ev->value.kind == VAL_CODED) {
		ev->code = ev->value.coded;
		memset(&ev->code_alt, 0, sizeof ev->code_alt);
		memset(&ev->value, 0, sizeof ev->value);
		ev->value.num = ev->value.low = ev->value.high = NAN;
	}
	if (!ev->code.code.n && !ev->code.display.n) {
		sink_note(c->s, "ccda: social history observation without a code: not loaded");
		return 0;
	}
	if ((rc = cx_time(c, o, &ev->start, &ev->end)) < 0)
		return rc;
	return ev_finish(c, &r, o, "ccda: social history observation without a date: not loaded");
}

/* ------------------------------------------------------------------------ */

int ccda_entry(struct cx *c, xmlNodePtr entry)
{
	int rc = 0;
	for (xmlNodePtr k = cx_first_el(entry); k && rc == 0; k = cx_next_el(k)) {
		if (cx_is(k, "templateId") || cx_is(k, "realmCode") || cx_is(k, "typeId"))
			continue;
		switch (c->sec) {
		case CS_PROBLEMS: rc = problem(c, k, ORIG_PROBLEM_LIST); break;
		case CS_MEDICATIONS: rc = substance(c, k, 0); break;
		case CS_IMMUNIZATIONS: rc = substance(c, k, 1); break;
		case CS_RESULTS: rc = result(c, k, ORIG_LAB); break;
		case CS_VITALS: rc = result(c, k, ORIG_EHR); break;
		case CS_ALLERGIES: rc = allergy(c, k); break;
		case CS_ENCOUNTERS: rc = encounter(c, k); break;
		case CS_PROCEDURES: rc = procedure(c, k); break;
		case CS_SOCIAL: rc = social(c, k); break;
		default: sink_note(c->s, "ccda: entry of a section not loaded"); break;
		}
	}
	return rc;
}
