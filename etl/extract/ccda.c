/*
 * ccda.c - the C-CDA extractor (extract_ccda).
 *
 *   file (plain or .zst) --rd_read--> the document's bytes (at most the
 *        profile's max_document_bytes)
 *        --xmlTextReader (streaming; no network, no DTD, no entity expansion)-->
 *        ClinicalDocument's children: header elements expanded one at a time
 *        (ccda_hdr.c), component/structuredBody/component/section streamed,
 *        each <entry> expanded and handled by its section's kind (ccda_sec.c)
 *        --struct record--> sink
 *
 * A file is one document and one source record: sink_begin (record 1, byte
 * offset 0, raw = the document), then
 *   sink_end         it loaded;
 *   sink_quarantine  E_PARSE (malformed XML: line and column in the message,
 *                    the open elements in the position; an empty file; an
 *                    entity reference left unexpanded; entity declarations),
 *                    E_ENCODING, E_NO_PATIENT (recordTarget without a usable
 *                    id), E_DATE (an impossible TS: the element path),
 *                    E_TOO_LARGE (beyond max_document_bytes: not parsed);
 *   sink_skip        well-formed XML whose root is not an HL7 v3
 *                    ClinicalDocument (a fragment, a FHIR bundle ...).
 * The whole document is quarantined so that a steward can fix and replay it.
 * What a loaded document holds but is not loaded on purpose (negated or
 * planned entries, sections the profile does not list, entries without a
 * code or a date) is counted through sink_note.
 *
 * Security: XML_PARSE_NONET; never XML_PARSE_NOENT, DTDLOAD, DTDATTR,
 * DTDVALID or XINCLUDE; a document whose DOCTYPE declares entities is
 * refused before libxml2 reads it (and again if the reader reports one);
 * libxml2's own entity-amplification limits stay on (no XML_PARSE_HUGE).
 *
 * A new reader for each document (a reused one carried state from one to
 * the next); one document arena per extractor, reset per document.
 */
#include "etl/extract/ccda_int.h"
#include "core/io.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const int reader_options = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_COMPACT |
                                  XML_PARSE_BIG_LINES | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
#if LIBXML_VERSION >= 21300
                                  | XML_PARSE_NO_XXE
#endif
	;

/* ------------------------------------------------------------------------ */
/* reading the file                                                          */

/* The whole document into x->buf. 0 and *n, 1 if it is larger than the
 * profile allows, or a hard error. */
static int read_doc(struct extractor *x, const char *path, size_t *n, struct err *e)
{
	struct rd r;
	int rc = rd_open(&r, path, e);
	if (rc < 0)
		return rc;
	if (x->max_read)
		r.max_read = x->max_read;
	size_t len = 0, max = x->prof.max_doc;
	for (;;) {
		if (len == x->cap) {
			if (x->cap > max) {
				rd_close(&r);
				*n = len;
				return 1;
			}
			size_t cap = x->cap ? mem_mul(x->cap, 2) : 256 * 1024;
			if (cap > max + 1)
				cap = max + 1;
			x->buf = xrealloc(x->buf, cap);
			x->cap = cap;
		}
		ssize_t k = rd_read(&r, x->buf + len, x->cap - len, e);
		if (k < 0) {
			rd_close(&r);
			return (int)k;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			rd_close(&r);
			*n = len;
			return 1;
		}
	}
	rd_close(&r);
	*n = len;
	return 0;
}

/* The first occurrence of needle (k bytes) in p[0, n), or NULL. */
static const char *find(const char *p, size_t n, const char *needle, size_t k)
{
	if (k == 0 || n < k)
		return NULL;
	for (const char *q = p, *end = p + n - k + 1; (q = memchr(q, needle[0], (size_t)(end - q))) != NULL; q++)
		if (memcmp(q, needle, k) == 0)
			return q;
	return NULL;
}

/*
 * Before libxml2 sees the bytes: the prolog (XML declaration, comments,
 * processing instructions, DOCTYPE) up to the root element. A DOCTYPE whose
 * internal subset declares entities is refused: C-CDA has no use for them
 * and they are how entity-expansion and external-entity attacks begin.
 * Returns the 1-based line of such a DOCTYPE, or 0.
 */
static uint64_t doctype_entities(const char *p, size_t n)
{
	size_t i = 0;
	uint64_t line = 1;
	if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
		i = 3;
	while (i < n) {
		char ch = p[i];
		if (ch == '\n') {
			line++;
			i++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
			continue;
		}
		if (ch != '<' || i + 1 >= n)
			return 0;
		const char *end;
		size_t endlen;
		if (p[i + 1] == '?') {
			end = find(p + i, n - i, "?>", 2);
			endlen = 2;
		} else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			end = find(p + i, n - i, "-->", 3);
			endlen = 3;
		} else if (n - i >= 9 && memcmp(p + i, "<!DOCTYPE", 9) == 0) {
			/* the internal subset is what lies between '[' and ']>' */
			const char *open = memchr(p + i, '[', n - i), *gt = memchr(p + i, '>', n - i);
			if (open && (!gt || open < gt)) {
				end = find(open, n - (size_t)(open - p), "]", 1);
				size_t span = end ? (size_t)(end - p) - i : n - i;
				if (find(p + i, span, "<!ENTITY", 8))
					return line;
			}
			return 0;
		} else {
			return 0; /* the root element */
		}
		if (!end)
			return 0; /* unterminated: libxml2 will say so */
		for (const char *q = p + i; q < end; q++)
			line += *q == '\n';
		i = (size_t)(end - p) + endlen;
	}
	return 0;
}

/* 1 if the bytes hold nothing but white space (and a UTF-8 byte-order mark). */
static int blank(const char *p, size_t n)
{
	size_t i = n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF ? 3 : 0;
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* libxml2 errors                                                            */

#if LIBXML_VERSION >= 21200
static void on_xml_error(void *arg, const xmlError *err)
#else
static void on_xml_error(void *arg, xmlErrorPtr err)
#endif
{
	struct cx *c = arg;
	if (!err || err->level < XML_ERR_ERROR)
		return;
	/* the first error; an undefined entity replaces an earlier recoverable one */
	int entity = err->code == XML_WAR_UNDECLARED_ENTITY || err->code == XML_ERR_UNDECLARED_ENTITY;
	if (c->xerr && !(entity && !c->xent))
		return;
	c->xerr = 1;
	c->xent |= entity;
	c->xline = err->line;
	c->xcol = err->int2;
	c->xcode = err->code;
	/* the first line of libxml2's message: names and positions, never the
	 * bytes around the error (its "Bytes: 0x.." continuation is dropped) */
	const char *m = err->message ? err->message : "not well-formed";
	size_t k = strcspn(m, "\n");
	if (k >= sizeof c->xmsg)
		k = sizeof c->xmsg - 1;
	memcpy(c->xmsg, m, k);
	c->xmsg[k] = '\0';
	/* the elements open at the error, from the parser's own stack */
	xmlParserCtxtPtr pc = (err->domain == XML_FROM_PARSER || err->domain == XML_FROM_NAMESPACE) ? err->ctxt : NULL;
	char full[1024];
	size_t len = 0;
	full[0] = '\0';
	for (int i = 0; pc && pc->nameTab && i < pc->nameNr && len + 2 < sizeof full; i++) {
		int w = snprintf(full + len, sizeof full - len, "/%s", (const char *)pc->nameTab[i]);
		if (w < 0)
			break;
		len = (size_t)w < sizeof full - len ? len + (size_t)w : sizeof full - 1;
	}
	cx_fit_path(len ? full : "/", c->e->pos.where, sizeof c->e->pos.where);
}

static int is_encoding_error(int code)
{
	return code == XML_ERR_INVALID_CHAR || code == XML_ERR_UNKNOWN_ENCODING || code == XML_ERR_UNSUPPORTED_ENCODING ||
	       code == XML_ERR_INVALID_ENCODING || code == XML_ERR_ENCODING_NAME || code == XML_ERR_INVALID_CHARREF;
}

/* The document is not well-formed: the first error libxml2 reported. */
static int xml_fail(struct cx *c)
{
	struct err *e = c->e;
	if (!c->xerr) {
		cx_where(c, NULL, e->pos.where, sizeof e->pos.where);
		e->pos.line = (uint64_t)xmlTextReaderGetParserLineNumber(c->r);
		e->code = E_PARSE;
		snprintf(e->msg, sizeof e->msg, "malformed XML: the document ends before its root element is closed");
		return -E_PARSE;
	}
	e->code = is_encoding_error(c->xcode) ? E_ENCODING : E_PARSE;
	e->pos.line = c->xline > 0 ? (uint64_t)c->xline : 0;
	snprintf(e->msg, sizeof e->msg, "malformed XML at line %d, column %d: %s", c->xline, c->xcol, c->xmsg);
	return -e->code;
}

/* ------------------------------------------------------------------------ */
/* walking the stream                                                        */

static void frame_enter(struct cx *c, int d, const char *name)
{
	struct cx_frame *pf = &c->st[d - 1], *f = &c->st[d];
	unsigned ord = 1;
	size_t i;
	for (i = 0; i < pf->nkid; i++)
		if (strncmp(pf->kid[i].name, name, sizeof pf->kid[i].name - 1) == 0)
			break;
	if (i < pf->nkid) {
		ord = ++pf->kid[i].n;
	} else if (pf->nkid < sizeof pf->kid / sizeof pf->kid[0]) {
		snprintf(pf->kid[pf->nkid].name, sizeof pf->kid[0].name, "%s", name);
		pf->kid[pf->nkid++].n = 1;
	}
	snprintf(f->name, sizeof f->name, "%s", name);
	f->ord = ord;
	f->nkid = 0;
	c->depth = d;
}

/*
 * From the reader's current node to the next child element (depth d + 1)
 * of the element at depth d, or to that element's end tag. ret is the last
 * xmlTextReaderRead/Next result. 1: on a child (its frame entered), 0: at
 * the end tag, < 0: malformed.
 */
static int scan(struct cx *c, int ret, int d)
{
	while (ret == 1) {
		int t = xmlTextReaderNodeType(c->r);
		if (t == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(c->r) == d + 1) {
			if (d + 1 < CX_MAX_DEPTH)
				frame_enter(c, d + 1, (const char *)xmlTextReaderConstLocalName(c->r));
			return 1;
		}
		if (t == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(c->r) == d) {
			c->depth = d;
			return 0;
		}
		ret = xmlTextReaderRead(c->r);
	}
	c->depth = d;
	return xml_fail(c);
}

/* The first child element of the current element (at depth d). */
static int kids_first(struct cx *c, int d)
{
	if (xmlTextReaderIsEmptyElement(c->r))
		return 0;
	return scan(c, xmlTextReaderRead(c->r), d);
}

/* Past the current child (its subtree skipped) to the next one. */
static int kids_next(struct cx *c, int d)
{
	return scan(c, xmlTextReaderNext(c->r), d);
}

/* 1 if the reader's element is name in the HL7 v3 namespace (or none). */
static int at(struct cx *c, const char *name)
{
	const xmlChar *ns = xmlTextReaderConstNamespaceUri(c->r);
	return strcmp((const char *)xmlTextReaderConstLocalName(c->r), name) == 0 &&
	       (!ns || strcmp((const char *)ns, CX_NS_V3) == 0);
}

/* The current element's subtree, whole. NULL: malformed (c->e filled). */
static xmlNodePtr expand(struct cx *c)
{
	xmlNodePtr n = xmlTextReaderExpand(c->r);
	if (!n)
		xml_fail(c);
	c->xroot = n;
	return n;
}

/* Attribute name of the reader's element into buf (empty if absent). */
static void reader_attr(struct cx *c, const char *name, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (xmlTextReaderMoveToAttribute(c->r, (const xmlChar *)name) == 1) {
		const xmlChar *v = xmlTextReaderConstValue(c->r);
		struct span s = span_trim(span_of((const char *)v));
		span_copy(s, buf, cap);
		xmlTextReaderMoveToElement(c->r);
	}
}

static int section(struct cx *c, int d, int level);

/* A section's component: its nested section. */
static int subsection(struct cx *c, int d, int level)
{
	int ret, rc;
	for (ret = kids_first(c, d); ret == 1; ret = kids_next(c, d))
		if (at(c, "section") && (rc = section(c, d + 1, level + 1)) < 0)
			return rc;
	return ret;
}

/* The reader is on <section> at depth d: its kind, then its entries. */
static int section(struct cx *c, int d, int level)
{
	int ret, rc, kind = -1;
	uint8_t outer = c->sec;
	char v[128];
	if (level > 8 || d + 3 >= CX_MAX_DEPTH) {
		sink_note(c->s, "ccda: sections nested deeper than 8: not loaded");
		return 0;
	}
	for (ret = kids_first(c, d); ret == 1; ret = kids_next(c, d)) {
		if (at(c, "templateId")) {
			if (kind < 0) {
				reader_attr(c, "root", v, sizeof v);
				kind = ccda_prof_section(&c->x->prof, v);
			}
		} else if (at(c, "code")) {
			if (kind < 0) {
				reader_attr(c, "code", v, sizeof v);
				if (v[0])
					kind = ccda_prof_section(&c->x->prof, v);
			}
		} else if (at(c, "entry")) {
			c->sec = (uint8_t)(kind > 0 ? kind : CS_NONE);
			if (c->sec == CS_NONE) {
				sink_note(c->s, "ccda: entry of a section not loaded");
				continue;
			}
			xmlNodePtr n = expand(c);
			if (!n)
				return -c->e->code;
			rc = ccda_entry(c, n);
			c->xroot = NULL;
			if (rc < 0)
				return rc;
		} else if (at(c, "component")) {
			if ((rc = subsection(c, d + 1, level)) < 0)
				return rc;
		}
	}
	c->sec = outer;
	return ret;
}

/* component (depth 1): structuredBody's sections, or a nonXMLBody. */
static int body(struct cx *c)
{
	int ret, rc;
	if ((rc = ccda_person(c)) < 0)
		return rc;
	for (ret = kids_first(c, 1); ret == 1; ret = kids_next(c, 1)) {
		if (at(c, "nonXMLBody")) {
			sink_note(c->s, "ccda: nonXMLBody (unstructured document): body not loaded");
			continue;
		}
		if (!at(c, "structuredBody"))
			continue;
		for (ret = kids_first(c, 2); ret == 1; ret = kids_next(c, 2)) {
			if (!at(c, "component"))
				continue;
			for (ret = kids_first(c, 3); ret == 1; ret = kids_next(c, 3))
				if (at(c, "section") && (rc = section(c, 4, 0)) < 0)
					return rc;
			if (ret < 0)
				return ret;
		}
		if (ret < 0)
			return ret;
	}
	return ret;
}

/* One header element at depth 1, expanded. */
static int header(struct cx *c, int (*fn)(struct cx *, xmlNodePtr))
{
	xmlNodePtr n = expand(c);
	if (!n)
		return -c->e->code;
	int rc = fn(c, n);
	c->xroot = NULL;
	return rc;
}

/* 0 loaded, 1 skipped (reason in c->e->msg), < 0 error. */
static int document(struct cx *c)
{
	int ret, rc;
	while ((ret = xmlTextReaderRead(c->r)) == 1) {
		int t = xmlTextReaderNodeType(c->r);
		if (t == XML_READER_TYPE_ELEMENT)
			break;
		if (t == XML_READER_TYPE_DOCUMENT_TYPE) {
			/* (not xmlTextReaderCurrentDoc: that makes the reader keep the document) */
			xmlNodePtr n = xmlTextReaderCurrentNode(c->r);
			xmlDtdPtr dtd = n && n->type == XML_DTD_NODE ? (xmlDtdPtr)n : NULL;
			if (dtd && (dtd->entities || dtd->pentities)) {
				snprintf(c->e->pos.where, sizeof c->e->pos.where, "/!DOCTYPE");
				c->e->pos.line = (uint64_t)xmlTextReaderGetParserLineNumber(c->r);
				return err_set(c->e, E_PARSE, "the document type declaration declares entities: not accepted "
				                              "(entity expansion is disabled)");
			}
		}
	}
	if (ret != 1) {
		if (ret < 0)
			return xml_fail(c);
		snprintf(c->e->pos.where, sizeof c->e->pos.where, "/");
		return err_set(c->e, E_PARSE, "malformed XML: no root element (an empty document)");
	}
	if (!at(c, "ClinicalDocument")) {
		/* skipped if it is well-formed XML; quarantined (a broken file) if not */
		while ((ret = xmlTextReaderNext(c->r)) == 1)
			;
		if (ret < 0)
			return xml_fail(c);
		snprintf(c->e->msg, sizeof c->e->msg, "not a C-CDA document: the root element is not an HL7 v3 ClinicalDocument");
		return 1;
	}
	snprintf(c->st[0].name, sizeof c->st[0].name, "ClinicalDocument");
	c->st[0].ord = 1;
	c->st[0].nkid = 0;
	c->depth = 0;
	for (ret = kids_first(c, 0); ret == 1; ret = kids_next(c, 0)) {
		rc = 0;
		if (at(c, "id"))
			rc = header(c, ccda_document_id);
		else if (at(c, "recordTarget"))
			rc = header(c, ccda_record_target);
		else if (at(c, "author"))
			rc = header(c, ccda_author);
		else if (at(c, "custodian"))
			rc = header(c, ccda_custodian);
		else if (at(c, "documentationOf"))
			rc = header(c, ccda_documentation_of);
		else if (at(c, "componentOf"))
			rc = header(c, ccda_component_of);
		else if (at(c, "component"))
			rc = body(c);
		if (rc < 0)
			return rc;
	}
	if (ret < 0)
		return ret;
	/* after the root: comments or processing instructions at most */
	while ((ret = xmlTextReaderRead(c->r)) == 1)
		;
	if (ret < 0)
		return xml_fail(c);
	return ccda_person(c);
}

/* ------------------------------------------------------------------------ */
/* extract_ops                                                               */

static int ccda_open(struct extractor **out, const char *profile, const struct conf_site *site, struct err *e)
{
	struct extractor *x = xcalloc(1, sizeof *x);
	int rc = ccda_prof_load(&x->prof, profile ? profile : extract_ccda.default_profile, e);
	if (rc < 0) {
		ccda_prof_free(&x->prof);
		free(x);
		return rc;
	}
	x->tz = site ? site->tz : DT_TZ_KEEP;
	arena_init(&x->doc, 64 * 1024);
	*out = x;
	return 0;
}

static int ccda_wants(const struct extractor *x, const char *path)
{
	return extract_has_ext(path, x->prof.ext[0], sizeof x->prof.ext[0], x->prof.next);
}

/*
 * The encoding a byte-order mark (or UTF-16 without one) says, and the mark's
 * length: the mark is taken off here and the encoding named to the reader,
 * rather than left to libxml2 to find (a reset reader of libxml2 2.9 did
 * not look for it).
 */
static const char *encoding_of(const char *p, size_t n, size_t *skip)
{
	const unsigned char *u = (const unsigned char *)p;
	*skip = 0;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		*skip = 3;
		return NULL;
	}
	if (n >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
		*skip = 2;
		return "UTF-16LE";
	}
	if (n >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
		*skip = 2;
		return "UTF-16BE";
	}
	if (n >= 2 && u[0] == '<' && u[1] == 0)
		return "UTF-16LE";
	if (n >= 2 && u[0] == 0 && u[1] == '<')
		return "UTF-16BE";
	return NULL;
}

/* A reader of the document's bytes, new for each document: one reset from a
 * document left half read (skipped, quarantined) kept state that changed
 * what the next document's errors said (test_ccda_fuzz). */
static int reader_for(struct extractor *x, size_t n, struct err *e)
{
	size_t skip;
	const char *p = x->buf ? x->buf : "";
	const char *enc = encoding_of(p, n, &skip);
	p += skip;
	n -= skip;
	if (n > (size_t)INT32_MAX)
		return err_set(e, E_INTERNAL, "document too large for the XML reader");
	if (x->rd)
		xmlFreeTextReader(x->rd);
	x->rd = xmlReaderForMemory(p, (int)n, NULL, enc, reader_options);
	if (!x->rd)
		return err_set(e, E_NOMEM, "cannot create an XML reader");
	return 0;
}

static int ccda_run(struct extractor *x, const char *path, struct sink *s, struct err *e)
{
	size_t n = 0;
	int rc = read_doc(x, path, &n, e);
	if (rc < 0)
		return rc;
	int too_large = rc == 1;

	struct err_pos pos;
	memset(&pos, 0, sizeof pos);
	err_pos_file(&pos, path);
	pos.record = 1;
	pos.line = 1;
	pos.offset = 0;
	struct err q;
	memset(&q, 0, sizeof q);
	q.pos = pos;

	/* what can be decided before parsing; the reader is reset before the
	 * record begins, so that a hard error never leaves a record open */
	int r;
	uint64_t ent_line = 0;
	int is_blank = !too_large && blank(x->buf, n);
	if (!too_large && !is_blank)
		ent_line = doctype_entities(x->buf, n);
	if (!too_large && !is_blank && !ent_line && (rc = reader_for(x, n, e)) < 0)
		return rc;

	sink_begin(s, &pos, too_large ? SPAN_NULL : span_make(x->buf, n));
	if (too_large) {
		snprintf(q.pos.where, sizeof q.pos.where, "/");
		rc = err_set(&q, E_TOO_LARGE, "document larger than %zu bytes (profile max_document_bytes): not read",
		             x->prof.max_doc);
	} else if (is_blank) {
		snprintf(q.pos.where, sizeof q.pos.where, "/");
		rc = err_set(&q, E_PARSE, "malformed XML: an empty document (%zu bytes, no element)", n);
	} else if (ent_line) {
		snprintf(q.pos.where, sizeof q.pos.where, "/!DOCTYPE");
		q.pos.line = ent_line;
		rc = err_set(&q, E_PARSE, "the document type declaration declares entities: not accepted "
		                          "(entity expansion is disabled)");
	} else {
		struct cx *c = arena_zalloc(&x->doc, sizeof *c);
		c->x = x;
		c->s = s;
		c->e = &q;
		c->a = &x->doc;
		c->r = x->rd;
		xmlTextReaderSetStructuredErrorHandler(x->rd, on_xml_error, c);
		rc = document(c);
		/* an entity reference libxml2 could not expand (declared, if at
		 * all, in an external DTD that is never loaded) loses the value it
		 * stands for: the document is not what its sender wrote */
		if (rc == 0 && c->xent)
			rc = xml_fail(c);
		/* nothing of this document may reach the next one's callback */
		xmlTextReaderSetStructuredErrorHandler(x->rd, NULL, NULL);
	}

	if (rc == 0) {
		r = sink_end(s, e);
	} else if (rc == 1) {
		r = sink_skip(s, q.msg, e);
	} else if (err_is_soft(-rc)) {
		r = sink_quarantine(s, &q, e);
	} else {
		/* a hard error from the sink (database): stop the file */
		if (e && q.code && e->code == 0)
			*e = q;
		r = rc;
	}
	arena_reset(&x->doc);
	return r < 0 ? r : 0;
}

static void ccda_close(struct extractor *x)
{
	if (!x)
		return;
	if (x->rd)
		xmlFreeTextReader(x->rd);
	free(x->buf);
	arena_free(&x->doc);
	ccda_prof_free(&x->prof);
	free(x);
}

const struct extract_ops extract_ccda = {
	"ccda",
	"ccda",
	ccda_open,
	ccda_wants,
	ccda_run,
	ccda_close,
};
