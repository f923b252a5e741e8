/*
 * schema.h - creating and upgrading the schemas (omopipe init).
 *
 * Runs, in one transaction under an advisory lock: on an older database
 * sql/migrate_N.sql for each version N it lacks, then sql/init_schemas.sql,
 * cdm_tables.sql, cdm_indexes.sql, vocab_indexes.sql, omopipe_tables.sql,
 * results_tables.sql, grants.sql, then records SCHEMA_VERSION. Every file is
 * idempotent, so running init again changes nothing. A database whose schema
 * version is newer than this program is refused.
 */
#ifndef OMO_SCHEMA_H
#define OMO_SCHEMA_H

#include "db/db.h"

/* 2: id_map keys uuid, event keys grouped (sql/migrate_2.sql);
 * 3: id_map.record_no and source_record, the provenance of rows (sql/migrate_3.sql) */
#define SCHEMA_VERSION 3

/* *created = 1 if the schema was new. With foreign_keys, also apply
 * sql/cdm_foreign_keys.sql (after a load). */
int schema_init(PGconn *conn, const struct conf *c, int foreign_keys, int *created, struct err *e);
/* 0 if the omopipe schema exists at a version this program understands;
 * -E_DB "run omopipe init" otherwise. */
int schema_check(PGconn *conn, const struct conf *c, struct err *e);

#endif
