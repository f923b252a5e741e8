/* span.c - helpers over byte spans. See span.h. */
#include "core/span.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int span_ieq(struct span a, struct span b)
{
	if (a.n != b.n)
		return 0;
	for (size_t i = 0; i < a.n; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return 0;
	return 1;
}

int span_ieq_str(struct span a, const char *s)
{
	return span_ieq(a, span_of(s));
}

int span_to_i64(struct span s, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0;

	s = span_trim(s);
	if (s.n == 0)
		return -1;
	if (s.p[0] == '-' || s.p[0] == '+') {
		neg = s.p[0] == '-';
		i = 1;
	}
	if (i == s.n)
		return -1;
	for (; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int span_to_double(struct span s, double *out)
{
	char buf[64], *end;

	s = span_trim(s);
	if (s.n == 0 || s.n >= sizeof buf)
		return -1;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		/* digits, sign, point and exponent only: no "inf", "nan", hex */
		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
			return -1;
	}
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	errno = 0;
	double v = strtod(buf, &end);
	if (end != buf + s.n || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

struct span span_cut(struct span s, char c, struct span *head)
{
	const char *q = s.n ? memchr(s.p, c, s.n) : NULL;
	if (!q) {
		*head = s;
		return span_make(s.p ? s.p + s.n : NULL, 0);
	}
	*head = span_make(s.p, (size_t)(q - s.p));
	return span_make(q + 1, s.n - (size_t)(q - s.p) - 1);
}

size_t span_utf8_prefix(struct span s)
{
	const unsigned char *p = (const unsigned char *)s.p, *e = p + s.n;

	while (p < e) {
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
		else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
		else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
		else break;
		if ((size_t)(e - p) < len)
			break;
		size_t i = 1;
		for (; i < len && (p[i] & 0xC0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3F);
		if (i < len || (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			break;
		p += len;
	}
	return (size_t)(p - (const unsigned char *)s.p);
}

int span_utf8_valid(struct span s)
{
	return span_utf8_prefix(s) == s.n;
}

void span_copy(struct span s, char *buf, size_t n)
{
	if (n == 0)
		return;
	size_t k = s.n < n - 1 ? s.n : n - 1;
	if (k)
		memcpy(buf, s.p, k);
	buf[k] = '\0';
}
