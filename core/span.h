/*
 * span.h - a view of bytes owned by someone else.
 *
 * Parsers hand out spans into the caller's buffer instead of copying; a span is
 * valid as long as that buffer is (for extractors: until the record ends).
 */
#ifndef OMO_SPAN_H
#define OMO_SPAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
	const char *p;
	size_t n;
};

#define SPAN_NULL ((struct span){ NULL, 0 })
#define SPAN_LIT(s) ((struct span){ (s), sizeof(s) - 1 })

static inline struct span span_of(const char *s)
{
	struct span r = { s, s ? strlen(s) : 0 };
	return r;
}

static inline struct span span_make(const char *p, size_t n)
{
	struct span r = { p, n };
	return r;
}

static inline int span_empty(struct span s) { return s.n == 0; }

static inline int span_eq(struct span a, struct span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline int span_eq_str(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

/* ASCII case-insensitive equality. */
int span_ieq_str(struct span a, const char *s);
int span_ieq(struct span a, struct span b);
/* Strip ASCII white space at both ends (inline: on every mapped code's path). */
static inline int span_is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline struct span span_trim(struct span s)
{
	/* most values have nothing to trim: both ends above the space */
	if (s.n && (unsigned char)s.p[0] > ' ' && (unsigned char)s.p[s.n - 1] > ' ')
		return s;
	while (s.n && span_is_space((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && span_is_space((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}
/* Parse a whole span as a decimal integer / number; 0 on success, -1 if not. */
int span_to_i64(struct span s, int64_t *out);
int span_to_double(struct span s, double *out);
/* Split at the first c: head is before c, returns the rest after c (or empty). */
struct span span_cut(struct span s, char c, struct span *head);
/* 1 if s is valid UTF-8. */
int span_utf8_valid(struct span s);
/* The length of the longest prefix of s that is valid UTF-8. */
size_t span_utf8_prefix(struct span s);
/* Copy into a NUL-terminated buffer of size n (truncating). */
void span_copy(struct span s, char *buf, size_t n);

#endif
