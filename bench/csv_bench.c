/*
 * csv_bench.c - CSV extractor throughput against the memory-bandwidth ceiling.
 *
 *   usage: bench_csv [--size MB] [--dir DIR] [--reps N] [--keep] [--only memchr|tokenize|extract]
 *
 * Writes (once, reused while its size fits) DIR/observations.csv, a
 * Synthea-observations-like file of at least MB megabytes (default 1100;
 * DIR default /tmp/omopipe-bench-csv): 1,000 patients, 20 encounters each,
 * 30 LOINC codes, 60% numeric values, 1% quoted descriptions. Then, in the
 * same run, N times each (median reported):
 *   memchr    read() in 1 MiB chunks + memchr for every line end, from the
 *             file and from a copy in memory (read() at its fastest, whatever
 *             the file's page cache is made of: scan.h); the faster is the
 *             ceiling (the copy costs as much memory again as the file)
 *   tokenize  core/csvtok.h: records and fields, nothing else
 *   extract   extract_csv with the shipped 'synthea' profile: tokenize, check
 *             column count and UTF-8, build one measurement record per row
 *             (dates, numbers, key join) into a counting sink
 * and prints MB/s for each and the ratio to memchr, as the median and as the
 * best of the runs (the machine is shared: the best run is the least
 * disturbed one). The file is removed at the end unless --keep. --only runs one pass (for profiling with perf).
 */
#include "core/csvtok.h"
#include "core/err.h"
#include "etl/extract/extract.h"
#include "scan.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the input ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void uuid(char *o, uint64_t a, uint64_t b)
{
	sprintf(o, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
	        (unsigned)a & 0xffff, (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffull));
}

static const struct { const char *code, *desc, *unit, *cat; int text; } obs[] = {
	{ "8302-2", "Body Height", "cm", "vital-signs", 0 },
	{ "29463-7", "Body Weight", "kg", "vital-signs", 0 },
	{ "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs", 0 },
	{ "8462-4", "Diastolic Blood Pressure", "mm[Hg]", "vital-signs", 0 },
	{ "8480-6", "Systolic Blood Pressure", "mm[Hg]", "vital-signs", 0 },
	{ "8867-4", "Heart rate", "/min", "vital-signs", 0 },
	{ "9279-1", "Respiratory rate", "/min", "vital-signs", 0 },
	{ "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", "vital-signs", 0 },
	{ "2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "laboratory", 0 },
	{ "6299-2", "Urea nitrogen [Mass/volume] in Blood", "mg/dL", "laboratory", 0 },
	{ "38483-4", "Creatinine [Mass/volume] in Blood", "mg/dL", "laboratory", 0 },
	{ "49765-1", "Calcium [Mass/volume] in Blood", "mg/dL", "laboratory", 0 },
	{ "2947-0", "Sodium [Moles/volume] in Blood", "mmol/L", "laboratory", 0 },
	{ "6298-4", "Potassium [Moles/volume] in Blood", "mmol/L", "laboratory", 0 },
	{ "2069-3", "Chloride [Moles/volume] in Blood", "mmol/L", "laboratory", 0 },
	{ "20565-8", "Carbon dioxide  total [Moles/volume] in Blood", "mmol/L", "laboratory", 0 },
	{ "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "laboratory", 0 },
	{ "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory", 0 },
	{ "72166-2", "Tobacco smoking status", "", "survey", 1 },
	{ "76690-7", "Sexual orientation", "", "social-history", 1 },
	{ "71802-3", "Housing status", "", "survey", 1 },
	{ "93025-5", "Protocol for Responding to and Assessing Patients' Assets  Risks  and Experiences [PRAPARE]", "", "survey", 1 },
	{ "63586-2", "Total annual income", "", "survey", 1 },
	{ "56051-6", "Do you consider yourself Hispanic/Latino?", "", "survey", 1 },
	{ "32624-9", "Do you feel physically and emotionally safe where you currently live?", "", "survey", 1 },
	{ "93038-8", "Stress level", "", "survey", 1 },
	{ "69737-5", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]", "{score}", "survey", 0 },
	{ "55758-7", "Patient Health Questionnaire-2 (PHQ-2) [Score]", "{score}", "survey", 0 },
	{ "89204-2", "Patient-reported outcome measure [PROMIS]", "{score}", "survey", 0 },
	{ "QALY", "Quality adjusted life years", "a", "", 0 },
};
static const char *const texts[] = {
	"Never smoker", "Heterosexual (qualifier value)", "Not at all", "I have housing",
	"Less than high school degree", "Yes", "No", "Former smoker",
};

/* Write path with at least mb megabytes. */
static int generate(const char *path, size_t mb)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "bench_csv: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fputs("DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n", f);
	uint64_t target = (uint64_t)mb << 20, written = 0;
	char pat[40], enc[40], line[512];
	const size_t nobs = sizeof obs / sizeof *obs;
	for (uint64_t p = 0; written < target; p++) {
		uuid(pat, next_rand(), next_rand());
		for (int e = 0; e < 20 && written < target; e++) {
			uuid(enc, next_rand(), next_rand());
			int y = 1990 + (int)(next_rand() % 34), mo = 1 + (int)(next_rand() % 12), d = 1 + (int)(next_rand() % 28);
			int hh = (int)(next_rand() % 24), mi = (int)(next_rand() % 60), ss = (int)(next_rand() % 60);
			for (int k = 0; k < 25; k++) {
				size_t o = next_rand() % nobs;
				char val[64];
				if (obs[o].text)
					snprintf(val, sizeof val, "%s", texts[next_rand() % (sizeof texts / sizeof *texts)]);
				else
					snprintf(val, sizeof val, "%llu.%llu", (unsigned long long)(next_rand() % 300),
					         (unsigned long long)(next_rand() % 10));
				int quoted = next_rand() % 100 == 0;
				int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02dZ,%s,%s,%s,%s,%s%s%s,%s,%s,%s\n",
				                 y, mo, d, hh, mi, ss, pat, enc, obs[o].cat, obs[o].code,
				                 quoted ? "\"" : "", obs[o].desc, quoted ? ", as reported\"" : "",
				                 val, obs[o].unit, obs[o].text ? "text" : "numeric");
				fwrite(line, 1, (size_t)n, f);
				written += (uint64_t)n;
			}
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_csv: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

/* ---- the three passes ---- */

static double pass_tokenize(const char *path, uint64_t *records)
{
	struct csvtok t;
	struct err e = { 0 };
	uint64_t n = 0, fields = 0;
	double t0 = scan_now();
	if (csvtok_open(&t, path, ',', '"', 1 << 20, &e) < 0) {
		fprintf(stderr, "bench_csv: %s\n", e.msg);
		exit(1);
	}
	int rc;
	while ((rc = csvtok_next(&t, &e)) != 0) {
		if (rc < 0 && !err_is_soft(-rc)) {
			fprintf(stderr, "bench_csv: %s\n", e.msg);
			exit(1);
		}
		n++;
		fields += t.nf;
	}
	csvtok_close(&t);
	double tt = scan_now() - t0;
	*records = n + (fields == 0);
	return tt;
}

struct count_sink {
	struct sink base;
	uint64_t begun, emitted, loaded, quarantined, skipped;
	double sum;
};

static void c_begin(struct sink *s, const struct err_pos *pos, struct span raw)
{
	(void)pos;
	(void)raw;
	((struct count_sink *)s)->begun++;
}
static int c_emit(struct sink *s, const struct record *r, struct err *e)
{
	(void)e;
	struct count_sink *c = (struct count_sink *)s;
	c->emitted++;
	/* touch what a loader would read, so nothing is optimised away */
	c->sum += r->u.event.value.num * (r->u.event.value.kind == VAL_NUM) + (double)r->u.event.start.day +
	          (double)r->u.event.key.n;
	return 0;
}
static int c_end(struct sink *s, struct err *e)
{
	(void)e;
	((struct count_sink *)s)->loaded++;
	return 0;
}
static int c_quarantine(struct sink *s, const struct err *why, struct err *e)
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
	(void)s;
	(void)what;
}
static const struct sink_ops c_ops = { c_begin, c_emit, c_end, c_quarantine, c_skip, c_note, NULL, NULL };

static double pass_extract(const char *path, struct count_sink *cs)
{
	const struct extract_ops *op = extract_find("csv");
	struct extractor *x;
	struct err e = { 0 };
	memset(cs, 0, sizeof *cs);
	cs->base.ops = &c_ops;
	double t0 = scan_now();
	if (op->open(&x, "synthea", NULL, &e) < 0 || op->run(x, path, &cs->base, &e) < 0) {
		fprintf(stderr, "bench_csv: %s\n", e.msg);
		exit(1);
	}
	op->close(x);
	return scan_now() - t0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	size_t mb = 1100;
	int reps = 3, keep = 0;
	const char *only = NULL;
	const char *dir = "/tmp/omopipe-bench-csv";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			mb = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench_csv [--size MB] [--dir DIR] [--reps N] [--keep] [--only memchr|tokenize|extract]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 15)
		reps = 3;
	char path[4096];
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/observations.csv", dir);
	struct stat st;
	if (stat(path, &st) != 0 || (uint64_t)st.st_size < ((uint64_t)mb << 20) ||
	    (uint64_t)st.st_size > ((uint64_t)mb << 20) + (1u << 20)) {
		fprintf(stderr, "bench_csv: writing %zu MB to %s ...\n", mb, path);
		if (generate(path, mb) < 0)
			return 1;
		stat(path, &st);
	}
	double size_mb = (double)st.st_size / 1e6;
	uint64_t lines = 0, recs = 0;
	if (only) {
		struct count_sink c1;
		uint64_t bytes;
		double t1 = !strcmp(only, "memchr") ? scan_file(path, '\n', &bytes, &lines)
		          : !strcmp(only, "tokenize") ? pass_tokenize(path, &recs) : pass_extract(path, &c1);
		printf("%s %8.0f MB/s\n", only, size_mb / t1);
		return 0;
	}
	struct scan_mem mem;
	scan_mem_load(&mem, path); /* and into the page cache */
	double tf[15], tmem[15], tm[15], tt[15], tx[15];
	struct count_sink cs;
	uint64_t bytes;
	for (int r = 0; r < reps; r++) {
		tm[r] = scan_both(path, &mem, '\n', &tf[r], &tmem[r], &bytes, &lines);
		tt[r] = pass_tokenize(path, &recs);
		tx[r] = pass_extract(path, &cs);
	}
	scan_mem_free(&mem);
	double f = median(tf, reps), fm = median(tmem, reps);
	double m = median(tm, reps), t = median(tt, reps), x = median(tx, reps);
	/* median() sorted the arrays: [0] is the best run */
	double bf = tf[0], bfm = tmem[0], bm = tm[0], bt = tt[0], bx = tx[0];
	printf("file      %s: %.0f MB, %llu lines\n", path, size_mb, (unsigned long long)lines);
	printf("                 median             best of %d\n", reps);
	printf("memchr    %8.0f MB/s           %8.0f MB/s            (read + memchr scan of the file)\n",
	       size_mb / f, size_mb / bf);
	printf("  memory  %8.0f MB/s           %8.0f MB/s            (the same from memory: read() at its fastest)\n",
	       size_mb / fm, size_mb / bfm);
	printf("ceiling   %8.0f MB/s           %8.0f MB/s            (the faster of the two in each run)\n",
	       size_mb / m, size_mb / bm);
	printf("tokenize  %8.0f MB/s %.2f      %8.0f MB/s %.2f       (%llu records)\n", size_mb / t, m / t,
	       size_mb / bt, bm / bt, (unsigned long long)recs);
	printf("extract   %8.0f MB/s %.2f      %8.0f MB/s %.2f       (%llu rows/s)\n", size_mb / x, m / x,
	       size_mb / bx, bm / bx, (unsigned long long)((double)cs.begun / x));
	printf("extract: %llu rows: %llu loaded, %llu quarantined, %llu skipped; %llu records\n",
	       (unsigned long long)cs.begun, (unsigned long long)cs.loaded, (unsigned long long)cs.quarantined,
	       (unsigned long long)cs.skipped, (unsigned long long)cs.emitted);
	printf("(ratios: of the ceiling in the same column; each run does the passes in turn)\n");
	if (cs.begun + 1 != lines || cs.quarantined) {
		fprintf(stderr, "bench_csv: rows do not add up (%llu rows for %llu lines, %llu quarantined)\n",
		        (unsigned long long)cs.begun, (unsigned long long)lines, (unsigned long long)cs.quarantined);
		return 1;
	}
	if (!keep)
		unlink(path);
	return 0;
}
