/*
 * mem.h - allocation that cannot return NULL.
 *
 * omopipe is a batch job: when memory runs out there is nothing sensible to
 * continue with, and every database change is inside a transaction, so the
 * process reports "out of memory" and exits with EXIT_INTERNAL. Size
 * computations that could overflow go through mem_mul(), which exits likewise.
 */
#ifndef OMO_MEM_H
#define OMO_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* a * b, or exit on overflow. */
size_t mem_mul(size_t a, size_t b);
/* a + b, or exit on overflow. */
size_t mem_add(size_t a, size_t b);

/* memcpy for the short strings of a row or a key, without a library call:
 * fixed-size moves, overlapping at the end, never outside [s, s + n) or
 * [d, d + n). */
static inline void mem_copy_short(char *d, const char *s, size_t n)
{
	if (n >= 16) {
		size_t k = 0;
		for (; k + 16 <= n; k += 16)
			memcpy(d + k, s + k, 16);
		if (k < n)
			memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else {
		for (size_t k = 0; k < n; k++)
			d[k] = s[k];
	}
}

/* memcmp(a, b, n) == 0 for the short strings of a row, a key or a code,
 * without a library call: word compares, the last one overlapping, never
 * outside [a, a + n) or [b, b + n). */
static inline int mem_eq_short(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		uint64_t x, y;
		size_t k = 0;
		for (; k + 8 <= n; k += 8) {
			memcpy(&x, a + k, 8);
			memcpy(&y, b + k, 8);
			if (x != y)
				return 0;
		}
		if (k == n)
			return 1;
		memcpy(&x, a + n - 8, 8); /* the rest, overlapping */
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t u, v, u2, v2;
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return u == v && u2 == v2;
	}
	for (; n; n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

#endif
