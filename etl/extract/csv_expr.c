/*
 * csv_expr.c - parse and evaluate profile expressions. See csv_expr.h.
 *
 * Parsing happens once per extractor; evaluation once per field per row, so
 * it does no allocation for plain columns and constants, and joins write
 * straight into the row arena.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "etl/extract/csv_expr.h"
#include "etl/extract/csv_profile.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- columns ---- */

size_t csv_cols_slot(struct csv_cols *c, const char *name, size_t num, struct arena *a)
{
	for (size_t i = 0; i < c->n; i++) {
		if (name && c->name[i] && strcasecmp(c->name[i], name) == 0)
			return i;
		if (!name && !c->name[i] && c->num[i] == num)
			return i;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		const char **nn = arena_alloc(a, mem_mul(cap, sizeof *nn));
		size_t *nu = arena_alloc(a, mem_mul(cap, sizeof *nu));
		size_t *ix = arena_alloc(a, mem_mul(cap, sizeof *ix));
		if (c->n) {
			memcpy(nn, c->name, c->n * sizeof *nn);
			memcpy(nu, c->num, c->n * sizeof *nu);
		}
		c->name = nn;
		c->num = nu;
		c->idx = ix;
		c->cap = cap;
	}
	c->name[c->n] = name ? arena_strdup(a, name) : NULL;
	c->num[c->n] = num;
	c->idx[c->n] = 0;
	return c->n++;
}

/* ---- maps ---- */

void csv_map_index(struct csv_map *m, struct arena *a)
{
	size_t cap = 8;
	while (cap < m->n * 2)
		cap *= 2;
	m->slot = arena_zalloc(a, mem_mul(cap, sizeof *m->slot));
	m->mask = cap - 1;
	for (size_t i = 0; i < m->n; i++) {
		size_t h = (size_t)hash64(m->key[i].p, m->key[i].n, 0) & m->mask;
		while (m->slot[h])
			h = (h + 1) & m->mask;
		m->slot[h] = (uint32_t)(i + 1);
	}
}

int csv_map_get(const struct csv_map *m, struct span key, struct span *val)
{
	if (m->n <= 8) {
		/* small lists: compare lengths first, no hashing */
		for (size_t i = 0; i < m->n; i++)
			if (m->key[i].n == key.n && (key.n == 0 || memcmp(m->key[i].p, key.p, key.n) == 0)) {
				*val = m->val[i];
				return 1;
			}
		return 0;
	}
	size_t h = (size_t)hash64(key.p, key.n, 0) & m->mask;
	for (uint32_t s; (s = m->slot[h]) != 0; h = (h + 1) & m->mask) {
		if (span_eq(m->key[s - 1], key)) {
			*val = m->val[s - 1];
			return 1;
		}
	}
	return 0;
}

/* ---- parsing ---- */

struct pstate {
	const char *s;
	const char *full;
	struct csv_cols *cols;
	const struct csv_maps *maps;
	struct arena *a;
	char *err;
	size_t errn;
};

static int perr(struct pstate *p, const char *msg)
{
	snprintf(p->err, p->errn, "%s at '%.24s' in '%s'", msg, *p->s ? p->s : "(end)", p->full);
	return -1;
}

static void ws(struct pstate *p)
{
	while (*p->s == ' ' || *p->s == '\t')
		p->s++;
}

static int is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static struct csv_expr *node(struct pstate *p, uint8_t op, const char *start)
{
	struct csv_expr *x = arena_zalloc(p->a, sizeof *x);
	x->op = op;
	x->last_n = SIZE_MAX;
	x->text = arena_strndup(p->a, start, (size_t)(p->s - start));
	return x;
}

static int literal(struct pstate *p, struct span *out)
{
	struct buf b = BUF_INIT;
	p->s++; /* opening quote */
	for (;;) {
		if (!*p->s) {
			buf_free(&b);
			return perr(p, "unterminated 'text'");
		}
		if (*p->s == '\'') {
			if (p->s[1] == '\'') {
				buf_putc(&b, '\'');
				p->s += 2;
				continue;
			}
			p->s++;
			break;
		}
		buf_putc(&b, *p->s++);
	}
	*out = arena_span(p->a, span_make(b.p ? b.p : "", b.n));
	buf_free(&b);
	return 0;
}

static int parse_expr(struct pstate *p, struct csv_expr **out);

static int parse_args(struct pstate *p, struct csv_expr *x)
{
	struct csv_expr *args[32];
	size_t n = 0;
	p->s++; /* ( */
	ws(p);
	if (*p->s == ')') {
		p->s++;
		return 0;
	}
	for (;;) {
		if (n == 32)
			return perr(p, "more than 32 arguments");
		if (parse_expr(p, &args[n]) < 0)
			return -1;
		n++;
		ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s == ')') {
			p->s++;
			break;
		}
		return perr(p, "expected ',' or ')'");
	}
	x->arg = arena_alloc(p->a, mem_mul(n, sizeof *x->arg));
	memcpy(x->arg, args, n * sizeof *args);
	x->narg = n;
	return 0;
}

static int func(struct pstate *p, const char *start, const char *fn, size_t fl, struct csv_expr **out)
{
	struct csv_expr *x;
	if (fl == 3 && memcmp(fn, "col", 3) == 0) {
		ws(p);
		p->s++;
		ws(p);
		struct span name;
		if (*p->s != '\'' || literal(p, &name) < 0)
			return perr(p, "col() takes a 'name'");
		ws(p);
		if (*p->s != ')')
			return perr(p, "expected ')'");
		p->s++;
		x = node(p, X_COL, start);
		x->slot = csv_cols_slot(p->cols, name.p, 0, p->a);
		*out = x;
		return 0;
	}
	if (fl == 3 && memcmp(fn, "map", 3) == 0) {
		p->s++;
		ws(p);
		const char *ns = p->s;
		while (is_name(*p->s))
			p->s++;
		size_t nl = (size_t)(p->s - ns);
		const struct csv_map *m = NULL;
		for (size_t i = 0; i < p->maps->n; i++)
			if (strlen(p->maps->v[i]->name) == nl && memcmp(p->maps->v[i]->name, ns, nl) == 0)
				m = p->maps->v[i];
		if (!m)
			return perr(p, "map() names no [map NAME] section");
		ws(p);
		if (*p->s != ',')
			return perr(p, "map(NAME, expr) expects ','");
		p->s++; /* the ',' */
		x = node(p, X_MAP, start);
		x->map = m;
		struct csv_expr *args[2];
		size_t n = 0;
		for (;;) {
			if (n == 2)
				return perr(p, "map() takes a name and one or two expressions");
			if (parse_expr(p, &args[n++]) < 0)
				return -1;
			ws(p);
			if (*p->s == ',') {
				p->s++;
				continue;
			}
			if (*p->s == ')') {
				p->s++;
				break;
			}
			return perr(p, "expected ',' or ')'");
		}
		x->arg = arena_alloc(p->a, n * sizeof *x->arg);
		memcpy(x->arg, args, n * sizeof *args);
		x->narg = n;
		x->text = arena_strndup(p->a, start, (size_t)(p->s - start));
		*out = x;
		return 0;
	}
	uint8_t op;
	if (fl == 4 && memcmp(fn, "join", 4) == 0)
		op = X_JOIN;
	else if (fl == 5 && memcmp(fn, "first", 5) == 0)
		op = X_FIRST;
	else if (fl == 5 && memcmp(fn, "match", 5) == 0)
		op = X_MATCH;
	else
		return perr(p, "unknown function (col, join, first, map, match)");
	x = node(p, op, start);
	if (parse_args(p, x) < 0)
		return -1;
	x->text = arena_strndup(p->a, start, (size_t)(p->s - start));
	struct span c;
	if (op == X_JOIN) {
		if (x->narg < 2 || !csv_expr_const(x->arg[0], &c))
			return perr(p, "join('sep', expr, ...) needs a constant separator and a value");
		x->lit = c;
		x->simple = 1;
		for (size_t i = 1; i < x->narg; i++) {
			if (x->arg[i]->op == X_COL)
				x->ncol++;
			else if (x->arg[i]->op == X_LIT)
				x->litn += x->arg[i]->lit.n;
			else
				x->simple = 0;
		}
		if (x->simple)
			x->jp = arena_zalloc(p->a, (x->narg - 1) * sizeof *x->jp);
	} else if (op == X_FIRST) {
		if (x->narg < 1)
			return perr(p, "first() needs a value");
	} else {
		if (x->narg != 2 || !csv_expr_const(x->arg[1], &c))
			return perr(p, "match(expr, 'regex') needs a constant pattern");
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)c.p, c.n, PCRE2_UTF, &ec, &eo, NULL);
		if (!re) {
			char msg[160];
			pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
			snprintf(p->err, p->errn, "match(): bad regex at offset %zu: %s", (size_t)eo, msg);
			return -1;
		}
		x->re = re;
		x->md = pcre2_match_data_create_from_pattern(re, NULL);
	}
	*out = x;
	return 0;
}

static int parse_expr(struct pstate *p, struct csv_expr **out)
{
	ws(p);
	const char *start = p->s;
	if (*p->s == '\'') {
		struct span v;
		if (literal(p, &v) < 0)
			return -1;
		struct csv_expr *x = node(p, X_LIT, start);
		x->lit = v;
		*out = x;
		return 0;
	}
	if (*p->s == '#') {
		p->s++;
		size_t n = 0;
		const char *d = p->s;
		while (*p->s >= '0' && *p->s <= '9' && n < 100000)
			n = n * 10 + (size_t)(*p->s++ - '0');
		if (p->s == d || n == 0)
			return perr(p, "#N needs a column number from 1");
		struct csv_expr *x = node(p, X_COL, start);
		x->slot = csv_cols_slot(p->cols, NULL, n, p->a);
		*out = x;
		return 0;
	}
	if (!is_name(*p->s))
		return perr(p, "expected a column name, #N, 'text' or a function");
	while (is_name(*p->s))
		p->s++;
	size_t nl = (size_t)(p->s - start);
	const char *after = p->s;
	ws(p);
	if (*p->s == '(')
		return func(p, start, start, nl, out);
	p->s = after;
	char name[128];
	if (nl >= sizeof name)
		return perr(p, "column name too long");
	memcpy(name, start, nl);
	name[nl] = '\0';
	struct csv_expr *x = node(p, X_COL, start);
	x->slot = csv_cols_slot(p->cols, name, 0, p->a);
	*out = x;
	return 0;
}

int csv_expr_parse(struct csv_expr **out, const char *text, struct csv_cols *cols,
                   const struct csv_maps *maps, struct arena *a, char *err, size_t errn)
{
	struct pstate p = { text, text, cols, maps, a, err, errn };
	if (parse_expr(&p, out) < 0)
		return -1;
	ws(&p);
	if (*p.s)
		return perr(&p, "unexpected text after the expression");
	return 0;
}

/* ---- evaluation ---- */

/* Windows-1252 0x80-0x9F; 0 where undefined (then taken as Latin-1 C1 controls). */
static const uint16_t cp1252[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178
};

static struct span transcode(struct span v, int enc, struct arena *a)
{
	size_t i = 0;
	while (i < v.n && !((unsigned char)v.p[i] & 0x80))
		i++;
	if (i == v.n)
		return v;
	char *o = arena_alloc(a, mem_add(mem_mul(v.n, 3), 1));
	size_t k = 0;
	for (i = 0; i < v.n; i++) {
		unsigned c = (unsigned char)v.p[i];
		if (c >= 0x80 && c < 0xA0 && enc == CSV_CP1252 && cp1252[c - 0x80])
			c = cp1252[c - 0x80];
		if (c < 0x80) {
			o[k++] = (char)c;
		} else if (c < 0x800) {
			o[k++] = (char)(0xC0 | (c >> 6));
			o[k++] = (char)(0x80 | (c & 0x3F));
		} else {
			o[k++] = (char)(0xE0 | (c >> 12));
			o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
			o[k++] = (char)(0x80 | (c & 0x3F));
		}
	}
	return span_make(o, k);
}

static struct span eval_join_2(struct csv_expr *x, const struct csv_row *r);

/* join('sep', ...): the parts written straight into the row arena. */
static struct span eval_join(struct csv_expr *x, const struct csv_row *r)
{
	const size_t n = x->narg - 1, sn = x->lit.n;
	const char *sep = x->lit.p;
	if (x->simple && r->plain && r->rawn <= 4096) {
		/* one pass: no part is longer than the row, so this much is enough */
		char *o = arena_alloc(r->a, x->ncol * r->rawn + x->litn + (n - 1) * sn + 1), *w = o;
		/* the parts flat (csv_expr_bind): a column index or a constant */
		const struct csv_jpart *jp = x->jp;
		const struct span *F = r->f;
		const size_t nf = r->nf;
		for (size_t i = 0; i < n; i++) {
			if (i) {
				if (sn == 1)
					*w++ = sep[0];
				else {
					mem_copy_short(w, sep, sn);
					w += sn;
				}
			}
			struct span v = jp[i].col < 0 ? jp[i].lit : (size_t)jp[i].col < nf ? F[jp[i].col] : span_make("", 0);
			mem_copy_short(w, v.p, v.n);
			w += v.n;
		}
		*w = '\0';
		return span_make(o, (size_t)(w - o));
	}
	return eval_join_2(x, r);
}

/* join in two passes: the lengths, then the bytes. */
static struct span eval_join_2(struct csv_expr *x, const struct csv_row *r)
{
	struct span parts[32];
	size_t n = x->narg - 1, total = (n - 1) * x->lit.n;
	for (size_t i = 0; i < n; i++) {
		parts[i] = csv_expr_value(x->arg[i + 1], r);
		total += parts[i].n;
	}
	char *o = arena_alloc(r->a, total + 1), *w = o;
	const char *sep = x->lit.p;
	const size_t sn = x->lit.n;
	for (size_t i = 0; i < n; i++) {
		if (i) {
			if (sn == 1)
				*w++ = sep[0];
			else if (sn) {
				memcpy(w, sep, sn);
				w += sn;
			}
		}
		mem_copy_short(w, parts[i].p, parts[i].n);
		w += parts[i].n;
	}
	*w = '\0';
	return span_make(o, total);
}

static struct span eval_map(struct csv_expr *x, const struct csv_row *r)
{
	struct span v = csv_expr_value(x->arg[0], r), out;
	const int cache = x->map->n > 8;
	if (cache && v.n == x->last_n && (v.n == 0 || memcmp(v.p, x->last, v.n) == 0))
		return x->last_val;
	int found = csv_map_get(x->map, v, &out);
	if (!found && x->narg < 2)
		out = span_make("", 0);
	else if (!found)
		out = csv_expr_value(x->arg[1], r);
	/* map values and constants outlive the row: remember them */
	if (cache && v.n <= sizeof x->last && (found || x->narg < 2 || x->arg[1]->op == X_LIT)) {
		if (v.n)
			memcpy(x->last, v.p, v.n);
		x->last_n = v.n;
		x->last_val = out;
	}
	return out;
}

static struct span eval_match(struct csv_expr *x, const struct csv_row *r)
{
	struct span v = csv_expr_value(x->arg[0], r);
	pcre2_match_data *md = x->md;
	int rc = pcre2_match(x->re, (PCRE2_SPTR)(v.p ? v.p : ""), v.n, 0, PCRE2_NO_UTF_CHECK, md, NULL);
	if (rc <= 0)
		return span_make("", 0);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	int g = rc > 1 ? 1 : 0;
	if (ov[2 * g] == PCRE2_UNSET)
		return span_make("", 0);
	return span_make(v.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

struct span csv_expr_eval(struct csv_expr *x, const struct csv_row *r)
{
	switch (x->op) {
	case X_COL: {
		size_t i = x->col;
		if (i >= r->nf)
			return span_make("", 0);
		struct span v = r->f[i];
		if (!r->plain)
			v = transcode(v, r->encoding, r->a);
		return v;
	}
	case X_LIT:
		return x->lit;
	case X_FIRST:
		for (size_t i = 0; i < x->narg; i++) {
			struct span v = csv_expr_value(x->arg[i], r);
			if (v.n)
				return v;
		}
		return span_make("", 0);
	case X_MAP:
		return eval_map(x, r);
	case X_JOIN:
		return eval_join(x, r);
	case X_MATCH:
		return eval_match(x, r);
	default:
		return span_make("", 0);
	}
}

void csv_expr_bind(struct csv_expr *x, const size_t *idx)
{
	if (!x)
		return;
	if (x->op == X_COL)
		x->col = idx[x->slot];
	for (size_t i = 0; i < x->narg; i++)
		csv_expr_bind(x->arg[i], idx);
	if (x->op == X_JOIN && x->jp) {
		for (size_t i = 1; i < x->narg; i++) {
			const struct csv_expr *a = x->arg[i];
			x->jp[i - 1].col = a->op == X_COL ? (int64_t)a->col : -1;
			x->jp[i - 1].lit = a->op == X_LIT ? a->lit : span_make("", 0);
		}
	}
}

const char *csv_expr_column(const struct csv_expr *x, const struct csv_cols *cols, char *buf, size_t n)
{
	if (x->op != X_COL)
		return NULL;
	if (cols->name[x->slot])
		return cols->name[x->slot];
	snprintf(buf, n, "column %zu", cols->num[x->slot]);
	return buf;
}

int csv_expr_const(const struct csv_expr *x, struct span *out)
{
	if (x->op != X_LIT)
		return 0;
	*out = x->lit;
	return 1;
}

void csv_expr_free(struct csv_expr *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->narg; i++)
		csv_expr_free(x->arg[i]);
	if (x->md)
		pcre2_match_data_free(x->md);
	if (x->re)
		pcre2_code_free(x->re);
	x->md = x->re = NULL;
}
