/*
 * vocab_gen.c - a synthetic OMOP vocabulary in the Athena download format, for
 * the vocabulary load and mapper benchmarks.
 *
 *   vocab_gen -n CONCEPTS -m RELATIONSHIPS -o DIR [-s SEED]
 *
 * Writes DIR/CONCEPT.csv and DIR/CONCEPT_RELATIONSHIP.csv: tab separated,
 * unquoted (a literal quote character in some names), dates YYYYMMDD, empty
 * field = NULL, as Athena ships them. The mix resembles a full download:
 * SNOMED, RxNorm / RxNorm Extension, NDC, LOINC, ICD-10-CM, ICD-9-CM, CPT4,
 * HCPCS and 20 other vocabularies; about half the concepts standard; 3%
 * updated ('U', with 'Concept replaced by') and 2% deprecated ('D').
 * Relationships: every non-standard concept 'Maps to' one standard concept
 * (10% two, 3% also 'Maps to value') with the reverse 'Mapped from'; standard
 * concepts 'Maps to' themselves; replacements with 'Concept replaces'; the
 * rest 'Is a' / 'Subsumes' pairs up to M rows. Codes are unique per
 * vocabulary and derived from a per-vocabulary counter, so the same (N, seed)
 * always gives the same files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

struct voc {
	const char *name, *domain, *cls;
	int weight;      /* per mille */
	int std_pct;     /* % standard */
	uint64_t counter;
};

static struct voc vocs[] = {
	{ "SNOMED", "Condition", "Clinical Finding", 330, 70, 0 },
	{ "RxNorm", "Drug", "Clinical Drug", 80, 100, 0 },
	{ "RxNorm Extension", "Drug", "Clinical Drug", 170, 100, 0 },
	{ "NDC", "Drug", "11-digit NDC", 120, 0, 0 },
	{ "LOINC", "Measurement", "Lab Test", 80, 95, 0 },
	{ "ICD10CM", "Condition", "5-char billing code", 20, 0, 0 },
	{ "ICD9CM", "Condition", "5-dig billing code", 10, 0, 0 },
	{ "CPT4", "Procedure", "CPT4", 10, 100, 0 },
	{ "HCPCS", "Procedure", "HCPCS", 10, 100, 0 },
	{ "Other", "Observation", "Other", 170, 50, 0 }, /* split over 20 vocabularies */
};
#define NVOC (sizeof vocs / sizeof *vocs)

/* Write a decimal number; returns the new end. */
static char *put_u(char *p, uint64_t v)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

/* The code of the k-th concept of vocabulary v. */
static char *put_code(char *p, size_t v, uint64_t k, int other)
{
	switch (v) {
	case 0: return put_u(p, 100000 + k * 7);                          /* SNOMED */
	case 1: return put_u(p, 1000 + k);                                /* RxNorm */
	case 2: p = put_s(p, "OMOP"); return put_u(p, 100000 + k);       /* RxNorm Extension */
	case 3: { char b[32]; snprintf(b, sizeof b, "%011llu", (unsigned long long)(k * 13 + 7)); return put_s(p, b); }
	case 4: p = put_u(p, 10000 + k); *p++ = '-'; return put_u(p, k % 10); /* LOINC */
	case 5: { char b[32]; snprintf(b, sizeof b, "%c%02u.%04u", 'A' + (int)((k / 1000000) % 26), (unsigned)((k / 10000) % 100), (unsigned)(k % 10000)); return put_s(p, b); }
	case 6: { char b[32]; snprintf(b, sizeof b, "%03u.%02u", (unsigned)((k / 100) % 1000), (unsigned)(k % 100)); if (k >= 100000) snprintf(b, sizeof b, "V%llu", (unsigned long long)k); return put_s(p, b); }
	case 7: { char b[32]; snprintf(b, sizeof b, "%05llu", (unsigned long long)(k % 100000)); if (k >= 100000) snprintf(b, sizeof b, "%llu", (unsigned long long)k); return put_s(p, b); }
	case 8: { char b[32]; snprintf(b, sizeof b, "%c%04u", 'A' + (int)((k / 10000) % 26), (unsigned)(k % 10000)); if (k >= 260000) snprintf(b, sizeof b, "Z%llu", (unsigned long long)k); return put_s(p, b); }
	default: p = put_s(p, "X"); p = put_u(p, (uint64_t)other); *p++ = '-'; return put_u(p, k);
	}
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000, m = 5000000;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			m = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			rng_state ^= strtoull(argv[++i], NULL, 10) * 0x2545F4914F6CDD1DULL;
		else {
			fprintf(stderr, "usage: vocab_gen -n CONCEPTS -m RELATIONSHIPS -o DIR [-s SEED]\n");
			return 2;
		}
	}
	if (!dir || n < 10) {
		fprintf(stderr, "usage: vocab_gen -n CONCEPTS -m RELATIONSHIPS -o DIR [-s SEED]\n");
		return 2;
	}
	mkdir(dir, 0755);
	char path[4096];
	snprintf(path, sizeof path, "%s/CONCEPT.csv", dir);
	FILE *fc = fopen(path, "w");
	snprintf(path, sizeof path, "%s/CONCEPT_RELATIONSHIP.csv", dir);
	FILE *fr = fopen(path, "w");
	if (!fc || !fr) {
		perror(dir);
		return 1;
	}
	static char cbuf[1 << 20], rbuf[1 << 20];
	setvbuf(fc, cbuf, _IOFBF, sizeof cbuf);
	setvbuf(fr, rbuf, _IOFBF, sizeof rbuf);
	fputs("concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\tconcept_code\t"
	      "valid_start_date\tvalid_end_date\tinvalid_reason\n", fc);
	fputs("concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason\n", fr);

	/* pass 1: concepts; remember per concept: flags (standard, invalid, vocab) */
	uint8_t *fl = malloc(n);
	uint32_t *std = malloc(n * sizeof *std);
	uint64_t nstd = 0;
	if (!fl || !std)
		return 1;
	char line[512];
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rnd();
		int w = (int)(r % 1000);
		size_t v = 0;
		for (int acc = 0; v < NVOC; v++) {
			acc += vocs[v].weight;
			if (w < acc)
				break;
		}
		if (v == NVOC)
			v = NVOC - 1;
		int s = (int)((r >> 10) % 100) < vocs[v].std_pct;
		int inv = (int)((r >> 20) % 100);
		char ir = inv < 3 ? 'U' : inv < 5 ? 'D' : 0;
		if (ir)
			s = 0; /* invalid concepts are never standard */
		uint64_t k = vocs[v].counter++;
		int other = (int)((r >> 30) % 20);
		uint64_t id = i * 2 + 1;
		char *p = line;
		p = put_u(p, id);
		*p++ = '\t';
		p = put_s(p, "Generated ");
		p = put_s(p, vocs[v].cls);
		p = put_s(p, (r >> 40) % 50 == 0 ? " \"quoted\" concept " : " concept number ");
		p = put_u(p, i);
		p = put_s(p, " of a synthetic vocabulary");
		*p++ = '\t';
		p = put_s(p, vocs[v].domain);
		*p++ = '\t';
		if (v == NVOC - 1) {
			p = put_s(p, "Vocab");
			p = put_u(p, (uint64_t)other);
		} else
			p = put_s(p, vocs[v].name);
		*p++ = '\t';
		p = put_s(p, vocs[v].cls);
		*p++ = '\t';
		if (s)
			*p++ = 'S';
		*p++ = '\t';
		/* codes of the 20 other vocabularies: one counter, unique anyway */
		p = put_code(p, v, k, other);
		*p++ = '\t';
		p = put_s(p, "19700101\t");
		p = put_s(p, ir ? "20180131\t" : "20991231\t");
		if (ir)
			*p++ = ir;
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), fc);
		fl[i] = (uint8_t)((s ? 1 : 0) | (ir == 'U' ? 2 : 0) | (ir == 'D' ? 4 : 0));
		if (s)
			std[nstd++] = (uint32_t)i;
	}
	if (!nstd)
		return 1;

	/* pass 2: relationships */
	uint64_t rows = 0;
#define REL(a, b, name)                                                                   \
	do {                                                                                  \
		char *q = line;                                                                   \
		q = put_u(q, (uint64_t)(a) * 2 + 1);                                              \
		*q++ = '\t';                                                                      \
		q = put_u(q, (uint64_t)(b) * 2 + 1);                                              \
		*q++ = '\t';                                                                      \
		q = put_s(q, name "\t19700101\t20991231\t\n");                                    \
		fwrite(line, 1, (size_t)(q - line), fr);                                          \
		rows++;                                                                           \
	} while (0)
	for (uint64_t i = 0; i < n && rows + 4 <= m; i++) {
		uint64_t r = rnd();
		if (fl[i] & 1) {
			REL(i, i, "Maps to");
			REL(i, i, "Mapped from");
			continue;
		}
		uint64_t t = std[r % nstd];
		if (fl[i] & 2) {
			/* updated: replaced by a standard concept, no mapping of its own in 2 of 3 */
			REL(i, t, "Concept replaced by");
			REL(t, i, "Concept replaces");
			if ((r >> 20) % 3 == 0) {
				uint64_t t2 = std[(r >> 24) % nstd];
				REL(i, t2, "Maps to");
				REL(t2, i, "Mapped from");
			}
			continue;
		}
		if (fl[i] & 4)
			continue; /* deprecated without a successor */
		REL(i, t, "Maps to");
		REL(t, i, "Mapped from");
		if ((r >> 32) % 10 == 0 && rows + 2 <= m) {
			uint64_t t2 = std[(r >> 36) % nstd];
			REL(i, t2, "Maps to");
			REL(t2, i, "Mapped from");
		}
		if ((r >> 44) % 33 == 0 && rows + 2 <= m) {
			uint64_t t3 = std[(r >> 48) % nstd];
			REL(i, t3, "Maps to value");
			REL(t3, i, "Value mapped from");
		}
	}
	while (rows + 2 <= m) {
		uint64_t r = rnd();
		uint64_t a = std[r % nstd], b = std[(r >> 32) % nstd];
		REL(a, b, "Is a");
		REL(b, a, "Subsumes");
	}
	if (fclose(fc) != 0 || fclose(fr) != 0) {
		perror(dir);
		return 1;
	}
	fprintf(stderr, "vocab_gen: %llu concepts (%llu standard), %llu relationships in %s\n", (unsigned long long)n,
	        (unsigned long long)nstd, (unsigned long long)rows, dir);
	free(fl);
	free(std);
	return 0;
}
