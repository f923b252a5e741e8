/*
 * cluster.h - the embedded PostgreSQL cluster.
 *
 * With no conninfo configured omopipe runs a private cluster of its own:
 *
 *   DATA_DIR/pg/          the cluster (initdb), owned by the cluster user
 *   DATA_DIR/run/         its unix socket; no TCP port is opened
 *   DATA_DIR/log/postgresql.log
 *
 * Binaries are found through `pg_config --bindir`, PATH, then
 * /usr/lib/postgresql/<highest>/bin. PostgreSQL refuses to run as root: when
 * omopipe runs as root, the cluster belongs to the `postgres` system user (or
 * `nobody`), and omopipe drops to that user for initdb and pg_ctl only.
 * Authentication is `trust` on the unix socket alone, and the socket directory
 * is 0700: only the cluster's user (and root) can connect.
 *
 * Starting is idempotent and serialised with a lock file, so parallel commands
 * (or tests) may all ask for it.
 */
#ifndef OMO_CLUSTER_H
#define OMO_CLUSTER_H

#include <stddef.h>
#include "core/conf.h"
#include "core/err.h"

#define CLUSTER_DB "omopipe"      /* default database of the embedded cluster */
#define CLUSTER_USER "omopipe"    /* bootstrap superuser of the embedded cluster */
#define CLUSTER_PORT 5432         /* names the socket file only; nothing listens on TCP */

/* Create (first time) and start the cluster. *started = 1 if this call started it. */
int cluster_start(const struct conf *c, int *started, struct err *e);
/* Stop it (fast shutdown). *was_running = 0 if it was not running. */
int cluster_stop(const struct conf *c, int *was_running, struct err *e);
/* 1 running, 0 stopped, -1 not created yet. */
int cluster_running(const struct conf *c);
/* Socket directory of the embedded cluster into buf. */
int cluster_socket_dir(const struct conf *c, char *buf, size_t n);
/* Directory of the PostgreSQL binaries (initdb, pg_ctl, psql) into buf. */
int cluster_bindir(char *buf, size_t n, struct err *e);

#endif
