/*
 * ccda_int.h - inside the C-CDA extractor (not for other modules).
 *
 *   ccda.c       extract_ops: the file read into a bounded buffer (plain or
 *                .zst), the document walk with libxml2's streaming reader
 *                (header elements and entries expanded one subtree at a
 *                time), document accounting (load / quarantine / skip)
 *   ccda_prof.c  profile conf/profiles/ccda/NAME.conf -> struct ccda_prof
 *   ccda_xml.c   helpers over an expanded subtree: HL7 v3 elements,
 *                attributes, II keys, CD codes, TS dates, values, element
 *                paths for error positions, record emission
 *   ccda_hdr.c   header: recordTarget (person, location, death), author and
 *                documentationOf performers (providers), custodian (care
 *                site), componentOf (the encompassing encounter)
 *   ccda_sec.c   entries by section kind: problems, medications, results,
 *                vital signs, immunizations, allergies, encounters,
 *                procedures, social history
 *
 * One document is one source record. A handler returns 0, a negative soft
 * error with c->e filled (code, message, element path: the document is
 * quarantined) or a negative hard error from the sink.
 *
 * Every span a record carries is copied into the document arena before it
 * is emitted (cx_emit): the expanded subtrees it was read from are freed as
 * the reader moves on, the document arena only after the record closes.
 */
#ifndef OMO_CCDA_INT_H
#define OMO_CCDA_INT_H

#include <libxml/xmlreader.h>
#include "core/arena.h"
#include "etl/extract/extract.h"
#include "etl/record.h"

/* What a section's entries are. */
enum ccda_sec {
	CS_NONE = 0,
	CS_ALLERGIES,
	CS_MEDICATIONS,
	CS_PROBLEMS,
	CS_RESULTS,
	CS_VITALS,
	CS_IMMUNIZATIONS,
	CS_ENCOUNTERS,
	CS_PROCEDURES,
	CS_SOCIAL,
	CS__COUNT
};

/* A section identifier (templateId root or LOINC section code) -> kind. */
struct ccda_secmap {
	const char *key;
	uint8_t kind;
};

#define CCDA_MAX_EXT 16
#define CCDA_MAX_ROOTS 16

struct ccda_prof {
	struct arena a;               /* strings */
	char name[128];
	size_t max_doc;               /* largest document read, bytes */
	char ext[CCDA_MAX_EXT][12];   /* file extensions a feed folder's documents have */
	size_t next;
	const char *secondary_roots[CCDA_MAX_ROOTS]; /* patientRole/id roots (SSN) that key a person only without another id */
	size_t nsecondary;
	int use_secondary;            /* 0: such ids never key a person */
	const char *null_dates[CCDA_MAX_ROOTS]; /* TS values a sender writes for "no date" */
	size_t nnull_dates;
	const char *npi_root;         /* id root whose extension is an NPI */
	int partial_first_day;        /* an event start of year/month precision: its first day (1) or not loaded (0) */
	struct ccda_secmap *sec;
	size_t nsec, capsec;
};

int ccda_prof_load(struct ccda_prof *p, const char *name, struct err *e);
void ccda_prof_free(struct ccda_prof *p);
/* The kind of a section by one templateId root or code (CS_NONE: known, not
 * loaded); -1 if the profile does not name it. */
int ccda_prof_section(const struct ccda_prof *p, const char *key);
/* The handler name of a kind ("problems"), for messages. */
const char *ccda_sec_name(int kind);

struct extractor {
	struct ccda_prof prof;
	int tz;                       /* the site's offset, or DT_TZ_KEEP */
	xmlTextReaderPtr rd;          /* one reader, reset per document */
	struct arena doc;             /* the document's copies; reset after it */
	char *buf;                    /* the document's bytes */
	size_t cap;
	size_t max_read;              /* tests: bytes per read from the file (0: no limit) */
};

/* One open element on the streamed path, for error positions. */
struct cx_frame {
	char name[40];
	unsigned ord;                 /* 1-based among same-named siblings */
	unsigned nkid;
	struct { char name[24]; unsigned n; } kid[8];
};

#define CX_MAX_DEPTH 24

/* One key used in the document: event keys repeat only for the same fact. */
struct cx_key {
	uint64_t h;                   /* hash of the key, 0 = free slot */
	uint64_t what;                /* hash of kind + code */
	unsigned n;                   /* uses with another fact */
};

/* One document being read. */
struct cx {
	struct extractor *x;
	struct sink *s;
	struct err *e;                /* the document's error (quarantine reason) */
	struct arena *a;
	xmlTextReaderPtr r;
	/* the streamed path: frames 0 .. depth */
	struct cx_frame st[CX_MAX_DEPTH];
	int depth;
	xmlNodePtr xroot;             /* the expanded subtree being handled (its frame is st[depth]) */
	/* the first XML error libxml2 reported */
	int xerr, xline, xcol, xcode;
	int xent;                     /* an entity reference was left unexpanded */
	char xmsg[160];
	/* header */
	int have_target;
	struct record person;         /* kept until the body starts */
	int person_done;
	struct span person_key;
	/* the section and encounter being read */
	uint8_t sec;
	struct span enc_visit;        /* inside an encounter: its visit key */
	/* keys used in this document */
	struct cx_key *keys;
	size_t nkeys, capkeys;
};

/* ---- ccda_xml.c: subtree helpers ------------------------------------ */

#define CX_NS_V3 "urn:hl7-org:v3"
#define CX_NS_SDTC "urn:hl7-org:sdtc"
#define CX_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* 1 if n is an element named local in the HL7 v3 namespace (or none). */
int cx_is(const xmlNode *n, const char *local);
/* The first child element named local (HL7 v3), or NULL; the next sibling so named. */
xmlNodePtr cx_child(const xmlNode *n, const char *local);
xmlNodePtr cx_next(const xmlNode *n, const char *local);
/* The first child element named local in namespace href. */
xmlNodePtr cx_child_ns(const xmlNode *n, const char *local, const char *href);
/* A path of children: cx_path(n, "assignedEntity", "assignedPerson", NULL). */
xmlNodePtr cx_path(const xmlNode *n, ...);
/* The first element child, and the next element sibling, of any name. */
xmlNodePtr cx_first_el(const xmlNode *n);
xmlNodePtr cx_next_el(const xmlNode *n);
/* An attribute without namespace, trimmed; empty if absent. Points into the tree. */
struct span cx_attr(struct cx *c, const xmlNode *n, const char *name);
/* xsi:type without its prefix ("PQ"), empty if absent. */
struct span cx_xsi_type(struct cx *c, const xmlNode *n);
/* 1 if n carries a nullFlavor (a value "not given"). */
int cx_null(const xmlNode *n);
/* 1 if attribute name is "true". */
int cx_true(struct cx *c, const xmlNode *n, const char *name);
/* 1 if n has a templateId child with this root. */
int cx_templ(struct cx *c, const xmlNode *n, const char *root);
/* The text of an element (its text children, trimmed); points into the tree or the arena. */
struct span cx_text(struct cx *c, const xmlNode *n);
/* "ROOT|EXTENSION" of an II: ROOT alone when there is no extension (the root
 * is then the identifier), "|EXTENSION" without a root; empty for a
 * nullFlavor or neither. In the arena. */
struct span cx_ii(struct cx *c, const xmlNode *id);
/* The first usable id child of n, as cx_ii. */
struct span cx_id(struct cx *c, const xmlNode *n);
/* A CD/CE: code, codeSystem, displayName (else originalText). A nullFlavor
 * code takes its first coded translation; alt (may be NULL) gets the first
 * translation that is not the code. Empty when not given. */
void cx_code(struct cx *c, const xmlNode *cd, struct code *out, struct code *alt);
/* A TS's value attribute; DT_EMPTY if absent or nullFlavor; -E_DATE at its path if impossible. */
int cx_ts(struct cx *c, const xmlNode *ts, struct dt *out);
/* An act's time: the first effectiveTime with a value, low, high or center
 * (periodic ones are skipped). Either may come back DT_EMPTY. */
int cx_time(struct cx *c, const xmlNode *act, struct dt *start, struct dt *end);
/* An observation's value element into v (PQ, INT, REAL, CD family, ST, ED, BL, IVL_PQ). */
void cx_value(struct cx *c, const xmlNode *val, struct value *v);
/* Fill c->e: code, message, line and element path of n (NULL: the streamed path). Returns -code. */
int cx_fail(struct cx *c, const xmlNode *n, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The element path of n (NULL: the streamed path) into buf. */
void cx_where(struct cx *c, const xmlNode *n, char *buf, size_t cap);
/* Copy an element path into out (cap bytes), shortened in the middle
 * ("/ClinicalDocument/.../entry[2]/act/...") when it does not fit. */
void cx_fit_path(const char *full, char *out, size_t cap);
/* Emit r after copying its spans into the document arena. Within one
 * document a key names one row: an event key repeated for another fact gets
 * "#n", the same fact (id, kind and code) or the same visit again is counted
 * (sink_note) and not emitted twice. */
int cx_emit(struct cx *c, struct record *r);
/* Copy the spans of r into the document arena. */
void cx_keep(struct cx *c, struct record *r);
/* 1 the first time key (of kind) is seen in this document. */
int cx_first_use(struct cx *c, int kind, struct span key);
/* An event's start (and end) after the profile's partial-date rule: 1 if
 * the event can load, 0 if it has no usable start. */
int cx_event_dates(struct cx *c, struct rec_event *ev);
/* A provider record from an assignedEntity / assignedAuthor (id + assignedPerson),
 * emitted once per document; *key empty if it has no usable id. */
int cx_provider(struct cx *c, const xmlNode *assigned, struct span *key);

/* ---- ccda_hdr.c ------------------------------------------------------ */

int ccda_document_id(struct cx *c, xmlNodePtr id);
int ccda_record_target(struct cx *c, xmlNodePtr rt);
int ccda_author(struct cx *c, xmlNodePtr au);
int ccda_custodian(struct cx *c, xmlNodePtr cu);
int ccda_documentation_of(struct cx *c, xmlNodePtr d);
int ccda_component_of(struct cx *c, xmlNodePtr co);
/* The visit class of an encounter's code: the ActCode (2.16.840.1.113883.5.4)
 * among the code and its translations, else the code. */
void ccda_visit_class(struct cx *c, const xmlNode *code, struct code *cls);
/* -E_NO_PATIENT unless recordTarget gave a person key. */
int ccda_need_person(struct cx *c, const xmlNode *at);
/* Emit the person (at the body, or at the end of a document without one);
 * -E_NO_PATIENT if recordTarget gave no usable id. */
int ccda_person(struct cx *c);

/* ---- ccda_sec.c ------------------------------------------------------ */

/* One <entry> of a section of kind c->sec. */
int ccda_entry(struct cx *c, xmlNodePtr entry);

#endif
