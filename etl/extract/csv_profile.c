/*
 * csv_profile.c - read a CSV layout profile and compile it. See csv_profile.h.
 *
 *   ini entries --(sections in file order)--> [map]s, [csv] defaults,
 *   [file]s (dialect, patterns), [record]s (kind, bindings) --> struct csv_profile
 *
 * Every key is checked: an unknown section, key, field, column expression,
 * map or date format is an E_CONFIG error naming the profile file and line,
 * so a typo in a layout fails the run instead of silently loading nothing.
 */
#include "etl/extract/csv_profile.h"
#include "core/date.h"
#include "core/ini.h"
#include "core/io.h"
#include "core/mem.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the record fields a profile can fill ---- */

struct fdef {
	uint8_t kind;
	const char *name;
	uint8_t type;
	uint16_t off;
	uint8_t req;
};

#define U(m) ((uint16_t)offsetof(struct record, u.m))
static const struct fdef fdefs[] = {
	{ REC_PERSON, "key", CF_SPAN, U(person.key), CSV_REQ_PERSON },
	{ REC_PERSON, "gender", CF_CODE, U(person.gender), 0 },
	{ REC_PERSON, "race", CF_CODE, U(person.race), 0 },
	{ REC_PERSON, "ethnicity", CF_CODE, U(person.ethnicity), 0 },
	{ REC_PERSON, "birth", CF_DATE, U(person.birth), 0 },
	{ REC_PERSON, "location", CF_SPAN, U(person.location), 0 },
	{ REC_PERSON, "provider", CF_SPAN, U(person.provider), 0 },
	{ REC_PERSON, "care_site", CF_SPAN, U(person.care_site), 0 },

	{ REC_DEATH, "person", CF_SPAN, U(death.person), CSV_REQ_PERSON },
	{ REC_DEATH, "date", CF_DATE, U(death.date), CSV_REQ_MISSING },
	{ REC_DEATH, "cause", CF_CODE, U(death.cause), 0 },

	{ REC_VISIT, "key", CF_SPAN, U(visit.key), CSV_REQ_MISSING },
	{ REC_VISIT, "person", CF_SPAN, U(visit.person), CSV_REQ_PERSON },
	{ REC_VISIT, "cls", CF_CODE, U(visit.cls), 0 },
	{ REC_VISIT, "start", CF_DATE, U(visit.start), 0 },
	{ REC_VISIT, "end", CF_DATE, U(visit.end), 0 },
	{ REC_VISIT, "provider", CF_SPAN, U(visit.provider), 0 },
	{ REC_VISIT, "care_site", CF_SPAN, U(visit.care_site), 0 },
	{ REC_VISIT, "admitted_from", CF_CODE, U(visit.admitted_from), 0 },
	{ REC_VISIT, "discharged_to", CF_CODE, U(visit.discharged_to), 0 },

	{ REC_EVENT, "key", CF_SPAN, U(event.key), 0 },
	{ REC_EVENT, "person", CF_SPAN, U(event.person), CSV_REQ_PERSON },
	{ REC_EVENT, "visit", CF_SPAN, U(event.visit), 0 },
	{ REC_EVENT, "provider", CF_SPAN, U(event.provider), 0 },
	{ REC_EVENT, "code", CF_CODE, U(event.code), 0 },
	{ REC_EVENT, "code_alt", CF_CODE, U(event.code_alt), 0 },
	{ REC_EVENT, "start", CF_DATE, U(event.start), CSV_REQ_MISSING },
	{ REC_EVENT, "end", CF_DATE, U(event.end), 0 },
	{ REC_EVENT, "value", CF_VALUE, U(event.value), 0 },
	{ REC_EVENT, "value.type", CF_VTYPE, U(event.value), 0 },
	{ REC_EVENT, "value.unit", CF_CODE, U(event.value.unit), 0 },
	{ REC_EVENT, "value.coded", CF_CODE, U(event.value.coded), 0 },
	{ REC_EVENT, "value.op", CF_SPAN, U(event.value.op), 0 },
	{ REC_EVENT, "value.low", CF_DOUBLE, U(event.value.low), 0 },
	{ REC_EVENT, "value.high", CF_DOUBLE, U(event.value.high), 0 },
	{ REC_EVENT, "quantity", CF_DOUBLE, U(event.quantity), 0 },
	{ REC_EVENT, "days_supply", CF_I32, U(event.days_supply), 0 },
	{ REC_EVENT, "refills", CF_I32, U(event.refills), 0 },
	{ REC_EVENT, "route", CF_CODE, U(event.route), 0 },
	{ REC_EVENT, "lot", CF_SPAN, U(event.lot), 0 },
	{ REC_EVENT, "sig", CF_SPAN, U(event.sig), 0 },
	{ REC_EVENT, "stop_reason", CF_SPAN, U(event.stop_reason), 0 },
	{ REC_EVENT, "qualifier", CF_CODE, U(event.qualifier), 0 },
	{ REC_EVENT, "title", CF_SPAN, U(event.title), 0 },
	{ REC_EVENT, "text", CF_SPAN, U(event.text), 0 },

	{ REC_PROVIDER, "key", CF_SPAN, U(provider.key), CSV_REQ_MISSING },
	{ REC_PROVIDER, "name", CF_SPAN, U(provider.name), 0 },
	{ REC_PROVIDER, "npi", CF_SPAN, U(provider.npi), 0 },
	{ REC_PROVIDER, "dea", CF_SPAN, U(provider.dea), 0 },
	{ REC_PROVIDER, "specialty", CF_CODE, U(provider.specialty), 0 },
	{ REC_PROVIDER, "gender", CF_CODE, U(provider.gender), 0 },
	{ REC_PROVIDER, "care_site", CF_SPAN, U(provider.care_site), 0 },
	{ REC_PROVIDER, "year_of_birth", CF_I32, U(provider.year_of_birth), 0 },

	{ REC_CARE_SITE, "key", CF_SPAN, U(care_site.key), CSV_REQ_MISSING },
	{ REC_CARE_SITE, "name", CF_SPAN, U(care_site.name), 0 },
	{ REC_CARE_SITE, "place_of_service", CF_CODE, U(care_site.place_of_service), 0 },
	{ REC_CARE_SITE, "location", CF_SPAN, U(care_site.location), 0 },

	{ REC_LOCATION, "key", CF_SPAN, U(location.key), CSV_REQ_MISSING },
	{ REC_LOCATION, "address_1", CF_SPAN, U(location.address_1), 0 },
	{ REC_LOCATION, "address_2", CF_SPAN, U(location.address_2), 0 },
	{ REC_LOCATION, "city", CF_SPAN, U(location.city), 0 },
	{ REC_LOCATION, "state", CF_SPAN, U(location.state), 0 },
	{ REC_LOCATION, "zip", CF_SPAN, U(location.zip), 0 },
	{ REC_LOCATION, "county", CF_SPAN, U(location.county), 0 },
	{ REC_LOCATION, "country", CF_SPAN, U(location.country), 0 },
	{ REC_LOCATION, "latitude", CF_DOUBLE, U(location.latitude), 0 },
	{ REC_LOCATION, "longitude", CF_DOUBLE, U(location.longitude), 0 },

	{ REC_COST, "key", CF_SPAN, U(cost.key), 0 },
	{ REC_COST, "visit", CF_SPAN, U(cost.visit), 0 },
	{ REC_COST, "event", CF_SPAN, U(cost.event), 0 },
	{ REC_COST, "currency", CF_SPAN, U(cost.currency), 0 },
	{ REC_COST, "total_charge", CF_DOUBLE, U(cost.total_charge), 0 },
	{ REC_COST, "total_cost", CF_DOUBLE, U(cost.total_cost), 0 },
	{ REC_COST, "total_paid", CF_DOUBLE, U(cost.total_paid), 0 },
	{ REC_COST, "paid_by_payer", CF_DOUBLE, U(cost.paid_by_payer), 0 },
	{ REC_COST, "paid_by_patient", CF_DOUBLE, U(cost.paid_by_patient), 0 },
	{ REC_COST, "revenue_code", CF_SPAN, U(cost.revenue_code), 0 },
	{ REC_COST, "drg", CF_SPAN, U(cost.drg), 0 },

	{ REC_PAYER_PERIOD, "key", CF_SPAN, U(payer_period.key), 0 },
	{ REC_PAYER_PERIOD, "person", CF_SPAN, U(payer_period.person), CSV_REQ_PERSON },
	{ REC_PAYER_PERIOD, "start", CF_DATE, U(payer_period.start), CSV_REQ_MISSING },
	{ REC_PAYER_PERIOD, "end", CF_DATE, U(payer_period.end), 0 },
	{ REC_PAYER_PERIOD, "payer", CF_SPAN, U(payer_period.payer), 0 },
	{ REC_PAYER_PERIOD, "plan", CF_SPAN, U(payer_period.plan), 0 },
	{ REC_PAYER_PERIOD, "family", CF_SPAN, U(payer_period.family), 0 },
};

/* Field by name for a kind; "X.code" / "X.system" / "X.display" of a code field. */
static const struct fdef *field_find(uint8_t kind, const char *name, struct fdef *tmp)
{
	for (size_t i = 0; i < sizeof fdefs / sizeof *fdefs; i++)
		if (fdefs[i].kind == kind && strcmp(fdefs[i].name, name) == 0)
			return &fdefs[i];
	const char *dot = strrchr(name, '.');
	if (!dot)
		return NULL;
	static const struct { const char *sub; size_t off; } subs[] = {
		{ "code", offsetof(struct code, code) },
		{ "system", offsetof(struct code, system) },
		{ "display", offsetof(struct code, display) },
	};
	for (size_t i = 0; i < sizeof fdefs / sizeof *fdefs; i++) {
		const struct fdef *f = &fdefs[i];
		if (f->kind != kind || f->type != CF_CODE || strlen(f->name) != (size_t)(dot - name) ||
		    memcmp(f->name, name, (size_t)(dot - name)) != 0)
			continue;
		for (size_t k = 0; k < 3; k++) {
			if (strcmp(dot + 1, subs[k].sub) == 0) {
				*tmp = (struct fdef){ kind, name, k == 0 ? CF_CODE : CF_SPAN, (uint16_t)(f->off + subs[k].off), 0 };
				return tmp;
			}
		}
	}
	return NULL;
}

static const struct { const char *word; uint8_t kind, ev; } kinds[] = {
	{ "person", REC_PERSON, 0 }, { "death", REC_DEATH, 0 }, { "visit", REC_VISIT, 0 },
	{ "provider", REC_PROVIDER, 0 }, { "care_site", REC_CARE_SITE, 0 }, { "location", REC_LOCATION, 0 },
	{ "condition", REC_EVENT, EV_CONDITION }, { "drug", REC_EVENT, EV_DRUG },
	{ "immunization", REC_EVENT, EV_IMMUNIZATION }, { "procedure", REC_EVENT, EV_PROCEDURE },
	{ "measurement", REC_EVENT, EV_MEASUREMENT }, { "observation", REC_EVENT, EV_OBSERVATION },
	{ "allergy", REC_EVENT, EV_ALLERGY }, { "device", REC_EVENT, EV_DEVICE },
	{ "specimen", REC_EVENT, EV_SPECIMEN }, { "note", REC_EVENT, EV_NOTE },
	{ "cost", REC_COST, 0 }, { "payer_period", REC_PAYER_PERIOD, 0 },
};

static const char *const origins[ORIG__COUNT] = {
	[ORIG_EHR] = "ehr", [ORIG_EHR_ENCOUNTER] = "ehr_encounter", [ORIG_LAB] = "lab",
	[ORIG_PROBLEM_LIST] = "problem_list", [ORIG_PRESCRIPTION] = "prescription",
	[ORIG_DISPENSE] = "dispense", [ORIG_ADMINISTRATION] = "administration",
	[ORIG_SELF_REPORT] = "self_report", [ORIG_CLAIM] = "claim", [ORIG_REGISTRY] = "registry",
	[ORIG_NLP] = "nlp",
};

int csv_profile_origin(struct span word)
{
	for (int i = 0; i < ORIG__COUNT; i++)
		if (span_ieq_str(word, origins[i]))
			return i;
	return -1;
}

/* ---- loading ---- */

struct loader {
	struct csv_profile *p;
	struct ini ini;
	struct err *e;
	struct csv_dialect defaults;
	int site_tz;
};

#define cfg_err(L, en, ...) ini_error(&(L)->ini, (en), E_CONFIG, (L)->e, __VA_ARGS__)

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int parse_char(const char *v, int allow_none, char *out)
{
	static const struct { const char *name; char c; } names[] = {
		{ "comma", ',' }, { "tab", '\t' }, { "\\t", '\t' }, { "semicolon", ';' }, { "pipe", '|' },
		{ "dquote", '"' }, { "squote", '\'' }, { "space", ' ' },
	};
	if (allow_none && (!strcasecmp(v, "none") || !*v)) {
		*out = '\0';
		return 0;
	}
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcasecmp(v, names[i].name)) {
			*out = names[i].c;
			return 0;
		}
	if (strlen(v) == 1 && v[0] != '\n' && v[0] != '\r') {
		*out = v[0];
		return 0;
	}
	return -1;
}

/* A date format value: iso | hl7 | a dt_parse_fmt pattern. */
static int parse_datefmt(struct loader *L, const char *v, struct csv_datefmt *d)
{
	if (!strcasecmp(v, "iso")) {
		d->kind = DF_ISO;
		d->may_offset = 1;
		d->pattern = NULL;
		return 0;
	}
	if (!strcasecmp(v, "hl7")) {
		d->kind = DF_HL7;
		d->may_offset = 1;
		d->pattern = NULL;
		return 0;
	}
	for (const char *c = v; *c; c++) {
		if (*c != '%')
			continue;
		c++;
		if (!*c || !strchr("YmdHMSfzT", *c))
			return -1;
	}
	if (!strstr(v, "%Y"))
		return -1;
	d->kind = DF_PATTERN;
	d->pattern = arena_strdup(&L->p->a, v);
	d->may_offset = strstr(v, "%z") || strstr(v, "%T");
	return 0;
}

static int parse_tz(const char *v, int *out)
{
	if (!*v || !strcasecmp(v, "keep") || !strcasecmp(v, "local")) {
		*out = DT_TZ_KEEP;
		return 0;
	}
	return tz_parse_offset(v, out);
}

/* A dialect key of [csv] or [file]; 1 if handled, 0 if not a dialect key, <0 on error. */
static int dialect_key(struct loader *L, const struct ini_entry *en, struct csv_dialect *d)
{
	const char *k = en->key, *v = en->value;
	if (!strcmp(k, "delimiter")) {
		if (parse_char(v, 0, &d->delim) < 0)
			return cfg_err(L, en, "delimiter: one character or comma|tab|semicolon|pipe, not '%s'", v);
	} else if (!strcmp(k, "quote")) {
		if (parse_char(v, 1, &d->quote) < 0)
			return cfg_err(L, en, "quote: one character, dquote, squote or none, not '%s'", v);
	} else if (!strcmp(k, "header")) {
		if (parse_bool(v, &d->header) < 0)
			return cfg_err(L, en, "header: yes or no, not '%s'", v);
	} else if (!strcmp(k, "encoding")) {
		if (!strcasecmp(v, "utf-8") || !strcasecmp(v, "utf8"))
			d->encoding = CSV_UTF8;
		else if (!strcasecmp(v, "latin-1") || !strcasecmp(v, "latin1") || !strcasecmp(v, "iso-8859-1"))
			d->encoding = CSV_LATIN1;
		else if (!strcasecmp(v, "windows-1252") || !strcasecmp(v, "cp1252"))
			d->encoding = CSV_CP1252;
		else
			return cfg_err(L, en, "encoding: utf-8, latin-1 or windows-1252, not '%s'", v);
	} else if (!strcmp(k, "date_format")) {
		int tz = d->date.tz;
		if (parse_datefmt(L, v, &d->date) < 0)
			return cfg_err(L, en, "date_format: iso, hl7 or a pattern with %%Y (%%Y %%m %%d %%H %%M %%S %%f %%z %%T), not '%s'", v);
		d->date.tz = tz;
	} else if (!strcmp(k, "tz")) {
		if (parse_tz(v, &d->date.tz) < 0)
			return cfg_err(L, en, "tz: UTC, +HH:MM, -HHMM or keep, not '%s'", v);
	} else if (!strcmp(k, "max_record")) {
		char *end;
		unsigned long long n = strtoull(v, &end, 10);
		if (*end || n < 1024 || n > (1ull << 30))
			return cfg_err(L, en, "max_record: bytes between 1024 and 1073741824, not '%s'", v);
		d->max_record = (size_t)n;
	} else if (!strcmp(k, "columns")) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (*end || n < 1 || n > 100000)
			return cfg_err(L, en, "columns: a column count, not '%s'", v);
		d->columns = n;
	} else {
		return 0;
	}
	return 1;
}

static struct csv_map *map_find(struct csv_profile *p, const char *name)
{
	for (size_t i = 0; i < p->maps.n; i++)
		if (!strcmp(p->maps.v[i]->name, name))
			return p->maps.v[i];
	return NULL;
}

static struct csv_filespec *file_find(struct csv_profile *p, const char *name)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i]->name, name))
			return p->files[i];
	return NULL;
}

/* Grow an arena-held pointer array by one. */
static void *push_ptr(struct arena *a, void *arr, size_t n, void *item)
{
	void **v = arena_alloc(a, (n + 1) * sizeof *v);
	if (n)
		memcpy(v, arr, n * sizeof *v);
	v[n] = item;
	return v;
}

static int load_maps(struct loader *L)
{
	struct csv_profile *p = L->p;
	for (size_t i = 0; i < L->ini.n; i++) {
		const struct ini_entry *en = &L->ini.v[i];
		if (strcmp(en->section, "map") != 0)
			continue;
		L->ini.used[i] = 1;
		if (!*en->name)
			return cfg_err(L, en, "[map] needs a name: [map NAME]");
		struct csv_map *m = map_find(p, en->name);
		if (!m) {
			m = arena_zalloc(&p->a, sizeof *m);
			m->name = en->name;
			p->maps.v = push_ptr(&p->a, p->maps.v, p->maps.n++, m);
		}
		struct span *k = arena_alloc(&p->a, (m->n + 1) * sizeof *k);
		struct span *v = arena_alloc(&p->a, (m->n + 1) * sizeof *v);
		if (m->n) {
			memcpy(k, m->key, m->n * sizeof *k);
			memcpy(v, m->val, m->n * sizeof *v);
		}
		if (!strcmp(en->key, "map")) {
			/* map = SOURCE => TARGET, for sources that are not plain words */
			const char *arrow = NULL;
			for (const char *c = en->value; (c = strstr(c, "=>")) != NULL; c += 2)
				arrow = c;
			if (!arrow)
				return cfg_err(L, en, "[map %s]: expected 'map = SOURCE => TARGET'", en->name);
			k[m->n] = span_trim(span_make(en->value, (size_t)(arrow - en->value)));
			v[m->n] = span_trim(span_of(arrow + 2));
		} else {
			k[m->n] = span_of(en->key);
			v[m->n] = span_of(en->value);
		}
		m->key = k;
		m->val = v;
		m->n++;
	}
	for (size_t i = 0; i < p->maps.n; i++)
		csv_map_index(p->maps.v[i], &p->a);
	return 0;
}

static int load_files(struct loader *L)
{
	struct csv_profile *p = L->p;
	for (size_t i = 0; i < L->ini.n; i++) {
		const struct ini_entry *en = &L->ini.v[i];
		if (strcmp(en->section, "file") != 0)
			continue;
		L->ini.used[i] = 1;
		if (!*en->name)
			return cfg_err(L, en, "[file] needs a name: [file NAME]");
		struct csv_filespec *f = file_find(p, en->name);
		if (!f) {
			f = arena_zalloc(&p->a, sizeof *f);
			f->name = en->name;
			f->d = L->defaults;
			f->line = en->line;
			p->files = push_ptr(&p->a, p->files, p->nfiles++, f);
		}
		int rc = dialect_key(L, en, &f->d);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		if (!strcmp(en->key, "match")) {
			char *s = arena_strdup(&p->a, en->value), *save = NULL;
			for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				for (char *c = tok; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				f->match = push_ptr(&p->a, (void *)f->match, f->nmatch++, tok);
			}
		} else if (!strcmp(en->key, "skip")) {
			if (!*en->value)
				return cfg_err(L, en, "skip: give the reason the rows are skipped");
			f->skip = en->value;
		} else {
			return cfg_err(L, en, "[file %s]: unknown key '%s' (match, skip, delimiter, quote, header, encoding, date_format, tz, max_record, columns)", en->name, en->key);
		}
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		struct csv_filespec *f = p->files[i];
		if (!f->nmatch) {
			struct ini_entry fake = { "file", f->name, "", "", f->line };
			return cfg_err(L, &fake, "[file %s]: no 'match = PATTERN'", f->name);
		}
		if (!f->d.header && !f->d.columns) {
			struct ini_entry fake = { "file", f->name, "", "", f->line };
			return cfg_err(L, &fake, "[file %s]: without a header, say 'columns = N'", f->name);
		}
	}
	return 0;
}

static int add_bind(struct loader *L, struct csv_filespec *f, struct csv_recspec *r, const struct ini_entry *en,
                    const struct fdef *fd)
{
	struct csv_profile *p = L->p;
	struct csv_bind *b = NULL;
	for (size_t i = 0; i < r->nb; i++)
		if (!strcmp(r->b[i].name, fd->name))
			b = &r->b[i];
	if (!b) {
		struct csv_bind *nb = arena_alloc(&p->a, (r->nb + 1) * sizeof *nb);
		if (r->nb)
			memcpy(nb, r->b, r->nb * sizeof *nb);
		r->b = nb;
		b = &r->b[r->nb++];
		memset(b, 0, sizeof *b);
		b->date = f->d.date;
	}
	b->name = arena_strdup(&p->a, fd->name);
	b->type = fd->type;
	b->off = fd->off;
	b->req = fd->req;
	b->line = en->line;
	char msg[256];
	if (csv_expr_parse(&b->x, en->value, &f->cols, &p->maps, &p->a, msg, sizeof msg) < 0)
		return cfg_err(L, en, "%s: %s", en->key, msg);
	struct span c;
	b->is_const = csv_expr_const(b->x, &c) && fd->type != CF_VALUE;
	b->dlast_n = SIZE_MAX;
	char tmp[32];
	const char *col = csv_expr_column(b->x, &f->cols, tmp, sizeof tmp);
	b->where = arena_strdup(&p->a, col ? col : fd->name);
	return 0;
}

static int load_records(struct loader *L)
{
	struct csv_profile *p = L->p;
	/* sections in file order: a record's keys are its consecutive entries */
	for (size_t i = 0; i < L->ini.n;) {
		const struct ini_entry *en = &L->ini.v[i];
		if (strcmp(en->section, "record") != 0) {
			i++;
			continue;
		}
		const char *name = en->name;
		size_t j = i;
		while (j < L->ini.n && !strcmp(L->ini.v[j].section, "record") && !strcmp(L->ini.v[j].name, name))
			j++;
		if (!*name)
			return cfg_err(L, en, "[record] needs a name: [record NAME]");
		/* first: file and kind, which the other keys depend on */
		const struct ini_entry *fe = NULL, *ke = NULL;
		for (size_t k = i; k < j; k++) {
			if (!strcmp(L->ini.v[k].key, "file"))
				fe = &L->ini.v[k];
			if (!strcmp(L->ini.v[k].key, "kind"))
				ke = &L->ini.v[k];
		}
		if (!fe || !ke)
			return cfg_err(L, en, "[record %s]: needs 'file = NAME' and 'kind = KIND'", name);
		struct csv_filespec *f = file_find(p, fe->value);
		if (!f)
			return cfg_err(L, fe, "[record %s]: no [file %s] section", name, fe->value);
		struct csv_recspec *r = arena_zalloc(&p->a, sizeof *r);
		r->name = name;
		r->key = -1;
		r->line = en->line;
		size_t kk;
		for (kk = 0; kk < sizeof kinds / sizeof *kinds; kk++)
			if (!strcmp(kinds[kk].word, ke->value))
				break;
		if (kk == sizeof kinds / sizeof *kinds)
			return cfg_err(L, ke, "kind: person, death, visit, provider, care_site, location, condition, drug, immunization, procedure, measurement, observation, allergy, device, specimen or note, not '%s'", ke->value);
		r->kind = kinds[kk].kind;
		r->ev = kinds[kk].ev;
		r->origin = ORIG_EHR;
		const char *require = NULL;
		const struct ini_entry *req_en = NULL;
		for (size_t k = i; k < j; k++) {
			const struct ini_entry *x = &L->ini.v[k];
			char msg[256];
			L->ini.used[k] = 1;
			if (x == fe || x == ke)
				continue;
			if (!strcmp(x->key, "origin") && csv_profile_origin(span_of(x->value)) >= 0) {
				/* a plain origin word; anything else is an expression giving one per row */
				r->origin = (uint8_t)csv_profile_origin(span_of(x->value));
				continue;
			}
			if (!strcmp(x->key, "when") || !strcmp(x->key, "unless") || !strcmp(x->key, "repeat") ||
			    !strcmp(x->key, "origin")) {
				struct csv_expr *ex;
				if (csv_expr_parse(&ex, x->value, &f->cols, &p->maps, &p->a, msg, sizeof msg) < 0)
					return cfg_err(L, x, "%s: %s", x->key, msg);
				if (x->key[0] == 'w')
					r->when = ex;
				else if (x->key[0] == 'u')
					r->unless = ex;
				else if (x->key[0] == 'r')
					r->repeat = ex;
				else {
					struct span c;
					if (csv_expr_const(ex, &c)) {
						int o = csv_profile_origin(c);
						if (o < 0)
							return cfg_err(L, x, "origin: ehr, ehr_encounter, lab, problem_list, prescription, dispense, administration, self_report, claim, registry or nlp, not '%s'", x->value);
						r->origin = (uint8_t)o;
					} else {
						r->origin_x = ex;
					}
				}
				continue;
			}
			if (!strcmp(x->key, "require")) {
				require = x->value;
				req_en = x;
				continue;
			}
			size_t kl = strlen(x->key);
			if (kl > 7 && !strcmp(x->key + kl - 7, ".format")) {
				char base[64];
				struct fdef tmp;
				snprintf(base, sizeof base, "%.*s", (int)(kl - 7), x->key);
				const struct fdef *fd = field_find(r->kind, base, &tmp);
				if (!fd || fd->type != CF_DATE)
					return cfg_err(L, x, "%s: '%s' is not a date field of this kind", x->key, base);
				continue; /* applied after the bindings exist */
			}
			struct fdef tmp;
			const struct fdef *fd = field_find(r->kind, x->key, &tmp);
			if (!fd)
				return cfg_err(L, x, "[record %s]: '%s' is not a field of this kind (see etl/record.h)", name, x->key);
			int rc = add_bind(L, f, r, x, fd);
			if (rc < 0)
				return rc;
		}
		/* FIELD.format */
		for (size_t k = i; k < j; k++) {
			const struct ini_entry *x = &L->ini.v[k];
			size_t kl = strlen(x->key);
			if (kl <= 7 || strcmp(x->key + kl - 7, ".format") != 0)
				continue;
			size_t bl = kl - 7, bi;
			for (bi = 0; bi < r->nb; bi++)
				if (strlen(r->b[bi].name) == bl && !memcmp(r->b[bi].name, x->key, bl))
					break;
			if (bi == r->nb)
				return cfg_err(L, x, "%s: the field itself is not set in [record %s]", x->key, name);
			int tz = r->b[bi].date.tz;
			if (parse_datefmt(L, x->value, &r->b[bi].date) < 0)
				return cfg_err(L, x, "%s: iso, hl7 or a pattern with %%Y, not '%s'", x->key, x->value);
			r->b[bi].date.tz = tz;
		}
		/* require = FIELD ... */
		if (require) {
			char *s = arena_strdup(&p->a, require), *save = NULL;
			for (char *tok = strtok_r(s, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
				size_t bi;
				for (bi = 0; bi < r->nb; bi++)
					if (!strcmp(r->b[bi].name, tok))
						break;
				if (bi == r->nb)
					return cfg_err(L, req_en, "require: '%s' is not set in [record %s]", tok, name);
				if (!r->b[bi].req)
					r->b[bi].req = CSV_REQ_MISSING;
			}
		}
		/* what each kind cannot do without */
		for (size_t fi = 0; fi < sizeof fdefs / sizeof *fdefs; fi++) {
			const struct fdef *fd = &fdefs[fi];
			if (fd->kind != r->kind || !fd->req)
				continue;
			size_t bi;
			for (bi = 0; bi < r->nb; bi++)
				if (!strcmp(r->b[bi].name, fd->name))
					break;
			if (bi == r->nb)
				return cfg_err(L, en, "[record %s]: this kind needs '%s = ...'", name, fd->name);
		}
		for (size_t bi = 0; bi < r->nb; bi++)
			if (!strcmp(r->b[bi].name, "key"))
				r->key = (int)bi;
		if (r->repeat && r->key < 0)
			return cfg_err(L, en, "[record %s]: 'repeat' needs a 'key'", name);
		f->recs = push_ptr(&p->a, f->recs, f->nrecs++, r);
		i = j;
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		struct csv_filespec *f = p->files[i];
		if (!f->nrecs && !f->skip) {
			struct ini_entry fake = { "file", f->name, "", "", f->line };
			return cfg_err(L, &fake, "[file %s]: no [record] reads it and it has no 'skip = REASON'", f->name);
		}
		if (f->nrecs && f->skip) {
			struct ini_entry fake = { "file", f->name, "", "", f->line };
			return cfg_err(L, &fake, "[file %s]: has records and 'skip' at once", f->name);
		}
	}
	return 0;
}

int csv_profile_load(struct csv_profile **out, const char *path, int site_tz, struct err *e)
{
	struct loader L;
	memset(&L, 0, sizeof L);
	struct csv_profile *p = xcalloc(1, sizeof *p);
	arena_init(&p->a, 64 * 1024);
	p->site_tz = site_tz;
	L.p = p;
	L.e = e;
	L.site_tz = site_tz;
	L.defaults = (struct csv_dialect){ ',', '"', 1, CSV_UTF8, { DF_ISO, 1, NULL, DT_TZ_KEEP }, 64u << 20, 0 };
	int rc = ini_load(&L.ini, path, &p->a, e);
	if (rc < 0) {
		csv_profile_free(p);
		return rc;
	}
	p->path = L.ini.path;
	/* [csv] first, so that [file] sections start from its defaults */
	for (size_t i = 0; i < L.ini.n && rc >= 0; i++) {
		const struct ini_entry *en = &L.ini.v[i];
		if (strcmp(en->section, "csv") != 0)
			continue;
		L.ini.used[i] = 1;
		if (!strcmp(en->key, "description"))
			continue;
		rc = dialect_key(&L, en, &L.defaults);
		if (rc == 0)
			rc = cfg_err(&L, en, "[csv]: unknown key '%s' (description, delimiter, quote, header, encoding, date_format, tz, max_record, columns)", en->key);
	}
	if (rc >= 0)
		rc = load_maps(&L);
	if (rc >= 0)
		rc = load_files(&L);
	if (rc >= 0)
		rc = load_records(&L);
	for (size_t i = 0; i < L.ini.n && rc >= 0; i++)
		if (!L.ini.used[i])
			rc = cfg_err(&L, &L.ini.v[i], "unknown section [%s%s] (csv, file, record, map)", L.ini.v[i].section,
			             *L.ini.v[i].name ? " ..." : "");
	ini_free(&L.ini);
	if (rc < 0) {
		csv_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void csv_profile_free(struct csv_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++) {
		struct csv_filespec *f = p->files[i];
		for (size_t r = 0; r < f->nrecs; r++) {
			struct csv_recspec *rs = f->recs[r];
			csv_expr_free(rs->when);
			csv_expr_free(rs->unless);
			csv_expr_free(rs->repeat);
			csv_expr_free(rs->origin_x);
			for (size_t b = 0; b < rs->nb; b++)
				csv_expr_free(rs->b[b].x);
		}
	}
	arena_free(&p->a);
	free(p);
}

const struct csv_filespec *csv_profile_file(const struct csv_profile *p, const char *path)
{
	char base[256];
	io_base_name(path, base, sizeof base);
	for (char *c = base; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (size_t i = 0; i < p->nfiles; i++)
		for (size_t k = 0; k < p->files[i]->nmatch; k++)
			if (fnmatch(p->files[i]->match[k], base, 0) == 0)
				return p->files[i];
	return NULL;
}
