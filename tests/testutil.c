/* testutil.c - helpers shared by the cmocka tests. See testutil.h. */
#include "testutil.h"
#include "core/mem.h"
#include "core/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

static char pbuf[4][4096];
static int pk;

static const char *env_path(const char *var, const char *rel)
{
	const char *base = getenv(var);
	char *b = pbuf[pk++ & 3];
	snprintf(b, 4096, "%s/%s", base ? base : ".", rel);
	return b;
}

const char *tu_shared(const char *rel) { return env_path("OMO_SHARED_DATA", rel); }
const char *tu_fixture(const char *rel) { return env_path("OMO_FIXTURES", rel); }

const char *tu_tmpdir(const char *name)
{
	const char *d = env_path("OMO_TEST_TMP", name);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot clean %s\n", d);
	path_mkdirs(d, 0755, NULL);
	return d;
}

int tu_write(const char *path, const char *text)
{
	return tu_write_bytes(path, text, strlen(text));
}

int tu_write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void list_below(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			list_below(p, out, n);
		} else if (S_ISREG(st.st_mode)) {
			*out = xrealloc(*out, (*n + 1) * sizeof **out);
			(*out)[(*n)++] = xstrdup(p);
		}
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tu_list_files(const char *dir, char ***files, size_t *n)
{
	list_below(dir, files, n);
	qsort(*files, *n, sizeof **files, cmp_str);
}

const char *tu_tmpfile(const char *dir, const char *file, const char *text)
{
	static char b[4096];
	snprintf(b, sizeof b, "%s/%s", tu_tmpdir(dir), file);
	if (tu_write(b, text) != 0)
		fail_msg("cannot write %s", b);
	return b;
}

char *tu_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = xmalloc((size_t)sz + 1);
	size_t k = fread(p, 1, (size_t)sz, f);
	fclose(f);
	p[k] = '\0';
	if (n)
		*n = k;
	return p;
}

void tu_conf(struct conf *c)
{
	struct err e = { 0 };
	if (conf_load(c, NULL, &e) < 0) {
		fprintf(stderr, "configuration: %s\n", e.msg);
		abort();
	}
}

static void s_begin(struct sink *b, const struct err_pos *pos, struct span raw)
{
	struct tu_sink *s = (struct tu_sink *)b;
	(void)pos;
	(void)raw;
	assert_false(s->in_record); /* every begin is closed before the next */
	s->in_record = 1;
	s->begun++;
	memset(s->pending, 0, sizeof s->pending);
}

static int s_emit(struct sink *b, const struct record *r, struct err *e)
{
	struct tu_sink *s = (struct tu_sink *)b;
	(void)e;
	assert_true(s->in_record);
	assert_true(r->kind > 0 && r->kind < 16);
	s->pending[r->kind]++;
	if (r->kind == REC_EVENT)
		s->events_by_kind[r->u.event.kind]++;
	if (s->on_emit)
		s->on_emit(s, r);
	return 0;
}

static int s_end(struct sink *b, struct err *e)
{
	struct tu_sink *s = (struct tu_sink *)b;
	(void)e;
	assert_true(s->in_record);
	s->in_record = 0;
	s->loaded++;
	for (int k = 0; k < 16; k++)
		s->by_kind[k] += s->pending[k];
	return 0;
}

static int s_quarantine(struct sink *b, const struct err *why, struct err *e)
{
	struct tu_sink *s = (struct tu_sink *)b;
	(void)e;
	assert_true(s->in_record);
	s->in_record = 0;
	s->quarantined++;
	s->last_q = *why;
	return 0;
}

static int s_skip(struct sink *b, const char *reason, struct err *e)
{
	struct tu_sink *s = (struct tu_sink *)b;
	(void)e;
	assert_true(s->in_record);
	s->in_record = 0;
	s->skipped++;
	snprintf(s->last_skip, sizeof s->last_skip, "%s", reason);
	return 0;
}

static void s_note(struct sink *b, const char *what)
{
	(void)what;
	((struct tu_sink *)b)->notes++;
}

static void s_source_id(struct sink *b, struct span id)
{
	struct tu_sink *s = (struct tu_sink *)b;
	snprintf(s->last_source_id, sizeof s->last_source_id, "%.*s", (int)id.n, id.p ? id.p : "");
}

static const struct sink_ops tu_ops = { s_begin, s_emit, s_end, s_quarantine, s_skip, s_note, NULL, s_source_id };

void tu_sink_init(struct tu_sink *s)
{
	memset(s, 0, sizeof *s);
	s->base.ops = &tu_ops;
}

void tu_same_lines(const char *ctx, const char *how, const char *a, const char *b)
{
	for (size_t k = 1; *a || *b; k++) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
		if (na != nb || memcmp(a, b, na) != 0)
			fail_msg("%s: line %zu differs %s:\n  whole: %.*s\n  %s: %.*s", ctx, k, how, (int)na, a, how, (int)nb,
			         b);
		a += na + (a[na] != '\0');
		b += nb + (b[nb] != '\0');
	}
}
