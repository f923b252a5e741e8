/*
 * io.h - reading input files, plain or zstd-compressed, in bounded memory.
 *
 *   file (.zst or plain, detected by magic number) --rd_read--> bytes
 *   bytes --win_more--> a sliding window [beg, end) that parsers scan for
 *                       whole records, keeping the unconsumed tail.
 *
 * Memory stays flat for any file size: the window holds at most one record
 * plus one read chunk; a record larger than `max` is an E_TOO_LARGE error.
 */
#ifndef OMO_IO_H
#define OMO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/err.h"
#include "core/hash.h"

struct rd {
	int fd;                    /* -1 for a memory source */
	const char *mem;           /* memory source */
	size_t mem_n, mem_off;
	void *zctx;                /* ZSTD_DCtx when compressed */
	unsigned char *zin;        /* compressed input buffer */
	size_t zin_cap, zin_pos, zin_len;
	int zeof, zframe_done;
	size_t max_read;           /* cap per rd_read call (tests use 1) */
	uint64_t bytes_in;         /* raw bytes read from the file */
	uint64_t bytes_out;        /* bytes delivered */
	const char *path;          /* not owned */
};

/* Open path for reading. 0 or -E_IO / -E_INPUT with the path in e. */
int rd_open(struct rd *r, const char *path, struct err *e);
/* Read from memory (not copied; must outlive r). Compressed data is detected too. */
int rd_open_mem(struct rd *r, const void *p, size_t n, struct err *e);
/* Up to cap bytes into buf: the count, 0 at end of input, or -E_IO. */
ssize_t rd_read(struct rd *r, void *buf, size_t cap, struct err *e);
void rd_close(struct rd *r);

/* Whole-file content hash of the bytes on disk (compressed bytes for .zst). */
int io_hash_file(const char *path, struct hash128 *out, uint64_t *size, struct err *e);
/* 1 if the path names a .zst file by its extension. */
int io_is_zst_name(const char *path);
/* The file name without directories, and without a trailing .zst. Into buf. */
void io_base_name(const char *path, char *buf, size_t n);

struct win {
	struct rd rd;
	char *buf;
	size_t cap;
	size_t beg, end;   /* unconsumed data is buf[beg, end) */
	size_t max;        /* largest record the caller accepts */
	size_t chunk;      /* bytes asked for per read */
	int eof;
	uint64_t base;     /* offset in the decompressed stream of buf[0] */
};

int win_open(struct win *w, const char *path, size_t max_record, struct err *e);
int win_open_mem(struct win *w, const void *p, size_t n, size_t max_record, struct err *e);
/*
 * Read more input after end, first moving [beg, end) to the front of the
 * buffer (pointers into the window are invalid afterwards; keep offsets).
 * Returns 1 if bytes were added, 0 at end of input, -E_TOO_LARGE if the
 * unconsumed data already reached max, -E_IO on a read error.
 */
int win_more(struct win *w, struct err *e);
/* Offset in the stream of buf[i]. */
static inline uint64_t win_offset(const struct win *w, size_t i) { return w->base + i; }
void win_close(struct win *w);

/* Skip a UTF-8 byte-order mark at the start of the window, if there is one. */
void win_skip_bom(struct win *w);

#endif
