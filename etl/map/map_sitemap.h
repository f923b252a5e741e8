/*
 * map_sitemap.h - closing the loop: unmapped codes out to a steward, their
 * mappings back in as a site map.
 *
 *   @omopipe.unmapped_code --map_unmapped_export--> FILE.csv (Usagi-ready:
 *       source_system,source_code,source_name,frequency,target_concept_id,reason)
 *   steward fills target_concept_id (Usagi, a spreadsheet)
 *   FILE.csv --map_sitemap_load--> @cdm.source_to_concept_map, one
 *       source_vocabulary_id per site and code system ("SITE:SYSTEM", see
 *       mappings/sites/README.md) --> the next run's index maps them.
 *
 * A site map file: a header with source_system, source_code and
 * target_concept_id (any case; source_name, valid_start_date, valid_end_date
 * optional; other columns ignored); a row without a target (empty or 0) is
 * not mapped yet and is skipped. Codes are normalised as the mapper does
 * (K922 -> K92.2). Every row is checked (target exists, is a valid standard
 * concept); a bad row stops the load with file:line and the reason, and the
 * transaction is rolled back: the previous site map stays in force.
 */
#ifndef OMO_MAP_SITEMAP_H
#define OMO_MAP_SITEMAP_H

#include <stdint.h>
#include "etl/map/map.h"

struct map_sitemap_stats {
	uint64_t rows;        /* mapping rows loaded */
	uint64_t skipped;     /* rows without a target yet */
	uint64_t replaced;    /* previous rows removed */
	int files;
};

/*
 * Load site map files for site (merge: every (system, code) in the files
 * replaces that code's previous rows; replace = 1: also drop the site's other
 * rows of the code systems present in the files). With npaths = 0 the shipped
 * maps mappings/sites/SITE/ *.csv are loaded. 0, or -E_INPUT (file:line in
 * e), -E_CONFIG, -E_DB.
 */
int map_sitemap_load(PGconn *conn, const struct conf *c, const char *site, char **paths, int npaths, int replace,
                     struct map_sitemap_stats *st, struct err *e);

/* Load the shipped maps of every site that has a folder in mappings/sites/. */
int map_sitemap_load_shipped(PGconn *conn, const struct conf *c, struct map_sitemap_stats *st, struct err *e);

/* Write the site's unmapped codes, most frequent first, codes already in its
 * site map left out. min_count: leave out rarer codes. */
int map_unmapped_export(PGconn *conn, const struct conf *c, const char *site, const char *out, uint64_t min_count,
                        uint64_t *rows, struct err *e);

#endif
