/*
 * csv_build.c - records from one CSV row. See csv_build.h.
 *
 * The hot path of the CSV extractor. Per file, csv_build_init() makes a
 * template record per [record] with the profile's constants already in it
 * and lists the bindings that are not constants. Per row and [record]: a
 * copy of the template, one evaluation per remaining binding (plain columns
 * are spans into the row, no copy), dates (the last one per binding is
 * remembered) and numbers parsed without allocation, one sink_emit.
 * Nothing here allocates outside the row arena.
 */
#include "etl/extract/csv_build.h"
#include "core/date.h"
#include "core/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ---- */

static const double pow10_tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/*
 * Fast path for plain decimals: with at most 2^53 as the digits' integer and
 * at most 22 fraction digits, m / 10^k is one correctly rounded division
 * (both operands exact), i.e. the same double strtod gives. Anything else
 * (exponents, long mantissas, spaces) goes to span_to_double.
 */
int csv_parse_double(struct span s, double *out)
{
	const char *p = s.p, *e = s.p + s.n;
	int neg = 0, frac = 0, nd;
	uint64_t m = 0;

	if (p < e && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	/* integer digits, then fraction digits: two tight loops */
	const char *d0 = p;
	while (p < e && (unsigned)(unsigned char)*p - '0' <= 9)
		m = m * 10 + (unsigned)(unsigned char)*p++ - '0';
	nd = (int)(p - d0);
	if (p < e && *p == '.') {
		const char *f0 = ++p;
		while (p < e && (unsigned)(unsigned char)*p - '0' <= 9)
			m = m * 10 + (unsigned)(unsigned char)*p++ - '0';
		frac = (int)(p - f0);
		nd += frac;
	}
	if (p != e || nd == 0 || nd > 19 || m > (1ull << 53) || frac > 22)
		goto slow;
	double v = (double)m;
	if (frac)
		v /= pow10_tab[frac];
	*out = neg ? -v : v;
	return 0;
slow:
	return span_to_double(s, out);
}

static int parse_i32(struct span s, int32_t *out)
{
	int64_t v;
	if (span_to_i64(s, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

/* ---- dates ---- */

/* Does v carry a zone offset after its date part? (formats that allow one) */
static int has_offset(struct span v, uint8_t kind)
{
	size_t from = kind == DF_HL7 ? 4 : 10;
	if (v.n && (v.p[v.n - 1] == 'Z' || v.p[v.n - 1] == 'z'))
		return 1;
	for (size_t i = from; i < v.n; i++)
		if (v.p[i] == '+' || v.p[i] == '-')
			return 1;
	return 0;
}

int csv_parse_date(struct span v, const struct csv_datefmt *f, int site_tz, struct dt *out)
{
	int rc;
	if (f->kind == DF_ISO)
		rc = dt_parse_iso(v, site_tz, out);
	else if (f->kind == DF_HL7)
		rc = dt_parse_hl7(v, site_tz, out);
	else
		rc = dt_parse_fmt(v, f->pattern, site_tz, out);
	if (rc < 0)
		return -E_DATE;
	if (f->tz != DT_TZ_KEEP && site_tz != DT_TZ_KEEP && out->prec == DT_TIME &&
	    !(f->may_offset && has_offset(v, f->kind))) {
		dt_set_seconds(out, dt_seconds(*out) + (int64_t)(site_tz - f->tz) * 60);
	}
	return 0;
}

static const char *fmt_name(const struct csv_datefmt *f)
{
	return f->kind == DF_ISO ? "iso" : f->kind == DF_HL7 ? "hl7" : f->pattern;
}

/* ---- repeat ordinals ---- */

void csv_repeat_free(struct csv_repeat *rp)
{
	free(rp->h);
	free(rp->cnt);
	free(rp->gen);
	free(rp->scope);
	memset(rp, 0, sizeof *rp);
}

static void repeat_alloc(struct csv_repeat *rp, size_t cap)
{
	rp->h = xcalloc(cap, sizeof *rp->h);
	rp->cnt = xcalloc(cap, sizeof *rp->cnt);
	rp->gen = xcalloc(cap, sizeof *rp->gen);
	rp->mask = cap - 1;
	rp->n = 0;
}

static size_t repeat_find(const struct csv_repeat *rp, uint64_t h)
{
	size_t i = (size_t)h & rp->mask;
	while (rp->gen[i] == rp->cur && rp->h[i] != h)
		i = (i + 1) & rp->mask;
	return i;
}

static void repeat_grow(struct csv_repeat *rp)
{
	struct csv_repeat old = *rp;
	repeat_alloc(rp, (old.mask + 1) * 2);
	rp->cur = 1;
	for (size_t i = 0; i <= old.mask; i++) {
		if (old.gen[i] != old.cur)
			continue;
		size_t k = repeat_find(rp, old.h[i]);
		rp->h[k] = old.h[i];
		rp->cnt[k] = old.cnt[i];
		rp->gen[k] = rp->cur;
		rp->n++;
	}
	free(old.h);
	free(old.cnt);
	free(old.gen);
}

/* A quick 64-bit hash for the repeat table (keys are compared by hash only:
 * a collision between two different keys in one scope would give the
 * second a "#2" suffix, which keeps it unique all the same). */
static inline uint64_t rkhash(const char *p, size_t n)
{
	const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t a = k1 ^ (uint64_t)n, b = k2, u, v;
	size_t i = 0;
	/* two independent lanes of 8 bytes */
	for (; i + 16 <= n; i += 16) {
		memcpy(&u, p + i, 8);
		memcpy(&v, p + i + 8, 8);
		a = (((a << 5) | (a >> 59)) ^ u) * k1;
		b = (((b << 7) | (b >> 57)) ^ v) * k2;
	}
	if (i < n) {
		u = v = 0;
		if (n >= 16) {
			memcpy(&u, p + n - 16, 8);
			memcpy(&v, p + n - 8, 8);
		} else if (n >= 8) {
			memcpy(&u, p, 8);
			memcpy(&v, p + n - 8, 8);
		} else {
			for (size_t j = 0; j < n; j++)
				u |= (uint64_t)(unsigned char)p[j] << (8 * j);
		}
		a = (((a << 5) | (a >> 59)) ^ u) * k1;
		b = (((b << 7) | (b >> 57)) ^ v) * k2;
	}
	uint64_t h = a ^ ((b << 31) | (b >> 33));
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	return h ^ (h >> 29);
}

/* The key to use for the n-th occurrence of key within scope. */
static struct span repeat_key(struct csv_repeat *rp, struct span scope, struct span key, struct arena *a)
{
	if (!rp->h) {
		repeat_alloc(rp, 64);
		rp->cur = 1;
	}
	if (scope.n != rp->scope_n || !mem_eq_short(scope.p, rp->scope, scope.n) || rp->n >= CSV_REPEAT_MAX) {
		rp->cur++;          /* every slot is dead now: no clearing needed */
		rp->n = 0;
		if (rp->cur == 0) { /* wrapped: clear for real */
			memset(rp->gen, 0, (rp->mask + 1) * sizeof *rp->gen);
			rp->cur = 1;
		}
		if (scope.n > rp->scope_cap) {
			rp->scope_cap = scope.n * 2;
			rp->scope = xrealloc(rp->scope, rp->scope_cap);
		}
		if (scope.n)
			memcpy(rp->scope, scope.p, scope.n);
		rp->scope_n = scope.n;
	}
	uint64_t h = rkhash(key.p, key.n) | 1;
	size_t i = repeat_find(rp, h);
	if (rp->gen[i] != rp->cur) {
		rp->h[i] = h;
		rp->cnt[i] = 1;
		rp->gen[i] = rp->cur;
		if (++rp->n * 2 > rp->mask + 1)
			repeat_grow(rp);
		return key;
	}
	uint32_t c = ++rp->cnt[i];
	char digits[10];
	size_t nd = 0;
	do {
		digits[nd++] = (char)('0' + c % 10);
		c /= 10;
	} while (c);
	char *o = arena_alloc(a, key.n + 1 + nd);
	if (key.n)
		memcpy(o, key.p, key.n);
	o[key.n] = '#';
	for (size_t k = 0; k < nd; k++)
		o[key.n + 1 + k] = digits[nd - 1 - k];
	return span_make(o, key.n + 1 + nd);
}

/* ---- values ---- */

enum csv_vt { VT_AUTO = 0, VT_NUM, VT_TEXT, VT_CODED, VT_BAD };

static enum csv_vt value_type(struct span w)
{
	static const struct { const char *w; size_t n; enum csv_vt t; } words[] = {
		{ "numeric", 7, VT_NUM }, { "text", 4, VT_TEXT }, { "number", 6, VT_NUM }, { "num", 3, VT_NUM },
		{ "nm", 2, VT_NUM }, { "sn", 2, VT_NUM }, { "quantity", 8, VT_NUM }, { "string", 6, VT_TEXT },
		{ "st", 2, VT_TEXT }, { "tx", 2, VT_TEXT }, { "ft", 2, VT_TEXT }, { "coded", 5, VT_CODED },
		{ "code", 4, VT_CODED }, { "ce", 2, VT_CODED }, { "cwe", 3, VT_CODED }, { "cd", 2, VT_CODED },
		{ "auto", 4, VT_AUTO },
	};
	if (w.n == 0)
		return VT_AUTO;
	/* the usual spellings, exactly */
	if (w.n == 7 && memcmp(w.p, "numeric", 7) == 0)
		return VT_NUM;
	if (w.n == 4 && memcmp(w.p, "text", 4) == 0)
		return VT_TEXT;
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (words[i].n == w.n && span_ieq(w, span_make(words[i].w, words[i].n)))
			return words[i].t;
	return VT_BAD;
}

/* A number with an optional comparator in front ("<5", ">= 10"). */
static int value_num(struct span v, struct value *val)
{
	size_t k = 0;
	if (v.n && (v.p[0] == '<' || v.p[0] == '>' || v.p[0] == '=')) {
		k = v.n > 1 && v.p[1] == '=' ? 2 : 1;
		val->op = span_make(v.p, k);
		while (k < v.n && v.p[k] == ' ')
			k++;
	}
	if (csv_parse_double(span_make(v.p + k, v.n - k), &val->num) < 0) {
		val->op = SPAN_NULL;
		return -1;
	}
	val->kind = VAL_NUM;
	return 0;
}

static int soft(struct err *why, int code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int soft(struct err *why, int code, const char *where, const char *fmt, ...)
{
	va_list ap;
	why->code = code;
	snprintf(why->pos.where, sizeof why->pos.where, "%s", where);
	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof why->msg, fmt, ap);
	va_end(ap);
	return -code;
}

/* ---- rows ---- */

/* Store a (non-empty) value into the field bd describes. */
static int set_field(struct record *rec, struct csv_bind *bd, struct span v, int site_tz, struct err *why)
{
	char *base = (char *)rec;
	switch (bd->type) {
	case CF_SPAN:
		*(struct span *)(void *)(base + bd->off) = v;
		break;
	case CF_CODE:
		((struct code *)(void *)(base + bd->off))->code = v;
		break;
	case CF_DATE: {
		struct dt *d = (struct dt *)(void *)(base + bd->off);
		if (v.n == bd->dlast_n && memcmp(v.p, bd->dlast, v.n) == 0) {
			*d = bd->dval;
			break;
		}
		if (csv_parse_date(v, &bd->date, site_tz, d) < 0)
			return soft(why, E_DATE, bd->where, "not a date (format %s)", fmt_name(&bd->date));
		if (v.n <= sizeof bd->dlast) {
			memcpy(bd->dlast, v.p, v.n);
			bd->dlast_n = v.n;
			bd->dval = *d;
		}
		break;
	}
	case CF_DOUBLE:
		if (csv_parse_double(v, (double *)(void *)(base + bd->off)) < 0)
			return soft(why, E_VALUE, bd->where, "%s: not a number", bd->name);
		break;
	case CF_I32:
		if (parse_i32(v, (int32_t *)(void *)(base + bd->off)) < 0)
			return soft(why, E_VALUE, bd->where, "%s: not an integer", bd->name);
		break;
	default:
		break;
	}
	return 0;
}

int csv_build_init(struct csv_build *b, const struct csv_profile *p, const struct csv_filespec *f,
                   const size_t *idx, struct err *why)
{
	size_t n = f->nrecs ? f->nrecs : 1;
	memset(b, 0, sizeof *b);
	b->p = p;
	b->f = f;
	b->rep = xcalloc(n, sizeof *b->rep);
	b->tmpl = xcalloc(n, sizeof *b->tmpl);
	b->vtype = xcalloc(n, 1);
	b->ocache = xcalloc(n, sizeof *b->ocache);
	b->steps = xcalloc(n, sizeof *b->steps);
	b->nsteps = xcalloc(n, sizeof *b->nsteps);
	for (size_t ri = 0; ri < f->nrecs; ri++) {
		const struct csv_recspec *r = f->recs[ri];
		struct record *t = &b->tmpl[ri];
		csv_expr_bind(r->when, idx);
		csv_expr_bind(r->unless, idx);
		csv_expr_bind(r->repeat, idx);
		csv_expr_bind(r->origin_x, idx);
		b->steps[ri] = xcalloc(r->nb ? r->nb : 1, sizeof *b->steps[ri]);
		for (size_t i = 0; i < r->nb; i++) {
			struct csv_bind *bd = &r->b[i];
			csv_expr_bind(bd->x, idx);
			if (bd->is_const)
				continue;
			b->steps[ri][b->nsteps[ri]++] = (struct csv_step){
				bd->x->op == X_COL ? (int64_t)bd->x->col : -1, bd->off, bd->type, bd->req, bd };
		}
		record_init(t, (enum rec_kind)r->kind);
		if (r->kind == REC_EVENT) {
			t->u.event.kind = r->ev;
			t->u.event.origin = r->origin;
		} else if (r->kind == REC_VISIT) {
			t->u.visit.origin = r->origin;
		} else if (r->kind == REC_DEATH) {
			t->u.death.origin = r->origin;
		}
		b->vtype[ri] = 0xff;
		memset(b->ocache[ri].n, 0xff, sizeof b->ocache[ri].n);
		for (size_t i = 0; i < r->nb; i++) {
			struct csv_bind *bd = &r->b[i];
			struct span v;
			if (bd->type == CF_VTYPE && csv_expr_const(bd->x, &v)) {
				enum csv_vt vt = value_type(v);
				if (vt == VT_BAD)
					return soft(why, E_VALUE, bd->where, "value.type: '%.*s' is not numeric, text, coded or auto", (int)v.n, v.p);
				b->vtype[ri] = (uint8_t)vt;
				continue;
			}
			if (!bd->is_const || !csv_expr_const(bd->x, &v) || v.n == 0)
				continue;
			int rc = set_field(t, bd, v, p->site_tz, why);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

void csv_build_free(struct csv_build *b)
{
	if (b->rep && b->f)
		for (size_t i = 0; i < b->f->nrecs; i++)
			csv_repeat_free(&b->rep[i]);
	free(b->rep);
	free(b->tmpl);
	free(b->vtype);
	free(b->ocache);
	if (b->steps && b->f)
		for (size_t i = 0; i < b->f->nrecs; i++)
			free(b->steps[i]);
	free(b->steps);
	free(b->nsteps);
	memset(b, 0, sizeof *b);
}

/* The origin a word names, remembering the last words per [record]. */
static int origin_of(struct csv_build *b, size_t ri, struct span w)
{
	struct csv_ocache *c = &b->ocache[ri];
	for (int i = 0; i < CSV_OCACHE; i++)
		if (c->n[i] == w.n && mem_eq_short(w.p, c->w[i], w.n))
			return c->v[i];
	int o = csv_profile_origin(w);
	if (o >= 0 && w.n < sizeof c->w[0]) {
		int k = c->next++ % CSV_OCACHE;
		memcpy(c->w[k], w.p, w.n);
		c->n[k] = (uint8_t)w.n;
		c->v[k] = (uint8_t)o;
	}
	return o;
}

/* The record template, copied 32 bytes at a time (a plain memcpy of the
 * struct becomes "rep movsq", whose start-up costs more than the copy). */
static inline void copy_record(struct record *d, const struct record *s)
{
	char *dp = (char *)d;
	const char *sp = (const char *)s;
	size_t k = 0;
	for (; k + 32 <= sizeof *d; k += 32)
		memcpy(dp + k, sp + k, 32);
	if (k < sizeof *d)
		memcpy(dp + k, sp + k, sizeof *d - k);
}

static int build_one(struct csv_build *b, const struct csv_recspec *r, size_t ri, const struct csv_row *row,
                     struct record *rec, struct err *why)
{
	const struct csv_bind *vb = NULL, *tb = NULL;
	struct span vtext = SPAN_NULL, vtype = SPAN_NULL;
	const int site_tz = b->p->site_tz;

	copy_record(rec, &b->tmpl[ri]);
	const struct csv_step *st = b->steps[ri];
	const size_t nst = b->nsteps[ri];
	const struct span *F = row->f;
	const int plain = row->plain;
	char *base = (char *)rec;
	for (size_t i = 0; i < nst; i++) {
		struct span v = st[i].col >= 0 && plain ? F[st[i].col] : csv_expr_value(st[i].bd->x, row);
		if (v.n == 0) {
			if (st[i].req == CSV_REQ_PERSON)
				return soft(why, E_NO_PATIENT, st[i].bd->where, "no patient identifier (%s)", st[i].bd->name);
			if (st[i].req)
				return soft(why, E_MISSING, st[i].bd->where, "%s is empty", st[i].bd->name);
			continue;
		}
		if (st[i].type == CF_SPAN) {
			/* the most common step: a test rather than the jump table */
			*(struct span *)(void *)(base + st[i].off) = v;
			continue;
		}
		switch (st[i].type) {
		case CF_CODE:
			((struct code *)(void *)(base + st[i].off))->code = v;
			break;
		case CF_VALUE:
			vtext = v;
			vb = st[i].bd;
			break;
		case CF_VTYPE:
			vtype = v;
			tb = st[i].bd;
			break;
		case CF_DATE: {
			/* rows of one encounter share their dates */
			const struct csv_bind *bd = st[i].bd;
			if (v.n == bd->dlast_n && mem_eq_short(v.p, bd->dlast, v.n)) {
				*(struct dt *)(void *)(base + st[i].off) = bd->dval;
				break;
			}
		}
			/* fall through */
		default: {
			int rc = set_field(rec, st[i].bd, v, site_tz, why);
			if (rc < 0)
				return rc;
		}
		}
	}
	if (r->kind == REC_EVENT) {
		struct value *val = &rec->u.event.value;
		if (vtext.n) {
			enum csv_vt t = b->vtype[ri] != 0xff ? (enum csv_vt)b->vtype[ri] : value_type(vtype);
			val->text = vtext;
			switch (t) {
			case VT_BAD:
				return soft(why, E_VALUE, tb ? tb->where : "value.type", "value.type: unknown value type word");
			case VT_NUM:
				if (value_num(vtext, val) < 0)
					return soft(why, E_VALUE, vb->where, "value: not a number (value.type numeric)");
				break;
			case VT_AUTO:
				if (value_num(vtext, val) < 0)
					val->kind = VAL_TEXT;
				break;
			case VT_TEXT:
				val->kind = VAL_TEXT;
				break;
			case VT_CODED:
				val->kind = VAL_CODED;
				if (!val->coded.code.n)
					val->coded.code = vtext;
				break;
			}
		} else if (val->coded.code.n) {
			val->kind = VAL_CODED;
		}
		val->has_low = !isnan(val->low);
		val->has_high = !isnan(val->high);
	}
	if (r->origin_x) {
		struct span w = csv_expr_value(r->origin_x, row);
		int o = origin_of(b, ri, w);
		if (o < 0)
			return soft(why, E_VALUE, "origin", "origin: not an origin word (%s)", r->origin_x->text);
		if (r->kind == REC_EVENT)
			rec->u.event.origin = (uint8_t)o;
		else if (r->kind == REC_VISIT)
			rec->u.visit.origin = (uint8_t)o;
		else if (r->kind == REC_DEATH)
			rec->u.death.origin = (uint8_t)o;
	}
	if (r->repeat) {
		const struct csv_bind *kb = &r->b[r->key];
		struct span *key = (struct span *)(void *)((char *)rec + kb->off);
		*key = repeat_key(&b->rep[ri], csv_expr_value(r->repeat, row), *key, row->a);
	}
	return 0;
}

int csv_build_row(struct csv_build *b, const struct csv_row *row, struct sink *s, struct err *why, size_t *emitted)
{
	const struct csv_filespec *f = b->f;
	struct record rec;

	*emitted = 0;
	for (size_t ri = 0; ri < f->nrecs; ri++) {
		const struct csv_recspec *r = f->recs[ri];
		if (r->when && csv_expr_value(r->when, row).n == 0)
			continue;
		if (r->unless && csv_expr_value(r->unless, row).n != 0)
			continue;
		int rc = build_one(b, r, ri, row, &rec, why);
		if (rc < 0)
			return rc;
		if ((rc = sink_emit(s, &rec, why)) < 0)
			return rc;
		(*emitted)++;
	}
	return 0;
}
