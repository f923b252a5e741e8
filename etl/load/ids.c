/*
 * ids.c - resolve a batch's keys to ids, and write the batch out.
 *
 *   keys (16-byte hashes) --one statement--> id_map: existing id, or a new one
 *     (site_no * 10^12 + nextval(id_seq), inserted ON CONFLICT DO NOTHING, so
 *     that workers loading the same person at once agree on one id)
 *   rows that replace earlier ones (same key: a correction, a re-sent record,
 *     a new version of a file) -> the earlier rows are deleted first
 *   placeholders patched -> binary COPY: events into the CDM tables, persons, visits,
 *     health-system rows and deaths into staging (merged at the end of the file)
 *
 * Everything runs inside the file's transaction.
 */
#include "etl/load/load_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys travel as one bytea of 16-byte keys; id_map stores them as uuid. */
#define KEY_AT(p, i) "encode(substring(" p " FROM " i " * 16 + 1 FOR 16), 'hex')::uuid"
#define KEYS_FROM(p) "(SELECT " KEY_AT(p, "i") " FROM generate_series(0, length(" p ") / 16 - 1) AS i)"

int ids_prepare(PGconn *conn, const struct conf *c, struct err *e)
{
	int rc = db_run_file(conn, c, "sql/load_stage.sql", e);
	if (rc < 0)
		return rc;
	struct { const char *name, *sql; } st[] = {
		{ "omo_resolve",
		  "WITH k AS (SELECT " KEY_AT("$1::bytea", "i") " AS key, get_byte($2::bytea, i)::int2 AS kind "
		  "           FROM generate_series(0, length($2::bytea) - 1) AS i), "
		  "ins AS (INSERT INTO @omopipe.id_map (key, id, kind, site_no, file_id) "
		  "        SELECT key, $3::bigint * 1000000000000 + nextval('@omopipe.id_seq'), kind, $3::int, NULL "
		  "        FROM k ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING key, id) "
		  /* keys that were there already: an index probe each, only for the keys
		     ins did not insert (LATERAL ... LIMIT 1 keeps the planner from hashing
		     the whole id_map) */
		  "SELECT key, id, 1 FROM ins UNION ALL "
		  "SELECT k.key, m.id, 0 FROM k LEFT JOIN ins i ON i.key = k.key CROSS JOIN LATERAL "
		  "(SELECT id FROM @omopipe.id_map m WHERE m.key = k.key LIMIT 1) m WHERE i.key IS NULL" },
		{ "omo_lookup", "SELECT k.key, m.id, 0 FROM " KEYS_FROM("$1::bytea") " AS k(key) CROSS JOIN LATERAL "
		                "(SELECT id FROM @omopipe.id_map m WHERE m.key = k.key LIMIT 1) m" },
		{ "omo_block", "SELECT nextval('@omopipe.event_block_seq')" },
		/* of 6-byte key prefixes (sorted), those some id_map key starts with */
		{ "omo_groups", "SELECT g FROM (SELECT substring($1::bytea FROM i * 6 + 1 FOR 6) AS g "
		                "FROM generate_series(0, length($1::bytea) / 6 - 1) AS i) s WHERE EXISTS ("
		                "SELECT 1 FROM @omopipe.id_map m WHERE m.key BETWEEN "
		                "encode(g || '\\x00000000000000000000'::bytea, 'hex')::uuid AND "
		                "encode(g || '\\xffffffffffffffffffff'::bytea, 'hex')::uuid) ORDER BY g" },
		{ "omo_refile", "UPDATE @omopipe.id_map m SET file_id = $2::bigint, record_no = k.rec FROM "
		                "(SELECT " KEY_AT("$1::bytea", "i") ", ($3::bigint[])[i + 1] FROM generate_series(0, length($1::bytea) / 16 - 1) AS i) "
		                "AS k(key, rec) WHERE m.key = k.key AND (m.file_id, m.record_no) IS DISTINCT FROM ($2::bigint, k.rec)" },
	};
	for (size_t i = 0; i < sizeof st / sizeof *st; i++) {
		char *sql = db_render(c, st[i].sql);
		PGresult *r = PQprepare(conn, st[i].name, sql, 0, NULL);
		free(sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = db_error(conn, r, "preparing the loader's statements", e);
			PQclear(r);
			return rc;
		}
		PQclear(r);
	}
	for (int t = T_FIRST_EVENT; t < T__COUNT; t++) {
		char name[64], sql[256];
		snprintf(name, sizeof name, "omo_del_%s", load_tables[t].name);
		snprintf(sql, sizeof sql, "DELETE FROM %s.%s WHERE %s = ANY($1::bigint[])", c->schema_cdm,
		         load_tables[t].name, load_tables[t].id_col);
		PGresult *r = PQprepare(conn, name, sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = db_error(conn, r, "preparing the loader's statements", e);
			PQclear(r);
			return rc;
		}
		PQclear(r);
	}
	return 0;
}

/*
 * Rows go out in COPY's binary format, each value in the type the loader
 * writes for its column: a CDM table made with other types would fail every
 * file (or, where the sizes happen to agree, store wrong values). Checked
 * once per run, with the column and what to do.
 */
int ids_check_tables(PGconn *conn, const struct conf *c, struct err *e)
{
	static const char *const sql =
		"SELECT c.name, a.attname IS NOT NULL, CASE format_type(a.atttypid, NULL) WHEN 'bigint' THEN '8' "
		"WHEN 'integer' THEN '4' WHEN 'numeric' THEN 'n' WHEN 'date' THEN 'd' WHEN 'timestamp without time zone' "
		"THEN 't' WHEN 'text' THEN 's' WHEN 'character varying' THEN 's' ELSE '?' END, format_type(a.atttypid, NULL) "
		"FROM unnest(string_to_array(replace($2, ' ', ''), ',')) WITH ORDINALITY AS c(name, ord) "
		"LEFT JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attname = c.name AND NOT a.attisdropped "
		"ORDER BY c.ord";
	static const char *const type_name[128] = { ['8'] = "bigint", ['4'] = "integer", ['n'] = "numeric",
		['d'] = "date", ['t'] = "timestamp", ['s'] = "text or varchar" };
	int rc = 0;
	for (int t = 0; t < T__COUNT && rc == 0; t++) {
		const struct table_desc *d = &load_tables[t];
		char table[256];
		snprintf(table, sizeof table, "%s.%s", c->schema_cdm, d->name);
		const char *v[] = { table, d->cols };
		PGresult *r;
		if ((rc = db_exec_params(conn, sql, 2, v, &r, e)) < 0)
			return rc;
		if (PQntuples(r) != d->ncols)
			rc = err_set(e, E_INTERNAL, "%s: %d columns listed, %d types", d->name, PQntuples(r), d->ncols);
		for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
			const char *col = PQgetvalue(r, i, 0);
			if (PQgetvalue(r, i, 1)[0] != 't')
				rc = err_set(e, E_CONFIG, "table %s has no column %s: create the CDM tables with `omopipe init`", table, col);
			else if (PQgetvalue(r, i, 2)[0] != d->types[i])
				rc = err_set(e, E_CONFIG, "column %s.%s is %s, omopipe writes %s: create the CDM tables with `omopipe init`",
				             table, col, PQgetvalue(r, i, 3), type_name[(unsigned char)d->types[i]]);
		}
		PQclear(r);
	}
	return rc;
}

static int64_t be64(const char *p)
{
	uint32_t hi, lo;
	memcpy(&hi, p, 4);
	memcpy(&lo, p + 4, 4);
	return (int64_t)(((uint64_t)ntohl(hi) << 32) | ntohl(lo));
}

/* Apply a result of (key uuid, id int8, new int4) rows, binary. */
static int apply(struct filectx *f, PGresult *r, struct err *e)
{
	for (int i = 0; i < PQntuples(r); i++) {
		if (PQgetlength(r, i, 0) != 16 || PQgetlength(r, i, 1) != 8)
			return err_set(e, E_INTERNAL, "unexpected id_map row");
		struct hash128 k;
		memcpy(&k, PQgetvalue(r, i, 0), 16);
		uint32_t idx = keytab_get(&f->keys, k, 0);
		struct key_ent *en = &f->keys.v[idx];
		if (en->state != KS_UNRESOLVED)
			continue;
		int is_new = ntohl(*(const uint32_t *)(const void *)PQgetvalue(r, i, 2)) != 0;
		en->id = be64(PQgetvalue(r, i, 1));
		en->state = is_new ? KS_NEW : KS_EXISTING;
		en->refiled = is_new;
		f->keys.unresolved--;
	}
	return 0;
}

static int exec_on(PGconn *conn, const char *stmt, int n, const char *const *vals, const int *lens,
                   const int *fmts, PGresult **out, struct err *e)
{
	PGresult *r = PQexecPrepared(conn, stmt, n, vals, lens, fmts, 1);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		int rc = db_error(conn, r, "resolving ids", e);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* On the file's connection, inside its transaction. */
static int exec_bin(struct filectx *f, const char *stmt, int n, const char *const *vals, const int *lens,
                    const int *fmts, PGresult **out, struct err *e)
{
	return exec_on(f->conn, stmt, n, vals, lens, fmts, out, e);
}

/* Look up keys[0..n) in id_map on conn (existing ones get their id). */
static int lookup(struct filectx *f, PGconn *conn, const char *keys, size_t n, struct err *e)
{
	PGresult *r = NULL;
	const char *v[] = { keys };
	int l[] = { (int)(n * 16) };
	int fm[] = { 1 };
	int rc = exec_on(conn, "omo_lookup", 1, v, l, fm, &r, e);
	if (rc == 0) {
		rc = apply(f, r, e);
		PQclear(r);
	}
	return rc;
}

/* A key with its entry, to sort a batch's keys: the b-tree probes and inserts
 * then walk id_map's index from left to right instead of jumping about. The
 * key's bytes as two big-endian numbers: compared as numbers, in the order
 * of the bytes (uuid's order). */
struct sorted_key { uint64_t hi, lo; uint32_t idx; };

static int by_key(const void *a, const void *b)
{
	const struct sorted_key *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

static void sort_keys(const struct keytab *t, uint32_t *idx, size_t n)
{
	struct sorted_key *sk = xmalloc(mem_mul(n, sizeof *sk));
	for (size_t i = 0; i < n; i++) {
		const char *k = (const char *)&t->v[idx[i]].key;
		sk[i].hi = (uint64_t)be64(k);
		sk[i].lo = (uint64_t)be64(k + 8);
		sk[i].idx = idx[i];
	}
	qsort(sk, n, sizeof *sk, by_key);
	for (size_t i = 0; i < n; i++)
		idx[i] = sk[i].idx;
	free(sk);
}

/* The keys of entries idx[0..n) into out, 16 bytes each (with unresolved,
 * only those still unresolved); returns how many. */
static size_t keys_out(const struct keytab *t, const uint32_t *idx, size_t n, int unresolved, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!unresolved || t->v[idx[i]].state == KS_UNRESOLVED)
			memcpy(out + k++ * 16, &t->v[idx[i]].key, 16);
	return k;
}

/*
 * Persons, visits, providers, care sites, locations: several workers meet the
 * same ones at once, so they go through INSERT ... ON CONFLICT, which makes
 * the workers agree on one id. This runs on the worker's second connection,
 * committed at once: an id is a reservation for its key, harmless if the file
 * then rolls back, and no worker waits for another's file transaction.
 */
static int resolve_shared(struct filectx *f, uint32_t *idx, size_t n, struct err *e)
{
	char *keys = xmalloc(mem_mul(n, 16)), *kinds = xmalloc(n);
	sort_keys(&f->keys, idx, n);
	/* most are known already (a lab file's patients and visits): a plain lookup
	 * first, the insert (with its conflict handling) only for the new ones */
	int rc = lookup(f, f->conn_ids, keys, keys_out(&f->keys, idx, n, 0, keys), e);
	size_t m = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (f->keys.v[idx[i]].state == KS_UNRESOLVED)
			idx[m++] = idx[i];
	n = m;
	if (rc < 0 || n == 0) {
		free(keys);
		free(kinds);
		return rc;
	}
	keys_out(&f->keys, idx, n, 0, keys);
	for (size_t i = 0; i < n; i++)
		kinds[i] = (char)f->keys.v[idx[i]].cls;
	char site[16];
	snprintf(site, sizeof site, "%d", f->site_no);
	const char *vals[] = { keys, kinds, site };
	int lens[] = { (int)(n * 16), (int)n, 0 };
	int fmts[] = { 1, 1, 0 };
	PGresult *r = NULL;
	rc = exec_on(f->conn_ids, "omo_resolve", 3, vals, lens, fmts, &r, e);
	if (rc == 0) {
		rc = apply(f, r, e);
		PQclear(r);
	}
	if (rc == 0) {
		/* inserted meanwhile by a worker that committed while we waited: look again */
		size_t again = keys_out(&f->keys, idx, n, 1, keys);
		if (again)
			rc = lookup(f, f->conn_ids, keys, again, e);
	}
	free(keys);
	free(kinds);
	return rc;
}

/*
 * Of a batch's event keys (sorted), those that may be in id_map, into keys
 * (16 bytes each, *nk of them). Most events of a night are new, and so are
 * most of their groups (an order's results, a patient's rows of one kind: the
 * first KEY_GROUP_PREFIX bytes of a key): one range probe per group finds the
 * groups id_map holds any key of, and only the keys of those are looked up.
 * Not worth it when groups are nearly as many as keys: then all keys.
 */
_Static_assert(KEY_GROUP_PREFIX == 6, "omo_groups probes 6-byte groups");

static int known_groups(struct filectx *f, const uint32_t *idx, size_t n, char *keys, size_t *nk,
                        struct err *e)
{
	enum { G = KEY_GROUP_PREFIX };
	char *groups = xmalloc(mem_mul(n, G));
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = (const char *)&f->keys.v[idx[i]].key;
		if (ng == 0 || memcmp(groups + (ng - 1) * G, k, G) != 0)
			memcpy(groups + ng++ * G, k, G);
	}
	*nk = 0;
	if (ng * 2 > n) {
		*nk = keys_out(&f->keys, idx, n, 0, keys);
		free(groups);
		return 0;
	}
	PGresult *r = NULL;
	const char *v[] = { groups };
	int l[] = { (int)(ng * G) }, fm[] = { 1 };
	int rc = exec_bin(f, "omo_groups", 1, v, l, fm, &r, e);
	free(groups);
	if (rc < 0)
		return rc;
	/* both sorted: walk them together */
	int j = 0, nr = PQntuples(r);
	for (size_t i = 0; i < n; i++) {
		const char *k = (const char *)&f->keys.v[idx[i]].key;
		while (j < nr && memcmp(PQgetvalue(r, j, 0), k, G) < 0)
			j++;
		if (j < nr && PQgetlength(r, j, 0) == G && memcmp(PQgetvalue(r, j, 0), k, G) == 0)
			memcpy(keys + (*nk)++ * 16, k, 16);
	}
	PQclear(r);
	return 0;
}

/*
 * The next event id: site_no * 10^12 + 5 * 10^11 + a number from the worker's
 * current block of 10,000 (a new block from event_block_seq when it is used up;
 * the unused rest of a block is never reused, which costs nothing that counts).
 */
#define EVENT_BLOCK 10000

static int next_event_id(struct filectx *f, int64_t *id, struct err *e)
{
	struct worker *w = f->w;
	if (w->blk_next == w->blk_end) {
		PGresult *r = NULL;
		int rc = exec_bin(f, "omo_block", 0, NULL, NULL, NULL, &r, e);
		if (rc < 0)
			return rc;
		w->blk_next = be64(PQgetvalue(r, 0, 0)) * EVENT_BLOCK;
		w->blk_end = w->blk_next + EVENT_BLOCK;
		PQclear(r);
	}
	*id = (int64_t)f->site_no * 1000000000000LL + 500000000000LL + w->blk_next++;
	return 0;
}

/*
 * Is the event's key surely not in id_map? When its person was new in this
 * batch, the transaction's first: nobody had loaded that person before, so
 * nobody loaded its events. A guess, not a promise (an event key need not
 * name its patient: a C-CDA entry id, an order number under a patient's
 * changed identifier): should the key be there after all, its COPY into
 * id_map fails on the primary key, and the retry (file.c) looks every key up,
 * the person no longer new (its id was committed at once: resolve_shared).
 */
static int surely_new(const struct filectx *f, const struct key_ent *en)
{
	return f->flushes == 0 && en->person && f->keys.v[en->person - 1].state == KS_NEW;
}

/*
 * Events: almost all new, and each belongs to one source record, so the
 * cheaper path: look up the keys that may exist (known_groups) unless they
 * are surely new, take new ids from the worker's block, COPY the new keys
 * into id_map. Should another worker insert the same key meanwhile, the COPY
 * fails with a unique violation and the file is retried (file.c).
 */
static int resolve_events(struct filectx *f, uint32_t *idx, size_t n, struct err *e)
{
	sort_keys(&f->keys, idx, n);
	uint32_t *maybe = xmalloc(mem_mul(n, sizeof *maybe));
	size_t nm = 0;
	for (size_t i = 0; i < n; i++)
		if (!surely_new(f, &f->keys.v[idx[i]]))
			maybe[nm++] = idx[i];
	char *keys = xmalloc(mem_mul(nm, 16) + 1);
	size_t nk = 0;
	int rc = nm ? known_groups(f, maybe, nm, keys, &nk, e) : 0;
	free(maybe);
	if (rc == 0 && nk)
		rc = lookup(f, f->conn, keys, nk, e);
	free(keys);
	size_t fresh = 0;
	for (size_t i = 0; i < n; i++) {
		struct key_ent *en = &f->keys.v[idx[i]];
		if (en->state == KS_UNRESOLVED && en->probe) {
			/* retracted but never stored: nothing to delete, no id to make */
			en->state = KS_NEW;
			en->id = 0;
			f->keys.unresolved--;
		}
		fresh += en->state == KS_UNRESOLVED;
	}
	if (rc < 0 || fresh == 0)
		return rc;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct key_ent *en = &f->keys.v[idx[i]];
		if (en->state != KS_UNRESOLVED)
			continue;
		int64_t id;
		if ((rc = next_event_id(f, &id, e)) < 0)
			break;
		en->id = id;
		en->state = KS_NEW;
		en->refiled = 1;
		f->keys.unresolved--;
		cb_row(&b, 6);
		cb_bytes(&b, &en->key, 16);
		cb_i64(&b, en->id);
		cb_i16(&b, KC_EVENT);
		cb_i32(&b, f->site_no);
		cb_i64(&b, en->file_id);
		cb_i64(&b, en->record_no);
	}
	if (rc == 0) {
		char sql[256];
		snprintf(sql, sizeof sql, "COPY %s.id_map (key, id, kind, site_no, file_id, record_no) FROM STDIN (FORMAT binary)",
		         f->conf->schema_omopipe);
		rc = db_copy_bin(f->conn, sql, "id_map", &b, e);
	}
	buf_free(&b);
	return rc;
}

static int resolve(struct filectx *f, struct err *e)
{
	struct keytab *t = &f->keys;
	size_t n = t->unresolved;
	if (n == 0)
		return 0;
	uint32_t *idx = xmalloc(mem_mul(n, sizeof *idx));
	size_t ns = 0, ne = n;
	/* shared keys at the front, events at the back */
	for (size_t i = 0, k = 0; i < t->n && k < n; i++) {
		if (t->v[i].state != KS_UNRESOLVED)
			continue;
		if (t->v[i].cls == KC_EVENT)
			idx[--ne] = (uint32_t)i;
		else
			idx[ns++] = (uint32_t)i;
		k++;
	}
	int rc = 0;
	if (ns)
		rc = resolve_shared(f, idx, ns, e);
	if (rc == 0 && ne < n)
		rc = resolve_events(f, idx + ne, n - ne, e);
	free(idx);
	if (rc == 0 && t->unresolved)
		rc = err_set(e, E_INTERNAL, "%zu keys got no id", t->unresolved);
	return rc;
}

/* Delete the rows that this batch's rows replace; point their keys at this file. */
static int replace_old(struct filectx *f, struct err *e)
{
	struct buf ids = BUF_INIT, refile = BUF_INIT, recs = BUF_INIT;
	int rc = 0;
	buf_putc(&ids, '{');
	for (size_t i = 0; i < f->keys.n; i++) {
		struct key_ent *en = &f->keys.v[i];
		if (en->cls != KC_EVENT || !(en->has_pending || en->tomb) || !en->id)
			continue;
		if (en->state == KS_EXISTING || en->flushed) {
			if (ids.n > 1)
				buf_putc(&ids, ',');
			buf_i64(&ids, en->id);
		}
	}
	buf_putc(&ids, '}');
	if (ids.n > 2 && !f->correcting) {
		/*
		 * Rows other files wrote are about to be replaced (a correction, a
		 * later document of the same patient): files of a site that do this
		 * take turns, held to the end of the file's transaction, so that two
		 * workers never delete and re-insert the same rows crosswise.
		 */
		char cls[16], site[16];
		snprintf(cls, sizeof cls, "%d", 7012004);
		snprintf(site, sizeof site, "%d", f->site_no);
		const char *lv[] = { cls, site };
		PGresult *lr = PQexecParams(f->conn, "SELECT pg_advisory_xact_lock($1::int, $2::int)", 2, NULL, lv, NULL, NULL, 0);
		if (PQresultStatus(lr) != PGRES_TUPLES_OK)
			rc = db_error(f->conn, lr, "waiting for the site's correction lock", e);
		PQclear(lr);
		f->correcting = 1;
	}
	if (ids.n > 2) {
		for (int t = T_FIRST_EVENT; t < T__COUNT && rc == 0; t++) {
			char name[64];
			snprintf(name, sizeof name, "omo_del_%s", load_tables[t].name);
			const char *v[] = { ids.p };
			rc = exec_bin(f, name, 1, v, NULL, NULL, NULL, e);
		}
	}
	/* keys written again now belong to the record and file that wrote them
	 * last (one statement per file of the group; usually one) */
	for (int more = 1; rc == 0 && more;) {
		int64_t fid = 0;
		more = 0;
		buf_reset(&refile);
		buf_reset(&recs);
		buf_putc(&recs, '{');
		for (size_t i = 0; i < f->keys.n; i++) {
			struct key_ent *en = &f->keys.v[i];
			if (en->cls != KC_EVENT || !en->has_pending || en->refiled)
				continue;
			int64_t want = f->done[en->pend_file].file_id;
			if (!fid)
				fid = want;
			if (want != fid) {
				more = 1;
				continue;
			}
			buf_append(&refile, &en->key, 16);
			if (recs.n > 1)
				buf_putc(&recs, ',');
			buf_i64(&recs, en->record_no);
			en->refiled = 1;
		}
		buf_putc(&recs, '}');
		if (refile.n) {
			char file[24];
			snprintf(file, sizeof file, "%lld", (long long)fid);
			const char *v[] = { refile.p, file, recs.p };
			int l[] = { (int)refile.n, 0, 0 };
			int fm[] = { 1, 0, 0 };
			rc = exec_bin(f, "omo_refile", 3, v, l, fm, NULL, e);
		}
	}
	buf_free(&ids);
	buf_free(&refile);
	buf_free(&recs);
	return rc;
}

static void patch(struct filectx *f, struct pend *p)
{
	for (size_t i = 0; i < p->nfx; i++)
		cb_be64(p->b.p + p->fx[i].off, f->keys.v[p->fx[i].key].id);
}

/* Drop rows that a later record with the same key replaced. */
static void compact(struct pend *p)
{
	if (!p->ndead)
		return;
	/* dead ranges arrive in increasing order of offset */
	size_t w = 0, r = 0;
	for (size_t i = 0; i < p->ndead; i++) {
		size_t off = p->dead[i].off, len = p->dead[i].len; /* the row with its newline */
		memmove(p->b.p + w, p->b.p + r, off - r);
		w += off - r;
		r = off + len;
	}
	memmove(p->b.p + w, p->b.p + r, p->b.n - r);
	w += p->b.n - r;
	p->b.n = w;
}

static int copy_out(struct filectx *f, int t, struct err *e)
{
	struct pend *p = &f->pend[t];
	char sql[1400];
	if (t < T_FIRST_EVENT) {
		snprintf(sql, sizeof sql, "COPY stage_%s (%s, _ord) FROM STDIN (FORMAT binary)", load_tables[t].name, load_tables[t].cols);
		f->staged |= 1u << t;
	} else {
		snprintf(sql, sizeof sql, "COPY %s.%s (%s) FROM STDIN (FORMAT binary)", f->conf->schema_cdm, load_tables[t].name,
		         load_tables[t].cols);
	}
	return db_copy_bin(f->conn, sql, load_tables[t].name, &p->b, e);
}

/* Run one operation's statement with text parameters. */
static int op_sql(struct filectx *f, const char *sql, int n, const char *const *vals, struct err *e)
{
	char *q = db_render(f->conf, sql);
	int rc = db_exec_params(f->conn, q, n, vals, NULL, e);
	free(q);
	return rc;
}

/*
 * Apply the batch's operations in order, after its rows are written. Staged
 * rows (merged at the end of the file) that came before an operation are
 * dealt with too; those after it stand.
 */
static int apply_ops(struct filectx *f, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < f->nops && rc == 0; i++) {
		struct op *o = &f->ops[i];
		char a[24], b[24], ord[24], run[24];
		snprintf(a, sizeof a, "%lld", (long long)f->keys.v[o->a].id);
		snprintf(b, sizeof b, "%lld", (long long)(o->kind == OP_MERGE ? f->keys.v[o->b].id : 0));
		snprintf(ord, sizeof ord, "%lld", (long long)o->ord);
		snprintf(run, sizeof run, "%lld", (long long)f->run_id);
		const char *v2[] = { a, ord };
		switch (o->kind) {
		case OP_RETRACT_VISIT:
			rc = op_sql(f, "SELECT @omopipe.retract_visit($1::bigint)", 1, v2, e);
			if (rc == 0)
				rc = op_sql(f, "DELETE FROM stage_visit_occurrence WHERE visit_occurrence_id = $1::bigint AND _ord < $2::bigint", 2, v2, e);
			break;
		case OP_RETRACT_PERSON:
			rc = op_sql(f, "SELECT @omopipe.retract_person($1::bigint)", 1, v2, e);
			if (rc == 0)
				rc = op_sql(f, "DELETE FROM stage_person WHERE person_id = $1::bigint AND _ord < $2::bigint; ", 2, v2, e);
			if (rc == 0)
				rc = op_sql(f, "DELETE FROM stage_visit_occurrence WHERE person_id = $1::bigint AND _ord < $2::bigint", 2, v2, e);
			if (rc == 0)
				rc = op_sql(f, "DELETE FROM stage_death WHERE person_id = $1::bigint AND _ord < $2::bigint", 2, v2, e);
			break;
		case OP_MERGE: {
			const char *v3[] = { a, b, run }, *v3o[] = { a, b, ord };
			if (f->keys.v[o->a].id == f->keys.v[o->b].id)
				break;
			rc = op_sql(f, "SELECT @omopipe.merge_person($1::bigint, $2::bigint, $3::bigint)", 3, v3, e);
			if (rc == 0)
				rc = op_sql(f, "DELETE FROM stage_person WHERE person_id = $1::bigint AND _ord < $3::bigint AND $2::bigint IS NOT NULL", 3, v3o, e);
			if (rc == 0)
				rc = op_sql(f, "UPDATE stage_visit_occurrence SET person_id = $2::bigint WHERE person_id = $1::bigint AND _ord < $3::bigint", 3, v3o, e);
			if (rc == 0)
				rc = op_sql(f, "UPDATE stage_death SET person_id = $2::bigint WHERE person_id = $1::bigint AND _ord < $3::bigint", 3, v3o, e);
			/* from here on, the old identifier names the survivor in this file too */
			f->keys.v[o->a].id = f->keys.v[o->b].id;
			break;
		}
		}
	}
	f->nops = 0;
	return rc;
}

int ids_flush(struct filectx *f, struct err *e)
{
	int rc;
	if ((rc = resolve(f, e)) < 0)
		return rc;
	if ((rc = replace_old(f, e)) < 0)
		return rc;
	for (int t = 0; t < T__COUNT; t++) {
		struct pend *p = &f->pend[t];
		if (p->b.n == 0)
			continue;
		patch(f, p);
		compact(p); /* rows are counted when their record settles (sink.c) */
		if (p->b.n && (rc = copy_out(f, t, e)) < 0)
			return rc;
		pend_reset(p);
	}
	for (size_t i = 0; i < f->keys.n; i++) {
		struct key_ent *en = &f->keys.v[i];
		if (en->has_pending) {
			en->has_pending = 0;
			en->flushed = 1;
		}
		en->tomb = 0;
	}
	if ((rc = apply_ops(f, e)) < 0)
		return rc;
	/*
	 * Memory stays flat however large the file: the batch's event keys go.
	 * Should the file use one again (a correction further down), the lookup
	 * finds it in id_map, written by this transaction, and the row is replaced.
	 */
	keytab_drop_class(&f->keys, KC_EVENT);
	f->flushes++;
	return 0;
}

void pend_reset(struct pend *p)
{
	buf_reset(&p->b);
	p->nfx = 0;
	p->ndead = 0;
}

void pend_free(struct pend *p)
{
	buf_free(&p->b);
	free(p->fx);
	free(p->dead);
	memset(p, 0, sizeof *p);
}
