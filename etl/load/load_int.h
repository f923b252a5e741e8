/*
 * load_int.h - what the loader's files share (not for other modules).
 *
 *   extractor --sink--> filectx (sink.c)
 *       rows.c: route each record by its mapped domain, format COPY rows with
 *               id placeholders, into per-table batch buffers
 *       ids.c:  resolve the batch's keys to ids in the database, delete rows
 *               that corrections replace, patch the placeholders, COPY out
 *   file.c: one file in one transaction (ledger, replacement, merge, accounting)
 *   run.c:  workers, site locks, the run ledger
 */
#ifndef OMO_LOAD_INT_H
#define OMO_LOAD_INT_H

#include <libpq-fe.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/conf.h"
#include "etl/extract/extract.h"
#include "etl/load/keytab.h"
#include "etl/load/load.h"
#include "etl/map/map.h"
#include "etl/sink.h"

enum load_table {
	/* upserted through staging (sql/load_merge.sql) */
	T_PERSON = 0, T_VISIT, T_PROVIDER, T_CARE_SITE, T_LOCATION, T_DEATH,
	/* events: copied straight into the CDM */
	T_CONDITION, T_DRUG, T_PROCEDURE, T_DEVICE, T_MEASUREMENT, T_OBSERVATION, T_NOTE, T_SPECIMEN,
	T_COST, T_PAYER_PLAN,
	T__COUNT
};
#define T_FIRST_EVENT T_CONDITION

struct table_desc {
	const char *name;      /* CDM table */
	const char *id_col;    /* primary key column, NULL for death */
	const char *cols;      /* columns the loader writes, in COPY order */
	const char *types;     /* their types, a letter each: 8 bigint, 4 integer, n numeric, d date,
	                          t timestamp, s text or varchar (ids_check_tables) */
	int ncols;             /* how many */
};
extern const struct table_desc load_tables[T__COUNT];

/* An id placeholder in a batch buffer: the 8 bytes of an int8 at off, for key entry key. */
struct fixup { size_t off; uint32_t key; };
struct range { size_t off, len; };

struct pend {
	struct buf b;
	struct fixup *fx;
	size_t nfx, capfx;
	struct range *dead;    /* rows replaced by a later record with the same key */
	size_t ndead, capdead;
};

/* Counters of one file, by reason. */
struct reason_count { char reason[96]; uint64_t n; };
struct reasons { struct reason_count *v; size_t n, cap; };
void reasons_add(struct reasons *r, const char *reason, uint64_t n);
void reasons_json(const struct reasons *r, struct buf *out);
void reasons_free(struct reasons *r);

struct worker;

/* A row written by the current record, to settle at its end (staged rows are
 * counted once per key and file; event rows replace an earlier row with the
 * same key); tbl == TBL_TOMB: the record retracts that key. */
#define TBL_TOMB 0xFF
struct rec_row { uint32_t key; uint8_t tbl; size_t off, len; };

/* A change to rows already written, applied when the batch is flushed, after
 * the batch's rows (ids.c): cancelled visits and persons, merged persons. */
enum op_kind { OP_RETRACT_VISIT = 1, OP_RETRACT_PERSON, OP_MERGE };
struct op { uint8_t kind; uint32_t a, b; int64_t ord; };

/* What one file of a group did (a group: several small files of a site in one
 * transaction, file.c). */
struct file_done {
	const struct job *j;
	char hash[33];
	uint64_t size;
	int64_t file_id;
	int unchanged;
	uint64_t read, loaded, quarantined, skipped;
	uint64_t rows[T__COUNT];
	struct reasons skips, notes;
	double t0, t1;                 /* wall clock, seconds since the epoch */
};

struct filectx {
	struct sink base;              /* must be first: the extractor's sink */
	struct file_done *done;        /* the group's files; done[gi] is the current one */
	int gi;
	struct worker *w;
	PGconn *conn;                  /* the file's transaction */
	PGconn *conn_ids;              /* autocommit: ids of persons, visits ... (ids.c) */
	const struct conf *conf;
	const struct conf_site *site;
	int site_no;
	int64_t run_id, file_id;
	const char *path, *format, *profile;
	const char *db_path;           /* path as the ledger stores it (struct job) */
	const struct map_index *ix;
	struct map_stats *mst;
	struct keytab keys;
	struct pend pend[T__COUNT];
	int64_t ord;                   /* order of staged rows in the file */
	uint32_t staged;               /* tables (1 << T_x) with rows in staging (merge.c) */
	int correcting;                /* holds the site's correction lock (ids.c) */
	int flushes;                   /* batches written in this transaction */
	/* the source record in progress */
	int in_record;
	struct err_pos pos;
	struct span raw;
	size_t mark[T__COUNT], fxmark[T__COUNT];
	struct rec_row *rr;
	size_t nrr, caprr;
	struct op *ops;                /* of the batch; the current record's are at the end */
	size_t nops, capops, opmark;
	int ev_ordinal;                /* events emitted by the record, for keyless events */
	char source_id[128];           /* sink_source_id of the record in progress ("" if none) */
	struct buf quar;               /* COPY rows for @omopipe.quarantine */
	struct buf prov;               /* COPY rows for @omopipe.source_record */
	struct buf context;            /* sink_context: stored before each raw record */
	void *zctx;                    /* ZSTD_CCtx for raw copies */
	struct arena scratch;          /* per record */
};

void filectx_sink_init(struct filectx *f);
/* Route and format one record into the batch (rows.c). 0 or a soft error. */
int rows_record(struct filectx *f, const struct record *r, struct err *e);
/* Resolve the batch's keys, patch, delete replaced rows, COPY out (ids.c). */
int ids_flush(struct filectx *f, struct err *e);
/* The CDM tables have the column types the loader writes (once per run). */
int ids_check_tables(PGconn *conn, const struct conf *c, struct err *e);
/* Prepare the per-connection statements and staging tables. */
int ids_prepare(PGconn *conn, const struct conf *c, struct err *e);

void pend_reset(struct pend *p);
void pend_free(struct pend *p);

#endif

/* ---- the run and its workers (run.c, file.c) ---- */

struct job {
	const struct conf_site *site;
	int site_no;
	const char *format, *profile;   /* owned by the run's arena */
	char *path;                     /* owned by the run's arena */
	uint64_t size;
	const char *db_path;            /* path as the ledger stores it (text): path, or where it is not
	                                 * UTF-8 a copy with \xHH for each byte that starts no character */
};

struct xcache {
	const struct extract_ops *ops;
	const struct conf_site *site;
	const char *profile;
	struct extractor *x;
};

struct load_run {
	const struct conf *conf;
	PGconn *conn;                   /* the main connection: ledger, site locks */
	struct map_index *ix;
	int64_t run_id;
	struct arena arena;
	struct job *jobs;
	size_t njobs, capjobs;
	size_t next;                    /* next job to take (under lock) */
	int stop;                       /* a hard error: workers stop taking jobs */
	struct err stop_err;
	void *lock;                     /* pthread_mutex_t */
	struct load_totals tot;
	struct map_stats *mst;          /* merged from the workers */
	int locked_sites[256];
	int nlocked;
};

struct worker {
	struct load_run *run;
	PGconn *conn;
	PGconn *conn_ids;
	int idx;
	struct map_stats *mst;
	struct xcache xc[32];
	int nxc;
	struct filectx f;
	void *zctx;
	struct load_totals tot;
	char *merge_sql[T_FIRST_EVENT]; /* sections of sql/load_merge.sql, rendered */
	int64_t blk_next, blk_end;      /* the current block of event ids (ids.c) */
};

/* Merging the staged tables (merge.c). */
int merge_prepare(struct worker *w, struct err *e);
int merge_staged(struct worker *w, struct filectx *f, struct err *e);
void merge_free(struct worker *w);

/* Load jobs[0..n) (one file, or a group of small files of one site and feed)
 * in one transaction (file.c). Returns 0 when every file was dealt with
 * (loaded, unchanged, or failed and recorded), or a hard error when the
 * database connection is unusable. */
int file_load(struct worker *w, const struct job *jobs, int n, struct err *e);
