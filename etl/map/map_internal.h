/*
 * map_internal.h - the mapper's internal structures, shared by etl/map/ files,
 * the map unit tests and the map benchmark. Not for other modules: they use
 * map.h.
 *
 * Two layers:
 *
 *   struct map_rules   what mappings/ (and conf/) say, independent of the
 *                      database: code system aliases, per-vocabulary code
 *                      formats (case, spaces, transform, PCRE2 pattern),
 *                      fixed-value maps, type concepts. Loaded by
 *                      map_rules_load(); `sitemap load` uses it alone.
 *
 *   struct map_index   the rules plus the vocabulary, in memory:
 *     recs[]     the code hash table itself: open addressing (linear probing,
 *                load <= 0.6) of 32-byte records keyed by (vocabulary, code),
 *                one per CONCEPT row: id, vocabulary, the code (digits-only
 *                codes up to 19 digits as a number, others inline up to 9
 *                bytes, longer ones in the pool), validity dates as days since
 *                1970 in 16 bits, domain, flags, and the default target
 *                resolved at build. A lookup costs one cache miss in the
 *                common case: the record holds everything the answer needs.
 *                Duplicate keys allowed. Empty slot: code_len 0.
 *     id hash    concept_id -> record, open addressing
 *     edges[]    'Maps to' / 'Maps to value' / replacement edges per record
 *                (CSR: recs[i].e_off, e_n), kind in the top 3 bits
 *     stcm       SOURCE_TO_CONCEPT_MAP rows keyed by (namespace, code): the
 *                namespace is the source_vocabulary_id, interned
 *
 * Everything is built once and then only read: no locks.
 */
#ifndef OMO_MAP_INTERNAL_H
#define OMO_MAP_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "core/hash.h"
#include "core/arena.h"
#include "core/buf.h"
#include "etl/map/map.h"

/* ---- a small interning string table (case-sensitive; callers fold case) ---- */

struct strtab {
	struct arena *arena;       /* owns the keys */
	const char **key;
	uint32_t *klen;
	int32_t *val;
	uint32_t *slot;            /* index + 1, 0 = empty */
	uint32_t n, cap, mask;
};

void strtab_init(struct strtab *t, struct arena *a);
void strtab_free(struct strtab *t);
/* The value stored for key, or -1. */
int32_t strtab_get(const struct strtab *t, const char *k, size_t n);
/* Store key -> val (replacing); returns the entry index. */
uint32_t strtab_put(struct strtab *t, const char *k, size_t n, int32_t val);
/* Intern: the entry index of key, adding it with val = index if absent. */
uint32_t strtab_intern(struct strtab *t, const char *k, size_t n);

/* ---- rules from mappings/ ---- */

enum map_xform {
	MAPX_NONE = 0,
	MAPX_DOT3,       /* insert a dot after the 3rd character (ICD-10, ICD-10-CM) */
	MAPX_ICD9,       /* dot after the 3rd character, after the 4th for E codes */
	MAPX_DOT2,       /* dot after the 2nd character (ICD-9 procedures) */
	MAPX_NODOT,      /* remove dots (ICD-10-PCS) */
	MAPX_NDC11,      /* NDC 10-digit hyphenated 4-4-2 / 5-3-2 / 5-4-1 -> 11 digits */
	MAPX_LPAD2,      /* numeric codes: also try zero-padded to 2 / without leading zeros (CVX) */
};

enum map_case { MAPC_KEEP = 0, MAPC_UPPER, MAPC_LOWER };

struct map_format {
	uint8_t cas;           /* enum map_case */
	uint8_t strip_space;   /* remove all white space, not only at the ends */
	uint8_t xform;         /* enum map_xform */
	void *re;              /* pcre2_code_8 *, NULL if no pattern */
	const char *pattern;   /* as written, for messages */
};

#define MAP_VOCAB_LOCAL (-2)   /* a known local code system: site maps only */

struct map_fixed_entry { int32_t concept_id; uint8_t kind; const char *vocabulary_id, *concept_code; };

struct map_rules {
	struct arena arena;
	struct strtab systems;     /* lower-cased alias -> vocabulary name index (names), or MAP_VOCAB_LOCAL */
	struct strtab names;       /* vocabulary_id names the rules know: index = name id */
	struct map_format *fmt;    /* per name id (fmt_cap entries) */
	uint32_t fmt_cap;
	struct strtab fixed;       /* "K\x1fsystem\x1fvalue" -> index into fixed_e */
	struct map_fixed_entry *fixed_e;
	uint32_t nfixed, fixed_cap;
	uint32_t fixed_count[MAPF__COUNT];
	int32_t type_concept[ORIG__COUNT];
	uint32_t nfiles;           /* files read, for the log */
};

/* Load mappings/code_systems.csv, code_formats.csv, the fixed maps and
 * type_concepts.csv from the share directory, then conf/code_systems.csv and
 * code_systems.csv beside the configuration file when they exist (later
 * entries win). c may be NULL (no configuration file). A bad line is
 * -E_CONFIG with file:line. */
int map_rules_load(struct map_rules *r, const struct conf *c, struct err *e);
/* Same, from an explicit mappings directory (tests). */
int map_rules_load_dir(struct map_rules *r, const char *mappings_dir, const char *extra_systems, struct err *e);
void map_rules_free(struct map_rules *r);

/*
 * Resolve a system as written. Returns the vocabulary name id (>= 0),
 * MAP_VOCAB_LOCAL, or -1 (unknown). key receives the system key used for site
 * maps and statistics: the vocabulary_id when resolved, else the trimmed,
 * upper-cased system (at most keycap - 1 bytes).
 */
int map_rules_system(const struct map_rules *r, struct span sys, char *key, size_t keycap, size_t *keylen);
const char *map_rules_name(const struct map_rules *r, int name_id);

#define MAP_MAX_CANDIDATES 4
#define MAP_CODE_MAX 64

/*
 * Normalise code for the vocabulary (name id, or < 0 for local/unknown: trim
 * only). Writes up to MAP_MAX_CANDIDATES candidate spellings (first = the
 * canonical one) into out[k] (MAP_CODE_MAX bytes each). Returns the number of
 * candidates, 0 if the code is empty or longer than MAP_CODE_MAX - 1.
 */
int map_normalise(const struct map_rules *r, int name_id, struct span code, char out[][MAP_CODE_MAX], size_t *len);
/* 1 if code passes the vocabulary's pattern (or it has none). */
int map_code_valid(const struct map_rules *r, int name_id, const char *code, size_t n);

/* Fixed-value lookup: concept id, or -1 if the value is not in the map (0 is
 * a known value without a standard concept). */
int32_t map_rules_fixed(const struct map_rules *r, enum map_fixed kind, const struct code *c);

/* ---- the index ---- */

/*
 * The hash of a code in the index's tables (kept in memory only, so free to
 * differ from core/hash.h, which keys what is stored): codes are short, so up
 * to 16 bytes are read as two overlapping words with no loop and no call,
 * then folded twice by 64x64->128 multiplications; longer codes use hash64.
 * seed separates vocabularies (and site map namespaces).
 */
static inline uint64_t map_fold(uint64_t a, uint64_t b)
{
	__extension__ typedef unsigned __int128 u128;
	u128 r = (u128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t map_code_hash(const char *p, size_t n, uint32_t seed)
{
	uint64_t a = 0, b = 0;
	if (n > 16)
		return hash64(p, n, 0x51ed270b27f3b4d7ULL + seed);
	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		a = x;
		b = y;
	} else if (n) {
		a = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
		    (uint64_t)(unsigned char)p[n - 1] << 16;
	}
	uint64_t h = map_fold(a ^ 0xa0761d6478bd642fULL ^ ((uint64_t)seed << 8 | n), b ^ 0xe7037ed1a0b428dbULL);
	return map_fold(h ^ 0x8ebc6af09c88c6e3ULL, n ^ 0x589965cc75374cc3ULL);
}

enum map_rec_flag {
	MREC_STANDARD = 1,     /* standard_concept = 'S' */
	MREC_CLASSIF = 2,      /* 'C' */
	MREC_INVALID_D = 4,
	MREC_INVALID_U = 8,
	MREC_SLOW = 16,        /* default target not inline: walk the edges */
	MREC_LONGCODE = 32,    /* code in the pool: code[0..3] = offset, code[4..8] its first bytes */
	MREC_DUP = 128,        /* another record has the same (vocabulary, code) */
	MREC_NUMERIC = 64,     /* code of digits only: its value in code[0..7], its length in code_len */
};

struct map_rec {
	int32_t id;
	int32_t t_id;          /* default target (0: none) unless MREC_SLOW */
	uint32_t e_off;        /* first edge */
	uint16_t vocab;        /* vocabulary id (index->vocabs) */
	uint16_t start, end;   /* valid_start/end_date, days since 1970 (clamped) */
	uint8_t e_n;           /* edges (at most 255 kept) */
	uint8_t domain;        /* enum map_domain */
	uint8_t t_dom;         /* domain of t_id */
	uint8_t flags;         /* enum map_rec_flag */
	uint8_t code_len;
	char code[9];
};

_Static_assert(sizeof(struct map_rec) == 32, "a record is half a cache line");

enum map_edge_kind { MEDGE_MAPS_TO = 1, MEDGE_MAPS_VALUE = 2, MEDGE_REPLACED = 3 };
#define MEDGE_SHIFT 29
#define MEDGE_IDX(e) ((e) & ((1u << MEDGE_SHIFT) - 1))
#define MEDGE_KIND(e) ((e) >> MEDGE_SHIFT)

struct map_stcm {
	uint32_t ns;           /* namespace (index->ns) */
	uint32_t code_off;     /* pool */
	uint16_t code_len;
	uint16_t start, end;
	int32_t target;        /* target concept id */
	int32_t source;        /* source_concept_id */
};

struct map_index {
	struct map_rules rules;
	struct arena arena;
	struct strtab vocabs;      /* vocabulary_id of CONCEPT -> vocab id (index order) */
	int32_t *vocab_name;       /* vocab id -> rules name id (-1 if the rules do not know it) */
	int32_t *name_vocab;       /* rules name id -> vocab id (-1), rules.names.n entries */
	struct map_rec *recs;      /* the table (rslots entries); during the build: the records in order */
	uint32_t nrec, rcap;       /* records; build-time capacity */
	uint32_t rslots, cmask;    /* table size (a power of two) and mask */
	uint32_t *islot;           /* rec + 1 by concept_id */
	uint32_t imask;
	uint32_t *edges;
	uint32_t nedge;
	struct buf pool;           /* long codes, STCM codes */
	struct strtab ns;          /* STCM source_vocabulary_id namespaces */
	struct map_stcm *stcm;
	uint32_t nstcm, scap;
	uint32_t *sslot;           /* stcm + 1 by (ns, code) */
	uint32_t smask;
	int32_t ucum_vocab;        /* vocab id of UCUM, -1 */
	double build_seconds;
	uint64_t gen;              /* unique per index built in this process (per-thread caches) */
	size_t recs_mapped, islot_mapped, edges_mapped; /* mmap sizes (0: malloc) */
	/* build-time staging */
	uint32_t *pend;            /* pending edges: src id, dst id, kind triples */
	size_t npend, pcap;
	uint64_t long_codes;
};

/* Builder interface, fed by the database (map_index_build) or by Athena files
 * (map_index_load_dir). */
struct map_index *map_index_new(void);
void map_index_add_concept(struct map_index *ix, int32_t id, struct span vocab, struct span code, struct span domain,
                           char standard, char invalid, int32_t start, int32_t end);
/* kind: enum map_edge_kind */
void map_index_add_rel(struct map_index *ix, int32_t from, int32_t to, int kind);
void map_index_add_stcm(struct map_index *ix, struct span ns, struct span code, int32_t source, int32_t target,
                        int32_t start, int32_t end);
/* Hash, resolve edges and default targets. */
void map_index_finish(struct map_index *ix);
/* Check the fixed maps and type concepts against the loaded vocabulary: every
 * concept found must be standard, valid and of the expected domain. Logs a
 * warning per problem; returns their number (concepts absent from the
 * vocabulary are not counted: subsets lack them). */
int map_index_check_fixed(const struct map_index *ix);
/* Relationship name -> enum map_edge_kind, 0 if not used by the mapper. */
int map_rel_kind(struct span rel);
/* Domain name -> enum map_domain. */
uint8_t map_domain_of(struct span name);
const char *map_domain_name(uint8_t d);

/* Build from a folder in Athena or CSV-export layout (CONCEPT, CONCEPT_RELATIONSHIP,
 * SOURCE_TO_CONCEPT_MAP) without a database. */
int map_index_load_dir(struct map_index **out, const char *dir, const char *mappings_dir, struct err *e);

/* The record of (vocab name, code) best for day; -1 if none. */
int64_t map_index_find(const struct map_index *ix, int vocab, const char *code, size_t n, int32_t day);
int64_t map_index_by_id(const struct map_index *ix, int32_t id);
/* A record's code (buf: room for a numeric code's digits). */
struct span map_rec_code(const struct map_index *ix, const struct map_rec *r, char buf[24]);

/*
 * What `omopipe map` prints: every step of one lookup.
 */
struct map_trace {
	char syskey[64];
	int vocab_resolved;        /* 1 vocabulary, 0 unknown, 2 local */
	char norm[MAP_MAX_CANDIDATES][MAP_CODE_MAX];
	int ncand;
	int cand_used;             /* which candidate matched, -1 none */
	char site_ns[32];          /* source_vocabulary_id of the site map tried, "" if none */
	int site_hit;              /* 1 site map, 2 global STCM */
	int valid;                 /* pattern check result (-1 not run) */
	int32_t source_id;
	int32_t chain[8];          /* replacements followed */
	int nchain;
	int32_t maps_to[MAP_MAX_TARGETS];
	int nmaps;
	int32_t values[MAP_MAX_TARGETS];
	int nvalues;
	int out_of_dates;
};

void map_code_ex(const struct map_index *ix, struct map_stats *st, const char *site_id, const struct code *c,
                 int32_t day, struct map_result *out, struct map_trace *tr);

/*
 * Site namespaces: the source_vocabulary_id (varchar(20)) of a site's code
 * system, "SITE:SYSTEM" when it fits, else a shortened form with a hash
 * (see mappings/sites/README.md). out must hold 21 bytes.
 */
void map_site_ns(const char *site, const char *syskey, size_t keylen, char out[21]);

/* Count one unmapped code (and, for MAP_UNKNOWN_SYSTEM, its system); returns
 * its entry, valid while map_stats_epoch stays the same. */
uint32_t map_stats_note(struct map_stats *st, const char *site, const char *key, size_t kl, struct span code,
                        struct span display, const char *vocab, uint8_t status);
/* The same once more for entry i (map_code's memo). */
void map_stats_again(struct map_stats *st, uint32_t i, struct span display, uint8_t status);
/* Unique to st in the process until st is next emptied (merged into another). */
uint64_t map_stats_epoch(const struct map_stats *st);
const char *map_status_reason(uint8_t status);

/* Counts the statistics hold (tests and the flush). */
struct map_stats_row {
	const char *site, *syskey, *code, *name, *vocabulary;
	uint64_t count;
	uint8_t status;
};
size_t map_stats_rows(const struct map_stats *st, struct map_stats_row **rows);
uint64_t map_stats_unknown_system(const struct map_stats *st, const char *syskey);

#endif
