/*
 * path.h - file-system helpers and where omopipe's own data lives.
 *
 * omopipe reads sql/, conf/ and mappings/ at run time. They are found in
 * $OMOPIPE_SHARE if set, else in the source tree of the build, else in the
 * install prefix (share/omopipe).
 */
#ifndef OMO_PATH_H
#define OMO_PATH_H

#include <stddef.h>
#include "core/err.h"

/* Resolve rel ("sql/cdm_tables.sql") to an existing path in buf. 0 or -E_INPUT. */
int path_share(const char *rel, char *buf, size_t n, struct err *e);
/* The share directory itself (first that holds sql/). */
const char *path_share_dir(void);
/* mkdir -p with mode. 0 or -E_IO. */
int path_mkdirs(const char *path, int mode, struct err *e);
/* 1 if path exists (any type) / is a directory / is a regular file. */
int path_exists(const char *path);
int path_is_dir(const char *path);
int path_is_file(const char *path);
/* Join a and b with one '/'. Into buf; -E_INPUT if it does not fit. */
int path_join(char *buf, size_t n, const char *a, const char *b);
/* Make path absolute (relative to the current directory) into buf. */
int path_absolute(const char *path, char *buf, size_t n);
/* The version string. */
const char *omo_version(void);

#endif
