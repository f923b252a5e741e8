/*
 * conf.h - omopipe's resolved configuration.
 *
 * Precedence, lowest first: built-in defaults < configuration file (-c FILE or
 * $OMOPIPE_CONFIG) < environment ($OMOPIPE_*; libpq's own PG* variables are
 * applied when connecting, see db/conn.h) < command-line flags.
 *
 * The file format is core/ini.h. Sections and keys:
 *
 *   [database]  conninfo        libpq connection string; empty: embedded cluster
 *   [omopipe]   data_dir        where the embedded cluster, locks and reports live
 *               workers         parallel file workers (default: 2 per core, at most 8)
 *               log_level       debug | info | warning | error
 *   [schemas]   cdm, results, omopipe
 *   [dq]        thresholds      DQ threshold file
 *   [site ID]   name, utc_offset (+HH:MM: convert times to it), care_site,
 *               feed = FORMAT PROFILE PATH   (repeatable; FORMAT csv|hl7v2|ccda)
 *
 * Unknown sections or keys are errors naming file and line: a typo in a
 * nightly job's configuration must not pass silently.
 */
#ifndef OMO_CONF_H
#define OMO_CONF_H

#include <stdio.h>
#include "core/arena.h"
#include "core/err.h"

struct conf_feed {
	const char *format;    /* csv | hl7v2 | ccda */
	const char *profile;   /* vendor profile name */
	const char *path;      /* file or directory */
};

struct conf_site {
	const char *id;        /* [a-z0-9_-], at most 32 characters */
	const char *name;
	int tz;                /* minutes east of UTC, or DT_TZ_KEEP */
	const char *tz_text;   /* as configured, "" if unset */
	struct conf_feed *feeds;
	size_t nfeeds;
};

/* What the command line sets (NULL / 0: not given). */
struct conf_flags {
	const char *config;
	const char *data_dir;
	const char *conninfo;
	int workers;
	const char *log_level;
};

struct conf {
	struct arena arena;        /* owns every string below */
	const char *path;          /* configuration file in use, NULL if none */
	const char *conninfo;      /* "" means the embedded cluster */
	const char *data_dir;      /* absolute */
	const char *schema_cdm, *schema_results, *schema_omopipe;
	const char *dq_thresholds;
	const char *log_level;
	int workers;
	struct conf_site *sites;
	size_t nsites;
	/* where each setting came from, for `config check` */
	const char *src_conninfo, *src_data_dir, *src_workers;
};

/* Resolve defaults, file, environment and flags. 0, or -E_CONFIG naming file:line. */
int conf_load(struct conf *c, const struct conf_flags *flags, struct err *e);
void conf_free(struct conf *c);
/* The site with this id, or NULL. */
const struct conf_site *conf_site(const struct conf *c, const char *id);
/* Add a site made on the command line (etl --site S --format F). */
struct conf_site *conf_add_site(struct conf *c, const char *id);
/* 1 if s is a valid SQL identifier for a schema ([a-z_][a-z0-9_]*, <= 63). */
int conf_valid_ident(const char *s);
/* 1 if s is a valid site id. */
int conf_valid_site_id(const char *s);
/* Print the resolved configuration; passwords in conninfo are masked. */
void conf_print(const struct conf *c, FILE *out);
/* Copy conninfo into buf with password=... replaced by password=*****. */
void conf_mask_conninfo(const char *conninfo, char *buf, size_t n);

#endif
