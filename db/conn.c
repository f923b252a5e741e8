/* conn.c - connecting and running SQL. See db.h. */
#include "db/db.h"
#include "db/cluster.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs ("relation already exists, skipping") are not for the user */
}

/* Keyword/value arrays for PQconnectdbParams: conninfo overridden by PG* variables. */
struct kv { const char *k[64]; const char *v[64]; int n; PQconninfoOption *opts; };

static int build_params(const struct conf *c, struct kv *kv, char *sock, size_t sn, struct err *e)
{
	memset(kv, 0, sizeof *kv);
	if (!c->conninfo[0]) {
		if (cluster_socket_dir(c, sock, sn) < 0)
			return err_set(e, E_CONFIG, "data_dir path too long");
		const char *db = getenv("PGDATABASE");
		kv->k[kv->n] = "host"; kv->v[kv->n++] = sock;
		kv->k[kv->n] = "port"; kv->v[kv->n++] = "5432";
		kv->k[kv->n] = "user"; kv->v[kv->n++] = CLUSTER_USER;
		kv->k[kv->n] = "dbname"; kv->v[kv->n++] = db && *db ? db : CLUSTER_DB;
	} else {
		char *msg = NULL;
		kv->opts = PQconninfoParse(c->conninfo, &msg);
		if (!kv->opts) {
			int rc = err_set(e, E_CONFIG, "[database] conninfo is not a valid libpq connection string: %s", msg ? msg : "");
			PQfreemem(msg);
			e->msg[strcspn(e->msg, "\n")] = '\0';
			return rc;
		}
		for (PQconninfoOption *o = kv->opts; o->keyword && kv->n < 62; o++) {
			const char *env = o->envvar ? getenv(o->envvar) : NULL;
			const char *v = env && *env ? env : o->val;
			if (v && *v) {
				kv->k[kv->n] = o->keyword;
				kv->v[kv->n++] = v;
			}
		}
	}
	kv->k[kv->n] = "application_name"; kv->v[kv->n++] = "omopipe";
	kv->k[kv->n] = "client_encoding"; kv->v[kv->n++] = "UTF8";
	kv->k[kv->n] = NULL;
	kv->v[kv->n] = NULL;
	return 0;
}

static const char *kv_get(const struct kv *kv, const char *k)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->k[i], k) == 0)
			return kv->v[i];
	return NULL;
}

int db_conninfo(const struct conf *c, char *buf, size_t n, int masked, struct err *e)
{
	struct kv kv;
	char sock[4096];
	int rc = build_params(c, &kv, sock, sizeof sock, e);
	if (rc < 0)
		return rc;
	size_t k = 0;
	buf[0] = '\0';
	for (int i = 0; i < kv.n; i++) {
		if (strcmp(kv.k[i], "application_name") == 0 || strcmp(kv.k[i], "client_encoding") == 0)
			continue;
		const char *v = masked && strcmp(kv.k[i], "password") == 0 ? "*****" : kv.v[i];
		int w = snprintf(buf + k, k < n ? n - k : 0, "%s%s=%s", k ? " " : "", kv.k[i], v);
		if (w > 0)
			k += (size_t)w;
	}
	PQconninfoFree(kv.opts);
	return 0;
}

/* The first line of libpq's message. */
static void first_line(const char *m, char *out, size_t n)
{
	snprintf(out, n, "%s", m ? m : "");
	out[strcspn(out, "\n")] = '\0';
}

static int create_embedded_db(const struct conf *c, const char *sock, const char *db, struct err *e)
{
	const char *k[] = { "host", "port", "user", "dbname", "application_name", NULL };
	const char *v[] = { sock, "5432", CLUSTER_USER, "postgres", "omopipe", NULL };
	PGconn *pc = PQconnectdbParams(k, v, 0);
	if (PQstatus(pc) != CONNECTION_OK) {
		char m[512];
		first_line(PQerrorMessage(pc), m, sizeof m);
		PQfinish(pc);
		return err_set(e, E_DB, "cannot connect to the embedded cluster at %s: %s", sock, m);
	}
	PQsetNoticeProcessor(pc, quiet_notices, NULL);
	char *ident = PQescapeIdentifier(pc, db, strlen(db));
	char sql[512];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
	PQfreemem(ident);
	PGresult *r = PQexec(pc, sql);
	int rc = 0;
	/* 42P04: created meanwhile by a parallel command */
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (!st || strcmp(st, "42P04") != 0)
			rc = db_error(pc, r, "creating the database", e);
	}
	PQclear(r);
	PQfinish(pc);
	(void)c;
	return rc;
}

int db_connect(const struct conf *c, PGconn **out, struct err *e)
{
	struct kv kv;
	char sock[4096];
	int rc;

	*out = NULL;
	if (!c->conninfo[0]) {
		if ((rc = cluster_start(c, NULL, e)) < 0)
			return rc;
	}
	if ((rc = build_params(c, &kv, sock, sizeof sock, e)) < 0)
		return rc;
	for (int attempt = 0;; attempt++) {
		PGconn *conn = PQconnectdbParams(kv.k, kv.v, 0);
		if (PQstatus(conn) == CONNECTION_OK) {
			PQsetNoticeProcessor(conn, quiet_notices, NULL);
			PQconninfoFree(kv.opts);
			*out = conn;
			PGresult *r = PQexec(conn, "SET client_min_messages = warning; SET datestyle = 'ISO, YMD'; SET timezone = 'UTC'; SET jit = off");
			PQclear(r);
			return 0;
		}
		char m[512];
		first_line(PQerrorMessage(conn), m, sizeof m);
		PQfinish(conn);
		const char *db = kv_get(&kv, "dbname");
		if (!c->conninfo[0] && attempt == 0 && strstr(m, "does not exist") && db) {
			if ((rc = create_embedded_db(c, sock, db, e)) < 0) {
				PQconninfoFree(kv.opts);
				return rc;
			}
			continue;
		}
		const char *host = kv_get(&kv, "host"), *port = kv_get(&kv, "port");
		const char *hostaddr = kv_get(&kv, "hostaddr");
		rc = err_set(e, E_DB, "cannot connect to the database at %s%s%s%s%s (database %s): %s - %s",
		             host ? host : hostaddr ? hostaddr : "the default socket",
		             port ? " port " : "", port ? port : "",
		             c->conninfo[0] ? "" : ", embedded cluster", "",
		             db ? db : "(default)", m,
		             c->conninfo[0] ? "check that the server is running and [database] conninfo / the PG* environment variables"
		                            : "check `omopipe db status` and the log in data_dir/log");
		PQconninfoFree(kv.opts);
		return rc;
	}
}

void db_close(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

int db_error(PGconn *conn, const PGresult *r, const char *what, struct err *e)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[512];
	first_line(m ? m : PQerrorMessage(conn), line, sizeof line);
	if (PQstatus(conn) == CONNECTION_BAD)
		return err_set(e, E_DB, "%s: the database connection was lost: %s", what, line);
	return err_set(e, E_DB, "%s: %s%s%s", what, st ? st : "", st ? " " : "", line);
}

int db_exec(PGconn *conn, const char *sql, struct err *e)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = db_error(conn, r, "SQL", e);
	PQclear(r);
	return rc;
}

int db_exec_params(PGconn *conn, const char *sql, int n, const char *const *vals, PGresult **res, struct err *e)
{
	PGresult *r = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = db_error(conn, r, "SQL", e);
		PQclear(r);
		if (res)
			*res = NULL;
		return rc;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

int db_query_value(PGconn *conn, const char *sql, int n, const char *const *vals, char *buf, size_t bn, struct err *e)
{
	PGresult *r;
	int rc = db_exec_params(conn, sql, n, vals, &r, e);
	if (rc < 0)
		return rc;
	if (PQntuples(r) < 1 || PQnfields(r) < 1)
		snprintf(buf, bn, "%s", "");
	else
		snprintf(buf, bn, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

char *db_render(const struct conf *c, const char *sql)
{
	struct buf b = BUF_INIT;
	const char *p = sql;
	while (*p) {
		const char *at = strchr(p, '@');
		if (!at) {
			buf_puts(&b, p);
			break;
		}
		buf_append(&b, p, (size_t)(at - p));
		const char *rep = NULL;
		size_t k = 0;
		if (strncmp(at, "@cdm", 4) == 0) { rep = c->schema_cdm; k = 4; }
		else if (strncmp(at, "@results", 8) == 0) { rep = c->schema_results; k = 8; }
		else if (strncmp(at, "@omopipe", 8) == 0) { rep = c->schema_omopipe; k = 8; }
		char nx = at[k];
		if (rep && !((nx >= 'a' && nx <= 'z') || (nx >= '0' && nx <= '9') || nx == '_')) {
			buf_puts(&b, rep);
			p = at + k;
		} else {
			buf_putc(&b, '@');
			p = at + 1;
		}
	}
	return buf_take(&b);
}

char *db_load_sql(const struct conf *c, const char *rel, struct err *e)
{
	char path[4096];
	if (path_share(rel, path, sizeof path, e) < 0)
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set(e, E_INPUT, "cannot open %s", path);
		return NULL;
	}
	struct buf b = BUF_INIT;
	char tmp[8192];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, k);
	fclose(f);
	char *sql = db_render(c, b.p ? b.p : "");
	buf_free(&b);
	return sql;
}


int db_run_send(PGconn *conn, const struct conf *c, const char *rel, struct err *e)
{
	char *sql = db_load_sql(c, rel, e);
	if (!sql)
		return -e->code;
	int ok = PQsendQuery(conn, sql);
	free(sql);
	if (!ok) {
		char what[600];
		snprintf(what, sizeof what, "sending %s", rel);
		return db_error(conn, NULL, what, e);
	}
	return 0;
}

int db_run_wait(PGconn *conn, const char *rel, struct err *e)
{
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			char what[600];
			snprintf(what, sizeof what, "running %s", rel);
			rc = db_error(conn, r, what, e);
		}
		PQclear(r);
	}
	return rc;
}

int db_run_file(PGconn *conn, const struct conf *c, const char *rel, struct err *e)
{
	int rc = db_run_send(conn, c, rel, e);
	return rc < 0 ? rc : db_run_wait(conn, rel, e);
}
