/*
 * map_index.c - building the in-memory vocabulary index. See map_internal.h.
 *
 *   CONCEPT rows              -> recs[] (32 bytes each), code hash, id hash
 *   CONCEPT_RELATIONSHIP rows -> pending (from, to, kind) -> edges[] (CSR)
 *                                -> default target per record (inline)
 *   SOURCE_TO_CONCEPT_MAP     -> stcm[] + (namespace, code) hash
 *
 * The database feeds the builder through COPY ... TO STDOUT with only the
 * columns the mapper needs (no names); tests and benchmarks feed it from
 * Athena files. After map_index_finish() the index is read-only.
 */
#include "etl/map/map_internal.h"
#include "core/csvtok.h"
#include "core/date.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"
#include "db/db.h"

#include <dirent.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct { const char *name; uint8_t dom; } domains[] = {
	{ "Condition", DOM_CONDITION }, { "Drug", DOM_DRUG }, { "Procedure", DOM_PROCEDURE },
	{ "Measurement", DOM_MEASUREMENT }, { "Observation", DOM_OBSERVATION }, { "Device", DOM_DEVICE },
	{ "Specimen", DOM_SPECIMEN }, { "Visit", DOM_VISIT }, { "Note", DOM_NOTE }, { "Gender", DOM_GENDER },
	{ "Race", DOM_RACE }, { "Ethnicity", DOM_ETHNICITY }, { "Unit", DOM_UNIT }, { "Route", DOM_ROUTE },
	{ "Type Concept", DOM_TYPE }, { "Metadata", DOM_META },
};

uint8_t map_domain_of(struct span name)
{
	for (size_t i = 0; i < sizeof domains / sizeof *domains; i++)
		if (span_eq_str(name, domains[i].name))
			return domains[i].dom;
	return name.n ? DOM_OTHER : DOM_NONE;
}

const char *map_domain_name(uint8_t d)
{
	for (size_t i = 0; i < sizeof domains / sizeof *domains; i++)
		if (domains[i].dom == d)
			return domains[i].name;
	return d == DOM_OTHER ? "Other" : "none";
}

int map_rel_kind(struct span rel)
{
	if (span_eq_str(rel, "Maps to"))
		return MEDGE_MAPS_TO;
	if (span_eq_str(rel, "Maps to value"))
		return MEDGE_MAPS_VALUE;
	if (span_eq_str(rel, "Concept replaced by") || span_eq_str(rel, "Concept same_as to") ||
	    span_eq_str(rel, "Concept alt_to to") || span_eq_str(rel, "Concept poss_eq to") ||
	    span_eq_str(rel, "Concept was_a to"))
		return MEDGE_REPLACED;
	return 0;
}

struct map_index *map_index_new(void)
{
	static _Atomic uint64_t gens;
	struct map_index *ix = xcalloc(1, sizeof *ix);
	ix->gen = ++gens;
	arena_init(&ix->arena, 1 << 20);
	strtab_init(&ix->vocabs, &ix->arena);
	strtab_init(&ix->ns, &ix->arena);
	ix->ucum_vocab = -1;
	return ix;
}

static uint16_t day16(int32_t d)
{
	return d <= 0 ? 0 : d >= 65535 ? 65535 : (uint16_t)d;
}

/* Domains repeat: a one-entry cache in front of the string compares. */
static uint8_t domain_cached(struct map_index *ix, struct span d)
{
	static __thread char last[32];
	static __thread size_t lastn = SIZE_MAX;
	static __thread uint8_t lastd;
	(void)ix;
	if (d.n == lastn && memcmp(last, d.p, d.n) == 0)
		return lastd;
	lastd = map_domain_of(d);
	if (d.n < sizeof last) {
		memcpy(last, d.p, d.n);
		lastn = d.n;
	}
	return lastd;
}

/* A query code: its bytes, and its number once a record stored as a number
 * asks for it (numeric = -1 until then). */
struct qcode { const char *p; size_t n; int numeric; uint64_t v; };

static void qcode_of(struct qcode *q, const char *code, size_t n)
{
	q->p = code;
	q->n = n;
	q->numeric = -1;
	q->v = 0;
}

/* The number a code of digits only (at most 19) stands for: what a record
 * with MREC_NUMERIC holds. */
static void qcode_number(struct qcode *q)
{
	unsigned bad = q->n == 0 || q->n > 19;
	uint64_t v = 0;
	for (size_t i = 0; i < (bad ? 0 : q->n); i++) { /* at most 19 digits: no overflow */
		unsigned d = (unsigned)(unsigned char)q->p[i] - '0';
		bad |= d > 9;
		v = v * 10 + d;
	}
	q->numeric = !bad;
	q->v = bad ? 0 : v;
}

void map_index_add_concept(struct map_index *ix, int32_t id, struct span vocab, struct span code, struct span domain,
                           char standard, char invalid, int32_t start, int32_t end)
{
	if (ix->nrec == ix->rcap) {
		ix->rcap = ix->rcap ? ix->rcap + ix->rcap / 2 : 1024;
		ix->recs = xrealloc(ix->recs, mem_mul(ix->rcap, sizeof *ix->recs));
	}
	struct map_rec *r = &ix->recs[ix->nrec++];
	memset(r, 0, sizeof *r);
	r->id = id;
	uint32_t v = strtab_intern(&ix->vocabs, vocab.p, vocab.n);
	if (v > UINT16_MAX)
		v = UINT16_MAX; /* more than 65535 vocabularies: not a real vocabulary */
	r->vocab = (uint16_t)v;
	r->start = day16(start);
	r->end = day16(end);
	r->domain = domain_cached(ix, domain);
	r->flags = (uint8_t)((standard == 'S' ? MREC_STANDARD : 0) | (standard == 'C' ? MREC_CLASSIF : 0) |
	                     (invalid == 'D' ? MREC_INVALID_D : 0) | (invalid == 'U' ? MREC_INVALID_U : 0));
	if (code.n > 255)
		code.n = 255;
	if (!code.n) {
		ix->nrec--; /* a concept without a code cannot be looked up */
		return;
	}
	r->code_len = (uint8_t)code.n;
	struct qcode q;
	qcode_of(&q, code.p, code.n);
	qcode_number(&q);
	if (q.numeric) {
		memcpy(r->code, &q.v, 8);
		r->flags |= MREC_NUMERIC;
	} else if (code.n <= sizeof r->code) {
		memcpy(r->code, code.p, code.n);
	} else {
		uint32_t off = (uint32_t)ix->pool.n;
		buf_append(&ix->pool, code.p, code.n);
		memcpy(r->code, &off, 4);
		memcpy(r->code + 4, code.p, 5);
		r->flags |= MREC_LONGCODE;
		ix->long_codes++;
	}
}

void map_index_add_rel(struct map_index *ix, int32_t from, int32_t to, int kind)
{
	if (!kind)
		return;
	if (ix->npend + 3 > ix->pcap) {
		ix->pcap = ix->pcap ? ix->pcap + ix->pcap / 2 : 3 * 1024;
		ix->pend = xrealloc(ix->pend, mem_mul(ix->pcap, sizeof *ix->pend));
	}
	ix->pend[ix->npend++] = (uint32_t)from;
	ix->pend[ix->npend++] = (uint32_t)to;
	ix->pend[ix->npend++] = (uint32_t)kind;
}

void map_index_add_stcm(struct map_index *ix, struct span ns, struct span code, int32_t source, int32_t target,
                        int32_t start, int32_t end)
{
	if (!code.n || code.n > 255)
		return;
	if (ix->nstcm == ix->scap) {
		ix->scap = ix->scap ? ix->scap * 2 : 256;
		ix->stcm = xrealloc(ix->stcm, mem_mul(ix->scap, sizeof *ix->stcm));
	}
	struct map_stcm *s = &ix->stcm[ix->nstcm++];
	s->ns = strtab_intern(&ix->ns, ns.p, ns.n);
	s->code_off = (uint32_t)ix->pool.n;
	s->code_len = (uint16_t)code.n;
	buf_append(&ix->pool, code.p, code.n);
	s->start = day16(start);
	s->end = day16(end);
	s->target = target;
	s->source = source;
}

struct span map_rec_code(const struct map_index *ix, const struct map_rec *r, char buf[24])
{
	if (r->flags & MREC_NUMERIC) {
		uint64_t v;
		memcpy(&v, r->code, 8);
		for (int i = r->code_len - 1; i >= 0; i--) {
			buf[i] = (char)('0' + v % 10);
			v /= 10;
		}
		return span_make(buf, r->code_len);
	}
	if (r->flags & MREC_LONGCODE) {
		uint32_t off;
		memcpy(&off, r->code, 4);
		return span_make(ix->pool.p + off, r->code_len);
	}
	return span_make(r->code, r->code_len);
}

static inline uint32_t id_hash(int32_t id)
{
	return (uint32_t)(((uint64_t)(uint32_t)id * 0x9E3779B97F4A7C15ULL) >> 32);
}

int64_t map_index_by_id(const struct map_index *ix, int32_t id)
{
	if (!ix->islot)
		return -1;
	for (uint32_t i = id_hash(id) & ix->imask;; i = (i + 1) & ix->imask) {
		uint32_t s = ix->islot[i];
		if (!s)
			return -1;
		if (ix->recs[s - 1].id == id)
			return s - 1;
	}
}

/*
 * The big arrays (the record table, the id hash, the edges) are read at random:
 * on a virtual machine a TLB miss costs more than the cache miss itself, so
 * they live in transparent huge pages where the kernel allows (measured here:
 * a dependent random read over 128 MiB drops from ~520 to ~170 ns). Zeroed.
 */
static void *huge_alloc(size_t n, size_t *mapped)
{
	size_t sz = (n + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *p = sz ? mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
	if (p == MAP_FAILED) {
		*mapped = 0;
		return xcalloc(n ? n : 1, 1);
	}
#ifdef MADV_HUGEPAGE
	madvise(p, sz, MADV_HUGEPAGE);
#endif
	*mapped = sz;
	return p;
}

static void huge_free(void *p, size_t mapped)
{
	if (!p)
		return;
	if (mapped)
		munmap(p, mapped);
	else
		free(p);
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint64_t p = 64;
	while (p < n)
		p *= 2;
	if (p > (1ull << 31))
		p = 1ull << 31;
	return (uint32_t)p;
}

/* Same code? Codes of digits only are always stored as numbers, so equal
 * bytes against a record stored as text settle it without asking whether the
 * query is a number: the number is worked out only for a numeric record of
 * the same length, after its cache line has arrived. */
static inline int rec_code_eq(const struct map_index *ix, const struct map_rec *r, struct qcode *q)
{
	if (r->code_len != q->n)
		return 0;
	if (r->flags & MREC_NUMERIC) {
		if (q->numeric < 0)
			qcode_number(q);
		uint64_t v;
		memcpy(&v, r->code, 8);
		return q->numeric && v == q->v;
	}
	if (!(r->flags & MREC_LONGCODE))
		return mem_eq_short(r->code, q->p, q->n);
	if (memcmp(r->code + 4, q->p, 5) != 0)
		return 0;
	uint32_t off;
	memcpy(&off, r->code, 4);
	return memcmp(ix->pool.p + off, q->p, q->n) == 0;
}

/* Is the record valid at day (days since 1970, INT32_MIN unknown)? */
static int valid_at(const struct map_rec *r, int32_t day)
{
	if (day == INT32_MIN)
		return 1;
	int32_t d = day < 0 ? 0 : day > 65535 ? 65535 : day;
	return d >= r->start && d <= r->end;
}

int64_t map_index_find(const struct map_index *ix, int vocab, const char *code, size_t n, int32_t day)
{
	if (!ix->rslots || vocab < 0 || !n)
		return -1;
	struct qcode q;
	qcode_of(&q, code, n);
	uint64_t h = map_code_hash(code, n, (uint32_t)vocab);
	int64_t best = -1;
	int best_score = -1;
	for (uint32_t i = (uint32_t)h & ix->cmask;; i = (i + 1) & ix->cmask) {
		const struct map_rec *r = &ix->recs[i];
		if (!r->code_len)
			break;
		if (r->vocab != vocab || !rec_code_eq(ix, r, &q))
			continue;
		if (!(r->flags & MREC_DUP))
			return i;
		/* duplicates of (vocabulary, code): valid at the date, then valid, then the latest */
		int score = valid_at(r, day) * 4 + !(r->flags & (MREC_INVALID_D | MREC_INVALID_U)) * 2;
		if (score > best_score || (score == best_score && r->end > ix->recs[best].end)) {
			best = i;
			best_score = score;
		}
	}
	return best;
}

void map_index_finish(struct map_index *ix)
{
	uint32_t n = ix->nrec;

	/* vocabulary ids <-> rules' names */
	ix->vocab_name = xcalloc(ix->vocabs.n + 1, sizeof *ix->vocab_name);
	ix->name_vocab = xcalloc(ix->rules.names.n + 1, sizeof *ix->name_vocab);
	for (uint32_t i = 0; i < ix->rules.names.n; i++)
		ix->name_vocab[i] = -1;
	for (uint32_t v = 0; v < ix->vocabs.n; v++) {
		int32_t nm = strtab_get(&ix->rules.names, ix->vocabs.key[v], ix->vocabs.klen[v]);
		ix->vocab_name[v] = nm;
		if (nm >= 0)
			ix->name_vocab[nm] = (int32_t)v;
		if (strcmp(ix->vocabs.key[v], "UCUM") == 0)
			ix->ucum_vocab = (int32_t)v;
	}

	/* the code hash table: the records themselves, load <= 0.6 */
	uint32_t csz = pow2_at_least((uint64_t)n * 5 / 3 + 1);
	struct map_rec *tab = huge_alloc((size_t)csz * sizeof *tab, &ix->recs_mapped);
	ix->cmask = csz - 1;
	for (uint32_t k = 0; k < n; k++) {
		struct map_rec *rec = &ix->recs[k];
		char nb[24];
		struct span code = map_rec_code(ix, rec, nb);
		struct qcode q;
		qcode_of(&q, code.p, code.n);
		uint32_t i = (uint32_t)map_code_hash(code.p, code.n, rec->vocab) & ix->cmask;
		while (tab[i].code_len) {
			struct map_rec *o = &tab[i];
			if (o->vocab == rec->vocab && rec_code_eq(ix, o, &q)) {
				o->flags |= MREC_DUP;
				rec->flags |= MREC_DUP;
			}
			i = (i + 1) & ix->cmask;
		}
		tab[i] = *rec;
	}
	free(ix->recs);
	ix->recs = tab;
	ix->rslots = csz;
	ix->rcap = 0;

	/* id hash: concept_id -> slot */
	uint32_t isz = pow2_at_least((uint64_t)n * 2);
	ix->islot = huge_alloc((size_t)isz * sizeof *ix->islot, &ix->islot_mapped);
	ix->imask = isz - 1;
	for (uint32_t r = 0; r < csz; r++) {
		if (!tab[r].code_len)
			continue;
		uint32_t i = id_hash(tab[r].id) & ix->imask;
		int dup = 0;
		while (ix->islot[i]) {
			if (ix->recs[ix->islot[i] - 1].id == tab[r].id) {
				dup = 1;
				break;
			}
			i = (i + 1) & ix->imask;
		}
		if (!dup)
			ix->islot[i] = r + 1;
	}

	/* edges: resolve ids, count, place (CSR) */
	uint32_t *cnt = xcalloc((size_t)csz + 1, sizeof *cnt);
	size_t np = ix->npend / 3;
	for (size_t k = 0; k < np; k++) {
		uint32_t *p = &ix->pend[k * 3];
		int64_t a = map_index_by_id(ix, (int32_t)p[0]), b = map_index_by_id(ix, (int32_t)p[1]);
		if (a < 0 || b < 0 || b >= (1 << MEDGE_SHIFT)) {
			p[2] = 0;
			continue;
		}
		p[0] = (uint32_t)a;
		p[1] = (uint32_t)b;
		if (cnt[a] == 255) {
			p[2] = 0;
			continue;
		}
		cnt[a]++;
	}
	uint64_t total = 0;
	for (uint32_t r = 0; r < csz; r++) {
		ix->recs[r].e_off = (uint32_t)total;
		ix->recs[r].e_n = 0;
		total += cnt[r];
	}
	free(cnt);
	ix->nedge = (uint32_t)total;
	ix->edges = huge_alloc(mem_mul(total ? total : 1, sizeof *ix->edges), &ix->edges_mapped);
	for (size_t k = 0; k < np; k++) {
		uint32_t *p = &ix->pend[k * 3];
		if (!p[2])
			continue;
		struct map_rec *a = &ix->recs[p[0]];
		ix->edges[a->e_off + a->e_n++] = (p[2] << MEDGE_SHIFT) | p[1];
	}
	free(ix->pend);
	ix->pend = NULL;
	ix->npend = ix->pcap = 0;

	/* default targets: inline when the answer does not depend on the date and is one concept */
	for (uint32_t r = 0; r < csz; r++) {
		struct map_rec *rec = &ix->recs[r];
		if (!rec->code_len)
			continue;
		int maps = 0, other = 0;
		uint32_t t = 0;
		for (uint32_t k = 0; k < rec->e_n; k++) {
			uint32_t e = ix->edges[rec->e_off + k];
			if (MEDGE_KIND(e) == MEDGE_MAPS_TO) {
				maps++;
				t = MEDGE_IDX(e);
			} else {
				other++;
			}
		}
		if (other || maps > 1) {
			rec->flags |= MREC_SLOW;
			rec->t_id = 0;
		} else if (maps == 1) {
			rec->t_id = ix->recs[t].id;
			rec->t_dom = ix->recs[t].domain;
		} else if ((rec->flags & MREC_STANDARD) && !(rec->flags & (MREC_INVALID_D | MREC_INVALID_U))) {
			rec->t_id = rec->id;
			rec->t_dom = rec->domain;
		} else {
			rec->t_id = 0;
		}
	}

	/* site maps */
	uint32_t ssz = pow2_at_least((uint64_t)ix->nstcm * 2 + 1);
	ix->sslot = xcalloc(ssz, sizeof *ix->sslot);
	ix->smask = ssz - 1;
	for (uint32_t k = 0; k < ix->nstcm; k++) {
		struct map_stcm *s = &ix->stcm[k];
		uint32_t i = (uint32_t)map_code_hash(ix->pool.p + s->code_off, s->code_len, 0x10000 + s->ns) & ix->smask;
		while (ix->sslot[i])
			i = (i + 1) & ix->smask;
		ix->sslot[i] = k + 1;
	}
}

int map_index_check_fixed(const struct map_index *ix)
{
	static const uint8_t want[MAPF__COUNT] = {
		DOM_GENDER, DOM_RACE, DOM_ETHNICITY, DOM_VISIT, DOM_UNIT, DOM_ROUTE, DOM_VISIT, DOM_OTHER, DOM_VISIT,
		DOM_OTHER, DOM_OTHER,
	};
	static const char *const kind_name[MAPF__COUNT] = {
		"gender", "race", "ethnicity", "visit", "unit", "route", "discharge", "specialty", "place_of_service",
		"operator", "condition_status",
	};
	int bad = 0;
	for (uint32_t i = 0; i < ix->rules.nfixed; i++) {
		const struct map_fixed_entry *f = &ix->rules.fixed_e[i];
		int64_t ri = f->concept_id ? map_index_by_id(ix, f->concept_id) : -1;
		if (ri < 0)
			continue;
		const struct map_rec *r = &ix->recs[ri];
		const char *why = NULL;
		if (r->flags & (MREC_INVALID_D | MREC_INVALID_U))
			why = "is deprecated";
		else if (!(r->flags & MREC_STANDARD))
			why = "is not a standard concept";
		else if (r->domain != want[f->kind])
			why = "is in another domain";
		if (why) {
			log_warn("mappings/%s.csv: concept %d %s (domain %s)", kind_name[f->kind], f->concept_id, why,
			         map_domain_name(r->domain));
			bad++;
		}
	}
	for (int o = 0; o < ORIG__COUNT; o++) {
		int64_t ri = map_index_by_id(ix, ix->rules.type_concept[o]);
		if (ri >= 0 && ix->recs[ri].domain != DOM_TYPE) {
			log_warn("mappings/type_concepts.csv: concept %d is not a Type Concept", ix->rules.type_concept[o]);
			bad++;
		}
	}
	return bad;
}

void map_index_free(struct map_index *ix)
{
	if (!ix)
		return;
	map_rules_free(&ix->rules);
	strtab_free(&ix->vocabs);
	strtab_free(&ix->ns);
	free(ix->vocab_name);
	free(ix->name_vocab);
	if (ix->rslots)
		huge_free(ix->recs, ix->recs_mapped);
	else
		free(ix->recs);
	huge_free(ix->islot, ix->islot_mapped);
	huge_free(ix->edges, ix->edges_mapped);
	free(ix->stcm);
	free(ix->sslot);
	free(ix->pend);
	buf_free(&ix->pool);
	arena_free(&ix->arena);
	free(ix);
}

/* ------------------------------------------------------------ from the database */

static int32_t fast_i32(struct span s)
{
	int64_t v = 0;
	int neg = 0;
	size_t i = 0;
	if (s.n && s.p[0] == '-') {
		neg = 1;
		i = 1;
	}
	for (; i < s.n; i++)
		v = v * 10 + (s.p[i] - '0');
	return (int32_t)(neg ? -v : v);
}

/* Split a COPY text row into at most max fields, unescaping where needed. */
static size_t split_row(struct span row, struct span *f, size_t max)
{
	char *p = (char *)row.p; /* libpq's buffer: ours to modify */
	size_t n = 0, s = 0;
	for (size_t i = 0; i <= row.n && n < max; i++) {
		if (i == row.n || p[i] == '\t') {
			size_t len = i - s;
			if (len == 2 && p[s] == '\\' && p[s + 1] == 'N')
				f[n++] = SPAN_NULL;
			else {
				if (memchr(p + s, '\\', len))
					len = copy_unescape(p + s, len);
				f[n++] = span_make(p + s, len);
			}
			s = i + 1;
		}
	}
	return n;
}

static int on_concept(void *ctx, struct span row)
{
	struct map_index *ix = ctx;
	struct span f[8];
	if (split_row(row, f, 8) != 8)
		return -E_DB;
	map_index_add_concept(ix, fast_i32(f[0]), f[1], f[2], f[3], f[4].n ? f[4].p[0] : 0, f[5].n ? f[5].p[0] : 0,
	                      fast_i32(f[6]), fast_i32(f[7]));
	return 0;
}

static int on_rel(void *ctx, struct span row)
{
	struct span f[3];
	if (split_row(row, f, 3) != 3)
		return -E_DB;
	map_index_add_rel(ctx, fast_i32(f[0]), fast_i32(f[1]), fast_i32(f[2]));
	return 0;
}

static int on_stcm(void *ctx, struct span row)
{
	struct span f[6];
	if (split_row(row, f, 6) != 6)
		return -E_DB;
	map_index_add_stcm(ctx, f[0], f[1], fast_i32(f[2]), fast_i32(f[3]), fast_i32(f[4]), fast_i32(f[5]));
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int copy_sql(PGconn *conn, const struct conf *c, const char *sql, int (*fn)(void *, struct span), void *ctx, struct err *e)
{
	char *q = db_render(c, sql);
	int rc = db_copy_out(conn, q, fn, ctx, e);
	free(q);
	if (rc == -E_DB && !e->msg[0])
		err_set(e, E_DB, "unexpected row layout while reading the vocabulary");
	return rc;
}

#define REL_SQL                                                                                          \
	"COPY (SELECT concept_id_1, concept_id_2, CASE relationship_id WHEN 'Maps to' THEN 1 "                \
	"WHEN 'Maps to value' THEN 2 ELSE 3 END FROM @cdm.concept_relationship "                              \
	"WHERE relationship_id IN ('Maps to', 'Maps to value', 'Concept replaced by', 'Concept same_as to', " \
	"'Concept alt_to to', 'Concept poss_eq to', 'Concept was_a to') AND invalid_reason IS NULL) TO STDOUT"

struct rel_job {
	struct map_index *ix;
	const struct conf *c;
	PGconn *conn;
	pthread_t th;
	int rc;
	struct err e;
};

static void *rel_thread(void *arg)
{
	struct rel_job *j = arg;
	j->rc = copy_sql(j->conn, j->c, REL_SQL, on_rel, j->ix, &j->e);
	return NULL;
}

int map_index_build(struct map_index **out, PGconn *conn, const struct conf *c, struct err *e)
{
	double t0 = now_s();
	struct map_index *ix = map_index_new();
	int rc = map_rules_load(&ix->rules, c, e);
	if (rc < 0) {
		map_index_free(ix);
		return rc;
	}
	char est[32] = "";
	char *q = db_render(c, "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = '@cdm.concept'::regclass");
	if (db_query_value(conn, q, 0, NULL, est, sizeof est, e) == 0 && atoll(est) > 0) {
		ix->rcap = (uint32_t)(atoll(est) + atoll(est) / 50 + 16);
		ix->recs = xmalloc(mem_mul(ix->rcap, sizeof *ix->recs));
	}
	free(q);
	err_clear(e);
	/* CONCEPT and CONCEPT_RELATIONSHIP are read at the same time over two
	 * connections (the server scans both in parallel; the two builders touch
	 * disjoint parts of the index); one connection if a second cannot be had */
	struct rel_job job = { .ix = ix, .c = c, .rc = 0 };
	int threaded = 0;
	if (db_connect(c, &job.conn, &job.e) == 0) {
		if (pthread_create(&job.th, NULL, rel_thread, &job) == 0)
			threaded = 1;
		else
			db_close(job.conn);
	}
	rc = copy_sql(conn, c,
	        "COPY (SELECT concept_id, vocabulary_id, concept_code, domain_id, standard_concept, invalid_reason, "
	        "valid_start_date - DATE '1970-01-01', valid_end_date - DATE '1970-01-01' FROM @cdm.concept) TO STDOUT",
	        on_concept, ix, e);
	if (threaded) {
		pthread_join(job.th, NULL);
		db_close(job.conn);
		if (rc == 0 && job.rc < 0) {
			*e = job.e;
			rc = job.rc;
		}
	} else if (rc == 0)
		rc = copy_sql(conn, c, REL_SQL, on_rel, ix, e);
	if (rc == 0)
		rc = copy_sql(conn, c,
		        "COPY (SELECT source_vocabulary_id, source_code, source_concept_id, target_concept_id, "
		        "valid_start_date - DATE '1970-01-01', valid_end_date - DATE '1970-01-01' "
		        "FROM @cdm.source_to_concept_map WHERE invalid_reason IS NULL AND target_concept_id <> 0) TO STDOUT",
		        on_stcm, ix, e);
	if (rc < 0) {
		map_index_free(ix);
		return rc;
	}
	uint64_t rels = ix->npend / 3;
	map_index_finish(ix);
	map_index_check_fixed(ix);
	ix->build_seconds = now_s() - t0;
	log_info("vocabulary index: %u concepts, %u of %llu mapping relationships kept, %u site map rows, "
	         "%u vocabularies, %zu MiB, built in %.1f s",
	         ix->nrec, ix->nedge, (unsigned long long)rels, ix->nstcm, ix->vocabs.n,
	         (size_t)(((uint64_t)ix->rslots * sizeof(struct map_rec) +
	                   ((uint64_t)ix->imask + 1) * 4 + (uint64_t)ix->nedge * 4 + ix->pool.cap) >> 20),
	         ix->build_seconds);
	*out = ix;
	return 0;
}

/* ------------------------------------------------------------ from files */

static int find_file(const char *dir, const char *table, char *out, size_t n)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	int found = -1;
	size_t tl = strlen(table);
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (strncasecmp(nm, table, tl) != 0 || nm[tl] != '.')
			continue;
		if (path_join(out, n, dir, nm) == 0)
			found = 0;
		break;
	}
	closedir(d);
	return found;
}

struct dircols { int k[8]; };

static int open_table(struct csvtok *t, const char *path, const char *const *cols, int ncols, struct dircols *dc, struct err *e)
{
	char delim = ',', quote = '"';
	struct win w;
	int rc = win_open(&w, path, 1 << 20, e);
	if (rc < 0)
		return rc;
	win_more(&w, e);
	const char *nl = w.end > w.beg ? memchr(w.buf + w.beg, '\n', w.end - w.beg) : NULL;
	size_t hl = nl ? (size_t)(nl - (w.buf + w.beg)) : w.end - w.beg;
	if (hl && memchr(w.buf + w.beg, '\t', hl)) {
		delim = '\t';
		quote = '\0';
	}
	win_close(&w);
	if ((rc = csvtok_open(t, path, delim, quote, 16 << 20, e)) < 0)
		return rc;
	if ((rc = csvtok_next(t, e)) <= 0) {
		csvtok_close(t);
		return rc < 0 ? rc : err_set(e, E_INPUT, "%s: empty", path);
	}
	for (int k = 0; k < ncols; k++) {
		dc->k[k] = -1;
		for (size_t i = 0; i < t->nf; i++)
			if (span_ieq_str(span_trim(t->f[i]), cols[k]))
				dc->k[k] = (int)i;
		if (dc->k[k] < 0) {
			csvtok_close(t);
			return err_set(e, E_INPUT, "%s: no column %s", path, cols[k]);
		}
	}
	return 0;
}

static int32_t file_date(struct span s)
{
	struct dt d;
	if (dt_parse_iso(span_trim(s), DT_TZ_KEEP, &d) < 0)
		return 0;
	return d.day;
}

int map_index_load_dir(struct map_index **out, const char *dir, const char *mappings_dir, struct err *e)
{
	double t0 = now_s();
	struct map_index *ix = map_index_new();
	char p[4096];
	struct csvtok t;
	struct dircols dc;
	int rc = map_rules_load_dir(&ix->rules, mappings_dir, NULL, e);
	if (rc < 0)
		goto fail;
	if (find_file(dir, "concept", p, sizeof p) < 0) {
		rc = err_set(e, E_INPUT, "no CONCEPT file in %s", dir);
		goto fail;
	}
	static const char *const ccols[] = { "concept_id", "vocabulary_id", "concept_code", "domain_id", "standard_concept",
	                                     "invalid_reason", "valid_start_date", "valid_end_date" };
	if ((rc = open_table(&t, p, ccols, 8, &dc, e)) < 0)
		goto fail;
	while ((rc = csvtok_next(&t, e)) > 0) {
		int64_t id;
		if ((size_t)dc.k[7] >= t.nf || span_to_i64(t.f[dc.k[0]], &id) < 0)
			continue;
		struct span sc = t.f[dc.k[4]], ir = t.f[dc.k[5]];
		map_index_add_concept(ix, (int32_t)id, t.f[dc.k[1]], t.f[dc.k[2]], t.f[dc.k[3]], sc.n ? sc.p[0] : 0,
		                      ir.n ? ir.p[0] : 0, file_date(t.f[dc.k[6]]), file_date(t.f[dc.k[7]]));
	}
	csvtok_close(&t);
	if (rc < 0)
		goto fail;
	if (find_file(dir, "concept_relationship", p, sizeof p) == 0) {
		static const char *const rcols[] = { "concept_id_1", "concept_id_2", "relationship_id", "invalid_reason" };
		if ((rc = open_table(&t, p, rcols, 4, &dc, e)) < 0)
			goto fail;
		while ((rc = csvtok_next(&t, e)) > 0) {
			int64_t a, b;
			if ((size_t)dc.k[3] >= t.nf || t.f[dc.k[3]].n || span_to_i64(t.f[dc.k[0]], &a) < 0 ||
			    span_to_i64(t.f[dc.k[1]], &b) < 0)
				continue;
			map_index_add_rel(ix, (int32_t)a, (int32_t)b, map_rel_kind(t.f[dc.k[2]]));
		}
		csvtok_close(&t);
		if (rc < 0)
			goto fail;
	}
	if (find_file(dir, "source_to_concept_map", p, sizeof p) == 0) {
		static const char *const scols[] = { "source_vocabulary_id", "source_code", "source_concept_id",
		                                     "target_concept_id", "valid_start_date", "valid_end_date", "invalid_reason" };
		if ((rc = open_table(&t, p, scols, 7, &dc, e)) < 0)
			goto fail;
		while ((rc = csvtok_next(&t, e)) > 0) {
			int64_t s, tg;
			if ((size_t)dc.k[6] >= t.nf || t.f[dc.k[6]].n || span_to_i64(t.f[dc.k[3]], &tg) < 0 || tg == 0)
				continue;
			if (span_to_i64(t.f[dc.k[2]], &s) < 0)
				s = 0;
			map_index_add_stcm(ix, t.f[dc.k[0]], t.f[dc.k[1]], (int32_t)s, (int32_t)tg, file_date(t.f[dc.k[4]]),
			                   file_date(t.f[dc.k[5]]));
		}
		csvtok_close(&t);
		if (rc < 0)
			goto fail;
	}
	map_index_finish(ix);
	ix->build_seconds = now_s() - t0;
	*out = ix;
	return 0;
fail:
	map_index_free(ix);
	return rc;
}
