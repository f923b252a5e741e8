/*
 * csv_build.h - one CSV row -> the records its file's profile describes.
 *
 *   row fields --(each [record] of the file: when/unless, bindings)--> struct record --> sink_emit
 *
 * The builder knows the record model (etl/record.h) and the profile
 * (csv_profile.h), nothing about tokenizing or files. It parses what the
 * bindings say: dates (csv_datefmt, converted to the site's zone), numbers,
 * the event value by its type word, and makes repeated keys unique.
 */
#ifndef OMO_CSV_BUILD_H
#define OMO_CSV_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/span.h"
#include "etl/extract/csv_profile.h"
#include "etl/sink.h"

/*
 * Repeat ordinals of one [record] (repeat = SCOPE): identical keys within
 * consecutive rows of the same scope value get "#2", "#3" ... appended, so
 * duplicate source rows stay separate records with keys that are stable as
 * long as the order of rows within the scope is. Memory is bounded by the
 * rows of one scope (and capped: beyond CSV_REPEAT_MAX keys it starts over).
 */
#define CSV_REPEAT_MAX (1u << 20)

struct csv_repeat {
	uint64_t *h;         /* key hashes (0 = empty) */
	uint32_t *cnt;       /* occurrences so far */
	uint32_t *gen;       /* slot is live when gen == cur */
	uint32_t cur;
	size_t mask, n;
	char *scope;         /* the current scope value */
	size_t scope_n, scope_cap;
};

void csv_repeat_free(struct csv_repeat *rp);

/* One binding to evaluate per row, flat: a plain column is read straight
 * from the row by its field index (no chain of pointers to follow). */
struct csv_step {
	int64_t col;                  /* field index of a plain column, -1: evaluate bd->x */
	uint16_t off;                 /* bd->off */
	uint8_t type, req;            /* bd->type, bd->req */
	struct csv_bind *bd;
};

#define CSV_OCACHE 4
struct csv_ocache {
	char w[CSV_OCACHE][24];
	uint8_t n[CSV_OCACHE];        /* 0xff: empty */
	uint8_t v[CSV_OCACHE];
	unsigned next;
};

/* The state of one file being read. */
struct csv_build {
	const struct csv_profile *p;
	const struct csv_filespec *f;
	struct csv_repeat *rep;       /* one per [record] of the file */
	struct record *tmpl;          /* per [record]: initialised, constants applied */
	uint8_t *vtype;               /* per [record]: value.type when constant (enum csv_vt), else 0xff */
	struct csv_ocache *ocache;    /* per [record]: the last origin words seen */
	struct csv_step **steps;      /* per [record]: the bindings that are not constants */
	size_t *nsteps;
};

/* Prepare b for the file section f of profile p, whose column slots are
 * bound to the file's fields by idx: record templates with the profile's
 * constants, the steps of each [record]. 0, or a negative soft error in why
 * when a constant cannot be used (a constant date that is not a date). */
int csv_build_init(struct csv_build *b, const struct csv_profile *p, const struct csv_filespec *f,
                   const size_t *idx, struct err *why);
void csv_build_free(struct csv_build *b);

/*
 * Build and emit the records of one row (row: evaluated against the file's
 * bound columns). Returns 0 with *emitted set; a negative soft error with
 * why filled (code, message, why->pos.where = the column) when the row must
 * be quarantined (records already emitted are discarded by the sink); or a
 * negative hard error from the sink.
 */
int csv_build_row(struct csv_build *b, const struct csv_row *row, struct sink *s, struct err *why, size_t *emitted);

/* Numbers as CSV exports write them: [+-]digits[.digits], exponents too. 0 or -1. */
int csv_parse_double(struct span s, double *out);
/* A date by format, converted to site_tz (see csv_datefmt). 0 or -E_DATE. */
int csv_parse_date(struct span v, const struct csv_datefmt *f, int site_tz, struct dt *out);

#endif
