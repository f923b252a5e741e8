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

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* a * b, or exit on overflow. */
size_t mem_mul(size_t a, size_t b);
/* a + b, or exit on overflow. */
size_t mem_add(size_t a, size_t b);

#endif
