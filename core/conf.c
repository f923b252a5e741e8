/* conf.c - resolve omopipe's configuration. See conf.h. */
#include "core/conf.h"
#include "core/date.h"
#include "core/ini.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/path.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int conf_valid_ident(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int conf_valid_site_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static const char *default_data_dir(struct arena *a)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (geteuid() == 0)
		return "/var/lib/omopipe";
	if (x && *x)
		return arena_printf(a, "%s/omopipe", x);
	if (home && *home)
		return arena_printf(a, "%s/.local/share/omopipe", home);
	return "/tmp/omopipe";
}

static long cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static int parse_workers(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 1 || v > 256)
		return -1;
	*out = (int)v;
	return 0;
}

struct conf_site *conf_add_site(struct conf *c, const char *id)
{
	c->sites = xrealloc(c->sites, mem_mul(c->nsites + 1, sizeof *c->sites));
	struct conf_site *s = &c->sites[c->nsites++];
	memset(s, 0, sizeof *s);
	s->id = arena_strdup(&c->arena, id);
	s->name = s->id;
	s->tz = DT_TZ_KEEP;
	s->tz_text = "";
	return s;
}

static int add_feed(struct conf *c, struct ini *ini, const struct ini_entry *en, struct conf_site *s, struct err *e)
{
	char fmt[32], prof[64];
	int off = 0;
	if (sscanf(en->value, "%31s %63s %n", fmt, prof, &off) < 2 || !en->value[off])
		return ini_error(ini, en, E_CONFIG, e, "feed: expected 'feed = FORMAT PROFILE PATH', got '%s'", en->value);
	if (strcmp(fmt, "csv") && strcmp(fmt, "hl7v2") && strcmp(fmt, "ccda"))
		return ini_error(ini, en, E_CONFIG, e, "feed: format '%s' is not one of csv, hl7v2, ccda", fmt);
	s->feeds = xrealloc(s->feeds, mem_mul(s->nfeeds + 1, sizeof *s->feeds));
	struct conf_feed *f = &s->feeds[s->nfeeds++];
	f->format = arena_strdup(&c->arena, fmt);
	f->profile = arena_strdup(&c->arena, prof);
	const char *p = en->value + off;
	if (p[0] != '/' && c->path) {
		/* relative feed paths are relative to the configuration file */
		const char *slash = strrchr(c->path, '/');
		f->path = slash ? arena_printf(&c->arena, "%.*s/%s", (int)(slash - c->path), c->path, p)
		                : arena_strdup(&c->arena, p);
	} else {
		f->path = arena_strdup(&c->arena, p);
	}
	return 0;
}

static int apply_file(struct conf *c, const char *path, struct err *e)
{
	struct ini ini;
	char abs[4096];
	int rc = ini_load(&ini, path, &c->arena, e);
	if (rc < 0)
		return rc;
	if (path_absolute(path, abs, sizeof abs) == 0)
		c->path = arena_strdup(&c->arena, abs);
	else
		c->path = arena_strdup(&c->arena, path);
	for (size_t i = 0; i < ini.n && rc == 0; i++) {
		const struct ini_entry *en = &ini.v[i];
		const char *sec = en->section, *k = en->key, *v = en->value;
		if (strcmp(sec, "database") == 0 && !en->name[0]) {
			if (strcmp(k, "conninfo") == 0) {
				c->conninfo = v;
				c->src_conninfo = "file";
			} else {
				rc = ini_error(&ini, en, E_CONFIG, e, "unknown key '%s' in [database] (known: conninfo)", k);
			}
		} else if (strcmp(sec, "omopipe") == 0 && !en->name[0]) {
			if (strcmp(k, "data_dir") == 0) {
				c->data_dir = v;
				c->src_data_dir = "file";
			} else if (strcmp(k, "workers") == 0) {
				if (parse_workers(v, &c->workers) < 0)
					rc = ini_error(&ini, en, E_CONFIG, e, "workers: expected a number from 1 to 256, got '%s'", v);
				c->src_workers = "file";
			} else if (strcmp(k, "log_level") == 0) {
				if (log_parse_level(v) < 0)
					rc = ini_error(&ini, en, E_CONFIG, e, "log_level: expected debug, info, warning or error, got '%s'", v);
				c->log_level = v;
			} else {
				rc = ini_error(&ini, en, E_CONFIG, e, "unknown key '%s' in [omopipe] (known: data_dir, workers, log_level)", k);
			}
		} else if (strcmp(sec, "schemas") == 0 && !en->name[0]) {
			const char **dst = strcmp(k, "cdm") == 0 ? &c->schema_cdm :
			                   strcmp(k, "results") == 0 ? &c->schema_results :
			                   strcmp(k, "omopipe") == 0 ? &c->schema_omopipe : NULL;
			if (!dst)
				rc = ini_error(&ini, en, E_CONFIG, e, "unknown key '%s' in [schemas] (known: cdm, results, omopipe)", k);
			else if (!conf_valid_ident(v))
				rc = ini_error(&ini, en, E_CONFIG, e, "%s: '%s' is not a valid schema name (lower-case letters, digits, '_')", k, v);
			else
				*dst = v;
		} else if (strcmp(sec, "dq") == 0 && !en->name[0]) {
			if (strcmp(k, "thresholds") == 0)
				c->dq_thresholds = v;
			else
				rc = ini_error(&ini, en, E_CONFIG, e, "unknown key '%s' in [dq] (known: thresholds)", k);
		} else if (strcmp(sec, "site") == 0) {
			if (!conf_valid_site_id(en->name)) {
				rc = ini_error(&ini, en, E_CONFIG, e, "[site %s]: a site id is 1-32 characters of a-z, 0-9, '_', '-'", en->name);
				break;
			}
			struct conf_site *s = (struct conf_site *)conf_site(c, en->name);
			if (!s)
				s = conf_add_site(c, en->name);
			if (strcmp(k, "name") == 0) {
				s->name = v;
			} else if (strcmp(k, "utc_offset") == 0) {
				if (tz_parse_offset(v, &s->tz) < 0)
					rc = ini_error(&ini, en, E_CONFIG, e, "utc_offset: expected +HH:MM, -HHMM or UTC, got '%s'", v);
				s->tz_text = v;
			} else if (strcmp(k, "feed") == 0) {
				rc = add_feed(c, &ini, en, s, e);
			} else {
				rc = ini_error(&ini, en, E_CONFIG, e, "unknown key '%s' in [site %s] (known: name, utc_offset, feed)", k, en->name);
			}
		} else {
			rc = ini_error(&ini, en, E_CONFIG, e, "unknown section [%s%s%s] (known: database, omopipe, schemas, dq, site NAME)",
			               sec, en->name[0] ? " " : "", en->name);
		}
	}
	ini_free(&ini);
	return rc;
}

static int conf_resolve(struct conf *c, const struct conf_flags *fl, struct err *e);

int conf_load(struct conf *c, const struct conf_flags *fl, struct err *e)
{
	int rc = conf_resolve(c, fl, e);
	if (rc < 0)
		conf_free(c); /* nothing of a configuration that failed stays allocated */
	return rc;
}

static int conf_resolve(struct conf *c, const struct conf_flags *fl, struct err *e)
{
	memset(c, 0, sizeof *c);
	arena_init(&c->arena, 16 * 1024);
	c->conninfo = "";
	c->src_conninfo = "default";
	c->data_dir = default_data_dir(&c->arena);
	c->src_data_dir = "default";
	c->schema_cdm = "cdm";
	c->schema_results = "results";
	c->schema_omopipe = "omopipe";
	c->dq_thresholds = "";
	c->log_level = "info";
	/* a worker waits on the server about half the time: two per core keep both busy */
	c->workers = (int)(2 * cores() < 8 ? 2 * cores() : 8);
	c->src_workers = "default";

	const char *file = fl && fl->config ? fl->config : getenv("OMOPIPE_CONFIG");
	if (file && *file) {
		int rc = apply_file(c, file, e);
		if (rc < 0)
			return rc;
	}
	const char *v;
	if ((v = getenv("OMOPIPE_CONNINFO")) && *v) {
		c->conninfo = arena_strdup(&c->arena, v);
		c->src_conninfo = "environment";
	}
	if ((v = getenv("OMOPIPE_DATA_DIR")) && *v) {
		c->data_dir = arena_strdup(&c->arena, v);
		c->src_data_dir = "environment";
	}
	if ((v = getenv("OMOPIPE_WORKERS")) && *v) {
		if (parse_workers(v, &c->workers) < 0)
			return err_set(e, E_CONFIG, "OMOPIPE_WORKERS: expected a number from 1 to 256, got '%s'", v);
		c->src_workers = "environment";
	}
	if ((v = getenv("OMOPIPE_LOG_LEVEL")) && *v) {
		if (log_parse_level(v) < 0)
			return err_set(e, E_CONFIG, "OMOPIPE_LOG_LEVEL: expected debug, info, warning or error, got '%s'", v);
		c->log_level = arena_strdup(&c->arena, v);
	}
	if (fl) {
		if (fl->conninfo) {
			c->conninfo = fl->conninfo;
			c->src_conninfo = "command line";
		}
		if (fl->data_dir) {
			c->data_dir = fl->data_dir;
			c->src_data_dir = "command line";
		}
		if (fl->workers) {
			c->workers = fl->workers;
			c->src_workers = "command line";
		}
		if (fl->log_level)
			c->log_level = fl->log_level;
	}
	char abs[4096];
	if (path_absolute(c->data_dir, abs, sizeof abs) < 0)
		return err_set(e, E_CONFIG, "data_dir: cannot resolve '%s'", c->data_dir);
	c->data_dir = arena_strdup(&c->arena, abs);
	log_set_level((enum log_level)log_parse_level(c->log_level));
	return 0;
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		free(c->sites[i].feeds);
	free(c->sites);
	arena_free(&c->arena);
	memset(c, 0, sizeof *c);
}

const struct conf_site *conf_site(const struct conf *c, const char *id)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].id, id) == 0)
			return &c->sites[i];
	return NULL;
}

void conf_mask_conninfo(const char *ci, char *buf, size_t n)
{
	size_t k = 0;
	const char *p = ci;
	if (n == 0)
		return;
	/* URI form: postgresql://user:secret@host/db */
	const char *scheme = strstr(ci, "://");
	if (scheme) {
		const char *at = strchr(scheme + 3, '@'), *colon = strchr(scheme + 3, ':');
		if (at && colon && colon < at) {
			snprintf(buf, n, "%.*s:*****%s", (int)(colon - ci), ci, at);
			return;
		}
		snprintf(buf, n, "%s", ci);
		return;
	}
	while (*p && k + 1 < n) {
		if (strncmp(p, "password", 8) == 0 && (p == ci || p[-1] == ' ')) {
			const char *q = p + 8;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				int w = snprintf(buf + k, n - k, "password=*****");
				k += w > 0 ? (size_t)w : 0;
				if (k >= n)
					k = n - 1;
				if (*q == '\'') {
					q++;
					while (*q && *q != '\'')
						q += *q == '\\' && q[1] ? 2 : 1;
					if (*q)
						q++;
				} else {
					while (*q && *q != ' ')
						q++;
				}
				p = q;
				continue;
			}
		}
		buf[k++] = *p++;
	}
	buf[k] = '\0';
}

void conf_print(const struct conf *c, FILE *out)
{
	char masked[1024];
	conf_mask_conninfo(c->conninfo, masked, sizeof masked);
	fprintf(out, "# omopipe %s resolved configuration\n", omo_version());
	fprintf(out, "# configuration file: %s\n\n", c->path ? c->path : "(none: built-in defaults)");
	fprintf(out, "[database]\n");
	fprintf(out, "conninfo = %s%s   # from %s\n\n", masked,
	        c->conninfo[0] ? "" : "\"\"  (embedded PostgreSQL cluster in data_dir)", c->src_conninfo);
	fprintf(out, "[omopipe]\ndata_dir = %s   # from %s\nworkers = %d   # from %s\nlog_level = %s\n\n",
	        c->data_dir, c->src_data_dir, c->workers, c->src_workers, c->log_level);
	fprintf(out, "[schemas]\ncdm = %s\nresults = %s\nomopipe = %s\n\n",
	        c->schema_cdm, c->schema_results, c->schema_omopipe);
	fprintf(out, "[dq]\nthresholds = %s\n", c->dq_thresholds[0] ? c->dq_thresholds : "(built-in: conf/dq_thresholds.csv)");
	for (size_t i = 0; i < c->nsites; i++) {
		const struct conf_site *s = &c->sites[i];
		fprintf(out, "\n[site %s]\nname = %s\n", s->id, s->name);
		if (s->tz_text[0])
			fprintf(out, "utc_offset = %s\n", s->tz_text);
		for (size_t j = 0; j < s->nfeeds; j++)
			fprintf(out, "feed = %s %s %s\n", s->feeds[j].format, s->feeds[j].profile, s->feeds[j].path);
	}
}
