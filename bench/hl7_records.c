/*
 * hl7_records.c - every record the HL7 v2 extractor makes from a file, one
 * line each, for comparing two builds of it (a change meant to be faster must
 * print the same lines).
 *
 *   hl7_records FILE [PROFILE [TZ]]     TZ: the site's offset in minutes, or
 *                                       "keep" (wall time as written)
 *
 * Prints each message's begin (record number, line), its source id, every
 * record with all its fields, notes, and how it ended (loaded, quarantined
 * with reason and position, skipped with reason). Dates print as day, second
 * and precision; numbers with %.17g, so that any change shows.
 */
#include "etl/extract/extract.h"
#include "etl/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void r_begin(struct sink *s, const struct err_pos *p, struct span raw)
{
	(void)s;
	printf("begin %llu line %llu offset %llu bytes %zu\n", (unsigned long long)p->record,
	       (unsigned long long)p->line, (unsigned long long)p->offset, raw.n);
}

static int r_emit(struct sink *s, const struct record *r, struct err *e)
{
	(void)s;
	(void)e;
	fputs("  rec ", stdout);
	record_print(stdout, r);
	putchar('\n');
	return 0;
}

static int r_end(struct sink *s, struct err *e)
{
	(void)s;
	(void)e;
	puts("end loaded");
	return 0;
}
static int r_quar(struct sink *s, const struct err *why, struct err *e)
{
	(void)s;
	(void)e;
	printf("end quarantined %s at %s line %llu: %s\n", err_reason(why->code), why->pos.where,
	       (unsigned long long)why->pos.line, why->msg);
	return 0;
}
static int r_skip(struct sink *s, const char *reason, struct err *e)
{
	(void)s;
	(void)e;
	printf("end skipped: %s\n", reason);
	return 0;
}
static void r_note(struct sink *s, const char *what)
{
	(void)s;
	printf("  note %s\n", what);
}
static void r_source_id(struct sink *s, struct span id)
{
	(void)s;
	printf("  id %.*s\n", (int)id.n, id.n ? id.p : "");
}
static const struct sink_ops dump_ops = { r_begin, r_emit, r_end, r_quar, r_skip, r_note, NULL, r_source_id };

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hl7_records FILE [PROFILE [TZ]]\n");
		return 2;
	}
	struct extractor *x;
	struct err e;
	struct conf_site site;
	memset(&e, 0, sizeof e);
	memset(&site, 0, sizeof site);
	site.id = "dump";
	site.tz = argc > 3 ? (strcmp(argv[3], "keep") == 0 ? DT_TZ_KEEP : atoi(argv[3])) : 0;
	if (extract_hl7v2.open(&x, argc > 2 ? argv[2] : NULL, &site, &e) < 0) {
		fprintf(stderr, "hl7_records: %s\n", e.msg);
		return 1;
	}
	struct sink s = { &dump_ops };
	int rc = extract_hl7v2.run(x, argv[1], &s, &e);
	if (rc < 0)
		fprintf(stderr, "hl7_records: %s\n", e.msg);
	extract_hl7v2.close(x);
	return rc < 0;
}
