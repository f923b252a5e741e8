/*
 * test_hl7_tok.c - the HL7 v2 tokenizer (etl/extract/hl7_tok.h).
 *
 * Every file under ../shared/data/hl7v2 is read whole, one byte at a time and
 * 7 bytes at a time (and with SSE2 where the CPU has AVX2); a digest of
 * every frame (kind, record number, line,
 * offset, segments, every field unescaped or its error) must be the same.
 * Then: delimiters from MSH-1/MSH-2, escapes, repetitions/components/
 * subcomponents, CR/LF/CRLF, BOM, MLLP, batches, comments, oversized
 * messages in bounded memory.
 */
#include "testutil.h"
#include "etl/extract/hl7_tok.h"
#include "core/hash.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- a digest of everything the tokenizer yields ------------------------- */

struct dig {
	struct hash_stream hs;
	unsigned long frames, msgs, junk, large, segs, fields, bad;
};

static void add(struct dig *d, const void *p, size_t n)
{
	hash_stream_add(&d->hs, p, n);
}

static void add_u64(struct dig *d, uint64_t v)
{
	add(d, &v, sizeof v);
}

static int use_avx2 = 1; /* 0: find line ends and split with SSE2 even where the CPU has AVX2 */

/* Tokenize w completely into a digest (hex). */
static void digest_win(struct win *w, struct dig *d, char hex[33])
{
	struct hl7_stream st;
	struct hl7_frame f;
	struct hl7_msg m;
	struct arena a;
	struct err e;
	int r;

	memset(d, 0, sizeof *d);
	hash_stream_init(&d->hs);
	arena_init(&a, 4096);
	hl7_msg_setup(&m, &a);
	m.avx2 = m.avx2 && use_avx2;
	win_skip_bom(w);
	hl7_stream_init(&st, w);
	st.avx2 = st.avx2 && use_avx2;
	while ((r = hl7_stream_next(&st, &f, &e)) > 0) {
		d->frames++;
		add_u64(d, (uint64_t)f.kind);
		add_u64(d, f.msgno);
		add_u64(d, f.line);
		add_u64(d, f.offset);
		add_u64(d, f.n);
		add(d, f.p, f.n);
		if (f.kind == HL7_JUNK)
			d->junk++;
		if (f.kind == HL7_TOO_LARGE)
			d->large++;
		if (f.kind != HL7_MSG)
			continue;
		d->msgs++;
		memset(&e, 0, sizeof e);
		if (hl7_msg_init(&m, &f, &e) < 0) {
			d->bad++;
			add(d, e.pos.where, strlen(e.pos.where));
			continue;
		}
		for (size_t i = 0; i < m.nseg; i++) {
			struct hl7_seg *s = &m.seg[i];
			unsigned nf = hl7_nfields(&m, s);
			d->segs++;
			add(d, s->id, 3);
			add_u64(d, hl7_seg_ord(&m, s));
			add_u64(d, s->line);
			for (unsigned k = 1; k <= nf; k++) {
				struct span v = hl7_field(&m, s, k), t;
				d->fields++;
				if (i == 0 && k <= 2) {
					add(d, v.p, v.n);
					continue;
				}
				if (hl7_text(&m, v, &t, &e) < 0)
					add(d, "!", 1);
				else
					add(d, t.p, t.n);
			}
		}
		arena_reset(&a);
	}
	assert_int_equal(r, 0);
	hash128_hex(hash_stream_end(&d->hs), hex);
	hl7_stream_free(&st);
	hl7_msg_free(&m);
	arena_free(&a);
}

static void digest_file(const char *path, size_t max_read, struct dig *d, char hex[33])
{
	struct win w;
	struct err e;
	assert_int_equal(win_open(&w, path, 16u << 20, &e), 0);
	if (max_read)
		w.rd.max_read = max_read;
	digest_win(&w, d, hex);
	win_close(&w);
}

static void digest_mem(const char *s, size_t n, size_t max_read, size_t max, struct dig *d, char hex[33])
{
	struct win w;
	struct err e;
	assert_int_equal(win_open_mem(&w, s, n, max, &e), 0);
	if (max_read)
		w.rd.max_read = max_read;
	digest_win(&w, d, hex);
	win_close(&w);
}

static void test_every_fixture_whole_and_byte_by_byte(void **state)
{
	(void)state;
	char **files = NULL;
	size_t n = 0;
	unsigned long msgs = 0, segs = 0;
	tu_list_files(tu_shared("hl7v2"), &files, &n);
	assert_true(n >= 170);
	for (size_t i = 0; i < n; i++) {
		struct dig a, b, c, d;
		char ha[33], hb[33], hc[33], hd[33];
		digest_file(files[i], 0, &a, ha);
		digest_file(files[i], 1, &b, hb);
		digest_file(files[i], 7, &c, hc);
		use_avx2 = 0; /* the other way line ends are found and fields split */
		digest_file(files[i], 0, &d, hd);
		use_avx2 = 1;
		if (strcmp(ha, hb) != 0 || strcmp(ha, hc) != 0 || strcmp(ha, hd) != 0)
			fail_msg("%s: whole %s, byte by byte %s, 7 bytes %s, SSE2 %s", files[i], ha, hb, hc, hd);
		assert_true(a.frames >= 1);
		msgs += a.msgs;
		segs += a.segs;
		free(files[i]);
	}
	free(files);
	/* 173 files with 204 MSH segments between them (messages.txt 18, example_oml_o21 13 ...) */
	assert_int_equal(msgs, 204);
	assert_true(segs > 2500);
}

/* --- framing ------------------------------------------------------------- */

struct fr {
	int kind;
	uint64_t msgno, line, offset;
	size_t nsegs, n;
	char first[4];
};

static size_t frames(const char *s, size_t n, size_t max_read, size_t max, struct fr *out, size_t cap)
{
	struct win w;
	struct hl7_stream st;
	struct hl7_frame f;
	struct err e;
	size_t k = 0;
	int r;
	assert_int_equal(win_open_mem(&w, s, n, max, &e), 0);
	if (max_read)
		w.rd.max_read = max_read;
	win_skip_bom(&w);
	hl7_stream_init(&st, &w);
	while ((r = hl7_stream_next(&st, &f, &e)) > 0) {
		assert_true(k < cap);
		out[k].kind = f.kind;
		out[k].msgno = f.msgno;
		out[k].line = f.line;
		out[k].offset = f.offset;
		out[k].nsegs = f.nsegs;
		out[k].n = f.n;
		memset(out[k].first, 0, 4);
		if (f.nsegs)
			memcpy(out[k].first, f.p + f.segs[0].off, 3);
		k++;
	}
	assert_int_equal(r, 0);
	hl7_stream_free(&st);
	win_close(&w);
	return k;
}

static void test_line_ends_bom_comments_batches(void **state)
{
	(void)state;
	static const char in[] =
		"\xEF\xBB\xBF/* a comment\n"
		" * spanning lines */\n"
		"FHS|^~\\&|A\r\n"
		"BHS|^~\\&|A\r\n"
		"MSH|^~\\&|A|B|C|D|20230101||ADT^A01|1|P|2.5\r\n"
		"PID|1||1^^^H^MR\r\n"
		"\r\n"
		"// between messages\n"
		"MSH|^~\\&|A|B|C|D|20230101||ADT^A01|2|P|2.5\r"
		"PID|1||2^^^H^MR\r"
		"PV1|1|I\n"
		"BTS|2\r\n"
		"EVN|A01\n"
		"PID|1||3\n"
		"FTS|1\r\n"
		"MSH|^~\\&|A|B|C|D|20230101||ADT^A01|3|P|2.5\n"
		"PID|1||4";
	struct fr f[8];
	for (size_t mr = 0; mr <= 3; mr++) {
		size_t n = frames(in, sizeof in - 1, mr, 0, f, 8);
		assert_int_equal(n, 4);
		assert_int_equal(f[0].kind, HL7_MSG);
		assert_int_equal(f[0].nsegs, 2);
		assert_int_equal(f[0].line, 5);
		assert_int_equal(f[0].offset, 3 + 13 + 21 + 12 + 12); /* after BOM, comment, FHS, BHS */
		assert_int_equal(f[1].kind, HL7_MSG);
		assert_int_equal(f[1].nsegs, 3);
		assert_int_equal(f[1].line, 9);
		assert_int_equal(f[2].kind, HL7_JUNK);   /* EVN, PID without MSH */
		assert_int_equal(f[2].nsegs, 2);
		assert_string_equal(f[2].first, "EVN");
		assert_int_equal(f[2].line, 13);
		assert_int_equal(f[3].kind, HL7_MSG);
		assert_int_equal(f[3].nsegs, 2);         /* last line without terminator */
		assert_int_equal(f[3].msgno, 4);
	}
}

static void test_mllp(void **state)
{
	(void)state;
	static const char in[] =
		"\x0bMSH|^~\\&|A|B|C|D|20230101||ADT^A01|1|P|2.5\rPID|1||1\r\x1c\r"
		"\x0bMSH|^~\\&|A|B|C|D|20230101||ADT^A01|2|P|2.5\rPID|1||2\rPV1|1|O\x1c\r";
	struct fr f[4];
	for (size_t mr = 0; mr <= 1; mr++) {
		size_t n = frames(in, sizeof in - 1, mr, 0, f, 4);
		assert_int_equal(n, 2);
		assert_int_equal(f[0].nsegs, 2);
		assert_int_equal(f[1].nsegs, 3);
		assert_string_equal(f[1].first, "MSH");
	}
}

/* A message far beyond the window's limit: one HL7_TOO_LARGE frame, the
 * next message intact, memory bounded by the limit. */
static void test_too_large(void **state)
{
	(void)state;
	size_t big = 3u << 20;
	char *in = xmalloc(big + 512);
	size_t k = 0;
	k += (size_t)sprintf(in + k, "MSH|^~\\&|A|B|C|D|20230101||ADT^A01|1|P|2.5\rPID|1||");
	while (k < big)
		k += (size_t)sprintf(in + k, "1^^^H^MR~");
	k += (size_t)sprintf(in + k, "\rPV1|1|I\rMSH|^~\\&|A|B|C|D|20230101||ADT^A01|2|P|2.5\rPID|1||2\r");
	struct fr f[4];
	for (size_t mr = 0; mr <= 1; mr += 1) {
		size_t n = frames(in, k, mr ? 4096 : 0, 1u << 20, f, 4);
		assert_int_equal(n, 2);
		assert_int_equal(f[0].kind, HL7_TOO_LARGE);
		assert_int_equal(f[0].msgno, 1);
		assert_int_equal(f[1].kind, HL7_MSG);
		assert_int_equal(f[1].msgno, 2);
		assert_int_equal(f[1].nsegs, 2);
		assert_int_equal(f[1].line, 4);
	}
	/* with a limit above its size, it parses: one message of 3 segments */
	size_t n = frames(in, k, 0, 16u << 20, f, 4);
	assert_int_equal(n, 2);
	assert_int_equal(f[0].kind, HL7_MSG);
	assert_int_equal(f[0].nsegs, 3);
	free(in);
}

/* A message of n bytes (its last CR included), its PID padded. */
static size_t msg_of(char *o, size_t n, int id)
{
	size_t k = (size_t)sprintf(o, "MSH|^~\\&|A|B|C|D|20230101||ADT^A01|%d|P|2.5\rPID|1||%d^^^H^MR||", id, id);
	assert_true(k + 1 <= n);
	memset(o + k, 'X', n - k - 1);
	o[n - 1] = '\r';
	return n;
}

/* Whether a frame is too large does not hang on where reads end: a message
 * of max bytes is one, of max + 1 too large, found whole or cut off; a
 * message followed by an MSH line longer than the window (its own message
 * too large) stays a message, and the one after loads; a batch line or a
 * comment longer than max is one too-large frame, as cut off it must be. */
static void test_too_large_wherever_read(void **state)
{
	(void)state;
	const size_t max = 4096, reads[] = { 0, 1, 7, 1000, 4095, 4096, 5000 };
	char *in = xmalloc(8 * max);
	struct fr f[8];
	for (size_t r = 0; r < sizeof reads / sizeof reads[0]; r++) {
		for (size_t extra = 0; extra <= 1; extra++) {
			size_t k = msg_of(in, max + extra, 1);
			k += msg_of(in + k, 100, 2);
			assert_int_equal(frames(in, k, reads[r], max, f, 8), 2);
			assert_int_equal(f[0].kind, extra ? HL7_TOO_LARGE : HL7_MSG);
			assert_int_equal(f[0].n, max);
			assert_int_equal(f[1].kind, HL7_MSG);
			assert_int_equal(f[1].msgno, 2);
		}
		/* a message just short of max, then one whose MSH line alone is
		 * longer than the window holds (twice max), then a third */
		size_t k = msg_of(in, max - 10, 1);
		size_t k2 = (size_t)sprintf(in + k, "MSH|^~\\&|");
		memset(in + k + k2, 'Y', 3 * max);
		k += k2 + 3 * max;
		in[k++] = '\r';
		k += msg_of(in + k, 100, 3);
		assert_int_equal(frames(in, k, reads[r], max, f, 8), 3);
		assert_int_equal(f[0].kind, HL7_MSG);
		assert_int_equal(f[0].nsegs, 2);
		assert_int_equal(f[1].kind, HL7_TOO_LARGE);
		assert_int_equal(f[1].line, 3);
		assert_int_equal(f[1].n, max);
		assert_int_equal(f[2].kind, HL7_MSG);
		assert_int_equal(f[2].msgno, 3);
		assert_int_equal(f[2].line, 4);
		/* a batch header and a comment line longer than max: each a
		 * too-large frame, the PID line after it a part of it */
		for (int c = 0; c < 2; c++) {
			k = (size_t)sprintf(in, c ? "/* " : "BHS|^~\\&|");
			memset(in + k, 'Z', 2 * max);
			k += 2 * max;
			k += (size_t)sprintf(in + k, c ? " */\rPID|1\r" : "\rPID|1\r");
			k += msg_of(in + k, 100, 4);
			assert_int_equal(frames(in, k, reads[r], max, f, 8), 2);
			assert_int_equal(f[0].kind, HL7_TOO_LARGE);
			assert_int_equal(f[0].line, 1);
			assert_int_equal(f[1].kind, HL7_MSG);
			assert_int_equal(f[1].line, 3);
		}
	}
	free(in);
}

/* --- one message --------------------------------------------------------- */

struct one {
	struct win w;
	struct hl7_stream st;
	struct hl7_frame f;
	struct hl7_msg m;
	struct arena a;
	struct err e;
};

static int one_open(struct one *o, const char *s)
{
	memset(o, 0, sizeof *o);
	assert_int_equal(win_open_mem(&o->w, s, strlen(s), 0, &o->e), 0);
	hl7_stream_init(&o->st, &o->w);
	assert_int_equal(hl7_stream_next(&o->st, &o->f, &o->e), 1);
	arena_init(&o->a, 4096);
	hl7_msg_setup(&o->m, &o->a);
	return hl7_msg_init(&o->m, &o->f, &o->e);
}

static void one_close(struct one *o)
{
	hl7_stream_free(&o->st);
	win_close(&o->w);
	hl7_msg_free(&o->m);
	arena_free(&o->a);
}

static void assert_span(struct span s, const char *want)
{
	if (!span_eq_str(s, want))
		fail_msg("got '%.*s', want '%s'", (int)s.n, s.p ? s.p : "", want);
}

static struct span text(struct one *o, struct span raw)
{
	struct span t;
	assert_int_equal(hl7_text(&o->m, raw, &t, &o->e), 0);
	return t;
}

/* Fields first .. last of s as hl7_field gives them, against a plain cut at
 * '|' from byte 3 (field first starts after it: 2 for MSH, 1 for others);
 * the first past the end empty. */
static void fields_cut(struct hl7_msg *m, struct hl7_seg *s, unsigned first, unsigned last)
{
	const char *q = s->p + 3, *end = s->p + s->n;
	for (unsigned f = first; f <= last; f++) {
		struct span v = hl7_field(m, s, f);
		if (q >= end) {
			assert_int_equal(v.n, 0);
			return;
		}
		const char *b = q + 1, *c = memchr(b, '|', (size_t)(end - b));
		if (!c)
			c = end;
		assert_ptr_equal(v.p, b);
		assert_int_equal(v.n, (size_t)(c - b));
		q = c;
	}
}

static void test_delimiters_from_msh(void **state)
{
	(void)state;
	struct one o;
	/* standard */
	assert_int_equal(one_open(&o, "MSH|^~\\&|APP|FAC|||20230101||ORU^R01|1|P|2.5\r"
	                              "PID|1||123^^^HOSP&1.2.3&ISO^MR~456^^^SSA^SS||DOE^JOHN\r"), 0);
	struct hl7_seg *msh = &o.m.seg[0], *pid = &o.m.seg[1];
	assert_span(hl7_field(&o.m, msh, 1), "|");
	assert_span(hl7_field(&o.m, msh, 2), "^~\\&");
	assert_span(hl7_field(&o.m, msh, 3), "APP");
	assert_span(hl7_comp(&o.m, hl7_field(&o.m, msh, 9), 2), "R01");
	assert_int_equal(hl7_nfields(&o.m, msh), 12);
	struct span f3 = hl7_field(&o.m, pid, 3);
	assert_int_equal(hl7_count(f3, o.m.d.rs), 2);
	assert_span(hl7_comp(&o.m, hl7_rep(&o.m, f3, 2), 1), "456");
	assert_span(hl7_sub(&o.m, hl7_comp(&o.m, hl7_rep(&o.m, f3, 1), 4), 2), "1.2.3");
	assert_span(hl7_field(&o.m, pid, 9), "");     /* beyond the last field */
	assert_span(hl7_comp(&o.m, hl7_field(&o.m, pid, 5), 3), "");
	one_close(&o);

	/* unusual but legal: field separator ^, component ~, repetition | */
	assert_int_equal(one_open(&o, "MSH^~|\\&^SENDING^200M^^^20120918173931-0500^^ADT~A24^1^T^2.4\r\n"
	                              "PID^1^^11111~~~FOO&&0363~NI|22222^^SMITH~JOHN\r\n"), 0);
	pid = &o.m.seg[1];
	assert_int_equal(o.m.d.fs, '^');
	assert_int_equal(o.m.d.cs, '~');
	assert_int_equal(o.m.d.rs, '|');
	assert_span(hl7_comp(&o.m, hl7_field(&o.m, &o.m.seg[0], 9), 2), "A24");
	f3 = hl7_field(&o.m, pid, 3);
	assert_span(hl7_comp(&o.m, hl7_rep(&o.m, f3, 1), 5), "NI");
	assert_span(hl7_sub(&o.m, hl7_comp(&o.m, hl7_rep(&o.m, f3, 1), 4), 1), "FOO");
	assert_span(hl7_rep(&o.m, f3, 2), "22222");
	one_close(&o);

	/* MSH-n as a plain cut at '|' gives it (MSH-1 the separator itself),
	 * field 0 empty at the end; split to 17 (as for other segments' field
	 * 17), MSH-18 is there without more splitting */
	{
		char in[512];
		size_t k = (size_t)sprintf(in, "MSH|^~\\&");
		for (int f = 3; f <= 20; f++)
			k += (size_t)(f == 17 || f == 18 ? sprintf(in + k, "|%d%040d", f, 0) : sprintf(in + k, "|%d", f));
		sprintf(in + k, "\rPID|1\r");
		assert_int_equal(one_open(&o, in), 0);
		msh = &o.m.seg[0];
		hl7_split_to(&o.m, msh, 17);
		assert_true(msh->nfo > 18);
		assert_int_equal(hl7_nfields(&o.m, msh), 20);
		assert_span(hl7_field(&o.m, msh, 1), "|");
		fields_cut(&o.m, msh, 2, 21);
		struct span z = hl7_field(&o.m, msh, 0);
		assert_int_equal(z.n, 0);
		assert_ptr_equal(z.p, msh->p + msh->n);
		one_close(&o);
	}

	/* only three encoding characters (v2.1 files): no subcomponents */
	assert_int_equal(one_open(&o, "MSH|^~}|A|B|C|D|1993||BAR^P01|1|P|2.1\rPID|||1&2^x\r"), 0);
	assert_int_equal(o.m.d.es, '}');
	assert_int_equal(o.m.d.ss, '\0');
	assert_span(hl7_sub(&o.m, hl7_comp(&o.m, hl7_field(&o.m, &o.m.seg[1], 3), 1), 1), "1&2");
	one_close(&o);
}

/* Occurrence numbers are counted per id; the id set says "absent" for no id
 * the message holds, and for the ids asked about below that it does not (EVN
 * and PD1 are those the extractor asks about), message after message. */
static void test_seg_ord_and_lacks(void **state)
{
	(void)state;
	struct one o;
	assert_int_equal(one_open(&o, "MSH|^~\\&|A|B|C|D|20230101||ADT^A01|1|P|2.5\rEVN|A01\rPD1|1\r"
	                              "MSH|^~\\&|A|B|C|D|20230101||ORU^R01|2|P|2.5\r"
	                              "PID|1\rOBR|1\rOBX|1\rNTE|1\rOBX|2\rOBX|3\rOBR|2\rOBX|1\rZPI|1\r"), 0);
	assert_int_equal(hl7_msg_lacks(&o.m, "EVN"), 0);
	assert_int_equal(hl7_msg_lacks(&o.m, "PD1"), 0);
	assert_int_equal(hl7_msg_lacks(&o.m, "OBX"), 1);
	assert_int_equal(hl7_seg_ord(&o.m, &o.m.seg[2]), 1);
	assert_int_equal(hl7_stream_next(&o.st, &o.f, &o.e), 1);
	assert_int_equal(hl7_msg_init(&o.m, &o.f, &o.e), 0);
	static const unsigned ord[] = { 1, 1, 1, 1, 1, 2, 3, 2, 4, 1 };
	assert_int_equal(o.m.nseg, 10);
	for (size_t i = 0; i < o.m.nseg; i++) {
		assert_int_equal(hl7_seg_ord(&o.m, &o.m.seg[i]), ord[i]);
		assert_int_equal(hl7_msg_lacks(&o.m, o.m.seg[i].id), 0);
	}
	assert_int_equal(hl7_msg_lacks(&o.m, "EVN"), 1);
	assert_int_equal(hl7_msg_lacks(&o.m, "PD1"), 1);
	one_close(&o);
}

/* Messages read one after another into the same hl7_msg: the delimiters of
 * each (those of the last message are kept while MSH starts with the same 8
 * bytes after "MSH"), also after a message with bad ones. */
static void test_delimiters_message_after_message(void **state)
{
	(void)state;
	static const char in[] =
		"MSH|^~\\&|A|B|C|D|1||ORU^R01|1|P|2.5\rPID|1||x^y~z\r"
		"MSH|^~\\&#|A|B|C|D|1||ORU^R01|2|P|2.5\rPID|1||x^y~z\r"
		"MSH|^~\\&|A|B|C|D|1||ORU^R01|3|P|2.5\rPID|1||x^y~z\r"
		"MSH|^^\\&|A|B|C|D|1||ORU^R01|4|P|2.5\rPID|1||x^y~z\r"
		"MSH|^~\\&|A|B|C|D|1||ORU^R01|5|P|2.5\rPID|1||x^y~z\r"
		"MSH*^~\\&*A*B*C*D*1**ORU^R01*6*P*2.5\rPID*1**x^y~z\r"
		"MSH|^~\\&|A\rPID|1||x^y~z\r"
		"MSH|^~|&\\|A|B|C|D|1||ORU^R01|8|P|2.5\rPID|1||x^y~z\r"
		"MSH|^~|&\\|A|B|C|D|1||ORU^R01|9|P|2.5\rPID|1||x^y~z\r"
		"MSH|^~\\&|A|B|C|D|1||ORU^R01|10|P|2.5\rPID|1||x^y~z\r";
	static const struct { char fs, cs, rs, es, ss; const char *comp2; } want[] = {
		{ '|', '^', '~', '\\', '&', "y~z" },
		{ '|', '^', '~', '\\', '&', "y~z" },
		{ '|', '^', '~', '\\', '&', "y~z" },
		{ 0, 0, 0, 0, 0, NULL }, /* component twice */
		{ '|', '^', '~', '\\', '&', "y~z" },
		{ '*', '^', '~', '\\', '&', "y~z" },
		{ '|', '^', '~', '\\', '&', "y~z" },
		{ '|', '^', '~', 0, 0, "y~z" },
		{ '|', '^', '~', 0, 0, "y~z" },
		{ '|', '^', '~', '\\', '&', "y~z" },
	};
	struct win w;
	struct err e;
	struct hl7_stream st;
	struct hl7_frame f;
	struct hl7_msg m;
	struct arena a;
	size_t k = 0;
	assert_int_equal(win_open_mem(&w, in, sizeof in - 1, 0, &e), 0);
	arena_init(&a, 4096);
	hl7_msg_setup(&m, &a);
	hl7_stream_init(&st, &w);
	while (hl7_stream_next(&st, &f, &e) > 0) {
		assert_true(k < sizeof want / sizeof *want);
		memset(&e, 0, sizeof e);
		int rc = hl7_msg_init(&m, &f, &e);
		if (!want[k].comp2) {
			assert_int_equal(rc, -E_PARSE);
			assert_string_equal(e.pos.where, "MSH-2");
			k++;
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(m.d.fs, want[k].fs);
		assert_int_equal(m.d.cs, want[k].cs);
		assert_int_equal(m.d.rs, want[k].rs);
		assert_int_equal(m.d.es, want[k].es);
		assert_int_equal(m.d.ss, want[k].ss);
		assert_span(hl7_field(&m, &m.seg[1], 1), "1");
		assert_span(hl7_comp(&m, hl7_field(&m, &m.seg[1], 3), 2), want[k].comp2);
		k++;
	}
	assert_int_equal(k, sizeof want / sizeof *want);
	hl7_stream_free(&st);
	hl7_msg_free(&m);
	arena_free(&a);
	win_close(&w);
}

static void test_bad_delimiters(void **state)
{
	(void)state;
	struct one o;
	static const struct { const char *msg, *where; } bad[] = {
		{ "MSH|^^\\&|A\rPID|1\r", "MSH-2" },         /* component twice */
		{ "MSH|^~\\\\|A\rPID|1\r", "MSH-2" },         /* escape = subcomponent */
		{ "MSH||A|B\rPID|1\r", "MSH-2" },            /* none */
		{ "MSHA^~\\&|A\rPID|1\r", "MSH-1" },         /* alphanumeric separator */
		{ "MSH|^~\\&|A\rPID|1\rOB\r", "segment 3" }, /* truncated segment */
		{ "MSH|^~\\&|A\rPID^1\r", "segment 2" },     /* another field separator */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = one_open(&o, bad[i].msg);
		if (rc != -E_PARSE)
			fail_msg("case %zu: %d", i, rc);
		assert_string_equal(o.e.pos.where, bad[i].where);
		one_close(&o);
	}
}

static void test_escapes(void **state)
{
	(void)state;
	struct one o;
	assert_int_equal(one_open(&o, "MSH|^~\\&|A|B|C|D|20230101||ORU^R01|1|P|2.5\rOBX|1|TX|\r"), 0);
	assert_span(text(&o, SPAN_LIT("A\\T\\E and \\F\\ \\S\\ \\R\\ \\E\\")), "A&E and | ^ ~ \\");
	assert_span(text(&o, SPAN_LIT("line\\.br\\two")), "line\ntwo");
	assert_span(text(&o, SPAN_LIT("\\H\\bold\\N\\")), "bold");
	assert_span(text(&o, SPAN_LIT("\\X41C3A9\\")), "A\xC3\xA9");
	assert_span(text(&o, SPAN_LIT("\"\"")), "");
	struct span plain = SPAN_LIT("no escapes");
	struct span t = text(&o, plain);
	assert_ptr_equal(t.p, plain.p); /* not copied */
	static const char *const bad[] = { "open \\F", "\\Q\\", "\\X4\\", "\\XZZ\\", "\\\\", "\\Cxxyy\\", "\xC3(" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct span out;
		assert_int_equal(hl7_text(&o.m, span_of(bad[i]), &out, &o.e), -E_ENCODING);
	}
	/* Latin-1 is turned into UTF-8 */
	o.m.charset = HL7_CS_LATIN1;
	assert_span(text(&o, SPAN_LIT("caf\xE9")), "caf\xC3\xA9");
	o.m.charset = HL7_CS_ASCII;
	struct span out;
	assert_int_equal(hl7_text(&o.m, SPAN_LIT("caf\xC3\xA9"), &out, &o.e), -E_ENCODING);
	one_close(&o);
}

/* in[0, n) gives msgs messages of segs segments read whole, and the same
 * frames read max_read bytes at a time, for every max_read below `below`. */
static void same_in_pieces(const char *in, size_t n, size_t msgs, size_t segs, size_t below)
{
	struct dig d;
	char want[33], got[33];
	digest_mem(in, n, 0, 0, &d, want);
	assert_int_equal(d.msgs, msgs);
	assert_int_equal(d.segs, segs);
	for (size_t mr = 1; mr < below; mr++) {
		digest_mem(in, n, mr, 0, &d, got);
		assert_string_equal(got, want);
	}
}

/* The same frames whatever the read size, on a synthetic stream that puts
 * CRLF pairs, MLLP bytes and comment ends across read boundaries. */
static void test_chunk_sizes(void **state)
{
	(void)state;
	static const char in[] =
		"\x0bMSH|^~\\&|A|B|C|D|20230101||ORU^R01|1|P|2.5\r\nPID|1||7^^^H^MR\r\n"
		"OBX|1|NM|2345-7^Glucose^LN||5.5|mmol/L|3.9-6.1||||F|||20230101\r\n\x1c\r\n"
		"/* x */\n/*\n*/\n"
		"MSH|^~\\&|A|B|C|D|20230101||ORU^R01|2|P|2.5\nPID|1||8\r";
	same_in_pieces(in, sizeof in - 1, 2, 5, 40);
}

/* Bytes 8 to 15 other than CR and LF (tab, VT, FF, backspace ...) inside
 * long lines are data, wherever they fall in a 64-byte block: the same
 * frames whole as in pieces of every size. */
static void test_control_bytes_in_lines(void **state)
{
	(void)state;
	static const char in[] =
		"MSH|^~\\&|A|B|C|D|20230101||ORU^R01|1|P|2.5\r"
		"PID|1||7^^^H^MR||DOE\tJOHN\t\tX|\x0b\x0c\x08\x0e\x0f|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t\r\n"
		"OBX|1|TX|x^y^LN||\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
		"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\x0c\x0b||||||F\n"
		"NTE|1||bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\x09\r"
		"NTE|2||\x0b\r";
	char want[33] = "", got[33];
	struct dig d;
	same_in_pieces(in, sizeof in - 1, 1, 5, 80);
	digest_mem(in, sizeof in - 1, 0, 0, &d, want);
	use_avx2 = 0;
	digest_mem(in, sizeof in - 1, 0, 0, &d, got);
	use_avx2 = 1;
	assert_string_equal(got, want);
}

/* Line ends at every place of a 64-byte block (CR, LF and CRLF, the LF of a
 * CRLF in the block after its CR, a CR as the last byte of a read), MSH
 * lines ending a frame and starting the next: every segment as long as it
 * was written, whole and in pieces, with AVX2 and with SSE2. */
static void test_line_ends_in_blocks(void **state)
{
	(void)state;
	enum { MSGS = 16, SEGS = 12 };
	static const char *const ends[] = { "\r", "\n", "\r\n" };
	char *buf = xmalloc(MSGS * SEGS * 160);
	size_t n = 0, lens[MSGS * SEGS], k = 0;
	for (int msg = 0; msg < MSGS; msg++) {
		int w = sprintf(buf + n, "MSH|^~\\&|A|B|C|D|20230101||ORU^R01|%d|P|2.5", msg);
		lens[k++] = (size_t)w;
		n += (size_t)w;
		n += (size_t)sprintf(buf + n, "%s", ends[msg % 3]);
		for (int j = 1; j < SEGS; j++) {
			size_t len = 3 + (size_t)(msg * SEGS + j) * 37 % 140;
			memcpy(buf + n, "OBX", 3);
			for (size_t i = 3; i < len; i++)
				buf[n + i] = i % 5 == 3 ? '|' : (char)('a' + i % 26);
			n += len;
			lens[k++] = len;
			n += (size_t)sprintf(buf + n, "%s", ends[(msg + j) % 3]);
		}
	}
	static const size_t reads[] = { 0, 1, 7, 63, 64, 65, 100 };
	for (int avx = 1; avx >= 0; avx--) {
		for (size_t ri = 0; ri < sizeof reads / sizeof *reads; ri++) {
			struct win w;
			struct err e;
			struct hl7_stream st;
			struct hl7_frame f;
			size_t got = 0, msgs = 0;
			assert_int_equal(win_open_mem(&w, buf, n, 0, &e), 0);
			if (reads[ri])
				w.rd.max_read = reads[ri];
			hl7_stream_init(&st, &w);
			st.avx2 = st.avx2 && avx;
			while (hl7_stream_next(&st, &f, &e) > 0) {
				assert_int_equal(f.kind, HL7_MSG);
				assert_int_equal(f.nsegs, SEGS);
				assert_int_equal(f.line, (uint64_t)msgs * SEGS + 1);
				for (size_t i = 0; i < f.nsegs; i++) {
					assert_int_equal(f.segs[i].n, lens[got]);
					assert_int_equal(f.segs[i].line, (uint64_t)got + 1);
					assert_memory_equal(f.p + f.segs[i].off, i == 0 ? "MSH" : "OBX", 3);
					got++;
				}
				msgs++;
			}
			assert_int_equal(msgs, MSGS);
			hl7_stream_free(&st);
			win_close(&w);
		}
	}
	free(buf);
}

/* --- splitting a segment in steps ----------------------------------------- */

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* 1 if raw bytes [from, to) of a segment hold c (or, for the escape, a byte
 * beyond ASCII) */
static int holds(const char *p, size_t from, size_t to, char c, int high)
{
	for (size_t i = from; i < to; i++)
		if (p[i] == c || (high && (unsigned char)p[i] >= 0x80))
			return 1;
	return 0;
}

/* Fields asked for in random steps, segment after segment and back (a split
 * resumed after another segment's moves its entries), with AVX2 and with
 * SSE2: every field as a plain cut at '|' gives it, and the segment's notes
 * (clean, nosub, norep) never claim what the bytes split so far deny, and
 * once split to the end say exactly what the segment holds. Segments of 3
 * to 2100 bytes: the 32- and 16-byte rounds, the 1 KiB chunks and the tails. */
static void test_split_in_steps(void **state)
{
	(void)state;
	enum { NSEG = 12 };
	static const char alphabet[] = "||||^^~&\\AB1 \xc3\xa9";
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int round = 0; round < 400; round++) {
		/* a message of NSEG segments, one in four without any rare byte */
		char *buf = xmalloc(NSEG * 2200 + 64);
		size_t n = (size_t)sprintf(buf, "MSH|^~\\&|A\r");
		for (int k = 1; k < NSEG; k++) {
			size_t len = rng_next(&x) % 4 == 0 ? rng_next(&x) % 2100 : rng_next(&x) % 200;
			int plain = rng_next(&x) % 4 == 0;
			memcpy(buf + n, "ZZ0", 3);
			buf[n + 2] = (char)('0' + k % 10);
			n += 3;
			for (size_t i = 0; i < len; i++) {
				char c = alphabet[rng_next(&x) % (sizeof alphabet - 1)];
				if (plain && (c == '^' || c == '~' || c == '&' || c == '\\' || (unsigned char)c >= 0x80))
					c = 'A';
				buf[n++] = i == 0 ? '|' : c;
			}
			buf[n++] = '\r';
		}
		for (int avx = 1; avx >= 0; avx--) {
			struct win w;
			struct err e;
			struct hl7_stream st;
			struct hl7_frame f;
			struct hl7_msg m;
			struct arena a;
			assert_int_equal(win_open_mem(&w, buf, n, 0, &e), 0);
			arena_init(&a, 4096);
			hl7_msg_setup(&m, &a);
			m.avx2 = m.avx2 && avx;
			hl7_stream_init(&st, &w);
			assert_int_equal(hl7_stream_next(&st, &f, &e), 1);
			assert_int_equal(hl7_msg_init(&m, &f, &e), 0);
			assert_int_equal(m.nseg, NSEG);
			/* MSH split first: its entries are the first to move when
			 * m.fo grows (into a new block), read after every step */
			assert_span(hl7_field(&m, &m.seg[0], 3), "A");
			unsigned asked[NSEG] = { 0 };
			for (int step = 0; step < 6 * NSEG; step++) {
				size_t si = 1 + rng_next(&x) % (NSEG - 1);
				struct hl7_seg *s = &m.seg[si];
				unsigned k = asked[si] + 1 + (unsigned)(rng_next(&x) % 40);
				if (rng_next(&x) % 8 == 0)
					k = 100000; /* past the end */
				asked[si] = k;
				/* fields 1 .. k against a plain cut */
				const char *p = s->p;
				fields_cut(&m, s, 1, k);
				assert_span(hl7_field(&m, &m.seg[0], 2), "^~\\&");
				assert_span(hl7_field(&m, &m.seg[0], 3), "A");
				for (size_t j = 0; j < m.nseg; j++) /* moved with m.fo */
					if (m.seg[j].f0 != UINT32_MAX)
						assert_ptr_equal(m.seg[j].fe, m.fo + m.seg[j].f0);
				/* the notes hold for the bytes up to the last field split */
				size_t upto = s->done ? s->n : m.fo[s->f0 + s->nfo - 1] - 1;
				if (s->clean)
					assert_false(holds(p, 3, upto, '\\', 1));
				if (s->nosub)
					assert_false(holds(p, 3, upto, '&', 0));
				if (s->norep)
					assert_false(holds(p, 3, upto, '~', 0));
				if (s->done) {
					assert_int_equal(s->clean, !holds(p, 3, s->n, '\\', 1));
					assert_int_equal(s->nosub, !holds(p, 3, s->n, '&', 0));
					assert_int_equal(s->norep, !holds(p, 3, s->n, '~', 0));
				}
			}
			hl7_stream_free(&st);
			hl7_msg_free(&m);
			arena_free(&a);
			win_close(&w);
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_whole_and_byte_by_byte),
		cmocka_unit_test(test_line_ends_bom_comments_batches),
		cmocka_unit_test(test_mllp),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_too_large_wherever_read),
		cmocka_unit_test(test_delimiters_from_msh),
		cmocka_unit_test(test_delimiters_message_after_message),
		cmocka_unit_test(test_bad_delimiters),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_chunk_sizes),
		cmocka_unit_test(test_control_bytes_in_lines),
		cmocka_unit_test(test_line_ends_in_blocks),
		cmocka_unit_test(test_split_in_steps),
		cmocka_unit_test(test_seg_ord_and_lacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
