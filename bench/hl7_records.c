/*
 * hl7_records.c - every record the HL7 v2 extractor makes from a file, one
 * line each, for comparing two builds of it (a change meant to be faster must
 * print the same lines).
 *
 *   hl7_records FILE [PROFILE [TZ]]     TZ: the site's offset in minutes, or
 *                                       "keep" (wall time as written)
 *
 * Prints each message's begin (record number, line), its source id, every
 * record with all its fields, notes, and how it ended (loaded, quarantined
 * with reason and position, skipped with reason). Dates print as day, second
 * and precision; numbers with %.17g, so that any change shows.
 */
#include "etl/extract/extract.h"
#include "etl/sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out(struct span s)
{
	if (s.n)
		fwrite(s.p, 1, s.n, stdout);
}
static void sp(const char *name, struct span s)
{
	if (!s.n)
		return;
	printf(" %s=", name);
	out(s);
}
static void cd(const char *name, const struct code *c)
{
	if (!c->system.n && !c->code.n && !c->display.n)
		return;
	printf(" %s=[", name);
	out(c->system);
	putchar('|');
	out(c->code);
	putchar('|');
	out(c->display);
	putchar(']');
}
static void dt(const char *name, struct dt d)
{
	if (d.prec != DT_NONE)
		printf(" %s=%d/%d/%u", name, d.day, d.sec, d.prec);
}
static void num(const char *name, double v)
{
	if (!isnan(v))
		printf(" %s=%.17g", name, v);
}

static void value(const struct value *v)
{
	printf(" value=%u", v->kind);
	if (v->kind == VAL_NUM)
		num("num", v->num);
	sp("op", v->op);
	sp("text", v->text);
	cd("coded", &v->coded);
	cd("unit", &v->unit);
	if (v->has_low)
		num("low", v->low);
	if (v->has_high)
		num("high", v->high);
}

static void r_begin(struct sink *s, const struct err_pos *p, struct span raw)
{
	(void)s;
	printf("begin %llu line %llu offset %llu bytes %zu\n", (unsigned long long)p->record,
	       (unsigned long long)p->line, (unsigned long long)p->offset, raw.n);
}

static int r_emit(struct sink *s, const struct record *r, struct err *e)
{
	(void)s;
	(void)e;
	printf("  rec %u", r->kind);
	switch (r->kind) {
	case REC_PERSON: {
		const struct rec_person *x = &r->u.person;
		sp("key", x->key);
		cd("gender", &x->gender);
		cd("race", &x->race);
		cd("ethnicity", &x->ethnicity);
		dt("birth", x->birth);
		sp("location", x->location);
		sp("provider", x->provider);
		sp("care_site", x->care_site);
		break;
	}
	case REC_DEATH:
		sp("person", r->u.death.person);
		dt("date", r->u.death.date);
		cd("cause", &r->u.death.cause);
		printf(" origin=%u", r->u.death.origin);
		break;
	case REC_VISIT: {
		const struct rec_visit *x = &r->u.visit;
		sp("key", x->key);
		sp("person", x->person);
		cd("class", &x->cls);
		dt("start", x->start);
		dt("end", x->end);
		sp("provider", x->provider);
		sp("care_site", x->care_site);
		cd("from", &x->admitted_from);
		cd("to", &x->discharged_to);
		printf(" origin=%u", x->origin);
		break;
	}
	case REC_EVENT: {
		const struct rec_event *x = &r->u.event;
		printf(" kind=%u origin=%u", x->kind, x->origin);
		sp("key", x->key);
		sp("person", x->person);
		sp("visit", x->visit);
		sp("provider", x->provider);
		cd("code", &x->code);
		cd("alt", &x->code_alt);
		dt("start", x->start);
		dt("end", x->end);
		value(&x->value);
		num("quantity", x->quantity);
		printf(" days=%d refills=%d", x->days_supply, x->refills);
		cd("route", &x->route);
		sp("lot", x->lot);
		sp("sig", x->sig);
		sp("stop", x->stop_reason);
		cd("qualifier", &x->qualifier);
		sp("title", x->title);
		sp("text", x->text);
		break;
	}
	case REC_PROVIDER: {
		const struct rec_provider *x = &r->u.provider;
		sp("key", x->key);
		sp("name", x->name);
		sp("npi", x->npi);
		sp("dea", x->dea);
		cd("specialty", &x->specialty);
		cd("gender", &x->gender);
		sp("care_site", x->care_site);
		printf(" born=%d", x->year_of_birth);
		break;
	}
	case REC_CARE_SITE:
		sp("key", r->u.care_site.key);
		sp("name", r->u.care_site.name);
		cd("pos", &r->u.care_site.place_of_service);
		sp("location", r->u.care_site.location);
		break;
	case REC_LOCATION: {
		const struct rec_location *x = &r->u.location;
		sp("key", x->key);
		sp("a1", x->address_1);
		sp("a2", x->address_2);
		sp("city", x->city);
		sp("state", x->state);
		sp("zip", x->zip);
		sp("county", x->county);
		sp("country", x->country);
		num("lat", x->latitude);
		num("lon", x->longitude);
		break;
	}
	case REC_RETRACT:
		printf(" target=%u", r->u.retract.target);
		sp("key", r->u.retract.key);
		break;
	case REC_MERGE:
		sp("from", r->u.merge.from);
		sp("to", r->u.merge.to);
		break;
	default:
		printf(" (a kind the HL7 extractor does not make)");
	}
	putchar('\n');
	return 0;
}

static int r_end(struct sink *s, struct err *e)
{
	(void)s;
	(void)e;
	puts("end loaded");
	return 0;
}
static int r_quar(struct sink *s, const struct err *why, struct err *e)
{
	(void)s;
	(void)e;
	printf("end quarantined %s at %s line %llu: %s\n", err_reason(why->code), why->pos.where,
	       (unsigned long long)why->pos.line, why->msg);
	return 0;
}
static int r_skip(struct sink *s, const char *reason, struct err *e)
{
	(void)s;
	(void)e;
	printf("end skipped: %s\n", reason);
	return 0;
}
static void r_note(struct sink *s, const char *what)
{
	(void)s;
	printf("  note %s\n", what);
}
static void r_source_id(struct sink *s, struct span id)
{
	(void)s;
	printf("  id ");
	out(id);
	putchar('\n');
}
static const struct sink_ops dump_ops = { r_begin, r_emit, r_end, r_quar, r_skip, r_note, NULL, r_source_id };

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hl7_records FILE [PROFILE [TZ]]\n");
		return 2;
	}
	struct extractor *x;
	struct err e;
	struct conf_site site;
	memset(&e, 0, sizeof e);
	memset(&site, 0, sizeof site);
	site.id = "dump";
	site.tz = argc > 3 ? (strcmp(argv[3], "keep") == 0 ? DT_TZ_KEEP : atoi(argv[3])) : 0;
	if (extract_hl7v2.open(&x, argc > 2 ? argv[2] : NULL, &site, &e) < 0) {
		fprintf(stderr, "hl7_records: %s\n", e.msg);
		return 1;
	}
	struct sink s = { &dump_ops };
	int rc = extract_hl7v2.run(x, argv[1], &s, &e);
	if (rc < 0)
		fprintf(stderr, "hl7_records: %s\n", e.msg);
	extract_hl7v2.close(x);
	return rc < 0;
}
