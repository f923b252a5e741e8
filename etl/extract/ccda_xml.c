/*
 * ccda_xml.c - reading one expanded C-CDA subtree: elements of the HL7 v3
 * namespace, attributes, identifiers, codes, times, values; element paths
 * for error positions; copying a record's spans before it is emitted.
 *
 * Helpers return spans into the libxml2 tree (valid while the subtree is)
 * or into the document arena; cx_emit copies what a record points to into
 * the arena, so records outlive the subtree they came from.
 *
 * nullFlavor: an element that carries one is "not given" (empty span,
 * DT_EMPTY, VAL_NONE), whatever else it holds.
 */
#include "etl/extract/ccda_int.h"
#include "core/date.h"
#include "core/hash.h"
#include "core/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* elements and attributes                                                   */

static int ns_is(const xmlNode *n, const char *href)
{
	if (!n->ns || !n->ns->href)
		return href == NULL || strcmp(href, CX_NS_V3) == 0;
	return href && strcmp((const char *)n->ns->href, href) == 0;
}

int cx_is(const xmlNode *n, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0 && ns_is(n, CX_NS_V3);
}

xmlNodePtr cx_child(const xmlNode *n, const char *local)
{
	if (!n)
		return NULL;
	for (xmlNodePtr k = n->children; k; k = k->next)
		if (cx_is(k, local))
			return k;
	return NULL;
}

xmlNodePtr cx_next(const xmlNode *n, const char *local)
{
	if (!n)
		return NULL;
	for (xmlNodePtr k = n->next; k; k = k->next)
		if (cx_is(k, local))
			return k;
	return NULL;
}

xmlNodePtr cx_child_ns(const xmlNode *n, const char *local, const char *href)
{
	if (!n)
		return NULL;
	for (xmlNodePtr k = n->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE && strcmp((const char *)k->name, local) == 0 && ns_is(k, href))
			return k;
	return NULL;
}

xmlNodePtr cx_path(const xmlNode *n, ...)
{
	va_list ap;
	va_start(ap, n);
	const char *name;
	xmlNodePtr cur = (xmlNodePtr)n;
	while (cur && (name = va_arg(ap, const char *)) != NULL)
		cur = cx_child(cur, name);
	va_end(ap);
	return cur;
}

xmlNodePtr cx_first_el(const xmlNode *n)
{
	if (!n)
		return NULL;
	for (xmlNodePtr k = n->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE)
			return k;
	return NULL;
}

xmlNodePtr cx_next_el(const xmlNode *n)
{
	for (xmlNodePtr k = n ? n->next : NULL; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE)
			return k;
	return NULL;
}

/* The value of an attribute node: its one text child, or its children joined. */
static struct span attr_value(struct cx *c, const xmlAttr *a)
{
	const xmlNode *t = a->children;
	if (!t)
		return SPAN_NULL;
	if (!t->next && (t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE))
		return span_trim(span_of((const char *)t->content));
	xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
	struct span r = SPAN_NULL;
	if (v) {
		r = arena_span(c->a, span_trim(span_of((const char *)v)));
		xmlFree(v);
	}
	return r;
}

struct span cx_attr(struct cx *c, const xmlNode *n, const char *name)
{
	if (!n)
		return SPAN_NULL;
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (!a->ns && strcmp((const char *)a->name, name) == 0)
			return attr_value(c, a);
	return SPAN_NULL;
}

struct span cx_xsi_type(struct cx *c, const xmlNode *n)
{
	if (!n)
		return SPAN_NULL;
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (!a->ns || !a->ns->href || strcmp((const char *)a->ns->href, CX_NS_XSI) != 0 ||
		    strcmp((const char *)a->name, "type") != 0)
			continue;
		struct span v = attr_value(c, a);
		const char *colon = v.n ? memchr(v.p, ':', v.n) : NULL;
		if (colon)
			v = span_make(colon + 1, v.n - (size_t)(colon + 1 - v.p));
		return v;
	}
	return SPAN_NULL;
}

int cx_null(const xmlNode *n)
{
	if (!n)
		return 1;
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (!a->ns && strcmp((const char *)a->name, "nullFlavor") == 0)
			return 1;
	return 0;
}

int cx_true(struct cx *c, const xmlNode *n, const char *name)
{
	return span_ieq_str(cx_attr(c, n, name), "true");
}

int cx_templ(struct cx *c, const xmlNode *n, const char *root)
{
	for (xmlNodePtr t = cx_child(n, "templateId"); t; t = cx_next(t, "templateId"))
		if (span_eq_str(cx_attr(c, t, "root"), root))
			return 1;
	return 0;
}

struct span cx_text(struct cx *c, const xmlNode *n)
{
	if (!n)
		return SPAN_NULL;
	const xmlNode *only = NULL;
	int count = 0;
	for (const xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
			only = k;
			count++;
		}
	if (count == 0)
		return SPAN_NULL;
	if (count == 1)
		return span_trim(span_of((const char *)only->content));
	/* text split by comments or entity references: joined in the arena */
	size_t len = 0;
	for (const xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE)
			len = mem_add(len, strlen((const char *)k->content));
	char *o = arena_alloc(c->a, len + 1), *w = o;
	for (const xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
			size_t l = strlen((const char *)k->content);
			memcpy(w, k->content, l);
			w += l;
		}
	*w = '\0';
	return span_trim(span_make(o, len));
}

/* ------------------------------------------------------------------------ */
/* identifiers, codes, times, values                                         */

struct span cx_ii(struct cx *c, const xmlNode *id)
{
	if (!id || cx_null(id))
		return SPAN_NULL;
	struct span root = cx_attr(c, id, "root"), ext = cx_attr(c, id, "extension");
	if (!root.n && !ext.n)
		return SPAN_NULL;
	if (!ext.n)
		return arena_span(c->a, root);
	return arena_join2(c->a, root, '|', ext);
}

struct span cx_id(struct cx *c, const xmlNode *n)
{
	for (xmlNodePtr id = cx_child(n, "id"); id; id = cx_next(id, "id")) {
		struct span k = cx_ii(c, id);
		if (k.n)
			return k;
	}
	return SPAN_NULL;
}

static void code_of(struct cx *c, const xmlNode *cd, struct code *out)
{
	out->code = cx_attr(c, cd, "code");
	out->system = cx_attr(c, cd, "codeSystem");
	out->display = cx_attr(c, cd, "displayName");
}

void cx_code(struct cx *c, const xmlNode *cd, struct code *out, struct code *alt)
{
	memset(out, 0, sizeof *out);
	if (alt)
		memset(alt, 0, sizeof *alt);
	if (!cd)
		return;
	if (!cx_null(cd))
		code_of(c, cd, out);
	if (!out->code.n)
		out->system = SPAN_NULL;
	if (!out->display.n)
		out->display = cx_text(c, cx_child(cd, "originalText"));
	for (xmlNodePtr tr = cx_child(cd, "translation"); tr; tr = cx_next(tr, "translation")) {
		if (cx_null(tr))
			continue;
		struct code t;
		code_of(c, tr, &t);
		if (!t.code.n)
			continue;
		if (!out->code.n) {
			out->code = t.code;
			out->system = t.system;
			if (!out->display.n)
				out->display = t.display;
			continue;
		}
		if (!alt)
			break;
		if (!(span_eq(t.code, out->code) && span_eq(t.system, out->system))) {
			*alt = t;
			break;
		}
	}
}

/* lenient: a value that is not a date is "not given" instead of an error
 * (inside an effectiveTime that itself says nullFlavor) */
static int ts_parse(struct cx *c, const xmlNode *ts, struct dt *out, int lenient)
{
	*out = DT_EMPTY;
	if (!ts || cx_null(ts))
		return 0;
	struct span v = cx_attr(c, ts, "value");
	if (!v.n)
		return 0;
	const struct ccda_prof *p = &c->x->prof;
	for (size_t i = 0; i < p->nnull_dates; i++)
		if (span_eq_str(v, p->null_dates[i]))
			return 0;
	if (dt_parse_hl7(v, c->x->tz, out) < 0) {
		*out = DT_EMPTY;
		if (lenient)
			return 0;
		return cx_fail(c, ts, E_DATE, "impossible or malformed date/time in %s/@value (%zu characters; expected YYYYMMDD[HHMM[SS]][+-ZZZZ])",
		               (const char *)ts->name, v.n);
	}
	return 0;
}

int cx_ts(struct cx *c, const xmlNode *ts, struct dt *out)
{
	return ts_parse(c, ts, out, 0);
}

/* A periodic or event-related time (a frequency), not an interval. */
static int periodic(struct cx *c, const xmlNode *et)
{
	struct span t = cx_xsi_type(c, et);
	return span_eq_str(t, "PIVL_TS") || span_eq_str(t, "EIVL_TS") || span_eq_str(t, "SXPR_TS") ||
	       span_eq_str(cx_attr(c, et, "operator"), "A");
}

int cx_time(struct cx *c, const xmlNode *act, struct dt *start, struct dt *end)
{
	int rc;
	*start = *end = DT_EMPTY;
	for (xmlNodePtr et = cx_child(act, "effectiveTime"); et; et = cx_next(et, "effectiveTime")) {
		/* an effectiveTime may carry a nullFlavor and still hold a valued
		 * low or high (seen in Greenway exports): its parts decide */
		if (periodic(c, et))
			continue;
		int lenient = cx_null(et);
		if ((rc = ts_parse(c, et, start, lenient)) < 0)
			return rc;
		if (start->prec == DT_NONE) {
			if ((rc = ts_parse(c, cx_child(et, "low"), start, lenient)) < 0 ||
			    (rc = ts_parse(c, cx_child(et, "high"), end, lenient)) < 0)
				return rc;
			if (start->prec == DT_NONE && (rc = ts_parse(c, cx_child(et, "center"), start, lenient)) < 0)
				return rc;
		}
		if (start->prec != DT_NONE || end->prec != DT_NONE)
			return 0;
	}
	return 0;
}

static int num_of(struct span s, double *out)
{
	return s.n ? span_to_double(s, out) : -1;
}

void cx_value(struct cx *c, const xmlNode *val, struct value *v)
{
	v->kind = VAL_NONE;
	if (!val || cx_null(val))
		return;
	struct span t = cx_xsi_type(c, val);
	struct span num = cx_attr(c, val, "value");
	if (!t.n) /* untyped: guess from what it carries */
		t = cx_attr(c, val, "code").n ? span_of("CD") : (num.n ? span_of("PQ") : span_of("ST"));
	if (span_eq_str(t, "PQ") || span_eq_str(t, "INT") || span_eq_str(t, "REAL") || span_eq_str(t, "MO")) {
		if (!num.n)
			return;
		v->text = num;
		if (num_of(num, &v->num) == 0 && isfinite(v->num))
			v->kind = VAL_NUM;
		else
			v->kind = VAL_TEXT;
		struct span unit = cx_attr(c, val, span_eq_str(t, "MO") ? "currency" : "unit");
		if (unit.n && !span_eq_str(unit, "1"))
			v->unit.code = unit;
		return;
	}
	if (span_eq_str(t, "IVL_PQ") || span_eq_str(t, "IVL_INT") || span_eq_str(t, "IVL_REAL")) {
		xmlNodePtr lo = cx_child(val, "low"), hi = cx_child(val, "high");
		struct span lv = cx_null(lo) ? SPAN_NULL : cx_attr(c, lo, "value");
		struct span hv = cx_null(hi) ? SPAN_NULL : cx_attr(c, hi, "value");
		xmlNodePtr u = NULL;
		if (lv.n && !hv.n && num_of(lv, &v->num) == 0) {
			v->op = span_eq_str(cx_attr(c, lo, "inclusive"), "false") ? span_of(">") : span_of(">=");
			u = lo;
		} else if (hv.n && !lv.n && num_of(hv, &v->num) == 0) {
			v->op = span_eq_str(cx_attr(c, hi, "inclusive"), "false") ? span_of("<") : span_of("<=");
			u = hi;
		}
		if (u) {
			v->kind = VAL_NUM;
			v->text = u == lo ? lv : hv;
			struct span unit = cx_attr(c, u, "unit");
			if (unit.n && !span_eq_str(unit, "1"))
				v->unit.code = unit;
		} else if (lv.n || hv.n) {
			/* a range as a result: kept as text "low-high" */
			v->kind = VAL_TEXT;
			size_t n = mem_add(mem_add(lv.n, hv.n), 1);
			char *o = arena_alloc(c->a, n + 1);
			if (lv.n) /* either may be SPAN_NULL (NULL, 0): no memcpy from NULL */
				memcpy(o, lv.p, lv.n);
			o[lv.n] = '-';
			if (hv.n)
				memcpy(o + lv.n + 1, hv.p, hv.n);
			o[n] = '\0';
			v->text = span_make(o, n);
		}
		return;
	}
	if (span_eq_str(t, "CD") || span_eq_str(t, "CE") || span_eq_str(t, "CV") || span_eq_str(t, "CO") ||
	    span_eq_str(t, "CS")) {
		cx_code(c, val, &v->coded, NULL);
		if (v->coded.code.n || v->coded.display.n)
			v->kind = VAL_CODED;
		return;
	}
	if (span_eq_str(t, "BL") || span_eq_str(t, "TS")) {
		if (num.n) {
			v->kind = VAL_TEXT;
			v->text = num;
		}
		return;
	}
	/* ST, ED, and anything else: its text */
	v->text = cx_text(c, val);
	if (v->text.n)
		v->kind = VAL_TEXT;
}

/* ------------------------------------------------------------------------ */
/* positions                                                                 */

static unsigned sib_ord(const xmlNode *n)
{
	unsigned k = 1;
	for (const xmlNode *p = n->prev; p; p = p->prev)
		if (p->type == XML_ELEMENT_NODE && strcmp((const char *)p->name, (const char *)n->name) == 0)
			k++;
	return k;
}

static size_t put_step(char *buf, size_t cap, size_t len, const char *name, unsigned ord)
{
	if (len + 1 >= cap)
		return len;
	int k = ord > 1 ? snprintf(buf + len, cap - len, "/%s[%u]", name, ord) : snprintf(buf + len, cap - len, "/%s", name);
	if (k < 0)
		return len;
	return (size_t)k < cap - len ? len + (size_t)k : cap - 1;
}

void cx_where(struct cx *c, const xmlNode *n, char *out, size_t cap)
{
	char full[1024];
	size_t len = 0;
	full[0] = '\0';
	for (int i = 0; i <= c->depth && i < CX_MAX_DEPTH; i++)
		len = put_step(full, sizeof full, len, c->st[i].name, c->st[i].ord);
	if (n && c->xroot) {
		const xmlNode *chain[64];
		int k = 0;
		for (const xmlNode *p = n; p && p != c->xroot && k < 64; p = p->parent)
			if (p->type == XML_ELEMENT_NODE)
				chain[k++] = p;
		while (k-- > 0)
			len = put_step(full, sizeof full, len, (const char *)chain[k]->name, sib_ord(chain[k]));
	}
	cx_fit_path(full, out, cap);
}

void cx_fit_path(const char *full, char *out, size_t cap)
{
	size_t len = strlen(full);
	if (len < cap) {
		memcpy(out, full, len + 1);
		return;
	}
	/* too long: keep the root, then "...", then as many whole trailing steps as fit */
	const char *root_end = strchr(full + 1, '/');
	size_t head = root_end ? (size_t)(root_end - full) : 0;
	if (cap < 16) {
		if (cap)
			snprintf(out, cap, "%s", full + len - (cap - 1));
		return;
	}
	if (head + 12 >= cap)
		head = 0;
	const char *tail = full + len;
	while (tail > full + head) {
		const char *p = tail - 1;
		while (p > full + head && *p != '/')
			p--;
		if (head + 4 + (size_t)(full + len - p) >= cap)
			break;
		tail = p;
	}
	if (tail == full + len) { /* not even the last step fits: its end, from a character's start */
		tail = full + len - (cap - head - 5);
		while ((*tail & 0xC0) == 0x80)
			tail++;
	}
	snprintf(out, cap, "%.*s/...%s", (int)head, full, tail);
}

int cx_fail(struct cx *c, const xmlNode *n, int code, const char *fmt, ...)
{
	struct err *e = c->e;
	char msg[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(e->msg, msg, sizeof msg);
	e->code = code;
	cx_where(c, n, e->pos.where, sizeof e->pos.where);
	long line = n ? xmlGetLineNo(n) : (long)xmlTextReaderGetParserLineNumber(c->r);
	e->pos.line = line > 0 ? (uint64_t)line : 0;
	return -code;
}

/* ------------------------------------------------------------------------ */
/* records                                                                   */

static void keep(struct cx *c, struct span *s)
{
	if (s->n)
		*s = arena_span(c->a, *s);
	else
		*s = SPAN_NULL;
}

static void keep_code(struct cx *c, struct code *k)
{
	keep(c, &k->system);
	keep(c, &k->code);
	keep(c, &k->display);
}

void cx_keep(struct cx *c, struct record *r)
{
	switch (r->kind) {
	case REC_PERSON: {
		struct rec_person *p = &r->u.person;
		keep(c, &p->key), keep_code(c, &p->gender), keep_code(c, &p->race), keep_code(c, &p->ethnicity);
		keep(c, &p->location), keep(c, &p->provider), keep(c, &p->care_site);
		break;
	}
	case REC_DEATH:
		keep(c, &r->u.death.person), keep_code(c, &r->u.death.cause);
		break;
	case REC_VISIT: {
		struct rec_visit *v = &r->u.visit;
		keep(c, &v->key), keep(c, &v->person), keep_code(c, &v->cls), keep(c, &v->provider), keep(c, &v->care_site);
		keep_code(c, &v->admitted_from), keep_code(c, &v->discharged_to);
		break;
	}
	case REC_EVENT: {
		struct rec_event *e = &r->u.event;
		keep(c, &e->key), keep(c, &e->person), keep(c, &e->visit), keep(c, &e->provider);
		keep_code(c, &e->code), keep_code(c, &e->code_alt);
		keep(c, &e->value.op), keep(c, &e->value.text), keep_code(c, &e->value.coded), keep_code(c, &e->value.unit);
		keep_code(c, &e->route), keep(c, &e->lot), keep(c, &e->sig), keep(c, &e->stop_reason);
		keep_code(c, &e->qualifier), keep(c, &e->title), keep(c, &e->text);
		break;
	}
	case REC_PROVIDER: {
		struct rec_provider *p = &r->u.provider;
		keep(c, &p->key), keep(c, &p->name), keep(c, &p->npi), keep(c, &p->dea);
		keep_code(c, &p->specialty), keep_code(c, &p->gender), keep(c, &p->care_site);
		break;
	}
	case REC_CARE_SITE: {
		struct rec_care_site *s = &r->u.care_site;
		keep(c, &s->key), keep(c, &s->name), keep_code(c, &s->place_of_service), keep(c, &s->location);
		break;
	}
	case REC_LOCATION: {
		struct rec_location *l = &r->u.location;
		keep(c, &l->key), keep(c, &l->address_1), keep(c, &l->address_2), keep(c, &l->city), keep(c, &l->state);
		keep(c, &l->zip), keep(c, &l->county), keep(c, &l->country);
		break;
	}
	case REC_RETRACT:
		keep(c, &r->u.retract.key);
		break;
	case REC_MERGE:
		keep(c, &r->u.merge.from), keep(c, &r->u.merge.to);
		break;
	default:
		break;
	}
}

/* The slot of hash h (never 0) in the document's key table; grows it. */
static struct cx_key *key_slot(struct cx *c, uint64_t h, int *found)
{
	if (mem_mul(c->nkeys + 1, 2) > c->capkeys) {
		size_t cap = c->capkeys ? mem_mul(c->capkeys, 2) : 256;
		struct cx_key *nk = arena_zalloc(c->a, mem_mul(cap, sizeof *nk));
		for (size_t i = 0; i < c->capkeys; i++) {
			if (!c->keys[i].h)
				continue;
			size_t j = c->keys[i].h & (cap - 1);
			while (nk[j].h)
				j = (j + 1) & (cap - 1);
			nk[j] = c->keys[i];
		}
		c->keys = nk;
		c->capkeys = cap;
	}
	size_t j = h & (c->capkeys - 1);
	while (c->keys[j].h && c->keys[j].h != h)
		j = (j + 1) & (c->capkeys - 1);
	*found = c->keys[j].h == h;
	if (!*found) {
		c->keys[j].h = h;
		c->nkeys++;
	}
	return &c->keys[j];
}

static uint64_t key_hash(int kind, struct span key)
{
	uint64_t h = hash64(key.p ? key.p : "", key.n, 0x6363646100000000ull + (uint64_t)kind);
	return h ? h : 1;
}

int cx_first_use(struct cx *c, int kind, struct span key)
{
	int found;
	key_slot(c, key_hash(kind, key), &found);
	return !found;
}

static uint64_t fact_hash(const struct rec_event *ev)
{
	uint64_t h = hash64(ev->code.code.p ? ev->code.code.p : "", ev->code.code.n, ev->kind);
	return hash64(ev->code.system.p ? ev->code.system.p : "", ev->code.system.n, h);
}

int cx_emit(struct cx *c, struct record *r)
{
	if (r->kind == REC_EVENT && r->u.event.key.n) {
		struct rec_event *ev = &r->u.event;
		int found;
		struct cx_key *k = key_slot(c, key_hash(REC_EVENT, ev->key), &found);
		uint64_t what = fact_hash(ev);
		if (!found) {
			k->what = what;
		} else if (k->what == what) {
			/* the same fact again (a problem listed in two sections): once */
			sink_note(c->s, "ccda: entry repeated in the document (same id and code): loaded once");
			return 0;
		} else {
			/* the same id on another fact in this document: keep both */
			char *o = arena_alloc(c->a, ev->key.n + 16);
			int n = snprintf(o, ev->key.n + 16, "%.*s#%u", (int)ev->key.n, ev->key.p, ++k->n + 1);
			ev->key = span_make(o, (size_t)n);
		}
	}
	if (r->kind == REC_VISIT && r->u.visit.key.n && !cx_first_use(c, REC_VISIT, r->u.visit.key)) {
		/* an encounter both in the header (encompassingEncounter) and in the
		 * Encounters section, or listed twice: the first one */
		sink_note(c->s, "ccda: encounter repeated in the document (same id): loaded once");
		return 0;
	}
	cx_keep(c, r);
	int rc = sink_emit(c->s, r, c->e);
	if (rc < 0 && err_is_soft(-rc) && !c->e->pos.where[0])
		cx_where(c, c->xroot, c->e->pos.where, sizeof c->e->pos.where);
	return rc < 0 ? rc : 0;
}

int cx_event_dates(struct cx *c, struct rec_event *ev)
{
	if (ev->start.prec == DT_NONE)
		return 0;
	if (ev->start.prec < DT_DAY) {
		if (!c->x->prof.partial_first_day)
			return 0;
		ev->start.prec = DT_DAY;
	}
	if (ev->end.prec != DT_NONE && ev->end.prec < DT_DAY)
		ev->end.prec = DT_DAY;
	return 1;
}

/* "given family" of a PN (first given, first family; else its text). */
static struct span person_name(struct cx *c, const xmlNode *pn)
{
	if (!pn || cx_null(pn))
		return SPAN_NULL;
	struct span g = cx_text(c, cx_child(pn, "given")), f = cx_text(c, cx_child(pn, "family"));
	if (!g.n && !f.n)
		return cx_text(c, pn);
	if (!g.n || !f.n)
		return g.n ? g : f;
	return arena_join2(c->a, g, ' ', f);
}

int cx_provider(struct cx *c, const xmlNode *as, struct span *key)
{
	*key = SPAN_NULL;
	if (!as || cx_child(as, "assignedAuthoringDevice"))
		return 0;
	xmlNodePtr idn = NULL;
	for (xmlNodePtr id = cx_child(as, "id"); id && !key->n; id = cx_next(id, "id")) {
		*key = cx_ii(c, id);
		idn = id;
	}
	if (!key->n)
		return 0;
	if (!cx_first_use(c, REC_PROVIDER, *key))
		return 0;
	struct record r;
	record_init(&r, REC_PROVIDER);
	struct rec_provider *p = &r.u.provider;
	p->key = *key;
	p->name = person_name(c, cx_path(as, "assignedPerson", "name", NULL));
	if (span_eq_str(cx_attr(c, idn, "root"), c->x->prof.npi_root))
		p->npi = cx_attr(c, idn, "extension");
	cx_code(c, cx_child(as, "code"), &p->specialty, NULL);
	return cx_emit(c, &r);
}
