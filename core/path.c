/* path.c - file-system helpers, share directory lookup. See path.h. */
#include "core/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *omo_version(void) { return OMOPIPE_VERSION; }

int path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int path_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int path_join(char *buf, size_t n, const char *a, const char *b)
{
	size_t la = strlen(a);
	int w = snprintf(buf, n, "%s%s%s", a, la && a[la - 1] == '/' ? "" : "/", b);
	return w < 0 || (size_t)w >= n ? -E_INPUT : 0;
}

int path_absolute(const char *path, char *buf, size_t n)
{
	if (path[0] == '/') {
		int w = snprintf(buf, n, "%s", path);
		return w < 0 || (size_t)w >= n ? -E_INPUT : 0;
	}
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return -E_IO;
	return path_join(buf, n, cwd, path);
}

static char share_dir[4096];

const char *path_share_dir(void)
{
	if (share_dir[0])
		return share_dir;
	const char *env = getenv("OMOPIPE_SHARE");
	char probe[4200];
	if (env && *env) {
		snprintf(share_dir, sizeof share_dir, "%s", env);
		return share_dir;
	}
	const char *dirs = OMOPIPE_SHARE_DIRS;
	while (*dirs) {
		const char *c = strchr(dirs, ':');
		size_t k = c ? (size_t)(c - dirs) : strlen(dirs);
		if (k < sizeof share_dir) {
			memcpy(share_dir, dirs, k);
			share_dir[k] = '\0';
			snprintf(probe, sizeof probe, "%s/sql", share_dir);
			if (path_is_dir(probe))
				return share_dir;
		}
		dirs += k + (c ? 1 : 0);
	}
	snprintf(share_dir, sizeof share_dir, ".");
	return share_dir;
}

int path_share(const char *rel, char *buf, size_t n, struct err *e)
{
	if (path_join(buf, n, path_share_dir(), rel) < 0 || !path_exists(buf))
		return err_set(e, E_INPUT, "omopipe's data file %s is missing (looked in %s; set OMOPIPE_SHARE to the folder holding sql/, conf/ and mappings/)",
		               rel, path_share_dir());
	return 0;
}

int path_mkdirs(const char *path, int mode, struct err *e)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return err_set(e, E_IO, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
				return err_set(e, E_IO, "cannot create directory %s: %s", tmp, strerror(errno));
			tmp[i] = c;
		}
	}
	if (!path_is_dir(path))
		return err_set(e, E_IO, "%s exists and is not a directory", path);
	return 0;
}
