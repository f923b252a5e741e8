/*
 * ccda_hdr.c - the C-CDA header: who the document is about and who made it.
 *
 *   id                             -> the document's source id (ROOT|EXTENSION)
 *   recordTarget/patientRole       -> REC_PERSON (key ROOT|EXTENSION of the first
 *                                     id whose root the profile does not ignore),
 *                                     addr -> REC_LOCATION,
 *                                     sdtc:deceasedInd/deceasedTime -> REC_DEATH
 *   author/assignedAuthor          -> REC_PROVIDER (people, not devices)
 *   documentationOf/serviceEvent/performer -> REC_PROVIDER; functionCode PCP is
 *                                     the person's primary care provider
 *   custodian/.../representedCustodianOrganization -> REC_CARE_SITE, the
 *                                     person's care site
 *   componentOf/encompassingEncounter -> REC_VISIT
 *
 * The person record waits in the document context until the body starts
 * (ccda_person): the custodian and the performers come after recordTarget.
 */
#include "etl/extract/ccda_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

#define OID_ACTCODE "2.16.840.1.113883.5.4"

static int secondary_root(struct cx *c, struct span root)
{
	const struct ccda_prof *p = &c->x->prof;
	for (size_t i = 0; i < p->nsecondary; i++)
		if (span_eq_str(root, p->secondary_roots[i]))
			return 1;
	return 0;
}

/* "loc|street|city|state|zip|country" (the HL7 extractor's location key). */
static struct span loc_key(struct cx *c, const struct span *part, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len = mem_add(len, part[i].n + 1);
	char *o = arena_alloc(c->a, len + 1), *w = o;
	memcpy(w, "loc", 3);
	w += 3;
	for (size_t i = 0; i < n; i++) {
		*w++ = '|';
		if (part[i].n)
			memcpy(w, part[i].p, part[i].n);
		w += part[i].n;
	}
	*w = '\0';
	return span_make(o, len);
}

/* REC_LOCATION from an AD; *key empty when it holds no address. */
static int address(struct cx *c, const xmlNode *ad, struct span *key)
{
	*key = SPAN_NULL;
	if (!ad || cx_null(ad))
		return 0;
	xmlNodePtr l1 = cx_child(ad, "streetAddressLine");
	struct span street = cx_text(c, l1), street2 = cx_text(c, cx_next(l1, "streetAddressLine"));
	struct span city = cx_text(c, cx_child(ad, "city")), state = cx_text(c, cx_child(ad, "state"));
	struct span zip = cx_text(c, cx_child(ad, "postalCode")), country = cx_text(c, cx_child(ad, "country"));
	if (!street.n && !city.n && !state.n && !zip.n)
		return 0;
	struct span parts[5] = { street, city, state, zip, country };
	*key = loc_key(c, parts, 5);
	if (!cx_first_use(c, REC_LOCATION, *key))
		return 0;
	struct record r;
	record_init(&r, REC_LOCATION);
	struct rec_location *l = &r.u.location;
	l->key = *key;
	l->address_1 = street;
	l->address_2 = street2;
	l->city = city;
	l->state = state;
	l->zip = zip;
	l->county = cx_text(c, cx_child(ad, "county"));
	l->country = country;
	return cx_emit(c, &r);
}

int ccda_need_person(struct cx *c, const xmlNode *at)
{
	if (c->person_key.n)
		return 0;
	if (!c->have_target) {
		int rc = cx_fail(c, at, E_NO_PATIENT, "no recordTarget (before the body): the document names no patient");
		snprintf(c->e->pos.where, sizeof c->e->pos.where, "/ClinicalDocument/recordTarget");
		return rc;
	}
	return cx_fail(c, at, E_NO_PATIENT, "recordTarget/patientRole has no usable id (root and extension)");
}

int ccda_record_target(struct cx *c, xmlNodePtr rt)
{
	int rc;
	if (c->have_target) {
		sink_note(c->s, "ccda: recordTarget after the first not loaded");
		return 0;
	}
	c->have_target = 1;
	xmlNodePtr pr = cx_child(rt, "patientRole");
	struct rec_person *p = &c->person.u.person;
	record_init(&c->person, REC_PERSON);

	/* the first id that is not a secondary one (an SSN), else the first secondary one */
	struct span second = SPAN_NULL;
	for (xmlNodePtr id = cx_child(pr, "id"); id && !p->key.n; id = cx_next(id, "id")) {
		if (!secondary_root(c, cx_attr(c, id, "root")))
			p->key = cx_ii(c, id);
		else if (!second.n && c->x->prof.use_secondary)
			second = cx_ii(c, id);
	}
	if (!p->key.n)
		p->key = second;
	if (!p->key.n) {
		xmlNodePtr at = cx_child(pr, "id");
		return cx_fail(c, at ? at : pr ? pr : rt, E_NO_PATIENT,
		               "recordTarget/patientRole has no usable id (a root and extension, not a nullFlavor%s)",
		               c->x->prof.use_secondary ? "" : ", not a secondary root such as an SSN");
	}
	c->person_key = p->key;

	xmlNodePtr pt = cx_child(pr, "patient");
	cx_code(c, cx_child(pt, "administrativeGenderCode"), &p->gender, NULL);
	if ((rc = cx_ts(c, cx_child(pt, "birthTime"), &p->birth)) < 0)
		return rc;
	cx_code(c, cx_child(pt, "raceCode"), &p->race, NULL);
	if (!p->race.code.n)
		cx_code(c, cx_child_ns(pt, "raceCode", CX_NS_SDTC), &p->race, NULL);
	cx_code(c, cx_child(pt, "ethnicGroupCode"), &p->ethnicity, NULL);
	if (!p->ethnicity.code.n)
		cx_code(c, cx_child_ns(pt, "ethnicGroupCode", CX_NS_SDTC), &p->ethnicity, NULL);

	/* the home address, else the first */
	xmlNodePtr ad = cx_child(pr, "addr"), home = NULL;
	for (xmlNodePtr a = ad; a && !home; a = cx_next(a, "addr"))
		if (span_eq_str(cx_attr(c, a, "use"), "HP") || span_eq_str(cx_attr(c, a, "use"), "H"))
			home = a;
	if ((rc = address(c, home ? home : ad, &p->location)) < 0)
		return rc;

	/* death (SDTC extension) */
	xmlNodePtr dind = cx_child_ns(pt, "deceasedInd", CX_NS_SDTC), dtime = cx_child_ns(pt, "deceasedTime", CX_NS_SDTC);
	struct dt died = DT_EMPTY;
	if (dtime && (rc = cx_ts(c, dtime, &died)) < 0)
		return rc;
	if (died.prec != DT_NONE || cx_true(c, dind, "value")) {
		if (died.prec < DT_DAY) {
			sink_note(c->s, "ccda: deceased without a full date: death not loaded");
		} else {
			struct record d;
			record_init(&d, REC_DEATH);
			d.u.death.person = p->key;
			d.u.death.date = died;
			d.u.death.origin = ORIG_EHR;
			if ((rc = cx_emit(c, &d)) < 0)
				return rc;
		}
	}
	cx_keep(c, &c->person);
	c->person_key = p->key;
	return 0;
}

int ccda_document_id(struct cx *c, xmlNodePtr id)
{
	sink_source_id(c->s, cx_ii(c, id));
	return 0;
}

int ccda_author(struct cx *c, xmlNodePtr au)
{
	struct span key;
	return cx_provider(c, cx_child(au, "assignedAuthor"), &key);
}

int ccda_documentation_of(struct cx *c, xmlNodePtr d)
{
	int rc;
	xmlNodePtr se = cx_child(d, "serviceEvent");
	for (xmlNodePtr pf = cx_child(se, "performer"); pf; pf = cx_next(pf, "performer")) {
		struct span key;
		if ((rc = cx_provider(c, cx_child(pf, "assignedEntity"), &key)) < 0)
			return rc;
		struct span fn = cx_attr(c, cx_child(pf, "functionCode"), "code");
		if (key.n && span_eq_str(fn, "PCP") && !c->person.u.person.provider.n)
			c->person.u.person.provider = arena_span(c->a, key);
	}
	return 0;
}

/* REC_CARE_SITE from an organization (id, name); *key empty without an id. */
static int organization(struct cx *c, const xmlNode *org, const xmlNode *name_of, struct span *key)
{
	*key = cx_id(c, org);
	if (!key->n || !cx_first_use(c, REC_CARE_SITE, *key))
		return 0;
	struct record r;
	record_init(&r, REC_CARE_SITE);
	r.u.care_site.key = *key;
	r.u.care_site.name = cx_text(c, cx_child(name_of, "name"));
	return cx_emit(c, &r);
}

int ccda_custodian(struct cx *c, xmlNodePtr cu)
{
	xmlNodePtr org = cx_path(cu, "assignedCustodian", "representedCustodianOrganization", NULL);
	struct span key;
	int rc = organization(c, org, org, &key);
	if (rc == 0 && key.n && !c->person.u.person.care_site.n)
		c->person.u.person.care_site = key;
	return rc;
}

void ccda_visit_class(struct cx *c, const xmlNode *code, struct code *cls)
{
	memset(cls, 0, sizeof *cls);
	if (!code)
		return;
	if (!cx_null(code) && span_eq_str(cx_attr(c, code, "codeSystem"), OID_ACTCODE)) {
		cx_code(c, code, cls, NULL);
		return;
	}
	for (xmlNodePtr tr = cx_child(code, "translation"); tr; tr = cx_next(tr, "translation"))
		if (!cx_null(tr) && span_eq_str(cx_attr(c, tr, "codeSystem"), OID_ACTCODE)) {
			cx_code(c, tr, cls, NULL);
			return;
		}
	cx_code(c, code, cls, NULL);
}

int ccda_component_of(struct cx *c, xmlNodePtr co)
{
	int rc;
	xmlNodePtr ee = cx_child(co, "encompassingEncounter");
	if (!ee)
		return 0;
	if ((rc = ccda_need_person(c, ee)) < 0)
		return rc;
	struct record r;
	record_init(&r, REC_VISIT);
	struct rec_visit *v = &r.u.visit;
	v->key = cx_id(c, ee);
	if (!v->key.n) {
		sink_note(c->s, "ccda: encompassingEncounter without an id: visit not loaded");
		return 0;
	}
	v->person = c->person_key;
	v->origin = ORIG_EHR_ENCOUNTER;
	ccda_visit_class(c, cx_child(ee, "code"), &v->cls);
	if ((rc = cx_time(c, ee, &v->start, &v->end)) < 0)
		return rc;
	xmlNodePtr as = cx_path(ee, "responsibleParty", "assignedEntity", NULL);
	if (!as)
		as = cx_path(ee, "encounterParticipant", "assignedEntity", NULL);
	if ((rc = cx_provider(c, as, &v->provider)) < 0)
		return rc;
	xmlNodePtr hf = cx_path(ee, "location", "healthCareFacility", NULL);
	if ((rc = organization(c, hf, cx_child(hf, "location"), &v->care_site)) < 0)
		return rc;
	xmlNodePtr dd = cx_child(ee, "dischargeDispositionCode");
	cx_code(c, dd, &v->discharged_to, NULL);
	return cx_emit(c, &r);
}

int ccda_person(struct cx *c)
{
	int rc;
	if (c->person_done)
		return 0;
	if ((rc = ccda_need_person(c, NULL)) < 0)
		return rc;
	c->person_done = 1;
	return cx_emit(c, &c->person);
}
