/*
 * hl7_prof.c - HL7 v2 vendor profiles: conf/profiles/hl7v2/NAME.conf.
 *
 * A profile says how one sender writes HL7 v2 (see the shipped profiles for
 * every key, with comments). `[profile] base = NAME` loads another profile
 * first; the keys of this one then replace the base's. Unknown sections and
 * keys are errors naming file and line.
 */
#include "etl/extract/hl7_int.h"
#include "core/date.h"
#include "core/ini.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; uint8_t h; } handlers[] = {
	{ "adt", HH_ADT },
	{ "adt_person", HH_ADT_PERSON },
	{ "adt_cancel", HH_ADT_CANCEL },
	{ "adt_undischarge", HH_ADT_UNDISCHARGE },
	{ "adt_merge", HH_ADT_MERGE },
	{ "oru", HH_ORU },
	{ "vxu", HH_VXU },
	{ "rde", HH_RDE },
	{ "ras", HH_RAS },
	{ "rds", HH_RDS },
	{ "ppr", HH_PPR },
	{ "none", HH_NONE },
};

static const struct { const char *name; uint8_t kind; } ev_kinds[] = {
	{ "condition", EV_CONDITION }, { "drug", EV_DRUG }, { "immunization", EV_IMMUNIZATION },
	{ "procedure", EV_PROCEDURE }, { "measurement", EV_MEASUREMENT },
	{ "observation", EV_OBSERVATION }, { "allergy", EV_ALLERGY }, { "device", EV_DEVICE },
	{ "note", EV_NOTE },
};

/* Split v at white space into words; calls fn for each. */
static int words(const char *v, int (*fn)(void *, const char *, size_t), void *arg)
{
	const char *p = v;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return 0;
		const char *q = p;
		while (*q && *q != ' ' && *q != '\t' && *q != ',')
			q++;
		int rc = fn(arg, p, (size_t)(q - p));
		if (rc < 0)
			return rc;
		p = q;
	}
}

struct wctx {
	struct hl7_prof *p;
	uint8_t action;
	int which;
};

static int put_status(void *arg, const char *w, size_t n)
{
	struct wctx *c = arg;
	if (n != 1 || (unsigned char)w[0] >= 128)
		return -1;
	c->p->obx_status[(unsigned char)w[0]] = c->action;
	return 0;
}

static int put_mrn(void *arg, const char *w, size_t n)
{
	struct hl7_prof *p = ((struct wctx *)arg)->p;
	if (p->nmrn == 8 || n >= sizeof p->mrn_types[0])
		return -1;
	memcpy(p->mrn_types[p->nmrn], w, n);
	p->mrn_len[p->nmrn] = n;
	p->mrn_types[p->nmrn++][n] = '\0';
	return 0;
}

static int put_ext(void *arg, const char *w, size_t n)
{
	struct hl7_prof *p = ((struct wctx *)arg)->p;
	if (p->next == 16 || n >= sizeof p->ext[0])
		return -1;
	memcpy(p->ext[p->next], w, n);
	p->ext[p->next++][n] = '\0';
	return 0;
}

static int put_rxa(void *arg, const char *w, size_t n)
{
	struct wctx *c = arg;
	struct hl7_prof *p = c->p;
	if (n >= 4)
		return -1;
	if (c->which == 0) {
		if (p->nrxa_skip == 8)
			return -1;
		memcpy(p->rxa_skip[p->nrxa_skip], w, n);
		p->rxa_skip[p->nrxa_skip++][n] = '\0';
	} else {
		if (p->nrxa_retract == 4)
			return -1;
		memcpy(p->rxa_retract[p->nrxa_retract], w, n);
		p->rxa_retract[p->nrxa_retract++][n] = '\0';
	}
	return 0;
}

/* "SEG-N" or "SEG-N.C" */
static int parse_fieldref(const char *s, char seg[4], int *field, int *comp)
{
	if (strlen(s) < 5 || s[3] != '-')
		return -1;
	for (int i = 0; i < 3; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return -1;
	memcpy(seg, s, 3);
	seg[3] = '\0';
	char *end;
	long f = strtol(s + 4, &end, 10);
	if (f < 1 || f > 999)
		return -1;
	*field = (int)f;
	*comp = 0;
	if (*end == '.') {
		long c = strtol(end + 1, &end, 10);
		if (c < 1 || c > 99)
			return -1;
		*comp = (int)c;
	}
	return *end ? -1 : 0;
}

static int apply(struct hl7_prof *p, struct ini *ini, struct err *e, int depth);

static int apply_cb(void *ctx, struct ini *ini, struct err *e, int depth)
{
	return apply(ctx, ini, e, depth);
}

static int load_file(struct hl7_prof *p, const char *name, struct err *e, int depth)
{
	return extract_profile_read("hl7v2", name, &p->a, depth, apply_cb, p, e);
}

static int apply(struct hl7_prof *p, struct ini *ini, struct err *e, int depth)
{
	const struct ini_entry *en;
	struct wctx wc = { p, 0, 0 };
	int rc;

	if ((en = ini_get(ini, "profile", NULL, "base")) != NULL) {
		rc = load_file(p, en->value, e, depth + 1);
		if (rc < 0)
			return rc;
	}
	ini_get(ini, "profile", NULL, "description");
	if ((en = ini_get(ini, "profile", NULL, "charset")) != NULL) {
		if (strcmp(en->value, "UTF-8") == 0)
			p->charset = HL7_CS_UTF8;
		else if (strcmp(en->value, "8859/1") == 0)
			p->charset = HL7_CS_LATIN1;
		else if (strcmp(en->value, "ASCII") == 0)
			p->charset = HL7_CS_ASCII;
		else
			return ini_error(ini, en, E_CONFIG, e, "charset must be UTF-8, 8859/1 or ASCII");
	}
	if ((rc = ini_get_size(ini, "profile", "max_message_bytes", 1024, (size_t)1 << 31, &p->max_message, e)) < 0 ||
	    (rc = ini_get_size(ini, "profile", "max_repetitions", 10, 100000000, &p->max_reps, e)) < 0)
		return rc;
	if ((en = ini_get(ini, "profile", NULL, "extensions")) != NULL) {
		p->next = 0;
		if (words(en->value, put_ext, &wc) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most 16 extensions of at most 11 characters");
	}

	/* [messages] TYPE = handler */
	for (size_t i = 0; i < ini->n; i++) {
		en = &ini->v[i];
		if (strcmp(en->section, "messages") != 0)
			continue;
		ini->used[i] = 1;
		size_t k;
		for (k = 0; k < sizeof handlers / sizeof handlers[0]; k++)
			if (strcmp(handlers[k].name, en->value) == 0)
				break;
		if (k == sizeof handlers / sizeof handlers[0])
			return ini_error(ini, en, E_CONFIG, e, "unknown message handler '%s' (adt, adt_person, adt_cancel, adt_undischarge, adt_merge, oru, vxu, rde, ras, rds, ppr, none)", en->value);
		char type[16];
		const char *dash = strchr(en->key, '-');
		if (strlen(en->key) >= sizeof type || !dash || dash == en->key || !dash[1] || strchr(dash + 1, '-'))
			return ini_error(ini, en, E_CONFIG, e, "message type must be written TYPE-EVENT (ADT-A01 for ADT^A01)");
		snprintf(type, sizeof type, "%s", en->key);
		type[dash - en->key] = '^';
		size_t j;
		for (j = 0; j < p->ntypes; j++)
			if (strcmp(p->types[j].type, type) == 0)
				break;
		if (j == p->ntypes) {
			if (p->ntypes == HL7_MAX_TYPES)
				return ini_error(ini, en, E_CONFIG, e, "too many message types");
			p->ntypes++;
		}
		memcpy(p->types[j].type, type, sizeof type);
		p->types[j].h = handlers[k].h;
	}

	/* [patient] */
	if ((en = ini_get(ini, "patient", NULL, "mrn_types")) != NULL) {
		p->nmrn = 0;
		if (words(en->value, put_mrn, &wc) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most 8 identifier types of at most 15 characters");
	}
	if ((en = ini_get(ini, "patient", NULL, "mrn_fallback")) != NULL) {
		if (strcmp(en->value, "first") == 0)
			p->mrn_first = 1;
		else if (strcmp(en->value, "none") == 0)
			p->mrn_first = 0;
		else
			return ini_error(ini, en, E_CONFIG, e, "mrn_fallback must be first or none");
	}
	if ((en = ini_get(ini, "patient", NULL, "mrn_repetition")) != NULL) {
		char *end;
		long v = strtol(en->value, &end, 10);
		if (*end || v < 0 || v > 100)
			return ini_error(ini, en, E_CONFIG, e, "mrn_repetition must be 0 (by type) or 1 to 100");
		p->mrn_rep = (int)v;
	}

	/* [dates] */
	if ((en = ini_get(ini, "dates", NULL, "format")) != NULL)
		p->date_fmt = strcmp(en->value, "hl7") == 0 ? NULL : arena_strdup(&p->a, en->value);
	if ((en = ini_get(ini, "dates", NULL, "assume_offset")) != NULL) {
		p->has_assume = 0;
		if (en->value[0]) {
			if (tz_parse_offset(en->value, &p->assume_offset) < 0)
				return ini_error(ini, en, E_CONFIG, e, "assume_offset must be like -0500 or +01:00");
			p->has_assume = 1;
		}
	}

	/* [results] */
	static const struct { const char *key; uint8_t action; } st[] = {
		{ "load", HS_LOAD }, { "retract", HS_RETRACT }, { "count", HS_COUNT } };
	for (size_t k = 0; k < 3; k++) {
		if ((en = ini_get(ini, "results", NULL, st[k].key)) == NULL)
			continue;
		for (int c = 0; c < 128; c++)
			if (p->obx_status[c] == st[k].action)
				p->obx_status[c] = 0;
		wc.action = st[k].action;
		if (words(en->value, put_status, &wc) < 0)
			return ini_error(ini, en, E_CONFIG, e, "result statuses are single letters (HL7 table 0085)");
	}
	if ((en = ini_get(ini, "results", NULL, "missing")) != NULL) {
		if (strcmp(en->value, "load") == 0)
			p->obx_missing = HS_LOAD;
		else if (strcmp(en->value, "count") == 0)
			p->obx_missing = HS_COUNT;
		else
			return ini_error(ini, en, E_CONFIG, e, "missing must be load or count");
	}

	/* [immunizations] */
	if ((en = ini_get(ini, "immunizations", NULL, "not_loaded")) != NULL) {
		p->nrxa_skip = 0;
		wc.which = 0;
		if (words(en->value, put_rxa, &wc) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most 8 completion statuses (HL7 table 0322)");
	}
	if ((en = ini_get(ini, "immunizations", NULL, "retract")) != NULL) {
		p->nrxa_retract = 0;
		wc.which = 1;
		if (words(en->value, put_rxa, &wc) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most 4 action codes (HL7 table 0323)");
	}

	/* [code_systems] WRITTEN = EMITTED */
	for (size_t i = 0; i < ini->n; i++) {
		en = &ini->v[i];
		if (strcmp(en->section, "code_systems") != 0)
			continue;
		ini->used[i] = 1;
		size_t j;
		for (j = 0; j < p->nalias; j++)
			if (strcmp(p->alias[j].from, en->key) == 0)
				break;
		if (j == p->nalias) {
			if (p->nalias == HL7_MAX_ALIASES)
				return ini_error(ini, en, E_CONFIG, e, "too many code system aliases");
			p->nalias++;
		}
		p->alias[j].from = en->key;
		p->alias[j].to = en->value;
		p->alias[j].nfrom = strlen(en->key);
	}

	/* [zfield SEG-N] */
	for (size_t i = 0; i < ini->n; i++) {
		en = &ini->v[i];
		if (strcmp(en->section, "zfield") != 0 || ini->used[i])
			continue;
		const char *name = en->name;
		struct hl7_zfield z;
		memset(&z, 0, sizeof z);
		if (parse_fieldref(name, z.seg, &z.field, &z.comp) < 0)
			return ini_error(ini, en, E_CONFIG, e, "[zfield %s]: expected [zfield SEG-N] or [zfield SEG-N.C]", name);
		const struct ini_entry *sys = ini_get(ini, "zfield", name, "system");
		const struct ini_entry *code = ini_get(ini, "zfield", name, "code");
		const struct ini_entry *disp = ini_get(ini, "zfield", name, "display");
		const struct ini_entry *val = ini_get(ini, "zfield", name, "value");
		const struct ini_entry *kind = ini_get(ini, "zfield", name, "kind");
		const struct ini_entry *date = ini_get(ini, "zfield", name, "date");
		if (!sys || !code)
			return ini_error(ini, en, E_CONFIG, e, "[zfield %s] needs system and code (the concept the value is about)", name);
		z.system = sys->value;
		z.code = code->value;
		z.display = disp ? disp->value : "";
		z.value = VAL_TEXT;
		if (val) {
			if (strcmp(val->value, "text") == 0)
				z.value = VAL_TEXT;
			else if (strcmp(val->value, "numeric") == 0)
				z.value = VAL_NUM;
			else if (strcmp(val->value, "coded") == 0)
				z.value = VAL_CODED;
			else
				return ini_error(ini, val, E_CONFIG, e, "value must be text, numeric or coded");
		}
		z.kind = EV_OBSERVATION;
		if (kind) {
			size_t k;
			for (k = 0; k < sizeof ev_kinds / sizeof ev_kinds[0]; k++)
				if (strcmp(ev_kinds[k].name, kind->value) == 0)
					break;
			if (k == sizeof ev_kinds / sizeof ev_kinds[0])
				return ini_error(ini, kind, E_CONFIG, e, "unknown event kind '%s'", kind->value);
			z.kind = ev_kinds[k].kind;
		}
		memcpy(z.date_seg, "MSH", 4);
		z.date_field = 7;
		if (date) {
			int dc;
			if (parse_fieldref(date->value, z.date_seg, &z.date_field, &dc) < 0)
				return ini_error(ini, date, E_CONFIG, e, "date must be a field like EVN-2 or MSH-7");
		}
		size_t j;
		for (j = 0; j < p->nz; j++)
			if (strcmp(p->z[j].seg, z.seg) == 0 && p->z[j].field == z.field && p->z[j].comp == z.comp)
				break;
		if (j == p->nz) {
			if (p->nz == HL7_MAX_ZFIELDS)
				return ini_error(ini, en, E_CONFIG, e, "too many [zfield] sections");
			p->nz++;
		}
		p->z[j] = z;
	}

	for (size_t i = 0; i < ini->n; i++)
		if (!ini->used[i])
			return ini_error(ini, &ini->v[i], E_CONFIG, e, "unknown setting [%s%s%s] %s in an hl7v2 profile",
			                 ini->v[i].section, ini->v[i].name[0] ? " " : "", ini->v[i].name, ini->v[i].key);
	return 0;
}

int hl7_prof_load(struct hl7_prof *p, const char *name, struct err *e)
{
	memset(p, 0, sizeof *p);
	arena_init(&p->a, 16 * 1024);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->max_message = 16u << 20;
	p->max_reps = 10000;
	p->charset = HL7_CS_UTF8;
	p->mrn_first = 1;
	p->obx_missing = HS_LOAD;
	return load_file(p, name, e, 0);
}

void hl7_prof_free(struct hl7_prof *p)
{
	arena_free(&p->a);
}

int hl7_prof_handler(const struct hl7_prof *p, const char *type)
{
	for (size_t i = 0; i < p->ntypes; i++)
		if (strcmp(p->types[i].type, type) == 0)
			return p->types[i].h;
	return HH_NONE;
}
