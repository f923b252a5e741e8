/*
 * buf.h - a growable byte buffer with one owner.
 *
 * Used to build COPY data, SQL text and report files. Appends never fail
 * (out of memory exits, see mem.h). The content is always NUL-terminated.
 */
#ifndef OMO_BUF_H
#define OMO_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "core/span.h"

struct buf {
	char *p;
	size_t n, cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_putc(struct buf *b, char c);
void buf_puts(struct buf *b, const char *s);
void buf_span(struct buf *b, struct span s);
/* s as valid UTF-8: each byte that starts no valid character as the four
 * characters \xHH (text a database holds, made of bytes that may not be). */
void buf_utf8(struct buf *b, struct span s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal integer, no printf. */
void buf_i64(struct buf *b, int64_t v);
/* The decimal digits of v at out (at least one, at most 20); returns how many. */
size_t dec_u64(char *out, uint64_t v);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Take ownership of the content; b is left empty. */
char *buf_take(struct buf *b);

#endif
