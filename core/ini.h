/*
 * ini.h - the file format of omopipe's configuration and profiles.
 *
 *   # a comment line (also ';')
 *   [section]             or   [section name]     e.g. [site north]
 *   key = value           value runs to the end of the line, trimmed;
 *   key = "  value "      double quotes keep spaces; \" and \\ inside them
 *
 * A key may repeat (feed = ... lines). Errors name the file, the line and what
 * is wrong: "conf/omopipe.conf:12: expected 'key = value', got '...'"
 */
#ifndef OMO_INI_H
#define OMO_INI_H

#include <stddef.h>
#include "core/arena.h"
#include "core/err.h"

struct ini_entry {
	const char *section;   /* "" before the first section header */
	const char *name;      /* the section's name argument, "" if none */
	const char *key;
	const char *value;
	int line;
};

struct ini {
	const char *path;      /* owned by the arena */
	struct ini_entry *v;
	size_t n, cap;
	struct arena *a;       /* not owned: where strings live */
	int *used;             /* per entry: looked up by ini_get (to report unknown keys) */
};

/* Parse path; strings are allocated in a. */
int ini_load(struct ini *ini, const char *path, struct arena *a, struct err *e);
/* Parse text held in memory (tests); path is used in messages only. */
int ini_parse(struct ini *ini, const char *path, const char *text, size_t n, struct arena *a, struct err *e);
void ini_free(struct ini *ini);
/* Last value of section/key (name NULL: any), NULL if absent. Marks it used. */
const struct ini_entry *ini_get(struct ini *ini, const char *section, const char *name, const char *key);
/* A whole number from lo to hi of section/key into *out, which is left as
 * it was when the key is absent: 0, or -E_CONFIG "KEY must be LO to HI". */
int ini_get_size(struct ini *ini, const char *section, const char *key, size_t lo, size_t hi, size_t *out, struct err *e);
/* Fill e with "path:line: msg" for an entry. Returns -code. */
int ini_error(const struct ini *ini, const struct ini_entry *en, int code, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
