/*
 * map.h - source codes to standard concepts (the only module that knows the
 * vocabulary).
 *
 *   (system as written, code, event date)
 *     -> code system table (mappings/code_systems.csv + profile aliases) -> OMOP vocabulary_id
 *     -> normalise + validate (mappings/code_formats.csv: case, dots, NDC 10->11, PCRE2 pattern)
 *     -> site map (SOURCE_TO_CONCEPT_MAP, source_vocabulary_id per site and system)
 *     -> CONCEPT by (vocabulary_id, concept_code) -> 'Maps to' / 'Maps to value'
 *        (deprecated concepts followed to their replacement; validity dates honoured)
 *     -> standard concept(s) + domain, or concept 0 with the source kept
 *
 * The index is built once per run from the database vocabulary and is then
 * read-only: worker threads share it without locks. Statistics (unmapped codes,
 * unknown systems) go to a per-worker struct map_stats, merged at the end.
 */
#ifndef OMO_MAP_H
#define OMO_MAP_H

#include <stdint.h>
#include "core/conf.h"
#include "core/err.h"
#include "etl/record.h"

typedef struct pg_conn PGconn; /* libpq's handle; only db/ uses it */

struct map_index;
struct map_stats;

/* Domains that decide the CDM table (and the fixed-value domains). */
enum map_domain {
	DOM_NONE = 0,
	DOM_CONDITION, DOM_DRUG, DOM_PROCEDURE, DOM_MEASUREMENT, DOM_OBSERVATION,
	DOM_DEVICE, DOM_SPECIMEN, DOM_VISIT, DOM_NOTE,
	DOM_GENDER, DOM_RACE, DOM_ETHNICITY, DOM_UNIT, DOM_ROUTE, DOM_TYPE,
	DOM_META, DOM_OTHER
};

enum map_status {
	MAP_MAPPED = 0,        /* at least one standard concept */
	MAP_NO_STANDARD,       /* source concept found, no standard concept */
	MAP_UNKNOWN_CODE,      /* not in the vocabulary nor a site map */
	MAP_UNKNOWN_SYSTEM,    /* the coding system could not be resolved */
	MAP_INVALID_CODE,      /* fails the vocabulary's format pattern */
	MAP_EMPTY              /* no code given */
};

#define MAP_MAX_TARGETS 8

struct map_target {
	int32_t concept_id;        /* 0 when unmapped */
	int32_t value_concept_id;  /* through 'Maps to value', 0 if none */
	uint8_t domain;            /* enum map_domain */
};

/* How a result was reached (map_result.flags). */
enum map_result_flag {
	MAPR_SITE_MAP = 1,         /* from a site map (SOURCE_TO_CONCEPT_MAP) */
	MAPR_REPLACED = 2,         /* a deprecated/updated concept was followed to its replacement */
	MAPR_OUT_OF_DATES = 4,     /* the event date is outside the source concept's validity */
	MAPR_NORMALISED = 8,       /* the code matched only after normalisation (K922 -> K92.2) */
};

struct map_result {
	uint8_t status;            /* enum map_status */
	uint8_t n;                 /* targets, always >= 1 (t[0].concept_id = 0 if unmapped) */
	uint8_t flags;             /* enum map_result_flag */
	int32_t source_concept_id; /* 0 if the code is not a concept */
	const char *vocabulary_id; /* resolved OMOP vocabulary, NULL if unknown; owned by the index */
	struct map_target t[MAP_MAX_TARGETS];
};

/* Fixed-value maps (CSV files in mappings/): small, closed sets of source values. */
enum map_fixed {
	MAPF_GENDER = 0,       /* HL7 0001, C-CDA AdministrativeGender, "M"/"F"/"male" */
	MAPF_RACE,             /* HL7 0005, CDC race codes, Synthea words */
	MAPF_ETHNICITY,        /* HL7 0189, CDC ethnicity codes */
	MAPF_VISIT,            /* PV1-2 patient class, C-CDA encounter codes, Synthea classes */
	MAPF_UNIT,             /* UCUM and common non-UCUM spellings */
	MAPF_ROUTE,            /* HL7 0162, SNOMED, FDA route codes */
	MAPF_DISCHARGE,        /* admit source / discharge disposition -> place-of-service concepts */
	MAPF_SPECIALTY,        /* provider specialty */
	MAPF_PLACE_OF_SERVICE, /* care site type */
	MAPF_OPERATOR,         /* "<", "<=", "=", ">=", ">" -> operator concepts */
	MAPF_CONDITION_STATUS, /* active, resolved, admitting/final diagnosis */
	MAPF__COUNT
};

/* Build the index from the CDM schema's vocabulary tables and mappings/.
 * Logs its size and build time. */
int map_index_build(struct map_index **out, PGconn *conn, const struct conf *c, struct err *e);
void map_index_free(struct map_index *ix);

/*
 * Map one source code for a site (site_id: conf site id) at an event date
 * (days since 1970, INT32_MIN if unknown). Never fails: an unmapped code
 * gives status != MAP_MAPPED, n = 1, t[0].concept_id = 0. st (may be NULL)
 * counts unmapped codes and unknown systems.
 */
void map_code(const struct map_index *ix, struct map_stats *st, const char *site_id,
              const struct code *c, int32_t day, struct map_result *out);

/* A fixed-value map; 0 when the value is not known. system may be empty. */
int32_t map_fixed(const struct map_index *ix, enum map_fixed kind, const struct code *c);

/* The *_type_concept_id for a row of this origin. */
int32_t map_type_concept(const struct map_index *ix, enum rec_origin origin);

/* Domain of a standard concept (DOM_NONE if unknown). */
uint8_t map_concept_domain(const struct map_index *ix, int32_t concept_id);

/* Per-worker statistics. */
struct map_stats *map_stats_new(void);
void map_stats_free(struct map_stats *st);
/* Add everything in from into into (from is left empty). */
void map_stats_merge(struct map_stats *into, struct map_stats *from);
/* Upsert into @omopipe.unmapped_code for the run; log unknown systems once each with their count. */
int map_stats_flush(struct map_stats *st, PGconn *conn, const struct conf *c, int64_t run_id, struct err *e);

#endif
