/*
 * csvtok.c - streaming delimited-text tokenizer. See csvtok.h.
 *
 * Fast path: a line without any quote character is split with memchr on the
 * delimiter. Slow path: a byte loop that follows quotes across lines.
 * When a record runs off the end of the window, more input is read and the
 * record is scanned again from its start (at most once per read chunk).
 */
#include "core/csvtok.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static void init(struct csvtok *t, char delim, char quote)
{
	t->delim = delim;
	t->quote = quote;
	t->line = 0;
	t->next_line = 1;
	t->record = 0;
	t->offset = 0;
	t->raw = SPAN_NULL;
	t->f = NULL;
	t->nf = t->fcap = 0;
	t->ref = NULL;
	t->rcap = 0;
	t->scratch = (struct buf)BUF_INIT;
}

int csvtok_open(struct csvtok *t, const char *path, char delim, char quote, size_t max_record, struct err *e)
{
	init(t, delim, quote);
	int rc = win_open(&t->w, path, max_record, e);
	if (rc == 0)
		win_skip_bom(&t->w);
	return rc;
}

int csvtok_open_mem(struct csvtok *t, const void *p, size_t n, char delim, char quote, size_t max_record, struct err *e)
{
	init(t, delim, quote);
	int rc = win_open_mem(&t->w, p, n, max_record, e);
	if (rc == 0)
		win_skip_bom(&t->w);
	return rc;
}

static void add_ref(struct csvtok *t, size_t off, size_t n, int scratch)
{
	if (t->nf == t->rcap) {
		t->rcap = t->rcap ? t->rcap * 2 : 32;
		t->ref = xrealloc(t->ref, mem_mul(t->rcap, sizeof *t->ref));
	}
	t->ref[t->nf++] = (struct csv_field_ref){ off, n, scratch };
}

enum scan { SCAN_OK, SCAN_NEED_MORE, SCAN_UNTERMINATED };

/*
 * Scan one record starting at buf[s] (s < end). On SCAN_OK: *rec_end is the
 * index of the line end (or end of data), *next the start of the next record,
 * *lines the number of line breaks consumed.
 */
static enum scan scan_record(struct csvtok *t, size_t s, size_t *rec_end, size_t *next, uint64_t *lines)
{
	char *b = t->w.buf;
	size_t end = t->w.end, i = s;
	const char d = t->delim, q = t->quote;
	int eof = t->w.eof;

	t->nf = 0;
	buf_reset(&t->scratch);
	*lines = 0;

	/* fast path: the whole line holds no quote character */
	const char *nl = memchr(b + s, '\n', end - s);
	if (!nl && !eof)
		return SCAN_NEED_MORE;
	size_t le = nl ? (size_t)(nl - b) : end;
	if (!q || !memchr(b + s, q, le - s)) {
		size_t ce = le;
		if (ce > s && b[ce - 1] == '\r')
			ce--;
		size_t f = s;
		for (;;) {
			const char *dp = memchr(b + f, d, ce - f);
			if (!dp) {
				add_ref(t, f, ce - f, 0);
				break;
			}
			add_ref(t, f, (size_t)(dp - b) - f, 0);
			f = (size_t)(dp - b) + 1;
		}
		*rec_end = ce;
		*next = nl ? le + 1 : end;
		*lines = nl ? 1 : 0;
		return SCAN_OK;
	}

	/* slow path: quotes, possibly spanning lines */
	for (;;) {
		if (i < end && b[i] == q) {
			/* quoted field */
			size_t sc0 = t->scratch.n;
			i++;
			for (;;) {
				const char *qp = memchr(b + i, q, end - i);
				if (!qp)
					return eof ? SCAN_UNTERMINATED : SCAN_NEED_MORE;
				size_t k = (size_t)(qp - b);
				for (size_t j = i; j < k; j++)
					if (b[j] == '\n')
						(*lines)++;
				buf_append(&t->scratch, b + i, k - i);
				if (k + 1 < end && b[k + 1] == q) {
					buf_putc(&t->scratch, q);
					i = k + 2;
					continue;
				}
				if (k + 1 >= end && !eof)
					return SCAN_NEED_MORE;
				i = k + 1;
				break;
			}
			/* lenient: text after the closing quote joins the field */
			while (i < end && b[i] != d && b[i] != '\n' && !(b[i] == '\r' && i + 1 < end && b[i + 1] == '\n'))
				buf_putc(&t->scratch, b[i++]);
			add_ref(t, sc0, t->scratch.n - sc0, 1);
		} else {
			size_t f = i;
			while (i < end && b[i] != d && b[i] != '\n')
				i++;
			size_t fe = i;
			if (fe > f && b[fe - 1] == '\r' && (i == end || b[i] == '\n'))
				fe--;
			add_ref(t, f, fe - f, 0);
		}
		if (i >= end) {
			if (!eof)
				return SCAN_NEED_MORE;
			*rec_end = end;
			*next = end;
			return SCAN_OK;
		}
		if (b[i] == d) {
			i++;
			if (i >= end && eof) {
				add_ref(t, i, 0, 0);
				*rec_end = *next = end;
				return SCAN_OK;
			}
			continue;
		}
		if (b[i] == '\r' && i + 1 < end && b[i + 1] == '\n') {
			*rec_end = i;
			*next = i + 2;
			(*lines)++;
			return SCAN_OK;
		}
		if (b[i] == '\n') {
			*rec_end = i > s && b[i - 1] == '\r' ? i - 1 : i;
			*next = i + 1;
			(*lines)++;
			return SCAN_OK;
		}
		/* a lone \r: belongs to the data */
		i++;
	}
}

static void publish(struct csvtok *t)
{
	if (t->fcap < t->nf) {
		t->fcap = t->nf * 2;
		t->f = xrealloc(t->f, mem_mul(t->fcap, sizeof *t->f));
	}
	for (size_t k = 0; k < t->nf; k++) {
		const char *base = t->ref[k].scratch ? t->scratch.p : t->w.buf;
		t->f[k] = span_make(base ? base + t->ref[k].off : "", t->ref[k].n);
	}
}

int csvtok_next(struct csvtok *t, struct err *e)
{
	for (;;) {
		struct win *w = &t->w;
		if (w->beg >= w->end) {
			int rc = win_more(w, e);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return 0;
		}
		size_t rec_end, next;
		uint64_t lines;
		enum scan sc = scan_record(t, w->beg, &rec_end, &next, &lines);
		if (sc == SCAN_NEED_MORE) {
			int rc = win_more(w, e);
			if (rc == -E_TOO_LARGE) {
				/* report the first line, resume after it */
				const char *nl = memchr(w->buf + w->beg, '\n', w->end - w->beg);
				size_t le = nl ? (size_t)(nl - w->buf) : w->end;
				t->line = t->next_line;
				t->offset = win_offset(w, w->beg);
				t->raw = span_make(w->buf + w->beg, le - w->beg);
				t->record++;
				t->next_line++;
				w->beg = nl ? le + 1 : w->end;
				return rc;
			}
			if (rc < 0)
				return rc;
			continue;
		}
		if (sc == SCAN_UNTERMINATED) {
			const char *nl = memchr(w->buf + w->beg, '\n', w->end - w->beg);
			size_t le = nl ? (size_t)(nl - w->buf) : w->end;
			t->line = t->next_line;
			t->offset = win_offset(w, w->beg);
			t->raw = span_make(w->buf + w->beg, le > w->beg && w->buf[le - 1] == '\r' ? le - 1 - w->beg : le - w->beg);
			t->record++;
			t->next_line++;
			w->beg = nl ? le + 1 : w->end;
			t->nf = 0;
			e->pos.line = t->line;
			e->pos.offset = t->offset;
			return err_set(e, E_PARSE, "quote opened and never closed");
		}
		t->line = t->next_line;
		t->next_line += lines;
		t->offset = win_offset(w, w->beg);
		t->raw = span_make(w->buf + w->beg, rec_end - w->beg);
		w->beg = next;
		/* blank line: skip */
		if (t->raw.n == 0 || (t->nf == 1 && t->ref[0].n == 0 && !t->ref[0].scratch))
			continue;
		t->record++;
		publish(t);
		return 1;
	}
}

void csvtok_close(struct csvtok *t)
{
	win_close(&t->w);
	free(t->f);
	free(t->ref);
	buf_free(&t->scratch);
	t->f = NULL;
	t->ref = NULL;
}
