/*
 * arena.h - region allocation with one owner and one lifetime.
 *
 * A run arena holds what lives for the whole run (configuration, vocabulary
 * index, compiled patterns); a record arena is reset after each HL7 message,
 * C-CDA section or CSV row. Nothing allocated from an arena is freed on its own:
 * arena_reset() releases everything at once (keeping the largest chunk for reuse),
 * arena_free() returns all memory.
 */
#ifndef OMO_ARENA_H
#define OMO_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include "core/mem.h"
#include "core/span.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head;  /* newest chunk first */
	size_t chunk_size;         /* default size of a new chunk */
	size_t used;               /* bytes handed out since the last reset */
	/* the free part of the newest chunk, a multiple of 16 bytes long
	 * (NULL, NULL: no chunk) */
	unsigned char *cur, *lim;
};

void arena_init(struct arena *a, size_t chunk_size);
/* arena_alloc past its fast path: a new chunk when n does not fit (and an
 * n that exactly fills the rest of this one). */
void *arena_alloc_more(struct arena *a, size_t n);
/* n bytes aligned to 16; never NULL (exits on out of memory). Inline: the
 * hot paths allocate a few small strings per message, and the call cost
 * more than the bump. */
static inline void *arena_alloc(struct arena *a, size_t n)
{
	/* strictly less: n rounded up to 16 still fits, and an empty or
	 * missing chunk (room 0) goes to arena_alloc_more */
	size_t room = (size_t)((uintptr_t)a->lim - (uintptr_t)a->cur);
	if (__builtin_expect(n < room, 1)) {
		size_t need = (n + 15) & ~(size_t)15;
		void *p = a->cur;
		a->cur += need;
		a->used += need;
		return p;
	}
	return arena_alloc_more(a, n);
}
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
struct span arena_span(struct arena *a, struct span s);
/* "X<sep>Y" in the arena, NUL-terminated (a key "A|B", a name "GIVEN
 * FAMILY"). No overflow: both parts are in memory. */
static inline struct span arena_join2(struct arena *a, struct span x, char sep, struct span y)
{
	size_t len = x.n + 1 + y.n;
	char *o = arena_alloc(a, len + 1);
	mem_copy_short(o, x.p, x.n);
	o[x.n] = sep;
	mem_copy_short(o + x.n + 1, y.p, y.n);
	o[len] = '\0';
	return span_make(o, len);
}
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
