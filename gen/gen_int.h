/*
 * gen_int.h - internals shared by the generator's files: the random streams,
 * the synthetic patient, the output streams and their accounting.
 */
#ifndef OMO_GEN_INT_H
#define OMO_GEN_INT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "gen/gen.h"
#include "gen/gen_codes.h"

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ---- */

struct rng { uint64_t s[4]; };
void rng_seed(struct rng *r, uint64_t a, uint64_t b, uint64_t c);
uint64_t rng_u64(struct rng *r);
/* 0 <= x < n */
static inline uint32_t rng_below(struct rng *r, uint32_t n) { return (uint32_t)(((rng_u64(r) >> 32) * (uint64_t)n) >> 32); }
static inline double rng_unit(struct rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }
double rng_normal(struct rng *r, double mean, double sd);

/* ---- the synthetic patient ---- */

#define GEN_MAX_ENC 20
#define GEN_MAX_OBS 40
#define GEN_MAX_COND 24
#define GEN_MAX_MED 64
#define GEN_MAX_IMM 32
#define GEN_MAX_ALL 3
#define GEN_TODAY_Y 2024   /* the population's "now": 2024-06-30, fixed for determinism */

struct gen_obs { uint8_t test; double value; };
struct gen_enc {
	int32_t day, sec;         /* start: local date and second of day */
	int32_t end_day, end_sec;
	uint8_t type;             /* enum gen_enc_type */
	uint8_t updated;          /* an ADT^A08 follows */
	uint8_t npanels;
	uint8_t panels[6];        /* enum gen_panel_id */
	uint8_t nobs;
	struct gen_obs obs[GEN_MAX_OBS];   /* panel by panel, in panel order */
};
struct gen_condrec { uint8_t cond, enc; int32_t start, end; /* end -1: ongoing */ };
struct gen_medrec { uint8_t drug, enc; int32_t start, end; };
struct gen_immrec { uint8_t vax, enc; int32_t day; uint32_t lot; };
struct gen_allrec { uint8_t allergy, enc; int32_t day; };

struct gen_patient {
	uint64_t seed;
	int site;
	uint64_t index;           /* within the site */
	uint32_t mrn;
	char uuid[37];            /* Synthea patient Id */
	char ssn[12];
	uint8_t male, race, hispanic;
	int32_t birth;            /* days since 1970-01-01 */
	const char *first, *last, *street, *city;
	uint16_t house;
	char zip[6], phone[13];
	uint8_t nenc, ncond, nmed, nimm, nall;
	struct gen_enc enc[GEN_MAX_ENC];
	struct gen_condrec cond[GEN_MAX_COND];
	struct gen_medrec med[GEN_MAX_MED];
	struct gen_immrec imm[GEN_MAX_IMM];
	struct gen_allrec all[GEN_MAX_ALL];
	struct rng err;           /* decides which of this patient's records break */
};

/* Make patient `index` of site `site` for this seed. Pure function of its arguments. */
void gen_patient_make(struct gen_patient *p, uint64_t seed, int site, uint64_t index);
/* Encounter i's identifier (visit number), e.g. "V1000123-03", into buf. */
void gen_visit_id(const struct gen_patient *p, int i, char *buf, size_t n);
/* A UUID-shaped identifier for (patient, kind, i), as Synthea writes ids. */
void gen_uuid(const struct gen_patient *p, uint32_t kind, uint32_t i, char out[37]);

/* ---- feeds ---- */

enum gen_feed { F_HL7_EPIC, F_HL7_CERNER, F_CCDA_A, F_CCDA_B, F_CSV_SYNTHEA, F_CSV_2017, F__COUNT };
struct gen_feed_def { const char *format, *profile, *dir, *name; };
extern const struct gen_feed_def gen_feed_defs[F__COUNT];

enum gen_errkind { GE_TRUNCATED, GE_BAD_DATE, GE_UNKNOWN_SYSTEM, GE_MALFORMED_XML, GE_BAD_COLUMNS, GE__COUNT };
extern const char *const gen_err_names[GE__COUNT];

/* One output file's account. kinds[]: records by kind (names from the writer). */
#define GEN_MAX_KINDS 8
struct gen_file {
	char rel[272];            /* path relative to the output folder */
	uint64_t records, broken, bytes_raw, bytes_disk;
	uint64_t err[GE__COUNT];
	uint64_t kinds[GEN_MAX_KINDS];
	const char *const *kind_names;
	int nkinds;
	uint64_t header_rows;
	int site, feed;
};

/* ---- output streams ---- */

struct gen_out {
	int fd;
	void *z;                  /* ZSTD_CCtx, when compressing */
	char *buf, *zbuf;
	size_t n, cap, zcap;
	size_t rec;               /* where the current record starts in buf */
	struct gen_file *file;    /* accounting */
	int failed;
	char path[4096];
};

struct gen_ctx;   /* gen.c: options, output folder, file accounts */

/* Open DIR/rel (+ ".zst" when compressing) for writing; registers its account. */
int go_open(struct gen_ctx *g, struct gen_out *o, const char *rel, const char *const *kind_names, int nkinds, struct err *e);
/* Flush and close the file; buffers and the zstd context stay for the next go_open. */
int go_finish(struct gen_out *o, struct err *e);
/* go_finish, then free everything. */
int go_close(struct gen_out *o, struct err *e);
static inline int go_is_open(const struct gen_out *o) { return o->fd >= 0; }
void go_reserve(struct gen_out *o, size_t extra);
static inline void go_mem(struct gen_out *o, const void *p, size_t n)
{
	if (o->cap - o->n < n)
		go_reserve(o, n);
	for (size_t i = 0; i < n; i++)
		o->buf[o->n + i] = ((const char *)p)[i];
	o->n += n;
}
void go_str(struct gen_out *o, const char *s);
static inline void go_chr(struct gen_out *o, char c)
{
	if (o->cap == o->n)
		go_reserve(o, 1);
	o->buf[o->n++] = c;
}
void go_u64(struct gen_out *o, uint64_t v);
/* v with exactly `digits` digits, zero padded (v < 10^digits). */
void go_pad(struct gen_out *o, uint32_t v, int digits);
/* v rounded to `decimals` places, no exponent. */
void go_fixed(struct gen_out *o, double v, int decimals);
/* Date of day as YYYYMMDD (sep 0) or YYYY-MM-DD (sep '-'). */
void go_date(struct gen_out *o, int32_t day, char sep);
/* A record starts / ends: kind is an index into the file's kind names, broken
 * the error kind injected (or -1). Buffers are flushed only between records. */
static inline void go_rec_begin(struct gen_out *o) { o->rec = o->n; }
int go_rec_end(struct gen_out *o, int kind, int broken, struct err *e);
/* XML-escaped text; CSV field (quoted when needed). */
void go_xml(struct gen_out *o, const char *s);
void go_csv(struct gen_out *o, const char *s);

/* ---- writers: one patient into one feed ---- */

struct gen_site_out;   /* the site's open streams (gen.c) */
int gen_hl7_patient(struct gen_ctx *g, struct gen_site_out *so, int cerner, const struct gen_patient *p, struct err *e);
int gen_ccda_patient(struct gen_ctx *g, struct gen_site_out *so, int style_b, const struct gen_patient *p, struct gen_out *o, struct err *e);
int gen_csv_patient(struct gen_ctx *g, struct gen_site_out *so, int v2017, const struct gen_patient *p, struct err *e);

/* What the writers need from gen.c. */
double gen_error_rate(const struct gen_ctx *g);
/* Decide whether the next record of p breaks: -1, or one of the kinds in allowed (a bit mask). */
int gen_pick_error(const struct gen_ctx *g, struct gen_patient *p, unsigned allowed);
/* The HL7 output stream of a family (0 adt, 1 oru, 2 vxu, 3 rde) for the dialect, rotated by size. */
struct gen_out *gen_hl7_stream(struct gen_ctx *g, struct gen_site_out *so, int cerner, int family, struct err *e, int *rc);
/* The CSV stream of a table for the layout. */
struct gen_out *gen_csv_stream(struct gen_site_out *so, int v2017, int table);
/* Open a fresh file for one C-CDA document of patient p. */
int gen_ccda_open(struct gen_ctx *g, struct gen_site_out *so, int style_b, const struct gen_patient *p, struct gen_out *o, struct err *e);
/* Site id and site number (1-based) of the stream set. */
const char *gen_so_site(const struct gen_site_out *so);
int gen_so_site_no(const struct gen_site_out *so);
/* Next message control / sequence number of the site (deterministic). */
uint64_t gen_so_next_seq(struct gen_site_out *so);

enum gen_csv_table { CT_PATIENTS, CT_ENCOUNTERS, CT_CONDITIONS, CT_MEDICATIONS, CT_IMMUNIZATIONS, CT_OBSERVATIONS, CT_ALLERGIES, CT__COUNT };
extern const char *const gen_csv_tables[CT__COUNT];
/* The header line of a table in a layout. */
const char *gen_csv_header(int v2017, int table);

#endif
