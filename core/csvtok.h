/*
 * csvtok.h - a streaming tokenizer for delimited text (RFC 4180 and kin).
 *
 *   file (.zst or plain) -> window (core/io.h) -> record -> fields (spans)
 *
 * Handles what real exports do: quoted fields with embedded delimiters, quotes
 * ("" inside quotes) and newlines; CRLF or LF; a UTF-8 byte-order mark; blank
 * lines (skipped). quote = '\0' reads unquoted formats such as the Athena
 * vocabulary download, where quote characters are literal.
 *
 * Fields are spans into the window, or into a scratch buffer for quoted fields
 * that needed unescaping; they are valid until the next csvtok_next() call.
 * Memory is bounded by the largest record (max_record).
 *
 * A quote that is never closed is a soft error (E_PARSE) at the record's first
 * line; the tokenizer then resumes at the line after it, so one broken row
 * does not swallow the rest of the file.
 *
 * The byte-order mark is looked for on the first csvtok_next(), so a caller
 * may still change the window's read size (t->w.rd.max_read, tests use 1)
 * after opening.
 */
#ifndef OMO_CSVTOK_H
#define OMO_CSVTOK_H

#include <stdint.h>
#include "core/buf.h"
#include "core/io.h"
#include "core/span.h"

struct csv_field_ref { size_t off, n; int scratch; };

struct csvtok {
	struct win w;
	char delim, quote;
	int started;          /* the byte-order mark has been looked for */
	int ascii;            /* 1: the current record is known to be 7-bit ASCII; 0: not known */
	int resync;           /* after a too large record: drop input up to the next line end */
	int avx2;             /* index with AVX2 (the CPU has it) rather than SSE2 */
	uint32_t *ix;         /* structural index (see csvtok.c): positions relative to ixorg */
	size_t ixn, ixi, ixcap;
	uint64_t ixorg;       /* stream offset the positions count from */
	uint64_t ixto;        /* stream offset up to which the window is indexed */
	uint64_t line;        /* first line of the current record (1-based) */
	uint64_t next_line;   /* line where the next record starts */
	uint64_t record;      /* records returned so far, header included */
	uint64_t offset;      /* byte offset of the current record */
	struct span raw;      /* the current record as written, without its line end */
	struct span *f;       /* fields of the current record */
	size_t nf, fcap;
	struct csv_field_ref *ref;
	size_t rcap;
	struct buf scratch;
};

int csvtok_open(struct csvtok *t, const char *path, char delim, char quote, size_t max_record, struct err *e);
int csvtok_open_mem(struct csvtok *t, const void *p, size_t n, char delim, char quote, size_t max_record, struct err *e);
/*
 * Next record: 1 with t->f / t->nf / t->raw set; 0 at end of input; negative
 * on error. Soft errors (-E_PARSE unterminated quote, -E_TOO_LARGE) leave
 * t->raw and t->line on the bad record and the tokenizer usable; hard errors
 * (-E_IO) do not.
 */
int csvtok_next(struct csvtok *t, struct err *e);
void csvtok_close(struct csvtok *t);

#endif
