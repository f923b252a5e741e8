/* arena.c - region allocation. See arena.h. */
#include "core/arena.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;               /* a multiple of 16; the free part of the newest: arena cur, lim */
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size)
{
	a->head = NULL;
	/* a multiple of 16: what an allocation leaves is one too (arena_alloc) */
	a->chunk_size = chunk_size ? mem_add(chunk_size, 15) & ~(size_t)15 : 64 * 1024;
	a->used = 0;
	a->cur = a->lim = NULL;
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = xmalloc(mem_add(sizeof *c, size));
	c->next = NULL;
	c->size = size;
	return c;
}

void *arena_alloc_more(struct arena *a, size_t n)
{
	size_t need = mem_add(n, 15) & ~(size_t)15;

	if (!a->head || (size_t)(a->lim - a->cur) < need) {
		struct arena_chunk *c = chunk_new(need > a->chunk_size ? need : a->chunk_size);
		c->next = a->head;
		a->head = c;
		a->cur = c->data;
		a->lim = c->data + c->size;
	}
	void *p = a->cur;
	a->cur += need;
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
	if (keep)
		keep->next = NULL;
	a->head = keep;
	a->cur = keep ? keep->data : NULL;
	a->lim = keep ? keep->data + keep->size : NULL;
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
	a->cur = a->lim = NULL;
}
