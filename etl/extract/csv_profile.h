/*
 * csv_profile.h - a vendor's CSV export layout, compiled from its profile.
 *
 *   conf/profiles/csv/NAME.conf (core/ini.h) --csv_profile_load--> struct csv_profile
 *   struct csv_profile + a file's header   --csv_profile_bind-->  column slots -> field indexes
 *
 * A profile says which file (base-name pattern) holds which records, and for
 * every record field the expression (csv_expr.h) that fills it from the row's
 * columns. The sections and keys are documented at the top of
 * conf/profiles/csv/synthea.conf; in short:
 *
 *   [csv]              defaults for every file: delimiter, quote, header,
 *                      encoding, date_format, tz, max_record
 *   [file NAME]        match = GLOB ...; the same dialect keys as [csv];
 *                      columns = N (files without header); skip = REASON
 *                      (every row is counted as skipped with that reason)
 *   [record NAME]      file = NAME; kind = person | death | visit | provider |
 *                      care_site | location | condition | drug | immunization |
 *                      procedure | measurement | observation | allergy |
 *                      device | specimen | note; origin = ehr | ...;
 *                      when / unless = EXPR; repeat = EXPR; require = FIELD ...;
 *                      FIELD = EXPR; FIELD.format = DATE FORMAT
 *   [map NAME]         SOURCE = TARGET value lists for map(NAME, EXPR)
 *
 * Records of a file are emitted in the order their sections appear.
 * Everything here lives in the profile's arena and is read-only after
 * loading, except small caches of the last value seen (a date binding's
 * last parsed date, a large map's last lookup): a profile belongs to one
 * extractor, which belongs to one thread.
 */
#ifndef OMO_CSV_PROFILE_H
#define OMO_CSV_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/err.h"
#include "etl/extract/csv_expr.h"
#include "etl/record.h"

enum csv_encoding { CSV_UTF8 = 0, CSV_LATIN1, CSV_CP1252 };

enum csv_datekind { DF_ISO = 0, DF_HL7, DF_PATTERN };

/* How a date column is written. */
struct csv_datefmt {
	uint8_t kind;             /* enum csv_datekind */
	uint8_t may_offset;       /* the format can carry a zone offset */
	const char *pattern;      /* DF_PATTERN: dt_parse_fmt pattern */
	int tz;                   /* zone of times written without offset (minutes), or DT_TZ_KEEP */
};

/* How one file is written. */
struct csv_dialect {
	char delim, quote;
	int header;               /* 1: the first record names the columns */
	int encoding;             /* enum csv_encoding */
	struct csv_datefmt date;  /* default for date fields (with the zone of times without offset) */
	size_t max_record;        /* bytes */
	size_t columns;           /* expected column count when there is no header (0: any) */
};

/* What kind of value a record field holds (how an expression's text is used). */
enum csv_ftype {
	CF_SPAN = 1,   /* text as is */
	CF_CODE,       /* sets struct code .code (FIELD.system / .display are CF_SPAN) */
	CF_DATE,       /* struct dt, parsed with the field's or the file's format */
	CF_DOUBLE,     /* number, NaN when empty */
	CF_I32,        /* integer, the field's "unknown" value when empty */
	CF_VALUE,      /* the event value (text; read by value.type) */
	CF_VTYPE       /* value.type: numeric | text | coded | auto */
};

enum csv_req { CSV_REQ_NONE = 0, CSV_REQ_MISSING, CSV_REQ_PERSON };

/* One record field that the profile fills. */
struct csv_bind {
	const char *name;         /* as written in the profile: "code.system" */
	uint8_t type;             /* enum csv_ftype */
	uint8_t req;              /* enum csv_req: empty -> E_MISSING / E_NO_PATIENT */
	uint16_t off;             /* offset in struct record */
	struct csv_expr *x;
	const char *where;        /* column name for error positions (or the field name) */
	struct csv_datefmt date;  /* CF_DATE: format (the file's unless FIELD.format) */
	int line;                 /* profile line, for messages */
	uint8_t is_const;         /* the expression is a constant: set once in the record template */
	/* CF_DATE: the last value parsed (rows of one encounter share their dates) */
	char dlast[40];
	size_t dlast_n;           /* SIZE_MAX: none */
	struct dt dval;
};

struct csv_recspec {
	const char *name;         /* [record NAME] */
	uint8_t kind;             /* enum rec_kind */
	uint8_t ev;               /* enum ev_kind for REC_EVENT */
	uint8_t origin;           /* enum rec_origin when constant */
	struct csv_expr *origin_x;/* origin word per row, or NULL */
	struct csv_expr *when, *unless;
	struct csv_expr *repeat;  /* scope of the repeat ordinal for identical keys, or NULL */
	struct csv_bind *b;
	size_t nb;
	int key;                  /* index of the key binding in b, -1 if none */
	int line;
};

struct csv_filespec {
	const char *name;         /* [file NAME] */
	const char **match;       /* fnmatch patterns on the base name (no .zst), any case */
	size_t nmatch;
	const char *skip;         /* every row skipped with this reason, or NULL */
	struct csv_dialect d;
	struct csv_recspec **recs;
	size_t nrecs;
	struct csv_cols cols;     /* columns the expressions name, bound per file */
	int line;
};

struct csv_profile {
	struct arena a;
	const char *path;
	int site_tz;              /* dates are converted to this zone (minutes), or DT_TZ_KEEP */
	struct csv_filespec **files;
	size_t nfiles;
	struct csv_maps maps;
};

/*
 * Load and compile the profile at path. site_tz is the site's zone (minutes,
 * or DT_TZ_KEEP): dates are converted to it. 0, or -E_CONFIG with file:line.
 * The profile owns everything it allocates; free with csv_profile_free.
 */
int csv_profile_load(struct csv_profile **out, const char *path, int site_tz, struct err *e);
void csv_profile_free(struct csv_profile *p);

/* The file section whose pattern matches path's base name, or NULL. */
const struct csv_filespec *csv_profile_file(const struct csv_profile *p, const char *path);

/* The origin named by word ("ehr", "lab" ...); -1 if unknown. */
int csv_profile_origin(struct span word);

#endif
