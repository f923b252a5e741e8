/* cluster.c - the embedded PostgreSQL cluster. See cluster.h. */
#include "db/cluster.h"
#include "core/log.h"
#include "core/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct owner { uid_t uid; gid_t gid; const char *name; int drop; };

static int find_owner(struct owner *o, struct err *e)
{
	memset(o, 0, sizeof *o);
	o->uid = geteuid();
	o->gid = getegid();
	if (o->uid != 0)
		return 0;
	static const char *candidates[] = { "postgres", "nobody" };
	for (size_t i = 0; i < 2; i++) {
		struct passwd *pw = getpwnam(candidates[i]);
		if (pw) {
			o->uid = pw->pw_uid;
			o->gid = pw->pw_gid;
			o->name = candidates[i];
			o->drop = 1;
			return 0;
		}
	}
	return err_set(e, E_CONFIG, "running as root, and neither a 'postgres' nor a 'nobody' user exists to own the embedded cluster; create one or run omopipe as an ordinary user");
}

static int dir_paths(const struct conf *c, char *pg, char *run, char *logd, size_t n)
{
	if (path_join(pg, n, c->data_dir, "pg") < 0 || path_join(run, n, c->data_dir, "run") < 0 ||
	    path_join(logd, n, c->data_dir, "log") < 0)
		return -1;
	return 0;
}

int cluster_socket_dir(const struct conf *c, char *buf, size_t n)
{
	return path_join(buf, n, c->data_dir, "run");
}

static int exe_in(const char *dir, const char *name)
{
	char p[4096];
	return path_join(p, sizeof p, dir, name) == 0 && access(p, X_OK) == 0;
}

int cluster_bindir(char *buf, size_t n, struct err *e)
{
	/* 1. pg_config --bindir (Debian's libpq-dev pg_config points at the server's bindir) */
	FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
	if (p) {
		char line[4096] = "";
		if (fgets(line, sizeof line, p)) {
			line[strcspn(line, "\n")] = '\0';
			if (exe_in(line, "initdb") && exe_in(line, "pg_ctl")) {
				pclose(p);
				snprintf(buf, n, "%s", line);
				return 0;
			}
		}
		pclose(p);
	}
	/* 2. PATH */
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *c = strchr(path, ':');
		size_t k = c ? (size_t)(c - path) : strlen(path);
		char dir[4096];
		if (k && k < sizeof dir) {
			memcpy(dir, path, k);
			dir[k] = '\0';
			if (exe_in(dir, "initdb") && exe_in(dir, "pg_ctl")) {
				snprintf(buf, n, "%s", dir);
				return 0;
			}
		}
		path = c ? c + 1 : NULL;
	}
	/* 3. /usr/lib/postgresql/<highest>/bin */
	DIR *d = opendir("/usr/lib/postgresql");
	int best = -1;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			int v = atoi(de->d_name);
			char dir[512];
			snprintf(dir, sizeof dir, "/usr/lib/postgresql/%s/bin", de->d_name);
			if (v > best && exe_in(dir, "initdb") && exe_in(dir, "pg_ctl"))
				best = v;
		}
		closedir(d);
	}
	if (best >= 0) {
		snprintf(buf, n, "/usr/lib/postgresql/%d/bin", best);
		return 0;
	}
	return err_set(e, E_DB, "PostgreSQL server binaries (initdb, pg_ctl) not found via pg_config, PATH or /usr/lib/postgresql/*/bin; install the postgresql package, or set [database] conninfo to use an existing server");
}

/*
 * Run argv (as the cluster owner when root), output appended to logpath.
 * Returns the exit status, or -1 if it could not run.
 */
static int run_cmd(const struct owner *o, char *const argv[], const char *logpath)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		if (o->drop) {
			if (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0) {
				fprintf(stderr, "omopipe: cannot switch to user %s: %s\n", o->name, strerror(errno));
				_exit(126);
			}
		}
		/* a clean environment for the server: no PG* from the caller */
		unsetenv("PGDATA");
		unsetenv("PGHOST");
		unsetenv("PGPORT");
		unsetenv("PGDATABASE");
		unsetenv("PGUSER");
		unsetenv("PGOPTIONS");
		setenv("LC_ALL", "C", 1);
		execv(argv[0], argv);
		fprintf(stderr, "omopipe: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The last lines of a log, for an error message that says why. */
static void log_tail(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (!f)
		return;
	char line[512], last[3][512] = { "", "", "" };
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		memcpy(last[0], last[1], sizeof last[0]);
		memcpy(last[1], last[2], sizeof last[1]);
		snprintf(last[2], sizeof last[2], "%s", line);
	}
	fclose(f);
	snprintf(out, n, "%s%s%s%s%s", last[0], last[0][0] ? " | " : "", last[1], last[1][0] ? " | " : "", last[2]);
}

static int lock_data_dir(const struct conf *c, struct err *e)
{
	char lp[4096];
	if (path_mkdirs(c->data_dir, 0755, e) < 0)
		return -1;
	if (path_join(lp, sizeof lp, c->data_dir, "cluster.lock") < 0)
		return err_set(e, E_CONFIG, "data_dir path too long"), -1;
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, E_IO, "cannot open %s: %s", lp, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			err_set(e, E_IO, "cannot lock %s: %s", lp, strerror(errno));
			return -1;
		}
	return fd;
}

static int pg_ctl_status(const struct owner *o, const char *bindir, const char *pg, const char *logf)
{
	char exe[4200];
	path_join(exe, sizeof exe, bindir, "pg_ctl");
	char *argv[] = { exe, "-D", (char *)pg, "status", NULL };
	return run_cmd(o, argv, logf);
}

int cluster_running(const struct conf *c)
{
	char pg[4096], run[4096], logd[4096], bindir[4096], logf[4200];
	struct owner o;
	if (dir_paths(c, pg, run, logd, sizeof pg) < 0 || find_owner(&o, NULL) < 0)
		return -1;
	char ver[4200];
	path_join(ver, sizeof ver, pg, "PG_VERSION");
	if (!path_exists(ver))
		return -1;
	if (cluster_bindir(bindir, sizeof bindir, NULL) < 0)
		return 0;
	path_join(logf, sizeof logf, logd, "pg_ctl.log");
	return pg_ctl_status(&o, bindir, pg, logf) == 0;
}

static int chown_dir(const struct owner *o, const char *d, struct err *e)
{
	if (o->drop && chown(d, o->uid, o->gid) < 0)
		return err_set(e, E_IO, "cannot give %s to user %s: %s", d, o->name, strerror(errno));
	return 0;
}

/* Memory for the cluster, from the machine's: a quarter of it for shared
 * buffers (128 MB .. 8 GB), as PostgreSQL's own tuning advice has it. */
static void memory_settings(long long *shared_mb, long long *cache_mb, long long *maint_mb)
{
	long long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	long long ram_mb = pages > 0 && psize > 0 ? pages * psize / (1024 * 1024) : 2048;
	*shared_mb = ram_mb / 4 < 128 ? 128 : ram_mb / 4 > 8192 ? 8192 : ram_mb / 4;
	*cache_mb = ram_mb / 2 < 256 ? 256 : ram_mb / 2;
	*maint_mb = ram_mb / 16 < 64 ? 64 : ram_mb / 16 > 2048 ? 2048 : ram_mb / 16;
}

/* WAL kept between checkpoints, from the free space where the cluster lives:
 * a quarter of it (1 .. 32 GB). A nightly load writes WAL fast; each
 * checkpoint it forces makes the next change of every page write that whole
 * page to the WAL again, and the loader's id_map index is changed at random
 * places. Measured (bench/nightly.sh, 50,000 patients): 4 GB forced 2
 * checkpoints in the load and cost 8% of its time against none at 16 GB. */
static long long wal_size_mb(const char *pg)
{
	struct statvfs fs;
	long long free_mb = statvfs(pg, &fs) == 0 ? (long long)fs.f_bavail * (long long)fs.f_frsize / (1024 * 1024) : 0;
	return free_mb / 4 < 1024 ? 1024 : free_mb / 4 > 32768 ? 32768 : free_mb / 4;
}

static int write_settings(const char *pg, const char *run, struct err *e)
{
	char conf[4200];
	long long shared_mb, cache_mb, maint_mb;
	memory_settings(&shared_mb, &cache_mb, &maint_mb);
	path_join(conf, sizeof conf, pg, "postgresql.conf");
	FILE *f = fopen(conf, "a");
	if (!f)
		return err_set(e, E_IO, "cannot write %s: %s", conf, strerror(errno));
	fprintf(f,
	        "\n# --- added by omopipe: a private cluster reachable only through its socket ---\n"
	        "listen_addresses = ''\n"
	        "unix_socket_directories = '%s'\n"
	        "unix_socket_permissions = 0700\n"
	        "port = %d\n"
	        "max_connections = 64\n"
	        "shared_buffers = %lldMB\n"
	        "effective_cache_size = %lldMB\n"
	        "work_mem = 64MB\n"
	        "maintenance_work_mem = %lldMB\n"
	        "wal_level = minimal\n"
	        "max_wal_senders = 0\n"
	        "max_wal_size = %lldMB\n"
	        "checkpoint_timeout = 15min\n"
	        "wal_compression = on\n"
	        "synchronous_commit = off\n"
	        "logging_collector = off\n"
	        "log_min_messages = warning\n"
	        "log_statement = none\n"
	        "log_min_error_statement = panic\n"
	        "timezone = 'UTC'\n"
	        "jit = off\n",
	        run, CLUSTER_PORT, shared_mb, cache_mb, maint_mb, wal_size_mb(pg));
	/* log_min_error_statement = panic: failed statements (with their data) stay out of the log */
	fclose(f);
	return 0;
}

int cluster_start(const struct conf *c, int *started, struct err *e)
{
	char pg[4096], run[4096], logd[4096], bindir[4096], logf[4200], ctl_log[4200], exe[4200], ver[4200];
	struct owner o;
	int rc = 0;

	if (started)
		*started = 0;
	if (dir_paths(c, pg, run, logd, sizeof pg) < 0)
		return err_set(e, E_CONFIG, "data_dir path too long: %s", c->data_dir);
	if (strlen(run) + sizeof "/.s.PGSQL.5432" > sizeof(((struct sockaddr_un *)0)->sun_path))
		return err_set(e, E_CONFIG, "data_dir %s is too long for a unix socket path (at most about 90 characters); choose a shorter --data-dir", c->data_dir);
	if (find_owner(&o, e) < 0)
		return -E_CONFIG;
	if (cluster_bindir(bindir, sizeof bindir, e) < 0)
		return -E_DB;
	int lk = lock_data_dir(c, e);
	if (lk < 0)
		return -e->code;
	if ((rc = path_mkdirs(logd, 0755, e)) < 0 || (rc = chown_dir(&o, logd, e)) < 0)
		goto out;
	path_join(logf, sizeof logf, logd, "postgresql.log");
	path_join(ctl_log, sizeof ctl_log, logd, "pg_ctl.log");
	path_join(ver, sizeof ver, pg, "PG_VERSION");

	if (!path_exists(ver)) {
		if ((rc = path_mkdirs(pg, 0700, e)) < 0 || (rc = chown_dir(&o, pg, e)) < 0)
			goto out;
		chmod(pg, 0700);
		path_join(exe, sizeof exe, bindir, "initdb");
		char dopt[4200];
		snprintf(dopt, sizeof dopt, "--pgdata=%s", pg);
		char *argv[] = { exe, dopt, "--username=" CLUSTER_USER, "--auth=trust", "--encoding=UTF8",
		                 "--locale=C", "--no-sync", NULL };
		log_info("creating the embedded PostgreSQL cluster in %s%s%s", pg, o.drop ? " as user " : "", o.drop ? o.name : "");
		int st = run_cmd(&o, argv, ctl_log);
		if (st != 0) {
			char tail[1600];
			log_tail(ctl_log, tail, sizeof tail);
			rc = err_set(e, E_DB, "initdb failed (exit %d) in %s: %s%s", st, pg, tail,
			             st == 126 || strstr(tail, "ermission") ? " - the cluster user must be able to reach data_dir; choose a --data-dir it can traverse" : "");
			goto out;
		}
		if ((rc = write_settings(pg, run, e)) < 0)
			goto out;
	}
	if ((rc = path_mkdirs(run, 0700, e)) < 0 || (rc = chown_dir(&o, run, e)) < 0)
		goto out;
	if (pg_ctl_status(&o, bindir, pg, ctl_log) == 0)
		goto out; /* already running */
	path_join(exe, sizeof exe, bindir, "pg_ctl");
	char lopt[4300], oopt[4300];
	snprintf(lopt, sizeof lopt, "--log=%s", logf);
	snprintf(oopt, sizeof oopt, "-k %s", run);
	char *argv[] = { exe, "-D", pg, lopt, "-o", oopt, "-w", "-t", "120", "start", NULL };
	log_info("starting the embedded PostgreSQL cluster (socket in %s)", run);
	int st = run_cmd(&o, argv, ctl_log);
	if (st != 0) {
		char tail[1600];
		log_tail(logf, tail, sizeof tail);
		rc = err_set(e, E_DB, "the embedded PostgreSQL cluster in %s did not start (pg_ctl exit %d): %s", pg, st, tail);
		goto out;
	}
	if (started)
		*started = 1;
out:
	close(lk);
	return rc;
}

int cluster_stop(const struct conf *c, int *was_running, struct err *e)
{
	char pg[4096], run[4096], logd[4096], bindir[4096], ctl_log[4200], exe[4200];
	struct owner o;
	if (was_running)
		*was_running = 0;
	if (dir_paths(c, pg, run, logd, sizeof pg) < 0)
		return err_set(e, E_CONFIG, "data_dir path too long");
	if (find_owner(&o, e) < 0)
		return -E_CONFIG;
	if (cluster_bindir(bindir, sizeof bindir, e) < 0)
		return -E_DB;
	path_join(ctl_log, sizeof ctl_log, logd, "pg_ctl.log");
	if (!path_is_dir(pg) || pg_ctl_status(&o, bindir, pg, ctl_log) != 0)
		return 0;
	path_join(exe, sizeof exe, bindir, "pg_ctl");
	char *argv[] = { exe, "-D", pg, "-m", "fast", "-w", "-t", "120", "stop", NULL };
	int st = run_cmd(&o, argv, ctl_log);
	if (st != 0) {
		char tail[1600];
		log_tail(ctl_log, tail, sizeof tail);
		return err_set(e, E_DB, "pg_ctl stop failed (exit %d): %s", st, tail);
	}
	if (was_running)
		*was_running = 1;
	return 0;
}
