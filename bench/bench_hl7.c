/*
 * bench_hl7.c - HL7 v2 extraction throughput against a memchr scan.
 *
 *   bench_hl7 FILE [PROFILE]
 *
 * Reads FILE three times per round, in one process, from the page cache:
 *   1. the ceiling: read() in 1 MiB blocks + memchr for every CR (each
 *      segment end found, nothing else done);
 *   2. the tokenizer alone: frames, delimiters, every field of every segment
 *      split (hl7_tok.h), no records;
 *   3. omopipe: extract_hl7v2 (tokenize, unescape, parse dates and numbers,
 *      build every record) into a sink that only counts;
 * and prints MB/s and messages/s of each, the best of 3 rounds, and the ratio;
 * then the ratios of the median round (the machine is shared: the best round
 * is the least disturbed one, the median the typical one).
 * Generate the input with hl7_gen (bench/hl7_gen.c). BENCH_ONLY_EXTRACT=1
 * runs only the third (for profiling the extractor; ratios then meaningless).
 */
#include "etl/extract/extract.h"
#include "etl/extract/hl7_tok.h"
#include "core/date.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static double median3(double *v)
{
	qsort(v, 3, sizeof *v, cmp_d);
	return v[1];
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* read + memchr('\r'): the segment ends a scanner must find */
static double scan(const char *path, size_t *bytes, size_t *segs)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	double t0 = now();
	ssize_t k;
	*bytes = *segs = 0;
	while ((k = read(fd, buf, sizeof buf)) > 0) {
		const char *p = buf, *end = buf + k;
		while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
			(*segs)++;
			p++;
		}
		*bytes += (size_t)k;
	}
	double t = now() - t0;
	close(fd);
	return t;
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
	double t0 = now();
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
	return now() - t0;
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
	double best_scan = 1e9, best_x = 1e9, best_tok = 1e9, ts[3], tt[3], tx[3];
	unsigned long fields = 0;
	size_t bytes = 0, segs = 0;
	struct count_sink cs;
	int only_x = getenv("BENCH_ONLY_EXTRACT") != NULL; /* for profiling the extractor */
	for (int round = 0; round < 3; round++) {
		double t = only_x ? 1 : scan(path, &bytes, &segs);
		ts[round] = t;
		if (t < best_scan)
			best_scan = t;
		t = only_x ? 1 : tokenize(path, &fields);
		tt[round] = t;
		if (t < best_tok)
			best_tok = t;
		memset(&cs, 0, sizeof cs);
		cs.base.ops = &count_ops;
		double t0 = now();
		if (extract_hl7v2.run(x, path, &cs.base, &e) < 0) {
			fprintf(stderr, "bench_hl7: %s\n", e.msg);
			return 1;
		}
		t = now() - t0;
		tx[round] = t;
		if (t < best_x)
			best_x = t;
	}
	double med_scan = median3(ts), med_tok = median3(tt), med_x = median3(tx);
	double mb = (double)bytes / 1e6;
	printf("input            %.1f MB, %lu messages, %zu segments\n", mb, cs.msgs, segs);
	printf("memchr scan      %8.1f MB/s  %10.0f msgs/s   (read + memchr for CR)\n", mb / best_scan, cs.msgs / best_scan);
	printf("hl7_tok only     %8.1f MB/s  %10.0f msgs/s   (%lu fields split)  ratio %.3f\n", mb / best_tok, cs.msgs / best_tok, fields, best_scan / best_tok);
	printf("omopipe hl7v2    %8.1f MB/s  %10.0f msgs/s   (%lu loaded, %lu quarantined, %lu skipped, %lu records)\n",
	       mb / best_x, cs.msgs / best_x, cs.loaded, cs.quarantined, cs.skipped, cs.records);
	printf("ratio            %8.3f of the memchr scan (target >= 0.25)\n", best_scan / best_x);
	printf("median round     memchr %.1f MB/s, hl7_tok %.1f MB/s (ratio %.3f), omopipe %.1f MB/s (ratio %.3f)\n",
	       mb / med_scan, mb / med_tok, med_scan / med_tok, mb / med_x, med_scan / med_x);
	extract_hl7v2.close(x);
	return cs.quarantined || cs.skipped ? 1 : 0;
}
