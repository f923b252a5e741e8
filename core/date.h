/*
 * date.h - dates and times as feeds write them, validated.
 *
 * A struct dt is a local wall-clock date and optional time of day: the form the
 * OMOP CDM stores (*_date, *_datetime). Values that carry a UTC offset are
 * converted to the site's offset when one is configured (tz_target), else the
 * wall time is kept as written. Partial dates (year, year-month) are kept with
 * their precision; day is then the first day of the period.
 *
 * Parsers return 0, or -E_DATE for anything malformed or impossible (20230230,
 * 2023021, month 13, hour 25). They never read past the span.
 */
#ifndef OMO_DATE_H
#define OMO_DATE_H

#include <stdint.h>
#include "core/span.h"

enum dt_prec { DT_NONE = 0, DT_YEAR, DT_MONTH, DT_DAY, DT_TIME };

struct dt {
	int32_t day;     /* days since 1970-01-01 */
	int32_t sec;     /* seconds into the day, or -1 when there is no time */
	uint8_t prec;    /* enum dt_prec; DT_NONE: no value at all */
};

#define DT_EMPTY ((struct dt){ 0, -1, DT_NONE })
#define DT_TZ_KEEP (-100000) /* tz_target: keep wall time, ignore offsets */

int32_t date_from_ymd(int y, int m, int d);
void date_to_ymd(int32_t day, int *y, int *m, int *d);
int date_valid(int y, int m, int d);
int date_days_in_month(int y, int m);

/* HL7 v2 DTM/TS: YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]. */
int dt_parse_hl7(struct span s, int tz_target, struct dt *out);
/* ISO 8601 / SQL: YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|+-HH[:]MM], also YYYYMMDD. */
int dt_parse_iso(struct span s, int tz_target, struct dt *out);
/*
 * By a pattern: %Y %m %d %H %M %S, %f (fraction, ignored), %z (offset Z,
 * +HH:MM, +HHMM), %T (an optional time part: [T| ]HH:MM[:SS[.f]][zone]),
 * anything else literal. "iso" and "hl7" select the parsers above.
 * Single-digit month/day/hour are accepted (1/5/2023).
 */
int dt_parse_fmt(struct span s, const char *fmt, int tz_target, struct dt *out);
/* Parse a zone offset "+05:30", "-0500", "Z", "UTC" into minutes. 0 or -1. */
int tz_parse_offset(const char *s, int *minutes);

/* "YYYY-MM-DD" (10 bytes, no NUL). */
void dt_fmt_date(int32_t day, char out[10]);
/* "YYYY-MM-DD HH:MM:SS" (19 bytes, no NUL); 00:00:00 when there is no time. */
void dt_fmt_ts(struct dt d, char out[19]);
/* Whole seconds since 1970-01-01 00:00 (wall time); for ordering and spans. */
static inline int64_t dt_seconds(struct dt d) { return (int64_t)d.day * 86400 + (d.sec > 0 ? d.sec : 0); }
/* Its inverse: d's day and second from t (whole seconds since 1970-01-01
 * 00:00, wall time), the day rounded down; d's precision is left as it is. */
static inline void dt_set_seconds(struct dt *d, int64_t t)
{
	int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	d->day = (int32_t)day;
	d->sec = (int32_t)(t - day * 86400);
}

#endif
