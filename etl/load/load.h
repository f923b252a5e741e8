/*
 * load.h - loading feeds into the CDM: omopipe etl and omopipe run.
 *
 *   load_open      connect, check the schema, build the vocabulary index,
 *                  open a run in the ledger
 *   load_add       queue a site's feed (a file or a folder of files)
 *   load_exec      lock the sites, load every queued file with N workers, one
 *                  connection and one transaction per file
 *   load_derive    observation_period, condition_era, drug_era, cdm_source for
 *                  the persons the run touched
 *   load_close     close the run in the ledger, print nothing (the caller reports)
 *
 * Per file: unchanged content (same hash) is skipped; a new version first
 * removes the rows of the old one; records read = loaded + quarantined +
 * skipped is checked before commit. A hard error in one file rolls that file
 * back and marks it failed; a lost database connection stops the run.
 */
#ifndef OMO_LOAD_H
#define OMO_LOAD_H

#include <stdint.h>
#include "core/conf.h"
#include "core/err.h"

struct load_run;

struct load_totals {
	uint64_t files, files_loaded, files_unchanged, files_failed;
	uint64_t read, loaded, quarantined, skipped;
	uint64_t rows[16];         /* per enum load_table */
	const char *table[16];
	int ntables;
	uint64_t bytes;
	double seconds;
	int64_t run_id;
};

int load_open(struct load_run **out, const struct conf *c, const char *command, struct err *e);
/* Queue the feed. path may be a file or a folder (searched recursively for the
 * files the format's extractor wants). profile NULL: the format's default. */
int load_add(struct load_run *r, const struct conf_site *site, const char *format, const char *profile,
             const char *path, struct err *e);
int load_exec(struct load_run *r, struct err *e);
int load_derive(struct load_run *r, struct err *e);
/* Totals so far. */
void load_totals(const struct load_run *r, struct load_totals *t);
/* Finish the run (status ok, or failed when rc < 0 or files failed) and free it. */
void load_close(struct load_run *r, int failed);
/* The usual end of a run: unless rc (from load_open / load_add) is already an
 * error, load_exec, then load_derive when derive; fill t; load_close. Returns
 * the first error. */
int load_finish(struct load_run *r, int rc, int derive, struct load_totals *t, struct err *e);

#endif
