/*
 * map_code.c - one source code to standard concepts, on the read-only index.
 *
 *   system as written -> vocabulary (code_systems.csv) or a local system
 *   code -> candidates (code_formats.csv: case, spaces, transform)
 *   -> site map  (SOURCE_TO_CONCEPT_MAP, namespace "SITE:SYSTEM"), then a
 *      global STCM namespace equal to the system
 *   -> CONCEPT (vocabulary, code): the source concept
 *   -> its default target (resolved at build), or the slow path: 'Maps to'
 *      targets, 'Maps to value', replacements of deprecated concepts
 *   -> unmapped: concept 0, the reason, counted in the worker's statistics
 *
 * In front of it all, a per-thread memo of the answers that depend on the
 * code as written alone (map_code_ex).
 *
 * Never fails and never allocates on the mapped path; safe from any number
 * of threads (the statistics are per worker).
 */
#include "etl/map/map_internal.h"
#include "core/hash.h"
#include "core/mem.h"

#include <string.h>

static int64_t note(struct map_stats *st, const char *site, const char *key, size_t kl, struct span code,
                    struct span display, const char *vocab, uint8_t status);

void map_site_ns(const char *site, const char *syskey, size_t kl, char out[21])
{
	size_t sl = strlen(site);
	if (sl + 1 + kl <= 20) {
		memcpy(out, site, sl);
		out[sl] = ':';
		memcpy(out + sl + 1, syskey, kl);
		out[sl + 1 + kl] = '\0';
		return;
	}
	/* shortened: SITE[..a]:SYSTEM[..b]~HASH, a + b = 14, HASH 4 base-36 digits of the full pair */
	size_t b = kl < 6 ? kl : 6, a = 14 - b;
	if (a > sl) {
		a = sl;
		b = 14 - a < kl ? 14 - a : kl;
	}
	char full[200];
	size_t fn = 0;
	for (size_t i = 0; i < sl && fn < sizeof full - 1; i++)
		full[fn++] = site[i];
	if (fn < sizeof full - 1)
		full[fn++] = ':';
	for (size_t i = 0; i < kl && fn < sizeof full; i++)
		full[fn++] = syskey[i];
	uint64_t h = hash64(full, fn, 0x5157e);
	size_t o = 0;
	memcpy(out, site, a);
	o = a;
	out[o++] = ':';
	memcpy(out + o, syskey, b);
	o += b;
	out[o++] = '~';
	static const char d36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	for (int i = 0; i < 4; i++) {
		out[o++] = d36[h % 36];
		h /= 36;
	}
	out[o] = '\0';
}

/* Is day (days since 1970, INT32_MIN unknown) within [start, end]? */
static int in_dates(uint16_t start, uint16_t end, int32_t day)
{
	if (day == INT32_MIN)
		return 1;
	int32_t d = day < 0 ? 0 : day > 65535 ? 65535 : day;
	return d >= start && d <= end;
}

static int valid_at(const struct map_rec *r, int32_t day) { return in_dates(r->start, r->end, day); }

static void unmapped(struct map_result *out, uint8_t status)
{
	out->status = status;
	out->n = 1;
	out->t[0].concept_id = 0;
	out->t[0].value_concept_id = 0;
	out->t[0].domain = DOM_NONE;
}

/* Site map rows for (namespace, code) valid at day -> targets. 1 if any. */
static int stcm_lookup(const struct map_index *ix, int32_t ns, const char *code, size_t n, int32_t day,
                       struct map_result *out, int32_t *source, int *seen)
{
	if (ns < 0 || !ix->nstcm)
		return 0;
	uint32_t i0 = (uint32_t)map_code_hash(code, n, 0x10000 + (uint32_t)ns) & ix->smask, i;
	int k = 0;
	/* date unknown: the rows that stay valid longest (the current mapping) */
	uint16_t want_end = 0;
	if (day == INT32_MIN)
		for (i = i0; ix->sslot[i]; i = (i + 1) & ix->smask) {
			const struct map_stcm *m = &ix->stcm[ix->sslot[i] - 1];
			if (m->ns == (uint32_t)ns && m->code_len == n && memcmp(ix->pool.p + m->code_off, code, n) == 0 &&
			    m->end > want_end)
				want_end = m->end;
		}
	for (i = i0;; i = (i + 1) & ix->smask) {
		uint32_t s = ix->sslot[i];
		if (!s)
			break;
		const struct map_stcm *m = &ix->stcm[s - 1];
		if (m->ns != (uint32_t)ns || m->code_len != n || memcmp(ix->pool.p + m->code_off, code, n) != 0)
			continue;
		*seen = 1; /* a row for the code, whatever its dates */
		if (day != INT32_MIN ? !in_dates(m->start, m->end, day) : m->end != want_end)
			continue;
		int dup = 0;
		for (int j = 0; j < k; j++)
			dup |= out->t[j].concept_id == m->target;
		if (dup || k == MAP_MAX_TARGETS)
			continue;
		int64_t ri = map_index_by_id(ix, m->target);
		out->t[k].concept_id = m->target;
		out->t[k].value_concept_id = 0;
		out->t[k].domain = ri >= 0 ? ix->recs[ri].domain : DOM_NONE;
		if (m->source)
			*source = m->source;
		k++;
	}
	if (k)
		out->n = (uint8_t)k;
	return k > 0;
}

static int is_value_domain(uint8_t d) { return d == DOM_OBSERVATION || d == DOM_MEASUREMENT; }

/* The slow path: walk the record's edges. */
static void resolve(const struct map_index *ix, uint32_t ri, int32_t day, struct map_result *out, struct map_trace *tr,
                    int depth)
{
	const struct map_rec *r = &ix->recs[ri];
	uint32_t maps[MAP_MAX_TARGETS], vals[MAP_MAX_TARGETS], repl = UINT32_MAX;
	int nm = 0, nv = 0;
	for (uint32_t k = 0; k < r->e_n; k++) {
		uint32_t e = ix->edges[r->e_off + k];
		uint32_t t = MEDGE_IDX(e);
		switch (MEDGE_KIND(e)) {
		case MEDGE_MAPS_TO:
			if (nm < MAP_MAX_TARGETS)
				maps[nm++] = t;
			break;
		case MEDGE_MAPS_VALUE:
			if (nv < MAP_MAX_TARGETS)
				vals[nv++] = t;
			break;
		default:
			if (repl == UINT32_MAX)
				repl = t;
		}
	}
	int invalid = (r->flags & (MREC_INVALID_D | MREC_INVALID_U)) != 0;
	/* a deprecated or updated concept: its replacement when it has no mapping of
	 * its own, or when the event happened after it stopped being valid */
	if (repl != UINT32_MAX && invalid && depth < 8 &&
	    (nm == 0 || (day != INT32_MIN && day > (int32_t)r->end))) {
		out->flags |= MAPR_REPLACED;
		if (tr && tr->nchain < 8)
			tr->chain[tr->nchain++] = ix->recs[repl].id;
		resolve(ix, repl, day, out, tr, depth + 1);
		return;
	}
	if (tr) {
		for (int k = 0; k < nm && tr->nmaps < MAP_MAX_TARGETS; k++)
			tr->maps_to[tr->nmaps++] = ix->recs[maps[k]].id;
		for (int k = 0; k < nv && tr->nvalues < MAP_MAX_TARGETS; k++)
			tr->values[tr->nvalues++] = ix->recs[vals[k]].id;
	}
	if (nm == 0) {
		if ((r->flags & MREC_STANDARD) && !invalid) {
			out->status = MAP_MAPPED;
			out->n = 1;
			out->t[0].concept_id = r->id;
			out->t[0].domain = r->domain;
			out->t[0].value_concept_id = nv ? ix->recs[vals[0]].id : 0;
		} else
			unmapped(out, MAP_NO_STANDARD);
		return;
	}
	out->status = MAP_MAPPED;
	out->n = (uint8_t)nm;
	int nvt = 0;
	for (int k = 0; k < nm; k++) {
		out->t[k].concept_id = ix->recs[maps[k]].id;
		out->t[k].domain = ix->recs[maps[k]].domain;
		out->t[k].value_concept_id = 0;
		nvt += is_value_domain(out->t[k].domain);
	}
	/* 'Maps to value' goes with the Observation/Measurement targets (paired in
	 * order when there are as many values), else with the first target */
	if (nv) {
		int j = 0;
		for (int k = 0; k < nm; k++)
			if (is_value_domain(out->t[k].domain)) {
				out->t[k].value_concept_id = ix->recs[vals[nv == nvt ? j : 0]].id;
				j++;
			}
		if (!nvt)
			out->t[0].value_concept_id = ix->recs[vals[0]].id;
	}
}

/* A code system as resolved once per thread and index (prepare's cache). */
struct sysres {
	int nm;                    /* map_rules_system's answer, -3: a vocabulary_id it does not know */
	int vocab;                 /* vocabulary in the index, -1 */
	const char *vocabulary_id; /* owned by the index, NULL */
	size_t kl;
	char key[64];              /* the system key (statistics, site maps) */
};

/* A system as written resolved: the code system table, else exactly a
 * vocabulary_id of the loaded vocabulary ("Read", "OPCS4": codes trimmed only). */
static void resolve_system(const struct map_index *ix, struct span sy, struct sysres *r)
{
	r->nm = map_rules_system(&ix->rules, sy, r->key, sizeof r->key, &r->kl);
	r->vocab = r->nm >= 0 ? ix->name_vocab[r->nm] : -1;
	r->vocabulary_id = r->nm >= 0 ? map_rules_name(&ix->rules, r->nm) : NULL;
	if (r->nm != -1)
		return;
	struct span sw = span_trim(sy);
	int32_t v = sw.n ? strtab_get(&ix->vocabs, sw.p, sw.n) : -1;
	if (v < 0)
		return;
	r->vocab = v;
	r->nm = -3; /* known, no format rules */
	r->vocabulary_id = ix->vocabs.key[v];
	r->kl = ix->vocabs.klen[v] < sizeof r->key ? ix->vocabs.klen[v] : sizeof r->key - 1;
	memcpy(r->key, ix->vocabs.key[v], r->kl);
	r->key[r->kl] = '\0';
}

/* A code made ready for the index: the first half of a lookup. */
struct prep {
	const struct sysres *sys;  /* the thread's cache entry, or own */
	struct sysres own;
	int k;
	size_t clen[MAP_MAX_CANDIDATES];
	char cand[MAP_MAX_CANDIDATES][MAP_CODE_MAX];
};

/* The system resolved (through a per-thread cache), the code normalised into
 * its candidates; fills out's defaults. */
static void prepare(const struct map_index *ix, const struct code *c, struct prep *p, struct map_result *out,
                    struct map_trace *tr)
{
	out->status = MAP_EMPTY;
	out->n = 1;
	out->flags = 0;
	out->source_concept_id = 0;
	out->t[0].concept_id = 0;
	out->t[0].value_concept_id = 0;
	out->t[0].domain = DOM_NONE;

	/* feeds repeat their systems: a small direct-mapped cache per thread in front
	 * of the resolution */
	struct sys_cache { uint64_t gen; char sys[32]; size_t sysn; struct sysres r; };
	static __thread struct sys_cache sc[64];
	struct span sy = c->system;
	struct sys_cache *ce = &sc[map_code_hash(sy.p, sy.n, 0) & 63];
	if (ce->gen == ix->gen && sy.n == ce->sysn && mem_eq_short(sy.p, ce->sys, sy.n)) {
		p->sys = &ce->r;
	} else {
		resolve_system(ix, sy, &p->own);
		p->sys = &p->own;
		if (sy.n < sizeof ce->sys) {
			ce->gen = ix->gen;
			if (sy.n)
				memcpy(ce->sys, sy.p, sy.n);
			ce->sysn = sy.n;
			ce->r = p->own;
		}
	}
	const struct sysres *sr = p->sys;
	out->vocabulary_id = sr->vocabulary_id;
	if (tr) {
		memset(tr, 0, sizeof *tr);
		memcpy(tr->syskey, sr->key, sr->kl + 1);
		tr->vocab_resolved = sr->nm >= 0 || sr->nm == -3 ? 1 : sr->nm == MAP_VOCAB_LOCAL ? 2 : 0;
		tr->cand_used = -1;
		tr->valid = -1;
	}
	p->k = map_normalise(&ix->rules, sr->nm >= 0 ? sr->nm : -1, c->code, p->cand, p->clen);
	if (tr) {
		tr->ncand = p->k;
		memcpy(tr->norm, p->cand, sizeof p->cand[0] * (size_t)p->k);
	}
}

/* The answer of source concept record ri at day: its default target, or the
 * slow path; the out-of-dates flag. */
static void from_record(const struct map_index *ix, uint32_t ri, int32_t day, struct map_result *out,
                        struct map_trace *tr)
{
	const struct map_rec *r = &ix->recs[ri];
	out->source_concept_id = r->id;
	if (tr)
		tr->source_id = r->id;
	if (!(r->flags & MREC_SLOW)) {
		if (r->t_id) {
			out->status = MAP_MAPPED;
			out->t[0].concept_id = r->t_id;
			out->t[0].domain = r->t_dom;
			if (tr && r->t_id != r->id)
				tr->maps_to[tr->nmaps++] = r->t_id;
		} else
			out->status = MAP_NO_STANDARD;
	} else
		resolve(ix, ri, day, out, tr, 0);
	if (day != INT32_MIN && !(out->flags & MAPR_REPLACED) && !valid_at(r, day)) {
		out->flags |= MAPR_OUT_OF_DATES;
		if (tr)
			tr->out_of_dates = 1;
	}
}

/*
 * Feeds repeat their codes: the same laboratory tests in every message. A memo
 * per thread keeps, keyed by the system and the code as written, what finish
 * found for a code whose answer depends on those and the date alone: the
 * answer itself when it is the record's inline default target (the date then
 * only sets MAPR_OUT_OF_DATES, from the validity kept with it), else the
 * record, answered again through from_record. A repeated code then costs a
 * hash and two compares instead of the system, the normalisation, the site
 * maps and a probe of the index. Sets of two entries: the one hit last
 * first, a new one second; 16 bits of each entry's hash in a small array of
 * their own (32 KiB, near the core), so that a code not in the memo reads no
 * entry. Unmapped codes are kept too, with their entry in the statistics, so
 * that a repeat counts without the lookup. The memo belongs to one index, one
 * site and one statistics object: a thread that changes any clears the tags.
 */
#define MEMO_SETS 8192      /* 1 MiB per thread: a site's common codes */
#define MEMO_REC 0x80       /* memo_ent.flags: concept_id is the record's index */
#define MEMO_UNMAPPED 0x40  /* memo_ent.flags: not mapped, domain is the status,
                               concept_id the statistics' entry (-1: none) */
#define MEMO_NO_VOCAB 0xFFFF /* memo_ent.vocab: no vocabulary_id */

struct memo_ent {
	int32_t concept_id, source_id;
	uint16_t start, end;       /* the source concept's validity */
	uint16_t vocab;            /* its vocabulary (index->vocabs) */
	uint8_t domain, flags, sysn, coden;
	char sys[30], code[16];    /* as written */
};
_Static_assert(sizeof(struct memo_ent) == 64, "an entry is a cache line");

static __thread struct memo_ent memo[MEMO_SETS][2];
static __thread uint16_t memo_tag[MEMO_SETS][2];   /* 0: empty */
static __thread struct {
	uint64_t gen;
	char site[48];
	uint64_t st_epoch;         /* of the statistics the entries' notes are in */
} memo_of;

/* Where code c of site on ix would be: its set and its tag. */
struct memo_at {
	uint32_t set;
	uint16_t tag;
};

/* 0, or 1 and at filled (too long to be kept otherwise). The memo is for
 * one index, one site and one statistics object (st NULL: any). */
static int memo_at(const struct map_index *ix, const char *site, const struct map_stats *st, const struct code *c,
                   struct memo_at *at)
{
	struct span sy = c->system, co = c->code;
	if (!co.n || co.n > sizeof memo[0][0].code || sy.n > sizeof memo[0][0].sys)
		return 0;
	if (!site)
		site = "";
	if (memo_of.gen != ix->gen || strcmp(memo_of.site, site) != 0 ||
	    (st && map_stats_epoch(st) != memo_of.st_epoch)) {
		size_t sl = strlen(site);
		if (sl >= sizeof memo_of.site)
			return 0;
		memcpy(memo_of.site, site, sl + 1);
		memo_of.gen = ix->gen;
		if (st)
			memo_of.st_epoch = map_stats_epoch(st);
		memset(memo_tag, 0, sizeof memo_tag);
	}
	/* the system picks the hash's seed by its length and last four bytes */
	uint32_t seed = 0;
	if (sy.n >= 4)
		memcpy(&seed, sy.p + sy.n - 4, 4);
	else
		for (size_t i = 0; i < sy.n; i++)
			seed = seed << 8 | (unsigned char)sy.p[i];
	uint64_t h = map_code_hash(co.p, co.n, seed ^ (uint32_t)sy.n << 27);
	at->set = (uint32_t)h & (MEMO_SETS - 1);
	at->tag = (uint16_t)(h >> 48 | 1);
	return 1;
}

static int memo_is(const struct memo_ent *m, const struct code *c)
{
	return m->coden == c->code.n && m->sysn == c->system.n && mem_eq_short(m->code, c->code.p, c->code.n) &&
	       mem_eq_short(m->sys, c->system.p, c->system.n);
}

/* The entry of c, moved first in its set; NULL if it is not there. */
static struct memo_ent *memo_find(const struct memo_at *at, const struct code *c)
{
	struct memo_ent *set = memo[at->set];
	uint16_t *tag = memo_tag[at->set];
	if (tag[0] == at->tag && memo_is(&set[0], c))
		return &set[0];
	if (tag[1] != at->tag || !memo_is(&set[1], c))
		return NULL;
	struct memo_ent t = set[1];
	set[1] = set[0];
	set[0] = t;
	tag[1] = tag[0];
	tag[0] = at->tag;
	return &set[0];
}

/* 1 and out filled (and the statistics counted), or 0: the full lookup must
 * answer (the record's answer at this date is not a mapping, or an unmapped
 * code must be counted and the entry has no statistics' entry). */
static int memo_answer(const struct map_index *ix, struct map_stats *st, const struct memo_ent *m,
                       const struct code *c, int32_t day, struct map_result *out)
{
	out->n = 1;
	out->vocabulary_id = m->vocab == MEMO_NO_VOCAB ? NULL : ix->vocabs.key[m->vocab];
	out->t[0].value_concept_id = 0;
	out->flags = m->flags & MAPR_NORMALISED;
	if (m->flags & MEMO_REC) { /* the slow path sets the status and every target */
		from_record(ix, (uint32_t)m->concept_id, day, out, NULL);
		return out->status == MAP_MAPPED;
	}
	out->flags |= in_dates(m->start, m->end, day) ? 0 : MAPR_OUT_OF_DATES;
	out->source_concept_id = m->source_id;
	if (m->flags & MEMO_UNMAPPED) {
		if (st && m->concept_id < 0)
			return 0;
		unmapped(out, m->domain);
		if (st)
			map_stats_again(st, (uint32_t)m->concept_id, c->display, m->domain);
		return 1;
	}
	out->status = MAP_MAPPED;
	out->t[0].concept_id = m->concept_id;
	out->t[0].domain = m->domain;
	return 1;
}

/* What the memo keeps of an answer (finish): of source concept record ri
 * (-1: none found, vocab the system's vocabulary), noted in the statistics'
 * entry noted when unmapped. */
static void keep_answer(struct memo_ent *keep, const struct map_index *ix, int64_t ri, int vocab,
                        const struct map_result *out, int64_t noted)
{
	const struct map_rec *r = ri >= 0 ? &ix->recs[ri] : NULL;
	keep->flags = out->flags & MAPR_NORMALISED;
	keep->vocab = r ? r->vocab : vocab >= 0 ? (uint16_t)vocab : MEMO_NO_VOCAB;
	keep->source_id = out->source_concept_id;
	keep->start = r ? r->start : 0;
	keep->end = r ? r->end : 65535;
	if (out->status != MAP_MAPPED) {
		keep->flags |= MEMO_UNMAPPED;
		keep->concept_id = (int32_t)noted;
		keep->domain = out->status;
	} else if (r->flags & MREC_SLOW) {
		keep->flags |= MEMO_REC;
		keep->concept_id = (int32_t)ri;
	} else {
		keep->concept_id = out->t[0].concept_id;
		keep->domain = out->t[0].domain;
	}
}

/* Keep what finish found for c: over m, an entry of c that could not answer,
 * else second in its set in place of the entry not hit last (a code seen
 * once evicts no code seen again). */
static void memo_store(const struct memo_at *at, struct memo_ent *m, const struct memo_ent *keep, const struct code *c)
{
	if (!m) {
		m = &memo[at->set][1];
		memo_tag[at->set][1] = at->tag;
	}
	*m = *keep;
	m->sysn = (uint8_t)c->system.n;
	m->coden = (uint8_t)c->code.n;
	mem_copy_short(m->sys, c->system.p, c->system.n);
	mem_copy_short(m->code, c->code.p, c->code.n);
}

/* The second half: site maps, the index, the answer. Returns 1 with keep
 * filled when the answer depends on the code as written and the date alone
 * (no site map row for the code at any date, one record of its code, not the
 * slow path when unmapped): what the memo keeps of it. */
static int finish(const struct map_index *ix, struct map_stats *st, const char *site_id, const struct code *c,
                  int32_t day, const struct prep *p, struct map_result *out, struct map_trace *tr,
                  struct memo_ent *keep)
{
	const char *key = p->sys->key;
	size_t kl = p->sys->kl;
	int nm = p->sys->nm, vocab = p->sys->vocab, k = p->k;
	const char (*cand)[MAP_CODE_MAX] = p->cand;
	const size_t *clen = p->clen;
	struct span raw = span_trim(c->code);
	if (k == 0) {
		if (raw.n) { /* longer than any code can be */
			unmapped(out, MAP_INVALID_CODE);
			note(st, site_id, key, kl, span_make(raw.p, raw.n > 50 ? 50 : raw.n), c->display, out->vocabulary_id, MAP_INVALID_CODE);
		} else
			unmapped(out, MAP_EMPTY);
		return 0;
	}
	/* site map first, then a global SOURCE_TO_CONCEPT_MAP namespace named as the system */
	int site_hit = 0, stcm_seen = 0;
	int32_t stcm_source = 0;
	if (ix->nstcm) {
		/* the two namespaces of (site, system), cached per thread like the system */
		static __thread uint64_t n_gen;
		static __thread char n_site[40], n_key[64], n_sys[32];
		static __thread size_t n_kl = SIZE_MAX, n_sysn;
		static __thread int32_t n_site_ns, n_glob_ns;
		static __thread char n_sns[21];
		const char *site = site_id ? site_id : "";
		size_t sl = strlen(site);
		struct span sw = span_trim(c->system);
		if (!(n_gen == ix->gen && n_kl == kl && memcmp(n_key, key, kl) == 0 && sl < sizeof n_site &&
		      strcmp(n_site, site) == 0 && sw.n == n_sysn && memcmp(n_sys, sw.p, sw.n) == 0)) {
			n_site_ns = -1;
			n_sns[0] = '\0';
			if (sl) {
				map_site_ns(site, key, kl, n_sns);
				n_site_ns = strtab_get(&ix->ns, n_sns, strlen(n_sns));
			}
			/* a global namespace: the system key, or the system exactly as written */
			n_glob_ns = strtab_get(&ix->ns, key, kl);
			if (n_glob_ns < 0 && sw.n)
				n_glob_ns = strtab_get(&ix->ns, sw.p, sw.n);
			if (sl < sizeof n_site && sw.n < sizeof n_sys) {
				n_gen = ix->gen;
				n_kl = kl;
				memcpy(n_key, key, kl);
				memcpy(n_site, site, sl + 1);
				n_sysn = sw.n;
				memcpy(n_sys, sw.p, sw.n);
			} else
				n_gen = 0;
		}
		if (tr)
			memcpy(tr->site_ns, n_sns, sizeof n_sns);
		if (sl && stcm_lookup(ix, n_site_ns, cand[0], clen[0], day, out, &stcm_source, &stcm_seen))
			site_hit = 1;
		if (!site_hit && stcm_lookup(ix, n_glob_ns, cand[0], clen[0], day, out, &stcm_source, &stcm_seen))
			site_hit = 2;
		if (tr)
			tr->site_hit = site_hit;
	}

	int64_t ri = -1;
	int used = 0;
	if (vocab >= 0)
		for (int j = 0; j < k && ri < 0; j++) {
			ri = map_index_find(ix, vocab, cand[j], clen[j], day);
			used = j;
		}
	if (tr)
		tr->cand_used = ri >= 0 ? used : -1;

	if (site_hit) {
		out->status = MAP_MAPPED;
		out->flags |= MAPR_SITE_MAP;
		out->source_concept_id = ri >= 0 ? ix->recs[ri].id : stcm_source;
		if (tr)
			tr->source_id = out->source_concept_id;
		return 0;
	}
	if (ri < 0) {
		uint8_t status = nm == -1 ? MAP_UNKNOWN_SYSTEM : MAP_UNKNOWN_CODE;
		if (nm >= 0) {
			int ok = map_code_valid(&ix->rules, nm, cand[0], clen[0]);
			if (tr)
				tr->valid = ok;
			if (!ok)
				status = MAP_INVALID_CODE;
		}
		unmapped(out, status);
		/* an invalid code is recorded as written: what the steward will look for */
		int64_t noted = note(st, site_id, key, kl, status == MAP_INVALID_CODE ? span_make(raw.p, raw.n > 50 ? 50 : raw.n) : span_make(cand[0], clen[0]),
		                     c->display, out->vocabulary_id, status);
		if (stcm_seen || (vocab < 0 && out->vocabulary_id))
			return 0; /* a vocabulary the index lacks: its name is not kept */
		keep_answer(keep, ix, -1, vocab, out, noted);
		return 1;
	}

	if (used > 0 || clen[0] != raw.n || !mem_eq_short(cand[0], raw.p, raw.n))
		out->flags |= MAPR_NORMALISED;
	from_record(ix, (uint32_t)ri, day, out, tr);
	int64_t noted = -1;
	if (out->status != MAP_MAPPED)
		noted = note(st, site_id, key, kl, span_make(cand[0], clen[0]), c->display, out->vocabulary_id, out->status);
	uint8_t rf = ix->recs[ri].flags;
	if ((rf & MREC_DUP) || stcm_seen || (out->status != MAP_MAPPED && (rf & MREC_SLOW)))
		return 0;
	keep_answer(keep, ix, ri, vocab, out, noted);
	return 1;
}

void map_code_ex(const struct map_index *ix, struct map_stats *st, const char *site_id, const struct code *c,
                 int32_t day, struct map_result *out, struct map_trace *tr)
{
	struct memo_at at = { 0, 0 };
	int kept = !tr && memo_at(ix, site_id, st, c, &at);
	struct memo_ent *m = kept ? memo_find(&at, c) : NULL;
	if (m && memo_answer(ix, st, m, c, day, out))
		return;
	struct prep p;
	struct memo_ent keep;
	prepare(ix, c, &p, out, tr);
	if (finish(ix, st, site_id, c, day, &p, out, tr, &keep) && kept)
		memo_store(&at, m, &keep, c);
}

void map_code(const struct map_index *ix, struct map_stats *st, const char *site_id, const struct code *c, int32_t day,
              struct map_result *out)
{
	map_code_ex(ix, st, site_id, c, day, out, NULL);
}

int32_t map_fixed(const struct map_index *ix, enum map_fixed kind, const struct code *c)
{
	int32_t id = map_rules_fixed(&ix->rules, kind, c);
	if (id >= 0)
		return id;
	/* units: any UCUM code of the loaded vocabulary, as written */
	if (kind == MAPF_UNIT && ix->ucum_vocab >= 0) {
		struct span v = span_trim(c->code);
		if (!v.n)
			v = span_trim(c->display);
		int64_t ri = v.n ? map_index_find(ix, ix->ucum_vocab, v.p, v.n, INT32_MIN) : -1;
		if (ri >= 0 && (ix->recs[ri].flags & MREC_STANDARD))
			return ix->recs[ri].id;
	}
	return 0;
}

int32_t map_type_concept(const struct map_index *ix, enum rec_origin origin)
{
	if ((unsigned)origin >= ORIG__COUNT)
		origin = ORIG_EHR;
	return ix->rules.type_concept[origin];
}

uint8_t map_concept_domain(const struct map_index *ix, int32_t concept_id)
{
	int64_t ri = map_index_by_id(ix, concept_id);
	return ri >= 0 ? ix->recs[ri].domain : DOM_NONE;
}

/* The statistics' entry of the note, -1 if none are kept. */
static int64_t note(struct map_stats *st, const char *site, const char *key, size_t kl, struct span code,
                    struct span display, const char *vocab, uint8_t status)
{
	return st ? (int64_t)map_stats_note(st, site, key, kl, code, display, vocab, status) : -1;
}
