/* copybin.c - COPY FROM STDIN (FORMAT binary): rows and fields. See db.h. */
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's epoch for dates and timestamps: 2000-01-01, in days since 1970-01-01. */
#define PG_EPOCH_DAY 10957

static inline char *room(struct buf *b, size_t n)
{
	buf_reserve(b, n);
	char *p = b->p + b->n;
	b->n += n;
	return p;
}

static inline void be16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
}

static inline void be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

void cb_be64(char *p, int64_t v)
{
	be32(p, (uint32_t)((uint64_t)v >> 32));
	be32(p + 4, (uint32_t)v);
}

void cb_row(struct buf *b, int nfields) { be16(room(b, 2), (uint16_t)nfields); }

void cb_null(struct buf *b) { be32(room(b, 4), 0xFFFFFFFFu); }

void cb_i16(struct buf *b, int16_t v)
{
	char *p = room(b, 6);
	be32(p, 2);
	be16(p + 4, (uint16_t)v);
}

void cb_i32(struct buf *b, int32_t v)
{
	char *p = room(b, 8);
	be32(p, 4);
	be32(p + 4, (uint32_t)v);
}

void cb_i64(struct buf *b, int64_t v)
{
	char *p = room(b, 12);
	be32(p, 8);
	cb_be64(p + 4, v);
}

void cb_bytes(struct buf *b, const void *v, size_t n)
{
	char *p = room(b, 4 + n);
	be32(p, (uint32_t)n);
	memcpy(p + 4, v, n);
}

void cb_date(struct buf *b, int32_t day) { cb_i32(b, day - PG_EPOCH_DAY); }

void cb_ts(struct buf *b, int32_t day, int32_t sec)
{
	cb_i64(b, ((int64_t)(day - PG_EPOCH_DAY) * 86400 + (sec > 0 ? sec : 0)) * 1000000);
}

/* The base-10000 group of the digit of power of ten e: e / 4 rounded down. */
static inline int group_of(int e) { return e >= 0 ? e / 4 : -((3 - e) / 4); }

/*
 * numeric: ndigits, weight, sign, dscale, then ndigits base-10000 digits
 * (weight: the power of 10000 of the first). D holds the decimal digits of
 * the value without leading zeros, point of them before the decimal point
 * (may be <= 0 or > nd); dscale is what PostgreSQL's numeric_in gives the
 * same number written out.
 */
static void numeric_digits(struct buf *b, int neg, const char *d, int nd, int point, int dscale)
{
	if (nd == 0) {
		char *p = room(b, 12);
		be32(p, 8);
		memset(p + 4, 0, 8);
		be16(p + 10, (uint16_t)dscale);
		return;
	}
	/* digit i has power of ten point - 1 - i; its group is that power floor-divided by 4 */
	int e_first = point - 1, e_last = point - nd;
	int g_first = group_of(e_first), g_last = group_of(e_last);
	int ng = g_first - g_last + 1;
	uint16_t grp[16] = { 0 };
	static const uint16_t pow10[4] = { 1, 10, 100, 1000 };
	for (int i = 0; i < nd; i++) {
		int e = point - 1 - i;
		int g = group_of(e);
		grp[g_first - g] = (uint16_t)(grp[g_first - g] + (d[i] - '0') * pow10[e - g * 4]);
	}
	char *p = room(b, 4 + 8 + 2 * (size_t)ng);
	be32(p, (uint32_t)(8 + 2 * ng));
	be16(p + 4, (uint16_t)ng);
	be16(p + 6, (uint16_t)(int16_t)g_first);
	be16(p + 8, neg ? 0x4000 : 0);
	be16(p + 10, (uint16_t)dscale);
	for (int i = 0; i < ng; i++)
		be16(p + 12 + 2 * i, grp[i]);
}

void cb_numeric(struct buf *b, double v)
{
	if (!isfinite(v)) {
		cb_null(b);
		return;
	}
	char d[40];
	int neg = v < 0, nd = 0;
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		/* as copy_num writes it: an integer */
		uint64_t u = (uint64_t)(neg ? -(int64_t)v : (int64_t)v);
		nd = u ? (int)dec_u64(d, u) : 0;
		numeric_digits(b, neg && nd, d, nd, nd, 0);
		return;
	}
	/*
	 * Most values have a few decimals (5.4, 98.6): v is the double nearest to
	 * m / 10^k for the smallest such k. Its distance from m / 10^k is under
	 * half a unit of the 15th significant digit, so %.15g writes m / 10^k
	 * too, with k decimals (m does not end in 0: a smaller k would do).
	 */
	static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	for (int k = 1; k < 7; k++) {
		double m = nearbyint(v * p10[k]);
		if (fabs(m) >= 1e15)
			break;
		if (m / p10[k] == v) {
			nd = (int)dec_u64(d, (uint64_t)fabs(m));
			numeric_digits(b, neg, d, nd, nd - k, k);
			return;
		}
	}
	/* as copy_num writes it: 15 significant digits, maybe with an exponent */
	char s[40];
	snprintf(s, sizeof s, "%.15g", v);
	const char *q = s + (*s == '-');
	int point = 0, dot = 0, lead = 1;
	for (; *q && *q != 'e'; q++) {
		if (*q == '.') {
			dot = 1;
			continue;
		}
		if (lead && *q == '0') { /* a leading zero after the '.' moves the point left of the digits kept */
			point -= dot;
			continue;
		}
		lead = 0;
		d[nd++] = *q;
		point += !dot;
	}
	/* point: where the '.' is among the digits kept; frac: digits written after it */
	int frac = nd - point;
	int ex = *q == 'e' ? atoi(q + 1) : 0;
	point += ex;
	int dscale = frac - ex > 0 ? frac - ex : 0;
	while (nd && d[nd - 1] == '0')
		nd--;
	numeric_digits(b, neg, d, nd, point, dscale);
}

static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

int db_copy_bin(PGconn *conn, const char *sql, const char *what, const struct buf *rows, struct err *e)
{
	static const char trailer[2] = { (char)0xFF, (char)0xFF };
	const struct span parts[] = { span_make(header, sizeof header), span_make(rows->p, rows->n),
	                              span_make(trailer, sizeof trailer) };
	return db_copy_data(conn, sql, what, parts, 3, e);
}
