/*
 * cmd_quarantine.c - omopipe quarantine list | show | replay.
 *
 * list and show print positions, reasons and messages (no patient data);
 * `show ID --raw` writes the raw record to stdout because the user asked for
 * it (it never goes to a log). replay loads a quarantined record again through
 * its extractor, as it was or from a fixed copy (--from FILE), and marks it
 * replayed when it loads.
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/io.h"
#include "core/mem.h"
#include "core/path.h"
#include "db/db.h"
#include "etl/load/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static int q_list(struct cli *cli, PGconn *conn, int argc, char **argv)
{
	const char *site = NULL, *run = NULL, *reason = NULL, *limit = "50";
	struct err e = { 0 };
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--site") == 0) site = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--run") == 0) run = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--reason") == 0) reason = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--limit") == 0) limit = argv[++i];
		else return cli_usage("quarantine", "list: unexpected argument '%s'", argv[i]);
	}
	char *sql = db_render(&cli->conf,
		"SELECT q.quarantine_id, s.site_id, q.run_id, q.path, q.record_no, coalesce(q.line_no::text, ''), "
		"coalesce(q.position, ''), q.reason, q.message, CASE WHEN q.replayed_run_id IS NULL THEN '' ELSE 'replayed' END "
		"FROM @omopipe.quarantine q JOIN @omopipe.site s USING (site_no) "
		"WHERE ($1::text IS NULL OR s.site_id = $1) AND ($2::bigint IS NULL OR q.run_id = $2::bigint) "
		"AND ($3::text IS NULL OR q.reason = $3) ORDER BY q.quarantine_id DESC LIMIT $4::int");
	const char *vals[] = { site, run, reason, limit };
	PGresult *r;
	int rc = db_exec_params(conn, sql, 4, vals, &r, &e);
	free(sql);
	if (rc < 0)
		return cli_fail(&e);
	printf("%8s  %-10s  %5s  %-14s  %s\n", "id", "site", "run", "reason", "where: message");
	for (int i = 0; i < PQntuples(r); i++) {
		const char *path = PQgetvalue(r, i, 3), *base = strrchr(path, '/');
		const char *line = PQgetvalue(r, i, 5), *pos = PQgetvalue(r, i, 6);
		printf("%8s  %-10s  %5s  %-14s  %s:%s%s record %s%s%s: %s%s%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 7), base ? base + 1 : path, line[0] ? line : "",
		       line[0] ? ":" : "", PQgetvalue(r, i, 4), pos[0] ? ", " : "", pos, PQgetvalue(r, i, 8),
		       PQgetvalue(r, i, 9)[0] ? " (" : "", PQgetvalue(r, i, 9)[0] ? "replayed)" : "");
	}
	PQclear(r);
	return EXIT_OK;
}

/* Fetch one quarantine row; raw is decompressed into *raw (caller frees). */
struct qrow { char site[64], path[4096], format[32], profile[128], reason[64], message[512], position[160];
              char run[24], record[24], line[24], offset[24], replayed[24]; char *raw; size_t rawn; };

static int fetch(struct cli *cli, PGconn *conn, const char *id, struct qrow *q, struct err *e)
{
	char *sql = db_render(&cli->conf,
		"SELECT s.site_id, q.path, q.format, q.profile, q.reason, q.message, coalesce(q.position, ''), q.run_id::text, "
		"q.record_no::text, coalesce(q.line_no::text, ''), coalesce(q.byte_offset::text, ''), "
		"coalesce(q.replayed_run_id::text, ''), q.raw_zst "
		"FROM @omopipe.quarantine q JOIN @omopipe.site s USING (site_no) WHERE q.quarantine_id = $1::bigint");
	const char *vals[] = { id };
	PGresult *r = PQexecParams(conn, sql, 1, NULL, vals, NULL, NULL, 1);
	free(sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = db_error(conn, r, "reading the quarantine", e);
		PQclear(r);
		return rc;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, E_INPUT, "no quarantined record %s (see omopipe quarantine list)", id);
	}
	char *dst[] = { q->site, q->path, q->format, q->profile, q->reason, q->message, q->position, q->run, q->record,
	                q->line, q->offset, q->replayed };
	size_t sz[] = { sizeof q->site, sizeof q->path, sizeof q->format, sizeof q->profile, sizeof q->reason,
	                sizeof q->message, sizeof q->position, sizeof q->run, sizeof q->record, sizeof q->line,
	                sizeof q->offset, sizeof q->replayed };
	for (int i = 0; i < 12; i++)
		snprintf(dst[i], sz[i], "%.*s", PQgetlength(r, 0, i), PQgetvalue(r, 0, i));
	q->raw = NULL;
	q->rawn = 0;
	if (!PQgetisnull(r, 0, 12)) {
		const char *z = PQgetvalue(r, 0, 12);
		size_t zn = (size_t)PQgetlength(r, 0, 12);
		unsigned long long n = ZSTD_getFrameContentSize(z, zn);
		if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > (1ull << 31)) {
			PQclear(r);
			return err_set(e, E_INTERNAL, "quarantined record %s: its raw copy is unreadable", id);
		}
		q->raw = xmalloc((size_t)n + 1);
		q->rawn = ZSTD_decompress(q->raw, (size_t)n + 1, z, zn);
		if (ZSTD_isError(q->rawn)) {
			free(q->raw);
			PQclear(r);
			return err_set(e, E_INTERNAL, "quarantined record %s: its raw copy is unreadable", id);
		}
	}
	PQclear(r);
	return 0;
}

static int q_show(struct cli *cli, PGconn *conn, int argc, char **argv)
{
	int raw = 0;
	const char *id = NULL;
	struct err e = { 0 };
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0) raw = 1;
		else if (!id) id = argv[i];
		else return cli_usage("quarantine", "show: unexpected argument '%s'", argv[i]);
	}
	if (!id)
		return cli_usage("quarantine", "show: which record? (an id from `omopipe quarantine list`)");
	struct qrow q;
	if (fetch(cli, conn, id, &q, &e) < 0)
		return cli_fail(&e);
	if (raw) {
		fwrite(q.raw ? q.raw : "", 1, q.rawn, stdout);
		if (q.rawn && q.raw[q.rawn - 1] != '\n')
			putchar('\n');
	} else {
		printf("quarantined record %s\nsite:      %s\nrun:       %s\nfile:      %s\nformat:    %s (profile %s)\n"
		       "record:    %s\nline:      %s\nbyte:      %s\nposition:  %s\nreason:    %s\nmessage:   %s\nraw:       %zu bytes (omopipe quarantine show %s --raw)\n%s%s",
		       id, q.site, q.run, q.path, q.format, q.profile, q.record, q.line, q.offset, q.position, q.reason,
		       q.message, q.rawn, id, q.replayed[0] ? "replayed:  in run " : "", q.replayed[0] ? q.replayed : "");
		if (q.replayed[0])
			putchar('\n');
	}
	free(q.raw);
	return EXIT_OK;
}

static int write_file(const char *path, const char *p, size_t n, struct err *e)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		if (f)
			fclose(f);
		return err_set(e, E_IO, "cannot write %s", path);
	}
	fclose(f);
	return 0;
}

static int q_replay(struct cli *cli, PGconn *conn, int argc, char **argv)
{
	const char *from = NULL;
	struct err e = { 0 };
	int nids = 0, failed = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) { from = argv[++i]; continue; }
		if (argv[i][0] == '-')
			return cli_usage("quarantine", "replay: unexpected option '%s'", argv[i]);
		nids++;
	}
	if (!nids)
		return cli_usage("quarantine", "replay: which records? (ids from `omopipe quarantine list`)");
	if (from && nids != 1)
		return cli_usage("quarantine", "replay --from FILE: give exactly one record id");
	for (int i = 2; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "--from") == 0)
				i++;
			continue;
		}
		const char *id = argv[i];
		struct qrow q;
		if (fetch(cli, conn, id, &q, &e) < 0)
			return cli_fail(&e);
		/* the record alone, in a file named like its original (layouts pick files by name) */
		char dir[4096], file[4700], base[512];
		io_base_name(q.path, base, sizeof base);
		snprintf(dir, sizeof dir, "%s/replay/%s", cli->conf.data_dir, id);
		snprintf(file, sizeof file, "%s/%s", dir, base);
		int rc = path_mkdirs(dir, 0700, &e);
		if (rc == 0) {
			if (from) {
				size_t n = 0;
				FILE *f = fopen(from, "rb");
				char *p = NULL;
				if (f) {
					struct buf b = BUF_INIT;
					char tmp[65536];
					size_t k;
					while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
						buf_append(&b, tmp, k);
					fclose(f);
					n = b.n;
					p = buf_take(&b);
					rc = write_file(file, p, n, &e);
					free(p);
				} else {
					rc = err_set(&e, E_INPUT, "cannot read %s", from);
				}
			} else {
				rc = write_file(file, q.raw ? q.raw : "", q.rawn, &e);
			}
		}
		free(q.raw);
		if (rc < 0)
			return cli_fail(&e);
		const struct conf_site *site = conf_site(&cli->conf, q.site);
		if (!site)
			site = conf_add_site(&cli->conf, q.site);
		struct load_run *r;
		char cmd[128];
		snprintf(cmd, sizeof cmd, "quarantine replay %s", id);
		rc = load_open(&r, &cli->conf, cmd, &e);
		if (rc == 0)
			rc = load_add(r, site, q.format, q.profile, file, &e);
		struct load_totals t;
		if (load_finish(r, rc, 1, &t, &e) < 0)
			return cli_fail(&e);
		if (t.loaded > 0 && t.quarantined == 0 && t.files_failed == 0) {
			char run[24];
			snprintf(run, sizeof run, "%lld", (long long)t.run_id);
			const char *vals[] = { id, run };
			char *sql = db_render(&cli->conf, "UPDATE @omopipe.quarantine SET replayed_run_id = $2::bigint WHERE quarantine_id = $1::bigint");
			rc = db_exec_params(conn, sql, 2, vals, NULL, &e);
			free(sql);
			if (rc < 0)
				return cli_fail(&e);
			printf("record %s: replayed, loaded in run %s\n", id, run);
		} else {
			printf("record %s: still not loadable (%llu quarantined again, %llu skipped): see omopipe quarantine list --run %lld\n",
			       id, (unsigned long long)t.quarantined, (unsigned long long)t.skipped, (long long)t.run_id);
			failed++;
		}
	}
	return failed ? EXIT_DATA : EXIT_OK;
}

int cmd_quarantine(struct cli *cli, int argc, char **argv)
{
	PGconn *conn;
	int rc;
	if (argc < 2)
		return cli_usage("quarantine", "expected list, show or replay");
	const char *sub = argv[1];
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "replay"))
		return cli_usage("quarantine", "unknown subcommand '%s' (expected list, show or replay)", sub);
	if ((rc = cli_connect_ready(cli, &conn)) != 0)
		return rc;
	if (strcmp(sub, "list") == 0)
		rc = q_list(cli, conn, argc, argv);
	else if (strcmp(sub, "show") == 0)
		rc = q_show(cli, conn, argc, argv);
	else
		rc = q_replay(cli, conn, argc, argv);
	db_close(conn);
	return rc;
}
