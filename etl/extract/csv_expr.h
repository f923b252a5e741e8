/*
 * csv_expr.h - the small expression language of CSV layout profiles.
 *
 *   "join('|', 'cond', PATIENT, START)"  --csv_expr_parse-->  tree (profile arena)
 *   tree + one row's fields              --csv_expr_eval-->   span (field, literal, or row arena)
 *
 * Grammar (whitespace between tokens is ignored):
 *
 *   expr := NAME                  the column with this header name (any case)
 *         | #N                    the N-th column (1-based; files without header)
 *         | 'text'                a constant ('' stands for one quote)
 *         | col('Any Name')       a column whose name is not a plain word
 *         | join('sep', expr...)  the values joined by sep (empty ones kept)
 *         | first(expr...)        the first value that is not empty
 *         | map(NAME, expr[, expr])  NAME's [map NAME] value for it; else the
 *                                 third argument, else empty
 *         | match(expr, 'regex')  PCRE2: the first capture group (or the
 *                                 whole match); empty when it does not match
 *   NAME := letters, digits, '_', '-', '.'
 *
 * A column value is returned as a span into the row (no copy) unless the
 * file is Latin-1 / Windows-1252 and the value is not ASCII (transcoded to
 * UTF-8 into the row arena). join/match results live in the row arena.
 */
#ifndef OMO_CSV_EXPR_H
#define OMO_CSV_EXPR_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/span.h"

#include <string.h>

/* The columns that a file section's expressions name: slots, bound to the
 * field indexes of each file when its header has been read. */
struct csv_cols {
	const char **name;     /* header name, or NULL for #N */
	size_t *num;           /* #N: N; 0 for names */
	size_t *idx;           /* bound field index per slot */
	size_t n, cap;
};

/* A [map NAME] section: source value -> target value. */
struct csv_map {
	const char *name;
	struct span *key, *val;
	uint32_t *slot;        /* open addressing: index + 1 into key/val, 0 empty */
	size_t n, mask;
};

struct csv_maps {
	struct csv_map **v;
	size_t n;
};

enum csv_xop { X_COL = 1, X_LIT, X_JOIN, X_FIRST, X_MAP, X_MATCH };

/* A part of a simple join: a column by its field index, or a constant. */
struct csv_jpart {
	int64_t col;                   /* -1: the constant lit */
	struct span lit;
};

struct csv_expr {
	uint8_t op;
	size_t slot;                   /* X_COL: the column slot (struct csv_cols) */
	size_t col;                    /* X_COL: its field index in the file being read (csv_expr_bind) */
	struct span lit;               /* X_LIT; X_JOIN: the separator */
	struct csv_expr **arg;
	size_t narg;
	const struct csv_map *map;     /* X_MAP */
	void *re, *md;                 /* X_MATCH: pcre2_code, pcre2_match_data */
	const char *text;              /* as written, for messages */
	int simple;                    /* X_JOIN of columns and constants only */
	size_t ncol, litn;             /* X_JOIN: column parts, bytes of constant parts */
	struct csv_jpart *jp;          /* simple X_JOIN: its parts, flat (csv_expr_bind) */
	/* X_MAP over a large map: the last lookup (a column often repeats its
	 * value row after row); only results that live in the profile are cached */
	char last[32];
	size_t last_n;                 /* SIZE_MAX: nothing cached */
	struct span last_val;
};

/* What an expression is evaluated against: one row. */
struct csv_row {
	const struct span *f;          /* the row's fields */
	size_t nf;
	struct arena *a;               /* the row arena */
	int encoding;                  /* enum csv_encoding */
	int ascii;                     /* 1: the row is known to be ASCII */
	int plain;                     /* 1: values are used as they are (UTF-8 file, or ASCII row) */
	size_t rawn;                   /* bytes of the row as written (bounds its fields) */
};

/*
 * Parse text into *out (allocated in a), registering the columns it names in
 * cols. maps: the profile's [map] sections (map() must name one). 0, or -1
 * with a reason in err (errn bytes).
 */
int csv_expr_parse(struct csv_expr **out, const char *text, struct csv_cols *cols,
                   const struct csv_maps *maps, struct arena *a, char *err, size_t errn);
/* The value for a row. Never fails: a missing column or no match is empty.
 * Not const: map() keeps its last lookup in x (one extractor = one thread). */
struct span csv_expr_eval(struct csv_expr *x, const struct csv_row *r);
/* csv_expr_eval with the common cases inline: a column of a row that needs
 * no transcoding, a constant. */
static inline struct span csv_expr_value(struct csv_expr *x, const struct csv_row *r)
{
	if (x->op == X_COL && r->plain) {
		return x->col < r->nf ? r->f[x->col] : span_make("", 0);
	}
	if (x->op == X_LIT)
		return x->lit;
	return csv_expr_eval(x, r);
}

/* Resolve the columns x names to the field indexes of the file about to be
 * read (idx: slot -> field index). */
void csv_expr_bind(struct csv_expr *x, const size_t *idx);

/* The column name if x is a plain column reference ("#3" style gives "column 3"), else NULL. */
const char *csv_expr_column(const struct csv_expr *x, const struct csv_cols *cols, char *buf, size_t n);
/* 1 and the value if x is a constant. */
int csv_expr_const(const struct csv_expr *x, struct span *out);
/* Free what expressions hold outside the arena (PCRE2 objects). */
void csv_expr_free(struct csv_expr *x);

/* Map lookup (exact match); 1 and *val if found. */
int csv_map_get(const struct csv_map *m, struct span key, struct span *val);
/* Build a map's index after its key/val arrays are filled (a: where the index lives). */
void csv_map_index(struct csv_map *m, struct arena *a);

/* Find or add a column slot by name (any case) or number. */
size_t csv_cols_slot(struct csv_cols *c, const char *name, size_t num, struct arena *a);

#endif
