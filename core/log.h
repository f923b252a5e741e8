/*
 * log.h - leveled logging to stderr.
 *
 * Each line: "omopipe: LEVEL: [position: ]message". stdout is reserved for what
 * the user asked for. Never log a whole message, a document body, a name, an
 * identifier or a connection string with its password: positions and codes only.
 * Thread-safe (one fprintf per line under the stream lock).
 */
#ifndef OMO_LOG_H
#define OMO_LOG_H

#include "core/err.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_QUIET };

void log_set_level(enum log_level lv);
enum log_level log_get_level(void);
/* Parse "debug|info|warning|error|quiet"; -1 if unknown. */
int log_parse_level(const char *s);

void log_msg(enum log_level lv, const struct err_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Log an error at its position: "omopipe: error: file:line: record N: msg". */
void log_err(enum log_level lv, const struct err *e);

#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif
