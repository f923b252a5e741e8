/*
 * arena.h - region allocation with one owner and one lifetime.
 *
 * A run arena holds what lives for the whole run (configuration, vocabulary
 * index, compiled patterns); a record arena is reset after each HL7 message,
 * C-CDA section or CSV row. Nothing allocated from an arena is freed on its own:
 * arena_reset() releases everything at once (keeping the first chunk for reuse),
 * arena_free() returns all memory.
 */
#ifndef OMO_ARENA_H
#define OMO_ARENA_H

#include <stddef.h>
#include "core/span.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head;  /* newest chunk first */
	size_t chunk_size;         /* default size of a new chunk */
	size_t used;               /* bytes handed out since the last reset */
};

void arena_init(struct arena *a, size_t chunk_size);
/* n bytes aligned to 16; never NULL (exits on out of memory). */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
struct span arena_span(struct arena *a, struct span s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
