/*
 * test_map.c - the vocabulary mapper without a database: code systems,
 * normalisation, patterns, fixed maps and type concepts from mappings/, and
 * every lookup path on the hand-made Athena vocabulary in
 * tests/fixtures/map/vocab (deprecated concepts and replacements, several
 * 'Maps to', 'Maps to value', site maps with validity dates, invalid codes,
 * dates outside a concept's validity, unknown systems), plus statistics.
 */
#include "tests/testutil.h"
#include "core/date.h"
#include "core/path.h"
#include "etl/map/map.h"
#include "etl/map/map_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct map_rules rules;
static struct map_index *ix;
static char mapdir[4096];

static int setup(void **state)
{
	(void)state;
	struct err e = { 0 };
	snprintf(mapdir, sizeof mapdir, "%s/mappings", getenv("OMOPIPE_SHARE"));
	if (map_rules_load_dir(&rules, mapdir, NULL, &e) < 0) {
		fprintf(stderr, "rules: %s\n", e.msg);
		return -1;
	}
	if (map_index_load_dir(&ix, tu_fixture("map/vocab"), mapdir, &e) < 0) {
		fprintf(stderr, "index: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	map_rules_free(&rules);
	map_index_free(ix);
	return 0;
}

static int vocab_id(const char *name)
{
	return strtab_get(&rules.names, name, strlen(name));
}

/* normalise code for vocabulary name; candidate k as a string */
static const char *norm(const char *vocab, const char *code, int k, int *n)
{
	static char out[MAP_MAX_CANDIDATES][MAP_CODE_MAX];
	size_t len[MAP_MAX_CANDIDATES];
	int v = vocab ? vocab_id(vocab) : -1;
	if (vocab)
		assert_true(v >= 0);
	int c = map_normalise(&rules, v, span_of(code), out, len);
	if (n)
		*n = c;
	return k < c ? out[k] : NULL;
}

static void test_normalise(void **state)
{
	(void)state;
	int n;
	assert_string_equal(norm("ICD10CM", "K922", 0, NULL), "K92.2");
	assert_string_equal(norm("ICD10CM", "K92.2", 0, NULL), "K92.2");
	assert_string_equal(norm("ICD10CM", "k92.2", 0, NULL), "K92.2");
	assert_string_equal(norm("ICD10CM", "  K92.2 ", 0, NULL), "K92.2");
	assert_string_equal(norm("ICD10CM", "K 92 2", 0, NULL), "K92.2");
	assert_string_equal(norm("ICD10CM", "K92", 0, NULL), "K92");
	assert_string_equal(norm("ICD10CM", "E1165", 0, NULL), "E11.65");
	assert_string_equal(norm("ICD9CM", "25000", 0, NULL), "250.00");
	assert_string_equal(norm("ICD9CM", "E8800", 0, NULL), "E880.0");
	assert_string_equal(norm("ICD9CM", "V103", 0, NULL), "V10.3");
	assert_string_equal(norm("ICD9Proc", "3893", 0, NULL), "38.93");
	assert_string_equal(norm("ICD10PCS", "0DT.J4ZZ", 0, NULL), "0DTJ4ZZ");
	assert_string_equal(norm("LOINC", "lp1234-5", 0, NULL), "LP1234-5");
	/* NDC: 10-digit hyphenated forms to 11 digits */
	assert_string_equal(norm("NDC", "0002-1433-80", 0, NULL), "00002143380");   /* 4-4-2 */
	assert_string_equal(norm("NDC", "12345-678-90", 0, NULL), "12345067890");   /* 5-3-2 */
	assert_string_equal(norm("NDC", "12345-6789-0", 0, NULL), "12345678900");   /* 5-4-1 */
	assert_string_equal(norm("NDC", "12345-6789-01", 0, NULL), "12345678901");  /* 5-4-2 */
	assert_string_equal(norm("NDC", "12345678901", 0, NULL), "12345678901");
	assert_string_equal(norm("NDC", " 0002-1433-80 ", 0, NULL), "00002143380");
	/* unhyphenated 10 digits: the three layouts are candidates */
	assert_string_equal(norm("NDC", "1234567890", 0, &n), "01234567890");
	assert_int_equal(n, 3);
	assert_string_equal(norm("NDC", "1234567890", 1, NULL), "12345067890");
	assert_string_equal(norm("NDC", "1234567890", 2, NULL), "12345678900");
	/* a layout that is none of them is left as written (and fails the pattern) */
	assert_string_equal(norm("NDC", "1234-567-89", 0, NULL), "1234-567-89");
	/* CVX: zero-padded and bare */
	assert_string_equal(norm("CVX", "8", 0, &n), "08");
	assert_int_equal(n, 2);
	assert_string_equal(norm("CVX", "8", 1, NULL), "8");
	assert_string_equal(norm("CVX", "008", 1, NULL), "08");
	/* local / unknown systems: trimmed, case kept */
	assert_string_equal(norm(NULL, " glu ", 0, NULL), "glu");
	/* empty, too long */
	norm("ICD10CM", "   ", 0, &n);
	assert_int_equal(n, 0);
	norm("ICD10CM", "K92.2222222222222222222222222222222222222222222222222222222222222222222", 0, &n);
	assert_int_equal(n, 0);
}

/* Case folding and white space, done a word at a time, against the plain
 * byte-by-byte rule: every length up to the longest code, bytes of every
 * value (letters next to the range ends, high bytes, spaces, tabs) and every
 * position. */
static void test_normalise_bytes(void **state)
{
	(void)state;
	static const unsigned char pick[] = { 'a', 'z', 'A', 'Z', '@', '[', '`', '{', '0', '9', '-', '.', ' ', '\t',
	                                      0x80, 0xC1, 0xE1, 0xFA, 0xFF, 0x01, 0x7F };
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (size_t n = 1; n < MAP_CODE_MAX; n++)
		for (int round = 0; round < 200; round++) {
			char in[MAP_CODE_MAX];
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				in[i] = (char)pick[x % sizeof pick];
			}
			in[0] = in[n - 1] = 'q'; /* not trimmed */
			const struct { const char *vocab; int upper, strip; } f[] = {
				{ "LOINC", 1, 1 }, { "UCUM", 0, 0 }, { NULL, 0, 0 },
			};
			for (size_t j = 0; j < sizeof f / sizeof *f; j++) {
				char want[MAP_CODE_MAX];
				size_t w = 0;
				for (size_t i = 0; i < n; i++) {
					unsigned char c = (unsigned char)in[i];
					if (f[j].strip && (c == ' ' || c == '\t'))
						continue;
					want[w++] = (char)(f[j].upper && c >= 'a' && c <= 'z' ? c - 32 : c);
				}
				want[w] = '\0';
				char out[MAP_MAX_CANDIDATES][MAP_CODE_MAX];
				size_t len[MAP_MAX_CANDIDATES];
				int v = f[j].vocab ? vocab_id(f[j].vocab) : -1;
				assert_int_equal(map_normalise(&rules, v, span_make(in, n), out, len), 1);
				assert_int_equal(len[0], w);
				assert_memory_equal(out[0], want, w + 1);
			}
		}
}

static void test_patterns(void **state)
{
	(void)state;
	assert_true(map_code_valid(&rules, vocab_id("ICD10CM"), "K92.2", 5));
	assert_false(map_code_valid(&rules, vocab_id("ICD10CM"), "12345", 5));
	assert_false(map_code_valid(&rules, vocab_id("ICD10CM"), "K92.22222", 9)); /* anchored at the end too */
	assert_true(map_code_valid(&rules, vocab_id("LOINC"), "2345-7", 6));
	assert_false(map_code_valid(&rules, vocab_id("LOINC"), "2345", 4));
	assert_true(map_code_valid(&rules, vocab_id("NDC"), "00002143380", 11));
	assert_false(map_code_valid(&rules, vocab_id("NDC"), "1234-567-89", 11));
	assert_true(map_code_valid(&rules, -1, "anything", 8));
}

static void check_system(const char *sys, const char *want_key, int want_kind)
{
	char key[64];
	size_t kl;
	int v = map_rules_system(&rules, span_of(sys), key, sizeof key, &kl);
	assert_string_equal(key, want_key);
	if (want_kind == 1)
		assert_true(v >= 0);
	else if (want_kind == 2)
		assert_int_equal(v, MAP_VOCAB_LOCAL);
	else
		assert_int_equal(v, -1);
}

static void test_systems(void **state)
{
	(void)state;
	check_system("LN", "LOINC", 1);
	check_system("ln", "LOINC", 1);
	check_system(" LOINC ", "LOINC", 1);
	check_system("2.16.840.1.113883.6.1", "LOINC", 1);
	check_system("SCT", "SNOMED", 1);
	check_system("SNOMED-CT", "SNOMED", 1);
	check_system("urn:oid:2.16.840.1.113883.6.96", "SNOMED", 1);
	check_system("I10", "ICD10CM", 1);
	check_system("ICD-10-CM", "ICD10CM", 1);
	check_system("2.16.840.1.113883.6.90", "ICD10CM", 1);
	check_system("RXNORM", "RxNorm", 1);
	check_system("2.16.840.1.113883.6.88", "RxNorm", 1);
	check_system("CVX", "CVX", 1);
	check_system("2.16.840.1.113883.12.292", "CVX", 1);
	check_system("NDC", "NDC", 1);
	check_system("C4", "CPT4", 1);
	check_system("CPT", "CPT4", 1);
	check_system("UCUM", "UCUM", 1);
	check_system("L", "L", 2);
	check_system("99CERNER", "99CERNER", 2);
	check_system("FooBar", "FOOBAR", 0);
	check_system("", "", 0);
}

static int32_t fixed(enum map_fixed k, const char *sys, const char *v)
{
	struct code c = { span_of(sys), span_of(v), SPAN_NULL };
	return map_rules_fixed(&rules, k, &c);
}

static void test_fixed(void **state)
{
	(void)state;
	/* gender: HL7 0001, C-CDA, Synthea, words */
	assert_int_equal(fixed(MAPF_GENDER, "", "M"), 8507);
	assert_int_equal(fixed(MAPF_GENDER, "HL70001", "F"), 8532);
	assert_int_equal(fixed(MAPF_GENDER, "", "female"), 8532);
	assert_int_equal(fixed(MAPF_GENDER, "", "Male"), 8507);
	static const char *const g0[] = { "O", "U", "A", "N", "UN" };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(fixed(MAPF_GENDER, "", g0[i]), 0); /* known, no standard concept */
	assert_int_equal(fixed(MAPF_GENDER, "", "Q"), -1);    /* not known */
	/* race: CDC / HL7 0005 codes and Synthea words */
	static const char *const rc[] = { "2106-3", "2054-5", "2028-9", "1002-5", "2076-8", "2131-1" };
	static const int32_t rid[] = { 8527, 8516, 8515, 8657, 8557, 0 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(fixed(MAPF_RACE, "2.16.840.1.113883.6.238", rc[i]), rid[i]);
	static const char *const rw[] = { "white", "black", "asian", "native", "hawaiian", "other" };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(fixed(MAPF_RACE, "", rw[i]), rid[i]);
	/* ethnicity */
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "H"), 38003563);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "N"), 38003564);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "U"), 0);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "2135-2"), 38003563);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "2186-5"), 38003564);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "hispanic"), 38003563);
	assert_int_equal(fixed(MAPF_ETHNICITY, "", "nonhispanic"), 38003564);
	/* visits: PV1-2 classes, C-CDA ActCodes, Synthea classes */
	static const char *const pv1[] = { "I", "O", "E", "P", "R", "B", "C", "N", "U" };
	for (size_t i = 0; i < 9; i++)
		assert_true(fixed(MAPF_VISIT, "HL70004", pv1[i]) >= 0);
	assert_int_equal(fixed(MAPF_VISIT, "", "I"), 9201);
	assert_int_equal(fixed(MAPF_VISIT, "", "O"), 9202);
	assert_int_equal(fixed(MAPF_VISIT, "", "E"), 9203);
	static const char *const act[] = { "AMB", "EMER", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR", "HH", "FLD" };
	for (size_t i = 0; i < 11; i++)
		assert_true(fixed(MAPF_VISIT, "2.16.840.1.113883.5.4", act[i]) > 0);
	assert_int_equal(fixed(MAPF_VISIT, "", "EMER"), 9203);
	assert_int_equal(fixed(MAPF_VISIT, "", "IMP"), 9201);
	assert_int_equal(fixed(MAPF_VISIT, "", "AMB"), 9202);
	static const char *const syn[] = { "ambulatory", "emergency", "inpatient", "wellness", "urgentcare", "outpatient",
	                                   "home", "hospice", "snf", "virtual" };
	static const int32_t synid[] = { 9202, 9203, 9201, 9202, 9203, 9202, 581476, 8546, 8863, 5083 };
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(fixed(MAPF_VISIT, "", syn[i]), synid[i]);
	assert_int_equal(fixed(MAPF_VISIT, "", "office"), 581477);
	/* units: UCUM and common spellings */
	assert_int_equal(fixed(MAPF_UNIT, "UCUM", "mg/dL"), 8840);
	assert_int_equal(fixed(MAPF_UNIT, "", "mg/dl"), 8840);
	assert_int_equal(fixed(MAPF_UNIT, "", "MG/DL"), 8840);
	assert_int_equal(fixed(MAPF_UNIT, "", "mmol/l"), 8753);
	assert_int_equal(fixed(MAPF_UNIT, "", "10*3/uL"), 8848);
	assert_int_equal(fixed(MAPF_UNIT, "", "K/uL"), 8848);
	assert_int_equal(fixed(MAPF_UNIT, "", "%"), 8554);
	assert_int_equal(fixed(MAPF_UNIT, "", "mm[Hg]"), 8876);
	assert_int_equal(fixed(MAPF_UNIT, "", "mmHg"), 8876);
	assert_int_equal(fixed(MAPF_UNIT, "", "kg"), 9529);
	assert_int_equal(fixed(MAPF_UNIT, "", "lbs"), 8739);
	assert_int_equal(fixed(MAPF_UNIT, "", "cm"), 8582);
	assert_int_equal(fixed(MAPF_UNIT, "", "in"), 9327);
	assert_int_equal(fixed(MAPF_UNIT, "", "/min"), 8541);
	assert_int_equal(fixed(MAPF_UNIT, "", "{beats}/min"), 8541);
	assert_int_equal(fixed(MAPF_UNIT, "", "bpm"), 8541);
	assert_int_equal(fixed(MAPF_UNIT, "", "degF"), 9289);
	assert_int_equal(fixed(MAPF_UNIT, "", "Cel"), 586323);
	assert_int_equal(fixed(MAPF_UNIT, "", "m"), 9546);   /* exact before folded: m is metre */
	/* routes, operators, condition status */
	static const char *const rt[] = { "PO", "IV", "IM", "SC", "SL", "TD", "TP", "PR", "NS", "IH" };
	for (size_t i = 0; i < 10; i++)
		assert_true(fixed(MAPF_ROUTE, "HL70162", rt[i]) > 0);
	assert_int_equal(fixed(MAPF_ROUTE, "", "PO"), 4132161);
	assert_int_equal(fixed(MAPF_ROUTE, "", "C38276"), 4171047);
	assert_int_equal(fixed(MAPF_OPERATOR, "", "<"), 4171756);
	assert_int_equal(fixed(MAPF_OPERATOR, "", "<="), 4171754);
	assert_int_equal(fixed(MAPF_OPERATOR, "", "="), 4172703);
	assert_int_equal(fixed(MAPF_OPERATOR, "", ">="), 4171755);
	assert_int_equal(fixed(MAPF_OPERATOR, "", ">"), 4172704);
	/* admit source (HL70023) and discharge disposition share codes: the system decides */
	assert_int_equal(fixed(MAPF_DISCHARGE, "HL70023", "7"), 8870);
	assert_int_equal(fixed(MAPF_DISCHARGE, "", "03"), 8863);
	/* the display is used when there is no code */
	struct code c = { SPAN_NULL, SPAN_NULL, span_of("female") };
	assert_int_equal(map_rules_fixed(&rules, MAPF_GENDER, &c), 8532);
}

static void test_type_concepts(void **state)
{
	(void)state;
	assert_int_equal(map_type_concept(ix, ORIG_EHR), 32817);
	assert_int_equal(map_type_concept(ix, ORIG_EHR_ENCOUNTER), 32827);
	assert_int_equal(map_type_concept(ix, ORIG_LAB), 32856);
	assert_int_equal(map_type_concept(ix, ORIG_PROBLEM_LIST), 32840);
	assert_int_equal(map_type_concept(ix, ORIG_PRESCRIPTION), 32838);
	assert_int_equal(map_type_concept(ix, ORIG_DISPENSE), 32825);
	assert_int_equal(map_type_concept(ix, ORIG_ADMINISTRATION), 32818);
	assert_int_equal(map_type_concept(ix, ORIG_SELF_REPORT), 32865);
	assert_int_equal(map_type_concept(ix, ORIG_CLAIM), 32810);
	assert_int_equal(map_type_concept(ix, ORIG_REGISTRY), 32879);
	assert_int_equal(map_type_concept(ix, ORIG_NLP), 32858);
	assert_int_equal(map_type_concept(ix, (enum rec_origin)99), 32817);
	/* the fixed maps agree with the fixture vocabulary's domains */
	assert_int_equal(map_index_check_fixed(ix), 0);
}

static int32_t day_of(const char *iso)
{
	struct dt d;
	assert_int_equal(dt_parse_iso(span_of(iso), DT_TZ_KEEP, &d), 0);
	return d.day;
}

static void look(const char *site, const char *sys, const char *code, const char *date, struct map_result *r,
                 struct map_stats *st)
{
	struct code c = { span_of(sys), span_of(code), span_of("example text") };
	map_code(ix, st, site, &c, date ? day_of(date) : INT32_MIN, r);
}

static void test_lookup_paths(void **state)
{
	(void)state;
	struct map_result r;

	/* ICD-10-CM K92.2 -> SNOMED 192671, Condition; with and without the dot */
	look(NULL, "I10", "K92.2", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_MAPPED);
	assert_int_equal(r.n, 1); /* the deprecated 'Maps to' (invalid_reason D) is ignored */
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_int_equal(r.t[0].domain, DOM_CONDITION);
	assert_int_equal(r.source_concept_id, 35208414);
	assert_string_equal(r.vocabulary_id, "ICD10CM");
	assert_false(r.flags & MAPR_NORMALISED);
	look(NULL, "ICD10CM", "K922", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_true(r.flags & MAPR_NORMALISED);
	look(NULL, "2.16.840.1.113883.6.90", "k92.2", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_int_equal(map_concept_domain(ix, 192671), DOM_CONDITION);

	/* a standard concept maps to itself */
	look(NULL, "SCT", "74474003", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_int_equal(r.source_concept_id, 192671);

	/* source concept without a standard concept */
	look(NULL, "I10", "K92", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_NO_STANDARD);
	assert_int_equal(r.source_concept_id, 1569708);
	assert_int_equal(r.t[0].concept_id, 0);
	assert_int_equal(r.n, 1);

	/* updated concept with its own mapping and a replacement: the date decides */
	look(NULL, "I10", "X01.1", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 2000000011);
	assert_false(r.flags & MAPR_REPLACED);
	look(NULL, "I10", "X01.1", "2015-06-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 2000000011);
	assert_false(r.flags & MAPR_OUT_OF_DATES);
	look(NULL, "I10", "X01.1", "2020-01-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 2000000010);
	assert_true(r.flags & MAPR_REPLACED);
	assert_int_equal(r.source_concept_id, 2000000001);

	/* deprecated concept without a mapping: followed to its replacement */
	look(NULL, "I10", "X02.2", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_MAPPED);
	assert_int_equal(r.t[0].concept_id, 2000000004);
	assert_true(r.flags & MAPR_REPLACED);

	/* several 'Maps to' targets: several rows, each with its domain */
	look(NULL, "I10", "X03.3", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_MAPPED);
	assert_int_equal(r.n, 2);
	int32_t a = r.t[0].concept_id, b = r.t[1].concept_id;
	assert_true((a == 2000000012 && b == 2000000013) || (a == 2000000013 && b == 2000000012));
	for (int k = 0; k < 2; k++)
		assert_int_equal(r.t[k].domain, r.t[k].concept_id == 2000000012 ? DOM_CONDITION : DOM_OBSERVATION);

	/* 'Maps to value' */
	look(NULL, "I10", "Z800", NULL, &r, NULL);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.t[0].concept_id, 4167217);
	assert_int_equal(r.t[0].domain, DOM_OBSERVATION);
	assert_int_equal(r.t[0].value_concept_id, 2000000015);

	/* a code used outside its validity dates: mapped, flagged */
	look(NULL, "LN", "99999-9", "2015-01-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	assert_true(r.flags & MAPR_OUT_OF_DATES);
	look(NULL, "LN", "99999-9", "2005-01-01", &r, NULL);
	assert_false(r.flags & MAPR_OUT_OF_DATES);

	/* NDC in hyphenated and ambiguous 10-digit forms */
	look(NULL, "NDC", "0025-1525-31", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 1118088);
	assert_int_equal(r.t[0].domain, DOM_DRUG);
	look(NULL, "2.16.840.1.113883.6.69", "0078117891", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 40162359);
	assert_int_equal(r.source_concept_id, 45011828);

	/* CVX without its leading zero */
	look(NULL, "CVX", "8", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 2000000030);
}

/* A thread that maps on one index and then on another (a second run in the
 * same process) gets the second index's answers: what it remembers of code
 * systems belongs to the index it learnt them from. */
static void test_second_index(void **state)
{
	(void)state;
	struct map_result r;
	struct err e = { 0 };
	struct map_index *other = NULL;
	look(NULL, "ICD10CM", "K92.2", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 192671);
	/* "None": no code system, and not a vocabulary of the fixture; Eunomia has it */
	look(NULL, "None", "No matching concept", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_UNKNOWN_SYSTEM);
	assert_int_equal(map_index_load_dir(&other, tu_shared("vocab/Eunomia-GiBleed_5.3"), mapdir, &e), 0);
	struct code c = { span_of("ICD10CM"), span_of("K92.2"), span_of("") };
	map_code(other, NULL, NULL, &c, INT32_MIN, &r);
	assert_int_equal(r.status, MAP_MAPPED);
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_string_equal(r.vocabulary_id, "ICD10CM");
	c = (struct code){ span_of("None"), span_of("No matching concept"), span_of("") };
	map_code(other, NULL, NULL, &c, INT32_MIN, &r);
	assert_int_not_equal(r.status, MAP_UNKNOWN_SYSTEM);
	assert_string_equal(r.vocabulary_id, "None");
	map_index_free(other);
}

static void test_site_maps(void **state)
{
	(void)state;
	struct map_result r;
	/* the site map overrides the vocabulary for its site only */
	look("north", "I10", "K922", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_MAPPED);
	assert_int_equal(r.t[0].concept_id, 2000000012);
	assert_true(r.flags & MAPR_SITE_MAP);
	assert_int_equal(r.source_concept_id, 35208414);
	look("south", "I10", "K92.2", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 192671);
	assert_false(r.flags & MAPR_SITE_MAP);
	/* local lab codes */
	look("north", "L", "GLU", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	assert_int_equal(r.t[0].domain, DOM_MEASUREMENT);
	look("south", "L", "GLU", NULL, &r, NULL);
	assert_int_equal(r.status, MAP_UNKNOWN_CODE);
	assert_int_equal(r.t[0].concept_id, 0);
	/* site map rows with validity dates */
	look("north", "L", "OLDGLU", "2005-03-01", &r, NULL);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.t[0].concept_id, 3000483);
	look("north", "L", "OLDGLU", "2015-03-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	look("north", "L", "OLDGLU", NULL, &r, NULL);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.t[0].concept_id, 3004501);
	/* a SOURCE_TO_CONCEPT_MAP namespace named as the system applies to every site */
	look(NULL, "Synthea units", "SYN1", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 2000000040);
	/* namespaces */
	char ns[21];
	map_site_ns("north", "LOINC", 5, ns);
	assert_string_equal(ns, "north:LOINC");
	map_site_ns("northwestern_memorial", "LOINC", 5, ns);
	assert_true(strlen(ns) <= 20);
	assert_memory_equal(ns, "northwest:LOINC~", 16);
	char ns2[21];
	map_site_ns("northwestern_memorial2", "LOINC", 5, ns2);
	assert_string_not_equal(ns, ns2);
	map_site_ns("a", "A_VERY_LONG_LOCAL_SYSTEM_NAME", 29, ns);
	assert_true(strlen(ns) <= 20);
}

/* The per-thread memo of answers gives what the full lookup gives: a code
 * remembered for one site is looked up again for a site with its own map, the
 * date still sets the out-of-dates flag, and another index's answer is not
 * taken from it. */
static void test_memo(void **state)
{
	(void)state;
	struct map_result r;
	for (int round = 0; round < 2; round++) {
		look("south", "I10", "K922", NULL, &r, NULL);
		assert_int_equal(r.t[0].concept_id, 192671);
		assert_true(r.flags & MAPR_NORMALISED);
		assert_string_equal(r.vocabulary_id, "ICD10CM");
		look("north", "I10", "K922", NULL, &r, NULL);
		assert_int_equal(r.t[0].concept_id, 2000000012);
		assert_true(r.flags & MAPR_SITE_MAP);
	}
	/* north's map of 2339-0 holds until 2009: after it the vocabulary answers,
	 * which must not be remembered for a date the map still covers */
	look("north", "LN", "2339-0", "2015-01-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3000483);
	assert_false(r.flags & MAPR_SITE_MAP);
	look("north", "LN", "2339-0", "2005-01-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	assert_true(r.flags & MAPR_SITE_MAP);
	look("south", "LN", "99999-9", NULL, &r, NULL);
	assert_false(r.flags & MAPR_OUT_OF_DATES);
	look("south", "LN", "99999-9", "2015-01-01", &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	assert_true(r.flags & MAPR_OUT_OF_DATES);
	look("south", "LN", "99999-9", "2005-01-01", &r, NULL);
	assert_false(r.flags & MAPR_OUT_OF_DATES);

	/* answers of the slow path: the date still picks the replacement, every
	 * target comes back */
	for (int round = 0; round < 2; round++) {
		look("south", "I10", "X01.1", "2015-06-01", &r, NULL);
		assert_int_equal(r.t[0].concept_id, 2000000011);
		assert_false(r.flags & MAPR_REPLACED);
		look("south", "I10", "X01.1", "2020-01-01", &r, NULL);
		assert_int_equal(r.t[0].concept_id, 2000000010);
		assert_true(r.flags & MAPR_REPLACED);
		look("south", "I10", "X03.3", NULL, &r, NULL);
		assert_int_equal(r.n, 2);
		assert_int_equal((int64_t)r.t[0].concept_id + r.t[1].concept_id, 2000000012LL + 2000000013LL);
		look("south", "I10", "Z800", NULL, &r, NULL);
		assert_int_equal(r.t[0].value_concept_id, 2000000015);
	}

	/* a second index where the same code is another concept */
	struct err e = { 0 };
	struct map_index *o = map_index_new();
	assert_int_equal(map_rules_load_dir(&o->rules, mapdir, NULL, &e), 0);
	map_index_add_concept(o, 77, span_of("LOINC"), span_of("99999-9"), span_of("Measurement"), 'S', 0, 0, 40000);
	/* updated in 1997 (day 10000) to a concept with no mapping: remembered as
	 * a mapping before, it must still be counted unmapped after */
	map_index_add_concept(o, 101, span_of("ICD10CM"), span_of("Q01.1"), span_of("Condition"), 0, 'U', 0, 10000);
	map_index_add_concept(o, 102, span_of("SNOMED"), span_of("5550001"), span_of("Condition"), 'S', 0, 0, 40000);
	map_index_add_concept(o, 103, span_of("ICD10CM"), span_of("Q01.2"), span_of("Condition"), 0, 0, 0, 40000);
	map_index_add_rel(o, 101, 102, MEDGE_MAPS_TO);
	map_index_add_rel(o, 101, 103, MEDGE_REPLACED);
	map_index_finish(o);
	struct code c = { span_of("LN"), span_of("99999-9"), span_of("") };
	map_code(o, NULL, "south", &c, INT32_MIN, &r);
	assert_int_equal(r.t[0].concept_id, 77);
	struct map_stats *st = map_stats_new();
	c = (struct code){ span_of("I10"), span_of("Q01.1"), span_of("") };
	map_code(o, st, "south", &c, 5000, &r);
	assert_int_equal(r.t[0].concept_id, 102);
	map_code(o, st, "south", &c, 15000, &r);
	assert_int_equal(r.status, MAP_NO_STANDARD);
	struct map_stats_row *rows;
	assert_int_equal(map_stats_rows(st, &rows), 1);
	assert_string_equal(rows[0].code, "Q01.1");
	free(rows);
	map_stats_free(st);
	look("south", "LN", "99999-9", NULL, &r, NULL);
	assert_int_equal(r.t[0].concept_id, 3004501);
	map_index_free(o);
}

static uint64_t stat_count(struct map_stats *st, const char *code, uint8_t *status, const char **name)
{
	struct map_stats_row *rows;
	size_t n = map_stats_rows(st, &rows);
	uint64_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].code, code) == 0) {
			count = rows[i].count;
			if (status)
				*status = rows[i].status;
			if (name)
				*name = rows[i].name;
		}
	free(rows);
	return count;
}

/* Unmapped codes answered from the memo are counted as the full lookup
 * counts them: in the statistics object of the call (none when it is NULL),
 * never in one emptied or freed since. */
static void test_memo_unmapped(void **state)
{
	(void)state;
	struct map_result r;
	struct map_stats *st = map_stats_new(), *into = map_stats_new();
	struct code c = { span_of("I10"), span_of("K99.9"), span_of("") };
	map_code(ix, st, "east", &c, INT32_MIN, &r);
	c.display = span_of("an unknown thing");
	map_code(ix, st, "east", &c, INT32_MIN, &r);
	map_code(ix, NULL, "east", &c, INT32_MIN, &r);
	map_code(ix, st, "east", &c, INT32_MIN, &r);
	assert_int_equal(r.status, MAP_UNKNOWN_CODE);
	assert_string_equal(r.vocabulary_id, "ICD10CM");
	for (int k = 0; k < 2; k++) {
		look("east", "FOOBAR", "777", NULL, &r, st);
		assert_int_equal(r.status, MAP_UNKNOWN_SYSTEM);
		assert_null(r.vocabulary_id);
		look("east", "I10", "K92", "2015-01-01", &r, st);
		assert_int_equal(r.status, MAP_NO_STANDARD);
		assert_int_equal(r.source_concept_id, 1569708);
		look("east", "I10", "12345", NULL, &r, st);
		assert_int_equal(r.status, MAP_INVALID_CODE);
	}
	/* remembered while nothing was counted, then counted */
	look("east", "I10", "K98.8", NULL, &r, NULL);
	look("east", "I10", "K98.8", NULL, &r, st);
	look("east", "I10", "K98.8", NULL, &r, st);
	assert_int_equal(stat_count(st, "K98.8", NULL, NULL), 2);
	uint8_t status;
	const char *name;
	assert_int_equal(stat_count(st, "K99.9", &status, &name), 3);
	assert_int_equal(status, MAP_UNKNOWN_CODE);
	assert_string_equal(name, "an unknown thing");
	assert_int_equal(stat_count(st, "777", &status, NULL), 2);
	assert_int_equal(status, MAP_UNKNOWN_SYSTEM);
	assert_int_equal(map_stats_unknown_system(st, "FOOBAR"), 2);
	assert_int_equal(stat_count(st, "K92", &status, NULL), 2);
	assert_int_equal(status, MAP_NO_STANDARD);
	assert_int_equal(stat_count(st, "12345", NULL, NULL), 2);
	/* emptied by a merge: counted afresh */
	map_stats_merge(into, st);
	look("east", "I10", "K99.9", NULL, &r, st);
	assert_int_equal(stat_count(st, "K99.9", NULL, NULL), 1);
	assert_int_equal(stat_count(into, "K99.9", NULL, NULL), 3);
	/* freed, and another made (maybe at the same address) */
	map_stats_free(st);
	st = map_stats_new();
	look("east", "I10", "K99.9", NULL, &r, st);
	assert_int_equal(stat_count(st, "K99.9", NULL, NULL), 1);
	map_stats_free(st);
	map_stats_free(into);
}

static void test_unmapped_and_stats(void **state)
{
	(void)state;
	struct map_result r;
	struct map_stats *st = map_stats_new(), *st2 = map_stats_new();

	/* an unknown code system: unmapped, counted per system */
	look("north", "FOOBAR", "123", NULL, &r, st);
	assert_int_equal(r.status, MAP_UNKNOWN_SYSTEM);
	assert_int_equal(r.t[0].concept_id, 0);
	assert_null(r.vocabulary_id);
	look("north", "FOOBAR", "456", NULL, &r, st);
	look("north", "foobar", "123", NULL, &r, st2);
	/* an invalid code: fails the pattern, counted, concept 0 */
	look("north", "I10", "12345", NULL, &r, st);
	assert_int_equal(r.status, MAP_INVALID_CODE);
	assert_int_equal(r.t[0].concept_id, 0);
	/* valid-looking but unknown */
	look("north", "I10", "K99.9", NULL, &r, st);
	assert_int_equal(r.status, MAP_UNKNOWN_CODE);
	/* a known vocabulary that the index does not hold */
	look("north", "CPT", "99213", NULL, &r, st);
	assert_int_equal(r.status, MAP_UNKNOWN_CODE);
	assert_string_equal(r.vocabulary_id, "CPT4");
	/* no standard concept: counted too */
	look("north", "I10", "K92", NULL, &r, st);
	/* empty codes are not counted */
	look("north", "I10", "  ", NULL, &r, st);
	assert_int_equal(r.status, MAP_EMPTY);
	/* mapped codes are not counted */
	look("north", "I10", "K92.2", NULL, &r, st);

	map_stats_merge(st, st2);
	assert_int_equal(map_stats_unknown_system(st, "FOOBAR"), 3);
	struct map_stats_row *rows;
	size_t n = map_stats_rows(st, &rows);
	assert_int_equal(n, 6);
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rows[i].site, "north");
		if (strcmp(rows[i].syskey, "FOOBAR") == 0 && strcmp(rows[i].code, "123") == 0) {
			assert_int_equal(rows[i].count, 2);
			assert_int_equal(rows[i].status, MAP_UNKNOWN_SYSTEM);
			assert_string_equal(rows[i].name, "example text");
			seen++;
		}
		if (strcmp(rows[i].code, "12345") == 0) {
			assert_string_equal(rows[i].syskey, "ICD10CM");
			assert_int_equal(rows[i].status, MAP_INVALID_CODE);
			seen++;
		}
		if (strcmp(rows[i].code, "K92") == 0) {
			assert_int_equal(rows[i].status, MAP_NO_STANDARD);
			seen++;
		}
	}
	if (seen != 3)
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "row %s %s %s %d\n", rows[i].site, rows[i].syskey, rows[i].code, rows[i].status);
	assert_int_equal(seen, 3);
	free(rows);
	/* the merged-from stats are left empty */
	n = map_stats_rows(st2, &rows);
	assert_int_equal(n, 0);
	free(rows);
	map_stats_free(st);
	map_stats_free(st2);
}

static void test_fixed_on_index(void **state)
{
	(void)state;
	struct code c = { span_of("UCUM"), span_of("meq/L"), SPAN_NULL };
	assert_int_equal(map_fixed(ix, MAPF_UNIT, &c), 9557);     /* not listed: a UCUM code of the vocabulary */
	c.code = span_of("furlongs");
	assert_int_equal(map_fixed(ix, MAPF_UNIT, &c), 0);
	c.code = span_of("F");
	c.system = SPAN_NULL;
	assert_int_equal(map_fixed(ix, MAPF_GENDER, &c), 8532);
	c.code = span_of("X");
	assert_int_equal(map_fixed(ix, MAPF_GENDER, &c), 0);
}

/* Several threads on one index: no locks, same answers. */
static void *worker(void *arg)
{
	int *bad = arg;
	struct map_stats *st = map_stats_new();
	for (int i = 0; i < 20000; i++) {
		struct map_result r;
		struct code c = { span_of("I10"), span_of(i % 2 ? "K922" : "X03.3"), SPAN_NULL };
		map_code(ix, st, "north", &c, INT32_MIN, &r);
		if (i % 2 ? r.t[0].concept_id != 2000000012 : r.n != 2)
			(*bad)++;
		c.code = span_of("K99.9");
		map_code(ix, st, "north", &c, INT32_MIN, &r);
	}
	struct map_stats_row *rows;
	size_t n = map_stats_rows(st, &rows);
	if (n != 1 || rows[0].count != 20000)
		(*bad)++;
	free(rows);
	map_stats_free(st);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	int bad[4] = { 0 };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &bad[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(bad[i], 0);
	}
}

static void test_bad_rules(void **state)
{
	(void)state;
	/* a broken line in a mappings file: file:line and what is wrong */
	const char *d = tu_tmpdir("badrules");
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "cp %s/*.csv %s/ && printf 'ICD10CM,upper,strip,dot3,\"[A-Z\",broken\\n' >> %s/code_formats.csv",
	         mapdir, d, d);
	assert_int_equal(system(cmd), 0);
	struct map_rules r2;
	struct err e = { 0 };
	assert_int_equal(map_rules_load_dir(&r2, d, NULL, &e), -E_CONFIG);
	assert_non_null(strstr(e.msg, "code_formats.csv:"));
	assert_non_null(strstr(e.msg, "pattern does not compile"));
	snprintf(cmd, sizeof cmd, "cp %s/*.csv %s/ && printf ',M,notanumber\\n' >> %s/gender.csv", mapdir, d, d);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(map_rules_load_dir(&r2, d, NULL, &e), -E_CONFIG);
	assert_non_null(strstr(e.msg, "gender.csv:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_normalise_bytes),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_systems),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_type_concepts),
		cmocka_unit_test(test_lookup_paths),
		cmocka_unit_test(test_second_index),
		cmocka_unit_test(test_site_maps),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_memo_unmapped),
		cmocka_unit_test(test_unmapped_and_stats),
		cmocka_unit_test(test_fixed_on_index),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
