/*
 * map_rules.c - what mappings/ says, independent of the database: code system
 * aliases, code formats (normalisation + PCRE2 patterns), fixed-value maps
 * and type concepts. See map_internal.h.
 *
 *   mappings/code_systems.csv   system,vocabulary_id[,note]
 *   mappings/code_formats.csv   vocabulary_id,case,spaces,transform,pattern[,note]
 *   mappings/<fixed>.csv        source_system,source_value,concept_id[,concept_name,vocabulary_id,concept_code,note]
 *   mappings/type_concepts.csv  origin,concept_id[,concept_name]
 *
 * Extra code system aliases (a site's or a vendor's spellings) come from
 * conf/code_systems.csv and from code_systems.csv beside the configuration
 * file; later files win. Lines whose first field starts with '#' are comments.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "etl/map/map_internal.h"
#include "core/csvtok.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- strtab */

void strtab_init(struct strtab *t, struct arena *a)
{
	memset(t, 0, sizeof *t);
	t->arena = a;
}

void strtab_free(struct strtab *t)
{
	free(t->key);
	free(t->klen);
	free(t->val);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

static uint32_t st_find(const struct strtab *t, const char *k, size_t n, uint64_t h)
{
	if (!t->slot)
		return UINT32_MAX;
	for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
		uint32_t s = t->slot[i];
		if (!s)
			return UINT32_MAX;
		if (t->klen[s - 1] == n && memcmp(t->key[s - 1], k, n) == 0)
			return s - 1;
	}
}

static void st_grow(struct strtab *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : 64;
	t->key = xrealloc(t->key, mem_mul(ncap, sizeof *t->key));
	t->klen = xrealloc(t->klen, mem_mul(ncap, sizeof *t->klen));
	t->val = xrealloc(t->val, mem_mul(ncap, sizeof *t->val));
	free(t->slot);
	uint32_t ns = ncap * 2;
	t->slot = xcalloc(ns, sizeof *t->slot);
	t->mask = ns - 1;
	t->cap = ncap;
	for (uint32_t j = 0; j < t->n; j++) {
		uint32_t i = (uint32_t)hash64(t->key[j], t->klen[j], 7) & t->mask;
		while (t->slot[i])
			i = (i + 1) & t->mask;
		t->slot[i] = j + 1;
	}
}

int32_t strtab_get(const struct strtab *t, const char *k, size_t n)
{
	uint32_t j = st_find(t, k, n, hash64(k, n, 7));
	return j == UINT32_MAX ? -1 : t->val[j];
}

static uint32_t st_add(struct strtab *t, const char *k, size_t n, int32_t val, int replace)
{
	uint64_t h = hash64(k, n, 7);
	uint32_t j = st_find(t, k, n, h);
	if (j != UINT32_MAX) {
		if (replace)
			t->val[j] = val;
		return j;
	}
	if (t->n + 1 > t->cap)
		st_grow(t);
	j = t->n++;
	t->key[j] = arena_strndup(t->arena, k, n);
	t->klen[j] = (uint32_t)n;
	t->val[j] = val == INT32_MIN ? (int32_t)j : val;
	uint32_t i = (uint32_t)h & t->mask;
	while (t->slot[i])
		i = (i + 1) & t->mask;
	t->slot[i] = j + 1;
	return j;
}

uint32_t strtab_put(struct strtab *t, const char *k, size_t n, int32_t val)
{
	return st_add(t, k, n, val, 1);
}

uint32_t strtab_intern(struct strtab *t, const char *k, size_t n)
{
	return st_add(t, k, n, INT32_MIN, 0);
}

/* ---------------------------------------------------------------- CSV files */

static size_t lower_copy(char *dst, size_t cap, struct span s)
{
	size_t n = s.n < cap ? s.n : cap;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return n;
}

struct csvfile {
	struct csvtok t;
	const char *path;
	int col[8];
};

/* Open a mappings CSV and find the named columns (required ones first, up to
 * nreq; the others may be absent: -1). */
static int csvfile_open(struct csvfile *f, const char *path, const char *const *names, int nnames, int nreq, struct err *e)
{
	f->path = path;
	int rc = csvtok_open(&f->t, path, ',', '"', 1 << 20, e);
	if (rc < 0)
		return rc;
	do
		rc = csvtok_next(&f->t, e);
	while (rc > 0 && f->t.nf && f->t.f[0].n && f->t.f[0].p[0] == '#');
	if (rc <= 0) {
		csvtok_close(&f->t);
		return rc < 0 ? rc : err_set(e, E_CONFIG, "%s: empty, expected a header line", path);
	}
	for (int k = 0; k < nnames; k++) {
		f->col[k] = -1;
		for (size_t i = 0; i < f->t.nf; i++)
			if (span_ieq_str(span_trim(f->t.f[i]), names[k]))
				f->col[k] = (int)i;
		if (f->col[k] < 0 && k < nreq) {
			csvtok_close(&f->t);
			return err_set(e, E_CONFIG, "%s:%llu: header has no column %s", path, (unsigned long long)f->t.line, names[k]);
		}
	}
	return 0;
}

/* Next data row: 1, 0 at the end, < 0 on error. */
static int csvfile_next(struct csvfile *f, struct err *e)
{
	for (;;) {
		int rc = csvtok_next(&f->t, e);
		if (rc < 0) {
			err_pos_file(&e->pos, f->path);
			e->pos.line = f->t.line;
			return err_set(e, E_CONFIG, "%s:%llu: %s", f->path, (unsigned long long)f->t.line, e->msg);
		}
		if (rc == 0)
			return 0;
		if (f->t.nf && f->t.f[0].n && f->t.f[0].p[0] == '#')
			continue;
		return 1;
	}
}

static struct span csvfile_get(const struct csvfile *f, int k)
{
	int c = f->col[k];
	return c >= 0 && (size_t)c < f->t.nf ? span_trim(f->t.f[c]) : SPAN_NULL;
}

static int csvfile_fail(struct csvfile *f, struct err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int csvfile_fail(struct csvfile *f, struct err *e, const char *fmt, ...)
{
	char m[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	int rc = err_set(e, E_CONFIG, "%s:%llu: %s", f->path, (unsigned long long)f->t.line, m);
	err_pos_file(&e->pos, f->path);
	e->pos.line = f->t.line;
	csvtok_close(&f->t);
	return rc;
}

/* ---------------------------------------------------------------- loading */

static uint32_t name_id(struct map_rules *r, struct span v)
{
	uint32_t id = strtab_intern(&r->names, v.p, v.n);
	if (id >= r->fmt_cap) {
		uint32_t ncap = r->fmt_cap ? r->fmt_cap * 2 : 64;
		while (ncap <= id)
			ncap *= 2;
		r->fmt = xrealloc(r->fmt, mem_mul(ncap, sizeof *r->fmt));
		memset(r->fmt + r->fmt_cap, 0, (ncap - r->fmt_cap) * sizeof *r->fmt);
		r->fmt_cap = ncap;
	}
	return id;
}

static int load_systems(struct map_rules *r, const char *path, struct err *e)
{
	static const char *const cols[] = { "system", "vocabulary_id" };
	struct csvfile f;
	int rc = csvfile_open(&f, path, cols, 2, 2, e);
	if (rc < 0)
		return rc;
	while ((rc = csvfile_next(&f, e)) > 0) {
		struct span sys = csvfile_get(&f, 0), voc = csvfile_get(&f, 1);
		char low[256];
		if (!sys.n || !voc.n)
			return csvfile_fail(&f, e, "%s", "system and vocabulary_id are required");
		if (sys.n > sizeof low || voc.n > 20)
			return csvfile_fail(&f, e, "%s", "system longer than 256 or vocabulary_id longer than 20 characters");
		size_t n = lower_copy(low, sizeof low, sys);
		int32_t v = span_eq_str(voc, "LOCAL") ? MAP_VOCAB_LOCAL : (int32_t)name_id(r, voc);
		strtab_put(&r->systems, low, n, v);
		/* an OID may also be written urn:oid:OID */
		if (n > 2 && low[0] >= '0' && low[0] <= '9' && memchr(low, '.', n)) {
			char urn[300];
			int k = snprintf(urn, sizeof urn, "urn:oid:%.*s", (int)n, low);
			strtab_put(&r->systems, urn, (size_t)k, v);
		}
	}
	csvtok_close(&f.t);
	r->nfiles++;
	return rc;
}

static int load_formats(struct map_rules *r, const char *path, struct err *e)
{
	static const char *const cols[] = { "vocabulary_id", "case", "spaces", "transform", "pattern" };
	struct csvfile f;
	int rc = csvfile_open(&f, path, cols, 5, 5, e);
	if (rc < 0)
		return rc;
	while ((rc = csvfile_next(&f, e)) > 0) {
		struct span voc = csvfile_get(&f, 0), cas = csvfile_get(&f, 1), sp = csvfile_get(&f, 2),
		            xf = csvfile_get(&f, 3), pat = csvfile_get(&f, 4);
		if (!voc.n)
			return csvfile_fail(&f, e, "%s", "vocabulary_id is required");
		struct map_format mf = { 0 };
		if (span_eq_str(cas, "upper")) mf.cas = MAPC_UPPER;
		else if (span_eq_str(cas, "lower")) mf.cas = MAPC_LOWER;
		else if (cas.n && !span_eq_str(cas, "keep"))
			return csvfile_fail(&f, e, "case '%.*s': expected upper, lower or keep", (int)cas.n, cas.p);
		if (span_eq_str(sp, "strip")) mf.strip_space = 1;
		else if (sp.n && !span_eq_str(sp, "trim"))
			return csvfile_fail(&f, e, "spaces '%.*s': expected strip or trim", (int)sp.n, sp.p);
		static const struct { const char *n; int x; } xs[] = {
			{ "none", MAPX_NONE }, { "dot3", MAPX_DOT3 }, { "icd9", MAPX_ICD9 }, { "dot2", MAPX_DOT2 },
			{ "nodot", MAPX_NODOT }, { "ndc11", MAPX_NDC11 }, { "lpad2", MAPX_LPAD2 },
		};
		int found = !xf.n;
		for (size_t i = 0; i < sizeof xs / sizeof *xs && !found; i++)
			if (span_eq_str(xf, xs[i].n)) {
				mf.xform = (uint8_t)xs[i].x;
				found = 1;
			}
		if (!found)
			return csvfile_fail(&f, e, "transform '%s': expected none, dot3, icd9, dot2, nodot, ndc11 or lpad2",
			                    arena_strndup(&r->arena, xf.p, xf.n));
		if (pat.n) {
			int ec;
			PCRE2_SIZE eo;
			pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat.p, pat.n, PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &ec, &eo, NULL);
			if (!re) {
				PCRE2_UCHAR msg[160];
				pcre2_get_error_message(ec, msg, sizeof msg);
				return csvfile_fail(&f, e, "pattern does not compile: %s", (const char *)msg);
			}
			pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: plain matching if JIT is unavailable */
			mf.re = re;
			mf.pattern = arena_strndup(&r->arena, pat.p, pat.n);
		}
		uint32_t id = name_id(r, voc);
		if (r->fmt[id].re)
			pcre2_code_free(r->fmt[id].re);
		r->fmt[id] = mf;
	}
	csvtok_close(&f.t);
	r->nfiles++;
	return rc;
}

static const char *const fixed_files[MAPF__COUNT] = {
	"gender.csv", "race.csv", "ethnicity.csv", "visit.csv", "unit.csv", "route.csv", "discharge.csv",
	"specialty.csv", "place_of_service.csv", "operator.csv", "condition_status.csv",
};

/* key = kind, 0x1f, system (lower), 0x1f, value (lower unless exact) */
static size_t fixed_key(char *k, size_t cap, int kind, struct span sys, struct span val, int exact)
{
	if (sys.n + val.n + 4 > cap)
		return 0;
	size_t n = 0;
	k[n++] = (char)('A' + kind);
	k[n++] = 0x1f;
	n += lower_copy(k + n, cap - n, sys);
	k[n++] = 0x1f;
	if (exact) {
		memcpy(k + n, val.p, val.n);
		n += val.n;
	} else
		n += lower_copy(k + n, cap - n, val);
	return n;
}

static int load_fixed(struct map_rules *r, int kind, const char *path, struct err *e)
{
	static const char *const cols[] = { "source_system", "source_value", "concept_id", "vocabulary_id", "concept_code" };
	struct csvfile f;
	int rc = csvfile_open(&f, path, cols, 5, 3, e);
	if (rc < 0)
		return rc;
	while ((rc = csvfile_next(&f, e)) > 0) {
		struct span sys = csvfile_get(&f, 0), val = csvfile_get(&f, 1), cid = csvfile_get(&f, 2);
		struct span voc = csvfile_get(&f, 3), code = csvfile_get(&f, 4);
		int64_t id;
		if (!val.n)
			return csvfile_fail(&f, e, "%s", "source_value is required");
		if (span_to_i64(cid, &id) < 0 || id < 0 || id > INT32_MAX)
			return csvfile_fail(&f, e, "concept_id '%.*s' is not a concept id", (int)cid.n, cid.p);
		if (r->nfixed == r->fixed_cap) {
			r->fixed_cap = r->fixed_cap ? r->fixed_cap * 2 : 256;
			r->fixed_e = xrealloc(r->fixed_e, mem_mul(r->fixed_cap, sizeof *r->fixed_e));
		}
		uint32_t ei = r->nfixed++;
		r->fixed_e[ei].concept_id = (int32_t)id;
		r->fixed_e[ei].kind = (uint8_t)kind;
		r->fixed_e[ei].vocabulary_id = voc.n ? arena_strndup(&r->arena, voc.p, voc.n) : NULL;
		r->fixed_e[ei].concept_code = code.n ? arena_strndup(&r->arena, code.p, code.n) : NULL;
		char key[600];
		size_t kn = fixed_key(key, sizeof key, kind, sys, val, kind == MAPF_UNIT);
		if (!kn)
			return csvfile_fail(&f, e, "%s", "value too long");
		if (strtab_get(&r->fixed, key, kn) >= 0)
			return csvfile_fail(&f, e, "'%.*s' is listed twice", (int)val.n, val.p);
		strtab_put(&r->fixed, key, kn, (int32_t)ei);
		if (kind == MAPF_UNIT) {
			/* case-insensitive fallback: the first spelling of a folded key wins */
			kn = fixed_key(key, sizeof key, kind, sys, val, 0);
			key[0] = (char)('a' + kind);
			if (strtab_get(&r->fixed, key, kn) < 0)
				strtab_put(&r->fixed, key, kn, (int32_t)ei);
		}
		r->fixed_count[kind]++;
	}
	csvtok_close(&f.t);
	r->nfiles++;
	return rc;
}

static const char *const origin_names[ORIG__COUNT] = {
	"ehr", "ehr_encounter", "lab", "problem_list", "prescription", "dispense", "administration",
	"self_report", "claim", "registry", "nlp",
};

static int load_types(struct map_rules *r, const char *path, struct err *e)
{
	static const char *const cols[] = { "origin", "concept_id" };
	struct csvfile f;
	int rc = csvfile_open(&f, path, cols, 2, 2, e);
	if (rc < 0)
		return rc;
	while ((rc = csvfile_next(&f, e)) > 0) {
		struct span o = csvfile_get(&f, 0), cid = csvfile_get(&f, 1);
		int64_t id;
		int k = -1;
		for (int i = 0; i < ORIG__COUNT; i++)
			if (span_eq_str(o, origin_names[i]))
				k = i;
		if (k < 0)
			return csvfile_fail(&f, e, "unknown origin '%s' (expected ehr, ehr_encounter, lab, problem_list, prescription, "
			                    "dispense, administration, self_report, claim, registry, nlp)", arena_strndup(&r->arena, o.p, o.n));
		if (span_to_i64(cid, &id) < 0 || id <= 0 || id > INT32_MAX)
			return csvfile_fail(&f, e, "concept_id '%.*s' is not a concept id", (int)cid.n, cid.p);
		r->type_concept[k] = (int32_t)id;
	}
	csvtok_close(&f.t);
	r->nfiles++;
	return rc;
}

static void rules_init(struct map_rules *r)
{
	memset(r, 0, sizeof *r);
	arena_init(&r->arena, 64 * 1024);
	strtab_init(&r->systems, &r->arena);
	strtab_init(&r->names, &r->arena);
	strtab_init(&r->fixed, &r->arena);
}

int map_rules_load_dir(struct map_rules *r, const char *dir, const char *extra_systems, struct err *e)
{
	char p[4096];
	int rc;
	rules_init(r);
#define MAPPATH(name) (path_join(p, sizeof p, dir, name) < 0 ? (rc = err_set(e, E_INPUT, "path too long: %s", dir)) : 0)
	if (MAPPATH("code_systems.csv") < 0 || (rc = load_systems(r, p, e)) < 0)
		goto fail;
	if (MAPPATH("code_formats.csv") < 0 || (rc = load_formats(r, p, e)) < 0)
		goto fail;
	for (int k = 0; k < MAPF__COUNT; k++) {
		if (MAPPATH(fixed_files[k]) < 0)
			goto fail;
		if ((rc = load_fixed(r, k, p, e)) < 0)
			goto fail;
	}
	if (MAPPATH("type_concepts.csv") < 0 || (rc = load_types(r, p, e)) < 0)
		goto fail;
	for (int k = 0; k < ORIG__COUNT; k++)
		if (!r->type_concept[k]) {
			rc = err_set(e, E_CONFIG, "%s: no concept for origin %s", p, origin_names[k]);
			goto fail;
		}
	if (extra_systems && path_is_file(extra_systems) && (rc = load_systems(r, extra_systems, e)) < 0)
		goto fail;
#undef MAPPATH
	return 0;
fail:
	map_rules_free(r);
	return rc;
}

int map_rules_load(struct map_rules *r, const struct conf *c, struct err *e)
{
	char dir[4096], extra[4096];
	const char *share = path_share_dir();
	if (!share || path_join(dir, sizeof dir, share, "mappings") < 0 || !path_is_dir(dir))
		return err_set(e, E_CONFIG, "cannot find the mappings/ folder (set OMOPIPE_SHARE)");
	path_join(extra, sizeof extra, share, "conf/code_systems.csv");
	int rc = map_rules_load_dir(r, dir, extra, e);
	if (rc < 0 || !c || !c->path)
		return rc;
	/* code_systems.csv beside the configuration file */
	const char *slash = strrchr(c->path, '/');
	if (slash) {
		snprintf(extra, sizeof extra, "%.*s/code_systems.csv", (int)(slash - c->path), c->path);
		if (path_is_file(extra) && (rc = load_systems(r, extra, e)) < 0)
			map_rules_free(r);
	}
	return rc;
}

void map_rules_free(struct map_rules *r)
{
	for (uint32_t i = 0; i < r->fmt_cap; i++)
		if (r->fmt[i].re)
			pcre2_code_free(r->fmt[i].re);
	free(r->fmt);
	free(r->fixed_e);
	strtab_free(&r->systems);
	strtab_free(&r->names);
	strtab_free(&r->fixed);
	arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- lookups */

const char *map_rules_name(const struct map_rules *r, int id)
{
	return id >= 0 && (uint32_t)id < r->names.n ? r->names.key[id] : NULL;
}

int map_rules_system(const struct map_rules *r, struct span sys, char *key, size_t keycap, size_t *keylen)
{
	char low[256];
	sys = span_trim(sys);
	int32_t v = -1;
	if (sys.n && sys.n <= sizeof low) {
		size_t n = lower_copy(low, sizeof low, sys);
		v = strtab_get(&r->systems, low, n);
	}
	size_t k = 0;
	if (v >= 0) {
		const char *nm = r->names.key[v];
		k = r->names.klen[v] < keycap ? r->names.klen[v] : keycap - 1;
		memcpy(key, nm, k);
	} else {
		k = sys.n < keycap ? sys.n : keycap - 1;
		for (size_t i = 0; i < k; i++) {
			char c = sys.p[i];
			key[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		}
	}
	key[k] = '\0';
	*keylen = k;
	return v;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Insert a dot after position at when there is none and the code is longer. */
static size_t dot_at(char *s, size_t n, size_t at)
{
	if (n <= at || memchr(s, '.', n) || n + 1 >= MAP_CODE_MAX)
		return n;
	memmove(s + at + 1, s + at, n - at);
	s[at] = '.';
	return n + 1;
}

/* Eight bytes at once: the letters of [lo, lo + 26) get bit 5 flipped when
 * flip, other bytes (beyond ASCII too) stay; nonzero if a space or a tab is
 * among them. For each byte, t + (0x80 - lo) has its top bit set exactly when
 * its low seven bits t are at least lo, and no sum carries into the next
 * byte; the classic zero-byte test is exact as a yes or no. */
static uint64_t fold8(uint64_t *w, unsigned char lo, int flip)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
	uint64_t v = *w, t = v & ~high;
	uint64_t letter = (t + ones * (0x80u - lo)) & ~(t + ones * (0x80u - lo - 26)) & ~v & high;
	*w = v ^ (flip ? letter >> 2 : 0);
	uint64_t sp = v ^ ones * ' ', tab = v ^ ones * '\t';
	return ((sp - ones) & ~sp & high) | ((tab - ones) & ~tab & high);
}

/* Copy n bytes (n < MAP_CODE_MAX) from src to s through fold8: a word at a
 * time, the last one overlapping the one before (the same bytes give the
 * same result); four-to-seven bytes as two overlapping halves of one word.
 * Returns whether a space or a tab was seen. */
static int copy_fold(char *s, const char *src, size_t n, unsigned char lo, int flip)
{
	uint64_t spaces = 0, w;
	if (n >= 8) {
		for (size_t i = 0;; i += 8) {
			if (i + 8 > n)
				i = n - 8;
			memcpy(&w, src + i, 8);
			spaces |= fold8(&w, lo, flip);
			memcpy(s + i, &w, 8);
			if (i + 8 == n)
				break;
		}
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		w = a | (uint64_t)b << 32;
		spaces = fold8(&w, lo, flip);
		a = (uint32_t)w;
		b = (uint32_t)(w >> 32);
		memcpy(s + n - 4, &b, 4);
		memcpy(s, &a, 4);
	} else {
		for (size_t i = 0; i < n; i++) {
			w = (unsigned char)src[i];
			spaces |= fold8(&w, lo, flip) & 0x80;
			s[i] = (char)w;
		}
	}
	return spaces != 0;
}

int map_normalise(const struct map_rules *r, int id, struct span code, char out[][MAP_CODE_MAX], size_t *len)
{
	const struct map_format *f = id >= 0 && (uint32_t)id < r->fmt_cap ? &r->fmt[id] : NULL;
	code = span_trim(code);
	if (!code.n || code.n >= MAP_CODE_MAX)
		return 0;
	char *s = out[0];
	unsigned char lo = f && f->cas == MAPC_UPPER ? 'a' : 'A';
	int spaces = copy_fold(s, code.p, code.n, lo, f && f->cas != MAPC_KEEP);
	size_t n = code.n;
	if (spaces && f && f->strip_space) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t')
				s[o++] = s[i];
		n = o;
	}
	s[n] = '\0';
	if (!n)
		return 0;
	int k = 1;
	switch (f ? f->xform : MAPX_NONE) {
	case MAPX_DOT3:
		n = dot_at(s, n, 3);
		break;
	case MAPX_ICD9:
		n = dot_at(s, n, s[0] == 'E' ? 4 : 3);
		break;
	case MAPX_DOT2:
		n = dot_at(s, n, 2);
		break;
	case MAPX_NODOT: {
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			if (s[i] != '.')
				s[o++] = s[i];
		n = o;
		break;
	}
	case MAPX_NDC11: {
		/* split on hyphens: 4-4-2, 5-3-2, 5-4-1, 5-4-2 */
		size_t part[3] = { 0 }, np = 0, nd = 0;
		int ok = 1;
		for (size_t i = 0; i < n && ok; i++) {
			if (s[i] == '-') {
				if (++np > 2)
					ok = 0;
			} else if (is_digit(s[i])) {
				part[np]++;
				nd++;
			} else
				ok = 0;
		}
		if (!ok)
			break;
		char d[16];
		size_t m = 0;
		for (size_t i = 0; i < n && m < sizeof d; i++)
			if (s[i] != '-')
				d[m++] = s[i];
		if (np == 2) {
			size_t a = part[0], b = part[1], c = part[2];
			const char *p = d;
			char o[12];
			if (a == 4 && b == 4 && c == 2) {
				o[0] = '0';
				memcpy(o + 1, p, 10);
			} else if (a == 5 && b == 3 && c == 2) {
				memcpy(o, p, 5);
				o[5] = '0';
				memcpy(o + 6, p + 5, 5);
			} else if (a == 5 && b == 4 && c == 1) {
				memcpy(o, p, 9);
				o[9] = '0';
				o[10] = p[9];
			} else if (a == 5 && b == 4 && c == 2) {
				memcpy(o, p, 11);
			} else
				break;
			memcpy(s, o, 11);
			n = 11;
		} else if (np == 0 && nd == 10) {
			/* unhyphenated 10 digits: ambiguous; try the three layouts */
			char o[3][12];
			o[0][0] = '0';
			memcpy(o[0] + 1, d, 10);               /* 4-4-2 */
			memcpy(o[1], d, 5);
			o[1][5] = '0';
			memcpy(o[1] + 6, d + 5, 5);            /* 5-3-2 */
			memcpy(o[2], d, 9);
			o[2][9] = '0';
			o[2][10] = d[9];                        /* 5-4-1 */
			memcpy(s, o[0], 11);
			n = 11;
			for (int j = 1; j < 3; j++) {
				memcpy(out[k], o[j], 11);
				out[k][11] = '\0';
				len[k++] = 11;
			}
		}
		break;
	}
	case MAPX_LPAD2: {
		int digits = 1;
		for (size_t i = 0; i < n; i++)
			digits &= is_digit(s[i]);
		if (!digits)
			break;
		if (n == 1) {
			/* "8" -> "08" first, "8" as the alternative */
			out[1][0] = s[0];
			out[1][1] = '\0';
			len[1] = 1;
			s[1] = s[0];
			s[0] = '0';
			n = 2;
			k = 2;
		} else if (s[0] == '0' && n > 2) {
			size_t z = 0;
			while (z + 2 < n && s[z] == '0')
				z++;
			memcpy(out[1], s + z, n - z);
			out[1][n - z] = '\0';
			len[1] = n - z;
			k = 2;
		}
		break;
	}
	default:
		break;
	}
	s[n] = '\0';
	len[0] = n;
	return k;
}

/* One match block per thread, made on first use (patterns are anchored at both
 * ends: one pair of offsets is all a match needs). */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_free(void *p) { pcre2_match_data_free(p); }
static void md_init(void) { pthread_key_create(&md_key, md_free); }

int map_code_valid(const struct map_rules *r, int id, const char *code, size_t n)
{
	if (id < 0 || (uint32_t)id >= r->fmt_cap || !r->fmt[id].re)
		return 1;
	pthread_once(&md_once, md_init);
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (!md) {
		md = pcre2_match_data_create(1, NULL);
		if (!md)
			return 1;
		pthread_setspecific(md_key, md);
	}
	int rc = pcre2_match(r->fmt[id].re, (PCRE2_SPTR)code, n, 0, 0, md, NULL);
	return rc >= 0 || rc == PCRE2_ERROR_NOMEMORY; /* ovector too small still means a match */
}

static int32_t fixed_probe(const struct map_rules *r, int kind, struct span sys, struct span v)
{
	char key[600];
	size_t kn = fixed_key(key, sizeof key, kind, sys, v, kind == MAPF_UNIT);
	int32_t ei = kn ? strtab_get(&r->fixed, key, kn) : -1;
	if (ei < 0 && kind == MAPF_UNIT && kn) {
		kn = fixed_key(key, sizeof key, kind, sys, v, 0);
		key[0] = (char)('a' + kind);
		ei = strtab_get(&r->fixed, key, kn);
	}
	return ei;
}

int32_t map_rules_fixed(const struct map_rules *r, enum map_fixed kind, const struct code *c)
{
	struct span v = span_trim(c->code);
	if (!v.n)
		v = span_trim(c->display);
	if (!v.n || (unsigned)kind >= MAPF__COUNT)
		return -1;
	struct span sys = span_trim(c->system);
	int32_t ei = -1;
	if (sys.n)
		ei = fixed_probe(r, kind, sys, v);   /* entries for this system first */
	if (ei < 0)
		ei = fixed_probe(r, kind, SPAN_NULL, v);
	return ei >= 0 ? r->fixed_e[ei].concept_id : -1;
}
