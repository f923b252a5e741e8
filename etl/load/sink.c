/*
 * sink.c - the loader's side of etl/sink.h for one file.
 *
 * Rows a record emits go straight into the batch buffers; the buffers' lengths
 * at sink_begin are remembered, so a quarantined or skipped record is undone by
 * cutting them back. At sink_end the record's event rows are settled (a row
 * whose key an earlier record of the batch used replaces that row) and, when
 * the batch is large enough, it is resolved and written (ids.c).
 * Quarantined records become rows of @omopipe.quarantine with a zstd copy of
 * the raw record; loaded records that name themselves (sink_source_id) rows
 * of @omopipe.source_record.
 */
#include "etl/load/load_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define BATCH_KEYS 50000
#define BATCH_BYTES (32u << 20)

void reasons_add(struct reasons *r, const char *reason, uint64_t n)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].reason, reason) == 0) {
			r->v[i].n += n;
			return;
		}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->v = xrealloc(r->v, mem_mul(r->cap, sizeof *r->v));
	}
	snprintf(r->v[r->n].reason, sizeof r->v[r->n].reason, "%s", reason);
	r->v[r->n++].n = n;
}

void reasons_json(const struct reasons *r, struct buf *out)
{
	buf_putc(out, '{');
	for (size_t i = 0; i < r->n; i++) {
		buf_printf(out, "%s\"", i ? ", " : "");
		for (const char *c = r->v[i].reason; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(out, '\\');
			if ((unsigned char)*c >= 0x20)
				buf_putc(out, *c);
		}
		buf_printf(out, "\": %llu", (unsigned long long)r->v[i].n);
	}
	buf_putc(out, '}');
}

void reasons_free(struct reasons *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

static void s_begin(struct sink *s, const struct err_pos *pos, struct span raw)
{
	struct filectx *f = (struct filectx *)s;
	f->in_record = 1;
	f->done[f->gi].read++;
	f->pos = *pos;
	f->raw = raw;
	f->source_id[0] = '\0';
	f->nrr = 0;
	f->ev_ordinal = 0;
	f->opmark = f->nops;
	for (int t = 0; t < T__COUNT; t++) {
		f->mark[t] = f->pend[t].b.n;
		f->fxmark[t] = f->pend[t].nfx;
	}
}

static int s_emit(struct sink *s, const struct record *r, struct err *e)
{
	struct filectx *f = (struct filectx *)s;
	if (!f->in_record)
		return err_set(e, E_INTERNAL, "sink_emit outside a record");
	int rc = rows_record(f, r, e);
	if (rc < 0) /* a record refused here has no position but its record's: any in e is an earlier one's */
		memset(&e->pos, 0, sizeof e->pos);
	return rc;
}

static void undo_record(struct filectx *f)
{
	for (int t = 0; t < T__COUNT; t++) {
		f->pend[t].b.n = f->mark[t];
		if (f->pend[t].b.p)
			f->pend[t].b.p[f->mark[t]] = '\0';
		f->pend[t].nfx = f->fxmark[t];
	}
	f->nrr = 0;
	f->nops = f->opmark;
	f->in_record = 0;
}

static void add_dead(struct pend *p, size_t off, size_t len)
{
	if (p->ndead == p->capdead) {
		p->capdead = p->capdead ? p->capdead * 2 : 16;
		p->dead = xrealloc(p->dead, mem_mul(p->capdead, sizeof *p->dead));
	}
	/* keep ranges ordered by offset (compact() relies on it) */
	size_t i = p->ndead;
	while (i > 0 && p->dead[i - 1].off > off) {
		p->dead[i] = p->dead[i - 1];
		i--;
	}
	p->dead[i] = (struct range){ off, len };
	p->ndead++;
}

static int s_end(struct sink *s, struct err *e)
{
	struct filectx *f = (struct filectx *)s;
	if (!f->in_record)
		return err_set(e, E_INTERNAL, "sink_end outside a record");
	/* settle: count the rows; a key used earlier in this batch replaces that row */
	for (size_t i = 0; i < f->nrr; i++) {
		struct rec_row *rr = &f->rr[i];
		struct key_ent *en = &f->keys.v[rr->key];
		if (rr->tbl == TBL_TOMB) {
			/* a retraction: the key's row of this batch goes, its stored row at the flush */
			if (en->has_pending) {
				add_dead(&f->pend[en->tbl], en->pend_off, en->pend_len);
				f->done[en->pend_file].rows[en->tbl]--;
			}
			en->has_pending = 0;
			en->tomb = 1;
			continue;
		}
		if (rr->tbl < T_FIRST_EVENT) {
			/* staged: one row per key and file, however often the file repeats it */
			if (en->staged_file != f->gi + 1) {
				en->staged_file = (uint16_t)(f->gi + 1);
				en->staged_mask = 0;
			}
			if (!(en->staged_mask & (1u << rr->tbl))) {
				en->staged_mask |= (uint8_t)(1u << rr->tbl);
				f->done[f->gi].rows[rr->tbl]++;
			}
			continue;
		}
		if (en->has_pending && !(en->tbl == rr->tbl && en->pend_off == rr->off)) {
			add_dead(&f->pend[en->tbl], en->pend_off, en->pend_len);
			f->done[en->pend_file].rows[en->tbl]--;
		}
		en->has_pending = 1;
		en->tbl = rr->tbl;
		en->pend_off = rr->off;
		en->pend_len = rr->len;
		en->pend_file = (uint16_t)f->gi;
		if (en->record_no != (int64_t)f->pos.record) {
			/* a later record of the file rewrote it: the row's provenance moves */
			en->record_no = (int64_t)f->pos.record;
			en->refiled = 0;
		}
		f->done[f->gi].rows[rr->tbl]++;
	}
	f->nrr = 0;
	f->in_record = 0;
	f->done[f->gi].loaded++;
	if (f->source_id[0]) {
		/* the record as its sender names it: provenance of the rows it loaded */
		copy_i64(&f->prov, f->file_id, 0);
		copy_i64(&f->prov, (int64_t)f->pos.record, 0);
		if (f->pos.line) copy_i64(&f->prov, (int64_t)f->pos.line, 0); else copy_null(&f->prov, 0);
		copy_i64(&f->prov, (int64_t)f->pos.offset, 0);
		copy_str(&f->prov, f->source_id, 1);
		buf_putc(&f->prov, '\n');
	}
	size_t bytes = 0;
	for (int t = 0; t < T__COUNT; t++)
		bytes += f->pend[t].b.n;
	if (f->keys.unresolved >= BATCH_KEYS || bytes >= BATCH_BYTES)
		return ids_flush(f, e);
	return 0;
}

/* The quarantine row: COPY text into @omopipe.quarantine. */
static void quarantine_row(struct filectx *f, const struct err *why)
{
	struct buf *b = &f->quar;
	copy_i64(b, f->run_id, 0);
	copy_i64(b, f->site_no, 0);
	copy_i64(b, f->file_id, 0);
	copy_str(b, f->db_path, 0);
	copy_i64(b, (int64_t)f->pos.record, 0);
	if (why->pos.line || f->pos.line) copy_i64(b, (int64_t)(why->pos.line ? why->pos.line : f->pos.line), 0); else copy_null(b, 0);
	copy_i64(b, (int64_t)(why->pos.offset ? why->pos.offset : f->pos.offset), 0);
	/* the safety net must not fail its COPY (and the file): a position or
	 * reason cut inside a character is written with \xHH for its bytes */
	copy_text(b, why->pos.where, 0);
	copy_str(b, err_reason(why->code), 0);
	copy_text(b, why->msg, 0);
	copy_str(b, f->format, 0);
	copy_str(b, f->profile, 0);
	/* raw record (after the file's context, if any), zstd-compressed, as bytea hex */
	struct buf raw = BUF_INIT;
	if (f->context.n) {
		buf_append(&raw, f->context.p, f->context.n);
		buf_putc(&raw, '\n');
	}
	buf_append(&raw, f->raw.p ? f->raw.p : "", f->raw.n);
	size_t cap = ZSTD_compressBound(raw.n);
	char *z = xmalloc(cap);
	size_t zn = ZSTD_compressCCtx(f->zctx, z, cap, raw.p ? raw.p : "", raw.n, 3);
	buf_free(&raw);
	if (ZSTD_isError(zn)) {
		copy_null(b, 1);
	} else {
		static const char hex[] = "0123456789abcdef";
		buf_reserve(b, 4 + zn * 2);
		buf_append(b, "\\\\x", 3);
		for (size_t i = 0; i < zn; i++) {
			b->p[b->n++] = hex[(unsigned char)z[i] >> 4];
			b->p[b->n++] = hex[(unsigned char)z[i] & 15];
		}
		b->p[b->n] = '\0';
	}
	free(z);
	buf_putc(b, '\n');
}

static int s_quarantine(struct sink *s, const struct err *why, struct err *e)
{
	struct filectx *f = (struct filectx *)s;
	if (!f->in_record)
		return err_set(e, E_INTERNAL, "sink_quarantine outside a record");
	undo_record(f);
	f->done[f->gi].quarantined++;
	struct err at = *why;
	if (!at.pos.file[0])
		err_pos_file(&at.pos, f->path);
	if (!at.pos.record)
		at.pos.record = f->pos.record;
	if (!at.pos.line)
		at.pos.line = f->pos.line;
	log_err(LOG_DEBUG, &at);
	quarantine_row(f, why);
	return 0;
}

static int s_skip(struct sink *s, const char *reason, struct err *e)
{
	struct filectx *f = (struct filectx *)s;
	if (!f->in_record)
		return err_set(e, E_INTERNAL, "sink_skip outside a record");
	undo_record(f);
	f->done[f->gi].skipped++;
	reasons_add(&f->done[f->gi].skips, reason, 1);
	return 0;
}

static void s_note(struct sink *s, const char *what)
{
	struct filectx *f = (struct filectx *)s;
	reasons_add(&f->done[f->gi].notes, what, 1);
}

static void s_context(struct sink *s, struct span header)
{
	struct filectx *f = (struct filectx *)s;
	buf_reset(&f->context);
	buf_span(&f->context, header);
}

static void s_source_id(struct sink *s, struct span id)
{
	struct filectx *f = (struct filectx *)s;
	id = span_trim(id);
	/* at most what the buffer holds, not cutting a UTF-8 character */
	if (id.n >= sizeof f->source_id) {
		id.n = sizeof f->source_id - 1;
		while (id.n && ((unsigned char)id.p[id.n] & 0xC0) == 0x80)
			id.n--;
	}
	snprintf(f->source_id, sizeof f->source_id, "%.*s", (int)id.n, id.n ? id.p : "");
}

static const struct sink_ops loader_sink = { s_begin, s_emit, s_end, s_quarantine, s_skip, s_note, s_context, s_source_id };

void filectx_sink_init(struct filectx *f)
{
	f->base.ops = &loader_sink;
}
