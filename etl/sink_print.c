/* sink_print.c - a sink that writes what it is given. See sink_print.h. */
#include "etl/sink_print.h"

static struct sink_print *sp(struct sink *s) { return (struct sink_print *)s; }

static void p_begin(struct sink *s, const struct err_pos *p, struct span raw)
{
	fprintf(sp(s)->f, "begin %llu line %llu offset %llu bytes %zu\n", (unsigned long long)p->record,
	        (unsigned long long)p->line, (unsigned long long)p->offset, raw.n);
	if (sp(s)->next)
		sink_begin(sp(s)->next, p, raw);
}

static int p_emit(struct sink *s, const struct record *r, struct err *e)
{
	fputs("  rec ", sp(s)->f);
	record_print(sp(s)->f, r);
	fputc('\n', sp(s)->f);
	return sp(s)->next ? sink_emit(sp(s)->next, r, e) : 0;
}

static int p_end(struct sink *s, struct err *e)
{
	fputs("end loaded\n", sp(s)->f);
	return sp(s)->next ? sink_end(sp(s)->next, e) : 0;
}

static int p_quarantine(struct sink *s, const struct err *why, struct err *e)
{
	fprintf(sp(s)->f, "end quarantined %s at %s line %llu: %s\n", err_reason(why->code), why->pos.where,
	        (unsigned long long)why->pos.line, why->msg);
	return sp(s)->next ? sink_quarantine(sp(s)->next, why, e) : 0;
}

static int p_skip(struct sink *s, const char *reason, struct err *e)
{
	fprintf(sp(s)->f, "end skipped: %s\n", reason);
	return sp(s)->next ? sink_skip(sp(s)->next, reason, e) : 0;
}

static void p_note(struct sink *s, const char *what)
{
	fprintf(sp(s)->f, "  note %s\n", what);
	if (sp(s)->next)
		sink_note(sp(s)->next, what);
}

static void p_context(struct sink *s, struct span header)
{
	if (sp(s)->next)
		sink_context(sp(s)->next, header);
}

static void p_source_id(struct sink *s, struct span id)
{
	fprintf(sp(s)->f, "  id %.*s\n", (int)id.n, id.n ? id.p : "");
	if (sp(s)->next)
		sink_source_id(sp(s)->next, id);
}

static const struct sink_ops print_ops = { p_begin, p_emit, p_end, p_quarantine, p_skip, p_note, p_context,
	                                   p_source_id };

void sink_print_init(struct sink_print *p, FILE *f, struct sink *next)
{
	p->base.ops = &print_ops;
	p->f = f;
	p->next = next;
}
