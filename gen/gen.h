/*
 * gen.h - omopipe generate: a deterministic synthetic population written as
 * the feeds of a hospital network (HL7 v2 in the epic and cerner dialects,
 * C-CDA CCDs in two vendor styles, Synthea CSV in the current and the 2017
 * layouts), with the configuration, the site code maps and an account of
 * every record written (expected.json).
 *
 *   gen_run  -> for each site: for each patient (gen_pop.c, one RNG stream per
 *               patient): pick the site's feed, write the patient there
 *               (gen_hl7.c, gen_ccda.c, gen_csv.c) through gen_out.c
 *               (buffered, optionally zstd-streamed), breaking a fraction of
 *               records the way real feeds break
 *            -> DIR/omopipe.conf, DIR/SITE/sitemap.csv, DIR/expected.json
 *
 * Same options, same bytes: nothing depends on the clock, the host or the
 * order files are visited in. Memory is flat: one patient at a time, no
 * allocation per record.
 */
#ifndef OMO_GEN_H
#define OMO_GEN_H

#include <stdint.h>
#include "core/err.h"

struct gen_opts {
	uint64_t patients;       /* per site */
	int sites;
	const char *out;         /* output folder (created) */
	uint64_t seed;
	double error_rate;       /* fraction of records broken, 0..1 */
	int zstd;                /* write .zst files */
	const char *only;        /* NULL, or one feed for every patient of every site:
	                            "hl7v2/epic", "hl7v2/cerner", "ccda/vendor-a",
	                            "ccda/vendor-b", "csv/synthea", "csv/synthea-2017" */
	uint64_t file_records;   /* HL7 messages per file before a new file (0: 100000) */
};

struct gen_totals {
	uint64_t patients, records, broken, files;
	uint64_t bytes_raw;      /* bytes of feed content (before compression) */
	uint64_t bytes_disk;     /* bytes written */
};

/* Write the population. 0, or -E_IO / -E_USAGE with the reason in e. */
int gen_run(const struct gen_opts *o, struct gen_totals *t, struct err *e);

/* The id of site i (0-based): north, south, east, west, site5, site6 ... */
void gen_site_id(int i, char *buf, size_t n);

#endif
