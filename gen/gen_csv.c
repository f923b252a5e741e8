/*
 * gen_csv.c - a patient as Synthea CSV rows, in two layouts:
 *
 *   synthea        the current layout (columns as in a Synthea 3.x export:
 *                  timestamps in UTC with Z, encounter classes, payers,
 *                  costs, allergy SYSTEM/TYPE/CATEGORY)
 *   synthea-2017   the 2017 layout (dates only, fewer columns, ID not Id,
 *                  ancestry in ETHNICITY, one-line ADDRESS)
 *
 * The site's wall time is UTC-5, so a visit at 10:15 local is 15:15Z. One row
 * = one record. patients.csv rows are never broken (a broken patient row
 * would orphan every other row of the patient and blur the accounting).
 */
#include "gen/gen_int.h"

#include <string.h>

const char *const gen_csv_tables[CT__COUNT] = {
	"patients", "encounters", "conditions", "medications", "immunizations", "observations", "allergies",
};

static const char *const anc_hisp[] = { "mexican", "puerto_rican", "central_american", "dominican" };
static const char *const anc_other[] = { "irish", "italian", "english", "german", "polish", "french", "american", "african", "chinese", "asian_indian" };

struct cw {
	struct gen_out *o;
	int v2017;
	int bad;            /* error kind for this row, or -1 */
};

/* Timestamp (UTC, Z) in the current layout, a date in 2017's; an impossible
 * date when the row is broken that way. */
static void when(struct cw *c, int32_t day, int32_t sec)
{
	struct gen_out *o = c->o;
	if (c->bad == GE_BAD_DATE) {
		go_str(o, c->v2017 ? "2023-02-30" : "2023-02-30T15:00:00Z");
		c->bad = -2;    /* written; remembered as bad_date below */
		return;
	}
	if (c->v2017) {
		go_date(o, day, '-');
		return;
	}
	sec += 5 * 3600;
	if (sec >= 86400) {
		sec -= 86400;
		day++;
	}
	go_date(o, day, '-');
	go_chr(o, 'T');
	go_pad(o, (uint32_t)(sec / 3600), 2);
	go_chr(o, ':');
	go_pad(o, (uint32_t)(sec / 60 % 60), 2);
	go_chr(o, ':');
	go_pad(o, (uint32_t)(sec % 60), 2);
	go_chr(o, 'Z');
}

static void date_only(struct cw *c, int32_t day)
{
	if (c->bad == GE_BAD_DATE) {
		go_str(c->o, "2023-02-30");
		c->bad = -2;
		return;
	}
	go_date(c->o, day, '-');
}

static void begin(struct cw *c, struct gen_ctx *g, struct gen_patient *p, unsigned allowed)
{
	c->bad = allowed ? gen_pick_error(g, p, allowed) : -1;
	go_rec_begin(c->o);
}

static int finish(struct cw *c, struct err *e)
{
	int kind = c->bad == -2 ? GE_BAD_DATE : c->bad;
	if (kind == GE_BAD_COLUMNS)
		go_str(c->o, ",EXTRA");
	go_chr(c->o, '\n');
	return go_rec_end(c->o, 0, kind, e);
}

#define ROW_ERRS ((1u << GE_BAD_DATE) | (1u << GE_BAD_COLUMNS))

static void enc_id(const struct gen_patient *p, int i, char out[37]) { gen_uuid(p, 1, (uint32_t)i, out); }

int gen_csv_patient(struct gen_ctx *g, struct gen_site_out *so, int v2017, const struct gen_patient *cp, struct err *e)
{
	struct gen_patient *p = (struct gen_patient *)cp;   /* only its error stream advances */
	struct cw c = { .v2017 = v2017 };
	struct gen_out *o;
	char id[37], org[37];
	int rc;

	/* patients */
	c.o = o = gen_csv_stream(so, v2017, CT_PATIENTS);
	begin(&c, g, p, 0);
	go_str(o, p->uuid);
	go_chr(o, ',');
	go_date(o, p->birth, '-');
	go_str(o, ",,");
	go_str(o, p->ssn);
	go_str(o, ",,,,");
	go_str(o, p->first);
	go_chr(o, ',');
	go_str(o, p->last);
	go_str(o, ",,,,");
	go_str(o, gen_races[p->race].synthea);
	go_chr(o, ',');
	if (v2017)
		go_str(o, p->hispanic ? anc_hisp[p->index % 4] : anc_other[p->index % 10]);
	else
		go_str(o, p->hispanic ? "hispanic" : "nonhispanic");
	go_chr(o, ',');
	go_chr(o, p->male ? 'M' : 'F');
	go_chr(o, ',');
	go_str(o, v2017 ? "Springfield IL US," : "Springfield  Illinois  US,");
	go_u64(o, p->house);
	go_chr(o, ' ');
	go_str(o, p->street);
	if (v2017) {
		go_chr(o, ' ');
		go_str(o, p->city);
		go_str(o, " IL ");
		go_str(o, p->zip);
		go_str(o, " US");
	} else {
		go_chr(o, ',');
		go_str(o, p->city);
		go_str(o, ",Illinois,Sangamon County,");
		go_str(o, p->zip);
		go_str(o, ",39.78,-89.65,0.00,0.00");
	}
	if ((rc = finish(&c, e)) < 0)
		return rc;

	gen_uuid(p, 9, (uint32_t)p->site, org);
	/* encounters */
	c.o = o = gen_csv_stream(so, v2017, CT_ENCOUNTERS);
	for (int i = 0; i < p->nenc; i++) {
		const struct gen_enc *en = &p->enc[i];
		const struct gen_enc_type_def *t = &gen_enc_types[en->type];
		const struct gen_cond *reason = NULL;
		for (int k = 0; k < p->ncond; k++)
			if (p->cond[k].enc == i && !gen_conds[p->cond[k].cond].chronic)
				reason = &gen_conds[p->cond[k].cond];
		begin(&c, g, p, ROW_ERRS);
		enc_id(p, i, id);
		go_str(o, id);
		go_chr(o, ',');
		when(&c, en->day, en->sec);
		if (!v2017) {
			go_chr(o, ',');
			when(&c, en->end_day, en->end_sec);
		}
		go_chr(o, ',');
		go_str(o, p->uuid);
		if (!v2017) {
			go_chr(o, ',');
			go_str(o, org);
			go_str(o, ",0f4db68f-7743-3960-b373-4a47d811dec2,b3221cfc-24fb-339e-823d-bc4136cbc4ed,");
			go_str(o, t->synthea_class);
		}
		go_chr(o, ',');
		go_str(o, t->snomed);
		go_chr(o, ',');
		go_csv(o, t->name);
		if (!v2017)
			go_str(o, en->type == E_IP ? ",2500.00,12500.00,0.00" : en->type == E_ER ? ",700.00,1800.00,0.00" : ",129.16,129.16,0.00");
		go_chr(o, ',');
		if (reason) {
			go_str(o, reason->snomed);
			go_chr(o, ',');
			go_csv(o, reason->name);
		} else
			go_chr(o, ',');
		if ((rc = finish(&c, e)) < 0)
			return rc;
	}

	/* conditions */
	c.o = o = gen_csv_stream(so, v2017, CT_CONDITIONS);
	for (int i = 0; i < p->ncond; i++) {
		const struct gen_condrec *cr = &p->cond[i];
		const struct gen_cond *cd = &gen_conds[cr->cond];
		begin(&c, g, p, ROW_ERRS);
		date_only(&c, cr->start);
		go_chr(o, ',');
		if (cr->end >= 0)
			go_date(o, cr->end, '-');
		go_chr(o, ',');
		go_str(o, p->uuid);
		go_chr(o, ',');
		enc_id(p, cr->enc, id);
		go_str(o, id);
		go_chr(o, ',');
		go_str(o, cd->snomed);
		go_chr(o, ',');
		go_csv(o, cd->name);
		if ((rc = finish(&c, e)) < 0)
			return rc;
	}

	/* medications */
	c.o = o = gen_csv_stream(so, v2017, CT_MEDICATIONS);
	for (int i = 0; i < p->nmed; i++) {
		const struct gen_medrec *m = &p->med[i];
		const struct gen_drug *d = &gen_drugs[m->drug];
		const struct gen_enc *en = &p->enc[m->enc];
		const struct gen_cond *reason = NULL;
		for (int k = 0; k < p->ncond; k++)
			if (gen_conds[p->cond[k].cond].drug[0] == m->drug || gen_conds[p->cond[k].cond].drug[1] == m->drug)
				reason = &gen_conds[p->cond[k].cond];
		begin(&c, g, p, ROW_ERRS);
		when(&c, m->start, en->end_sec);
		go_chr(o, ',');
		when(&c, m->end, en->end_sec);
		go_chr(o, ',');
		go_str(o, p->uuid);
		go_chr(o, ',');
		if (!v2017)
			go_str(o, "b3221cfc-24fb-339e-823d-bc4136cbc4ed,");
		enc_id(p, m->enc, id);
		go_str(o, id);
		go_chr(o, ',');
		go_str(o, d->rxnorm);
		go_chr(o, ',');
		go_csv(o, d->name);
		if (!v2017) {
			go_str(o, ",12.50,0.00,");
			go_u64(o, (uint64_t)d->refills + 1);
			go_chr(o, ',');
			go_fixed(o, 12.5 * (d->refills + 1), 2);
		}
		go_chr(o, ',');
		if (reason) {
			go_str(o, reason->snomed);
			go_chr(o, ',');
			go_csv(o, reason->name);
		} else
			go_chr(o, ',');
		if ((rc = finish(&c, e)) < 0)
			return rc;
	}

	/* immunizations */
	c.o = o = gen_csv_stream(so, v2017, CT_IMMUNIZATIONS);
	for (int i = 0; i < p->nimm; i++) {
		const struct gen_immrec *im = &p->imm[i];
		begin(&c, g, p, ROW_ERRS);
		when(&c, im->day, p->enc[im->enc].sec);
		go_chr(o, ',');
		go_str(o, p->uuid);
		go_chr(o, ',');
		enc_id(p, im->enc, id);
		go_str(o, id);
		go_chr(o, ',');
		go_str(o, gen_vaxes[im->vax].cvx);
		go_chr(o, ',');
		go_csv(o, gen_vaxes[im->vax].name);
		if (!v2017)
			go_str(o, ",140.52");
		if ((rc = finish(&c, e)) < 0)
			return rc;
	}

	/* observations: vital signs and lab results */
	c.o = o = gen_csv_stream(so, v2017, CT_OBSERVATIONS);
	for (int i = 0; i < p->nenc; i++) {
		const struct gen_enc *en = &p->enc[i];
		enc_id(p, i, id);
		for (int k = 0; k < en->nobs; k++) {
			const struct gen_test *t = &gen_tests[en->obs[k].test];
			begin(&c, g, p, ROW_ERRS);
			when(&c, en->day, en->sec);
			go_chr(o, ',');
			go_str(o, p->uuid);
			go_chr(o, ',');
			go_str(o, id);
			go_chr(o, ',');
			if (!v2017)
				go_str(o, t->vital ? "vital-signs," : "laboratory,");
			go_str(o, t->loinc ? t->loinc : t->epic_local);
			go_chr(o, ',');
			go_csv(o, t->name);
			go_chr(o, ',');
			go_fixed(o, en->obs[k].value, t->decimals);
			go_chr(o, ',');
			go_str(o, t->unit);
			if (!v2017)
				go_str(o, ",numeric");
			if ((rc = finish(&c, e)) < 0)
				return rc;
		}
	}

	/* allergies */
	c.o = o = gen_csv_stream(so, v2017, CT_ALLERGIES);
	for (int i = 0; i < p->nall; i++) {
		const struct gen_allergy *a = &gen_allergies[p->all[i].allergy];
		begin(&c, g, p, v2017 ? ROW_ERRS : ROW_ERRS | (1u << GE_UNKNOWN_SYSTEM));
		date_only(&c, p->all[i].day);
		go_str(o, ",,");
		go_str(o, p->uuid);
		go_chr(o, ',');
		enc_id(p, p->all[i].enc, id);
		go_str(o, id);
		go_chr(o, ',');
		go_str(o, a->snomed);
		go_chr(o, ',');
		if (!v2017)
			go_str(o, c.bad == GE_UNKNOWN_SYSTEM ? "XYZ-LOCAL," : "SNOMED-CT,");
		go_csv(o, a->name);
		if (!v2017) {
			go_str(o, ",allergy,");
			go_str(o, a->category);
			go_str(o, ",,");
			go_str(o, a->reaction);
			go_str(o, ",MODERATE,,,");
		}
		if ((rc = finish(&c, e)) < 0)
			return rc;
	}
	return 0;
}

const char *gen_csv_header(int v2017, int table)
{
	static const char *const cur[CT__COUNT] = {
		"Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE",
		"Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION",
		"START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
		"START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION",
		"DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST",
		"DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
		"START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2",
	};
	static const char *const old[CT__COUNT] = {
		"ID,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS",
		"ID,DATE,PATIENT,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION",
		"START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
		"START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION",
		"DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
		"DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS",
		"START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
	};
	return (v2017 ? old : cur)[table];
}
