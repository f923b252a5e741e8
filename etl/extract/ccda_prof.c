/*
 * ccda_prof.c - C-CDA profiles: conf/profiles/ccda/NAME.conf.
 *
 * A profile says which sections a sender's documents carry and how to read
 * them (see the shipped ccda.conf for every key, with comments).
 * `[profile] base = NAME` loads another profile first; the keys of this one
 * then add to or replace the base's. Unknown sections and keys are errors
 * naming file and line.
 */
#include "etl/extract/ccda_int.h"
#include "core/ini.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sec_names[CS__COUNT] = {
	[CS_NONE] = "none",
	[CS_ALLERGIES] = "allergies",
	[CS_MEDICATIONS] = "medications",
	[CS_PROBLEMS] = "problems",
	[CS_RESULTS] = "results",
	[CS_VITALS] = "vitals",
	[CS_IMMUNIZATIONS] = "immunizations",
	[CS_ENCOUNTERS] = "encounters",
	[CS_PROCEDURES] = "procedures",
	[CS_SOCIAL] = "social",
};

const char *ccda_sec_name(int kind)
{
	return kind >= 0 && kind < CS__COUNT ? sec_names[kind] : "?";
}

/* Split v at white space or commas; calls fn for each word. */
static int words(const char *v, int (*fn)(struct ccda_prof *, const char *, size_t), struct ccda_prof *p)
{
	const char *s = v;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			return 0;
		const char *q = s;
		while (*q && *q != ' ' && *q != '\t' && *q != ',')
			q++;
		int rc = fn(p, s, (size_t)(q - s));
		if (rc < 0)
			return rc;
		s = q;
	}
}

static int put_ext(struct ccda_prof *p, const char *w, size_t n)
{
	if (p->next == CCDA_MAX_EXT || n >= sizeof p->ext[0])
		return -1;
	memcpy(p->ext[p->next], w, n);
	p->ext[p->next++][n] = '\0';
	return 0;
}

static int put_root(struct ccda_prof *p, const char *w, size_t n)
{
	if (p->nsecondary == CCDA_MAX_ROOTS)
		return -1;
	p->secondary_roots[p->nsecondary++] = arena_strndup(&p->a, w, n);
	return 0;
}

static int put_null_date(struct ccda_prof *p, const char *w, size_t n)
{
	if (p->nnull_dates == CCDA_MAX_ROOTS)
		return -1;
	p->null_dates[p->nnull_dates++] = arena_strndup(&p->a, w, n);
	return 0;
}

static int yes_no(const char *v)
{
	return strcmp(v, "yes") == 0 ? 1 : strcmp(v, "no") == 0 ? 0 : -1;
}

static int apply(struct ccda_prof *p, struct ini *ini, struct err *e, int depth);

static int apply_cb(void *ctx, struct ini *ini, struct err *e, int depth)
{
	return apply(ctx, ini, e, depth);
}

static int load_file(struct ccda_prof *p, const char *name, struct err *e, int depth)
{
	return extract_profile_read("ccda", name, &p->a, depth, apply_cb, p, e);
}

static int set_section(struct ccda_prof *p, const char *key, uint8_t kind)
{
	for (size_t i = 0; i < p->nsec; i++)
		if (strcmp(p->sec[i].key, key) == 0) {
			p->sec[i].kind = kind;
			return 0;
		}
	if (p->nsec == p->capsec) {
		p->capsec = p->capsec ? p->capsec * 2 : 64;
		p->sec = xrealloc(p->sec, mem_mul(p->capsec, sizeof *p->sec));
	}
	p->sec[p->nsec++] = (struct ccda_secmap){ arena_strdup(&p->a, key), kind };
	return 0;
}

static int apply(struct ccda_prof *p, struct ini *ini, struct err *e, int depth)
{
	const struct ini_entry *en;

	if ((en = ini_get(ini, "profile", NULL, "base")) != NULL) {
		int rc = load_file(p, en->value, e, depth + 1);
		if (rc < 0)
			return rc;
	}
	ini_get(ini, "profile", NULL, "description");
	int rc = ini_get_size(ini, "profile", "max_document_bytes", 1024, (size_t)1 << 31, &p->max_doc, e);
	if (rc < 0)
		return rc;
	if ((en = ini_get(ini, "profile", NULL, "extensions")) != NULL) {
		p->next = 0;
		if (words(en->value, put_ext, p) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most %d extensions of at most 11 characters", CCDA_MAX_EXT);
	}

	/* [patient] */
	if ((en = ini_get(ini, "patient", NULL, "secondary_id_roots")) != NULL) {
		p->nsecondary = 0;
		if (words(en->value, put_root, p) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most %d roots", CCDA_MAX_ROOTS);
	}
	if ((en = ini_get(ini, "patient", NULL, "use_secondary_id")) != NULL) {
		if ((p->use_secondary = yes_no(en->value)) < 0)
			return ini_error(ini, en, E_CONFIG, e, "use_secondary_id must be yes or no");
	}

	/* [providers] */
	if ((en = ini_get(ini, "providers", NULL, "npi_root")) != NULL)
		p->npi_root = en->value;

	/* [dates] */
	if ((en = ini_get(ini, "dates", NULL, "partial_start")) != NULL) {
		if (strcmp(en->value, "first_day") == 0)
			p->partial_first_day = 1;
		else if (strcmp(en->value, "not_loaded") == 0)
			p->partial_first_day = 0;
		else
			return ini_error(ini, en, E_CONFIG, e, "partial_start must be first_day or not_loaded");
	}

	if ((en = ini_get(ini, "dates", NULL, "null_values")) != NULL) {
		p->nnull_dates = 0;
		if (words(en->value, put_null_date, p) < 0)
			return ini_error(ini, en, E_CONFIG, e, "at most %d null date values", CCDA_MAX_ROOTS);
	}

	/* [sections] TEMPLATE-ROOT-OR-CODE = kind */
	for (size_t i = 0; i < ini->n; i++) {
		en = &ini->v[i];
		if (strcmp(en->section, "sections") != 0)
			continue;
		ini->used[i] = 1;
		int k;
		for (k = 0; k < CS__COUNT; k++)
			if (strcmp(sec_names[k], en->value) == 0)
				break;
		if (k == CS__COUNT)
			return ini_error(ini, en, E_CONFIG, e, "unknown section kind '%s' (allergies, medications, problems, results, "
			                 "vitals, immunizations, encounters, procedures, social, none)", en->value);
		set_section(p, en->key, (uint8_t)k);
	}

	for (size_t i = 0; i < ini->n; i++)
		if (!ini->used[i])
			return ini_error(ini, &ini->v[i], E_CONFIG, e, "unknown setting [%s%s%s] %s in a ccda profile",
			                 ini->v[i].section, ini->v[i].name[0] ? " " : "", ini->v[i].name, ini->v[i].key);
	return 0;
}

int ccda_prof_load(struct ccda_prof *p, const char *name, struct err *e)
{
	memset(p, 0, sizeof *p);
	arena_init(&p->a, 16 * 1024);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->max_doc = 64u << 20;
	p->npi_root = "2.16.840.1.113883.4.6";
	p->partial_first_day = 1;
	p->use_secondary = 1;
	return load_file(p, name, e, 0);
}

void ccda_prof_free(struct ccda_prof *p)
{
	free(p->sec);
	arena_free(&p->a);
}

int ccda_prof_section(const struct ccda_prof *p, const char *key)
{
	for (size_t i = 0; i < p->nsec; i++)
		if (strcmp(p->sec[i].key, key) == 0)
			return p->sec[i].kind;
	return -1;
}
