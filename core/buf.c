/* buf.c - growable byte buffer. See buf.h. */
#include "core/buf.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = mem_add(mem_add(b->n, extra), 1);
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = mem_mul(cap, 2);
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_span(struct buf *b, struct span s)
{
	buf_append(b, s.p, s.n);
}

void buf_utf8(struct buf *b, struct span s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (;;) {
		size_t ok = span_utf8_prefix(s);
		if (ok)
			buf_append(b, s.p, ok);
		if (ok == s.n)
			return;
		unsigned char c = (unsigned char)s.p[ok];
		char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
		buf_append(b, x, 4);
		s = span_make(s.p + ok + 1, s.n - ok - 1);
	}
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

size_t dec_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t k = 0;
	do
		tmp[k++] = (char)('0' + v % 10);
	while (v /= 10);
	for (size_t i = 0; i < k; i++)
		out[i] = tmp[k - 1 - i];
	return k;
}

void buf_i64(struct buf *b, int64_t v)
{
	char tmp[24];
	size_t i = 0;
	if (v < 0)
		tmp[i++] = '-';
	i += dec_u64(tmp + i, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	buf_append(b, tmp, i);
}

void buf_reset(struct buf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

char *buf_take(struct buf *b)
{
	if (!b->p)
		buf_reserve(b, 0), b->p[0] = '\0';
	char *p = b->p;
	b->p = NULL;
	b->n = b->cap = 0;
	return p;
}
