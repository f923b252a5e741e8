/*
 * gen_hl7.c - a patient as HL7 v2 messages, in the two dialects of TEAM.md:
 *
 *   epic    v2.5.1, segments end with CR, PID-3 MRN^^^SITE^MR~SSN^^^SSA^SS,
 *           timestamps YYYYMMDDHHMMSS-0500, OBX-3 LOINC (2345-7^Glucose^LN) or,
 *           for a few tests, a local code with no alternate (GLU^Glucose^L),
 *           units mg/dL^^UCUM.
 *   cerner  v2.3, segments end with CR LF, files are FHS/BHS ... BTS/FTS
 *           batches (gen.c writes the envelope), PID-3 first repetition
 *           MRN^^^CERNER^MRN, timestamps YYYYMMDDHHMM, OBX-3 local code first
 *           and LOINC as the alternate, plain units, NDC on RXE-2 when the
 *           drug has one.
 *
 * Per encounter: ADT^A04 (outpatient, ER) or ADT^A01 (inpatient) with DG1 for
 * the problems diagnosed and AL1 for allergies recorded, an ORU^R01 per lab
 * panel and one for the vital signs, a VXU^V04 per vaccine, an RDE^O11 per
 * prescription, ADT^A03 at discharge (ER, inpatient), and now and then an
 * ADT^A08 update. One message = one record.
 */
#include "gen/gen_int.h"

#include <stdio.h>
#include <string.h>

enum { K_A01, K_A03, K_A04, K_A08, K_ORU, K_VXU, K_RDE };

struct h7 {
	struct gen_out *o;
	int cerner;
	const char *seg;           /* segment terminator */
	char site[40];             /* upper case */
	int field;                 /* current field number in the segment */
};

static void seg(struct h7 *h, const char *name)
{
	go_str(h->o, name);
	h->field = 0;
}

static void fld(struct h7 *h, int n)
{
	while (h->field < n) {
		go_chr(h->o, '|');
		h->field++;
	}
}

static void end(struct h7 *h)
{
	go_str(h->o, h->seg);
}

static void ts(struct h7 *h, int32_t day, int32_t sec)
{
	go_date(h->o, day, 0);
	go_pad(h->o, (uint32_t)(sec / 3600), 2);
	go_pad(h->o, (uint32_t)(sec / 60 % 60), 2);
	if (!h->cerner) {
		go_pad(h->o, (uint32_t)(sec % 60), 2);
		go_str(h->o, "-0500");
	}
}

static void msh(struct h7 *h, struct gen_site_out *so, const char *type, int32_t day, int32_t sec)
{
	struct gen_out *o = h->o;
	go_str(o, "MSH|^~\\&|");
	go_str(o, h->cerner ? "CERNER" : "EPIC");
	go_chr(o, '|');
	go_str(o, h->site);
	go_str(o, "|OMOPIPE|NETWORK|");
	ts(h, day, sec);
	go_str(o, "||");
	go_str(o, type);
	go_chr(o, '|');
	go_str(o, h->site);
	go_u64(o, gen_so_next_seq(so));
	go_str(o, h->cerner ? "|P|2.3" : "|P|2.5.1");
	end(h);
}

static void pid(struct h7 *h, const struct gen_patient *p, int bad_date)
{
	struct gen_out *o = h->o;
	seg(h, "PID");
	fld(h, 1);
	go_chr(o, '1');
	if (h->cerner) {
		fld(h, 2);
		go_u64(o, p->mrn);
		fld(h, 3);
		go_u64(o, p->mrn);
		go_str(o, "^^^CERNER^MRN~");
	} else {
		fld(h, 3);
		go_u64(o, p->mrn);
		go_str(o, "^^^");
		go_str(o, h->site);
		go_str(o, "^MR~");
	}
	go_str(o, p->ssn);
	go_str(o, "^^^SSA^SS");
	fld(h, 5);
	go_str(o, p->last);
	go_chr(o, '^');
	go_str(o, p->first);
	go_str(o, "^^^^^L");
	fld(h, 7);
	if (bad_date)
		go_str(o, "20230230");
	else
		go_date(o, p->birth, 0);
	fld(h, 8);
	go_chr(o, p->male ? 'M' : 'F');
	fld(h, 10);
	go_str(o, gen_races[p->race].cdc);
	go_chr(o, '^');
	go_str(o, gen_races[p->race].name);
	go_str(o, "^CDCREC");
	fld(h, 11);
	go_u64(o, p->house);
	go_chr(o, ' ');
	go_str(o, p->street);
	go_str(o, "^^");
	go_str(o, p->city);
	go_str(o, "^IL^");
	go_str(o, p->zip);
	go_str(o, "^USA^H");
	fld(h, 13);
	go_str(o, "^PRN^PH^^^");
	go_mem(o, p->phone, 3);
	go_chr(o, '^');
	go_mem(o, p->phone + 4, 3);
	go_mem(o, p->phone + 8, 4);
	fld(h, 22);
	go_str(o, p->hispanic ? "2135-2^Hispanic or Latino^CDCREC" : "2186-5^Not Hispanic or Latino^CDCREC");
	end(h);
}

static void pv1(struct h7 *h, const struct gen_patient *p, int ei, int discharge)
{
	struct gen_out *o = h->o;
	const struct gen_enc *e = &p->enc[ei];
	char vid[32];
	seg(h, "PV1");
	fld(h, 1);
	go_chr(o, '1');
	fld(h, 2);
	go_str(o, gen_enc_types[e->type].hl7_class);
	fld(h, 3);
	go_str(o, h->site);
	go_str(o, e->type == E_IP ? "^4WEST^412^" : e->type == E_ER ? "^ED^^" : "^CLINIC^^");
	go_str(o, h->site);
	fld(h, 7);
	go_str(o, "1234567893^Welby^Marcus^^^Dr^^^NPI");
	fld(h, 19);
	gen_visit_id(p, ei, vid, sizeof vid);
	go_str(o, vid);
	fld(h, 44);
	ts(h, e->day, e->sec);
	if (discharge || e->type == E_WELL || e->type == E_SYMPTOM) {
		fld(h, 45);
		ts(h, e->end_day, e->end_sec);
	}
	end(h);
}

static const char *cond_system(const struct gen_cond *c, int unknown)
{
	if (unknown)
		return "ZZZ";
	return c->icd10 ? "I10" : "SCT";
}

/* Cut a message right after MSH and the start of PID: what a feed looks like
 * when the sender died mid-message. The terminator keeps the next message
 * readable. */
static void truncate_msg(struct h7 *h)
{
	struct gen_out *o = h->o;
	size_t at = o->rec;
	const char *m = o->buf + at;
	size_t n = o->n - at;
	const char *p = memchr(m, '\r', n);
	if (!p)
		return;
	size_t cut = (size_t)(p - m) + strlen(h->seg) + 6;   /* "PID|1|" */
	if (cut < n) {
		o->n = at + cut;
		go_str(o, h->seg);
	}
}

static int finish(struct h7 *h, struct gen_ctx *g, int kind, int broken, struct err *e)
{
	(void)g;
	if (broken == GE_TRUNCATED)
		truncate_msg(h);
	return go_rec_end(h->o, kind, broken, e);
}

static int adt(struct gen_ctx *g, struct gen_site_out *so, struct h7 *h, struct gen_patient *p, int ei, int kind, struct err *e)
{
	const struct gen_enc *en = &p->enc[ei];
	int has_dg1 = 0, has_al1 = 0;
	for (int i = 0; i < p->ncond; i++)
		has_dg1 |= p->cond[i].enc == ei;
	for (int i = 0; i < p->nall; i++)
		has_al1 |= p->all[i].enc == ei;
	int with_codes = kind != K_A03 && (has_dg1 || has_al1);
	int bad = gen_pick_error(g, p, (1u << GE_TRUNCATED) | (1u << GE_BAD_DATE) | (with_codes ? 1u << GE_UNKNOWN_SYSTEM : 0));
	static const char *const types_e[] = { "ADT^A01^ADT_A01", "ADT^A03^ADT_A03", "ADT^A04^ADT_A01", "ADT^A08^ADT_A01" };
	static const char *const types_c[] = { "ADT^A01", "ADT^A03", "ADT^A04", "ADT^A08" };
	static const char *const ev[] = { "A01", "A03", "A04", "A08" };
	int32_t day = kind == K_A03 ? en->end_day : en->day, sec = kind == K_A03 ? en->end_sec : en->sec;
	if (kind == K_A08)
		sec = en->sec + 600 < 86400 ? en->sec + 600 : en->sec;

	go_rec_begin(h->o);
	msh(h, so, (h->cerner ? types_c : types_e)[kind], day, sec);
	seg(h, "EVN");
	fld(h, 1);
	go_str(h->o, ev[kind]);
	fld(h, 2);
	ts(h, day, sec);
	end(h);
	pid(h, p, bad == GE_BAD_DATE);
	pv1(h, p, ei, kind == K_A03);
	if (kind != K_A03) {
		int k = 0, unknown = bad == GE_UNKNOWN_SYSTEM;
		for (int i = 0; i < p->ncond; i++) {
			if (p->cond[i].enc != ei)
				continue;
			const struct gen_cond *c = &gen_conds[p->cond[i].cond];
			seg(h, "DG1");
			fld(h, 1);
			go_u64(h->o, (uint64_t)++k);
			fld(h, 3);
			go_str(h->o, c->icd10 ? c->icd10 : c->snomed);
			go_chr(h->o, '^');
			go_str(h->o, c->icd10 ? c->icd10_name : c->name);
			go_chr(h->o, '^');
			go_str(h->o, cond_system(c, unknown));
			fld(h, 5);
			ts(h, p->cond[i].start == en->day ? en->day : p->cond[i].start, en->sec);
			fld(h, 6);
			go_str(h->o, c->chronic ? "F" : "W");
			end(h);
			unknown = 0;
		}
		k = 0;
		for (int i = 0; i < p->nall; i++) {
			if (p->all[i].enc != ei)
				continue;
			const struct gen_allergy *a = &gen_allergies[p->all[i].allergy];
			seg(h, "AL1");
			fld(h, 1);
			go_u64(h->o, (uint64_t)++k);
			fld(h, 2);
			go_str(h->o, a->type);
			fld(h, 3);
			go_str(h->o, a->snomed);
			go_chr(h->o, '^');
			go_str(h->o, a->name);
			go_chr(h->o, '^');
			go_str(h->o, unknown ? "ZZZ" : "SCT");
			fld(h, 4);
			go_str(h->o, "MO");
			fld(h, 5);
			go_str(h->o, a->reaction);
			fld(h, 6);
			go_date(h->o, p->all[i].day, 0);
			end(h);
			unknown = 0;
		}
	}
	return finish(h, g, kind, bad, e);
}

static void obx3(struct h7 *h, const struct gen_test *t, int unknown)
{
	struct gen_out *o = h->o;
	if (h->cerner) {
		go_str(o, t->cerner_local);
		go_chr(o, '^');
		go_str(o, t->local_name);
		go_chr(o, '^');
		if (unknown) {
			go_str(o, "ZZZ");
			return;
		}
		go_str(o, "99CERNER");
		if (t->loinc) {
			go_chr(o, '^');
			go_str(o, t->loinc);
			go_chr(o, '^');
			go_str(o, t->name);
			go_str(o, "^LN");
		}
		return;
	}
	if (t->epic_local || !t->loinc) {
		go_str(o, t->epic_local);
		go_chr(o, '^');
		go_str(o, t->local_name);
		go_str(o, unknown ? "^ZZZ" : "^L");
		return;
	}
	go_str(o, t->loinc);
	go_chr(o, '^');
	go_str(o, t->name);
	go_str(o, unknown ? "^ZZZ" : "^LN");
}

static int oru(struct gen_ctx *g, struct gen_site_out *so, struct h7 *h, struct gen_patient *p, int ei, int pi, int first_obs, struct err *e)
{
	const struct gen_enc *en = &p->enc[ei];
	const struct gen_panel *pn = &gen_panels[en->panels[pi]];
	struct gen_out *o = h->o;
	int bad = gen_pick_error(g, p, (1u << GE_TRUNCATED) | (1u << GE_BAD_DATE) | (1u << GE_UNKNOWN_SYSTEM));
	int32_t osec = en->sec + 1800 < 86400 ? en->sec + 1800 : en->sec;
	char order[48];
	int on = snprintf(order, sizeof order, "%u-%02d-%d", (unsigned)p->mrn, ei + 1, pi + 1);
	(void)on;

	go_rec_begin(o);
	msh(h, so, h->cerner ? "ORU^R01" : "ORU^R01^ORU_R01", en->day, osec);
	pid(h, p, bad == GE_BAD_DATE);
	pv1(h, p, ei, 0);
	seg(h, "ORC");
	fld(h, 1);
	go_str(o, "RE");
	fld(h, 2);
	go_chr(o, 'P');
	go_str(o, order);
	fld(h, 3);
	go_chr(o, 'F');
	go_str(o, order);
	end(h);
	seg(h, "OBR");
	fld(h, 1);
	go_chr(o, '1');
	fld(h, 2);
	go_chr(o, 'P');
	go_str(o, order);
	fld(h, 3);
	go_chr(o, 'F');
	go_str(o, order);
	fld(h, 4);
	if (pn->loinc) {
		go_str(o, pn->loinc);
		go_chr(o, '^');
		go_str(o, pn->name);
		go_str(o, "^LN");
	} else {
		go_str(o, h->cerner ? gen_tests[T_POCT].cerner_local : gen_tests[T_POCT].epic_local);
		go_chr(o, '^');
		go_str(o, pn->name);
		go_str(o, h->cerner ? "^99CERNER" : "^L");
	}
	fld(h, 7);
	ts(h, en->day, en->sec);
	fld(h, 16);
	go_str(o, "1234567893^Welby^Marcus^^^Dr");
	fld(h, 22);
	ts(h, en->day, osec);
	fld(h, 25);
	go_chr(o, 'F');
	end(h);
	for (int k = 0; k < pn->ntests; k++) {
		const struct gen_obs *ob = &en->obs[first_obs + k];
		const struct gen_test *t = &gen_tests[ob->test];
		seg(h, "OBX");
		fld(h, 1);
		go_u64(o, (uint64_t)k + 1);
		fld(h, 2);
		go_str(o, "NM");
		fld(h, 3);
		obx3(h, t, bad == GE_UNKNOWN_SYSTEM && k == 0);
		fld(h, 5);
		go_fixed(o, ob->value, t->decimals);
		fld(h, 6);
		go_str(o, t->unit);
		if (!h->cerner)
			go_str(o, "^^UCUM");
		if (t->lo < t->hi) {
			fld(h, 7);
			go_fixed(o, t->lo, t->decimals);
			go_chr(o, '-');
			go_fixed(o, t->hi, t->decimals);
			fld(h, 8);
			go_chr(o, ob->value > t->hi ? 'H' : ob->value < t->lo ? 'L' : 'N');
		}
		fld(h, 11);
		go_chr(o, 'F');
		fld(h, 14);
		ts(h, en->day, en->sec);
		end(h);
	}
	return finish(h, g, K_ORU, bad, e);
}

static int vxu(struct gen_ctx *g, struct gen_site_out *so, struct h7 *h, struct gen_patient *p, int ii, struct err *e)
{
	const struct gen_immrec *im = &p->imm[ii];
	const struct gen_enc *en = &p->enc[im->enc];
	const struct gen_vax *v = &gen_vaxes[im->vax];
	struct gen_out *o = h->o;
	int bad = gen_pick_error(g, p, (1u << GE_TRUNCATED) | (1u << GE_BAD_DATE) | (1u << GE_UNKNOWN_SYSTEM));

	go_rec_begin(o);
	msh(h, so, h->cerner ? "VXU^V04" : "VXU^V04^VXU_V04", en->day, en->sec);
	pid(h, p, bad == GE_BAD_DATE);
	pv1(h, p, im->enc, 0);
	seg(h, "ORC");
	fld(h, 1);
	go_str(o, "RE");
	fld(h, 3);
	go_chr(o, 'I');
	go_u64(o, p->mrn);
	go_chr(o, '-');
	go_u64(o, (uint64_t)ii + 1);
	end(h);
	seg(h, "RXA");
	fld(h, 1);
	go_chr(o, '0');
	fld(h, 2);
	go_chr(o, '1');
	fld(h, 3);
	ts(h, en->day, en->sec);
	fld(h, 4);
	ts(h, en->day, en->sec);
	fld(h, 5);
	go_str(o, v->cvx);
	go_chr(o, '^');
	go_str(o, v->name);
	go_str(o, bad == GE_UNKNOWN_SYSTEM ? "^ZZZ" : "^CVX");
	fld(h, 6);
	go_str(o, "0.5");
	fld(h, 7);
	go_str(o, h->cerner ? "mL" : "mL^^UCUM");
	fld(h, 9);
	go_str(o, "00^New immunization record^NIP001");
	fld(h, 15);
	go_chr(o, 'L');
	go_u64(o, im->lot);
	fld(h, 20);
	go_str(o, "CP");
	fld(h, 21);
	go_chr(o, 'A');
	end(h);
	seg(h, "RXR");
	fld(h, 1);
	go_str(o, "IM^Intramuscular^HL70162");
	end(h);
	return finish(h, g, K_VXU, bad, e);
}

static int rde(struct gen_ctx *g, struct gen_site_out *so, struct h7 *h, struct gen_patient *p, int mi, struct err *e)
{
	const struct gen_medrec *m = &p->med[mi];
	const struct gen_enc *en = &p->enc[m->enc];
	const struct gen_drug *d = &gen_drugs[m->drug];
	struct gen_out *o = h->o;
	int bad = gen_pick_error(g, p, (1u << GE_TRUNCATED) | (1u << GE_BAD_DATE) | (1u << GE_UNKNOWN_SYSTEM));
	int32_t sec = en->end_sec > en->sec ? en->end_sec : en->sec;

	go_rec_begin(o);
	msh(h, so, h->cerner ? "RDE^O11" : "RDE^O11^RDE_O11", m->start, sec);
	pid(h, p, bad == GE_BAD_DATE);
	pv1(h, p, m->enc, 0);
	seg(h, "ORC");
	fld(h, 1);
	go_str(o, "NW");
	fld(h, 2);
	go_chr(o, 'P');
	go_u64(o, p->mrn);
	go_chr(o, '-');
	go_u64(o, (uint64_t)mi + 1);
	fld(h, 3);
	go_chr(o, 'O');
	go_u64(o, p->mrn);
	go_chr(o, '-');
	go_u64(o, (uint64_t)mi + 1);
	fld(h, 9);
	ts(h, m->start, sec);
	end(h);
	seg(h, "RXE");
	fld(h, 1);
	go_str(o, "1^^^");
	ts(h, m->start, sec);
	go_chr(o, '^');
	ts(h, m->end, sec);
	fld(h, 2);
	if (h->cerner && d->ndc) {
		go_str(o, d->ndc);
		go_chr(o, '^');
		go_str(o, d->ndc_name);
		go_str(o, bad == GE_UNKNOWN_SYSTEM ? "^ZZZ" : "^NDC");
	} else {
		go_str(o, d->rxnorm);
		go_chr(o, '^');
		go_str(o, d->name);
		go_str(o, bad == GE_UNKNOWN_SYSTEM ? "^ZZZ" : "^RXNORM");
	}
	fld(h, 3);
	go_fixed(o, d->dose, d->dose < 1 ? 3 : 0);
	fld(h, 5);
	go_str(o, d->dose_unit);
	fld(h, 6);
	go_str(o, d->form);
	go_chr(o, '^');
	go_str(o, d->form_name);
	fld(h, 7);
	go_str(o, d->sig);
	fld(h, 10);
	go_u64(o, (uint64_t)d->qty);
	fld(h, 11);
	go_str(o, d->form);
	fld(h, 12);
	go_u64(o, (uint64_t)d->refills);
	end(h);
	seg(h, "RXR");
	fld(h, 1);
	go_str(o, d->oral ? "PO^Oral^HL70162" : "IH^Inhalation^HL70162");
	end(h);
	return finish(h, g, K_RDE, bad, e);
}

int gen_hl7_patient(struct gen_ctx *g, struct gen_site_out *so, int cerner, const struct gen_patient *cp, struct err *e)
{
	struct gen_patient *p = (struct gen_patient *)cp;   /* only its error stream advances */
	struct h7 h = { .cerner = cerner, .seg = cerner ? "\r\n" : "\r" };
	const char *s = gen_so_site(so);
	size_t i;
	int rc = 0;
	for (i = 0; s[i] && i + 1 < sizeof h.site; i++)
		h.site[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	h.site[i] = 0;

#define STREAM(f) do { h.o = gen_hl7_stream(g, so, cerner, (f), e, &rc); if (!h.o) return rc; } while (0)
	for (int ei = 0; ei < p->nenc; ei++) {
		const struct gen_enc *en = &p->enc[ei];
		STREAM(0);
		if ((rc = adt(g, so, &h, p, ei, en->type == E_IP ? K_A01 : K_A04, e)) < 0)
			return rc;
		for (int pi = 0, first = 0; pi < en->npanels; pi++) {
			STREAM(1);
			if ((rc = oru(g, so, &h, p, ei, pi, first, e)) < 0)
				return rc;
			first += gen_panels[en->panels[pi]].ntests;
		}
		for (int k = 0; k < p->nimm; k++) {
			if (p->imm[k].enc != ei)
				continue;
			STREAM(2);
			if ((rc = vxu(g, so, &h, p, k, e)) < 0)
				return rc;
		}
		for (int k = 0; k < p->nmed; k++) {
			if (p->med[k].enc != ei)
				continue;
			STREAM(3);
			if ((rc = rde(g, so, &h, p, k, e)) < 0)
				return rc;
		}
		if (en->type == E_ER || en->type == E_IP) {
			STREAM(0);
			if ((rc = adt(g, so, &h, p, ei, K_A03, e)) < 0)
				return rc;
		}
		if (en->updated) {
			STREAM(0);
			if ((rc = adt(g, so, &h, p, ei, K_A08, e)) < 0)
				return rc;
		}
	}
#undef STREAM
	return 0;
}
