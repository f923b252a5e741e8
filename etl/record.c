/* record.c - initialising and printing records. See record.h. */
#include "etl/record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void record_init(struct record *r, enum rec_kind kind)
{
	memset(r, 0, sizeof *r);
	r->kind = (uint8_t)kind;
	switch (kind) {
	case REC_PERSON:
		r->u.person.birth = DT_EMPTY;
		break;
	case REC_DEATH:
		r->u.death.date = DT_EMPTY;
		break;
	case REC_VISIT:
		r->u.visit.start = r->u.visit.end = DT_EMPTY;
		break;
	case REC_EVENT:
		r->u.event.start = r->u.event.end = DT_EMPTY;
		r->u.event.quantity = NAN;
		r->u.event.days_supply = -1;
		r->u.event.refills = -1;
		r->u.event.value.num = r->u.event.value.low = r->u.event.value.high = NAN;
		break;
	case REC_LOCATION:
		r->u.location.latitude = r->u.location.longitude = NAN;
		break;
	case REC_COST:
		r->u.cost.total_charge = r->u.cost.total_cost = r->u.cost.total_paid = NAN;
		r->u.cost.paid_by_payer = r->u.cost.paid_by_patient = NAN;
		r->u.cost.origin = ORIG_CLAIM;
		break;
	case REC_PAYER_PERIOD:
		r->u.payer_period.start = r->u.payer_period.end = DT_EMPTY;
		break;
	default:
		break;
	}
}

/* --- record_print ---------------------------------------------------------- */

static void out(FILE *f, struct span s)
{
	if (s.n)
		fwrite(s.p, 1, s.n, f);
}
static void sp(FILE *f, const char *name, struct span s)
{
	if (!s.n)
		return;
	fprintf(f, " %s=", name);
	out(f, s);
}
static void cd(FILE *f, const char *name, const struct code *c)
{
	if (!c->system.n && !c->code.n && !c->display.n)
		return;
	fprintf(f, " %s=[", name);
	out(f, c->system);
	fputc('|', f);
	out(f, c->code);
	fputc('|', f);
	out(f, c->display);
	fputc(']', f);
}
static void dt(FILE *f, const char *name, struct dt d)
{
	if (d.prec != DT_NONE)
		fprintf(f, " %s=%d/%d/%u", name, d.day, d.sec, d.prec);
}
static void num(FILE *f, const char *name, double v)
{
	if (!isnan(v))
		fprintf(f, " %s=%.17g", name, v);
}

static void value(FILE *f, const struct value *v)
{
	fprintf(f, " value=%u", v->kind);
	if (v->kind == VAL_NUM)
		num(f, "num", v->num);
	sp(f, "op", v->op);
	sp(f, "text", v->text);
	cd(f, "coded", &v->coded);
	cd(f, "unit", &v->unit);
	if (v->has_low)
		num(f, "low", v->low);
	if (v->has_high)
		num(f, "high", v->high);
}

void record_print(FILE *f, const struct record *r)
{
	fprintf(f, "%u", r->kind);
	switch (r->kind) {
	case REC_PERSON: {
		const struct rec_person *x = &r->u.person;
		sp(f, "key", x->key);
		cd(f, "gender", &x->gender);
		cd(f, "race", &x->race);
		cd(f, "ethnicity", &x->ethnicity);
		dt(f, "birth", x->birth);
		sp(f, "location", x->location);
		sp(f, "provider", x->provider);
		sp(f, "care_site", x->care_site);
		break;
	}
	case REC_DEATH:
		sp(f, "person", r->u.death.person);
		dt(f, "date", r->u.death.date);
		cd(f, "cause", &r->u.death.cause);
		fprintf(f, " origin=%u", r->u.death.origin);
		break;
	case REC_VISIT: {
		const struct rec_visit *x = &r->u.visit;
		sp(f, "key", x->key);
		sp(f, "person", x->person);
		cd(f, "class", &x->cls);
		dt(f, "start", x->start);
		dt(f, "end", x->end);
		sp(f, "provider", x->provider);
		sp(f, "care_site", x->care_site);
		cd(f, "from", &x->admitted_from);
		cd(f, "to", &x->discharged_to);
		fprintf(f, " origin=%u", x->origin);
		break;
	}
	case REC_EVENT: {
		const struct rec_event *x = &r->u.event;
		fprintf(f, " kind=%u origin=%u", x->kind, x->origin);
		sp(f, "key", x->key);
		sp(f, "person", x->person);
		sp(f, "visit", x->visit);
		sp(f, "provider", x->provider);
		cd(f, "code", &x->code);
		cd(f, "alt", &x->code_alt);
		dt(f, "start", x->start);
		dt(f, "end", x->end);
		value(f, &x->value);
		num(f, "quantity", x->quantity);
		fprintf(f, " days=%d refills=%d", x->days_supply, x->refills);
		cd(f, "route", &x->route);
		sp(f, "lot", x->lot);
		sp(f, "sig", x->sig);
		sp(f, "stop", x->stop_reason);
		cd(f, "qualifier", &x->qualifier);
		sp(f, "title", x->title);
		sp(f, "text", x->text);
		break;
	}
	case REC_PROVIDER: {
		const struct rec_provider *x = &r->u.provider;
		sp(f, "key", x->key);
		sp(f, "name", x->name);
		sp(f, "npi", x->npi);
		sp(f, "dea", x->dea);
		cd(f, "specialty", &x->specialty);
		cd(f, "gender", &x->gender);
		sp(f, "care_site", x->care_site);
		fprintf(f, " born=%d", x->year_of_birth);
		break;
	}
	case REC_CARE_SITE:
		sp(f, "key", r->u.care_site.key);
		sp(f, "name", r->u.care_site.name);
		cd(f, "pos", &r->u.care_site.place_of_service);
		sp(f, "location", r->u.care_site.location);
		break;
	case REC_LOCATION: {
		const struct rec_location *x = &r->u.location;
		sp(f, "key", x->key);
		sp(f, "a1", x->address_1);
		sp(f, "a2", x->address_2);
		sp(f, "city", x->city);
		sp(f, "state", x->state);
		sp(f, "zip", x->zip);
		sp(f, "county", x->county);
		sp(f, "country", x->country);
		num(f, "lat", x->latitude);
		num(f, "lon", x->longitude);
		break;
	}
	case REC_RETRACT:
		fprintf(f, " target=%u", r->u.retract.target);
		sp(f, "key", r->u.retract.key);
		break;
	case REC_MERGE:
		sp(f, "from", r->u.merge.from);
		sp(f, "to", r->u.merge.to);
		break;
	case REC_COST: {
		const struct rec_cost *x = &r->u.cost;
		sp(f, "key", x->key);
		sp(f, "visit", x->visit);
		sp(f, "event", x->event);
		fprintf(f, " origin=%u", x->origin);
		sp(f, "currency", x->currency);
		num(f, "charge", x->total_charge);
		num(f, "cost", x->total_cost);
		num(f, "paid", x->total_paid);
		num(f, "payer", x->paid_by_payer);
		num(f, "patient", x->paid_by_patient);
		sp(f, "revenue", x->revenue_code);
		sp(f, "drg", x->drg);
		break;
	}
	case REC_PAYER_PERIOD: {
		const struct rec_payer_period *x = &r->u.payer_period;
		sp(f, "key", x->key);
		sp(f, "person", x->person);
		dt(f, "start", x->start);
		dt(f, "end", x->end);
		sp(f, "payer", x->payer);
		sp(f, "plan", x->plan);
		sp(f, "family", x->family);
		break;
	}
	default:
		fprintf(f, " (not printed)");
	}
}
