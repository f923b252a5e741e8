/*
 * bench_hl7.c - HL7 v2 extraction throughput against a memchr scan.
 *
 *   bench_hl7 FILE [PROFILE]
 *
 * Reads FILE into memory once (untimed; as much memory again as FILE), then
 * four passes per round, in one process, from the page cache:
 *   1. the ceiling, twice (scan.h): read() in 1 MiB blocks + memchr for
 *      every CR (each segment end found, nothing else done), from the file
 *      and from the copy in memory (read() at its fastest, whatever the
 *      file's page cache is made of); the faster is the ceiling;
 *   2. the tokenizer alone: frames, delimiters, every field of every segment
 *      split (hl7_tok.h), no records;
 *   3. omopipe: extract_hl7v2 (tokenize, unescape, parse dates and numbers,
 *      build every record) from the file into a sink that only counts;
 * and prints MB/s and messages/s of each, the best of 3 rounds, and the ratio
 * to the ceiling (and to the file's own scan); then the ratios of the median
 * round (the machine is shared: the best round is the least disturbed one,
 * the median the typical one). Generate the input with hl7_gen
 * (bench/hl7_gen.c). BENCH_ONLY_EXTRACT=1 runs only the third (for profiling
 * the extractor; ratios then meaningless), BENCH_ONLY_TOKENIZE=1 only the
 * second (for profiling the tokenizer).
 */
#include "etl/extract/extract.h"
#include "etl/extract/hl7_tok.h"
#include "core/date.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct count_sink {
	struct sink base;
	unsigned long msgs, loaded, quarantined, skipped, records, notes;
};

static void c_begin(struct sink *s, const struct err_pos *p, struct span raw)
{
	(void)p;
	(void)raw;
	((struct count_sink *)s)->msgs++;
}
static int c_emit(struct sink *s, const struct record *r, struct err *e)
{
	(void)r;
	(void)e;
	((struct count_sink *)s)->records++;
	return 0;
}
static int c_end(struct sink *s, struct err *e)
{
	(void)e;
	((struct count_sink *)s)->loaded++;
	return 0;
}
static int c_quar(struct sink *s, const struct err *why, struct err *e)
{
	(void)why;
	(void)e;
	((struct count_sink *)s)->quarantined++;
	return 0;
}
static int c_skip(struct sink *s, const char *reason, struct err *e)
{
	(void)reason;
	(void)e;
	((struct count_sink *)s)->skipped++;
	return 0;
}
static void c_note(struct sink *s, const char *what)
{
	(void)what;
	((struct count_sink *)s)->notes++;
}
static const struct sink_ops count_ops = { c_begin, c_emit, c_end, c_quar, c_skip, c_note, NULL, NULL };

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median3(const double *v)
{
	double w[3] = { v[0], v[1], v[2] };
	qsort(w, 3, sizeof *w, cmp_d);
	return w[1];
}

static double min3(const double *v)
{
	double m = v[0] < v[1] ? v[0] : v[1];
	return m < v[2] ? m : v[2];
}

/* hl7_tok alone: every message framed and every field of every segment split */
static double tokenize(const char *path, unsigned long *fields)
{
	struct win w;
	struct hl7_stream st;
	struct hl7_frame f;
	struct hl7_msg m;
	struct arena a;
	struct err e;
	double t0 = scan_now();
	*fields = 0;
	if (win_open(&w, path, 16u << 20, &e) < 0) {
		fprintf(stderr, "bench_hl7: %s\n", e.msg);
		exit(1);
	}
	arena_init(&a, 65536);
	hl7_msg_setup(&m, &a);
	hl7_stream_init(&st, &w);
	while (hl7_stream_next(&st, &f, &e) > 0) {
		if (f.kind != HL7_MSG || hl7_msg_init(&m, &f, &e) < 0)
			continue;
		for (size_t i = 0; i < m.nseg; i++)
			*fields += hl7_nfields(&m, &m.seg[i]);
	}
	hl7_stream_free(&st);
	hl7_msg_free(&m);
	arena_free(&a);
	win_close(&w);
	return scan_now() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_hl7 FILE [PROFILE]\n");
		return 2;
	}
	const char *path = argv[1], *profile = argc > 2 ? argv[2] : NULL;
	struct extractor *x;
	struct err e;
	struct conf_site site;
	memset(&e, 0, sizeof e);
	memset(&site, 0, sizeof site);
	site.id = "bench";
	site.tz = 0;
	if (extract_hl7v2.open(&x, profile, &site, &e) < 0) {
		fprintf(stderr, "bench_hl7: %s\n", e.msg);
		return 1;
	}
	int only_x = getenv("BENCH_ONLY_EXTRACT") != NULL; /* for profiling the extractor */
	if (getenv("BENCH_ONLY_TOKENIZE")) { /* for profiling the tokenizer */
		unsigned long nf;
		for (int round = 0; round < 3; round++)
			tokenize(path, &nf);
		printf("%lu fields split\n", nf);
		extract_hl7v2.close(x);
		return 0;
	}
	struct scan_mem mem = { NULL, 0, 0 };
	if (!only_x)
		scan_mem_load(&mem, path);
	/* per round: the file's scan, the scan from memory, the ceiling (the
	 * faster of the two), the tokenizer, the extraction (seconds) */
	double tf[3], tm[3], tc[3], tt[3], tx[3];
	unsigned long fields = 0;
	uint64_t bytes = 0, segs = 0;
	struct count_sink cs;
	for (int round = 0; round < 3; round++) {
		tf[round] = tm[round] = tc[round] = tt[round] = 1;
		if (!only_x) {
			tc[round] = scan_both(path, &mem, '\r', &tf[round], &tm[round], &bytes, &segs);
			tt[round] = tokenize(path, &fields);
		}
		memset(&cs, 0, sizeof cs);
		cs.base.ops = &count_ops;
		double t0 = scan_now();
		if (extract_hl7v2.run(x, path, &cs.base, &e) < 0) {
			fprintf(stderr, "bench_hl7: %s\n", e.msg);
			return 1;
		}
		tx[round] = scan_now() - t0;
	}
	scan_mem_free(&mem);
	/* best (least disturbed) and median round of each */
	double bf = min3(tf), bm = min3(tm), bc = min3(tc), bt = min3(tt), bx = min3(tx);
	double mc = median3(tc), mt = median3(tt), mx = median3(tx);
	double mb = (double)bytes / 1e6;
	printf("input            %.1f MB, %lu messages, %llu segments\n", mb, cs.msgs, (unsigned long long)segs);
	printf("memchr, file     %8.1f MB/s  %10.0f msgs/s   (read + memchr for CR)\n", mb / bf, cs.msgs / bf);
	printf("memchr, memory   %8.1f MB/s  %10.0f msgs/s   (the same from memory: read() at its fastest)\n", mb / bm,
	       cs.msgs / bm);
	printf("hl7_tok only     %8.1f MB/s  %10.0f msgs/s   (%lu fields split)  ratio %.3f\n", mb / bt, cs.msgs / bt,
	       fields, bc / bt);
	printf("omopipe hl7v2    %8.1f MB/s  %10.0f msgs/s   (%lu loaded, %lu quarantined, %lu skipped, %lu records)\n",
	       mb / bx, cs.msgs / bx, cs.loaded, cs.quarantined, cs.skipped, cs.records);
	printf("ratio            %8.3f of the faster memchr scan (target >= 0.25); %.3f of the file's\n", bc / bx,
	       bf / bx);
	printf("median round     ceiling %.1f MB/s, hl7_tok %.1f MB/s (ratio %.3f), omopipe %.1f MB/s (ratio %.3f)\n",
	       mb / mc, mb / mt, mc / mt, mb / mx, mc / mx);
	extract_hl7v2.close(x);
	return cs.quarantined || cs.skipped ? 1 : 0;
}
