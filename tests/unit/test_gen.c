/*
 * test_gen.c - the synthetic feed generator (gen/).
 *
 *   determinism   same options -> same bytes; another seed -> other bytes;
 *                 --zstd files decompress to the plain files
 *   accounting    every file of expected.json re-counted from the bytes:
 *                 records, and each kind of injected error (truncated
 *                 messages, impossible dates, unknown code systems, malformed
 *                 XML, wrong column counts)
 *   framing       HL7: MSH with the dialect's delimiters, its segment
 *                 terminators, Cerner's FHS/BHS/BTS/FTS envelope
 *   C-CDA         every document parses with libxml2 (no network, no entity
 *                 expansion) unless it was broken on purpose
 *   CSV           headers are the layouts' headers (as in the reference
 *                 Synthea exports), rows have the header's column count
 *   vocabulary    every code the generator writes has its concept (except the
 *                 two unmappable ones), and mappings/demo-vocab is what
 *                 gen_vocab_write() writes
 *   extractors    the HL7 and CSV extractors read the generated files through
 *                 a tu_sink with every record accounted for
 */
#define _GNU_SOURCE   /* memmem */
#include "tests/testutil.h"
#include "core/io.h"
#include "etl/extract/extract.h"
#include "gen/gen.h"
#include "gen/gen_codes.h"
#include "gen/gen_int.h"

#include <dirent.h>
#include <ftw.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir_a[1024], dir_b[1024], dir_c[1024], dir_z[1024];

static void gen(const char *out, uint64_t seed, double rate, int zstd)
{
	struct gen_opts o = { .patients = 60, .sites = 4, .out = out, .seed = seed, .error_rate = rate, .zstd = zstd, .file_records = 500 };
	struct gen_totals t;
	struct err e = { 0 };
	if (gen_run(&o, &t, &e) < 0)
		fail_msg("gen_run: %s", e.msg);
	assert_int_equal(t.patients, 240);
	assert_true(t.records > 1000);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir_a, sizeof dir_a, "%s", tu_tmpdir("gen_a"));
	snprintf(dir_b, sizeof dir_b, "%s", tu_tmpdir("gen_b"));
	snprintf(dir_c, sizeof dir_c, "%s", tu_tmpdir("gen_c"));
	snprintf(dir_z, sizeof dir_z, "%s", tu_tmpdir("gen_z"));
	gen(dir_a, 7, 0.05, 0);
	gen(dir_b, 7, 0.05, 0);
	gen(dir_c, 8, 0.05, 0);
	gen(dir_z, 7, 0.05, 1);
	return 0;
}

/* ---- expected.json, one file per line ---- */

struct fexp {
	char path[256];
	unsigned long long records, broken, header, err[GE__COUNT];
};

static unsigned long long jnum(const char *line, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\": ", key);
	const char *p = strstr(line, k);
	return p ? strtoull(p + strlen(k), NULL, 10) : 0;
}

static size_t read_expected(const char *dir, struct fexp **out)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/expected.json", dir);
	size_t n;
	char *text = tu_slurp(path, &n);
	size_t cap = 64, k = 0;
	struct fexp *v = malloc(cap * sizeof *v);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "    {\"path\": \"", 14) != 0)
			continue;
		if (k == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		struct fexp *f = &v[k++];
		memset(f, 0, sizeof *f);
		const char *q = strchr(line + 14, '"');
		snprintf(f->path, sizeof f->path, "%.*s", (int)(q - line - 14), line + 14);
		f->records = jnum(line, "records");
		f->broken = jnum(line, "broken");
		f->header = jnum(line, "header_rows");
		for (int x = 0; x < GE__COUNT; x++)
			f->err[x] = jnum(strstr(line, "\"errors\""), gen_err_names[x]);
	}
	free(text);
	*out = v;
	return k;
}

static char *slurp_rel(const char *dir, const char *rel, size_t *n)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return tu_slurp(path, n);
}

/* ---- determinism ---- */

static void test_same_seed_same_bytes(void **state)
{
	(void)state;
	struct fexp *fa;
	size_t n = read_expected(dir_a, &fa), differ_c = 0;
	assert_true(n > 20);
	const char *extra[] = { "expected.json", "omopipe.conf", "north/sitemap.csv", "south/sitemap.csv" };
	for (size_t i = 0; i < n + 4; i++) {
		const char *rel = i < n ? fa[i].path : extra[i - n];
		size_t la, lb, lc;
		char *a = slurp_rel(dir_a, rel, &la), *b = slurp_rel(dir_b, rel, &lb);
		if (la != lb || memcmp(a, b, la) != 0)
			fail_msg("%s differs between two runs with the same seed", rel);
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir_c, rel);
		FILE *f = fopen(path, "rb");
		if (f) {
			fclose(f);
			char *c = slurp_rel(dir_c, rel, &lc);
			differ_c += lc != la || memcmp(a, c, la) != 0;
			free(c);
		} else
			differ_c++;
		free(a);
		free(b);
	}
	/* another seed: other patients, other files */
	assert_true(differ_c > n / 2);
	free(fa);
}

static void test_zstd_same_content(void **state)
{
	(void)state;
	struct fexp *fa, *fz;
	size_t n = read_expected(dir_a, &fa), nz = read_expected(dir_z, &fz);
	assert_int_equal(n, nz);
	for (size_t i = 0; i < n; i++) {
		char zpath[2048], buf[65536];
		assert_int_equal(strlen(fz[i].path), strlen(fa[i].path) + 4);
		assert_string_equal(fz[i].path + strlen(fa[i].path), ".zst");
		assert_int_equal(fz[i].records, fa[i].records);
		snprintf(zpath, sizeof zpath, "%s/%s", dir_z, fz[i].path);
		size_t la;
		char *a = slurp_rel(dir_a, fa[i].path, &la);
		struct rd r;
		struct err e = { 0 };
		assert_int_equal(rd_open(&r, zpath, &e), 0);
		assert_non_null(r.zctx);
		size_t off = 0;
		ssize_t k;
		while ((k = rd_read(&r, buf, sizeof buf, &e)) > 0) {
			assert_true(off + (size_t)k <= la);
			assert_memory_equal(a + off, buf, (size_t)k);
			off += (size_t)k;
		}
		assert_int_equal(k, 0);
		assert_int_equal(off, la);
		rd_close(&r);
		free(a);
	}
	free(fa);
	free(fz);
}

/* ---- HL7 ---- */

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static void check_hl7(const struct fexp *f, const char *data, size_t n)
{
	int cerner = strstr(f->path, "/cerner/") != NULL;
	const char *term = cerner ? "\r\n" : "\r";
	size_t tl = strlen(term);
	unsigned long long msgs = 0, trunc = 0, bad_date = 0, unknown = 0;
	/* split into segments; every segment ends with the dialect's terminator */
	size_t i = 0, seg_no = 0;
	int pid_seen = 1, in_msg = 0, msg_bad_date = 0, msg_unknown = 0;
	if (!cerner)
		assert_null(memchr(data, '\n', n));
	while (i < n) {
		const char *s = data + i;
		const char *cr = memchr(s, '\r', n - i);
		assert_non_null(cr);
		size_t len = (size_t)(cr - s);
		assert_true(i + len + tl <= n);
		assert_memory_equal(cr, term, tl);
		if (cerner)
			assert_null(memchr(s, '\n', len));
		if (seg_no == 0 && cerner)
			assert_true(len > 4 && memcmp(s, "FHS|^~\\&|CERNER|", 16) == 0);
		if (len >= 4 && memcmp(s, "MSH|", 4) == 0) {
			if (in_msg) {
				trunc += !pid_seen;
				bad_date += msg_bad_date;
				unknown += msg_unknown;
			}
			in_msg = 1;
			pid_seen = 0;
			msg_bad_date = msg_unknown = 0;
			msgs++;
			assert_true(len > 9 && memcmp(s, "MSH|^~\\&|", 9) == 0);
			assert_true(memcmp(s + 9, cerner ? "CERNER|" : "EPIC|", cerner ? 7 : 5) == 0);
			assert_non_null(memmem(s, len, cerner ? "|P|2.3" : "|P|2.5.1", cerner ? 6 : 8));
		} else if (len > 8 && memcmp(s, "PID|1|", 6) == 0 && memchr(s + 6, '^', len - 6)) {
			pid_seen = 1;
			msg_bad_date |= memmem(s, len, "|20230230|", 10) != NULL;
		} else if (len >= 4 && memcmp(s, "BTS|", 4) == 0) {
			assert_int_equal(strtoull(s + 4, NULL, 10), msgs);
		}
		if (memmem(s, len, "^ZZZ", 4))
			msg_unknown = 1;
		i += len + tl;
		seg_no++;
	}
	if (in_msg) {
		trunc += !pid_seen;
		bad_date += msg_bad_date;
		unknown += msg_unknown;
	}
	if (cerner)
		assert_true(ends_with(data + n - 9 > data ? data + n - 9 : data, "FTS|1\r\n"));
	assert_int_equal(msgs, f->records);
	assert_int_equal(trunc, f->err[GE_TRUNCATED]);
	assert_int_equal(bad_date, f->err[GE_BAD_DATE]);
	assert_int_equal(unknown, f->err[GE_UNKNOWN_SYSTEM]);
	assert_int_equal(trunc + bad_date + unknown, f->broken);
}

/* ---- C-CDA ---- */

static void check_ccda(const struct fexp *f, const char *data, size_t n)
{
	assert_int_equal(f->records, 1);
	/* no network, no entity substitution (XML_PARSE_NOENT stays off) */
	xmlDocPtr doc = xmlReadMemory(data, (int)n, f->path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	int malformed = doc == NULL;
	if (doc) {
		xmlNodePtr root = xmlDocGetRootElement(doc);
		assert_string_equal((const char *)root->name, "ClinicalDocument");
		xmlFreeDoc(doc);
	}
	assert_int_equal(malformed, f->err[GE_MALFORMED_XML]);
	int bad_date = memmem(data, n, "<birthTime value=\"20230230\"/>", 29) != NULL;
	int unknown = memmem(data, n, GEN_OID_UNKNOWN "\"", strlen(GEN_OID_UNKNOWN) + 1) != NULL;
	assert_int_equal(bad_date, f->err[GE_BAD_DATE]);
	assert_int_equal(unknown, f->err[GE_UNKNOWN_SYSTEM]);
	assert_int_equal(malformed + bad_date + unknown, f->broken);
}

/* ---- CSV ---- */

static int csv_columns(const char *s, size_t len)
{
	int cols = 1, q = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			q = !q;
		else if (s[i] == ',' && !q)
			cols++;
	}
	return cols;
}

static void check_csv(const struct fexp *f, const char *data, size_t n)
{
	int v2017 = strstr(f->path, "synthea-2017") != NULL;
	const char *base = strrchr(f->path, '/') + 1;
	int table = -1;
	for (int t = 0; t < CT__COUNT; t++)
		if (strncmp(base, gen_csv_tables[t], strlen(gen_csv_tables[t])) == 0 && base[strlen(gen_csv_tables[t])] == '.')
			table = t;
	assert_true(table >= 0);

	/* the header is the layout's, as in the reference exports */
	char ref[512];
	snprintf(ref, sizeof ref, "%s/%s.csv",
	         v2017 ? "csv/synthea-v1-2017-pressleydavid-fusephir/csv" : "csv/synthea-OHDSI-dbt-synthea-seeds/synthea", gen_csv_tables[table]);
	size_t rn;
	char *rtext = tu_slurp(tu_shared(ref), &rn);
	char *nl = strpbrk(rtext, "\r\n");
	*nl = 0;
	const char *hdr_end = memchr(data, '\n', n);
	assert_non_null(hdr_end);
	assert_int_equal((size_t)(hdr_end - data), strlen(rtext));
	assert_memory_equal(data, rtext, strlen(rtext));
	assert_string_equal(rtext, gen_csv_header(v2017, table));
	int want = csv_columns(rtext, strlen(rtext));
	free(rtext);
	assert_int_equal(f->header, 1);

	unsigned long long rows = 0, badcols = 0, bad_date = 0, unknown = 0;
	for (const char *s = hdr_end + 1; s < data + n;) {
		const char *e = memchr(s, '\n', (size_t)(data + n - s));
		assert_non_null(e);
		int cols = csv_columns(s, (size_t)(e - s));
		rows++;
		if (cols != want) {
			assert_int_equal(cols, want + 1);
			badcols++;
		}
		bad_date += memmem(s, (size_t)(e - s), "2023-02-30", 10) != NULL;
		unknown += memmem(s, (size_t)(e - s), ",XYZ-LOCAL,", 11) != NULL;
		s = e + 1;
	}
	assert_int_equal(rows, f->records);
	assert_int_equal(badcols, f->err[GE_BAD_COLUMNS]);
	assert_int_equal(bad_date, f->err[GE_BAD_DATE]);
	assert_int_equal(unknown, f->err[GE_UNKNOWN_SYSTEM]);
	assert_int_equal(badcols + bad_date + unknown, f->broken);
}

static void test_files_match_expected(void **state)
{
	(void)state;
	struct fexp *fa;
	size_t n = read_expected(dir_a, &fa);
	unsigned long long broken = 0, records = 0, by_err[GE__COUNT] = { 0 };
	int seen[3] = { 0 };
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *data = slurp_rel(dir_a, fa[i].path, &len);
		if (ends_with(fa[i].path, ".hl7")) {
			check_hl7(&fa[i], data, len);
			seen[0]++;
		} else if (ends_with(fa[i].path, ".xml")) {
			check_ccda(&fa[i], data, len);
			seen[1]++;
		} else if (ends_with(fa[i].path, ".csv")) {
			check_csv(&fa[i], data, len);
			seen[2]++;
		} else
			fail_msg("unexpected file %s", fa[i].path);
		free(data);
		broken += fa[i].broken;
		records += fa[i].records;
		for (int x = 0; x < GE__COUNT; x++)
			by_err[x] += fa[i].err[x];
	}
	assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
	/* about 5 % broken, every kind present */
	assert_true(broken * 100 > records * 3 && broken * 100 < records * 7);
	for (int x = 0; x < GE__COUNT; x++)
		assert_true(by_err[x] > 0);
	free(fa);
}

/* no error rate: nothing broken, every document parses */
static void test_clean_run(void **state)
{
	(void)state;
	const char *d = tu_tmpdir("gen_clean");
	gen(d, 3, 0, 0);
	struct fexp *f;
	size_t n = read_expected(d, &f);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f[i].broken, 0);
		if (ends_with(f[i].path, ".xml")) {
			size_t len;
			char *data = slurp_rel(d, f[i].path, &len);
			check_ccda(&f[i], data, len);
			free(data);
		}
	}
	free(f);
}

/* ---- vocabulary ---- */

static const struct gen_concept *must(const char *vocab, const char *code)
{
	const struct gen_concept *c = gen_concept_by_code(vocab, code);
	if (!c)
		fail_msg("%s %s has no concept in the demo vocabulary", vocab, code);
	const struct gen_concept *s = gen_concept_standard(c);
	if (!s)
		fail_msg("%s %s maps to no standard concept", vocab, code);
	return s;
}

static void test_codes_have_concepts(void **state)
{
	(void)state;
	for (int t = 0; t < T__COUNT; t++) {
		const struct gen_test *d = &gen_tests[t];
		if (d->loinc)
			assert_string_equal(must("LOINC", d->loinc)->domain, "Measurement");
		else
			assert_null(gen_concept_by_code("LOINC", d->epic_local));   /* unmappable on purpose */
		assert_string_equal(must("UCUM", d->unit)->domain, "Unit");
	}
	for (int c = 0; c < C__COUNT; c++) {
		const struct gen_cond *d = &gen_conds[c];
		if (d->unmappable) {
			assert_null(gen_concept_by_code("SNOMED", d->snomed));
			continue;
		}
		const struct gen_concept *s = must("SNOMED", d->snomed);
		if (d->icd10)
			assert_int_equal(must("ICD10CM", d->icd10)->id, s->id);   /* ICD-10-CM maps to the same SNOMED concept */
	}
	for (int i = 0; i < D__COUNT; i++) {
		const struct gen_drug *d = &gen_drugs[i];
		const struct gen_concept *s = must("RxNorm", d->rxnorm);
		assert_string_equal(s->domain, "Drug");
		if (d->ndc)
			assert_int_equal(must("NDC", d->ndc)->id, s->id);
		/* diclofenac 75 MG has no ancestor row in the reference data: none is invented */
		if (strcmp(s->cls, "Clinical Drug") == 0 && s->id != 40162359) {
			int found = 0;   /* drug eras need the ingredient */
			for (size_t k = 0; k < gen_nancestors; k++)
				found |= gen_ancestors[k].desc == s->id && gen_ancestors[k].anc != s->id;
			assert_true(found);
		}
	}
	for (int v = 0; v < V__COUNT; v++)
		assert_string_equal(must("CVX", gen_vaxes[v].cvx)->domain, "Drug");
	for (int a = 0; a < A__COUNT; a++)
		must("SNOMED", gen_allergies[a].snomed);
	for (int t = 0; t < E__COUNT; t++) {
		must("SNOMED", gen_enc_types[t].snomed);
		assert_non_null(gen_concept_by_id(gen_enc_types[t].visit_concept));
	}
	for (int r = 0; r < R__COUNT; r++)
		assert_true(gen_races[r].concept == 0 || gen_concept_by_id(gen_races[r].concept));
	static const int32_t fixed[] = { 8507, 8532, 8527, 8516, 8515, 38003563, 38003564, 9201, 9202, 9203, 581477, 32817, 32856, 4132161, 0 };
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		assert_non_null(gen_concept_by_id(fixed[i]));
	/* ids are unique; every relationship and ancestor points at concepts we have */
	for (size_t i = 0; i < gen_nconcepts; i++)
		for (size_t j = i + 1; j < gen_nconcepts; j++)
			assert_true(gen_concepts[i].id != gen_concepts[j].id);
	for (size_t i = 0; i < gen_nmaps; i++)
		assert_true(gen_concept_by_id(gen_maps[i].a) && gen_concept_by_id(gen_maps[i].b));
	for (size_t i = 0; i < gen_nancestors; i++)
		assert_true(gen_concept_by_id(gen_ancestors[i].anc) && gen_concept_by_id(gen_ancestors[i].desc));
}

static void test_shipped_vocab_is_generated(void **state)
{
	(void)state;
	const char *out = tu_tmpdir("gen_vocab");
	struct err e = { 0 };
	assert_int_equal(gen_vocab_write(out, &e), 0);
	static const char *const files[] = { "CONCEPT.csv", "CONCEPT_RELATIONSHIP.csv", "CONCEPT_ANCESTOR.csv", "VOCABULARY.csv",
		"DOMAIN.csv", "CONCEPT_CLASS.csv", "RELATIONSHIP.csv" };
	const char *share = getenv("OMOPIPE_SHARE");
	assert_non_null(share);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char a[2048], b[2048];
		size_t la, lb;
		snprintf(a, sizeof a, "%s/%s", out, files[i]);
		snprintf(b, sizeof b, "%s/mappings/demo-vocab/%s", share, files[i]);
		char *x = tu_slurp(a, &la), *y = tu_slurp(b, &lb);
		if (la != lb || memcmp(x, y, la) != 0)
			fail_msg("mappings/demo-vocab/%s is not what `omopipe generate --vocab` writes: regenerate it", files[i]);
		/* Athena format: tab separated, no quotes, no CR */
		assert_null(memchr(x, '\r', la));
		assert_non_null(memchr(x, '\t', la));
		free(x);
		free(y);
	}
}

/* ---- the extractors on the generated feeds ---- */

static void run_extractor(const char *format, const char *profile, const char *dir, const char *feed_dir)
{
	const struct extract_ops *op = extract_find(format);
	assert_non_null(op);
	struct extractor *x;
	struct err e = { 0 };
	if (op->open(&x, profile, NULL, &e) < 0)
		fail_msg("open %s/%s: %s", format, profile, e.msg);
	struct fexp *f;
	size_t n = read_expected(dir, &f), files = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(f[i].path, feed_dir, strlen(feed_dir)) != 0 || f[i].path[strlen(feed_dir)] != '/')
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, f[i].path);
		struct tu_sink ts;
		tu_sink_init(&ts);
		if (op->run(x, path, &ts.base, &e) < 0)
			fail_msg("%s: %s", f[i].path, e.msg);
		files++;
		/* every record is accounted for */
		assert_int_equal(ts.begun, ts.loaded + ts.quarantined + ts.skipped);
		unsigned long long want_q = f[i].err[GE_TRUNCATED] + f[i].err[GE_BAD_DATE] + f[i].err[GE_BAD_COLUMNS] + f[i].err[GE_MALFORMED_XML];
		if (ts.loaded + ts.quarantined != f[i].records || ts.quarantined != want_q)
			fail_msg("%s: %lu loaded + %lu quarantined (+ %lu skipped); expected %llu records, %llu to quarantine",
			         f[i].path, ts.loaded, ts.quarantined, ts.skipped, f[i].records, want_q);
	}
	assert_true(files > 0);
	op->close(x);
	free(f);
}

static void test_hl7_extractor_epic(void **s) { (void)s; run_extractor("hl7v2", "epic", dir_a, "north/hl7/epic"); }
static void test_hl7_extractor_cerner(void **s) { (void)s; run_extractor("hl7v2", "cerner", dir_a, "south/hl7/cerner"); }
static void test_csv_extractor_synthea(void **s) { (void)s; run_extractor("csv", "synthea", dir_a, "north/csv/synthea"); }
static void test_csv_extractor_2017(void **s) { (void)s; run_extractor("csv", "synthea-2017", dir_a, "south/csv/synthea-2017"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_zstd_same_content),
		cmocka_unit_test(test_files_match_expected),
		cmocka_unit_test(test_clean_run),
		cmocka_unit_test(test_codes_have_concepts),
		cmocka_unit_test(test_shipped_vocab_is_generated),
		cmocka_unit_test(test_hl7_extractor_epic),
		cmocka_unit_test(test_hl7_extractor_cerner),
		cmocka_unit_test(test_csv_extractor_synthea),
		cmocka_unit_test(test_csv_extractor_2017),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
