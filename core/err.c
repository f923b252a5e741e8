/* err.c - the one error type: codes, reasons, formatting. See err.h. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return -code;
}

void err_pos_file(struct err_pos *p, const char *path)
{
	snprintf(p->file, sizeof p->file, "%s", path ? path : "");
}

void err_clear(struct err *e)
{
	memset(e, 0, sizeof *e);
}

int err_is_soft(int code)
{
	return code >= E_SOFT_FIRST && code < E_SOFT_LAST;
}

const char *err_reason(int code)
{
	switch (code) {
	case E_OK: return "ok";
	case E_USAGE: return "usage";
	case E_CONFIG: return "config";
	case E_DB: return "database";
	case E_IO: return "io";
	case E_NOMEM: return "out_of_memory";
	case E_INTERNAL: return "internal";
	case E_LOCKED: return "locked";
	case E_INPUT: return "input";
	case E_ACCOUNTING: return "accounting";
	case E_PARSE: return "parse";
	case E_ENCODING: return "bad_encoding";
	case E_COLUMNS: return "column_count";
	case E_DATE: return "bad_date";
	case E_NO_PATIENT: return "no_patient";
	case E_CODE: return "bad_code";
	case E_TOO_LARGE: return "too_large";
	case E_MISSING: return "missing";
	case E_VALUE: return "bad_value";
	case E_REFERENCE: return "bad_reference";
	default: return "unknown";
	}
}

void err_format(const struct err *e, char *buf, size_t n)
{
	const struct err_pos *p = &e->pos;
	size_t k = 0;
	int w;

#define PUT(...) do { \
		w = snprintf(buf + k, k < n ? n - k : 0, __VA_ARGS__); \
		if (w > 0) k += (size_t)w; \
	} while (0)

	if (n == 0)
		return;
	buf[0] = '\0';
	if (p->file[0]) {
		PUT("%s", p->file);
		if (p->line)
			PUT(":%llu", (unsigned long long)p->line);
		PUT(": ");
	}
	if (p->record)
		PUT("record %llu: ", (unsigned long long)p->record);
	if (p->where[0])
		PUT("%s: ", p->where);
	PUT("%s", e->msg);
#undef PUT
}

int err_exit_code(int code)
{
	switch (code) {
	case E_OK: return EXIT_OK;
	case E_USAGE: return EXIT_USAGE;
	case E_CONFIG: return EXIT_CONFIG;
	case E_DB: return EXIT_DB;
	case E_LOCKED: return EXIT_DATA;
	case E_INPUT: return EXIT_DATA;
	case E_ACCOUNTING: return EXIT_DATA;
	default: return err_is_soft(code) ? EXIT_DATA : EXIT_INTERNAL;
	}
}
