/*
 * gen_ccda.c - a patient as a C-CDA Continuity of Care Document (one XML
 * document per patient: the encounter summary of all their visits), in two
 * vendor styles:
 *
 *   vendor-a  C-CDA R2.1 templates (extension 2015-08-01), times with a zone
 *             offset, LOINC / SNOMED CT / RxNorm / CVX by OID, problems with a
 *             translation to ICD-10-CM when the vendor bills with one.
 *   vendor-b  R1.1 templates (no extension), times without zone, lab results
 *             coded with the site's local lab code system (an OID of its own,
 *             which needs the site map) and a LOINC translation, drugs by NDC
 *             when they have one.
 *
 * Sections: allergies, medications, problems, results, vital signs,
 * immunizations, encounters. One document = one record. Broken documents:
 * cut in the middle (malformed XML), an impossible birthTime, or a result
 * coded in a code system nobody knows.
 */
#include "gen/gen_int.h"

#include <stdio.h>
#include <string.h>

struct cd {
	struct gen_out *o;
	int b;                     /* vendor B */
	int site_no;
	char site[40];
	char local_oid[64];
};

static void tstamp(struct cd *c, int32_t day, int32_t sec)
{
	go_date(c->o, day, 0);
	go_pad(c->o, (uint32_t)(sec / 3600), 2);
	go_pad(c->o, (uint32_t)(sec / 60 % 60), 2);
	go_pad(c->o, (uint32_t)(sec % 60), 2);
	if (!c->b)
		go_str(c->o, "-0500");
}

static void tmpl(struct cd *c, const char *root)
{
	go_str(c->o, "<templateId root=\"");
	go_str(c->o, root);
	go_str(c->o, c->b ? "\"/>" : "\" extension=\"2015-08-01\"/>");
}

static void attr(struct cd *c, const char *name, const char *v)
{
	go_chr(c->o, ' ');
	go_str(c->o, name);
	go_str(c->o, "=\"");
	go_xml(c->o, v);
	go_chr(c->o, '"');
}

/* <TAG code=".." codeSystem=".." displayName=".." (closed by the caller) */
static void code_open(struct cd *c, const char *tag, const char *code, const char *system, const char *display)
{
	go_chr(c->o, '<');
	go_str(c->o, tag);
	attr(c, "code", code);
	attr(c, "codeSystem", system);
	if (display)
		attr(c, "displayName", display);
}

static void id(struct cd *c, const char *kind, const struct gen_patient *p, int i, int k)
{
	go_str(c->o, "<id root=\"2.16.840.1.113883.19.5.99.5.");
	go_u64(c->o, (uint64_t)c->site_no);
	go_str(c->o, "\" extension=\"");
	go_str(c->o, kind);
	go_u64(c->o, p->mrn);
	go_chr(c->o, '-');
	go_u64(c->o, (uint64_t)i + 1);
	if (k >= 0) {
		go_chr(c->o, '-');
		go_u64(c->o, (uint64_t)k + 1);
	}
	go_str(c->o, "\"/>");
}

static void section(struct cd *c, const char *tmpl_root, const char *loinc, const char *title)
{
	go_str(c->o, "<component><section>");
	tmpl(c, tmpl_root);
	code_open(c, "code", loinc, GEN_OID_LOINC, title);
	go_str(c->o, "/><title>");
	go_str(c->o, title);
	go_str(c->o, "</title>");
}

static void section_end(struct cd *c) { go_str(c->o, "</section></component>\n"); }

static void pq(struct cd *c, double v, int decimals, const char *unit)
{
	go_str(c->o, " value=\"");
	go_fixed(c->o, v, decimals);
	go_str(c->o, "\" unit=\"");
	go_xml(c->o, unit);
	go_chr(c->o, '"');
}

static void header(struct cd *c, const struct gen_patient *p, int bad_date)
{
	struct gen_out *o = c->o;
	const struct gen_enc *first = &p->enc[0], *last = &p->enc[p->nenc - 1];
	go_str(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	          "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:sdtc=\"urn:hl7-org:sdtc\">\n"
	          "<realmCode code=\"US\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>");
	tmpl(c, "2.16.840.1.113883.10.20.22.1.1");
	tmpl(c, "2.16.840.1.113883.10.20.22.1.2");
	id(c, "D", p, 0, -1);
	go_str(o, "\n<code code=\"34133-9\" codeSystem=\"" GEN_OID_LOINC "\" codeSystemName=\"LOINC\" displayName=\"Summarization of Episode Note\"/>"
	          "<title>Continuity of Care Document</title><effectiveTime value=\"");
	tstamp(c, last->end_day, last->end_sec);
	go_str(o, "\"/><confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/><languageCode code=\"en-US\"/>\n"
	          "<recordTarget><patientRole><id root=\"2.16.840.1.113883.19.5.99.3.");
	go_u64(o, (uint64_t)c->site_no);
	go_str(o, "\" extension=\"");
	go_u64(o, p->mrn);
	go_str(o, "\" assigningAuthorityName=\"");
	go_str(o, c->site);
	go_str(o, "\"/><addr use=\"HP\"><streetAddressLine>");
	go_u64(o, p->house);
	go_chr(o, ' ');
	go_str(o, p->street);
	go_str(o, "</streetAddressLine><city>");
	go_str(o, p->city);
	go_str(o, "</city><state>IL</state><postalCode>");
	go_str(o, p->zip);
	go_str(o, "</postalCode><country>US</country></addr><telecom use=\"HP\" value=\"tel:+1-");
	go_str(o, p->phone);
	go_str(o, "\"/>\n<patient><name use=\"L\"><given>");
	go_str(o, p->first);
	go_str(o, "</given><family>");
	go_str(o, p->last);
	go_str(o, "</family></name><administrativeGenderCode code=\"");
	go_str(o, p->male ? "M\" codeSystem=\"2.16.840.1.113883.5.1\" displayName=\"Male\"/>" : "F\" codeSystem=\"2.16.840.1.113883.5.1\" displayName=\"Female\"/>");
	go_str(o, "<birthTime value=\"");
	if (bad_date)
		go_str(o, "20230230");
	else
		go_date(o, p->birth, 0);
	go_str(o, "\"/>");
	code_open(c, "raceCode", gen_races[p->race].cdc, "2.16.840.1.113883.6.238", gen_races[p->race].name);
	go_str(o, "/>");
	code_open(c, "ethnicGroupCode", p->hispanic ? "2135-2" : "2186-5", "2.16.840.1.113883.6.238",
	          p->hispanic ? "Hispanic or Latino" : "Not Hispanic or Latino");
	go_str(o, "/></patient></patientRole></recordTarget>\n<author><time value=\"");
	tstamp(c, last->end_day, last->end_sec);
	go_str(o, "\"/><assignedAuthor><id root=\"2.16.840.1.113883.4.6\" extension=\"1234567893\"/><assignedPerson><name><given>Marcus</given><family>Welby</family></name></assignedPerson></assignedAuthor></author>\n"
	          "<custodian><assignedCustodian><representedCustodianOrganization><id root=\"2.16.840.1.113883.19.5.99.4\" extension=\"");
	go_str(o, c->site);
	go_str(o, "\"/><name>");
	go_str(o, c->site);
	go_str(o, c->b ? " Medical Center (vendor B)" : " Hospital (vendor A)");
	go_str(o, "</name></representedCustodianOrganization></assignedCustodian></custodian>\n"
	          "<documentationOf><serviceEvent classCode=\"PCPR\"><effectiveTime><low value=\"");
	tstamp(c, first->day, first->sec);
	go_str(o, "\"/><high value=\"");
	tstamp(c, last->end_day, last->end_sec);
	go_str(o, "\"/></effectiveTime></serviceEvent></documentationOf>\n<component><structuredBody>\n");
}

static void allergies(struct cd *c, const struct gen_patient *p)
{
	struct gen_out *o = c->o;
	section(c, "2.16.840.1.113883.10.20.22.2.6.1", "48765-2", "Allergies and Adverse Reactions");
	go_str(o, p->nall ? "<text><list>" : "<text>No known allergies</text>");
	for (int i = 0; i < p->nall; i++) {
		go_str(o, "<item>");
		go_str(o, gen_allergies[p->all[i].allergy].name);
		go_str(o, "</item>");
	}
	if (p->nall)
		go_str(o, "</list></text>");
	for (int i = 0; i < p->nall; i++) {
		const struct gen_allergy *a = &gen_allergies[p->all[i].allergy];
		go_str(o, "\n<entry typeCode=\"DRIV\"><act classCode=\"ACT\" moodCode=\"EVN\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.30");
		id(c, "AC", p, i, -1);
		go_str(o, "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"active\"/><effectiveTime><low value=\"");
		go_date(o, p->all[i].day, 0);
		go_str(o, "\"/></effectiveTime><entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.7");
		id(c, "AL", p, i, -1);
		go_str(o, "<code code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/><statusCode code=\"completed\"/><effectiveTime><low value=\"");
		go_date(o, p->all[i].day, 0);
		go_str(o, "\"/></effectiveTime>");
		code_open(c, "value xsi:type=\"CD\"", a->snomed, GEN_OID_SNOMED, a->name);
		go_str(o, "/></observation></entryRelationship></act></entry>");
	}
	section_end(c);
}

static void medications(struct cd *c, const struct gen_patient *p)
{
	struct gen_out *o = c->o;
	section(c, "2.16.840.1.113883.10.20.22.2.1.1", "10160-0", "Medications");
	go_str(o, p->nmed ? "<text><list>" : "<text>No medications");
	for (int i = 0; i < p->nmed; i++) {
		go_str(o, "<item>");
		go_xml(o, gen_drugs[p->med[i].drug].name);
		go_str(o, "</item>");
	}
	go_str(o, p->nmed ? "</list></text>" : "</text>");
	for (int i = 0; i < p->nmed; i++) {
		const struct gen_medrec *m = &p->med[i];
		const struct gen_drug *d = &gen_drugs[m->drug];
		const struct gen_enc *en = &p->enc[m->enc];
		go_str(o, "\n<entry typeCode=\"DRIV\"><substanceAdministration classCode=\"SBADM\" moodCode=\"INT\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.16");
		id(c, "O", p, i, -1);
		go_str(o, "<statusCode code=\"completed\"/><effectiveTime xsi:type=\"IVL_TS\"><low value=\"");
		tstamp(c, m->start, en->end_sec);
		go_str(o, "\"/><high value=\"");
		tstamp(c, m->end, en->end_sec);
		go_str(o, "\"/></effectiveTime>");
		go_str(o, d->oral ? "<routeCode code=\"C38288\" codeSystem=\"2.16.840.1.113883.3.26.1.1\" displayName=\"ORAL\"/>"
		                  : "<routeCode code=\"C38216\" codeSystem=\"2.16.840.1.113883.3.26.1.1\" displayName=\"RESPIRATORY (INHALATION)\"/>");
		go_str(o, "<doseQuantity");
		pq(c, d->dose, d->dose < 1 ? 3 : 0, d->dose_unit);
		go_str(o, "/><consumable><manufacturedProduct classCode=\"MANU\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.23");
		go_str(o, "<manufacturedMaterial>");
		if (c->b && d->ndc)
			code_open(c, "code", d->ndc, GEN_OID_NDC, d->ndc_name);
		else
			code_open(c, "code", d->rxnorm, GEN_OID_RXNORM, d->name);
		go_str(o, "/></manufacturedMaterial></manufacturedProduct></consumable>");
		go_str(o, "<entryRelationship typeCode=\"REFR\"><supply classCode=\"SPLY\" moodCode=\"INT\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.17");
		go_str(o, "<statusCode code=\"completed\"/><repeatNumber value=\"");
		go_u64(o, (uint64_t)d->refills + 1);
		go_str(o, "\"/><quantity value=\"");
		go_u64(o, (uint64_t)d->qty);
		go_str(o, "\"/></supply></entryRelationship></substanceAdministration></entry>");
	}
	section_end(c);
}

static void problems(struct cd *c, const struct gen_patient *p)
{
	struct gen_out *o = c->o;
	section(c, "2.16.840.1.113883.10.20.22.2.5.1", "11450-4", "Problems");
	go_str(o, p->ncond ? "<text><list>" : "<text>No problems");
	for (int i = 0; i < p->ncond; i++) {
		go_str(o, "<item>");
		go_xml(o, gen_conds[p->cond[i].cond].name);
		go_str(o, "</item>");
	}
	go_str(o, p->ncond ? "</list></text>" : "</text>");
	for (int i = 0; i < p->ncond; i++) {
		const struct gen_condrec *cr = &p->cond[i];
		const struct gen_cond *cd = &gen_conds[cr->cond];
		go_str(o, "\n<entry typeCode=\"DRIV\"><act classCode=\"ACT\" moodCode=\"EVN\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.3");
		id(c, "PC", p, i, -1);
		go_str(o, cr->end < 0 ? "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"active\"/>"
		                      : "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/><statusCode code=\"completed\"/>");
		go_str(o, "<effectiveTime><low value=\"");
		go_date(o, cr->start, 0);
		go_str(o, "\"/></effectiveTime><entryRelationship typeCode=\"SUBJ\"><observation classCode=\"OBS\" moodCode=\"EVN\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.4");
		id(c, "PR", p, i, -1);
		go_str(o, "<code code=\"55607006\" codeSystem=\"" GEN_OID_SNOMED "\" displayName=\"Problem\"/><statusCode code=\"completed\"/><effectiveTime><low value=\"");
		go_date(o, cr->start, 0);
		go_str(o, "\"/>");
		if (cr->end >= 0) {
			go_str(o, "<high value=\"");
			go_date(o, cr->end, 0);
			go_str(o, "\"/>");
		}
		go_str(o, "</effectiveTime>");
		code_open(c, "value xsi:type=\"CD\"", cd->snomed, GEN_OID_SNOMED, cd->name);
		if (!c->b && cd->icd10) {
			go_chr(o, '>');
			code_open(c, "translation", cd->icd10, GEN_OID_ICD10CM, cd->icd10_name);
			go_str(o, "/></value>");
		} else
			go_str(o, "/>");
		go_str(o, "</observation></entryRelationship></act></entry>");
	}
	section_end(c);
}

static void result_obs(struct cd *c, const struct gen_patient *p, int ei, int k, int unknown)
{
	struct gen_out *o = c->o;
	const struct gen_enc *en = &p->enc[ei];
	const struct gen_obs *ob = &en->obs[k];
	const struct gen_test *t = &gen_tests[ob->test];
	go_str(o, "<component><observation classCode=\"OBS\" moodCode=\"EVN\">");
	tmpl(c, t->vital ? "2.16.840.1.113883.10.20.22.4.27" : "2.16.840.1.113883.10.20.22.4.2");
	id(c, "R", p, ei, k);
	if (unknown) {
		code_open(c, "code", t->loinc ? t->loinc : t->epic_local, GEN_OID_UNKNOWN, t->name);
		go_str(o, "/>");
	} else if (t->vital || (!c->b && t->loinc)) {
		code_open(c, "code", t->loinc, GEN_OID_LOINC, t->name);
		go_str(o, "/>");
	} else {
		code_open(c, "code", c->b ? t->cerner_local : t->epic_local, c->local_oid, t->local_name);
		if (t->loinc) {
			go_chr(o, '>');
			code_open(c, "translation", t->loinc, GEN_OID_LOINC, t->name);
			go_str(o, "/></code>");
		} else
			go_str(o, "/>");
	}
	go_str(o, "<statusCode code=\"completed\"/><effectiveTime value=\"");
	tstamp(c, en->day, en->sec);
	go_str(o, "\"/><value xsi:type=\"PQ\"");
	pq(c, ob->value, t->decimals, t->unit);
	go_str(o, "/>");
	if (t->lo < t->hi) {
		go_str(o, "<interpretationCode code=\"");
		go_chr(o, ob->value > t->hi ? 'H' : ob->value < t->lo ? 'L' : 'N');
		go_str(o, "\" codeSystem=\"2.16.840.1.113883.5.83\"/><referenceRange><observationRange><value xsi:type=\"IVL_PQ\"><low");
		pq(c, t->lo, t->decimals, t->unit);
		go_str(o, "/><high");
		pq(c, t->hi, t->decimals, t->unit);
		go_str(o, "/></value></observationRange></referenceRange>");
	}
	go_str(o, "</observation></component>");
}

static void results(struct cd *c, const struct gen_patient *p, int vitals, int *unknown)
{
	struct gen_out *o = c->o;
	if (vitals)
		section(c, "2.16.840.1.113883.10.20.22.2.4.1", "8716-3", "Vital Signs");
	else
		section(c, "2.16.840.1.113883.10.20.22.2.3.1", "30954-2", "Results");
	go_str(o, "<text>Structured entries follow.</text>");
	for (int ei = 0; ei < p->nenc; ei++) {
		const struct gen_enc *en = &p->enc[ei];
		for (int pi = 0, first = 0; pi < en->npanels; first += gen_panels[en->panels[pi]].ntests, pi++) {
			const struct gen_panel *pn = &gen_panels[en->panels[pi]];
			if ((en->panels[pi] == P_VITALS) != vitals)
				continue;
			go_str(o, vitals ? "\n<entry typeCode=\"DRIV\"><organizer classCode=\"CLUSTER\" moodCode=\"EVN\">"
			                 : "\n<entry typeCode=\"DRIV\"><organizer classCode=\"BATTERY\" moodCode=\"EVN\">");
			tmpl(c, vitals ? "2.16.840.1.113883.10.20.22.4.26" : "2.16.840.1.113883.10.20.22.4.1");
			id(c, "F", p, ei, pi);
			if (vitals)
				code_open(c, "code", "46680005", GEN_OID_SNOMED, "Vital signs");
			else if (pn->loinc)
				code_open(c, "code", pn->loinc, GEN_OID_LOINC, pn->name);
			else
				code_open(c, "code", gen_tests[T_POCT].epic_local, c->local_oid, pn->name);
			go_str(o, "/><statusCode code=\"completed\"/><effectiveTime value=\"");
			tstamp(c, en->day, en->sec);
			go_str(o, "\"/>");
			for (int k = 0; k < pn->ntests; k++) {
				result_obs(c, p, ei, first + k, *unknown);
				*unknown = 0;
			}
			go_str(o, "</organizer></entry>");
		}
	}
	section_end(c);
}

static void immunizations(struct cd *c, const struct gen_patient *p)
{
	struct gen_out *o = c->o;
	section(c, "2.16.840.1.113883.10.20.22.2.2.1", "11369-6", "Immunizations");
	go_str(o, "<text>Structured entries follow.</text>");
	for (int i = 0; i < p->nimm; i++) {
		const struct gen_immrec *im = &p->imm[i];
		const struct gen_vax *v = &gen_vaxes[im->vax];
		go_str(o, "\n<entry typeCode=\"DRIV\"><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\" negationInd=\"false\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.52");
		id(c, "I", p, i, -1);
		go_str(o, "<statusCode code=\"completed\"/><effectiveTime value=\"");
		tstamp(c, im->day, p->enc[im->enc].sec);
		go_str(o, "\"/><routeCode code=\"C28161\" codeSystem=\"2.16.840.1.113883.3.26.1.1\" displayName=\"INTRAMUSCULAR\"/>"
		          "<doseQuantity value=\"0.5\" unit=\"mL\"/><consumable><manufacturedProduct classCode=\"MANU\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.54");
		go_str(o, "<manufacturedMaterial>");
		code_open(c, "code", v->cvx, GEN_OID_CVX, v->name);
		go_str(o, "/><lotNumberText>L");
		go_u64(o, im->lot);
		go_str(o, "</lotNumberText></manufacturedMaterial></manufacturedProduct></consumable></substanceAdministration></entry>");
	}
	section_end(c);
}

static void encounters(struct cd *c, const struct gen_patient *p)
{
	struct gen_out *o = c->o;
	char vid[32];
	section(c, "2.16.840.1.113883.10.20.22.2.22.1", "46240-8", "Encounters");
	go_str(o, "<text>Structured entries follow.</text>");
	for (int i = 0; i < p->nenc; i++) {
		const struct gen_enc *en = &p->enc[i];
		const struct gen_enc_type_def *t = &gen_enc_types[en->type];
		go_str(o, "\n<entry typeCode=\"DRIV\"><encounter classCode=\"ENC\" moodCode=\"EVN\">");
		tmpl(c, "2.16.840.1.113883.10.20.22.4.49");
		gen_visit_id(p, i, vid, sizeof vid);
		go_str(o, "<id root=\"2.16.840.1.113883.19.5.99.6.");
		go_u64(o, (uint64_t)c->site_no);
		go_str(o, "\" extension=\"");
		go_str(o, vid);
		go_str(o, "\"/>");
		if (c->b) {
			code_open(c, "code", t->snomed, GEN_OID_SNOMED, t->name);
			go_chr(o, '>');
			code_open(c, "translation", t->actcode, GEN_OID_ACTCODE, t->actname);
		} else {
			code_open(c, "code", t->actcode, GEN_OID_ACTCODE, t->actname);
			go_chr(o, '>');
			code_open(c, "translation", t->snomed, GEN_OID_SNOMED, t->name);
		}
		go_str(o, "/></code><effectiveTime><low value=\"");
		tstamp(c, en->day, en->sec);
		go_str(o, "\"/><high value=\"");
		tstamp(c, en->end_day, en->end_sec);
		go_str(o, "\"/></effectiveTime></encounter></entry>");
	}
	section_end(c);
}

int gen_ccda_patient(struct gen_ctx *g, struct gen_site_out *so, int style_b, const struct gen_patient *cp, struct gen_out *o, struct err *e)
{
	struct gen_patient *p = (struct gen_patient *)cp;   /* only its error stream advances */
	struct cd c = { .o = o, .b = style_b, .site_no = gen_so_site_no(so) };
	const char *s = gen_so_site(so);
	size_t i;
	int rc;
	for (i = 0; s[i] && i + 1 < sizeof c.site; i++)
		c.site[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	c.site[i] = 0;
	snprintf(c.local_oid, sizeof c.local_oid, GEN_OID_LOCAL_LAB_ROOT ".%d", c.site_no);

	if ((rc = gen_ccda_open(g, so, style_b, p, o, e)) < 0)
		return rc;
	int bad = gen_pick_error(g, p, (1u << GE_MALFORMED_XML) | (1u << GE_BAD_DATE) | (1u << GE_UNKNOWN_SYSTEM));
	int unknown = bad == GE_UNKNOWN_SYSTEM;
	go_rec_begin(o);
	header(&c, p, bad == GE_BAD_DATE);
	allergies(&c, p);
	medications(&c, p);
	problems(&c, p);
	results(&c, p, 0, &unknown);
	results(&c, p, 1, &unknown);
	immunizations(&c, p);
	encounters(&c, p);
	go_str(o, "</structuredBody></component>\n</ClinicalDocument>\n");
	if (bad == GE_MALFORMED_XML) {
		/* cut mid-document: root and sections left open */
		o->n = o->rec + (o->n - o->rec) / 2;
		go_chr(o, '\n');
	}
	if ((rc = go_rec_end(o, 0, bad, e)) < 0)
		return rc;
	return go_finish(o, e);
}
