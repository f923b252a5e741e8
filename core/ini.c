/* ini.c - configuration file parser. See ini.h. */
#include "core/ini.h"
#include "core/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int bad(struct ini *ini, int line, struct err *e, const char *what, const char *text, size_t n)
{
	char shown[64];
	size_t k = n < sizeof shown - 1 ? n : sizeof shown - 1;
	memcpy(shown, text, k);
	shown[k] = '\0';
	err_pos_file(&e->pos, ini->path);
	e->pos.line = (uint64_t)line;
	return err_set(e, E_CONFIG, "%s, got '%s'", what, shown);
}

static void push(struct ini *ini, const char *sec, const char *name, const char *key, const char *val, int line)
{
	if (ini->n == ini->cap) {
		ini->cap = ini->cap ? ini->cap * 2 : 32;
		ini->v = xrealloc(ini->v, mem_mul(ini->cap, sizeof *ini->v));
		ini->used = xrealloc(ini->used, mem_mul(ini->cap, sizeof *ini->used));
	}
	ini->v[ini->n] = (struct ini_entry){ sec, name, key, val, line };
	ini->used[ini->n] = 0;
	ini->n++;
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

int ini_parse(struct ini *ini, const char *path, const char *text, size_t len, struct arena *a, struct err *e)
{
	const char *sec = "", *name = "";
	const char *p = text, *end = text + len;
	int line = 0;

	memset(ini, 0, sizeof *ini);
	ini->a = a;
	ini->path = arena_strdup(a, path);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		const char *s = p, *t = le;
		p = nl ? nl + 1 : end;
		while (s < t && is_space(*s))
			s++;
		while (t > s && is_space(t[-1]))
			t--;
		if (s == t || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (t[-1] != ']')
				return bad(ini, line, e, "expected '[section]'", s, (size_t)(t - s));
			const char *q = s + 1, *qe = t - 1;
			while (q < qe && is_space(*q))
				q++;
			const char *w = q;
			while (w < qe && is_ident(*w))
				w++;
			if (w == q)
				return bad(ini, line, e, "expected a section name", s, (size_t)(t - s));
			sec = arena_strndup(a, q, (size_t)(w - q));
			while (w < qe && is_space(*w))
				w++;
			const char *ne = qe;
			while (ne > w && is_space(ne[-1]))
				ne--;
			for (const char *c = w; c < ne; c++)
				if (!is_ident(*c))
					return bad(ini, line, e, "a section name may hold letters, digits, '_', '-' and '.' only", s, (size_t)(t - s));
			name = arena_strndup(a, w, (size_t)(ne - w));
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(t - s));
		if (!eq)
			return bad(ini, line, e, "expected 'key = value'", s, (size_t)(t - s));
		const char *ke = eq;
		while (ke > s && is_space(ke[-1]))
			ke--;
		for (const char *c = s; c < ke; c++)
			if (!is_ident(*c))
				return bad(ini, line, e, "expected 'key = value' (a key holds letters, digits, '_', '-', '.')", s, (size_t)(t - s));
		if (ke == s)
			return bad(ini, line, e, "expected a key before '='", s, (size_t)(t - s));
		const char *v = eq + 1;
		while (v < t && is_space(*v))
			v++;
		char *val;
		if (v < t && *v == '"') {
			if (t - v < 2 || t[-1] != '"')
				return bad(ini, line, e, "unterminated quoted value", s, (size_t)(t - s));
			val = arena_alloc(a, (size_t)(t - v));
			size_t k = 0;
			for (const char *c = v + 1; c < t - 1; c++) {
				if (*c == '\\' && c + 1 < t - 1 && (c[1] == '"' || c[1] == '\\'))
					c++;
				val[k++] = *c;
			}
			val[k] = '\0';
		} else {
			val = arena_strndup(a, v, (size_t)(t - v));
		}
		push(ini, sec, name, arena_strndup(a, s, (size_t)(ke - s)), val, line);
	}
	return 0;
}

int ini_load(struct ini *ini, const char *path, struct arena *a, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, errno == ENOENT ? E_CONFIG : E_IO, "cannot open configuration %s: %s", path, strerror(errno));
	struct { char *p; size_t n, cap; } b = { NULL, 0, 0 };
	char tmp[8192];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (b.n + k > b.cap) {
			b.cap = (b.n + k) * 2;
			b.p = xrealloc(b.p, b.cap);
		}
		memcpy(b.p + b.n, tmp, k);
		b.n += k;
		if (b.n > (16u << 20)) {
			fclose(f);
			free(b.p);
			return err_set(e, E_CONFIG, "%s: larger than 16 MiB, not a configuration file", path);
		}
	}
	fclose(f);
	int rc = ini_parse(ini, path, b.p ? b.p : "", b.n, a, e);
	free(b.p);
	return rc;
}

void ini_free(struct ini *ini)
{
	free(ini->v);
	free(ini->used);
	ini->v = NULL;
	ini->used = NULL;
	ini->n = ini->cap = 0;
}

const struct ini_entry *ini_get(struct ini *ini, const char *section, const char *name, const char *key)
{
	const struct ini_entry *found = NULL;
	for (size_t i = 0; i < ini->n; i++) {
		const struct ini_entry *en = &ini->v[i];
		if (strcmp(en->section, section) == 0 && (!name || strcmp(en->name, name) == 0) &&
		    strcmp(en->key, key) == 0) {
			found = en;
			ini->used[i] = 1;
		}
	}
	return found;
}

int ini_error(const struct ini *ini, const struct ini_entry *en, int code, struct err *e, const char *fmt, ...)
{
	va_list ap;
	if (!e)
		return -code;
	e->code = code;
	err_pos_file(&e->pos, ini->path);
	e->pos.line = en ? (uint64_t)en->line : 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -code;
}

int ini_get_size(struct ini *ini, const char *section, const char *key, size_t lo, size_t hi, size_t *out, struct err *e)
{
	const struct ini_entry *en = ini_get(ini, section, NULL, key);
	if (!en)
		return 0;
	char *end;
	unsigned long long v = strtoull(en->value, &end, 10);
	if (*end || v < lo || v > hi)
		return ini_error(ini, en, E_CONFIG, e, "%s must be %zu to %zu", key, lo, hi);
	*out = (size_t)v;
	return 0;
}
