/*
 * map_stats.c - per-worker counts of what did not map.
 *
 *   map_code() -> map_stats_note(site, system key, code, example text, reason)
 *   workers' stats -> map_stats_merge() -> map_stats_flush():
 *     one log line per unknown code system with its count, and an upsert of
 *     (site, system, code) -> count into @omopipe.unmapped_code, which
 *     `omopipe unmapped` turns into a Usagi-ready CSV.
 *
 * A struct map_stats belongs to one thread; nothing here locks.
 */
#include "etl/map/map_internal.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

struct stat_ent {
	const char *site, *key, *code, *name, *vocab;
	uint64_t count, h;
	uint8_t status;
};

struct sys_ent { const char *key; uint64_t count, h; };

struct map_stats {
	struct arena a;
	struct stat_ent *e;
	uint32_t n, cap, *slot, mask;
	struct sys_ent *s;
	uint32_t ns, scap;
	uint64_t epoch;            /* unique to this object until it is next emptied */
};

/* A new epoch, unique in the process: entry indices of another are void. */
static uint64_t next_epoch(void)
{
	static _Atomic uint64_t epochs;
	return ++epochs;
}

struct map_stats *map_stats_new(void)
{
	struct map_stats *st = xcalloc(1, sizeof *st);
	arena_init(&st->a, 64 * 1024);
	st->epoch = next_epoch();
	return st;
}

void map_stats_free(struct map_stats *st)
{
	if (!st)
		return;
	arena_free(&st->a);
	free(st->e);
	free(st->slot);
	free(st->s);
	free(st);
}

static void reset(struct map_stats *st)
{
	st->epoch = next_epoch();
	arena_reset(&st->a);
	st->n = st->ns = 0;
	if (st->slot)
		memset(st->slot, 0, ((size_t)st->mask + 1) * sizeof *st->slot);
}

const char *map_status_reason(uint8_t status)
{
	switch (status) {
	case MAP_MAPPED: return "mapped";
	case MAP_NO_STANDARD: return "no_standard";
	case MAP_UNKNOWN_CODE: return "unknown_code";
	case MAP_UNKNOWN_SYSTEM: return "unknown_system";
	case MAP_INVALID_CODE: return "invalid_code";
	default: return "empty";
	}
}

static uint64_t key_hash(const char *site, const char *key, size_t kl, struct span code)
{
	uint64_t h = hash64(site, strlen(site), 1);
	h = hash64(key, kl, h);
	return hash64(code.p, code.n, h);
}

static void grow(struct map_stats *st)
{
	uint32_t ncap = st->cap ? st->cap * 2 : 256;
	st->e = xrealloc(st->e, mem_mul(ncap, sizeof *st->e));
	free(st->slot);
	st->slot = xcalloc((size_t)ncap * 2, sizeof *st->slot);
	st->mask = ncap * 2 - 1;
	st->cap = ncap;
	for (uint32_t j = 0; j < st->n; j++) {
		uint32_t i = (uint32_t)st->e[j].h & st->mask;
		while (st->slot[i])
			i = (i + 1) & st->mask;
		st->slot[i] = j + 1;
	}
}

/* A description for the steward, cut at a UTF-8 boundary. */
static const char *example(struct arena *a, struct span d)
{
	d = span_trim(d);
	if (!d.n)
		return NULL;
	if (d.n > 255) {
		d.n = 255;
		while (d.n && ((unsigned char)d.p[d.n] & 0xC0) == 0x80)
			d.n--;
	}
	return span_utf8_valid(d) ? arena_strndup(a, d.p, d.n) : NULL;
}

static struct stat_ent *add(struct map_stats *st, const char *site, const char *key, size_t kl, struct span code,
                            uint64_t count)
{
	uint64_t h = key_hash(site, key, kl, code);
	if (st->slot) {
		for (uint32_t i = (uint32_t)h & st->mask;; i = (i + 1) & st->mask) {
			uint32_t s = st->slot[i];
			if (!s)
				break;
			struct stat_ent *x = &st->e[s - 1];
			if (x->h == h && strcmp(x->site, site) == 0 && strlen(x->key) == kl && memcmp(x->key, key, kl) == 0 &&
			    strlen(x->code) == code.n && memcmp(x->code, code.p, code.n) == 0) {
				x->count += count;
				return x;
			}
		}
	}
	if (st->n + 1 > st->cap)
		grow(st);
	struct stat_ent *x = &st->e[st->n];
	memset(x, 0, sizeof *x);
	x->site = arena_strdup(&st->a, site);
	x->key = arena_strndup(&st->a, key, kl);
	x->code = arena_strndup(&st->a, code.p, code.n);
	x->count = count;
	x->h = h;
	uint32_t i = (uint32_t)h & st->mask;
	while (st->slot[i])
		i = (i + 1) & st->mask;
	st->slot[i] = ++st->n;
	return x;
}

static void add_system(struct map_stats *st, const char *key, size_t kl, uint64_t count)
{
	uint64_t h = hash64(key, kl, 3);
	for (uint32_t i = 0; i < st->ns; i++)
		if (st->s[i].h == h && strlen(st->s[i].key) == kl && memcmp(st->s[i].key, key, kl) == 0) {
			st->s[i].count += count;
			return;
		}
	if (st->ns == st->scap) {
		st->scap = st->scap ? st->scap * 2 : 16;
		st->s = xrealloc(st->s, mem_mul(st->scap, sizeof *st->s));
	}
	st->s[st->ns++] = (struct sys_ent){ arena_strndup(&st->a, key, kl), count, h };
}

/* One more of entry x: what a note adds besides the count. */
static void noted(struct map_stats *st, struct stat_ent *x, struct span display, const char *vocab, uint8_t status)
{
	if (!x->name)
		x->name = example(&st->a, display);
	if (!x->vocab && vocab)
		x->vocab = vocab; /* owned by the index: outlives the stats */
	x->status = status;
	if (status == MAP_UNKNOWN_SYSTEM)
		add_system(st, x->key, strlen(x->key), 1);
}

uint32_t map_stats_note(struct map_stats *st, const char *site, const char *key, size_t kl, struct span code,
                        struct span display, const char *vocab, uint8_t status)
{
	if (!site)
		site = "";
	struct stat_ent *x = add(st, site, key, kl, code, 1);
	noted(st, x, display, vocab, status);
	return (uint32_t)(x - st->e);
}

void map_stats_again(struct map_stats *st, uint32_t i, struct span display, uint8_t status)
{
	struct stat_ent *x = &st->e[i];
	x->count++;
	noted(st, x, display, x->vocab, status);
}

uint64_t map_stats_epoch(const struct map_stats *st) { return st->epoch; }

void map_stats_merge(struct map_stats *into, struct map_stats *from)
{
	for (uint32_t j = 0; j < from->n; j++) {
		struct stat_ent *f = &from->e[j];
		struct stat_ent *x = add(into, f->site, f->key, strlen(f->key), span_of(f->code), f->count);
		if (!x->name && f->name)
			x->name = arena_strdup(&into->a, f->name);
		if (!x->vocab)
			x->vocab = f->vocab;
		x->status = f->status;
	}
	for (uint32_t j = 0; j < from->ns; j++)
		add_system(into, from->s[j].key, strlen(from->s[j].key), from->s[j].count);
	reset(from);
}

size_t map_stats_rows(const struct map_stats *st, struct map_stats_row **rows)
{
	*rows = xcalloc(st->n + 1, sizeof **rows);
	for (uint32_t j = 0; j < st->n; j++) {
		const struct stat_ent *x = &st->e[j];
		(*rows)[j] = (struct map_stats_row){ x->site, x->key, x->code, x->name, x->vocab, x->count, x->status };
	}
	return st->n;
}

uint64_t map_stats_unknown_system(const struct map_stats *st, const char *key)
{
	for (uint32_t i = 0; i < st->ns; i++)
		if (strcmp(st->s[i].key, key) == 0)
			return st->s[i].count;
	return 0;
}

int map_stats_flush(struct map_stats *st, PGconn *conn, const struct conf *c, int64_t run_id, struct err *e)
{
	/* unknown systems: one line each, with the count */
	for (uint32_t i = 0; i < st->ns; i++)
		log_warn("unknown code system '%s': %llu codes left unmapped (add it to mappings/code_systems.csv "
		         "or conf/code_systems.csv)", st->s[i].key[0] ? st->s[i].key : "(none given)",
		         (unsigned long long)st->s[i].count);
	if (!st->n)
		return 0;
	uint64_t total = 0;
	int rc = db_exec(conn, "CREATE TEMP TABLE IF NOT EXISTS omo_unmapped_tmp (site_id text, source_system text, "
	                       "vocabulary_id text, source_code text, source_name text, record_count bigint, reason text); "
	                       "TRUNCATE omo_unmapped_tmp", e);
	struct db_copy cp;
	if (rc == 0)
		rc = db_copy_begin(&cp, conn, "COPY omo_unmapped_tmp FROM STDIN", "omo_unmapped_tmp", e);
	if (rc < 0)
		return rc;
	for (uint32_t j = 0; j < st->n && rc == 0; j++) {
		const struct stat_ent *x = &st->e[j];
		copy_str(&cp.b, x->site, 0);
		copy_str(&cp.b, x->key, 0);
		copy_str(&cp.b, x->vocab ? x->vocab : "", 0);
		copy_str(&cp.b, x->code, 0);
		if (x->name)
			copy_str(&cp.b, x->name, 0);
		else
			copy_null(&cp.b, 0);
		copy_i64(&cp.b, (int64_t)x->count, 0);
		copy_str(&cp.b, map_status_reason(x->status), 1);
		total += x->count;
		rc = db_copy_row(&cp, e);
	}
	if (rc < 0) {
		db_copy_abort(&cp);
		return rc;
	}
	if ((rc = db_copy_end(&cp, e)) < 0)
		return rc;
	char run[32];
	if (run_id > 0)
		snprintf(run, sizeof run, "%lld", (long long)run_id);
	else
		snprintf(run, sizeof run, "NULL");
	char sqlt[1200];
	snprintf(sqlt, sizeof sqlt,
	         "INSERT INTO @omopipe.unmapped_code AS u (site_id, source_system, vocabulary_id, source_code, source_name, "
	         "record_count, first_run_id, last_run_id, reason, last_seen) "
	         "SELECT site_id, source_system, vocabulary_id, source_code, source_name, record_count, %s::bigint, %s::bigint, "
	         "reason, now() FROM omo_unmapped_tmp "
	         "ON CONFLICT (site_id, source_system, source_code) DO UPDATE SET "
	         "record_count = u.record_count + EXCLUDED.record_count, last_run_id = EXCLUDED.last_run_id, "
	         "source_name = coalesce(u.source_name, EXCLUDED.source_name), vocabulary_id = EXCLUDED.vocabulary_id, "
	         "reason = EXCLUDED.reason, last_seen = now(); TRUNCATE omo_unmapped_tmp",
	         run, run);
	char *q = db_render(c, sqlt);
	rc = db_exec(conn, q, e);
	free(q);
	if (rc == 0)
		log_info("unmapped codes: %u distinct (site, system, code), %llu occurrences recorded in %s.unmapped_code",
		         st->n, (unsigned long long)total, c->schema_omopipe);
	return rc;
}
