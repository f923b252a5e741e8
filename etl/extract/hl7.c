/*
 * hl7.c - the HL7 v2 extractor (extract_hl7v2).
 *
 *   file --hl7_tok (frames, segments, fields)--> one message at a time
 *        --MSH-9 + profile [messages]--> handler (hl7_adt.c, hl7_res.c)
 *        --struct record--> sink
 *
 * Every frame the tokenizer finds is one source record: sink_begin, then
 * sink_end (loaded), sink_quarantine (bad: reason and SEG[k]-f position) or
 * sink_skip (a message type the profile does not load: "message type
 * ACK^A01 not loaded"). Segments without MSH and oversized messages are
 * quarantined too; the rest of the file goes on. The message arena is reset
 * after each message.
 */
#include "etl/extract/hl7_int.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef HX_AVX2
#include <immintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* helpers for the handlers                                                  */

int hx_fail(struct hx *h, const struct hl7_seg *s, int f, int c, int code, const char *fmt, ...)
{
	struct err *e = h->e;
	char msg[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap); /* fmt's arguments may point into e->msg */
	va_end(ap);
	memcpy(e->msg, msg, sizeof msg);
	e->code = code;
	if (s) {
		e->pos.line = s->line;
		if (f > 0 && c > 0)
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]-%d.%d", s->id, hl7_seg_ord(h->m, s), f, c);
		else if (f > 0)
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]-%d", s->id, hl7_seg_ord(h->m, s), f);
		else
			snprintf(e->pos.where, sizeof e->pos.where, "%s[%u]", s->id, hl7_seg_ord(h->m, s));
	}
	return -code;
}

int hx_missing(struct hx *h, const char *id, int code, const char *why)
{
	snprintf(h->e->pos.where, sizeof h->e->pos.where, "%s", id);
	h->e->pos.line = h->msh->line;
	return why ? err_set(h->e, code, "%s", why) : err_set(h->e, code, "no %s segment", id);
}

/* hx_find for a stop list of any length */
static struct hl7_seg *hx_find_long(struct hx *h, size_t from, const char *id, const char *stop)
{
	for (size_t i = from; i < h->m->nseg; i++) {
		struct hl7_seg *s = &h->m->seg[i];
		if (memcmp(s->id, id, 3) == 0)
			return s;
		for (const char *p = stop; *p; p += p[3] ? 4 : 3)
			if (memcmp(s->id, p, 3) == 0)
				return NULL;
	}
	return NULL;
}

/* the three bytes of a segment id as a number */
static inline uint32_t id3(const char *p)
{
	return (uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 | (uint32_t)(unsigned char)p[2] << 16;
}

struct hl7_seg *hx_find_walk(struct hx *h, size_t from, const char *id, const char *stop)
{
	uint32_t want = id3(id), stops[16];
	size_t ns = 0;
	if (stop) {
		for (const char *p = stop; *p; p += p[3] ? 4 : 3) {
			if (ns == sizeof stops / sizeof stops[0])
				return hx_find_long(h, from, id, stop);
			stops[ns++] = id3(p);
		}
	}
	for (size_t i = from; i < h->m->nseg; i++) {
		uint32_t sid = id3(h->m->seg[i].id);
		if (sid == want)
			return &h->m->seg[i];
		for (size_t k = 0; k < ns; k++)
			if (sid == stops[k])
				return NULL;
	}
	return NULL;
}

size_t hx_comps_any(const struct hl7_msg *m, const struct hl7_seg *s, struct span v, struct span *out, size_t max)
{
	const char *p = v.p, *end = v.p + v.n, *b = p, *q, *lim = s->p + s->n;
	char cs = m->d.cs;
	/* o walks out up to its end: no index to scale per component */
	struct span *o = out, *oend = out + max;
#ifdef __SSE2__
	const __m128i vc = m->vcs;
	/* 16 bytes at a time while they are inside the segment */
	for (; b < end && lim - b >= 16; b += 16) {
		unsigned mk = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)b), vc));
		if (end - b < 16)
			mk &= (1u << (end - b)) - 1;
		for (; mk; mk &= mk - 1) {
			q = b + __builtin_ctz(mk);
			*o++ = span_make(p, (size_t)(q - p));
			if (o == oend)
				return max;
			p = q + 1;
		}
	}
#endif
	while (b < end && (q = hl7_find_byte(b, end, cs)) != NULL) {
		*o++ = span_make(p, (size_t)(q - p));
		if (o == oend)
			return max;
		b = p = q + 1;
	}
	*o++ = span_make(p, (size_t)(end - p));
	return (size_t)(o - out);
}

int hx_emit(struct hx *h, const struct record *r)
{
	int rc = h->s->ops->emit(h->s, r, h->e);
	return rc < 0 ? rc : 0;
}

void hx_note(struct hx *h, const char *what)
{
	sink_note(h->s, what);
}

#ifdef HX_AVX2
__attribute__((target("avx2"))) void hx_record_copy_avx2(struct record *r, const struct record *t)
{
	char *d = (char *)r;
	const char *src = (const char *)t;
	size_t k = 0;
	for (; k + 32 <= sizeof *r; k += 32)
		_mm256_storeu_si256((__m256i *)(void *)(d + k), _mm256_loadu_si256((const __m256i *)(const void *)(src + k)));
	if (k < sizeof *r)
		memcpy(d + k, src + k, sizeof *r - k);
}
#endif

/* ------------------------------------------------------------------------ */
/* one message                                                               */

static int charset_of(struct span v, int dflt)
{
	v = hx_trim(v);
	if (v.n == 0)
		return dflt;
	if (span_ieq_str(v, "8859/1") || span_ieq_str(v, "ISO-8859-1") || span_ieq_str(v, "ISO IR100"))
		return HL7_CS_LATIN1;
	if (span_ieq_str(v, "UNICODE UTF-8") || span_ieq_str(v, "UTF-8") || span_ieq_str(v, "UNICODE"))
		return HL7_CS_UTF8;
	if (span_ieq_str(v, "ASCII"))
		return HL7_CS_ASCII;
	return dflt;
}

/* printable part of a message-type component, for the type string */
static size_t type_part(char *o, size_t cap, struct span v)
{
	size_t k = 0;
	v = hx_trim(v);
	for (size_t i = 0; i < v.n && k + 1 < cap; i++) {
		char c = v.p[i];
		o[k++] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '?';
	}
	o[k] = '\0';
	return k;
}

/* The message type "TYPE^EVENT" of MSH-9's first repetition t9 (the event
 * from EVN-1 when MSH-9 has none), its event (trigger) and handler. A file
 * mostly holds one message type: the last MSH-9 read from the message itself
 * is remembered, with the component separator that cut it. 0, or -1 when
 * MSH-9 has no type. */
static int msg_type(struct hx *h, struct span t9, char type[16])
{
	struct extractor *x = h->x;
	struct hl7_msg *m = h->m;
	if (t9.n == x->last_t9n && m->d.cs == x->last_t9cs && mem_eq_short(t9.p, x->last_t9, t9.n)) {
		memcpy(type, x->last_type, 16);
		memcpy(h->trigger, x->last_trigger, sizeof h->trigger);
		h->handler = x->last_handler;
		return 0;
	}
	char ev[8];
	memset(type, 0, 16);
	size_t k = type_part(type, 8, hl7_comp(m, t9, 1));
	if (k == 0)
		return -1;
	size_t ke = type_part(ev, sizeof ev, hl7_comp(m, t9, 2));
	int own = ke > 0; /* the event from MSH-9 itself: remembered */
	if (ke == 0 && h->evn)
		ke = type_part(ev, sizeof ev, hl7_rep(m, hl7_field(m, h->evn, 1), 1));
	/* "TYPE^EVENT": at most 7 + 1 + 7 characters, it fits */
	type[k] = '^';
	memcpy(type + k + 1, ev, ke + 1);
	memcpy(h->trigger, ev, sizeof h->trigger);
	if (memcmp(type, x->last_type, 16) != 0) {
		memcpy(x->last_type, type, 16);
		x->last_handler = hl7_prof_handler(&x->prof, type);
	}
	h->handler = x->last_handler;
	x->last_t9n = SIZE_MAX;
	if (own && t9.n <= sizeof x->last_t9) {
		memcpy(x->last_t9, t9.p, t9.n);
		x->last_t9n = t9.n;
		x->last_t9cs = m->d.cs;
		memcpy(x->last_trigger, h->trigger, sizeof h->trigger);
	}
	return 0;
}

/*
 * A field repeated more than the profile's max_repetitions: the message is
 * quarantined at that field. Only a segment and a field at least that long
 * can hold one (a repetition takes a byte), so a message shorter than the
 * limit is not looked at.
 */
static int too_many_reps(struct hx *h)
{
	struct hl7_msg *m = h->m;
	size_t max = h->x->prof.max_reps;
	for (size_t i = 0; i < m->nseg; i++) {
		struct hl7_seg *s = &m->seg[i];
		if (s->n < max)
			continue;
		unsigned nf = hl7_nfields(m, s);
		for (unsigned k = 1; k <= nf; k++) {
			struct span v = hl7_field(m, s, k);
			size_t reps = v.n >= max ? hl7_count(v, m->d.rs) : 1;
			if (reps > max)
				return hx_fail(h, s, (int)k, 0, E_TOO_LARGE,
				               "%zu repetitions, more than the profile's max_repetitions (%zu)", reps, max);
		}
	}
	return 0;
}

/* The message quarantined for the first NUL byte in it, at its field. */
static int nul_byte(struct hx *h)
{
	struct hl7_msg *m = h->m;
	for (size_t i = 0; i < m->nseg; i++) {
		struct hl7_seg *s = &m->seg[i];
		const char *z = memchr(s->p, '\0', s->n);
		if (!z)
			continue;
		unsigned nf = hl7_nfields(m, s), k = 1;
		while (k < nf && hl7_field(m, s, k + 1).p <= z)
			k++;
		return hx_fail(h, s, z < s->p + 3 ? 0 : (int)k, 0, E_ENCODING, "a NUL byte");
	}
	return hx_missing(h, "MSH", E_ENCODING, "a NUL byte between segments");
}

/* 0 loaded, 1 skipped (reason filled), < 0 error */
static int message(struct extractor *x, const struct hl7_frame *f, struct sink *s, struct err *q,
                   char *reason, size_t rn)
{
	struct hl7_msg *m = &x->m;
	x->nmsg++;
	int rc = hl7_msg_init(m, f, q);
	if (rc < 0)
		return rc;
	struct hx h;
	/* field by field: the providers table is only read up to nprov, and
	 * a memset of the struct becomes a slow "rep stos" */
	h.x = x;
	h.m = m;
	h.s = s;
	h.e = q;
	h.a = &x->msg;
	h.handler = HH_NONE;
	memset(h.trigger, 0, sizeof h.trigger);
	h.msh = &m->seg[0];
	h.person = h.visit = h.obr_key = h.obr_provider = span_make(NULL, 0);
	h.nprov = 0;
	h.obr = NULL;
	h.evn = hx_find(&h, 1, "EVN", NULL);

	/* MSH-9, MSH-10 and MSH-18 (after the 8th, 9th and 17th separator,
	 * MSH-1 the first): the only MSH fields read per message */
	static const unsigned want[5] = { 8, 9, 10, 17, 18 };
	const char *sep[5] = { NULL };
	hx_seps_of(m, h.msh, want, 5, sep);
	struct span cs = hl7_rep(m, hx_field_at(h.msh, sep[3], sep[4]), 1);
	if (cs.n == x->last_csn && mem_eq_short(cs.p, x->last_cs, cs.n)) {
		m->charset = x->last_charset; /* as in the last message */
	} else {
		m->charset = charset_of(cs, x->prof.charset);
		x->last_csn = cs.n <= sizeof x->last_cs ? cs.n : SIZE_MAX;
		if (cs.n <= sizeof x->last_cs)
			memcpy(x->last_cs, cs.p, cs.n);
		x->last_charset = m->charset;
	}

	/* a NUL byte, which no database text holds, anywhere in the message */
	if (memchr(f->p, '\0', f->n))
		return nul_byte(&h);

	/* MSH-10, the message control id: the message's name in the ledger,
	 * as text (escapes, character set) where it is not plain ASCII */
	struct span id = hl7_rep(m, hx_field_at(h.msh, sep[1], sep[2]), 1);
	if ((hx_part_notes(m, h.msh, id) & 1) && hl7_text(m, id, &id, q) < 0)
		return hx_fail(&h, h.msh, 10, 0, E_ENCODING, "%s", q->msg);
	sink_source_id(s, id);

	char type[16];
	if (msg_type(&h, hl7_rep(m, hx_field_at(h.msh, sep[0], sep[1]), 1), type) < 0)
		return hx_fail(&h, h.msh, 9, 0, E_MISSING, "no message type");
	if (h.handler == HH_NONE) {
		snprintf(reason, rn, "message type %s not loaded", type);
		return 1;
	}
	if (f->n >= x->prof.max_reps && (rc = too_many_reps(&h)) < 0)
		return rc;
	switch (h.handler) {
	case HH_ADT: case HH_ADT_PERSON: case HH_ADT_CANCEL: case HH_ADT_UNDISCHARGE: case HH_ADT_MERGE:
		rc = hx_adt(&h);
		break;
	case HH_ORU:
		rc = hx_oru(&h);
		break;
	case HH_VXU:
		rc = hx_vxu(&h);
		break;
	case HH_RDE: case HH_RAS: case HH_RDS:
		rc = hx_rx(&h);
		break;
	case HH_PPR:
		rc = hx_ppr(&h);
		break;
	default:
		rc = err_set(q, E_INTERNAL, "no handler %d", h.handler);
	}
	if (rc == 0 && x->prof.nz)
		rc = hx_zfields(&h);
	return rc;
}

int hl7x_run_win(struct extractor *x, struct win *w, const char *path, struct sink *s, struct err *e)
{
	struct hl7_stream st;
	struct hl7_frame f;
	struct err q;
	struct err_pos pos;
	char reason[128];
	int r;

	if (x->max_read)
		w->rd.max_read = x->max_read;
	win_skip_bom(w);
	hl7_stream_init(&st, w);
	st.avx2 = st.avx2 && !x->sse2_only;
	memset(&pos, 0, sizeof pos);
	err_pos_file(&pos, path);
	memset(&q, 0, sizeof q);
	q.pos = pos;
	while ((r = hl7_stream_next(&st, &f, e)) > 0) {
		pos.record = f.msgno;
		pos.line = f.line;
		pos.offset = f.offset;
		sink_begin(s, &pos, span_make(f.p, f.n));
		q.code = 0;
		q.msg[0] = '\0';
		q.pos.record = f.msgno;
		q.pos.line = f.line;
		q.pos.offset = f.offset;
		q.pos.where[0] = '\0';
		int rc;
		if (f.kind == HL7_TOO_LARGE) {
			snprintf(q.pos.where, sizeof q.pos.where, "message");
			rc = err_set(&q, E_TOO_LARGE, "message larger than %zu bytes (profile max_message_bytes)", x->prof.max_message);
		} else if (f.kind == HL7_JUNK) {
			snprintf(q.pos.where, sizeof q.pos.where, "MSH");
			rc = err_set(&q, E_MISSING, "%zu segment(s) without an MSH segment before them", f.nsegs);
		} else {
			rc = message(x, &f, s, &q, reason, sizeof reason);
		}
		if (rc == 0) {
			r = sink_end(s, e);
		} else if (rc == 1) {
			r = sink_skip(s, reason, e);
		} else if (err_is_soft(-rc)) {
			r = sink_quarantine(s, &q, e);
		} else {
			/* a hard error from the sink (database): stop the file */
			if (e && e != &q && q.code)
				*e = q;
			r = rc;
		}
		arena_reset(&x->msg);
		if (r < 0)
			break;
	}
	x->batch_mismatch = st.batch_mismatch;
	if (st.batch_mismatch)
		log_msg(LOG_WARN, &pos, "%llu batch trailer count(s) (BTS-1) differ from the messages in the batch",
		        (unsigned long long)st.batch_mismatch);
	hl7_stream_free(&st);
	win_close(w);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------ */
/* extract_ops                                                               */

static int hl7x_open(struct extractor **out, const char *profile, const struct conf_site *site, struct err *e)
{
	struct extractor *x = xcalloc(1, sizeof *x);
	int rc = hl7_prof_load(&x->prof, profile ? profile : extract_hl7v2.default_profile, e);
	if (rc < 0) {
		hl7_prof_free(&x->prof);
		free(x);
		return rc;
	}
	x->tz = site ? site->tz : DT_TZ_KEEP;
	x->last_csn = SIZE_MAX;
	x->last_t9n = SIZE_MAX;
	x->last_dn = SIZE_MAX;
	for (int k = REC_PERSON; k <= REC_MERGE; k++)
		record_init(&x->tmpl[k], (enum rec_kind)k);
	arena_init(&x->msg, 64 * 1024);
	hl7_msg_setup(&x->m, &x->msg);
	*out = x;
	return 0;
}

static int hl7x_wants(const struct extractor *x, const char *path)
{
	return extract_has_ext(path, x->prof.ext[0], sizeof x->prof.ext[0], x->prof.next);
}

static int hl7x_run(struct extractor *x, const char *path, struct sink *s, struct err *e)
{
	struct win w;
	int rc = win_open(&w, path, x->prof.max_message, e);
	if (rc < 0) {
		win_close(&w);
		return rc;
	}
	return hl7x_run_win(x, &w, path, s, e);
}

static void hl7x_close(struct extractor *x)
{
	if (!x)
		return;
	hl7_msg_free(&x->m);
	arena_free(&x->msg);
	hl7_prof_free(&x->prof);
	free(x);
}

const struct extract_ops extract_hl7v2 = {
	"hl7v2",
	"generic-2.5.1",
	hl7x_open,
	hl7x_wants,
	hl7x_run,
	hl7x_close,
};
