/*
 * test_keytab.c - the loader's per-file key table: one entry per key, keys by
 * class, events keyed with their group's prefix (and the table still fast and
 * correct when thousands of keys share that prefix), dropping a class.
 */
#include "testutil.h"
#include "etl/load/keytab.h"

#include <stdio.h>
#include <string.h>

static void test_same_key_same_entry(void **state)
{
	(void)state;
	struct keytab t;
	keytab_init(&t);
	struct hash128 a = keytab_hash("north", KC_PERSON, span_of("MRN1"), 0);
	struct hash128 b = keytab_hash("north", KC_PERSON, span_of("MRN2"), 0);
	uint32_t ia = keytab_get(&t, a, KC_PERSON);
	uint32_t ib = keytab_get(&t, b, KC_PERSON);
	assert_int_not_equal(ia, ib);
	assert_int_equal(keytab_get(&t, a, KC_PERSON), ia);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.unresolved, 2);
	/* the site and the class are part of the key */
	struct hash128 s = keytab_hash("south", KC_PERSON, span_of("MRN1"), 0);
	struct hash128 v = keytab_hash("north", KC_VISIT, span_of("MRN1"), 0);
	assert_memory_not_equal(&a, &s, sizeof a);
	assert_memory_not_equal(&a, &v, sizeof a);
	keytab_free(&t);
}

/* The bytes hashed never change: ids stay stable across versions. */
static void test_hashed_bytes(void **state)
{
	(void)state;
	static const char want[] = "north\x1f" "2\x1f" "V1#3";
	struct hash128 h = keytab_hash("north", KC_VISIT, span_of("V1"), 3), w = hash128(want, sizeof want - 1);
	assert_memory_equal(&h, &w, sizeof h);
	/* a long site name: the site and class part is cut to 79 bytes */
	char site[100], cut[80];
	memset(site, 's', 99);
	site[99] = '\0';
	memset(cut, 's', 79);
	cut[79] = 'P';
	h = keytab_hash(site, KC_PERSON, span_of("P"), 0);
	w = hash128(cut, 80);
	assert_memory_equal(&h, &w, sizeof h);
}

static void test_event_key_prefix(void **state)
{
	(void)state;
	struct hash128 g = keytab_hash("north", KC_EVENT, span_of("obx|ORD1"), 0);
	struct hash128 plain = keytab_hash("north", KC_EVENT, span_of("obx|ORD1|LN|2345-7"), 0);
	struct hash128 ev = keytab_hash_event("north", span_of("obx|ORD1|LN|2345-7"), 0);
	const unsigned char *gb = (const unsigned char *)&g, *eb = (const unsigned char *)&ev,
	                    *qb = (const unsigned char *)&plain;
	/* the group's bytes first, then the whole key's */
	assert_memory_equal(eb, gb, KEY_GROUP_PREFIX);
	assert_memory_equal(eb + KEY_GROUP_PREFIX, qb + KEY_GROUP_PREFIX, 16 - KEY_GROUP_PREFIX);
	/* another result of the same order: same group, another key */
	struct hash128 sib = keytab_hash_event("north", span_of("obx|ORD1|LN|718-7"), 0);
	assert_memory_equal(&sib, &ev, KEY_GROUP_PREFIX);
	assert_memory_not_equal(&sib, &ev, sizeof ev);
	/* another order: another group; fewer than three parts: the plain hash */
	struct hash128 other = keytab_hash_event("north", span_of("obx|ORD2|LN|2345-7"), 0);
	assert_memory_not_equal(&other, &ev, KEY_GROUP_PREFIX);
	struct hash128 two = keytab_hash_event("north", span_of("2.16.840.1|doc-7"), 0);
	struct hash128 two_plain = keytab_hash("north", KC_EVENT, span_of("2.16.840.1|doc-7"), 0);
	assert_memory_equal(&two, &two_plain, sizeof two);
	/* targets of one code (suffix) differ, in the same group */
	struct hash128 t1 = keytab_hash_event("north", span_of("obx|ORD1|LN|2345-7"), 1);
	assert_memory_not_equal(&ev, &t1, sizeof ev);
	assert_memory_equal(&ev, &t1, KEY_GROUP_PREFIX);
	/* the same key, the same hash (a correction finds its original) */
	struct hash128 again = keytab_hash_event("north", span_of("obx|ORD1|LN|2345-7"), 0);
	assert_memory_equal(&again, &ev, sizeof ev);
}

static void test_many_events_of_one_group(void **state)
{
	(void)state;
	struct keytab t;
	keytab_init(&t);
	enum { N = 20000 };
	static uint32_t idx[N];
	char k[32];
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "obx|ORD1|ev%d", i);
		idx[i] = keytab_get(&t, keytab_hash_event("north", span_of(k), 0), KC_EVENT);
		assert_int_equal(idx[i], i);
	}
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "obx|ORD1|ev%d", i);
		assert_int_equal(keytab_get(&t, keytab_hash_event("north", span_of(k), 0), KC_EVENT), idx[i]);
	}
	assert_int_equal(t.n, N);
	keytab_free(&t);
}

static void test_drop_class(void **state)
{
	(void)state;
	struct keytab t;
	keytab_init(&t);
	struct hash128 p = keytab_hash("north", KC_PERSON, span_of("MRN1"), 0);
	keytab_get(&t, p, KC_PERSON);
	char k[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "obx|ORD1|ev%d", i);
		keytab_get(&t, keytab_hash_event("north", span_of(k), 0), KC_EVENT);
	}
	struct hash128 v = keytab_hash("north", KC_VISIT, span_of("V1"), 0);
	keytab_get(&t, v, KC_VISIT);
	keytab_drop_class(&t, KC_EVENT);
	assert_int_equal(t.n, 2);
	assert_int_equal(keytab_get(&t, p, KC_PERSON), 0);
	assert_int_equal(keytab_get(&t, v, KC_VISIT), 1);
	assert_int_equal(t.n, 2);
	keytab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_key_same_entry),
		cmocka_unit_test(test_hashed_bytes),
		cmocka_unit_test(test_event_key_prefix),
		cmocka_unit_test(test_many_events_of_one_group),
		cmocka_unit_test(test_drop_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
