/*
 * test_csv_fuzz.c - the CSV extractor on damaged files: rows cut, spliced,
 * repeated, with delimiters, quotes, line ends, byte-order marks, NUL and
 * high bytes, dates and numbers thrown in, from seeds that are the first
 * rows of every Synthea file in ../shared/data/csv (both layouts, through
 * their profiles) and the project's fixtures (the malformed files, the
 * ACME vendor layout). For each input (fuzz.h):
 *
 *   - nothing crashes or reads out of bounds (CI runs this under ASan/UBSan);
 *   - every begin is closed once; quarantines have a soft code, a position
 *     and a reason; records hold what PostgreSQL can (valid UTF-8 without
 *     NUL bytes, finite numbers, sound dates);
 *   - read whole and a few bytes at a time, it gives the same lines;
 *   - a file the run refuses (a header without a column the profile needs)
 *     is refused with a reason and no record, both ways.
 *
 * OMO_FUZZ_ITERS inputs (default 3000) from OMO_FUZZ_SEED (default 1); the
 * input being tried is in $OMO_TEST_TMP/test_csv_fuzz/, a failure names it.
 * OMO_FUZZ_WRITE=DIR keeps the inputs, as DIR/PROFILE/N/NAME (PROFILE:
 * synthea, synthea-2017 or acme), with what the extractor made of each in
 * DIR/counts (fuzz_keep), for tests/pg/t_fuzz_load.sh.
 */
#include "testutil.h"
#include "fuzz.h"
#include "etl/extract/csv_extract.h"
#include "etl/extract/extract.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What damage is made of: delimiters, quotes, line ends, encodings, dates
 * and numbers that are almost right. */
static const char *const tokens[] = {
	",", ";", "\"", "\"\"", "\",\"", "\n", "\r\n", "\r", "\n\n", ",,,,,,", "\t", " ", "\xef\xbb\xbf", "",
	"\x80", "\xc3\xa9", "\xc3", "\xff\xfe", "\xed\xa0\x80", "\xe9", "2023-02-30", "2023-13-01", "20230101",
	"2023-01-01T25:00:00Z", "2023-01-01T10:00:00+99:00", "1999-12-31T23:59:60Z", "0000-01-01", "9999-12-31",
	"01.02.2024", "31.02.2024", "1e309", "-1e309", "NaN", "inf", "-", ".", "1.2.3", "99999999999999999999999",
	"-0", "<5", ">=10", "3.5-5.1", "numeric", "text", "M", "F", "1", "2", "\\N", "NULL",
};
static const char bytes[] = ",;\"\r\n 0123456789.-+:TZ\x80\xff\xc3\xef";

struct seed {
	char name[64];             /* the file name the profile knows it by */
	const char *profile;
	const char *group;         /* the profile's short name */
	struct fuzz_input in;
};

/* The header and first rows (up to 30 lines) of each file in dir. */
static void add_dir(struct seed **s, size_t *n, const char *dir, const char *profile, const char *group,
                    const char *ext)
{
	char **files = NULL;
	size_t nf = 0;
	tu_list_files(dir, &files, &nf);
	for (size_t i = 0; i < nf; i++) {
		const char *base = strrchr(files[i], '/') + 1;
		size_t bl = strlen(base);
		if (bl < strlen(ext) || strcmp(base + bl - strlen(ext), ext) != 0 || bl >= sizeof (*s)->name) {
			free(files[i]);
			continue;
		}
		size_t len;
		char *p = tu_slurp(files[i], &len);
		assert_non_null(p);
		size_t k = 0;
		for (int lines = 0; k < len && lines < 30; k++)
			lines += p[k] == '\n';
		if (k > FUZZ_MAX)
			k = FUZZ_MAX;
		*s = xrealloc(*s, (*n + 1) * sizeof **s);
		struct seed *d = &(*s)[(*n)++];
		snprintf(d->name, sizeof d->name, "%s", base);
		d->profile = profile;
		d->group = group;
		d->in = (struct fuzz_input){ p, k }; /* a seed is only copied from */
		free(files[i]);
	}
	free(files);
}

/* Extract the file at path with profile into f, read_size bytes a read
 * (0: whole); the run's code. */
static int extract(const char *profile, const char *path, size_t read_size, const char *ctx, struct fuzz_sink *f,
                   struct err *e)
{
	const struct extract_ops *op = extract_find("csv");
	struct extractor *x;
	memset(e, 0, sizeof *e);
	if (op->open(&x, profile, NULL, e) < 0)
		fail_msg("open %s: %s", profile, e->msg);
	csv_extract_set_read_size(x, read_size);
	assert_true(op->wants(x, path));
	int rc = op->run(x, path, fuzz_begin(f, ctx), e);
	op->close(x);
	fuzz_end(f);
	return rc;
}

static void test_damaged_files(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	unsigned long iters = fuzz_env("OMO_FUZZ_ITERS", 3000), seed = fuzz_env("OMO_FUZZ_SEED", 1);
	struct seed *seeds = NULL;
	size_t ns = 0;
	char acme[1024];
	snprintf(acme, sizeof acme, "%s", tu_fixture("csv/vendor/acme.conf"));
	add_dir(&seeds, &ns, tu_shared("csv/synthea-OHDSI-dbt-synthea-seeds/synthea"), "synthea", "synthea", ".csv");
	add_dir(&seeds, &ns, tu_shared("csv/synthea-v1-2017-pressleydavid-fusephir/csv"), "synthea-2017", "synthea-2017",
	        ".csv");
	add_dir(&seeds, &ns, tu_fixture("csv/malformed"), "synthea", "synthea", ".csv");
	add_dir(&seeds, &ns, tu_fixture("csv/vendor"), acme, "acme", ".txt");
	assert_true(ns >= 30);
	const char *dir = tu_tmpdir("test_csv_fuzz");
	struct fuzz_input in;
	fuzz_input_init(&in);
	unsigned long loaded = 0, quarantined = 0, refused = 0;
	struct fuzz_keep keep;
	fuzz_keep_open(&keep);
	fuzz_seed(seed);
	for (unsigned long it = 0; it < iters; it++) {
		const struct seed *s = &seeds[fuzz_below(ns)];
		const struct fuzz_input *from = &seeds[fuzz_below(ns)].in;
		fuzz_input_set(&in, s->in.p, s->in.n);
		for (size_t k = 1 + fuzz_below(4); k > 0; k--)
			fuzz_mutate(&in, from, bytes, tokens, sizeof tokens / sizeof tokens[0]);
		char path[4200], ctx[4400];
		snprintf(path, sizeof path, "%s/%s", dir, s->name);
		if (tu_write_bytes(path, in.p, in.n) < 0)
			fail_msg("cannot write %s", path);
		snprintf(ctx, sizeof ctx, "seed %lu iteration %lu (%s, profile %s)", seed, it, path, s->profile);
		struct fuzz_sink f[2];
		struct err e[2];
		size_t small = in.n < 16384 ? 1 + fuzz_below(7) : 512 + fuzz_below(4096);
		int rc0 = extract(s->profile, path, 0, ctx, &f[0], &e[0]);
		int rc1 = extract(s->profile, path, small, ctx, &f[1], &e[1]);
		if (rc0 != rc1 || (rc0 < 0 && (rc0 != -E_INPUT || !e[0].msg[0] || f[0].begun)))
			fail_msg("%s: the run gave %d (%s) whole, %d (%s) in small reads", ctx, rc0, e[0].msg, rc1, e[1].msg);
		tu_same_lines(ctx, "in small reads", f[0].out, f[1].out);
		free(f[0].out);
		free(f[1].out);
		if (keep.counts) {
			char rel[256];
			snprintf(rel, sizeof rel, "%s/%lu/%s", s->group, it, s->name);
			fuzz_keep_add(&keep, rel, in.p, in.n, &f[0], rc0 < 0);
		}
		refused += rc0 < 0;
		loaded += f[0].loaded;
		quarantined += f[0].quarantined;
		remove(path);
	}
	printf("%lu files: %lu rows loaded, %lu quarantined; %lu files refused\n", iters, loaded, quarantined, refused);
	/* the damage was real, and most files were still read */
	if (iters >= 1000) {
		assert_true(quarantined > iters / 10);
		assert_true(loaded > iters);
		assert_true(refused < iters / 2);
	}
	fuzz_keep_close(&keep);
	fuzz_input_free(&in);
	for (size_t i = 0; i < ns; i++)
		free(seeds[i].in.p);
	free(seeds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damaged_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
