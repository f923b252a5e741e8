/*
 * sink.h - where extractors put records: one source record at a time.
 *
 *   sink_begin(pos, raw)                a source record starts (message, row, document)
 *     sink_emit(record) ...             what it says, any number of records
 *   sink_end()                          it loaded
 *   | sink_quarantine(why)              it cannot be loaded: kept with reason + raw copy
 *   | sink_skip(reason)                 deliberately not loaded (ACK message, header row ...)
 *
 * Exactly one of end/quarantine/skip closes each begin: that is what keeps
 * "records read = loaded + quarantined + skipped" true. Rows emitted for a
 * record that is then quarantined or skipped are discarded.
 *
 * sink_note(what) counts something inside a record that was left out on
 * purpose (an OBX with status X, a cancelled order), by reason.
 *
 * raw (given at begin) must stay valid until the record is closed; it is
 * copied (zstd-compressed) only when the record is quarantined.
 *
 * sink_context(header) gives what a raw record needs to be read again on its
 * own (a CSV file's header line); it is stored before the raw record in the
 * quarantine, so that a replay of the record alone parses. Copied at once.
 *
 * sink_source_id(id), inside a record, names it as its sender did (HL7 v2
 * MSH-10 message control id, C-CDA ClinicalDocument/id): stored with the
 * record's position as the provenance of the rows it loads. Copied at once;
 * text as a record's (etl/record.h), cut by the loader to 127 bytes.
 *
 * Return values: 0, a negative soft error from emit (the record is bad: the
 * extractor quarantines it with that error), or a negative hard error (the
 * database failed: the extractor stops and returns it).
 *
 * The loader implements this (etl/load/); tests implement it to collect records.
 */
#ifndef OMO_SINK_H
#define OMO_SINK_H

#include "core/err.h"
#include "core/span.h"
#include "etl/record.h"

struct sink;

struct sink_ops {
	void (*begin)(struct sink *s, const struct err_pos *pos, struct span raw);
	int (*emit)(struct sink *s, const struct record *r, struct err *e);
	int (*end)(struct sink *s, struct err *e);
	int (*quarantine)(struct sink *s, const struct err *why, struct err *e);
	int (*skip_rec)(struct sink *s, const char *reason, struct err *e);
	void (*note)(struct sink *s, const char *what);
	void (*context)(struct sink *s, struct span header);   /* optional */
	void (*source_id)(struct sink *s, struct span id);     /* optional */
};

struct sink {
	const struct sink_ops *ops;
};

static inline void sink_begin(struct sink *s, const struct err_pos *pos, struct span raw) { s->ops->begin(s, pos, raw); }
static inline int sink_emit(struct sink *s, const struct record *r, struct err *e) { return s->ops->emit(s, r, e); }
static inline int sink_end(struct sink *s, struct err *e) { return s->ops->end(s, e); }
static inline int sink_quarantine(struct sink *s, const struct err *why, struct err *e) { return s->ops->quarantine(s, why, e); }
static inline int sink_skip(struct sink *s, const char *reason, struct err *e) { return s->ops->skip_rec(s, reason, e); }
static inline void sink_note(struct sink *s, const char *what) { s->ops->note(s, what); }
static inline void sink_context(struct sink *s, struct span header) { if (s->ops->context) s->ops->context(s, header); }
static inline void sink_source_id(struct sink *s, struct span id) { if (s->ops->source_id) s->ops->source_id(s, id); }

#endif
