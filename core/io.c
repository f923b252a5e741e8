/* io.c - plain and zstd input, bounded window. See io.h. */
#include "core/io.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_MAGIC "\x28\xB5\x2F\xFD"

static void rd_init(struct rd *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->max_read = (size_t)-1;
}

static ssize_t raw_read(struct rd *r, void *buf, size_t cap, struct err *e)
{
	if (r->fd < 0) {
		size_t k = r->mem_n - r->mem_off < cap ? r->mem_n - r->mem_off : cap;
		memcpy(buf, r->mem + r->mem_off, k);
		r->mem_off += k;
		r->bytes_in += k;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t k = read(r->fd, buf, cap);
		if (k >= 0) {
			r->bytes_in += (uint64_t)k;
			return k;
		}
		if (errno != EINTR)
			return err_set(e, E_IO, "cannot read %s: %s", r->path, strerror(errno));
	}
}

/* Look at the first bytes; switch to zstd if they are a zstd frame. */
static int sniff(struct rd *r, struct err *e)
{
	r->zin_cap = ZSTD_DStreamInSize();
	r->zin = xmalloc(r->zin_cap);
	ssize_t k = 0;
	while (r->zin_len < 4) {
		k = raw_read(r, r->zin + r->zin_len, r->zin_cap - r->zin_len, e);
		if (k < 0)
			return (int)k;
		if (k == 0)
			break;
		r->zin_len += (size_t)k;
	}
	if (r->zin_len >= 4 && memcmp(r->zin, ZSTD_MAGIC, 4) == 0) {
		r->zctx = ZSTD_createDCtx();
		if (!r->zctx)
			return err_set(e, E_NOMEM, "cannot create a zstd context");
	}
	r->zeof = k == 0 && r->zin_len < 4;
	return 0;
}

int rd_open(struct rd *r, const char *path, struct err *e)
{
	struct stat st;
	rd_init(r);
	r->path = path;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return err_set(e, errno == ENOENT ? E_INPUT : E_IO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(r->fd);
		r->fd = -1;
		return err_set(e, E_INPUT, "%s is a directory, not a file", path);
	}
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return sniff(r, e);
}

int rd_open_mem(struct rd *r, const void *p, size_t n, struct err *e)
{
	rd_init(r);
	r->path = "<memory>";
	r->mem = p;
	r->mem_n = n;
	return sniff(r, e);
}

ssize_t rd_read(struct rd *r, void *buf, size_t cap, struct err *e)
{
	if (cap > r->max_read)
		cap = r->max_read;
	if (cap == 0)
		return 0;
	if (!r->zctx) {
		/* plain: first hand out what sniff() buffered */
		if (r->zin_pos < r->zin_len) {
			size_t k = r->zin_len - r->zin_pos < cap ? r->zin_len - r->zin_pos : cap;
			memcpy(buf, r->zin + r->zin_pos, k);
			r->zin_pos += k;
			r->bytes_out += k;
			return (ssize_t)k;
		}
		ssize_t k = raw_read(r, buf, cap, e);
		if (k > 0)
			r->bytes_out += (uint64_t)k;
		return k;
	}
	ZSTD_outBuffer out = { buf, cap, 0 };
	while (out.pos == 0) {
		if (r->zin_pos == r->zin_len) {
			if (r->zeof) {
				if (!r->zframe_done)
					return err_set(e, E_IO, "%s: truncated zstd stream", r->path);
				return 0;
			}
			ssize_t k = raw_read(r, r->zin, r->zin_cap, e);
			if (k < 0)
				return k;
			r->zin_pos = 0;
			r->zin_len = (size_t)k;
			if (k == 0) {
				r->zeof = 1;
				continue;
			}
		}
		ZSTD_inBuffer in = { r->zin, r->zin_len, r->zin_pos };
		size_t rc = ZSTD_decompressStream(r->zctx, &out, &in);
		if (ZSTD_isError(rc))
			return err_set(e, E_IO, "%s: corrupt zstd data: %s", r->path, ZSTD_getErrorName(rc));
		r->zin_pos = in.pos;
		r->zframe_done = rc == 0;
	}
	r->bytes_out += out.pos;
	return (ssize_t)out.pos;
}

void rd_close(struct rd *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->zctx)
		ZSTD_freeDCtx(r->zctx);
	free(r->zin);
	rd_init(r);
}

int io_hash_file(const char *path, struct hash128 *out, uint64_t *size, struct err *e)
{
	struct hash_stream hs;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? E_INPUT : E_IO, "cannot open %s: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	size_t cap = 1 << 20;
	unsigned char *b = xmalloc(cap);
	uint64_t total = 0;
	hash_stream_init(&hs);
	for (;;) {
		ssize_t k = read(fd, b, cap);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int rc = err_set(e, E_IO, "cannot read %s: %s", path, strerror(errno));
			free(b);
			close(fd);
			return rc;
		}
		if (k == 0)
			break;
		hash_stream_add(&hs, b, (size_t)k);
		total += (uint64_t)k;
	}
	free(b);
	close(fd);
	*out = hash_stream_end(&hs);
	if (size)
		*size = total;
	return 0;
}

int io_is_zst_name(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcmp(path + n - 4, ".zst") == 0;
}

void io_base_name(const char *path, char *buf, size_t n)
{
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	size_t k = strlen(s);
	if (k > 4 && strcmp(s + k - 4, ".zst") == 0)
		k -= 4;
	if (n == 0)
		return;
	if (k >= n)
		k = n - 1;
	memcpy(buf, s, k);
	buf[k] = '\0';
}

static void win_init(struct win *w, size_t max_record)
{
	w->max = max_record ? max_record : 64u << 20;
	w->chunk = 1u << 20;
	w->cap = 0;
	w->buf = NULL;
	w->beg = w->end = 0;
	w->eof = 0;
	w->base = 0;
}

int win_open(struct win *w, const char *path, size_t max_record, struct err *e)
{
	win_init(w, max_record);
	return rd_open(&w->rd, path, e);
}

int win_open_mem(struct win *w, const void *p, size_t n, size_t max_record, struct err *e)
{
	win_init(w, max_record);
	return rd_open_mem(&w->rd, p, n, e);
}

int win_more(struct win *w, struct err *e)
{
	if (w->eof)
		return 0;
	size_t live = w->end - w->beg;
	if (live >= w->max)
		return err_set(e, E_TOO_LARGE, "record larger than %zu bytes", w->max);
	if (w->beg > 0) {
		memmove(w->buf, w->buf + w->beg, live);
		w->base += w->beg;
		w->beg = 0;
		w->end = live;
	}
	size_t want = w->chunk;
	if (live + want > w->max + w->chunk)
		want = w->max + w->chunk - live;
	if (w->cap < live + want + 1) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		while (cap < live + want + 1)
			cap = mem_mul(cap, 2);
		w->buf = xrealloc(w->buf, cap);
		w->cap = cap;
	}
	ssize_t k = rd_read(&w->rd, w->buf + w->end, w->cap - w->end - 1, e);
	if (k < 0)
		return (int)k;
	if (k == 0) {
		w->eof = 1;
		w->buf[w->end] = '\0';
		return 0;
	}
	w->end += (size_t)k;
	w->buf[w->end] = '\0'; /* a sentinel, never part of the data */
	return 1;
}

void win_skip_bom(struct win *w)
{
	while (w->end - w->beg < 3 && !w->eof)
		if (win_more(w, NULL) < 0)
			return;
	if (w->end - w->beg >= 3 && memcmp(w->buf + w->beg, "\xEF\xBB\xBF", 3) == 0)
		w->beg += 3;
}

void win_close(struct win *w)
{
	rd_close(&w->rd);
	free(w->buf);
	w->buf = NULL;
	w->cap = w->beg = w->end = 0;
}
