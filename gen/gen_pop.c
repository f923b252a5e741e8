/*
 * gen_pop.c - one synthetic patient: demographics, encounters over 2015 to
 * mid-2024, and what happened at each (vital signs, lab panels with values,
 * diagnoses, prescriptions, vaccines, allergies).
 *
 * A patient is a pure function of (seed, site, index): its own RNG stream,
 * so the same patient comes out whichever feed it is written to, and sites or
 * formats can be generated in any order. Volumes follow age and chronic
 * disease: an 80-year-old with hypertension and diabetes has more visits,
 * labs and prescriptions than a healthy 25-year-old.
 */
#include "gen/gen_int.h"
#include "core/date.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const first_m[] = { "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph",
	"Thomas", "Carlos", "Daniel", "Matthew", "Anthony", "Mark", "Wei", "Steven", "Andrew", "Kenji", "Omar", "Luis" };
static const char *const first_f[] = { "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
	"Sarah", "Karen", "Maria", "Nancy", "Lisa", "Betty", "Mei", "Sandra", "Ashley", "Aiko", "Fatima", "Ana" };
static const char *const lasts[] = { "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
	"Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
	"Robinson", "Walker", "Young" };
static const char *const streets[] = { "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Lake Rd",
	"Hill St", "Park Ave", "River Rd", "Church St", "Mill Rd", "Sunset Blvd", "Washington St", "Lincoln Ave", "Jackson Rd" };
static const char *const cities[] = { "Springfield", "Riverton", "Fairview", "Greenville", "Madison", "Franklin",
	"Clinton", "Georgetown", "Salem", "Bristol", "Dover", "Ashland" };

#define N(a) (sizeof a / sizeof *a)

void gen_uuid(const struct gen_patient *p, uint32_t kind, uint32_t i, char out[37])
{
	struct rng r;
	rng_seed(&r, p->seed ^ 0x7575696475756964ull, ((uint64_t)p->site << 40) ^ p->index, ((uint64_t)kind << 32) | i);
	uint64_t a = rng_u64(&r), b = rng_u64(&r);
	static const char hx[] = "0123456789abcdef";
	int k = 0;
	for (int j = 0; j < 32; j++) {
		if (j == 8 || j == 12 || j == 16 || j == 20)
			out[k++] = '-';
		uint64_t w = j < 16 ? a : b;
		out[k++] = hx[(w >> (4 * (j & 15))) & 15];
	}
	out[k] = 0;
}

void gen_visit_id(const struct gen_patient *p, int i, char *buf, size_t n)
{
	snprintf(buf, n, "V%u-%02d", (unsigned)p->mrn, i + 1);
}

static int age_at(const struct gen_patient *p, int32_t day)
{
	return (int)((day - p->birth) / 365.25);
}

static int has_cond(const struct gen_patient *p, int c)
{
	for (int i = 0; i < p->ncond; i++)
		if (p->cond[i].cond == c)
			return 1;
	return 0;
}

static void add_med(struct gen_patient *p, int drug, int enc, int32_t day)
{
	if (drug < 0 || p->nmed >= GEN_MAX_MED)
		return;
	struct gen_medrec *m = &p->med[p->nmed++];
	m->drug = (uint8_t)drug;
	m->enc = (uint8_t)enc;
	m->start = day;
	m->end = day + gen_drugs[drug].days_supply;
}

static double test_value(struct rng *r, const struct gen_patient *p, const uint8_t chronic[C__COUNT], int t, int age, int acute)
{
	const struct gen_test *d = &gen_tests[t];
	double mean = d->mean, sd = d->sd;
	switch (t) {
	case T_GLUCOSE: if (chronic[C_T2DM]) { mean = 155; sd = 35; } break;
	case T_A1C: if (chronic[C_T2DM]) { mean = 7.4; sd = 1.0; } break;
	case T_CREAT: if (chronic[C_CKD3]) { mean = 1.7; sd = 0.3; } if (!p->male) mean *= 0.85; break;
	case T_BUN: if (chronic[C_CKD3]) { mean = 28; sd = 6; } break;
	case T_CHOL: if (chronic[C_HLD]) { mean = 235; sd = 30; } break;
	case T_LDL: if (chronic[C_HLD]) { mean = 152; sd = 25; } break;
	case T_TRIG: if (chronic[C_HLD]) { mean = 190; sd = 50; } break;
	case T_SYS: if (chronic[C_HTN]) { mean = 141; sd = 12; } if (age < 18) mean = 108; break;
	case T_DIA: if (chronic[C_HTN]) { mean = 88; sd = 8; } if (age < 18) mean = 66; break;
	case T_HGB: if (acute == C_GI_BLEED) { mean = 9.8; sd = 1.2; } if (!p->male) mean -= 1.2; break;
	case T_WBC: if (acute == C_PNEUMONIA || acute == C_UTI) { mean = 13.5; sd = 2.5; } break;
	case T_TEMP: if (acute == C_PNEUMONIA || acute == C_PHARYNGITIS) { mean = 38.3; sd = 0.4; } break;
	case T_HR: if (age < 12) mean = 95; break;
	case T_RR: if (age < 12) mean = 22; break;
	default: break;
	}
	double v = rng_normal(r, mean, sd);
	double floor = mean > 0 ? mean * 0.25 : 0;
	return v < floor ? floor : v;
}

void gen_patient_make(struct gen_patient *p, uint64_t seed, int site, uint64_t index)
{
	struct rng r;
	uint8_t chronic[C__COUNT] = { 0 };
	int32_t onset[C__COUNT] = { 0 };
	const int32_t today = date_from_ymd(GEN_TODAY_Y, 6, 30), win0 = date_from_ymd(2015, 1, 1);

	memset(p, 0, offsetof(struct gen_patient, enc));
	p->seed = seed;
	p->site = site;
	p->index = index;
	p->nenc = p->ncond = p->nmed = p->nimm = p->nall = 0;
	rng_seed(&r, seed, (uint64_t)site + 1, index + 1);
	rng_seed(&p->err, seed ^ 0x6572726f72ull, (uint64_t)site + 1, index + 1);

	/* who */
	p->mrn = (uint32_t)(1000000 + index);
	gen_uuid(p, 0, 0, p->uuid);
	snprintf(p->ssn, sizeof p->ssn, "999-%02u-%04u", rng_below(&r, 100), rng_below(&r, 10000));
	p->male = (uint8_t)rng_below(&r, 2);
	uint32_t u = rng_below(&r, 1000);
	int age = u < 200 ? (int)rng_below(&r, 18) : u < 550 ? 18 + (int)rng_below(&r, 27)
	        : u < 820 ? 45 + (int)rng_below(&r, 20) : 65 + (int)rng_below(&r, 26);
	p->birth = today - (int32_t)(age * 365.25) - (int32_t)rng_below(&r, 365);
	u = rng_below(&r, 1000);
	for (int i = 0, acc = 0; i < R__COUNT; i++) {
		acc += gen_races[i].permille;
		if ((int)u < acc || i == R__COUNT - 1) {
			p->race = (uint8_t)i;
			break;
		}
	}
	p->hispanic = rng_below(&r, 1000) < 180;
	p->first = p->male ? first_m[rng_below(&r, N(first_m))] : first_f[rng_below(&r, N(first_f))];
	p->last = lasts[rng_below(&r, N(lasts))];
	p->street = streets[rng_below(&r, N(streets))];
	p->city = cities[rng_below(&r, N(cities))];
	p->house = (uint16_t)(1 + rng_below(&r, 9999));
	snprintf(p->zip, sizeof p->zip, "%05u", 10000 + rng_below(&r, 89999));
	snprintf(p->phone, sizeof p->phone, "%03u-555-%04u", 201 + rng_below(&r, 700), rng_below(&r, 10000));

	/* chronic disease, by age */
	int nchronic = 0;
	for (int c = 0; c < C__COUNT; c++) {
		if (!gen_conds[c].chronic)
			continue;
		double f = age < 18 ? (c == C_ASTHMA ? 1.0 : 0.03) : age < 45 ? 0.4 : age < 65 ? 1.0 : 1.7;
		if (rng_unit(&r) * 1000 < gen_conds[c].permille * f) {
			chronic[c] = 1;
			int32_t lo = p->birth + 365 * (age < 18 ? 2 : 18), hi = today - 30;
			if (lo < today - 365 * 15)
				lo = today - 365 * 15;
			onset[c] = lo < hi ? lo + (int32_t)rng_below(&r, (uint32_t)(hi - lo)) : hi;
			nchronic++;
		}
	}

	/* encounters */
	int32_t w0 = p->birth + 1 > win0 ? p->birth + 1 : win0;
	int n = 2 + (int)rng_below(&r, 4) + (age >= 65 ? 4 : age >= 45 ? 2 : 0) + nchronic * 2;
	if (n > GEN_MAX_ENC)
		n = GEN_MAX_ENC;
	int32_t days[GEN_MAX_ENC];
	for (int i = 0; i < n; i++) {
		int32_t d = w0 + (int32_t)rng_below(&r, (uint32_t)(today - w0));
		int j = i;
		while (j > 0 && days[j - 1] > d) {
			days[j] = days[j - 1];
			j--;
		}
		days[j] = d;
	}
	uint8_t given[V__COUNT] = { 0 };
	int32_t last_given[V__COUNT];
	uint8_t diagnosed[C__COUNT] = { 0 };
	for (int v = 0; v < V__COUNT; v++)
		last_given[v] = -100000;

	for (int i = 0; i < n; i++) {
		struct gen_enc *e = &p->enc[p->nenc];
		int ei = p->nenc++;
		memset(e, 0, offsetof(struct gen_enc, obs));
		u = rng_below(&r, 1000);
		e->type = i == 0 ? E_WELL : u < 450 ? E_WELL : u < 800 ? E_SYMPTOM : u < 940 ? E_ER : E_IP;
		e->day = days[i];
		int ea = age_at(p, e->day);
		if (e->type == E_ER) {
			e->sec = (int32_t)rng_below(&r, 86400 - 9 * 3600);
			e->end_day = e->day;
			e->end_sec = e->sec + 7200 + (int32_t)rng_below(&r, 6 * 3600);
		} else if (e->type == E_IP) {
			e->sec = 6 * 3600 + (int32_t)rng_below(&r, 14 * 3600);
			e->end_day = e->day + 1 + (int32_t)rng_below(&r, 6);
			e->end_sec = 10 * 3600 + (int32_t)rng_below(&r, 5 * 3600);
		} else {
			e->sec = 8 * 3600 + (int32_t)rng_below(&r, 9 * 4) * 900;
			e->end_day = e->day;
			e->end_sec = e->sec + 900 + (int32_t)rng_below(&r, 3) * 900;
		}
		e->updated = rng_below(&r, 100) < 8;

		/* what brought them: an acute problem */
		int acute = -1;
		int want = e->type == E_IP ? 100 : e->type == E_ER ? 75 : e->type == E_SYMPTOM ? 80 : 4;
		if ((int)rng_below(&r, 100) < want) {
			uint32_t tot = 0;
			for (int c = 0; c < C__COUNT; c++)
				if (!gen_conds[c].chronic && (gen_conds[c].enc_mask & (1u << e->type)))
					tot += gen_conds[c].permille;
			uint32_t pick = tot ? rng_below(&r, tot) : 0;
			for (int c = 0; c < C__COUNT && tot; c++) {
				if (gen_conds[c].chronic || !(gen_conds[c].enc_mask & (1u << e->type)))
					continue;
				if (pick < gen_conds[c].permille) {
					acute = c;
					break;
				}
				pick -= gen_conds[c].permille;
			}
		}
		if (acute >= 0 && p->ncond < GEN_MAX_COND) {
			struct gen_condrec *c = &p->cond[p->ncond++];
			c->cond = (uint8_t)acute;
			c->enc = (uint8_t)ei;
			c->start = e->day;
			c->end = acute == C_EMPLOYED ? -1 : e->end_day + 7 + (int32_t)rng_below(&r, 14);
			const struct gen_cond *cd = &gen_conds[acute];
			if (cd->drug[0] >= 0)
				add_med(p, cd->drug[cd->drug[1] >= 0 && rng_below(&r, 2) ? 1 : 0], ei, e->day);
		}

		/* chronic problems: diagnosed at the first visit after onset, treated, renewed */
		for (int c = 0; c < C__COUNT; c++) {
			if (!chronic[c] || onset[c] > e->day)
				continue;
			const struct gen_cond *cd = &gen_conds[c];
			if (!diagnosed[c]) {
				diagnosed[c] = 1;
				if (p->ncond < GEN_MAX_COND) {
					struct gen_condrec *cr = &p->cond[p->ncond++];
					cr->cond = (uint8_t)c;
					cr->enc = (uint8_t)ei;
					cr->start = e->day;
					cr->end = -1;
				}
				if (cd->drug[0] >= 0 && rng_below(&r, 100) < 75)
					add_med(p, cd->drug[0], ei, e->day);
				if (cd->drug[1] >= 0 && rng_below(&r, 100) < 30)
					add_med(p, cd->drug[1], ei, e->day);
			} else if (e->type == E_WELL) {
				for (int m = 0; m < p->nmed; m++)
					if ((p->med[m].drug == cd->drug[0] || p->med[m].drug == cd->drug[1])
					    && p->med[m].start < e->day && gen_drugs[p->med[m].drug].refills > 0) {
						if (rng_below(&r, 100) < 80)
							add_med(p, p->med[m].drug, ei, e->day);
						break;
					}
			}
		}

		/* vital signs and labs */
		e->panels[e->npanels++] = P_VITALS;
		int adult = ea >= 18;
		switch (e->type) {
		case E_WELL:
			if (adult && rng_below(&r, 100) < 60) e->panels[e->npanels++] = P_BMP;
			if (rng_below(&r, 100) < (adult ? 40 : 10)) e->panels[e->npanels++] = P_CBC;
			if (adult && rng_below(&r, 100) < (chronic[C_HLD] ? 75 : 30)) e->panels[e->npanels++] = P_LIPID;
			if (adult && rng_below(&r, 100) < (chronic[C_T2DM] ? 85 : 8)) e->panels[e->npanels++] = P_A1C;
			break;
		case E_SYMPTOM:
			if (rng_below(&r, 100) < 25) e->panels[e->npanels++] = P_CBC;
			if (adult && rng_below(&r, 100) < 15) e->panels[e->npanels++] = P_BMP;
			break;
		default:
			e->panels[e->npanels++] = P_BMP;
			e->panels[e->npanels++] = P_CBC;
			break;
		}
		if (rng_below(&r, 100) < 3)
			e->panels[e->npanels++] = P_POCT;
		double h = ea >= 18 ? rng_normal(&r, p->male ? 176 : 163, 7) : 52 + ea * 6.6 + rng_normal(&r, 0, 4);
		double w = ea >= 18 ? rng_normal(&r, p->male ? 86 : 74, 14) : 3.6 + ea * 3.1 + rng_normal(&r, 0, 2);
		if (w < 3)
			w = 3;
		e->nobs = 0;
		for (int k = 0; k < e->npanels; k++) {
			const struct gen_panel *pn = &gen_panels[e->panels[k]];
			for (int t = 0; t < pn->ntests && e->nobs < GEN_MAX_OBS; t++) {
				struct gen_obs *o = &e->obs[e->nobs++];
				o->test = pn->tests[t];
				if (o->test == T_HEIGHT)
					o->value = h;
				else if (o->test == T_WEIGHT)
					o->value = w;
				else if (o->test == T_BMI)
					o->value = w / ((h / 100) * (h / 100));
				else
					o->value = test_value(&r, p, chronic, o->test, ea, acute);
			}
		}

		/* vaccines at outpatient visits */
		if (e->type == E_WELL || e->type == E_SYMPTOM) {
			int yy, mm, dd;
			date_to_ymd(e->day, &yy, &mm, &dd);
			for (int v = 0; v < V__COUNT && p->nimm < GEN_MAX_IMM; v++) {
				const struct gen_vax *vx = &gen_vaxes[v];
				if (ea < vx->min_age || ea > vx->max_age)
					continue;
				int ok;
				if (vx->kind == 1)
					ok = (mm >= 9 || mm <= 3) && e->day - last_given[v] > 180 && rng_below(&r, 100) < 55;
				else if (vx->kind == 2)
					ok = e->day - last_given[v] > 3650 && rng_below(&r, 100) < 25;
				else
					ok = !given[v] && rng_below(&r, 100) < 30;
				if (!ok)
					continue;
				given[v] = 1;
				last_given[v] = e->day;
				struct gen_immrec *im = &p->imm[p->nimm++];
				im->vax = (uint8_t)v;
				im->enc = (uint8_t)ei;
				im->day = e->day;
				im->lot = 100000 + rng_below(&r, 900000);
			}
		}

		/* allergies, recorded at the first visit */
		if (i == 0) {
			int na = rng_below(&r, 100) < 20 ? (rng_below(&r, 100) < 25 ? 2 : 1) : 0;
			for (int a = 0; a < na; a++) {
				int which = (int)rng_below(&r, A__COUNT);
				if (p->nall && p->all[0].allergy == which)
					continue;
				struct gen_allrec *al = &p->all[p->nall++];
				al->allergy = (uint8_t)which;
				al->enc = (uint8_t)ei;
				al->day = e->day;
			}
		}
	}
	(void)has_cond;
}
