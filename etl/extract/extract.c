/* extract.c - the table of extractors and profile lookup. See extract.h. */
#include "etl/extract/extract.h"
#include "core/path.h"

#include <stdio.h>
#include <string.h>

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
