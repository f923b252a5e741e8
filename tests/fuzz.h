/*
 * fuzz.h - damaged input for the extractors' fuzz tests (test_*_fuzz.c).
 *
 *   fuzz_seed / fuzz_below    a seeded random source (xorshift64*)
 *   fuzz_mutate               one random damage to an input: a byte
 *                             replaced, a format's token put in, a stretch
 *                             removed, repeated or moved, the input cut
 *                             short, a piece of another input spliced in
 *   fuzz_begin / fuzz_end     a sink that checks what an extractor says
 *                             while sink_print writes it down, a line each:
 *                             every begin closed once; quarantines with a
 *                             soft code, a position and a reason; records
 *                             PostgreSQL can hold (text valid UTF-8 without
 *                             NUL bytes, finite numbers, sound dates); a
 *                             failed check names the input (ctx)
 * Two such write-ups are compared with tu_same_lines (testutil.h).
 */
#ifndef OMO_FUZZ_H
#define OMO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "etl/sink.h"
#include "etl/sink_print.h"

void fuzz_seed(unsigned long seed);
/* A number below n (0 when n is 0). */
size_t fuzz_below(size_t n);
/* The environment variable as a number, dflt when unset. */
unsigned long fuzz_env(const char *var, unsigned long dflt);

/* Inputs grow to at most FUZZ_MAX bytes (p has room for FUZZ_MAX + FUZZ_SLACK). */
#define FUZZ_MAX (256u << 10)
#define FUZZ_SLACK 4096u

struct fuzz_input {
	char *p;
	size_t n;
};

/* The files below dirs[0 .. ndirs) (tu_list_files) that keep() takes
 * (NULL: all), each read whole as a seed (no room to grow: it is only
 * copied from; keep() must leave out those over FUZZ_MAX). Free with
 * fuzz_seeds_free. */
struct fuzz_input *fuzz_seeds(const char *const *dirs, size_t ndirs, int (*keep)(const char *path, struct span text),
                              size_t *n);
void fuzz_seeds_free(struct fuzz_input *s, size_t n);

/* An input to damage: room for FUZZ_MAX + FUZZ_SLACK bytes. */
void fuzz_input_init(struct fuzz_input *in);
void fuzz_input_set(struct fuzz_input *in, const char *p, size_t n);
void fuzz_input_free(struct fuzz_input *in);
/* One damage to in, its bytes from `bytes`, its tokens from tokens[ntok]
 * (a token "" is one NUL byte), its splices from `from`. */
void fuzz_mutate(struct fuzz_input *in, const struct fuzz_input *from, const char *bytes, const char *const *tokens,
                 size_t ntok);

/* 1 if v is valid UTF-8 without NUL bytes. */
int fuzz_clean(struct span v);

struct fuzz_sink {
	struct sink base;
	const char *ctx;            /* names the input in failures */
	unsigned long begun, loaded, quarantined, skipped, records;
	int open;
	int last_loaded;            /* the last source record's outcome */
	unsigned long last_records; /* records of the last source record */
	char last_id[64];           /* its sink_source_id */
	struct sink_print print;
	FILE *mf;
	char *out;                  /* what was printed (fuzz_end; caller frees) */
	size_t nout;
};

/* The sink to give an extractor: f's checks, printed into f->out. */
struct sink *fuzz_begin(struct fuzz_sink *f, const char *ctx);
/* After the run: the lines in f->out, every begin closed, every line
 * (records, reasons, positions) valid UTF-8 without NUL bytes. */
void fuzz_end(struct fuzz_sink *f);

/* OMO_FUZZ_WRITE=DIR: the inputs kept for a load into the database
 * (tests/pg/t_fuzz_load.sh), each with what the extractor made of it, a
 * line of DIR/counts: its path under DIR, records read, loaded,
 * quarantined, skipped, and "loaded" or "failed" (the run refused the
 * file). counts is NULL when not asked for. */
struct fuzz_keep {
	const char *dir;
	FILE *counts;
};
void fuzz_keep_open(struct fuzz_keep *k);
/* Write input p (n bytes) to DIR/rel (folders made) and its counts line. */
void fuzz_keep_add(struct fuzz_keep *k, const char *rel, const char *p, size_t n, const struct fuzz_sink *f, int failed);
void fuzz_keep_close(struct fuzz_keep *k);

#endif
