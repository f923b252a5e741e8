/* date.c - date parsing, validation and formatting. See date.h. */
#include "core/date.h"
#include "core/err.h"

#include <string.h>

/* Days from civil date (proleptic Gregorian), after H. Hinnant's algorithm. */
int32_t date_from_ymd(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int32_t)doe - 719468;
}

void date_to_ymd(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int yy = (int)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yy + (*m <= 2);
}

int date_days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int date_valid(int y, int m, int d)
{
	return y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= date_days_in_month(y, m);
}

/* n digits at p, or -1 */
static int digits(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		unsigned c = (unsigned char)p[i] - '0';
		if (c > 9)
			return -1;
		v = v * 10 + (int)c;
	}
	return v;
}

/* Build the result from parts, applying a zone conversion when asked. */
static int make_dt(int y, int mo, int d, int h, int mi, int s, int prec,
                   int has_off, int off_min, int tz_target, struct dt *out)
{
	if (!date_valid(y, mo, d))
		return -E_DATE;
	if (h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
		return -E_DATE;
	if (s == 60)
		s = 59; /* leap second */
	out->day = date_from_ymd(y, mo, d);
	out->prec = (uint8_t)prec;
	out->sec = prec == DT_TIME ? h * 3600 + mi * 60 + s : -1;
	if (prec == DT_TIME && has_off && tz_target != DT_TZ_KEEP) {
		dt_set_seconds(out, dt_seconds(*out) - (int64_t)off_min * 60 + (int64_t)tz_target * 60);
	}
	return 0;
}

/* Parse "+HHMM", "-HH:MM", "Z" at p (len n). Returns bytes used or -1. */
static int parse_offset(const char *p, size_t n, int *minutes)
{
	if (n >= 1 && (p[0] == 'Z' || p[0] == 'z')) {
		*minutes = 0;
		return 1;
	}
	if (n < 3 || (p[0] != '+' && p[0] != '-'))
		return -1;
	int sign = p[0] == '-' ? -1 : 1;
	int hh = digits(p + 1, 2), mm = 0, used = 3;
	if (hh < 0)
		return -1;
	if (n >= 6 && p[3] == ':') {
		if ((mm = digits(p + 4, 2)) < 0)
			return -1;
		used = 6;
	} else if (n >= 5) {
		if ((mm = digits(p + 3, 2)) < 0)
			return -1;
		used = 5;
	}
	if (hh > 14 || mm > 59)
		return -1;
	*minutes = sign * (hh * 60 + mm);
	return used;
}

int tz_parse_offset(const char *s, int *minutes)
{
	size_t n = strlen(s);
	if (strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0) {
		*minutes = 0;
		return 0;
	}
	int k = parse_offset(s, n, minutes);
	return k > 0 && (size_t)k == n ? 0 : -1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DT_LITTLE_ENDIAN 1
#else
#define DT_LITTLE_ENDIAN 0
#endif

static inline uint64_t load8(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* little-endian: p[0] in the lowest byte */
	return v;
}

/* Eight bytes (p[0] lowest) less '0' each: their digits when all are ASCII
 * digits, which is when no byte, nor the byte plus 6, reaches 16 (with all
 * below 16 no byte carries into the next). */
static inline uint64_t digits8(uint64_t v, uint64_t *bad)
{
	const uint64_t x = v ^ 0x3030303030303030ull;
	*bad |= (x | (x + 0x0606060606060606ull)) & 0xF0F0F0F0F0F0F0F0ull;
	return x;
}

/* Eight digits as pairs: 16-bit lane j = 10 * p[2j] + p[2j+1] (lane 0 lowest). */
static inline uint64_t pairs8(uint64_t x)
{
	return (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFull;
}

/* Of a: lanes Y1 Y2 MO DD as pairs8 gives them, whether a bound is
 * crossed: Y1 >= 10 (the year from 1000), MO and DD from 1 (lanes whose
 * high bit must then be set), MO <= 12, DD <= 31 (whose high bit must then
 * be clear); then the days in the month. */
static inline int bad_date(uint64_t a, unsigned y, unsigned mo, unsigned d)
{
	return ((~(a + 0x007F007F00000076ull) & 0x0080008000000080ull) | ((a + 0x0060007300000000ull) & 0x0080008000000000ull)) ||
	       (d > 28 && (int)d > date_days_in_month((int)y, (int)mo));
}

/* The year, month and day of a: lanes Y1 Y2 MO DD as pairs8 gives them. */
static inline void ymd_of(uint64_t a, unsigned *y, unsigned *mo, unsigned *d)
{
	*y = (unsigned)(a & 0xFF) * 100 + (unsigned)(a >> 16 & 0xFF);
	*mo = (unsigned)(a >> 32 & 0xFF);
	*d = (unsigned)(a >> 48);
}

/* date_from_ymd of a valid date: the days since 0000-03-01 of the year's
 * March 1 (its leap days before it), then a table for the month's */
static inline int32_t day_of(unsigned y, unsigned mo, unsigned d)
{
	static const uint16_t from_march[13] = { 0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275 };
	unsigned yy = y - (mo <= 2), c = yy / 100;
	return (int32_t)(yy * 365 + yy / 4 - c + c / 4 + from_march[mo] + d - 1) - 719468;
}

static int hl7_general(const char *p, size_t n, int tz_target, struct dt *out);

/*
 * dt_parse_hl7 of the common shapes first: YYYYMMDD, and YYYYMMDDHHMM or
 * YYYYMMDDHHMMSS (fn bytes) followed by +/-ZZZZ or not, all digits (others,
 * such as YYYYMMDD+ZZZZ or a fraction, go to hl7_general). Eight
 * bytes are read as one word: the digits checked together, then turned into
 * pairs (two digits each) whose bounds are checked together (a bound crossed
 * sets a lane's high bit). The same checks and results as hl7_general.
 */
int dt_parse_hl7(struct span s, int tz_target, struct dt *out)
{
	const char *p = s.p;
	size_t n = s.n;
	if (DT_LITTLE_ENDIAN && n == 8) {
		uint64_t bad = 0, a = pairs8(digits8(load8(p), &bad));
		if (bad)
			return hl7_general(p, n, tz_target, out);
		unsigned y, mo, d;
		ymd_of(a, &y, &mo, &d);
		if (bad_date(a, y, mo, d)) {
			*out = DT_EMPTY;
			return -E_DATE;
		}
		*out = (struct dt){ day_of(y, mo, d), -1, DT_DAY };
		return 0;
	}
	size_t fn = n >= 13 && (p[n - 5] == '+' || p[n - 5] == '-') ? n - 5 : n;
	if (!DT_LITTLE_ENDIAN || (fn != 12 && fn != 14))
		return hl7_general(p, n, tz_target, out);
	/* a: Y1 Y2 MO DD; b: DD HH MI SS (fn 14: bytes 6-13; fn 12: bytes
	 * 4-11, MO DD HH MI, moved down a lane); z: ZH ZM ("0000" when none) */
	uint64_t va = load8(p), vb = load8(p + fn - 8), vz = 0x3030303030303030ull;
	if (fn < n) {
		uint32_t z;
		memcpy(&z, p + n - 4, 4);
		vz = 0x3030303000000000ull | z; /* the zone's bytes as they are, to be checked */
	}
	uint64_t bad = 0, a = pairs8(digits8(va, &bad)), b = pairs8(digits8(vb, &bad)), z = pairs8(digits8(vz, &bad));
	if (bad)
		return hl7_general(p, n, tz_target, out);
	b = fn == 14 ? b : b >> 16;
	unsigned y, mo, d, ss = (unsigned)(b >> 48);
	ymd_of(a, &y, &mo, &d);
	/* HH <= 23, MI <= 59, SS <= 60 (60: a leap second), ZH <= 14, ZM <= 59 */
	if (((b + 0x0043004400680000ull) & 0x0080008000800000ull) | ((z + 0x00440071u) & 0x00800080u) ||
	    bad_date(a, y, mo, d)) {
		*out = DT_EMPTY;
		return -E_DATE;
	}
	struct dt r = { day_of(y, mo, d),
		        (int32_t)((unsigned)(b >> 16 & 0xFF) * 3600 + (unsigned)(b >> 32 & 0xFF) * 60 + ss - (ss == 60)),
		        DT_TIME };
	if (fn < n && tz_target != DT_TZ_KEEP) {
		int off = (int)(z & 0xFF) * 60 + (int)(z >> 16 & 0xFF);
		int64_t t = r.sec + ((int64_t)tz_target - (p[fn] == '-' ? -off : off)) * 60;
		if ((uint64_t)t < 86400) /* the same day, most often */
			r.sec = (int32_t)t;
		else
			dt_set_seconds(&r, (int64_t)r.day * 86400 + t);
	}
	*out = r;
	return 0;
}

/* dt_parse_hl7 of any shape, step by step */
__attribute__((noinline)) static int hl7_general(const char *p, size_t n, int tz_target, struct dt *out)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, prec, off = 0, has_off = 0;

	*out = DT_EMPTY;
	/* the zone offset, if any, sits at the end */
	for (size_t i = 4; i < n; i++) {
		if (p[i] == '+' || p[i] == '-') {
			/* HL7: exactly +ZZZZ */
			int k = parse_offset(p + i, n - i, &off);
			if (k != 5 || (size_t)k != n - i)
				return -E_DATE;
			has_off = 1;
			n = i;
			break;
		}
	}
	/* digits, optionally a fraction after SS */
	size_t nd = n;
	const char *dot = memchr(p, '.', n);
	if (dot) {
		nd = (size_t)(dot - p);
		if (nd != 14 || n - nd < 2 || n - nd > 5)
			return -E_DATE;
		for (size_t i = nd + 1; i < n; i++)
			if (p[i] < '0' || p[i] > '9')
				return -E_DATE;
	}
	switch (nd) {
	case 4: prec = DT_YEAR; break;
	case 6: prec = DT_MONTH; break;
	case 8: prec = DT_DAY; break;
	case 10: case 12: case 14: prec = DT_TIME; break;
	default: return -E_DATE;
	}
	if ((y = digits(p, 4)) < 0)
		return -E_DATE;
	if (nd >= 6 && (mo = digits(p + 4, 2)) < 0)
		return -E_DATE;
	if (nd >= 8 && (d = digits(p + 6, 2)) < 0)
		return -E_DATE;
	if (nd >= 10 && (h = digits(p + 8, 2)) < 0)
		return -E_DATE;
	if (nd >= 12 && (mi = digits(p + 10, 2)) < 0)
		return -E_DATE;
	if (nd >= 14 && (sec = digits(p + 12, 2)) < 0)
		return -E_DATE;
	return make_dt(y, mo, d, h, mi, sec, prec, has_off, off, tz_target, out);
}

/* Parse the time part "HH:MM[:SS[.f+]][zone]" at p. */
static int parse_time(const char *p, size_t n, int *h, int *mi, int *sec, int *has_off, int *off)
{
	size_t i = 0;
	if (n < 5 || p[2] != ':' || (*h = digits(p, 2)) < 0 || (*mi = digits(p + 3, 2)) < 0)
		return -1;
	i = 5;
	if (i < n && p[i] == ':') {
		if (n < 8 || (*sec = digits(p + 6, 2)) < 0)
			return -1;
		i = 8;
		if (i < n && p[i] == '.') {
			i++;
			size_t f = i;
			while (i < n && p[i] >= '0' && p[i] <= '9')
				i++;
			if (i == f)
				return -1;
		}
	}
	if (i < n) {
		int k = parse_offset(p + i, n - i, off);
		if (k < 0 || i + (size_t)k != n)
			return -1;
		*has_off = 1;
	}
	return 0;
}

int dt_parse_iso(struct span s, int tz_target, struct dt *out)
{
	const char *p = s.p;
	size_t n = s.n;
	int y, mo, d, h = 0, mi = 0, sec = 0, has_off = 0, off = 0;

	*out = DT_EMPTY;
	if (n == 8 && digits(p, 8) >= 0)
		return dt_parse_hl7(s, tz_target, out);
	if (n < 4 || (y = digits(p, 4)) < 0)
		return -E_DATE;
	if (n == 4)
		return make_dt(y, 1, 1, 0, 0, 0, DT_YEAR, 0, 0, tz_target, out);
	if (n < 7 || p[4] != '-' || (mo = digits(p + 5, 2)) < 0)
		return -E_DATE;
	if (n == 7)
		return make_dt(y, mo, 1, 0, 0, 0, DT_MONTH, 0, 0, tz_target, out);
	if (n < 10 || p[7] != '-' || (d = digits(p + 8, 2)) < 0)
		return -E_DATE;
	if (n == 10)
		return make_dt(y, mo, d, 0, 0, 0, DT_DAY, 0, 0, tz_target, out);
	if (p[10] != 'T' && p[10] != ' ')
		return -E_DATE;
	if (parse_time(p + 11, n - 11, &h, &mi, &sec, &has_off, &off) < 0)
		return -E_DATE;
	return make_dt(y, mo, d, h, mi, sec, DT_TIME, has_off, off, tz_target, out);
}

/* 1 or 2 digits (or exactly w when strict) */
static int num_field(const char *p, size_t n, size_t *i, int w, int flexible, int *v)
{
	size_t k = 0;
	int val = 0;
	while (*i + k < n && k < (size_t)w && p[*i + k] >= '0' && p[*i + k] <= '9') {
		val = val * 10 + (p[*i + k] - '0');
		k++;
	}
	if (k == 0 || (!flexible && k != (size_t)w))
		return -1;
	*i += k;
	*v = val;
	return 0;
}

int dt_parse_fmt(struct span s, const char *fmt, int tz_target, struct dt *out)
{
	const char *p = s.p;
	size_t n = s.n, i = 0;
	int y = -1, mo = 1, d = 1, h = 0, mi = 0, sec = 0, has_off = 0, off = 0;
	int prec = DT_NONE;

	*out = DT_EMPTY;
	if (!fmt || strcmp(fmt, "iso") == 0)
		return dt_parse_iso(s, tz_target, out);
	if (strcmp(fmt, "hl7") == 0)
		return dt_parse_hl7(s, tz_target, out);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			if (i >= n || p[i] != *f)
				return -E_DATE;
			i++;
			continue;
		}
		switch (*++f) {
		case 'Y':
			if (num_field(p, n, &i, 4, 0, &y) < 0)
				return -E_DATE;
			prec = prec < DT_YEAR ? DT_YEAR : prec;
			break;
		case 'm':
			if (num_field(p, n, &i, 2, 1, &mo) < 0)
				return -E_DATE;
			prec = prec < DT_MONTH ? DT_MONTH : prec;
			break;
		case 'd':
			if (num_field(p, n, &i, 2, 1, &d) < 0)
				return -E_DATE;
			prec = prec < DT_DAY ? DT_DAY : prec;
			break;
		case 'H':
			if (num_field(p, n, &i, 2, 1, &h) < 0)
				return -E_DATE;
			prec = DT_TIME;
			break;
		case 'M':
			if (num_field(p, n, &i, 2, 0, &mi) < 0)
				return -E_DATE;
			break;
		case 'S':
			if (num_field(p, n, &i, 2, 0, &sec) < 0)
				return -E_DATE;
			break;
		case 'f':
			while (i < n && p[i] >= '0' && p[i] <= '9')
				i++;
			break;
		case 'z': {
			int k = parse_offset(p + i, n - i, &off);
			if (k < 0)
				return -E_DATE;
			has_off = 1;
			i += (size_t)k;
			break;
		}
		case 'T':
			if (i < n) {
				if (p[i] != 'T' && p[i] != ' ')
					return -E_DATE;
				if (parse_time(p + i + 1, n - i - 1, &h, &mi, &sec, &has_off, &off) < 0)
					return -E_DATE;
				prec = DT_TIME;
				i = n;
			}
			break;
		default:
			return -E_DATE;
		}
	}
	if (i != n || y < 0)
		return -E_DATE;
	return make_dt(y, mo, d, h, mi, sec, prec, has_off, off, tz_target, out);
}

static void put2(char *o, int v) { o[0] = (char)('0' + v / 10); o[1] = (char)('0' + v % 10); }

void dt_fmt_date(int32_t day, char out[10])
{
	int y, m, d;
	date_to_ymd(day, &y, &m, &d);
	put2(out, y / 100);
	put2(out + 2, y % 100);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
}

void dt_fmt_ts(struct dt v, char out[19])
{
	int s = v.sec > 0 ? v.sec : 0;
	dt_fmt_date(v.day, out);
	out[10] = ' ';
	put2(out + 11, s / 3600);
	out[13] = ':';
	put2(out + 14, s / 60 % 60);
	out[16] = ':';
	put2(out + 17, s % 60);
}
