/* keytab.c - per-file key table (open addressing). See keytab.h. */
#include "etl/load/keytab.h"
#include "core/buf.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void keytab_init(struct keytab *t)
{
	memset(t, 0, sizeof *t);
}

void keytab_free(struct keytab *t)
{
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

void keytab_clear(struct keytab *t)
{
	t->n = 0;
	t->unresolved = 0;
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof *t->slots);
}

/* Put every entry in the zeroed slots s[0..ns). */
static void rehash(const struct keytab *t, uint32_t *s, size_t ns)
{
	for (size_t i = 0; i < t->n; i++) {
		size_t h = (size_t)t->v[i].key.hi & (ns - 1);
		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = (uint32_t)(i + 1);
	}
}

static void grow(struct keytab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *s = xcalloc(ns, sizeof *s);
	rehash(t, s, ns);
	free(t->slots);
	t->slots = s;
	t->nslots = ns;
}

void keytab_drop_class(struct keytab *t, uint8_t cls)
{
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].cls != cls)
			t->v[w++] = t->v[i];
	t->n = w;
	if (!t->slots)
		return;
	memset(t->slots, 0, t->nslots * sizeof *t->slots);
	rehash(t, t->slots, t->nslots);
}

uint32_t keytab_get(struct keytab *t, struct hash128 key, uint8_t cls)
{
	if ((t->n + 1) * 2 > t->nslots)
		grow(t);
	size_t h = (size_t)key.hi & (t->nslots - 1);
	while (t->slots[h]) {
		struct key_ent *e = &t->v[t->slots[h] - 1];
		if (e->key.lo == key.lo && e->key.hi == key.hi)
			return t->slots[h] - 1;
		h = (h + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->v = xrealloc(t->v, mem_mul(t->cap, sizeof *t->v));
	}
	struct key_ent *e = &t->v[t->n];
	memset(e, 0, sizeof *e);
	e->key = key;
	e->cls = cls;
	t->slots[h] = (uint32_t)(t->n + 1);
	t->unresolved++;
	return (uint32_t)t->n++;
}

struct hash128 keytab_hash(const char *site, uint8_t cls, struct span key, int suffix)
{
	/* the bytes hashed: "SITE\x1fCLASS\x1f" (its first 79 only) KEY ["#SUFFIX"] */
	char head[96];
	char tmp[512];
	size_t hn = strnlen(site, 80);
	memcpy(head, site, hn);
	head[hn++] = '\x1f';
	hn += dec_u64(head + hn, cls);
	head[hn++] = '\x1f';
	if (hn > 79)
		hn = 79;
	size_t need = hn + key.n + 16;
	char *b = need <= sizeof tmp ? tmp : xmalloc(need);
	memcpy(b, head, hn);
	if (key.n)
		memcpy(b + hn, key.p, key.n);
	size_t n = hn + key.n;
	if (suffix > 0) {
		b[n++] = '#';
		n += dec_u64(b + n, (uint64_t)suffix);
	}
	struct hash128 h = hash128(b, n);
	if (b != tmp)
		free(b);
	return h;
}

struct hash128 keytab_hash_event(const char *site, struct span key, int suffix)
{
	struct hash128 h = keytab_hash(site, KC_EVENT, key, suffix);
	struct span group = key;
	for (size_t i = 0, bars = 0; i < key.n; i++)
		if (key.p[i] == '|' && ++bars == 2) {
			group.n = i;
			break;
		}
	if (group.n < key.n) {
		struct hash128 g = keytab_hash(site, KC_EVENT, group, 0);
		memcpy(&h, &g, KEY_GROUP_PREFIX);
	}
	return h;
}
