/*
 * extract.h - the interface every extractor (one per feed format) offers.
 *
 *   file --(format's tokenizer)--> source records --(vendor profile)--> struct record --> sink
 *
 * An extractor instance belongs to one worker thread and one (format, profile,
 * site); it is opened once per run and reads many files. Vendor quirks come
 * from the profile in conf/profiles/FORMAT/PROFILE.conf (or a path), never
 * from C.
 *
 * run() reads one file: every source record goes through the sink (see
 * etl/sink.h); soft errors are quarantined there and reading goes on. run()
 * returns 0 or a hard error (I/O, database), after which the loader rolls the
 * file back.
 */
#ifndef OMO_EXTRACT_H
#define OMO_EXTRACT_H

#include "core/arena.h"
#include "core/conf.h"
#include "core/ini.h"
#include "core/err.h"
#include "etl/sink.h"

struct extractor;

struct extract_ops {
	const char *format;            /* "csv", "hl7v2", "ccda" */
	const char *default_profile;   /* used when none is given */
	int (*open)(struct extractor **out, const char *profile, const struct conf_site *site, struct err *e);
	/* 1 if a file found in a feed folder is for this extractor (by its name). */
	int (*wants)(const struct extractor *x, const char *path);
	int (*run)(struct extractor *x, const char *path, struct sink *s, struct err *e);
	void (*close)(struct extractor *x);
};

/* The extractor for a format, or NULL. */
const struct extract_ops *extract_find(const char *format);

/* Resolve a profile name to its file: a path if it holds '/', else
 * conf/profiles/FORMAT/NAME.conf in the share directory. */
int extract_profile_path(const char *format, const char *name, char *buf, size_t n, struct err *e);

/*
 * Read profile NAME of FORMAT (extract_profile_path) and hand its entries to
 * apply(ctx, ini, e, depth); apply reads a `base = OTHER` entry by calling
 * this again with depth + 1 (at most 4 deep). Strings live in arena a.
 */
int extract_profile_read(const char *format, const char *name, struct arena *a, int depth,
                         int (*apply)(void *ctx, struct ini *ini, struct err *e, int depth), void *ctx,
                         struct err *e);
/* 1 if the file's name (without .zst) ends in one of n extensions (no dot,
 * any case), held as NUL-terminated strings every stride bytes from exts. */
int extract_has_ext(const char *path, const char *exts, size_t stride, size_t n);

extern const struct extract_ops extract_csv;
extern const struct extract_ops extract_hl7v2;
extern const struct extract_ops extract_ccda;

#endif
