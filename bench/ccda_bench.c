/*
 * ccda_bench.c - C-CDA extraction throughput against libxml2 parsing the
 * same bytes, in the same run.
 *
 *   bench_ccda [--rounds N] [--big MB] DIR|FILE...
 *
 * The documents (*.xml under each DIR, or the FILEs) are read into memory
 * once; then, per round, over all of them:
 *   1. reader: libxml2's own xmlTextReader walk (one reader reset per
 *      document, every node visited, nothing done): the streaming ceiling;
 *   2. DOM: xmlReadMemory + xmlFreeDoc of each document;
 *   3. omopipe: extract_ccda over each file (read from the page cache,
 *      every record built) into a sink that only counts.
 * All three use the extractor's parser options. Prints MB/s, documents/s
 * and records/s of each (CPU time of the process, so that other jobs on the
 * machine do not count), the best of N rounds (default 3), and the ratios.
 *
 * --big MB also builds one document of about MB megabytes from the first
 * one (its structuredBody repeated) and measures the three on it alone: the
 * "one 5 MB C-CDA" figure of PERF.md.
 *
 * Generate a corpus with `omopipe generate --patients 2000 --sites 1
 * --only ccda/vendor-a --out DIR` (see bench/ccda_bench.sh).
 */
#include "etl/extract/extract.h"
#include "core/date.h"
#include "core/mem.h"

#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_COMPACT |
                        XML_PARSE_BIG_LINES | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

struct doc {
	char *path;
	char *p;
	size_t n;
};

static struct doc *docs;
static size_t ndocs, capdocs;

static void add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench_ccda: cannot read %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = xmalloc((size_t)sz + 1);
	size_t n = fread(p, 1, (size_t)sz, f);
	fclose(f);
	if (ndocs == capdocs) {
		capdocs = capdocs ? capdocs * 2 : 1024;
		docs = xrealloc(docs, mem_mul(capdocs, sizeof *docs));
	}
	docs[ndocs++] = (struct doc){ xstrdup(path), p, n };
}

static void add_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "bench_ccda: no such file or folder: %s\n", path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		size_t l = strlen(de->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			add_path(p);
		else if (l > 4 && strcmp(de->d_name + l - 4, ".xml") == 0)
			add_file(p);
	}
	if (d)
		closedir(d);
}

/* Process CPU time (user + system): on a machine shared with other jobs, wall
 * time measures them too; the three measurements are single-threaded. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- a sink that counts --- */

struct count_sink {
	struct sink base;
	unsigned long docs, loaded, quarantined, skipped, records;
};
static void c_begin(struct sink *s, const struct err_pos *p, struct span raw) { (void)p; (void)raw; ((struct count_sink *)s)->docs++; }
static int c_emit(struct sink *s, const struct record *r, struct err *e) { (void)r; (void)e; ((struct count_sink *)s)->records++; return 0; }
static int c_end(struct sink *s, struct err *e) { (void)e; ((struct count_sink *)s)->loaded++; return 0; }
static int c_quar(struct sink *s, const struct err *w, struct err *e) { (void)w; (void)e; ((struct count_sink *)s)->quarantined++; return 0; }
static int c_skip(struct sink *s, const char *r, struct err *e) { (void)r; (void)e; ((struct count_sink *)s)->skipped++; return 0; }
static void c_note(struct sink *s, const char *w) { (void)s; (void)w; }
static const struct sink_ops count_ops = { c_begin, c_emit, c_end, c_quar, c_skip, c_note, NULL, NULL };

/* --- the three measurements over docs[from, to) --- */

static unsigned long walk_reader(size_t from, size_t to)
{
	xmlTextReaderPtr r = NULL;
	unsigned long nodes = 0;
	for (size_t i = from; i < to; i++) {
		const char *p = docs[i].p;
		size_t n = docs[i].n;
		if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
			p += 3, n -= 3;
		if (!r)
			r = xmlReaderForMemory(p, (int)n, NULL, NULL, opts);
		else
			xmlReaderNewMemory(r, p, (int)n, NULL, NULL, opts);
		while (xmlTextReaderRead(r) == 1)
			nodes++;
	}
	if (r)
		xmlFreeTextReader(r);
	return nodes;
}

static unsigned long parse_dom(size_t from, size_t to)
{
	unsigned long ok = 0;
	for (size_t i = from; i < to; i++) {
		xmlDocPtr d = xmlReadMemory(docs[i].p, (int)docs[i].n, NULL, NULL, opts);
		if (d) {
			ok++;
			xmlFreeDoc(d);
		}
	}
	return ok;
}

static void extract(struct extractor *x, size_t from, size_t to, struct count_sink *s)
{
	struct err e = { 0 };
	for (size_t i = from; i < to; i++)
		if (extract_ccda.run(x, docs[i].path, &s->base, &e) < 0) {
			fprintf(stderr, "bench_ccda: %s: %s\n", docs[i].path, e.msg);
			exit(1);
		}
}

static void measure(const char *what, size_t from, size_t to, int rounds)
{
	size_t bytes = 0;
	for (size_t i = from; i < to; i++)
		bytes += docs[i].n;
	double best[3] = { 1e30, 1e30, 1e30 };
	struct count_sink s;
	struct extractor *x;
	struct err e = { 0 };
	if (extract_ccda.open(&x, NULL, NULL, &e) < 0) {
		fprintf(stderr, "bench_ccda: %s\n", e.msg);
		exit(1);
	}
	for (int r = 0; r < rounds; r++) {
		/* omopipe first: the DOM's large frees leave malloc work behind for whoever runs next */
		memset(&s, 0, sizeof s);
		s.base.ops = &count_ops;
		double t = now();
		extract(x, from, to, &s);
		t = now() - t;
		if (t < best[2])
			best[2] = t;
		t = now();
		walk_reader(from, to);
		t = now() - t;
		if (t < best[0])
			best[0] = t;
		t = now();
		parse_dom(from, to);
		t = now() - t;
		if (t < best[1])
			best[1] = t;
	}
	extract_ccda.close(x);
	double mb = (double)bytes / 1e6, nd = (double)(to - from);
	printf("%s: %zu document(s), %.1f MB; best of %d rounds\n", what, to - from, mb, rounds);
	printf("  libxml2 reader walk     %8.1f MB/s  %9.0f docs/s   (the streaming ceiling)\n", mb / best[0], nd / best[0]);
	printf("  libxml2 DOM parse+free  %8.1f MB/s  %9.0f docs/s\n", mb / best[1], nd / best[1]);
	printf("  omopipe extract_ccda    %8.1f MB/s  %9.0f docs/s  %10.0f records/s  (%lu loaded, %lu quarantined, %lu skipped)\n",
	       mb / best[2], nd / best[2], (double)s.records / best[2], s.loaded, s.quarantined, s.skipped);
	printf("  omopipe / reader walk = %.2f, omopipe / DOM = %.2f\n", best[0] / best[2], best[1] / best[2]);
}

/* One document of about mb megabytes: the first document's structuredBody repeated. */
static void make_big(double mb, const char *path)
{
	const struct doc *d = &docs[0];
	const char *open = strstr(d->p, "<structuredBody>"), *close = strstr(d->p, "</structuredBody>");
	if (!open || !close) {
		fprintf(stderr, "bench_ccda: --big needs a document with a structuredBody first\n");
		exit(2);
	}
	open += strlen("<structuredBody>");
	size_t body = (size_t)(close - open), want = (size_t)(mb * 1e6);
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "bench_ccda: cannot write %s\n", path);
		exit(2);
	}
	fwrite(d->p, 1, (size_t)(open - d->p), f);
	size_t n = (size_t)(open - d->p);
	while (n < want) {
		fwrite(open, 1, body, f);
		n += body;
	}
	fputs(close, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	int rounds = 3;
	double big = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--big") == 0 && i + 1 < argc)
			big = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_ccda [--rounds N] [--big MB] DIR|FILE...\n");
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: bench_ccda [--rounds N] [--big MB] DIR|FILE...\n");
		return 2;
	}
	for (; i < argc; i++)
		add_path(argv[i]);
	if (!ndocs) {
		fprintf(stderr, "bench_ccda: no .xml documents found\n");
		return 2;
	}
	xmlInitParser();
	measure("corpus", 0, ndocs, rounds);
	if (big > 0) {
		char path[64];
		snprintf(path, sizeof path, "/tmp/bench_ccda_big_%d.xml", (int)getpid());
		make_big(big, path);
		size_t at = ndocs;
		add_file(path);
		measure("one big document", at, ndocs, rounds);
		remove(path);
	}
	xmlCleanupParser();
	return 0;
}
