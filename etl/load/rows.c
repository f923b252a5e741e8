/*
 * rows.c - route records to CDM tables and format their COPY rows.
 *
 *   record --map (codes -> standard concepts, domain)--> table by domain
 *          --> one binary COPY row per target concept, ids as placeholders
 *
 * Routing: the mapped standard concept's domain decides the table (an
 * ICD-10-CM code that maps to an Observation lands in OBSERVATION; a
 * Measurement-domain code in a problem list lands in MEASUREMENT). A code that
 * does not map keeps the table its source kind implies, with concept 0 and its
 * source value. Several 'Maps to' targets give several rows (keys "#n").
 *
 * Field conventions per table follow the CDM v5.4 specification; text is cut to
 * the column's width (UTF-8 safe) rather than failing the COPY.
 */
#include "etl/load/load_int.h"
#include "core/mem.h"
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ncols: the number of letters in types */
#define TABLE(name, id_col, cols, types) { name, id_col, cols, types, (int)sizeof types - 1 }

const struct table_desc load_tables[T__COUNT] = {
	[T_PERSON] = TABLE("person", "person_id",
		"person_id, gender_concept_id, year_of_birth, month_of_birth, day_of_birth, birth_datetime, "
		"race_concept_id, ethnicity_concept_id, location_id, provider_id, care_site_id, person_source_value, "
		"gender_source_value, gender_source_concept_id, race_source_value, race_source_concept_id, "
		"ethnicity_source_value, ethnicity_source_concept_id", "84444t44888ss4s4s4"),
	[T_VISIT] = TABLE("visit_occurrence", "visit_occurrence_id",
		"visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_start_datetime, "
		"visit_end_date, visit_end_datetime, visit_type_concept_id, provider_id, care_site_id, "
		"visit_source_value, visit_source_concept_id, admitted_from_concept_id, admitted_from_source_value, "
		"discharged_to_concept_id, discharged_to_source_value", "884dtdt488s44s4s"),
	[T_PROVIDER] = TABLE("provider", "provider_id",
		"provider_id, provider_name, npi, dea, specialty_concept_id, care_site_id, year_of_birth, "
		"gender_concept_id, provider_source_value, specialty_source_value, specialty_source_concept_id, "
		"gender_source_value, gender_source_concept_id", "8sss4844ss4s4"),
	[T_CARE_SITE] = TABLE("care_site", "care_site_id",
		"care_site_id, care_site_name, place_of_service_concept_id, location_id, care_site_source_value, "
		"place_of_service_source_value", "8s48ss"),
	[T_LOCATION] = TABLE("location", "location_id",
		"location_id, address_1, address_2, city, state, zip, county, location_source_value, "
		"country_source_value, latitude, longitude", "8ssssssssnn"),
	[T_DEATH] = TABLE("death", NULL,
		"person_id, death_date, death_datetime, death_type_concept_id, cause_concept_id, cause_source_value, "
		"cause_source_concept_id", "8dt44s4"),
	[T_CONDITION] = TABLE("condition_occurrence", "condition_occurrence_id",
		"condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_start_datetime, "
		"condition_end_date, condition_end_datetime, condition_type_concept_id, condition_status_concept_id, "
		"stop_reason, provider_id, visit_occurrence_id, condition_source_value, condition_source_concept_id, "
		"condition_status_source_value", "884dtdt44s88s4s"),
	[T_DRUG] = TABLE("drug_exposure", "drug_exposure_id",
		"drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_start_datetime, "
		"drug_exposure_end_date, drug_exposure_end_datetime, verbatim_end_date, drug_type_concept_id, "
		"stop_reason, refills, quantity, days_supply, sig, route_concept_id, lot_number, provider_id, "
		"visit_occurrence_id, drug_source_value, drug_source_concept_id, route_source_value, dose_unit_source_value", "884dtdtd4s4n4s4s88s4ss"),
	[T_PROCEDURE] = TABLE("procedure_occurrence", "procedure_occurrence_id",
		"procedure_occurrence_id, person_id, procedure_concept_id, procedure_date, procedure_datetime, "
		"procedure_end_date, procedure_end_datetime, procedure_type_concept_id, modifier_concept_id, quantity, "
		"provider_id, visit_occurrence_id, procedure_source_value, procedure_source_concept_id, modifier_source_value", "884dtdt44488s4s"),
	[T_DEVICE] = TABLE("device_exposure", "device_exposure_id",
		"device_exposure_id, person_id, device_concept_id, device_exposure_start_date, device_exposure_start_datetime, "
		"device_exposure_end_date, device_exposure_end_datetime, device_type_concept_id, unique_device_id, "
		"quantity, provider_id, visit_occurrence_id, device_source_value, device_source_concept_id, "
		"unit_concept_id, unit_source_value", "884dtdt4s488s44s"),
	[T_MEASUREMENT] = TABLE("measurement", "measurement_id",
		"measurement_id, person_id, measurement_concept_id, measurement_date, measurement_datetime, "
		"measurement_time, measurement_type_concept_id, operator_concept_id, value_as_number, value_as_concept_id, "
		"unit_concept_id, range_low, range_high, provider_id, visit_occurrence_id, measurement_source_value, "
		"measurement_source_concept_id, unit_source_value, value_source_value", "884dts44n44nn88s4ss"),
	[T_OBSERVATION] = TABLE("observation", "observation_id",
		"observation_id, person_id, observation_concept_id, observation_date, observation_datetime, "
		"observation_type_concept_id, value_as_number, value_as_string, value_as_concept_id, qualifier_concept_id, "
		"unit_concept_id, provider_id, visit_occurrence_id, observation_source_value, observation_source_concept_id, "
		"unit_source_value, qualifier_source_value, value_source_value", "884dt4ns44488s4sss"),
	[T_NOTE] = TABLE("note", "note_id",
		"note_id, person_id, note_date, note_datetime, note_type_concept_id, note_class_concept_id, note_title, "
		"note_text, encoding_concept_id, language_concept_id, provider_id, visit_occurrence_id, note_source_value", "88dt44ss4488s"),
	[T_SPECIMEN] = TABLE("specimen", "specimen_id",
		"specimen_id, person_id, specimen_concept_id, specimen_type_concept_id, specimen_date, specimen_datetime, "
		"quantity, unit_concept_id, specimen_source_id, specimen_source_value, unit_source_value", "8844dtn4sss"),
	[T_COST] = TABLE("cost", "cost_id",
		"cost_id, cost_event_id, cost_domain_id, cost_type_concept_id, currency_concept_id, total_charge, "
		"total_cost, total_paid, paid_by_payer, paid_by_patient, revenue_code_source_value, drg_source_value", "88s44nnnnnss"),
	[T_PAYER_PLAN] = TABLE("payer_plan_period", "payer_plan_period_id",
		"payer_plan_period_id, person_id, payer_plan_period_start_date, payer_plan_period_end_date, "
		"payer_concept_id, payer_source_value, plan_concept_id, plan_source_value, family_source_value", "88dd4s4ss"),
};

/* OMOP concepts the loader itself needs (facts of the OMOP vocabulary). */
#define CONCEPT_UTF8 32678          /* encoding: UTF-8 */
#define CONCEPT_ENGLISH 4180186     /* language: English */
#define CONCEPT_NOTE_CLASS 44814645 /* note class: Note */
#define CONCEPT_USD 44818668        /* currency: United States dollar */

/* ---- field writers: each appends one field of a binary COPY row (db.h) ---- */

/* A row of table tbl begins: its number of fields. */
static void row_begin(struct filectx *f, int tbl)
{
	cb_row(&f->pend[tbl].b, load_tables[tbl].ncols + (tbl < T_FIRST_EVENT)); /* staged: + _ord */
}

/* An id placeholder for key entry k (patched when the key has its id: ids.c). */
static void f_key(struct filectx *f, int tbl, uint32_t k)
{
	struct pend *p = &f->pend[tbl];
	if (p->nfx == p->capfx) {
		p->capfx = p->capfx ? p->capfx * 2 : 256;
		p->fx = xrealloc(p->fx, mem_mul(p->capfx, sizeof *p->fx));
	}
	cb_i64(&p->b, 0);
	p->fx[p->nfx++] = (struct fixup){ p->b.n - 8, k };
}

/* The key entry of a hashed key, created if new.
 * probe: only to find an existing id (a retraction), never to make one. */
static uint32_t rows_key(struct filectx *f, uint8_t cls, struct hash128 h, int probe)
{
	struct keytab *t = &f->keys;
	size_t before = t->n;
	uint32_t k = keytab_get(t, h, cls);
	struct key_ent *en = &t->v[k];
	if (t->n > before) {
		en->probe = (uint8_t)probe;
		en->file_id = f->file_id;
	}
	else if (!probe && en->probe) {
		/* retracted earlier, now used for a row: it needs a real id */
		en->probe = 0;
		if (en->state != KS_UNRESOLVED && en->id == 0) {
			en->state = KS_UNRESOLVED;
			t->unresolved++;
		}
	}
	return k;
}

static uint32_t key_of(struct filectx *f, uint8_t cls, struct span key, int suffix)
{
	return rows_key(f, cls, keytab_hash(f->site->id, cls, key, suffix), 0);
}

/* An event's key (see keytab_hash_event: grouped by its leading parts). */
static uint32_t event_key(struct filectx *f, struct span key, int suffix, int probe)
{
	return rows_key(f, KC_EVENT, keytab_hash_event(f->site->id, key, suffix), probe);
}

/* The id of a referenced key, or NULL when the record gives none. */
static void f_ref(struct filectx *f, int tbl, uint8_t cls, struct span key)
{
	if (key.n == 0)
		cb_null(&f->pend[tbl].b);
	else
		f_key(f, tbl, key_of(f, cls, key, 0));
}

static void f_int(struct buf *b, int32_t v) { cb_i32(b, v); }

/* A concept id; 0 is a valid "no matching concept". */
static void f_concept(struct buf *b, int32_t c) { cb_i32(b, c); }

/* Source concept ids: NULL rather than 0 when there is no code at all. */
static void f_concept_opt(struct buf *b, int32_t c, int have)
{
	if (have)
		cb_i32(b, c);
	else
		cb_null(b);
}

/* A numeric column. */
static void f_num(struct buf *b, double v) { cb_numeric(b, v); }

/* An integer column that sources give as a number (device and procedure
 * quantity): rounded, NULL when unknown or out of range. */
static void f_num_int(struct buf *b, double v)
{
	if (isfinite(v) && fabs(v) < 2147483647.0)
		cb_i32(b, (int32_t)lround(v));
	else
		cb_null(b);
}

/* Text cut to max characters (UTF-8 aware); empty -> NULL. */
static void f_text(struct buf *b, struct span s, size_t max)
{
	if (s.n == 0) {
		cb_null(b);
		return;
	}
	if (max && s.n > max) {
		size_t chars = 0, i = 0;
		for (; i < s.n; i++) {
			if (((unsigned char)s.p[i] & 0xC0) != 0x80) {
				if (chars == max)
					break;
				chars++;
			}
		}
		s.n = i;
	}
	cb_bytes(b, s.p, s.n);
}

static void f_date(struct buf *b, struct dt d)
{
	if (d.prec == DT_NONE)
		cb_null(b);
	else
		cb_date(b, d.day);
}

static void f_ts(struct buf *b, struct dt d)
{
	if (d.prec == DT_NONE)
		cb_null(b);
	else
		cb_ts(b, d.day, d.sec);
}

/* A date the CDM needs to the day (an event's or a visit's start, a death)
 * sent to the month or the year only (HL7 DTM YYYYMM, ISO 2023-02, a C-CDA
 * TS of lower precision): its first day, with a note, as the C-CDA profiles'
 * partial_start = first_day does (a date without its day was refused with
 * no position before, and its record with it). */
static int partial(struct dt d)
{
	return d.prec == DT_YEAR || d.prec == DT_MONTH;
}
static void first_day(struct filectx *f, struct dt *d, const char *note)
{
	sink_note(&f->base, note);
	d->prec = DT_DAY;
}

/* Start date and time, end date and time (an end before the start is no end). */
static void f_period(struct buf *b, const struct rec_event *ev)
{
	struct dt end = ev->end.prec >= DT_DAY && ev->end.day >= ev->start.day ? ev->end : DT_EMPTY;
	f_date(b, ev->start);
	f_ts(b, ev->start);
	f_date(b, end);
	f_ts(b, end);
}

/* "code" or "system|code" as a source value (the code is what stewards search for). */
static struct span src_value(struct filectx *f, const struct code *c)
{
	(void)f;
	return c->code.n ? c->code : c->display;
}

/* ---- routing ---- */

static int table_of_domain(uint8_t dom, uint8_t kind)
{
	switch (dom) {
	case DOM_CONDITION: return T_CONDITION;
	case DOM_DRUG: return kind == EV_ALLERGY ? T_OBSERVATION : T_DRUG;
	case DOM_PROCEDURE: return T_PROCEDURE;
	case DOM_MEASUREMENT: return T_MEASUREMENT;
	case DOM_OBSERVATION: return T_OBSERVATION;
	case DOM_DEVICE: return T_DEVICE;
	case DOM_SPECIMEN: return T_SPECIMEN;
	case DOM_NOTE: return T_NOTE;
	case DOM_NONE: break;
	default: return T_OBSERVATION; /* Visit, Meas Value, Spec Anatomic Site ...: kept as observations */
	}
	switch (kind) {
	case EV_CONDITION: return T_CONDITION;
	case EV_DRUG: case EV_IMMUNIZATION: return T_DRUG;
	case EV_PROCEDURE: return T_PROCEDURE;
	case EV_MEASUREMENT: return T_MEASUREMENT;
	case EV_DEVICE: return T_DEVICE;
	case EV_SPECIMEN: return T_SPECIMEN;
	case EV_NOTE: return T_NOTE;
	default: return T_OBSERVATION;
	}
}

/* Remember a row just written, to settle at the record's end (sink.c). */
static void note_row(struct filectx *f, uint32_t key, int tbl, size_t off)
{
	if (f->nrr == f->caprr) {
		f->caprr = f->caprr ? f->caprr * 2 : 16;
		f->rr = xrealloc(f->rr, mem_mul(f->caprr, sizeof *f->rr));
	}
	f->rr[f->nrr++] = (struct rec_row){ key, (uint8_t)tbl, off, f->pend[tbl].b.n - off };
}

/* An event row ends: remember it (off: where it starts) under its own key. */
static void event_end(struct filectx *f, int tbl, uint32_t own, size_t off)
{
	note_row(f, own, tbl, off);
}

/* Staged rows end with their order in the file (the latest wins at the
 * merge); own is the row's own key, for counting distinct rows. */
static void staged_end(struct filectx *f, int tbl, uint32_t own)
{
	struct buf *b = &f->pend[tbl].b;
	size_t off = b->n;
	cb_i64(b, f->ord++);
	note_row(f, own, tbl, off);
}

static int32_t fixed(struct filectx *f, enum map_fixed k, const struct code *c)
{
	return c->code.n || c->display.n ? map_fixed(f->ix, k, c) : 0;
}

/* A fixed-value concept column: NULL when the source gives no value. */
static void f_fixed(struct filectx *f, struct buf *b, enum map_fixed k, const struct code *c)
{
	f_concept_opt(b, fixed(f, k, c), c->code.n || c->display.n);
}

/* ---- one function per record kind ---- */

static int row_person(struct filectx *f, const struct rec_person *p, struct err *e)
{
	if (p->key.n == 0)
		return err_set(e, E_NO_PATIENT, "no patient identifier");
	if (p->birth.prec < DT_YEAR) {
		/* the CDM requires a year of birth: events still load, the person row waits for a record that has it */
		sink_note(&f->base, "person without year of birth: person row not written");
		key_of(f, KC_PERSON, p->key, 0);
		return 0;
	}
	struct buf *b = &f->pend[T_PERSON].b;
	int y, m, d;
	date_to_ymd(p->birth.day, &y, &m, &d);
	int32_t g = fixed(f, MAPF_GENDER, &p->gender), r = fixed(f, MAPF_RACE, &p->race), eth = fixed(f, MAPF_ETHNICITY, &p->ethnicity);
	uint32_t own = key_of(f, KC_PERSON, p->key, 0);
	row_begin(f, T_PERSON);
	f_key(f, T_PERSON, own);
	f_concept(b, g);
	f_int(b, y);
	if (p->birth.prec >= DT_MONTH) f_int(b, m); else cb_null(b);
	if (p->birth.prec >= DT_DAY) f_int(b, d); else cb_null(b);
	if (p->birth.prec >= DT_DAY) f_ts(b, p->birth); else cb_null(b);
	f_concept(b, r);
	f_concept(b, eth);
	f_ref(f, T_PERSON, KC_LOCATION, p->location);
	f_ref(f, T_PERSON, KC_PROVIDER, p->provider);
	f_ref(f, T_PERSON, KC_CARE_SITE, p->care_site);
	f_text(b, p->key, 50);
	f_text(b, src_value(f, &p->gender), 50);
	f_concept_opt(b, 0, 0);
	f_text(b, src_value(f, &p->race), 50);
	f_concept_opt(b, 0, 0);
	f_text(b, src_value(f, &p->ethnicity), 50);
	f_concept_opt(b, 0, 0);
	staged_end(f, T_PERSON, own);
	return 0;
}

static int row_visit(struct filectx *f, const struct rec_visit *v, struct err *e)
{
	struct rec_visit day;
	if (partial(v->start)) {
		day = *v;
		first_day(f, &day.start, "visit start without its day: its first day taken");
		v = &day;
	}
	if (v->key.n == 0)
		return err_set(e, E_MISSING, "visit without an identifier");
	if (v->person.n == 0)
		return err_set(e, E_NO_PATIENT, "visit without a patient identifier");
	if (v->start.prec < DT_DAY) {
		sink_note(&f->base, "visit without a start date: visit row not written");
		key_of(f, KC_VISIT, v->key, 0);
		return 0;
	}
	struct buf *b = &f->pend[T_VISIT].b;
	int end_known = v->end.prec >= DT_DAY && v->end.day >= v->start.day;
	struct dt end = end_known ? v->end : v->start;
	uint32_t own = key_of(f, KC_VISIT, v->key, 0);
	row_begin(f, T_VISIT);
	f_key(f, T_VISIT, own);
	f_key(f, T_VISIT, key_of(f, KC_PERSON, v->person, 0));
	f_concept(b, fixed(f, MAPF_VISIT, &v->cls));
	f_date(b, v->start);
	f_ts(b, v->start);
	f_date(b, end);
	if (end_known) f_ts(b, end); else cb_null(b);
	f_concept(b, map_type_concept(f->ix, (enum rec_origin)v->origin));
	f_ref(f, T_VISIT, KC_PROVIDER, v->provider);
	f_ref(f, T_VISIT, KC_CARE_SITE, v->care_site);
	f_text(b, src_value(f, &v->cls), 50);
	f_concept_opt(b, 0, 0);
	f_concept_opt(b, fixed(f, MAPF_DISCHARGE, &v->admitted_from), v->admitted_from.code.n > 0);
	f_text(b, src_value(f, &v->admitted_from), 50);
	f_concept_opt(b, fixed(f, MAPF_DISCHARGE, &v->discharged_to), v->discharged_to.code.n > 0);
	f_text(b, src_value(f, &v->discharged_to), 50);
	staged_end(f, T_VISIT, own);
	return 0;
}

static int row_death(struct filectx *f, const struct rec_death *d, struct err *e)
{
	if (d->person.n == 0)
		return err_set(e, E_NO_PATIENT, "death without a patient identifier");
	struct dt date = d->date;
	if (partial(date))
		first_day(f, &date, "date of death without its day: its first day taken");
	if (date.prec < DT_DAY)
		return err_set(e, E_DATE, "death without a full date");
	struct buf *b = &f->pend[T_DEATH].b;
	struct map_result mr;
	int have_cause = d->cause.code.n > 0;
	if (have_cause)
		map_code(f->ix, f->mst, f->site->id, &d->cause, date.day, &mr);
	uint32_t own = key_of(f, KC_PERSON, d->person, 0);
	row_begin(f, T_DEATH);
	f_key(f, T_DEATH, own);
	f_date(b, date);
	f_ts(b, date);
	f_concept(b, map_type_concept(f->ix, (enum rec_origin)d->origin));
	f_concept_opt(b, have_cause ? mr.t[0].concept_id : 0, have_cause);
	f_text(b, d->cause.code, 50);
	f_concept_opt(b, have_cause ? mr.source_concept_id : 0, have_cause);
	staged_end(f, T_DEATH, own);
	return 0;
}

static int row_provider(struct filectx *f, const struct rec_provider *p, struct err *e)
{
	if (p->key.n == 0)
		return err_set(e, E_MISSING, "provider without an identifier");
	struct buf *b = &f->pend[T_PROVIDER].b;
	uint32_t own = key_of(f, KC_PROVIDER, p->key, 0);
	row_begin(f, T_PROVIDER);
	f_key(f, T_PROVIDER, own);
	f_text(b, p->name, 255);
	f_text(b, p->npi, 20);
	f_text(b, p->dea, 20);
	f_fixed(f, b, MAPF_SPECIALTY, &p->specialty);
	f_ref(f, T_PROVIDER, KC_CARE_SITE, p->care_site);
	if (p->year_of_birth > 0) f_int(b, p->year_of_birth); else cb_null(b);
	f_concept_opt(b, fixed(f, MAPF_GENDER, &p->gender), p->gender.code.n > 0);
	f_text(b, p->key, 50);
	f_text(b, src_value(f, &p->specialty), 50);
	f_concept_opt(b, 0, 0);
	f_text(b, src_value(f, &p->gender), 50);
	f_concept_opt(b, 0, 0);
	staged_end(f, T_PROVIDER, own);
	return 0;
}

static int row_care_site(struct filectx *f, const struct rec_care_site *c, struct err *e)
{
	if (c->key.n == 0)
		return err_set(e, E_MISSING, "care site without an identifier");
	struct buf *b = &f->pend[T_CARE_SITE].b;
	uint32_t own = key_of(f, KC_CARE_SITE, c->key, 0);
	row_begin(f, T_CARE_SITE);
	f_key(f, T_CARE_SITE, own);
	f_text(b, c->name, 255);
	f_concept_opt(b, fixed(f, MAPF_PLACE_OF_SERVICE, &c->place_of_service), c->place_of_service.code.n > 0);
	f_ref(f, T_CARE_SITE, KC_LOCATION, c->location);
	f_text(b, c->key, 50);
	f_text(b, src_value(f, &c->place_of_service), 50);
	staged_end(f, T_CARE_SITE, own);
	return 0;
}

static int row_location(struct filectx *f, const struct rec_location *l, struct err *e)
{
	if (l->key.n == 0)
		return err_set(e, E_MISSING, "location without an identifier");
	struct buf *b = &f->pend[T_LOCATION].b;
	uint32_t own = key_of(f, KC_LOCATION, l->key, 0);
	row_begin(f, T_LOCATION);
	f_key(f, T_LOCATION, own);
	f_text(b, l->address_1, 50);
	f_text(b, l->address_2, 50);
	f_text(b, l->city, 50);
	f_text(b, l->state, 2);
	f_text(b, l->zip, 9);
	f_text(b, l->county, 20);
	f_text(b, l->key, 50);
	f_text(b, l->country, 80);
	f_num(b, l->latitude);
	f_num(b, l->longitude);
	staged_end(f, T_LOCATION, own);
	return 0;
}

/* The value columns' mapped parts. */
struct val_map { int32_t value_concept, unit_concept, operator_concept; };

static void map_value(struct filectx *f, const struct rec_event *ev, const struct map_target *t, struct val_map *vm)
{
	memset(vm, 0, sizeof *vm);
	vm->value_concept = t->value_concept_id;
	if (!vm->value_concept && ev->value.kind == VAL_CODED && ev->value.coded.code.n) {
		struct map_result r;
		map_code(f->ix, f->mst, f->site->id, &ev->value.coded, ev->start.day, &r);
		vm->value_concept = r.t[0].concept_id;
	}
	vm->unit_concept = fixed(f, MAPF_UNIT, &ev->value.unit);
	if (ev->value.op.n) {
		struct code op = { SPAN_NULL, ev->value.op, SPAN_NULL };
		vm->operator_concept = map_fixed(f->ix, MAPF_OPERATOR, &op);
	}
}

static struct span value_text(const struct rec_event *ev)
{
	if (ev->value.text.n)
		return ev->value.text;
	if (ev->value.kind == VAL_CODED)
		return ev->value.coded.code.n ? ev->value.coded.code : ev->value.coded.display;
	return SPAN_NULL;
}

static double value_num(const struct rec_event *ev)
{
	return ev->value.kind == VAL_NUM ? ev->value.num : NAN;
}

static void ev_common_refs(struct filectx *f, int tbl, const struct rec_event *ev)
{
	f_ref(f, tbl, KC_PROVIDER, ev->provider);
	f_ref(f, tbl, KC_VISIT, ev->visit);
}

/* Provider, visit, source value and source concept (NULL without a code):
 * the columns after their own in every event table but note and specimen. */
static void ev_refs_source(struct filectx *f, int tbl, const struct rec_event *ev, struct span sv, int32_t source,
                           int have_code)
{
	struct buf *b = &f->pend[tbl].b;
	ev_common_refs(f, tbl, ev);
	f_text(b, sv, 50);
	f_concept_opt(b, source, have_code);
}

static int row_event(struct filectx *f, const struct rec_event *ev, struct err *e)
{
	if (ev->person.n == 0)
		return err_set(e, E_NO_PATIENT, "no patient identifier");
	struct rec_event day;
	if (partial(ev->start)) {
		day = *ev;
		first_day(f, &day.start, "event date without its day: its first day taken");
		ev = &day;
	}
	if (ev->start.prec < DT_DAY)
		return err_set(e, E_DATE, "no date for the event");
	struct map_result mr;
	const struct code *code = &ev->code;
	/* the alternate coding (CWE 4-6, a C-CDA translation) is tried when the
	 * code does not map; only a code that maps neither way counts as unmapped */
	int has_alt = ev->code_alt.code.n > 0;
	map_code(f->ix, has_alt ? NULL : f->mst, f->site->id, code, ev->start.day, &mr);
	if (mr.status != MAP_MAPPED && has_alt) {
		struct map_result alt;
		map_code(f->ix, NULL, f->site->id, &ev->code_alt, ev->start.day, &alt);
		if (alt.status == MAP_MAPPED) {
			if (!alt.source_concept_id)
				alt.source_concept_id = mr.source_concept_id;
			mr = alt;
			code = &ev->code_alt;
		} else {
			map_code(f->ix, f->mst, f->site->id, code, ev->start.day, &mr);
		}
	}
	int32_t type = map_type_concept(f->ix, (enum rec_origin)ev->origin);
	int have_code = code->code.n > 0;
	f->ev_ordinal++;
	struct span key = ev->key;
	char gen[64];
	if (key.n == 0) {
		/* no stable key from the source: the position in this file */
		int k = snprintf(gen, sizeof gen, "@%lld:%llu:%d", (long long)f->file_id,
		                 (unsigned long long)f->pos.record, f->ev_ordinal);
		key = span_make(gen, (size_t)k);
	}
	for (int i = 0; i < mr.n; i++) {
		const struct map_target *t = &mr.t[i];
		int tbl = table_of_domain(t->domain, ev->kind);
		struct buf *b = &f->pend[tbl].b;
		size_t off = b->n;
		uint32_t k = event_key(f, key, i, 0), pk = key_of(f, KC_PERSON, ev->person, 0);
		f->keys.v[k].person = pk + 1;
		struct val_map vm;
		map_value(f, ev, t, &vm);
		struct span sv = src_value(f, code), unit_sv = src_value(f, &ev->value.unit);
		int32_t concept = t->concept_id;
		row_begin(f, tbl);
		f_key(f, tbl, k);
		f_key(f, tbl, pk);
		switch (tbl) {
		case T_CONDITION:
			f_concept(b, concept);
			f_period(b, ev);
			f_concept(b, type);
			f_fixed(f, b, MAPF_CONDITION_STATUS, &ev->qualifier);
			f_text(b, ev->stop_reason, 20);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_text(b, src_value(f, &ev->qualifier), 50);
			break;
		case T_DRUG: {
			struct dt end = ev->end;
			if (end.prec < DT_DAY || end.day < ev->start.day) {
				end = ev->start;
				if (ev->days_supply > 0)
					end.day += ev->days_supply - 1;
				end.sec = -1;
			}
			f_concept(b, concept);
			f_date(b, ev->start);
			f_ts(b, ev->start);
			f_date(b, end);
			f_ts(b, end);
			f_date(b, ev->end.prec >= DT_DAY ? ev->end : DT_EMPTY);
			f_concept(b, type);
			f_text(b, ev->stop_reason, 20);
			if (ev->refills >= 0) f_int(b, ev->refills); else cb_null(b);
			f_num(b, ev->quantity);
			if (ev->days_supply >= 0) f_int(b, ev->days_supply); else cb_null(b);
			f_text(b, ev->sig, 0);
			f_fixed(f, b, MAPF_ROUTE, &ev->route);
			f_text(b, ev->lot, 50);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_text(b, src_value(f, &ev->route), 50);
			f_text(b, unit_sv, 50);
			break;
		}
		case T_PROCEDURE:
			f_concept(b, concept);
			f_period(b, ev);
			f_concept(b, type);
			f_concept_opt(b, 0, 0);
			f_num_int(b, ev->quantity);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_text(b, src_value(f, &ev->qualifier), 50);
			break;
		case T_DEVICE:
			f_concept(b, concept);
			f_period(b, ev);
			f_concept(b, type);
			f_text(b, ev->lot, 255);
			f_num_int(b, ev->quantity);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_concept_opt(b, vm.unit_concept, ev->value.unit.code.n > 0);
			f_text(b, unit_sv, 50);
			break;
		case T_MEASUREMENT: {
			char ts[19];
			struct span tm = SPAN_NULL;
			if (ev->start.prec == DT_TIME) { /* HH:MM */
				dt_fmt_ts(ev->start, ts);
				tm = span_make(ts + 11, 5);
			}
			f_concept(b, concept);
			f_date(b, ev->start);
			f_ts(b, ev->start);
			f_text(b, tm, 10);
			f_concept(b, type);
			f_concept_opt(b, vm.operator_concept, ev->value.op.n > 0);
			f_num(b, value_num(ev));
			f_concept_opt(b, vm.value_concept, vm.value_concept != 0);
			f_concept_opt(b, vm.unit_concept, ev->value.unit.code.n || ev->value.unit.display.n);
			f_num(b, ev->value.has_low ? ev->value.low : NAN);
			f_num(b, ev->value.has_high ? ev->value.high : NAN);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_text(b, unit_sv, 50);
			f_text(b, value_text(ev), 50);
			break;
		}
		case T_OBSERVATION:
			f_concept(b, concept);
			f_date(b, ev->start);
			f_ts(b, ev->start);
			f_concept(b, type);
			f_num(b, value_num(ev));
			f_text(b, ev->value.kind == VAL_TEXT ? ev->value.text : SPAN_NULL, 60);
			f_concept_opt(b, vm.value_concept, vm.value_concept != 0);
			cb_null(b); /* qualifier_concept_id: not filled */
			f_concept_opt(b, vm.unit_concept, ev->value.unit.code.n || ev->value.unit.display.n);
			ev_refs_source(f, tbl, ev, sv, mr.source_concept_id, have_code);
			f_text(b, unit_sv, 50);
			f_text(b, src_value(f, &ev->qualifier), 50);
			f_text(b, value_text(ev), 50);
			break;
		case T_NOTE:
			f_date(b, ev->start);
			f_ts(b, ev->start);
			f_concept(b, type);
			f_concept(b, concept ? concept : CONCEPT_NOTE_CLASS);
			f_text(b, ev->title, 250);
			f_text(b, ev->text, 0);
			f_concept(b, CONCEPT_UTF8);
			f_concept(b, CONCEPT_ENGLISH);
			ev_common_refs(f, tbl, ev);
			f_text(b, sv, 50);
			break;
		case T_SPECIMEN:
			f_concept(b, concept);
			f_concept(b, type);
			f_date(b, ev->start);
			f_ts(b, ev->start);
			f_num(b, ev->quantity);
			f_concept_opt(b, vm.unit_concept, ev->value.unit.code.n > 0);
			f_text(b, ev->key, 50);
			f_text(b, sv, 50);
			f_text(b, unit_sv, 50);
			break;
		}
		event_end(f, tbl, k, off);
	}
	return 0;
}

static int row_retract(struct filectx *f, const struct rec_retract *r, struct err *e);
static int row_merge(struct filectx *f, const struct rec_merge *m, struct err *e);

/* The CDM domain of the table an event's row went to: this record's rows
 * first, then the batch's. NULL when the event is not at hand. */
static const char *event_domain(struct filectx *f, uint32_t k)
{
	static const char *const dom[T__COUNT] = {
		[T_CONDITION] = "Condition", [T_DRUG] = "Drug", [T_PROCEDURE] = "Procedure",
		[T_DEVICE] = "Device", [T_MEASUREMENT] = "Measurement", [T_OBSERVATION] = "Observation",
		[T_NOTE] = "Note", [T_SPECIMEN] = "Specimen",
	};
	for (size_t i = f->nrr; i-- > 0;)
		if (f->rr[i].key == k && f->rr[i].tbl < T__COUNT)
			return dom[f->rr[i].tbl];
	const struct key_ent *en = &f->keys.v[k];
	return en->has_pending || en->flushed ? dom[en->tbl] : NULL;
}

static int row_cost(struct filectx *f, const struct rec_cost *c, struct err *e)
{
	uint32_t ev;
	const char *domain;
	struct span of = c->visit.n ? c->visit : c->event;
	if (c->visit.n) {
		ev = key_of(f, KC_VISIT, c->visit, 0);
		domain = "Visit";
	} else if (c->event.n) {
		ev = event_key(f, c->event, 0, 0);
		domain = event_domain(f, ev);
		if (!domain)
			return err_set(e, E_REFERENCE, "cost of an event that is not in this record");
	} else {
		return err_set(e, E_MISSING, "cost without the visit or event it is for");
	}
	struct buf *b = &f->pend[T_COST].b;
	size_t off = b->n;
	uint32_t own = event_key(f, c->key.n ? c->key : of, c->key.n ? 0 : 90, 0);
	row_begin(f, T_COST);
	f_key(f, T_COST, own);
	f_key(f, T_COST, ev);
	f_text(b, span_of(domain), 20);
	f_concept(b, map_type_concept(f->ix, (enum rec_origin)c->origin));
	if (span_ieq_str(c->currency, "USD")) f_concept(b, CONCEPT_USD); else f_concept_opt(b, 0, c->currency.n > 0);
	f_num(b, c->total_charge);
	f_num(b, c->total_cost);
	f_num(b, c->total_paid);
	f_num(b, c->paid_by_payer);
	f_num(b, c->paid_by_patient);
	f_text(b, c->revenue_code, 50);
	f_text(b, c->drg, 3);
	event_end(f, T_COST, own, off);
	return 0;
}

static int row_payer_period(struct filectx *f, const struct rec_payer_period *p, struct err *e)
{
	if (p->person.n == 0)
		return err_set(e, E_NO_PATIENT, "payer period without a patient identifier");
	if (p->start.prec < DT_YEAR)
		return err_set(e, E_DATE, "payer period without a start date");
	/* a period given in years or months runs to the end of its last one */
	struct dt end = p->end.prec >= DT_YEAR ? p->end : p->start;
	int y, m, d;
	date_to_ymd(end.day, &y, &m, &d);
	if (end.prec == DT_YEAR)
		end.day = date_from_ymd(y, 12, 31);
	else if (end.prec == DT_MONTH)
		end.day = date_from_ymd(y, m, date_days_in_month(y, m));
	if (end.day < p->start.day)
		end = p->start;
	struct buf *b = &f->pend[T_PAYER_PLAN].b;
	size_t off = b->n;
	char gen[80];
	struct span key = p->key;
	if (!key.n) {
		int k = snprintf(gen, sizeof gen, "@%lld:%llu:payer", (long long)f->file_id, (unsigned long long)f->pos.record);
		key = span_make(gen, (size_t)k);
	}
	uint32_t own = event_key(f, key, 0, 0), pk = key_of(f, KC_PERSON, p->person, 0);
	f->keys.v[own].person = pk + 1;
	row_begin(f, T_PAYER_PLAN);
	f_key(f, T_PAYER_PLAN, own);
	f_key(f, T_PAYER_PLAN, pk);
	f_date(b, p->start);
	f_date(b, end);
	f_concept(b, 0);
	f_text(b, p->payer, 50);
	f_concept(b, 0);
	f_text(b, p->plan, 50);
	f_text(b, p->family, 50);
	event_end(f, T_PAYER_PLAN, own, off);
	return 0;
}

int rows_record(struct filectx *f, const struct record *r, struct err *e)
{
	switch (r->kind) {
	case REC_PERSON: return row_person(f, &r->u.person, e);
	case REC_VISIT: return row_visit(f, &r->u.visit, e);
	case REC_EVENT: return row_event(f, &r->u.event, e);
	case REC_DEATH: return row_death(f, &r->u.death, e);
	case REC_PROVIDER: return row_provider(f, &r->u.provider, e);
	case REC_CARE_SITE: return row_care_site(f, &r->u.care_site, e);
	case REC_LOCATION: return row_location(f, &r->u.location, e);
	case REC_RETRACT: return row_retract(f, &r->u.retract, e);
	case REC_MERGE: return row_merge(f, &r->u.merge, e);
	case REC_COST: return row_cost(f, &r->u.cost, e);
	case REC_PAYER_PERIOD: return row_payer_period(f, &r->u.payer_period, e);
	default: return err_set(e, E_INTERNAL, "unknown record kind %d", r->kind);
	}
}

/*
 * Retractions and merges change what earlier records said. An event
 * retraction is a tombstone on the key, settled with the record (the key's
 * row in this batch goes, and its row in the database is deleted at the
 * flush). Visit and person retractions and merges become operations applied
 * at the flush, after the batch's rows and before later batches.
 */
static void note_tomb(struct filectx *f, uint32_t key)
{
	if (f->nrr == f->caprr) {
		f->caprr = f->caprr ? f->caprr * 2 : 16;
		f->rr = xrealloc(f->rr, mem_mul(f->caprr, sizeof *f->rr));
	}
	f->rr[f->nrr++] = (struct rec_row){ key, TBL_TOMB, 0, 0 };
}

static void add_op(struct filectx *f, uint8_t kind, uint32_t a, uint32_t b)
{
	if (f->nops == f->capops) {
		f->capops = f->capops ? f->capops * 2 : 16;
		f->ops = xrealloc(f->ops, mem_mul(f->capops, sizeof *f->ops));
	}
	f->ops[f->nops++] = (struct op){ kind, a, b, f->ord++ };
}

static int row_retract(struct filectx *f, const struct rec_retract *r, struct err *e)
{
	if (r->key.n == 0)
		return err_set(e, E_MISSING, "retraction without a key");
	if (r->target == REC_VISIT)
		add_op(f, OP_RETRACT_VISIT, key_of(f, KC_VISIT, r->key, 0), 0);
	else if (r->target == REC_PERSON)
		add_op(f, OP_RETRACT_PERSON, key_of(f, KC_PERSON, r->key, 0), 0);
	else /* an event, and the other targets of a code that mapped to several concepts */
		for (int i = 0; i < MAP_MAX_TARGETS; i++)
			note_tomb(f, event_key(f, r->key, i, 1));
	return 0;
}

static int row_merge(struct filectx *f, const struct rec_merge *m, struct err *e)
{
	if (m->from.n == 0 || m->to.n == 0)
		return err_set(e, E_MISSING, "merge without both patient identifiers");
	add_op(f, OP_MERGE, key_of(f, KC_PERSON, m->from, 0), key_of(f, KC_PERSON, m->to, 0));
	return 0;
}
