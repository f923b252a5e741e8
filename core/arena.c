/* arena.c - region allocation. See arena.h. */
#include "core/arena.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, off;
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	a->used = 0;
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = xmalloc(mem_add(sizeof *c, size));
	c->next = NULL;
	c->size = size;
	c->off = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = mem_add(n, 15) & ~(size_t)15;

	if (!c || c->size - c->off < need) {
		size_t sz = need > a->chunk_size ? need : a->chunk_size;
		if (c && c->off == 0 && c->size >= need) {
			/* reuse the empty kept chunk */
		} else {
			c = chunk_new(sz);
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, mem_add(n, 1));
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

struct span arena_span(struct arena *a, struct span s)
{
	struct span r = { arena_strndup(a, s.p ? s.p : "", s.n), s.n };
	return r;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head, *keep = NULL;

	/* keep the largest chunk (the oldest is usually the default size) */
	while (c) {
		struct arena_chunk *next = c->next;
		if (!keep || c->size > keep->size) {
			if (keep)
				free(keep);
			keep = c;
		} else {
			free(c);
		}
		c = next;
	}
	if (keep) {
		keep->next = NULL;
		keep->off = 0;
	}
	a->head = keep;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}
