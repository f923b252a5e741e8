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
 * and precision; numbers with %.17g, so that any change shows (the lines
 * of etl/sink_print.h).
 */
#include "etl/extract/extract.h"
#include "etl/sink_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct sink_print s;
	sink_print_init(&s, stdout, NULL);
	int rc = extract_hl7v2.run(x, argv[1], &s.base, &e);
	if (rc < 0)
		fprintf(stderr, "hl7_records: %s\n", e.msg);
	extract_hl7v2.close(x);
	return rc < 0;
}
