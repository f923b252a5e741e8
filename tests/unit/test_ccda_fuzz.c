/*
 * test_ccda_fuzz.c - the C-CDA extractor on damaged documents: elements cut,
 * spliced, repeated, with markup, entity and character references, encoding
 * declarations, byte-order marks, NUL and high bytes, dates, numbers and
 * entity declarations that point at a local file thrown in, from seeds that
 * are the shared C-CDA documents (ClinicalDocument) of at most 256 KiB and
 * the project's fixtures; half of the inputs only have attribute values and element text
 * replaced (dates, numbers, codes, text beyond ASCII), so that they stay
 * well formed and their entries are read. For each input (fuzz.h):
 *
 *   - nothing crashes or reads out of bounds (CI runs this under ASan/UBSan);
 *   - the document is one source record, closed once (loaded, quarantined
 *     with a soft code, a position and a reason, or skipped); its records
 *     hold what PostgreSQL can (valid UTF-8 without NUL bytes, finite
 *     numbers, sound dates);
 *   - no entity brings in the local file's content (no XXE);
 *   - read twice, it gives the same lines (nothing kept from one document to
 *     the next changes what the next says).
 *
 * OMO_FUZZ_ITERS inputs (default 2000) from OMO_FUZZ_SEED (default 1); the
 * input being tried is $OMO_TEST_TMP/test_ccda_fuzz/input.xml, the one
 * before it previous.xml. OMO_FUZZ_REPLAY=A[:B...] reads those documents in
 * turn, each against a fresh extractor's reading of it alone.
 * OMO_FUZZ_WRITE=DIR keeps the inputs, as DIR/fuzz-N.xml, with what the
 * extractor made of each in DIR/counts (fuzz_keep), for
 * tests/pg/t_fuzz_load.sh.
 */
#include "testutil.h"
#include "fuzz.h"
#include "etl/extract/extract.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "FUZZ-SECRET-7f3a"

static const char bytes[] = "<>/&;\"'= \n\r0123456789.-+:abcdeT\x80\xff\xc3\xef";

/* Values that keep a document well formed but test what reads it: dates,
 * numbers, codes, text beyond ASCII, character references. */
static const char *const values[] = {
	"20230230", "2023021", "20231301", "2023", "202301", "20230101120000+2500", "20230101120000-0500",
	"19991231235960", "00000101", "99991231", "1e309", "-1", "NaN", "0.0000001", "99999999999999999999", "",
	" ", "UNK", "\xc3\xa9t\xc3\xa9", "&#233;", "&#x1F600;", "&amp;", "2.16.840.1.113883.6.1",
	"2.16.840.1.113883.6.96", "2.16.840.1.113883.6.88", "1.2.3", "mg", "{beats}/min", "x",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

/* The first attribute value (text: element text; < 0: either, at random)
 * after a random point replaced by v (NULL: one of values). */
static void put_value(struct fuzz_input *in, int text, const char *v)
{
	size_t at = fuzz_below(in->n + 1);
	if (text < 0)
		text = fuzz_below(3) == 0;
	const char *open = text ? ">" : "=\"", *close = text ? "<" : "\"";
	size_t ol = strlen(open), i = at;
	while (i + ol < in->n && memcmp(in->p + i, open, ol) != 0)
		i++;
	if (i + ol >= in->n)
		return;
	size_t b = i + ol, e = b;
	while (e < in->n && in->p[e] != close[0])
		e++;
	if (e >= in->n)
		return;
	if (!v)
		v = values[fuzz_below(sizeof values / sizeof values[0])];
	size_t vl = strlen(v);
	if (in->n - (e - b) + vl > FUZZ_MAX)
		return;
	memmove(in->p + b + vl, in->p + e, in->n - e);
	memcpy(in->p + b, v, vl);
	in->n = in->n - (e - b) + vl;
}

/* a whole C-CDA document, small enough to damage */
static int clinical_document(const char *path, struct span text)
{
	(void)path;
	return text.n <= FUZZ_MAX && strstr(text.p, "ClinicalDocument") != NULL; /* tu_slurp ends it with a NUL */
}

static void test_damaged_documents(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	unsigned long iters = fuzz_env("OMO_FUZZ_ITERS", 2000), seed = fuzz_env("OMO_FUZZ_SEED", 1);
	const char *dir = tu_tmpdir("test_ccda_fuzz");
	char secret[4200], doctype[4400], path[4200], prev[4200];
	snprintf(secret, sizeof secret, "%s/secret.txt", dir);
	assert_int_equal(tu_write(secret, SECRET "\n"), 0);
	snprintf(doctype, sizeof doctype, "<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM \"file://%s\">]>", secret);
	snprintf(path, sizeof path, "%s/input.xml", dir);
	snprintf(prev, sizeof prev, "%s/previous.xml", dir);
	const char *tokens[] = {
		"<", ">", "</", "/>", "&", "&amp;", "&lt;", "&#0;", "&#x1F;", "&#xD800;", "&#1114112;", "&#233;", "&xxe;",
		"&unknown;", "<![CDATA[", "]]>", "<!--", "-->", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>", "encoding=\"x-unknown\"", "\xef\xbb\xbf", "\xff\xfe", "",
		"\x80", "\xc3\xa9", "\xc3", "\xed\xa0\x80", "\xe9", "value=\"20230230\"", "value=\"2023021\"",
		"value=\"20231301120000+2500\"", "value=\"19991231235960\"", "value=\"1e309\"", "value=\"NaN\"",
		"value=\"-\"", "unit=\"\"", "xsi:type=\"PQ\"", "xsi:type=\"CD\"", "nullFlavor=\"UNK\"", "<entry>", "</entry>",
		"<observation classCode=\"OBS\" moodCode=\"EVN\">", "</observation>", "<effectiveTime value=\"2023\"/>",
		"<id root=\"\"/>", "<id root=\"1.2.3\" extension=\"\xc3\xa9\"/>", "<code code=\"\" codeSystem=\"\"/>",
		"xmlns=\"urn:hl7-org:v3\"", "xmlns=\"\"", doctype,
		"<!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
	};

	const char *dirs[2] = { tu_shared("ccda"), tu_fixture("ccda") };
	size_t ns;
	struct fuzz_input *seeds = fuzz_seeds(dirs, 2, clinical_document, &ns);
	assert_true(ns >= 100);

	struct extractor *x;
	struct conf_site site;
	struct err e;
	memset(&site, 0, sizeof site);
	site.id = "fuzz";
	if (extract_ccda.open(&x, NULL, &site, &e) < 0)
		fail_msg("open: %s", e.msg);
	/* OMO_FUZZ_REPLAY=A[:B...]: those documents read in turn by one
	 * extractor, each against a fresh extractor's reading of it alone */
	const char *replay = getenv("OMO_FUZZ_REPLAY");
	if (replay) {
		char list[8192];
		snprintf(list, sizeof list, "%s", replay);
		for (char *save = NULL, *f = strtok_r(list, ":", &save); f; f = strtok_r(NULL, ":", &save)) {
			struct extractor *fresh;
			struct fuzz_sink a, b;
			if (extract_ccda.open(&fresh, NULL, &site, &e) < 0 || extract_ccda.run(fresh, f, fuzz_begin(&a, f), &e) != 0 ||
			    extract_ccda.run(x, f, fuzz_begin(&b, f), &e) != 0)
				fail_msg("%s: %s", f, e.msg);
			fuzz_end(&a);
			fuzz_end(&b);
			tu_same_lines(f, "after the documents before it", a.out, b.out);
			free(a.out);
			free(b.out);
			extract_ccda.close(fresh);
		}
		iters = 0;
	}

	struct fuzz_input in;
	fuzz_input_init(&in);
	unsigned long loaded = 0, quarantined = 0, skipped = 0;
	struct fuzz_keep keep;
	fuzz_keep_open(&keep);
	fuzz_seed(seed);
	for (unsigned long it = 0; it < iters; it++) {
		const struct fuzz_input *s = &seeds[fuzz_below(ns)], *from = &seeds[fuzz_below(ns)];
		fuzz_input_set(&in, s->p, s->n);
		if (fuzz_below(2))
			for (size_t k = 1 + fuzz_below(8); k > 0; k--)
				put_value(&in, -1, NULL); /* well formed still, mostly */
		else
			for (size_t k = 1 + fuzz_below(4); k > 0; k--)
				fuzz_mutate(&in, from, bytes, tokens, sizeof tokens / sizeof tokens[0]);
		if (fuzz_below(8) == 0) {
			/* the local file's entity declared where a DOCTYPE goes
			 * (after the XML declaration), and used as element text
			 * (an attribute may not refer to an external entity) */
			in.p[in.n] = '\0';
			const char *after = strstr(in.p, "?>");
			size_t at = after ? (size_t)(after - in.p) + 2 : 0, dl = strlen(doctype);
			if (in.n + dl + 5 <= FUZZ_MAX) {
				memmove(in.p + at + dl, in.p + at, in.n - at);
				memcpy(in.p + at, doctype, dl);
				in.n += dl;
				for (int k = 0; k < 4; k++)
					put_value(&in, 1, "&xxe;");
			}
		}
		rename(path, prev); /* what the extractor read before: state it kept shows with both */
		if (tu_write_bytes(path, in.p, in.n) < 0)
			fail_msg("cannot write %s", path);
		char ctx[4400];
		snprintf(ctx, sizeof ctx, "seed %lu iteration %lu (%s)", seed, it, path);
		struct fuzz_sink f[2];
		for (int r = 0; r < 2; r++) {
			if (extract_ccda.run(x, path, fuzz_begin(&f[r], ctx), &e) != 0)
				fail_msg("%s: the run stopped: %s", ctx, e.msg);
			fuzz_end(&f[r]);
		}
		if (f[0].begun != 1)
			fail_msg("%s: %lu source records for one document", ctx, f[0].begun);
		if (strstr(f[0].out, SECRET))
			fail_msg("%s: the local file's content was read into a record", ctx);
		tu_same_lines(ctx, "the second time", f[0].out, f[1].out);
		if (keep.counts) {
			char rel[64];
			snprintf(rel, sizeof rel, "fuzz-%lu.xml", it);
			fuzz_keep_add(&keep, rel, in.p, in.n, &f[0], 0);
		}
		free(f[0].out);
		free(f[1].out);
		loaded += f[0].loaded;
		quarantined += f[0].quarantined;
		skipped += f[0].skipped;
	}
	printf("%lu documents: %lu loaded, %lu quarantined, %lu skipped\n", iters, loaded, quarantined, skipped);
	if (iters >= 1000 && !replay) {
		assert_true(quarantined > iters / 4);
		assert_true(loaded > iters / 10);
	}
	fuzz_keep_close(&keep);
	extract_ccda.close(x);
	fuzz_input_free(&in);
	fuzz_seeds_free(seeds, ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damaged_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
