/*
 * testutil.h - helpers shared by the cmocka tests.
 *
 * Paths come from the environment that tests/CMakeLists.txt sets: the reference
 * data (../shared/data), the project's own fixtures, a scratch folder.
 */
#ifndef OMO_TESTUTIL_H
#define OMO_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/conf.h"
#include "etl/sink.h"

/* $OMO_SHARED_DATA/rel into a static buffer (one at a time). */
const char *tu_shared(const char *rel);
/* $OMO_FIXTURES/rel. */
const char *tu_fixture(const char *rel);
/* A scratch directory for this test program (created empty). */
const char *tu_tmpdir(const char *name);
/* Read a whole file (test inputs are small). Caller frees. */
char *tu_slurp(const char *path, size_t *n);
/* Write text to path (replacing it): 0, or -1 if it cannot be written. */
int tu_write(const char *path, const char *text);
/* The same for n bytes at p. */
int tu_write_bytes(const char *path, const void *p, size_t n);
/* Every regular file below dir (recursively) appended to *files (*n of
 * them, each malloc'd), then the whole list sorted. Caller frees. */
void tu_list_files(const char *dir, char ***files, size_t *n);
/* text written to file in a fresh scratch directory dir (tu_tmpdir): its
 * path, in a static buffer of its own (valid until the next call); fails the
 * test when it cannot be written. */
const char *tu_tmpfile(const char *dir, const char *file, const char *text);
/* Fails at the first line where a (read whole) and b (read `how`) differ,
 * showing both; ctx names the input. */
void tu_same_lines(const char *ctx, const char *how, const char *a, const char *b);
/* Configuration as the test environment gives it (embedded cluster, PGDATABASE). */
void tu_conf(struct conf *c);

/*
 * A sink that collects what extractors emit, for parser tests: counts of
 * records loaded / quarantined / skipped, the emitted records by kind, the
 * last quarantine reason and position.
 */
struct tu_sink {
	struct sink base;
	unsigned long begun, loaded, quarantined, skipped, notes;
	unsigned long by_kind[16];        /* enum rec_kind */
	unsigned long events_by_kind[16]; /* enum ev_kind */
	unsigned long pending[16];
	int in_record;
	struct err last_q;                /* the last quarantine reason */
	char last_skip[128];
	char last_source_id[128];         /* the last sink_source_id */
	void (*on_emit)(struct tu_sink *s, const struct record *r);  /* optional */
	void *user;
};
void tu_sink_init(struct tu_sink *s);

#endif
