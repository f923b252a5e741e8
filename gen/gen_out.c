/*
 * gen_out.c - the generator's output streams and random numbers.
 *
 *   writer --go_*--> buffer (one or more whole records) --at a record end,
 *   past 1 MiB--> write(2), or ZSTD_compressStream2 --> write(2)
 *
 * A record is built in the buffer first so that a writer can break it after
 * the fact (truncate a message, cut a document); the buffer is flushed only
 * between records. Numbers and dates are formatted by hand: printf is slower
 * than the rest of the generator together.
 */
#include "gen/gen_int.h"
#include "core/mem.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define GO_FLUSH (1u << 20)

/* ---- random numbers ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = a ^ (b * 0xd1342543de82ef95ull) ^ (c * 0x9e3779b97f4a7c15ull) ^ 0x5851f42d4c957f2dull;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double rng_normal(struct rng *r, double mean, double sd)
{
	double u = rng_unit(r), v = rng_unit(r);
	if (u < 1e-12)
		u = 1e-12;
	return mean + sd * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- formatting ---- */

void go_reserve(struct gen_out *o, size_t extra)
{
	size_t need = mem_add(o->n, extra);
	if (need <= o->cap)
		return;
	size_t cap = o->cap ? o->cap : GO_FLUSH + 65536;
	while (cap < need)
		cap = mem_mul(cap, 2);
	o->buf = xrealloc(o->buf, cap);
	o->cap = cap;
}

void go_str(struct gen_out *o, const char *s)
{
	go_mem(o, s, strlen(s));
}

void go_u64(struct gen_out *o, uint64_t v)
{
	char t[24];
	int i = 24;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	go_mem(o, t + i, (size_t)(24 - i));
}

void go_pad(struct gen_out *o, uint32_t v, int digits)
{
	char t[12];
	for (int i = digits - 1; i >= 0; i--) {
		t[i] = (char)('0' + v % 10);
		v /= 10;
	}
	go_mem(o, t, (size_t)digits);
}

void go_fixed(struct gen_out *o, double v, int decimals)
{
	static const double pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	if (v < 0) {
		go_chr(o, '-');
		v = -v;
	}
	uint64_t scaled = (uint64_t)llround(v * pow10[decimals]);
	uint64_t ip = scaled / (uint64_t)pow10[decimals];
	go_u64(o, ip);
	if (decimals > 0) {
		go_chr(o, '.');
		go_pad(o, (uint32_t)(scaled % (uint64_t)pow10[decimals]), decimals);
	}
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void ymd(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int32_t era = (z >= 0 ? z : z - 146096) / 146097;
	uint32_t doe = (uint32_t)(z - era * 146097);
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int32_t yy = (int32_t)yoe + era * 400;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

void go_date(struct gen_out *o, int32_t day, char sep)
{
	int y, m, d;
	ymd(day, &y, &m, &d);
	go_pad(o, (uint32_t)y, 4);
	if (sep)
		go_chr(o, sep);
	go_pad(o, (uint32_t)m, 2);
	if (sep)
		go_chr(o, sep);
	go_pad(o, (uint32_t)d, 2);
}

void go_xml(struct gen_out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': go_str(o, "&amp;"); break;
		case '<': go_str(o, "&lt;"); break;
		case '>': go_str(o, "&gt;"); break;
		case '"': go_str(o, "&quot;"); break;
		default: go_chr(o, *s);
		}
	}
}

void go_csv(struct gen_out *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		go_str(o, s);
		return;
	}
	go_chr(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			go_chr(o, '"');
		go_chr(o, *s);
	}
	go_chr(o, '"');
}

/* ---- files ---- */

static int write_all(struct gen_out *o, const void *p, size_t n, struct err *e)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(o->fd, c, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			o->failed = 1;
			return err_set(e, E_IO, "%s: %s", o->path, strerror(errno));
		}
		c += k;
		n -= (size_t)k;
		o->file->bytes_disk += (uint64_t)k;
	}
	return 0;
}

/* Hand buf[0, upto) to the file (compressing if asked); end: finish the frame. */
static int flush(struct gen_out *o, size_t upto, int end, struct err *e)
{
	int rc;
	o->file->bytes_raw += upto;
	if (!o->z) {
		if ((rc = write_all(o, o->buf, upto, e)) < 0)
			return rc;
	} else {
		ZSTD_inBuffer in = { o->buf, upto, 0 };
		for (;;) {
			ZSTD_outBuffer out = { o->zbuf, o->zcap, 0 };
			size_t left = ZSTD_compressStream2(o->z, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left))
				return err_set(e, E_IO, "%s: zstd: %s", o->path, ZSTD_getErrorName(left));
			if (out.pos && (rc = write_all(o, o->zbuf, out.pos, e)) < 0)
				return rc;
			if (end ? left == 0 : in.pos == in.size)
				break;
		}
	}
	memmove(o->buf, o->buf + upto, o->n - upto);
	o->n -= upto;
	o->rec -= upto < o->rec ? upto : o->rec;
	return 0;
}

int go_rec_end(struct gen_out *o, int kind, int broken, struct err *e)
{
	struct gen_file *f = o->file;
	f->records++;
	if (kind >= 0 && kind < GEN_MAX_KINDS)
		f->kinds[kind]++;
	if (broken >= 0) {
		f->broken++;
		f->err[broken]++;
	}
	o->rec = o->n;
	if (o->n >= GO_FLUSH)
		return flush(o, o->n, 0, e);
	return 0;
}

int go_finish(struct gen_out *o, struct err *e)
{
	int rc = 0;
	if (o->fd < 0)
		return 0;
	if (!o->failed)
		rc = flush(o, o->n, 1, e);
	if (close(o->fd) != 0 && rc == 0)
		rc = err_set(e, E_IO, "%s: %s", o->path, strerror(errno));
	o->fd = -1;
	o->n = o->rec = 0;
	if (o->z)
		ZSTD_CCtx_reset(o->z, ZSTD_reset_session_only);
	return rc;
}

int go_close(struct gen_out *o, struct err *e)
{
	int rc = go_finish(o, e);
	if (o->z)
		ZSTD_freeCCtx(o->z);
	o->z = NULL;
	free(o->buf);
	free(o->zbuf);
	o->buf = o->zbuf = NULL;
	o->n = o->cap = o->zcap = o->rec = 0;
	return rc;
}
