/* extract.c - the table of extractors and profile lookup. See extract.h. */
#include "etl/extract/extract.h"
#include "core/io.h"
#include "core/path.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Every extractor, one line each. */
static const struct extract_ops *const extractors[] = {
	&extract_hl7v2,
	&extract_csv,
	&extract_ccda,
	NULL
};

const struct extract_ops *extract_find(const char *format)
{
	for (size_t i = 0; extractors[i]; i++)
		if (strcmp(extractors[i]->format, format) == 0)
			return extractors[i];
	return NULL;
}

int extract_profile_path(const char *format, const char *name, char *buf, size_t n, struct err *e)
{
	if (strchr(name, '/')) {
		if (!path_is_file(name))
			return err_set(e, E_CONFIG, "profile file %s does not exist", name);
		snprintf(buf, n, "%s", name);
		return 0;
	}
	char rel[512];
	snprintf(rel, sizeof rel, "conf/profiles/%s/%s.conf", format, name);
	if (path_share(rel, buf, n, NULL) < 0)
		return err_set(e, E_CONFIG, "no %s profile named '%s' (looked for %s/%s)", format, name, path_share_dir(), rel);
	return 0;
}

int extract_profile_read(const char *format, const char *name, struct arena *a, int depth,
                         int (*apply)(void *ctx, struct ini *ini, struct err *e, int depth), void *ctx,
                         struct err *e)
{
	char path[1024];
	struct ini ini;
	if (depth > 4)
		return err_set(e, E_CONFIG, "%s profile %s: base profiles nested too deep", format, name);
	int rc = extract_profile_path(format, name, path, sizeof path, e);
	if (rc < 0)
		return rc;
	memset(&ini, 0, sizeof ini);
	rc = ini_load(&ini, path, a, e);
	if (rc == 0)
		rc = apply(ctx, &ini, e, depth);
	ini_free(&ini);
	return rc;
}

int extract_has_ext(const char *path, const char *exts, size_t stride, size_t n)
{
	char base[256];
	io_base_name(path, base, sizeof base);
	const char *dot = strrchr(base, '.');
	if (!dot)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(dot + 1, exts + i * stride) == 0)
			return 1;
	return 0;
}
