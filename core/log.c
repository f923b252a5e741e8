/* log.c - leveled logging to stderr. See log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level log_level = LOG_INFO;

void log_set_level(enum log_level lv) { log_level = lv; }
enum log_level log_get_level(void) { return log_level; }

int log_parse_level(const char *s)
{
	static const char *names[] = { "debug", "info", "warning", "error", "quiet" };
	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warn") == 0)
		return LOG_WARN;
	return -1;
}

static const char *level_name(enum log_level lv)
{
	switch (lv) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warning";
	default: return "error";
	}
}

void log_msg(enum log_level lv, const struct err_pos *pos, const char *fmt, ...)
{
	char line[1024], where[512] = "";
	va_list ap;

	if (lv < log_level)
		return;
	if (pos) {
		struct err tmp = { .pos = *pos };
		err_format(&tmp, where, sizeof where); /* "file:line: record N: where: " */
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "omopipe: %s: %s%s\n", level_name(lv), where, line);
}

void log_err(enum log_level lv, const struct err *e)
{
	char buf[1024];
	if (lv < log_level)
		return;
	err_format(e, buf, sizeof buf);
	fprintf(stderr, "omopipe: %s: %s\n", level_name(lv), buf);
}
