/*
 * test_csv_synthea.c - the CSV extractor on both Synthea reference exports.
 *
 *   ../shared/data/csv/synthea-OHDSI-dbt-synthea-seeds/synthea   profile synthea       (18 files)
 *   ../shared/data/csv/synthea-v1-2017-pressleydavid-fusephir/csv profile synthea-2017 (9 files)
 *
 * Every file through a tu_sink: rows read = loaded + quarantined + skipped,
 * records per kind and per file as expected; content of chosen records;
 * event keys unique; the same records whether the input is read whole, one
 * byte at a time, or zstd-compressed.
 *
 * The expected numbers were derived from the files independently of the
 * extractor, with Python's csv module, e.g.
 *   python3 -c "import csv;r=list(csv.DictReader(open('patients.csv')));
 *               print(len(r), sum(1 for x in r if x['DEATHDATE']))"
 * rows = data rows of each file; one event per row of the clinical files;
 * patients.csv: a person and a location per row, a death per non-empty
 * DEATHDATE; organizations.csv: a care site and a location per row;
 * a cost per row of encounters, medications, immunizations and procedures;
 * a payer period per row of payer_transitions;
 * claims, claims_transactions, payers: all rows skipped.
 */
#include "testutil.h"
#include "etl/extract/csv_extract.h"
#include "etl/extract/extract.h"
#include "core/date.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/path.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define CUR "csv/synthea-OHDSI-dbt-synthea-seeds/synthea"
#define OLD "csv/synthea-v1-2017-pressleydavid-fusephir/csv"

struct expect {
	const char *file;
	unsigned long rows, loaded, skipped;
	unsigned long person, death, visit, event, provider, care_site, location;
	int ev;                 /* the event kind of the file's events */
	unsigned long cost, payer_period;
};

static const struct expect cur[] = {
	{ "allergies.csv", 40, 40, 0, 0, 0, 0, 40, 0, 0, 0, EV_ALLERGY, 0, 0 },
	{ "careplans.csv", 49, 49, 0, 0, 0, 0, 49, 0, 0, 0, EV_OBSERVATION, 0, 0 },
	{ "claims.csv", 1267, 0, 1267, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "claims_transactions.csv", 5228, 0, 5228, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "conditions.csv", 438, 438, 0, 0, 0, 0, 438, 0, 0, 0, EV_CONDITION, 0, 0 },
	{ "devices.csv", 3, 3, 0, 0, 0, 0, 3, 0, 0, 0, EV_DEVICE, 0, 0 },
	{ "encounters.csv", 604, 604, 0, 0, 0, 604, 0, 0, 0, 0, 0, 604, 0 },
	{ "imaging_studies.csv", 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, EV_PROCEDURE, 0, 0 },
	{ "immunizations.csv", 29, 29, 0, 0, 0, 0, 29, 0, 0, 0, EV_IMMUNIZATION, 29, 0 },
	{ "medications.csv", 663, 663, 0, 0, 0, 0, 663, 0, 0, 0, EV_DRUG, 663, 0 },
	{ "observations.csv", 990, 990, 0, 0, 0, 0, 990, 0, 0, 0, EV_MEASUREMENT, 0, 0 },
	{ "organizations.csv", 63, 63, 0, 0, 0, 0, 0, 0, 63, 63, 0, 0, 0 },
	{ "patients.csv", 27, 27, 0, 27, 2, 0, 0, 0, 0, 27, 0, 0, 0 },
	{ "payer_transitions.csv", 1051, 1051, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1051 },
	{ "payers.csv", 10, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "procedures.csv", 249, 249, 0, 0, 0, 0, 249, 0, 0, 0, EV_PROCEDURE, 249, 0 },
	{ "providers.csv", 166, 166, 0, 0, 0, 0, 0, 166, 0, 0, 0, 0, 0 },
	{ "supplies.csv", 72, 72, 0, 0, 0, 0, 72, 0, 0, 0, EV_DEVICE, 0, 0 },
};

static const struct expect old[] = {
	{ "allergies.csv", 103, 103, 0, 0, 0, 0, 103, 0, 0, 0, EV_ALLERGY, 0, 0 },
	{ "careplans.csv", 1451, 1451, 0, 0, 0, 0, 1451, 0, 0, 0, EV_OBSERVATION, 0, 0 },
	{ "conditions.csv", 874, 874, 0, 0, 0, 0, 874, 0, 0, 0, EV_CONDITION, 0, 0 },
	{ "encounters.csv", 1785, 1785, 0, 0, 0, 1785, 0, 0, 0, 0, 0, 0, 0 },
	{ "immunizations.csv", 1266, 1266, 0, 0, 0, 0, 1266, 0, 0, 0, EV_IMMUNIZATION, 0, 0 },
	{ "medications.csv", 775, 775, 0, 0, 0, 0, 775, 0, 0, 0, EV_DRUG, 0, 0 },
	{ "observations.csv", 7019, 7019, 0, 0, 0, 0, 7019, 0, 0, 0, EV_MEASUREMENT, 0, 0 },
	{ "patients.csv", 285, 285, 0, 285, 85, 0, 0, 0, 0, 285, 0, 0, 0 },
	{ "procedures.csv", 854, 854, 0, 0, 0, 0, 854, 0, 0, 0, EV_PROCEDURE, 0, 0 },
};

/* ---- what the test sink sees, beyond tu_sink's counts ---- */

struct seen {
	uint64_t digest;               /* over every record, in order */
	unsigned long vals[4];         /* events by value kind */
	unsigned long repeated;        /* event keys with a "#n" repeat suffix */
	unsigned long cls[16];         /* visits by class word, see class_words */
	unsigned long origin[ORIG__COUNT];
	unsigned long dup_keys;        /* event keys seen twice (must stay 0) */
	uint64_t *keys;                /* open-addressing set of event key hashes */
	size_t kmask;
	unsigned checks;               /* content checks that matched (bit per check) */
	double quantity;               /* sum of event quantities */
};

static const char *const class_words[] = {
	"ambulatory", "wellness", "outpatient", "emergency", "inpatient", "urgentcare", "home", NULL
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	return hash64(p, n, h);
}

static uint64_t mix_span(uint64_t h, struct span s)
{
	h = mix(h, &s.n, sizeof s.n);
	return s.n ? mix(h, s.p, s.n) : h;
}

static uint64_t mix_code(uint64_t h, const struct code *c)
{
	return mix_span(mix_span(mix_span(h, c->system), c->code), c->display);
}

static uint64_t mix_dt(uint64_t h, struct dt d)
{
	int64_t v[3] = { d.day, d.sec, d.prec };
	return mix(h, v, sizeof v);
}

static uint64_t mix_num(uint64_t h, double d)
{
	if (isnan(d))
		d = -12345.678;
	return mix(h, &d, sizeof d);
}

/* A hash over every field a record carries. */
static uint64_t record_digest(uint64_t h, const struct record *r)
{
	h = mix(h, &r->kind, 1);
	switch (r->kind) {
	case REC_PERSON: {
		const struct rec_person *p = &r->u.person;
		h = mix_span(h, p->key);
		h = mix_code(mix_code(mix_code(h, &p->gender), &p->race), &p->ethnicity);
		h = mix_dt(h, p->birth);
		h = mix_span(mix_span(mix_span(h, p->location), p->provider), p->care_site);
		break;
	}
	case REC_DEATH:
		h = mix_span(h, r->u.death.person);
		h = mix_dt(h, r->u.death.date);
		h = mix_code(h, &r->u.death.cause);
		h = mix(h, &r->u.death.origin, 1);
		break;
	case REC_VISIT: {
		const struct rec_visit *v = &r->u.visit;
		h = mix_span(mix_span(h, v->key), v->person);
		h = mix_code(h, &v->cls);
		h = mix_dt(mix_dt(h, v->start), v->end);
		h = mix_span(mix_span(h, v->provider), v->care_site);
		h = mix_code(mix_code(h, &v->admitted_from), &v->discharged_to);
		h = mix(h, &v->origin, 1);
		break;
	}
	case REC_EVENT: {
		const struct rec_event *ev = &r->u.event;
		h = mix(mix(h, &ev->kind, 1), &ev->origin, 1);
		h = mix_span(mix_span(mix_span(mix_span(h, ev->key), ev->person), ev->visit), ev->provider);
		h = mix_code(mix_code(h, &ev->code), &ev->code_alt);
		h = mix_dt(mix_dt(h, ev->start), ev->end);
		h = mix(h, &ev->value.kind, 1);
		h = mix_num(h, ev->value.num);
		h = mix_span(mix_span(h, ev->value.op), ev->value.text);
		h = mix_code(mix_code(h, &ev->value.coded), &ev->value.unit);
		h = mix_num(mix_num(mix_num(h, ev->value.low), ev->value.high), ev->quantity);
		h = mix(mix(h, &ev->days_supply, 4), &ev->refills, 4);
		h = mix_code(mix_code(h, &ev->route), &ev->qualifier);
		h = mix_span(mix_span(mix_span(h, ev->lot), ev->sig), ev->stop_reason);
		h = mix_span(mix_span(h, ev->title), ev->text);
		break;
	}
	case REC_PROVIDER: {
		const struct rec_provider *p = &r->u.provider;
		h = mix_span(mix_span(mix_span(mix_span(h, p->key), p->name), p->npi), p->dea);
		h = mix_code(mix_code(h, &p->specialty), &p->gender);
		h = mix_span(h, p->care_site);
		h = mix(h, &p->year_of_birth, 4);
		break;
	}
	case REC_CARE_SITE:
		h = mix_span(mix_span(h, r->u.care_site.key), r->u.care_site.name);
		h = mix_code(h, &r->u.care_site.place_of_service);
		h = mix_span(h, r->u.care_site.location);
		break;
	case REC_LOCATION: {
		const struct rec_location *l = &r->u.location;
		h = mix_span(mix_span(mix_span(mix_span(h, l->key), l->address_1), l->address_2), l->city);
		h = mix_span(mix_span(mix_span(mix_span(h, l->state), l->zip), l->county), l->country);
		h = mix_num(mix_num(h, l->latitude), l->longitude);
		break;
	}
	case REC_COST: {
		const struct rec_cost *c = &r->u.cost;
		h = mix_span(mix_span(mix_span(mix_span(h, c->key), c->visit), c->event), c->currency);
		h = mix_num(mix_num(mix_num(h, c->total_charge), c->total_cost), c->paid_by_payer);
		break;
	}
	case REC_PAYER_PERIOD: {
		const struct rec_payer_period *p = &r->u.payer_period;
		h = mix_span(mix_span(h, p->key), p->person);
		h = mix_dt(mix_dt(h, p->start), p->end);
		h = mix_span(mix_span(h, p->payer), p->plan);
		break;
	}
	default:
		fail_msg("unexpected record kind %d", r->kind);
	}
	return h;
}

static void key_seen(struct seen *s, const struct record *r)
{
	const struct rec_event *ev = &r->u.event;
	assert_true(ev->key.n > 0);
	uint64_t h = hash64(ev->key.p, ev->key.n, 7) | 1;
	size_t i = (size_t)h & s->kmask;
	while (s->keys[i] && s->keys[i] != h)
		i = (i + 1) & s->kmask;
	if (s->keys[i] == h)
		s->dup_keys++;
	s->keys[i] = h;
	if (memchr(ev->key.p, '#', ev->key.n))
		s->repeated++;
}

static int32_t ymd(int y, int m, int d) { return date_from_ymd(y, m, d); }

/* Content checks on chosen records (both layouts). */
static void check_content(struct seen *s, const struct record *r)
{
	if (r->kind == REC_PERSON && span_eq_str(r->u.person.key, "3edac2e3-d223-6fae-d515-daf96ef6bc76")) {
		const struct rec_person *p = &r->u.person;
		assert_int_equal(p->birth.day, ymd(2014, 10, 6));
		assert_int_equal(p->birth.prec, DT_DAY);
		assert_true(span_eq_str(p->gender.code, "M"));
		assert_true(span_eq_str(p->gender.system, "SYNTHEA"));
		assert_true(span_eq_str(p->race.code, "white"));
		assert_true(span_eq_str(p->ethnicity.code, "nonhispanic"));
		assert_true(span_eq_str(p->location, "patient|3edac2e3-d223-6fae-d515-daf96ef6bc76"));
		s->checks |= 1u << 0;
	}
	if (r->kind == REC_LOCATION && span_eq_str(r->u.location.key, "patient|3edac2e3-d223-6fae-d515-daf96ef6bc76")) {
		assert_true(span_eq_str(r->u.location.state, "MA")); /* "Massachusetts" through [map us-states] */
		assert_true(span_eq_str(r->u.location.zip, "02155"));
		assert_true(span_eq_str(r->u.location.city, "Somerville"));
		assert_true(span_empty(r->u.location.address_1));
		assert_true(isnan(r->u.location.latitude));
		s->checks |= 1u << 1;
	}
	if (r->kind == REC_DEATH && span_eq_str(r->u.death.person, "261ad2a4-7c6f-da54-6a5b-3441beab9a6a")) {
		assert_int_equal(r->u.death.date.day, ymd(1976, 7, 25));
		s->checks |= 1u << 2;
	}
	if (r->kind == REC_VISIT && span_eq_str(r->u.visit.key, "57f2562b-445c-f11c-ba40-edc55af3c84f")) {
		const struct rec_visit *v = &r->u.visit;
		assert_true(span_eq_str(v->cls.code, "ambulatory"));
		assert_true(span_eq_str(v->cls.system, "SYNTHEA_CLASS"));
		assert_true(span_eq_str(v->person, "3edac2e3-d223-6fae-d515-daf96ef6bc76"));
		assert_int_equal(v->start.day, ymd(2023, 1, 27));
		assert_int_equal(v->start.sec, 16 * 3600 + 17 * 60 + 47);
		assert_int_equal(v->end.sec, 16 * 3600 + 32 * 60 + 47);
		assert_true(span_eq_str(v->provider, "2d85c411-b7bb-3133-8903-276c2e31f452"));
		assert_true(span_eq_str(v->care_site, "e002090d-4e92-300e-b41e-7d1f21dee4c6"));
		assert_int_equal(v->origin, ORIG_EHR_ENCOUNTER);
		s->checks |= 1u << 3;
	}
	if (r->kind == REC_CARE_SITE && span_eq_str(r->u.care_site.key, "e002090d-4e92-300e-b41e-7d1f21dee4c6")) {
		assert_true(span_eq_str(r->u.care_site.name, "CAMBRIDGE HEALTH ALLIANCE"));
		s->checks |= 1u << 4;
	}
	if (r->kind == REC_PROVIDER && span_eq_str(r->u.provider.key, "2d85c411-b7bb-3133-8903-276c2e31f452")) {
		assert_true(span_eq_str(r->u.provider.care_site, "e002090d-4e92-300e-b41e-7d1f21dee4c6"));
		assert_true(span_eq_str(r->u.provider.specialty.code, "GENERAL PRACTICE"));
		assert_true(span_eq_str(r->u.provider.name, "V\xc3\xad" "ctor493 Noriega353"));
		s->checks |= 1u << 5;
	}
	if (r->kind != REC_EVENT)
		return;
	const struct rec_event *ev = &r->u.event;
	if (!span_eq_str(ev->person, "3edac2e3-d223-6fae-d515-daf96ef6bc76") &&
	    !span_eq_str(ev->person, "9d188916-8390-282b-3ec2-73fce6e08649"))
		return;
	if (ev->kind == EV_MEASUREMENT && span_eq_str(ev->code.code, "8302-2") &&
	    span_eq_str(ev->visit, "0622440b-ab3a-87bf-b0d7-f8145ac11cc5")) {
		assert_int_equal(ev->value.kind, VAL_NUM);
		assert_true(ev->value.num == 127.9);
		assert_true(span_eq_str(ev->value.text, "127.9"));
		assert_true(span_eq_str(ev->value.unit.code, "cm"));
		assert_true(span_eq_str(ev->value.unit.system, "UCUM"));
		assert_true(span_eq_str(ev->code.system, "LOINC"));
		assert_true(span_eq_str(ev->code.display, "Body Height"));
		assert_int_equal(ev->start.day, ymd(2023, 10, 10));
		assert_int_equal(ev->start.sec, 4 * 3600 + 17 * 60 + 47);
		assert_int_equal(ev->origin, ORIG_EHR);
		s->checks |= 1u << 6;
	}
	if (ev->kind == EV_MEASUREMENT && span_eq_str(ev->code.code, "72166-2") &&
	    span_eq_str(ev->visit, "0622440b-ab3a-87bf-b0d7-f8145ac11cc5")) {
		assert_int_equal(ev->value.kind, VAL_TEXT);
		assert_true(span_eq_str(ev->value.text, "Never smoker"));
		assert_true(span_empty(ev->value.unit.code));
		s->checks |= 1u << 7;
	}
	if (ev->kind == EV_CONDITION && span_eq_str(ev->code.code, "195662009")) {
		assert_true(span_eq_str(ev->code.system, "SNOMED"));
		assert_true(span_eq_str(ev->code.display, "Acute viral pharyngitis (disorder)"));
		assert_int_equal(ev->start.day, ymd(2023, 1, 27));
		assert_int_equal(ev->start.prec, DT_DAY);
		assert_int_equal(ev->end.day, ymd(2023, 2, 9));
		assert_true(span_eq_str(ev->visit, "57f2562b-445c-f11c-ba40-edc55af3c84f"));
		assert_true(span_eq_str(ev->key, "condition|3edac2e3-d223-6fae-d515-daf96ef6bc76|"
		                                 "57f2562b-445c-f11c-ba40-edc55af3c84f|195662009|2023-01-27"));
		s->checks |= 1u << 8;
	}
	if (ev->kind == EV_ALLERGY && span_eq_str(ev->code.code, "111088007")) {
		assert_true(span_eq_str(ev->code.system, "SNOMED-CT"));
		assert_int_equal(ev->value.kind, VAL_CODED);
		assert_true(span_eq_str(ev->value.coded.code, "418290006"));
		assert_true(span_eq_str(ev->value.coded.system, "SNOMED"));
		assert_true(span_eq_str(ev->qualifier.code, "MODERATE"));
		s->checks |= 1u << 9;
	}
	if (ev->kind == EV_IMMUNIZATION && span_eq_str(ev->code.code, "140") &&
	    span_eq_str(ev->person, "3edac2e3-d223-6fae-d515-daf96ef6bc76")) {
		assert_true(span_eq_str(ev->code.system, "CVX"));
		assert_int_equal(ev->origin, ORIG_ADMINISTRATION);
		s->checks |= 1u << 10;
	}
	if (ev->kind == EV_DRUG && span_eq_str(ev->code.code, "665078")) {
		assert_true(span_eq_str(ev->code.system, "RxNorm"));
		assert_int_equal(ev->start.day, ymd(2009, 9, 27));
		assert_int_equal(ev->end.prec, DT_NONE);
		assert_int_equal(ev->origin, ORIG_PRESCRIPTION);
		s->checks |= 1u << 11;
	}
}

/* 2017 layout content checks. */
static void check_content_2017(struct seen *s, const struct record *r)
{
	if (r->kind == REC_PERSON && span_eq_str(r->u.person.key, "5247a9ef-7702-4d70-b7af-a863a64a3902")) {
		assert_int_equal(r->u.person.birth.day, ymd(2002, 4, 6));
		assert_true(span_eq_str(r->u.person.gender.code, "F"));
		assert_true(span_eq_str(r->u.person.race.code, "white"));
		assert_true(span_eq_str(r->u.person.ethnicity.code, "nonhispanic"));
		s->checks |= 1u << 12;
	}
	if (r->kind == REC_LOCATION && span_eq_str(r->u.location.key, "patient|5247a9ef-7702-4d70-b7af-a863a64a3902")) {
		assert_true(span_eq_str(r->u.location.state, "MA"));
		assert_true(span_eq_str(r->u.location.zip, "01503"));
		s->checks |= 1u << 13;
	}
	if (r->kind == REC_VISIT && span_eq_str(r->u.visit.key, "250a84a0-d735-4db1-8976-7acab22017fb")) {
		assert_true(span_eq_str(r->u.visit.cls.code, "emergency"));       /* 50849002 */
		assert_true(span_eq_str(r->u.visit.cls.display, "Emergency room admission"));
		assert_int_equal(r->u.visit.start.day, ymd(2013, 5, 13));
		assert_int_equal(r->u.visit.start.prec, DT_DAY);
		s->checks |= 1u << 14;
	}
	if (r->kind == REC_EVENT && r->u.event.kind == EV_MEASUREMENT &&
	    span_eq_str(r->u.event.person, "5247a9ef-7702-4d70-b7af-a863a64a3902") &&
	    span_eq_str(r->u.event.code.code, "8302-2") && r->u.event.start.day == ymd(2012, 10, 20)) {
		assert_int_equal(r->u.event.value.kind, VAL_NUM);
		assert_true(r->u.event.value.num == 130.61);
		assert_true(span_eq_str(r->u.event.value.unit.code, "cm"));
		s->checks |= 1u << 15;
	}
}

static void on_emit(struct tu_sink *ts, const struct record *r)
{
	struct seen *s = ts->user;
	s->digest = record_digest(s->digest, r);
	if (r->kind == REC_EVENT) {
		s->vals[r->u.event.value.kind]++;
		s->origin[r->u.event.origin]++;
		key_seen(s, r);
		if (!isnan(r->u.event.quantity))
			s->quantity += r->u.event.quantity;
	}
	if (r->kind == REC_VISIT) {
		for (int i = 0; class_words[i]; i++)
			if (span_eq_str(r->u.visit.cls.code, class_words[i]))
				s->cls[i]++;
	}
	check_content(s, r);
	check_content_2017(s, r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Read every file of dir that the profile wants, in name order, each with a
 * fresh tu_sink checked against exp (NULL: no per-file checks). read_size 0:
 * whole, 1: byte by byte. Returns the number of files read.
 */
static size_t run_dir(const char *profile, const char *dir, const struct expect *exp, size_t nexp,
                      size_t read_size, struct seen *s)
{
	const struct extract_ops *op = extract_find("csv");
	assert_non_null(op);
	struct extractor *x;
	struct err e = { 0 };
	int rc = op->open(&x, profile, NULL, &e);
	if (rc < 0)
		fail_msg("open %s: %s", profile, e.msg);
	csv_extract_set_read_size(x, read_size);

	DIR *d = opendir(dir);
	assert_non_null(d);
	char *names[64];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 64)
		if (de->d_name[0] != '.')
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);

	size_t files = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (!op->wants(x, path)) {
			free(names[i]);
			continue;
		}
		struct tu_sink ts;
		tu_sink_init(&ts);
		ts.on_emit = on_emit;
		ts.user = s;
		rc = op->run(x, path, &ts.base, &e);
		if (rc < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_false(ts.in_record);
		/* nothing lost: every row is loaded, quarantined or skipped */
		assert_int_equal(ts.begun, ts.loaded + ts.quarantined + ts.skipped);
		if (exp) {
			size_t k;
			for (k = 0; k < nexp; k++)
				if (!strcmp(exp[k].file, names[i]))
					break;
			if (k == nexp)
				fail_msg("unexpected file %s", names[i]);
			const struct expect *x1 = &exp[k];
			if (ts.begun != x1->rows || ts.loaded != x1->loaded || ts.skipped != x1->skipped || ts.quarantined)
				fail_msg("%s: rows %lu loaded %lu skipped %lu quarantined %lu (%s), expected %lu %lu %lu 0",
				         names[i], ts.begun, ts.loaded, ts.skipped, ts.quarantined, ts.last_q.msg,
				         x1->rows, x1->loaded, x1->skipped);
			assert_int_equal(ts.by_kind[REC_PERSON], x1->person);
			assert_int_equal(ts.by_kind[REC_DEATH], x1->death);
			assert_int_equal(ts.by_kind[REC_VISIT], x1->visit);
			assert_int_equal(ts.by_kind[REC_EVENT], x1->event);
			assert_int_equal(ts.by_kind[REC_PROVIDER], x1->provider);
			assert_int_equal(ts.by_kind[REC_CARE_SITE], x1->care_site);
			assert_int_equal(ts.by_kind[REC_LOCATION], x1->location);
			assert_int_equal(ts.by_kind[REC_COST], x1->cost);
			assert_int_equal(ts.by_kind[REC_PAYER_PERIOD], x1->payer_period);
			if (x1->ev)
				assert_int_equal(ts.events_by_kind[x1->ev], x1->event);
		}
		files++;
		free(names[i]);
	}
	op->close(x);
	return files;
}

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof *s);
	s->kmask = (1u << 16) - 1;
	s->keys = xcalloc(s->kmask + 1, sizeof *s->keys);
}

static void test_synthea_current(void **state)
{
	(void)state;
	struct seen s;
	seen_init(&s);
	size_t files = run_dir("synthea", tu_shared(CUR), cur, sizeof cur / sizeof *cur, 0, &s);
	assert_int_equal(files, 18);
	assert_int_equal(s.dup_keys, 0);
	assert_int_equal(s.repeated, 0);
	/* observations: TYPE numeric 599, text 391; allergies: 22 with a reaction */
	assert_int_equal(s.vals[VAL_NUM], 599);
	assert_int_equal(s.vals[VAL_TEXT], 391);
	assert_int_equal(s.vals[VAL_CODED], 22);
	/* CATEGORY laboratory: 251 lab results */
	assert_int_equal(s.origin[ORIG_LAB], 251);
	/* ENCOUNTERCLASS as written */
	assert_int_equal(s.cls[0], 174); /* ambulatory */
	assert_int_equal(s.cls[1], 348); /* wellness */
	assert_int_equal(s.cls[2], 52);  /* outpatient */
	assert_int_equal(s.cls[3], 17);  /* emergency */
	assert_int_equal(s.cls[4], 11);  /* inpatient */
	assert_int_equal(s.cls[5], 2);   /* urgentcare */
	/* supplies: the QUANTITY column adds up to 588 */
	assert_true(s.quantity == 588.0);
	/* person, location, death, visit, care site, provider and 6 events: each matched */
	assert_int_equal(s.checks, 0xfff);
	free(s.keys);
}

static void test_synthea_2017(void **state)
{
	(void)state;
	struct seen s;
	seen_init(&s);
	size_t files = run_dir("synthea-2017", tu_shared(OLD), old, sizeof old / sizeof *old, 0, &s);
	assert_int_equal(files, 9);
	assert_int_equal(s.dup_keys, 0);
	/* exact duplicate rows within an encounter: 186 observations, 17 care-plan activities */
	assert_int_equal(s.repeated, 186 + 17);
	/* VALUE: 6897 read as numbers, 85 text, 37 empty (no value) */
	assert_int_equal(s.vals[VAL_NUM], 6897);
	assert_int_equal(s.vals[VAL_TEXT], 85);
	/* classes from the encounter codes by [map encounter-class] */
	assert_int_equal(s.cls[0], 690);
	assert_int_equal(s.cls[1], 516);
	assert_int_equal(s.cls[2], 484);
	assert_int_equal(s.cls[3], 68);
	assert_int_equal(s.cls[4], 10);
	assert_int_equal(s.cls[6], 17);
	assert_int_equal(s.checks, 0xfu << 12);
	free(s.keys);
}

/* The same records whether the files are read whole or one byte at a time. */
static void test_byte_by_byte(void **state)
{
	(void)state;
	struct seen a, b;
	seen_init(&a);
	seen_init(&b);
	run_dir("synthea-2017", tu_shared(OLD), old, sizeof old / sizeof *old, 0, &a);
	run_dir("synthea-2017", tu_shared(OLD), old, sizeof old / sizeof *old, 1, &b);
	assert_true(a.digest == b.digest);
	assert_int_equal(a.checks, b.checks);
	free(a.keys);
	free(b.keys);
	seen_init(&a);
	seen_init(&b);
	run_dir("synthea", tu_shared(CUR), cur, sizeof cur / sizeof *cur, 0, &a);
	run_dir("synthea", tu_shared(CUR), cur, sizeof cur / sizeof *cur, 1, &b);
	assert_true(a.digest == b.digest);
	assert_int_equal(b.checks, 0xfff);
	free(a.keys);
	free(b.keys);
}

/* .zst files are read directly: the same records as the plain files. */
static void test_zstd(void **state)
{
	(void)state;
	const char *tmp = tu_tmpdir("csv_zstd");
	static const char *const files[] = { "patients.csv", "observations.csv", "encounters.csv" };
	struct seen a, b;
	seen_init(&a);
	seen_init(&b);
	char plain[4000];
	snprintf(plain, sizeof plain, "%s/plain", tmp);
	char zdir[4000];
	snprintf(zdir, sizeof zdir, "%s/zst", tmp);
	assert_int_equal(path_mkdirs(plain, 0755, NULL), 0);
	assert_int_equal(path_mkdirs(zdir, 0755, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		char src[4096], dst[8300];
		snprintf(src, sizeof src, "%s/%s", tu_shared(OLD), files[i]);
		size_t n;
		char *p = tu_slurp(src, &n);
		assert_non_null(p);
		snprintf(dst, sizeof dst, "%s/%s", plain, files[i]);
		FILE *f = fopen(dst, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(p, 1, n, f), n);
		fclose(f);
		size_t cap = ZSTD_compressBound(n);
		void *z = xmalloc(cap);
		size_t zn = ZSTD_compress(z, cap, p, n, 3);
		assert_false(ZSTD_isError(zn));
		snprintf(dst, sizeof dst, "%s/%s.zst", zdir, files[i]);
		f = fopen(dst, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(z, 1, zn, f), zn);
		fclose(f);
		free(z);
		free(p);
	}
	assert_int_equal(run_dir("synthea-2017", plain, NULL, 0, 0, &a), 3);
	assert_int_equal(run_dir("synthea-2017", zdir, NULL, 0, 0, &b), 3);
	assert_true(a.digest == b.digest);
	assert_int_equal(b.checks, 0xfu << 12);
	free(a.keys);
	free(b.keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthea_current),
		cmocka_unit_test(test_synthea_2017),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_zstd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
