/*
 * cmd_generate.c - omopipe generate: write a synthetic multi-vendor network
 * (gen/gen.h), or the demo vocabulary (gen/gen_codes.h).
 */
#include "cli/cli.h"
#include "gen/gen.h"
#include "gen/gen_codes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || *end || end == v || d < lo || d > hi)
		return cli_usage("generate", "%s: expected a number from %g to %g, got '%s'", opt, lo, hi, v);
	*out = d;
	return 0;
}

int cmd_generate(struct cli *cli, int argc, char **argv)
{
	struct gen_opts o = { .patients = 0, .sites = 0, .seed = 1 };
	const char *vocab_dir = NULL;
	struct err e = { 0 };
	double d = 0;
	int rc;
	(void)cli;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = strcmp(a, "--patients") == 0 || strcmp(a, "--sites") == 0 || strcmp(a, "--out") == 0
		         || strcmp(a, "--seed") == 0 || strcmp(a, "--error-rate") == 0 || strcmp(a, "--only") == 0
		         || strcmp(a, "--file-records") == 0 || strcmp(a, "--vocab") == 0;
		if (takes && !v)
			return cli_usage("generate", "option %s needs a value", a);
		if (strcmp(a, "--patients") == 0) {
			if ((rc = num(a, v, 1, 1e9, &d)) != 0)
				return rc;
			o.patients = (uint64_t)d;
		} else if (strcmp(a, "--sites") == 0) {
			if ((rc = num(a, v, 1, 999, &d)) != 0)
				return rc;
			o.sites = (int)d;
		} else if (strcmp(a, "--seed") == 0) {
			char *end;
			errno = 0;
			o.seed = strtoull(v, &end, 10);
			if (errno || *end || end == v)
				return cli_usage("generate", "--seed: expected a non-negative integer, got '%s'", v);
		} else if (strcmp(a, "--error-rate") == 0) {
			if ((rc = num(a, v, 0, 1, &o.error_rate)) != 0)
				return rc;
		} else if (strcmp(a, "--file-records") == 0) {
			if ((rc = num(a, v, 1, 1e12, &d)) != 0)
				return rc;
			o.file_records = (uint64_t)d;
		} else if (strcmp(a, "--out") == 0)
			o.out = v;
		else if (strcmp(a, "--only") == 0)
			o.only = v;
		else if (strcmp(a, "--vocab") == 0)
			vocab_dir = v;
		else if (strcmp(a, "--zstd") == 0) {
			o.zstd = 1;
			continue;
		} else
			return cli_usage("generate", "unknown argument '%s'", a);
		i++;
	}

	if (vocab_dir) {
		if (o.out || o.patients || o.sites)
			return cli_usage("generate", "--vocab DIR writes only the demo vocabulary");
		if (gen_vocab_write(vocab_dir, &e) < 0)
			return cli_fail(&e);
		printf("demo vocabulary: %zu concepts, %zu 'Maps to' (+ reverse and self maps), %zu ancestors in %s\n",
		       gen_nconcepts, gen_nmaps, gen_nancestors, vocab_dir);
		return EXIT_OK;
	}
	if (!o.out || !o.patients || !o.sites)
		return cli_usage("generate", "expected --patients N --sites K --out DIR");

	struct gen_totals t;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gen_run(&o, &t, &e) < 0)
		return cli_fail(&e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s <= 0)
		s = 1e-9;
	printf("generated %llu patients at %d site%s into %s: %llu files, %llu records (%llu broken)\n",
	       (unsigned long long)t.patients, o.sites, o.sites == 1 ? "" : "s", o.out, (unsigned long long)t.files,
	       (unsigned long long)t.records, (unsigned long long)t.broken);
	printf("%.1f MB of feeds (%.1f MB on disk) in %.2f s: %.1f MB/s, %.0f records/s, %.0f patients/s\n",
	       (double)t.bytes_raw / 1e6, (double)t.bytes_disk / 1e6, s, (double)t.bytes_raw / 1e6 / s,
	       (double)t.records / s, (double)t.patients / s);
	printf("configuration: %s/omopipe.conf; accounting: %s/expected.json\n", o.out, o.out);
	return EXIT_OK;
}
