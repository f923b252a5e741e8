/*
 * err.h - the one error type of omopipe.
 *
 * Every fallible function returns 0 on success or a negative error code, and
 * fills the caller's struct err: a code, a human message and a position.
 *
 *   hard errors  (code < E_SOFT_FIRST): usage, configuration, database, I/O,
 *                internal. The run (or the file) stops; half-loaded work is
 *                rolled back by the database transaction.
 *   soft errors  (code >= E_SOFT_FIRST): one bad record. It is quarantined
 *                with its reason code and position, counted, and the run goes on.
 *
 * Messages never carry patient data: positions, codes and field names only.
 */
#ifndef OMO_ERR_H
#define OMO_ERR_H

#include <stddef.h>
#include <stdint.h>

enum err_code {
	E_OK = 0,
	/* hard errors */
	E_USAGE = 1,    /* bad command line */
	E_CONFIG,       /* bad configuration or profile */
	E_DB,           /* database unreachable, SQL or COPY failure */
	E_IO,           /* a file cannot be read or written */
	E_NOMEM,        /* out of memory */
	E_INTERNAL,     /* a bug */
	E_LOCKED,       /* another run holds the lock */
	E_INPUT,        /* an input file or folder is missing or unusable */
	E_ACCOUNTING,   /* read != loaded + quarantined + skipped */

	/* soft errors: one record, quarantined with this reason */
	E_SOFT_FIRST = 32,
	E_PARSE = E_SOFT_FIRST, /* structurally unparseable */
	E_ENCODING,     /* invalid UTF-8 or bad escape */
	E_COLUMNS,      /* wrong column count */
	E_DATE,         /* impossible or malformed date */
	E_NO_PATIENT,   /* no patient identifier */
	E_CODE,         /* a code field that is not a code */
	E_TOO_LARGE,    /* record beyond the size limit */
	E_MISSING,      /* a required segment, element or field is absent */
	E_VALUE,        /* a value that cannot be interpreted */
	E_REFERENCE,    /* refers to something that does not exist */
	E_SOFT_LAST
};

/* Where something happened. Any field may be unset (NULL / 0). */
struct err_pos {
	char file[256];       /* the path as the user gave it (copied: errors outlive their callers) */
	uint64_t record;      /* 1-based record number in the file (message, row, document) */
	uint64_t line;        /* 1-based line */
	uint64_t offset;      /* byte offset of the record in the (decompressed) file */
	char where[96];       /* "OBX[2]-5.1", "/ClinicalDocument/component/..", "column 7" */
};

struct err {
	int code;             /* enum err_code, positive */
	struct err_pos pos;
	char msg[320];
};

/* Fill e (if not NULL) and return -code. The position is left as it is. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the file of a position (truncated to fit). */
void err_pos_file(struct err_pos *p, const char *path);

/* Clear e to "no error". */
void err_clear(struct err *e);

/* 1 if code (positive) is a soft, per-record error. */
int err_is_soft(int code);

/* Stable reason identifier for a code, as stored in quarantine ("bad_date"). */
const char *err_reason(int code);

/* Format "file:line: record N, byte B, where: msg" into buf. */
void err_format(const struct err *e, char *buf, size_t n);

/* Process exit codes, documented in the README and `omopipe --help`. */
enum omo_exit {
	EXIT_OK = 0,          /* success */
	EXIT_DATA = 1,        /* data rejected (records quarantined, file failed) or DQ gate failed */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_CONFIG = 3,      /* bad configuration */
	EXIT_DB = 4,          /* database unreachable or failed */
	EXIT_INTERNAL = 5     /* I/O failure or a bug */
};

/* The exit code that a hard error of this code maps to. */
int err_exit_code(int code);

#endif
