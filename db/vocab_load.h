/*
 * vocab_load.h - omopipe vocab load DIR.
 *
 *   DIR/{CONCEPT,CONCEPT_RELATIONSHIP,...}[.csv|.txt|.tsv][.zst]  (any case,
 *   an optional _seed suffix as in dbt seeds)
 *     -> csvtok (tab + no quotes for an Athena download, comma + quotes for a
 *        CSV export; decided by the header line)
 *     -> every value checked against the column's type in the database
 *     -> COPY into the CDM schema's vocabulary table
 *
 * One transaction: the tables whose files are present are truncated, loaded,
 * and their primary keys and indexes rebuilt after the load; tables without a
 * file keep their rows. A malformed row stops the load with file:line and the
 * reason, and the transaction is rolled back: the previous vocabulary stays.
 * Memory is flat: rows stream from the file to the server.
 */
#ifndef OMO_VOCAB_LOAD_H
#define OMO_VOCAB_LOAD_H

#include <stdio.h>
#include "db/db.h"

struct vocab_load_stats {
	char table[10][32];
	uint64_t rows[10];
	int n;
	double seconds;
};

int vocab_load(PGconn *conn, const struct conf *c, const char *dir, struct vocab_load_stats *st, struct err *e);

#endif
