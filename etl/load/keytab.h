/*
 * keytab.h - the source keys of one file and the ids they resolve to.
 *
 * A key is a 128-bit hash of (site, kind class, source key). While a file is
 * read, every key a row refers to gets an entry here; rows are written with a
 * placeholder where the id goes (see rows.h). In batches, the unresolved keys
 * are sent to the database (ids.c), which returns the existing id or assigns a
 * new one; then the placeholders are patched. Cleared at every file.
 */
#ifndef OMO_KEYTAB_H
#define OMO_KEYTAB_H

#include <stddef.h>
#include <stdint.h>
#include "core/hash.h"
#include "core/span.h"

/* Kind classes: one id namespace per class. Events share one class, so a
 * code whose domain (and thus table) changes keeps its id. */
enum key_class { KC_PERSON = 1, KC_VISIT, KC_PROVIDER, KC_CARE_SITE, KC_LOCATION, KC_EVENT };

enum key_state { KS_UNRESOLVED = 0, KS_NEW, KS_EXISTING };

struct key_ent {
	struct hash128 key;
	int64_t id;          /* 0 until resolved */
	uint8_t cls;         /* enum key_class */
	uint8_t state;       /* enum key_state */
	uint8_t tbl;         /* events: table of the row pending in this batch (enum load_table) */
	uint8_t has_pending; /* a row with this key is in the current batch's buffers */
	uint8_t flushed;     /* a row with this key was copied earlier in this file's transaction */
	uint8_t refiled;     /* id_map.file_id already points at this file */
	uint8_t tomb;        /* retracted in this batch: its rows go, nothing replaces them */
	uint8_t probe;       /* looked up for a retraction only: gets no new id */
	size_t pend_off, pend_len;
	int64_t file_id;     /* events: the file that made the key (id_map.file_id) */
	int64_t record_no;   /* events: and the record in it (id_map.record_no) */
	uint16_t pend_file;  /* the group file (filectx.gi) whose row is pending */
	uint16_t staged_file;/* the group file + 1 for which staged_mask holds */
	uint8_t staged_mask; /* staged tables (1 << T_x) with a row for this key in that file */
	uint32_t person;     /* events: the entry of the event's person + 1 (0: not known) */
};

struct keytab {
	struct key_ent *v;     /* entries, in insertion order */
	size_t n, cap;
	uint32_t *slots;       /* open addressing: index + 1, 0 = empty */
	size_t nslots;
	size_t unresolved;     /* entries with state KS_UNRESOLVED */
};

void keytab_init(struct keytab *t);
void keytab_free(struct keytab *t);
void keytab_clear(struct keytab *t);
/* Keep only the entries of classes other than cls (after a flush: a file's
 * event keys are many and needed no more; its persons and visits are few and
 * are). Indices change: call when no row refers to an entry. */
void keytab_drop_class(struct keytab *t, uint8_t cls);
/* The entry for a key, created unresolved if new. Returns its index. */
uint32_t keytab_get(struct keytab *t, struct hash128 key, uint8_t cls);
/* Hash (site, class, key[, suffix]) into a key. */
struct hash128 keytab_hash(const char *site, uint8_t cls, struct span key, int suffix);
/* An event's key: as keytab_hash(site, KC_EVENT, key, suffix), but its first
 * KEY_GROUP_PREFIX bytes (as stored, the order id_map's index sorts by) are
 * the hash of the key's first two '|'-separated parts, which extractors make
 * the event's kind and its order, visit or patient ("obx|ORDER|...",
 * "observation|PATIENT|..."). The events of an order or a patient then sit
 * together in that index, and a file's inserts and probes touch about a page
 * per group rather than a page per event (a COPY into a 10M-key id_map
 * 1.1-1.4x faster: bench/idmap_bench.sh). Still a function of the source key
 * alone. The table hashes its slots on the other half (key.hi). */
#define KEY_GROUP_PREFIX 6
struct hash128 keytab_hash_event(const char *site, struct span key, int suffix);

#endif
