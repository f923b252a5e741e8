/*
 * bench_map.c - the vocabulary index: build time, memory, lookups per second.
 *
 *   bench_map [--dir ATHENA_DIR] [--lookups N] [--sample K] [--hot H]
 *
 * Without --dir the index is built the way a run builds it: map_index_build()
 * from the database omopipe is configured for (OMOPIPE_* environment, the
 * embedded cluster by default), after `omopipe vocab load`. With --dir it is
 * built from Athena files directly (no database).
 *
 * Then K codes are drawn from the index's concepts (system = their
 * vocabulary_id as a feed would name it, code as stored) plus 10% codes that
 * do not exist, and map_code() runs N times over them on one core; three
 * draws: uniform, Zipf(1) over a hot set of H concepts (default 50,000) and
 * over one of 1,000. The ceilings printed next to it, measured in the same
 * run: one dependent random read within 256 KiB, 4 MiB and 1 GiB (a lookup
 * whose record is not in the core's cache cannot beat one such read: the hot
 * set's records decide which of them it pays), and the bare hash probe
 * (map_index_find on an already normalised code).
 */
#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"
#include "db/db.h"
#include "etl/map/map.h"
#include "etl/map/map_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* Nanoseconds per dependent random read within an array of `bytes` (one
 * random cycle through it, in huge pages as the index's tables are): the cost
 * of a lookup whose record is not in the core's cache. */
static double chase(size_t bytes, uint64_t *sink)
{
	size_t an = bytes / sizeof(uint64_t);
	uint64_t *arr = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arr == MAP_FAILED)
		return 0;
	madvise(arr, bytes, MADV_HUGEPAGE);
	for (size_t i = 0; i < an; i++)
		arr[i] = i;
	for (size_t i = an - 1; i > 0; i--) { /* one random cycle (Sattolo) */
		size_t j = rnd() % i;
		uint64_t t = arr[i];
		arr[i] = arr[j];
		arr[j] = t;
	}
	uint64_t steps = 10000000, x = *sink % an;
	double tc = now_s();
	for (uint64_t i = 0; i < steps; i++)
		x = arr[x];
	double ns = (now_s() - tc) / (double)steps * 1e9;
	munmap(arr, bytes);
	*sink += x;
	return ns;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	uint64_t lookups = 20000000, sample = 1000000, hot_n = 50000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--lookups") == 0 && i + 1 < argc)
			lookups = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--hot") == 0 && i + 1 < argc)
			hot_n = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc)
			sample = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_map [--dir ATHENA_DIR] [--lookups N] [--sample K] [--hot H]\n");
			return 2;
		}
	}
	log_set_level(LOG_INFO);
	struct err e = { 0 };
	struct map_index *ix = NULL;
	long rss0 = peak_rss_mib();
	double t0 = now_s();
	if (dir) {
		char md[4096];
		snprintf(md, sizeof md, "%s/mappings", path_share_dir());
		if (map_index_load_dir(&ix, dir, md, &e) < 0) {
			fprintf(stderr, "bench_map: %s\n", e.msg);
			return 1;
		}
	} else {
		struct conf c;
		struct conf_flags fl = { 0 };
		PGconn *conn;
		if (conf_load(&c, &fl, &e) < 0 || db_connect(&c, &conn, &e) < 0) {
			fprintf(stderr, "bench_map: %s\n", e.msg);
			return 1;
		}
		if (map_index_build(&ix, conn, &c, &e) < 0) {
			fprintf(stderr, "bench_map: %s\n", e.msg);
			return 1;
		}
		db_close(conn);
		conf_free(&c);
	}
	double tb = now_s() - t0;
	printf("index build: %u concepts, %u edges, %u site map rows in %.2f s (%s); peak RSS %ld MiB (%ld MiB before)\n",
	       ix->nrec, ix->nedge, ix->nstcm, tb, dir ? "from files" : "from PostgreSQL", peak_rss_mib(), rss0);
	if (!ix->nrec)
		return 1;

	/* three mixes: uniform over every concept (the worst case: nearly every lookup
	 * misses the caches) and two feed-like ones: a hot set of H concepts drawn
	 * with Zipf(1) weights, as a site's codes repeat (H = 50,000: every code a
	 * site uses; H = 1,000: one feed, such as a laboratory's results) */
	double chase_ns = 0;
	uint64_t x = 0;
	const uint64_t hots[3] = { 0, hot_n, 1000 };
	for (int mix = getenv("BENCH_FEED_ONLY") ? 1 : 0; mix < 3; mix++) {
	/* each mix draws from its own seed: the same hot set and sample whether
	 * or not the mixes before it ran (Zipf's first concepts take a large share
	 * of the lookups, so which concepts they are matters) */
	rs = 88172645463325252ULL ^ (uint64_t)(mix + 1) * 0x9E3779B97F4A7C15ULL;
	uint64_t hot = hots[mix] < ix->nrec ? hots[mix] : ix->nrec;
	uint32_t *hotset = NULL;
	double *cdf = NULL;
	if (hot) {
		hotset = xmalloc(hot * sizeof *hotset);
		cdf = xmalloc(hot * sizeof *cdf);
		double acc = 0;
		for (uint64_t h = 0; h < hot; h++) {
			do
				hotset[h] = (uint32_t)(rnd() % ix->rslots);
			while (!ix->recs[hotset[h]].code_len);
			acc += 1.0 / (double)(h + 1);
			cdf[h] = acc;
		}
		for (uint64_t h = 0; h < hot; h++)
			cdf[h] /= acc;
	}
	/* the sample */
	struct arena sa;
	arena_init(&sa, 1 << 20);
	struct code *codes = xcalloc(sample, sizeof *codes);
	char (*miss)[16] = xcalloc(sample / 10 + 1, 16);
	int *vid = xcalloc(sample, sizeof *vid);
	uint64_t nmiss = 0;
	for (uint64_t i = 0; i < sample; i++) {
		if (i % 10 == 9) {
			snprintf(miss[nmiss], 16, "Z%llu", (unsigned long long)(rnd() % (hot ? 1000 : 100000000)));
			codes[i].system = span_of("SNOMED");
			codes[i].code = span_of(miss[nmiss++]);
			vid[i] = -1;
			continue;
		}
		uint64_t ri;
		do
			ri = rnd() % ix->rslots;
		while (!ix->recs[ri].code_len);
		if (hot) {
			double u = (double)(rnd() >> 11) / 9007199254740992.0;
			uint64_t lo = 0, hi = hot - 1;
			while (lo < hi) {
				uint64_t mid = (lo + hi) / 2;
				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			ri = hotset[lo];
		}
		const struct map_rec *r = &ix->recs[ri];
		/* the code is copied into a sequential buffer, as it sits in a feed's input */
		char nb[24];
		struct span rc = map_rec_code(ix, r, nb);
		char *cp = arena_strndup(&sa, rc.p, rc.n);
		codes[i].system = span_make(ix->vocabs.key[r->vocab], ix->vocabs.klen[r->vocab]);
		codes[i].code = span_make(cp, rc.n);
		vid[i] = r->vocab;
	}

	if (mix == 0) {
		chase_ns = chase(1024u << 20, &x);
		printf("memory: one dependent random read costs %.0f ns within 256 KiB, %.0f ns within 4 MiB, "
		       "%.0f ns within 1 GiB\n", chase(256u << 10, &x), chase(4u << 20, &x), chase_ns);
	}

	/* ceiling 2: the bare probe, codes already normalised */
	uint64_t hits = 0;
	double tp = now_s();
	for (uint64_t i = 0; i < lookups; i++) {
		uint64_t k = i % sample;
		if (vid[k] >= 0)
			hits += map_index_find(ix, vid[k], codes[k].code.p, codes[k].code.n, INT32_MIN) >= 0;
	}
	double probe_s = now_s() - tp;

	/* map_code, one core */
	struct map_stats *st = map_stats_new();
	struct map_result res;
	uint64_t mapped = 0, sum = 0;
	double tl = now_s();
	for (uint64_t i = 0; i < lookups; i++) {
		map_code(ix, st, "bench", &codes[i % sample], INT32_MIN, &res);
		mapped += res.status == MAP_MAPPED;
		sum += (uint64_t)res.t[0].concept_id;
	}
	double ls = now_s() - tl;
	printf("lookups, %s: %llu map_code() calls on one core in %.2f s: %.2f M/s (%.0f ns each); %.1f%% mapped "
	       "(sample of %llu codes, 10%% absent)\n", mix ? "feed-like (Zipf over a hot set)" : "uniform over all concepts",
	       (unsigned long long)lookups, ls, (double)lookups / ls / 1e6, ls / (double)lookups * 1e9,
	       100.0 * (double)mapped / (double)lookups, (unsigned long long)sample);
	if (hot)
		printf("  hot set: %llu concepts\n", (unsigned long long)hot);
	printf("ceiling: bare hash probe %.2f M/s (%.0f ns); one dependent random read from 1 GiB %.0f ns (%.1f M/s); "
	       "map_code = %.1f random reads\n",
	       (double)(lookups - lookups / 10) / probe_s / 1e6, probe_s / (double)(lookups - lookups / 10) * 1e9, chase_ns,
	       1e3 / chase_ns, ls / (double)lookups * 1e9 / chase_ns);
	printf("  (checksum %llu %llu %llu)\n", (unsigned long long)sum, (unsigned long long)hits, (unsigned long long)x);
	map_stats_free(st);
	free(hotset);
	free(cdf);
	free(codes);
	free(miss);
	free(vid);
	arena_free(&sa);
	}
	printf("peak RSS %ld MiB (includes the 1 GiB array of the read ceiling)\n", peak_rss_mib());
	map_index_free(ix);
	return 0;
}
