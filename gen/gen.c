/*
 * gen.c - omopipe generate: sites, their vendor mix, the files, and the
 * account of what was written.
 *
 *   for site in north, south, east, west, site5 ...
 *     for patient 0 .. N-1:  feed = the site's mix (or --only), by a hash
 *                            gen_patient_make -> gen_{hl7,ccda,csv}_patient
 *   DIR/omopipe.conf        [site ID] with feed = FORMAT PROFILE PATH
 *   DIR/SITE/sitemap.csv    the site's local codes -> concept ids
 *   DIR/expected.json       records and broken records per site, feed, file
 *
 * A patient's facts go to one feed only, so counts add up across formats.
 */
#include "gen/gen_int.h"
#include "core/mem.h"
#include "core/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

const struct gen_feed_def gen_feed_defs[F__COUNT] = {
	[F_HL7_EPIC]    = { "hl7v2", "epic", "hl7/epic", "hl7v2/epic" },
	[F_HL7_CERNER]  = { "hl7v2", "cerner", "hl7/cerner", "hl7v2/cerner" },
	[F_CCDA_A]      = { "ccda", "ccda", "ccda/vendor-a", "ccda/vendor-a" },
	[F_CCDA_B]      = { "ccda", "ccda", "ccda/vendor-b", "ccda/vendor-b" },
	[F_CSV_SYNTHEA] = { "csv", "synthea", "csv/synthea", "csv/synthea" },
	[F_CSV_2017]    = { "csv", "synthea-2017", "csv/synthea-2017", "csv/synthea-2017" },
};

const char *const gen_err_names[GE__COUNT] = { "truncated", "bad_date", "unknown_system", "malformed_xml", "bad_columns" };

/* Each site's vendor mix, in permille of its patients; sites 5+ repeat 1-4. */
static const uint16_t mixes[4][F__COUNT] = {
	{ [F_HL7_EPIC] = 500, [F_CCDA_A] = 250, [F_CSV_SYNTHEA] = 250 },
	{ [F_HL7_CERNER] = 500, [F_CCDA_B] = 200, [F_CSV_2017] = 300 },
	{ [F_HL7_EPIC] = 400, [F_HL7_CERNER] = 200, [F_CSV_SYNTHEA] = 400 },
	{ [F_CCDA_A] = 300, [F_CCDA_B] = 300, [F_CSV_2017] = 400 },
};

static const char *const hl7_kinds[] = { "ADT^A01", "ADT^A03", "ADT^A04", "ADT^A08", "ORU^R01", "VXU^V04", "RDE^O11" };
static const char *const ccda_kinds[] = { "CCD" };
static const char *const hl7_family[] = { "adt", "oru", "vxu", "rde" };

struct gen_facts { uint64_t patients, visits, conditions, measurements, drugs, immunizations, allergies; };

struct gen_ctx {
	const struct gen_opts *o;
	uint64_t file_records;
	struct gen_file **files;
	size_t nfiles, capfiles;
	int cur_site, cur_feed;
	struct gen_facts facts[64][F__COUNT];   /* first 64 sites in detail; the rest fold into 63 */
	int nsites;
};

struct gen_site_out {
	struct gen_ctx *g;
	int site;
	char id[40];
	uint64_t seq;
	struct gen_out hl7[2][4];
	int hl7_part[2][4];
	struct gen_out csv[2][CT__COUNT];
	struct gen_out ccda;
};

void gen_site_id(int i, char *buf, size_t n)
{
	static const char *const named[] = { "north", "south", "east", "west" };
	if (i < 4)
		snprintf(buf, n, "%s", named[i]);
	else
		snprintf(buf, n, "site%d", i + 1);
}

double gen_error_rate(const struct gen_ctx *g) { return g->o->error_rate; }
const char *gen_so_site(const struct gen_site_out *so) { return so->id; }
int gen_so_site_no(const struct gen_site_out *so) { return so->site + 1; }
uint64_t gen_so_next_seq(struct gen_site_out *so) { return ++so->seq; }

int gen_pick_error(const struct gen_ctx *g, struct gen_patient *p, unsigned allowed)
{
	if (g->o->error_rate <= 0 || !allowed)
		return -1;
	if (rng_unit(&p->err) >= g->o->error_rate)
		return -1;
	int n = __builtin_popcount(allowed);
	int k = (int)rng_below(&p->err, (uint32_t)n);
	for (int i = 0; i < GE__COUNT; i++)
		if ((allowed & (1u << i)) && k-- == 0)
			return i;
	return -1;
}

/* ---- files ---- */

static int mkparent(const char *path, struct err *e)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = 0;
	return path_mkdirs(dir, 0755, e);
}

int go_open(struct gen_ctx *g, struct gen_out *o, const char *rel, const char *const *kind_names, int nkinds, struct err *e)
{
	int rc;
	if (g->nfiles == g->capfiles) {
		g->capfiles = g->capfiles ? g->capfiles * 2 : 64;
		g->files = xrealloc(g->files, mem_mul(g->capfiles, sizeof *g->files));
	}
	struct gen_file *f = xcalloc(1, sizeof *f);
	g->files[g->nfiles++] = f;
	snprintf(f->rel, sizeof f->rel, "%s%s", rel, g->o->zstd ? ".zst" : "");
	f->kind_names = kind_names;
	f->nkinds = nkinds;
	f->site = g->cur_site;
	f->feed = g->cur_feed;
	if (path_join(o->path, sizeof o->path, g->o->out, f->rel) < 0)
		return err_set(e, E_IO, "%s: path too long", g->o->out);
	if ((rc = mkparent(o->path, e)) < 0)
		return rc;
	o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0)
		return err_set(e, E_IO, "%s: %s", o->path, strerror(errno));
	o->file = f;
	o->n = o->rec = 0;
	o->failed = 0;
	if (g->o->zstd && !o->z) {
		o->z = ZSTD_createCCtx();
		if (!o->z)
			return err_set(e, E_NOMEM, "zstd: cannot create a compression context");
		ZSTD_CCtx_setParameter(o->z, ZSTD_c_compressionLevel, 3);
		o->zcap = ZSTD_CStreamOutSize();
		o->zbuf = xmalloc(o->zcap);
	}
	return 0;
}

static void cerner_envelope_open(struct gen_site_out *so, struct gen_out *o, const char *name)
{
	char site[40];
	size_t i;
	for (i = 0; so->id[i] && i + 1 < sizeof site; i++)
		site[i] = (char)(so->id[i] >= 'a' && so->id[i] <= 'z' ? so->id[i] - 32 : so->id[i]);
	site[i] = 0;
	go_str(o, "FHS|^~\\&|CERNER|");
	go_str(o, site);
	go_str(o, "|OMOPIPE|NETWORK|202406302359||");
	go_str(o, name);
	go_str(o, "\r\nBHS|^~\\&|CERNER|");
	go_str(o, site);
	go_str(o, "|OMOPIPE|NETWORK|202406302359\r\n");
	o->rec = o->n;
}

static int hl7_close(struct gen_out *o, int cerner, struct err *e)
{
	if (!go_is_open(o))
		return 0;
	if (cerner) {
		go_str(o, "BTS|");
		go_u64(o, o->file->records);
		go_str(o, "\r\nFTS|1\r\n");
	}
	return go_finish(o, e);
}

struct gen_out *gen_hl7_stream(struct gen_ctx *g, struct gen_site_out *so, int cerner, int family, struct err *e, int *rc)
{
	struct gen_out *o = &so->hl7[cerner][family];
	if (go_is_open(o) && o->file->records < g->file_records)
		return o;
	if ((*rc = hl7_close(o, cerner, e)) < 0)
		return NULL;
	char rel[256], name[64];
	snprintf(name, sizeof name, "%s-%04d.hl7", hl7_family[family], ++so->hl7_part[cerner][family]);
	snprintf(rel, sizeof rel, "%s/%s/%s", so->id, gen_feed_defs[cerner ? F_HL7_CERNER : F_HL7_EPIC].dir, name);
	g->cur_feed = cerner ? F_HL7_CERNER : F_HL7_EPIC;
	if ((*rc = go_open(g, o, rel, hl7_kinds, 7, e)) < 0)
		return NULL;
	if (cerner)
		cerner_envelope_open(so, o, name);
	return o;
}

struct gen_out *gen_csv_stream(struct gen_site_out *so, int v2017, int table)
{
	return &so->csv[v2017][table];
}

int gen_ccda_open(struct gen_ctx *g, struct gen_site_out *so, int style_b, const struct gen_patient *p, struct gen_out *o, struct err *e)
{
	char rel[256];
	snprintf(rel, sizeof rel, "%s/%s/%u.xml", so->id, gen_feed_defs[style_b ? F_CCDA_B : F_CCDA_A].dir, (unsigned)p->mrn);
	g->cur_feed = style_b ? F_CCDA_B : F_CCDA_A;
	return go_open(g, o, rel, ccda_kinds, 1, e);
}

static int csv_open(struct gen_ctx *g, struct gen_site_out *so, int v2017, struct err *e)
{
	for (int t = 0; t < CT__COUNT; t++) {
		char rel[256];
		struct gen_out *o = &so->csv[v2017][t];
		snprintf(rel, sizeof rel, "%s/%s/%s.csv", so->id, gen_feed_defs[v2017 ? F_CSV_2017 : F_CSV_SYNTHEA].dir, gen_csv_tables[t]);
		g->cur_feed = v2017 ? F_CSV_2017 : F_CSV_SYNTHEA;
		int rc = go_open(g, o, rel, &gen_csv_tables[t], 1, e);
		if (rc < 0)
			return rc;
		go_str(o, gen_csv_header(v2017, t));
		go_chr(o, '\n');
		o->rec = o->n;
		o->file->header_rows = 1;
	}
	return 0;
}

static int site_close(struct gen_site_out *so, struct err *e)
{
	int rc = 0, r;
	for (int c = 0; c < 2; c++)
		for (int f = 0; f < 4; f++) {
			if ((r = hl7_close(&so->hl7[c][f], c, e)) < 0 && !rc)
				rc = r;
			go_close(&so->hl7[c][f], e);
		}
	for (int v = 0; v < 2; v++)
		for (int t = 0; t < CT__COUNT; t++)
			if ((r = go_close(&so->csv[v][t], e)) < 0 && !rc)
				rc = r;
	if ((r = go_close(&so->ccda, e)) < 0 && !rc)
		rc = r;
	return rc;
}

/* ---- what else is written ---- */

static void site_mix(const struct gen_opts *o, int site, uint16_t mix[F__COUNT])
{
	memcpy(mix, mixes[site % 4], sizeof mixes[0]);
	if (o->only) {
		memset(mix, 0, sizeof mixes[0]);
		for (int f = 0; f < F__COUNT; f++)
			if (strcmp(o->only, gen_feed_defs[f].name) == 0)
				mix[f] = 1000;
	}
}

static FILE *open_text(const struct gen_opts *o, const char *rel, char *path, size_t n, struct err *e)
{
	if (path_join(path, n, o->out, rel) < 0) {
		err_set(e, E_IO, "%s: path too long", o->out);
		return NULL;
	}
	FILE *f = fopen(path, "w");
	if (!f)
		err_set(e, E_IO, "%s: %s", path, strerror(errno));
	return f;
}

static int close_text(FILE *f, const char *path, struct err *e)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return err_set(e, E_IO, "%s: write failed", path);
	return 0;
}

static int write_conf(const struct gen_opts *o, struct err *e)
{
	char path[4096], id[40];
	FILE *f = open_text(o, "omopipe.conf", path, sizeof path, e);
	if (!f)
		return -E_IO;
	fprintf(f, "# Written by `omopipe generate --patients %llu --sites %d --seed %llu%s`.\n"
	           "# Feed paths are relative to this file's folder. Run: omopipe -c %s run\n"
	           "# The site code maps are SITE/sitemap.csv: omopipe sitemap load --site SITE SITE/sitemap.csv\n",
	        (unsigned long long)o->patients, o->sites, (unsigned long long)o->seed, o->zstd ? " --zstd" : "", "omopipe.conf");
	for (int s = 0; s < o->sites; s++) {
		uint16_t mix[F__COUNT];
		gen_site_id(s, id, sizeof id);
		site_mix(o, s, mix);
		fprintf(f, "\n[site %s]\nname = %c%s\nutc_offset = -05:00\n", id, id[0] - 32, id + 1);
		for (int k = 0; k < F__COUNT; k++)
			if (mix[k])
				fprintf(f, "feed = %s %s %s/%s\n", gen_feed_defs[k].format, gen_feed_defs[k].profile, id, gen_feed_defs[k].dir);
	}
	return close_text(f, path, e);
}

static int write_sitemap(const struct gen_opts *o, int site, struct err *e)
{
	char path[4096], rel[128], id[40], oid[64];
	uint16_t mix[F__COUNT];
	gen_site_id(site, id, sizeof id);
	site_mix(o, site, mix);
	snprintf(rel, sizeof rel, "%s/sitemap.csv", id);
	snprintf(oid, sizeof oid, GEN_OID_LOCAL_LAB_ROOT ".%d", site + 1);
	FILE *f = open_text(o, rel, path, sizeof path, e);
	if (!f)
		return -E_IO;
	fputs("source_system,source_code,source_name,target_concept_id\n", f);
	for (int t = 0; t < T__COUNT; t++) {
		const struct gen_test *d = &gen_tests[t];
		const struct gen_concept *c = d->loinc ? gen_concept_by_code("LOINC", d->loinc) : NULL;
		int target = c ? c->id : 0;
		if ((mix[F_HL7_EPIC] || mix[F_CCDA_A]) && d->epic_local && (mix[F_HL7_EPIC] || !d->loinc)) {
			if (mix[F_HL7_EPIC])
				fprintf(f, "L,%s,%s,%d\n", d->epic_local, d->local_name, target);
			if (mix[F_CCDA_A] && !d->loinc)
				fprintf(f, "%s,%s,%s,%d\n", oid, d->epic_local, d->local_name, target);
		}
		if (mix[F_HL7_CERNER] && !d->vital)
			fprintf(f, "99CERNER,%s,%s,%d\n", d->cerner_local, d->local_name, target);
		if (mix[F_CCDA_B] && !d->vital)
			fprintf(f, "%s,%s,%s,%d\n", oid, d->cerner_local, d->local_name, target);
	}
	return close_text(f, path, e);
}

static void json_facts(FILE *f, const struct gen_facts *x)
{
	fprintf(f, "\"patients\": %llu, \"facts\": {\"visits\": %llu, \"conditions\": %llu, \"measurements\": %llu, "
	           "\"drugs\": %llu, \"immunizations\": %llu, \"allergies\": %llu}",
	        (unsigned long long)x->patients, (unsigned long long)x->visits, (unsigned long long)x->conditions,
	        (unsigned long long)x->measurements, (unsigned long long)x->drugs, (unsigned long long)x->immunizations,
	        (unsigned long long)x->allergies);
}

static int write_expected(struct gen_ctx *g, const struct gen_totals *t, struct err *e)
{
	const struct gen_opts *o = g->o;
	char path[4096], id[40];
	FILE *f = open_text(o, "expected.json", path, sizeof path, e);
	if (!f)
		return -E_IO;
	fprintf(f, "{\n\"generator\": \"omopipe generate\",\n\"seed\": %llu,\n\"patients_per_site\": %llu,\n\"sites\": %d,\n"
	           "\"error_rate\": %g,\n\"zstd\": %s,\n"
	           "\"notes\": \"records = messages (HL7), documents (C-CDA), data rows without the header (CSV). "
	           "Broken records of kinds truncated, bad_date, malformed_xml and bad_columns are expected in quarantine; "
	           "unknown_system records load with concept 0. facts are what the patients have before any breakage.\",\n"
	           "\"quarantine_kinds\": [\"truncated\", \"bad_date\", \"malformed_xml\", \"bad_columns\"],\n"
	           "\"unmapped_kinds\": [\"unknown_system\"],\n"
	           "\"totals\": {\"patients\": %llu, \"records\": %llu, \"broken\": %llu, \"files\": %llu, \"bytes\": %llu},\n"
	           "\"site_list\": [\n",
	        (unsigned long long)o->seed, (unsigned long long)o->patients, o->sites, o->error_rate, o->zstd ? "true" : "false",
	        (unsigned long long)t->patients, (unsigned long long)t->records, (unsigned long long)t->broken,
	        (unsigned long long)t->files, (unsigned long long)t->bytes_raw);
	for (int s = 0; s < o->sites; s++) {
		uint16_t mix[F__COUNT];
		struct gen_facts all = { 0 };
		int sx = s < 64 ? s : 63;
		site_mix(o, s, mix);
		gen_site_id(s, id, sizeof id);
		for (int k = 0; k < F__COUNT; k++) {
			const struct gen_facts *x = &g->facts[sx][k];
			all.patients += x->patients;
			all.visits += x->visits;
			all.conditions += x->conditions;
			all.measurements += x->measurements;
			all.drugs += x->drugs;
			all.immunizations += x->immunizations;
			all.allergies += x->allergies;
		}
		fprintf(f, "%s{\"id\": \"%s\", \"sitemap\": \"%s/sitemap.csv\", ", s ? ",\n" : "", id, id);
		json_facts(f, &all);
		fprintf(f, ",\n \"feeds\": [");
		int firstfeed = 1;
		for (int k = 0; k < F__COUNT; k++) {
			if (!mix[k])
				continue;
			uint64_t rec = 0, brk = 0, err[GE__COUNT] = { 0 };
			for (size_t i = 0; i < g->nfiles; i++) {
				const struct gen_file *fl = g->files[i];
				if (fl->site != s || fl->feed != k)
					continue;
				rec += fl->records;
				brk += fl->broken;
				for (int x = 0; x < GE__COUNT; x++)
					err[x] += fl->err[x];
			}
			fprintf(f, "%s\n  {\"format\": \"%s\", \"profile\": \"%s\", \"path\": \"%s/%s\", ", firstfeed ? "" : ",",
			        gen_feed_defs[k].format, gen_feed_defs[k].profile, id, gen_feed_defs[k].dir);
			firstfeed = 0;
			json_facts(f, &g->facts[sx][k]);
			fprintf(f, ", \"records\": %llu, \"broken\": %llu, \"errors\": {", (unsigned long long)rec, (unsigned long long)brk);
			for (int x = 0; x < GE__COUNT; x++)
				fprintf(f, "%s\"%s\": %llu", x ? ", " : "", gen_err_names[x], (unsigned long long)err[x]);
			fprintf(f, "},\n   \"files\": [");
			int firstfile = 1;
			for (size_t i = 0; i < g->nfiles; i++) {
				const struct gen_file *fl = g->files[i];
				if (fl->site != s || fl->feed != k)
					continue;
				fprintf(f, "%s\n    {\"path\": \"%s\", \"records\": %llu, \"broken\": %llu, \"header_rows\": %llu, \"bytes\": %llu, \"kinds\": {",
				        firstfile ? "" : ",", fl->rel, (unsigned long long)fl->records, (unsigned long long)fl->broken,
				        (unsigned long long)fl->header_rows, (unsigned long long)fl->bytes_raw);
				firstfile = 0;
				int firstkind = 1;
				for (int x = 0; x < fl->nkinds; x++) {
					if (!fl->kinds[x])
						continue;
					fprintf(f, "%s\"%s\": %llu", firstkind ? "" : ", ", fl->kind_names[x], (unsigned long long)fl->kinds[x]);
					firstkind = 0;
				}
				fprintf(f, "}, \"errors\": {");
				int firsterr = 1;
				for (int x = 0; x < GE__COUNT; x++) {
					if (!fl->err[x])
						continue;
					fprintf(f, "%s\"%s\": %llu", firsterr ? "" : ", ", gen_err_names[x], (unsigned long long)fl->err[x]);
					firsterr = 0;
				}
				fprintf(f, "}}");
			}
			fprintf(f, "]}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]\n}\n");
	return close_text(f, path, e);
}

/* ---- the run ---- */

static int pick_feed(const struct gen_opts *o, const uint16_t mix[F__COUNT], int site, uint64_t index)
{
	struct rng r;
	rng_seed(&r, o->seed ^ 0x66656564ull, (uint64_t)site + 1, index + 1);
	uint32_t u = rng_below(&r, 1000), acc = 0;
	int last = -1;
	for (int f = 0; f < F__COUNT; f++) {
		if (!mix[f])
			continue;
		last = f;
		acc += mix[f];
		if (u < acc)
			return f;
	}
	return last;
}

int gen_run(const struct gen_opts *o, struct gen_totals *t, struct err *e)
{
	struct gen_ctx *g = xcalloc(1, sizeof *g);
	struct gen_patient *p = xmalloc(sizeof *p);
	struct gen_site_out *so = xcalloc(1, sizeof *so);
	int rc = 0;

	memset(t, 0, sizeof *t);
	g->o = o;
	g->file_records = o->file_records ? o->file_records : 100000;
	if (o->only) {
		int ok = 0;
		for (int f = 0; f < F__COUNT; f++)
			ok |= strcmp(o->only, gen_feed_defs[f].name) == 0;
		if (!ok) {
			rc = err_set(e, E_USAGE, "--only: unknown feed '%s' (hl7v2/epic, hl7v2/cerner, ccda/vendor-a, ccda/vendor-b, csv/synthea, csv/synthea-2017)", o->only);
			goto out;
		}
	}
	if ((rc = path_mkdirs(o->out, 0755, e)) < 0)
		goto out;

	for (int s = 0; s < o->sites && rc == 0; s++) {
		uint16_t mix[F__COUNT];
		int sx = s < 64 ? s : 63;
		memset(so, 0, sizeof *so);
		so->g = g;
		so->site = s;
		gen_site_id(s, so->id, sizeof so->id);
		for (int c = 0; c < 2; c++)
			for (int f = 0; f < 4; f++)
				so->hl7[c][f].fd = -1;
		for (int v = 0; v < 2; v++)
			for (int k = 0; k < CT__COUNT; k++)
				so->csv[v][k].fd = -1;
		so->ccda.fd = -1;
		g->cur_site = s;
		site_mix(o, s, mix);
		for (int f = 0; f < F__COUNT && rc == 0; f++) {
			if (!mix[f])
				continue;
			char dir[4096], rel[256];
			snprintf(rel, sizeof rel, "%s/%s", so->id, gen_feed_defs[f].dir);
			if (path_join(dir, sizeof dir, o->out, rel) < 0)
				rc = err_set(e, E_IO, "%s: path too long", o->out);
			else
				rc = path_mkdirs(dir, 0755, e);
			if (rc == 0 && (f == F_CSV_SYNTHEA || f == F_CSV_2017))
				rc = csv_open(g, so, f == F_CSV_2017, e);
		}
		for (uint64_t i = 0; i < o->patients && rc == 0; i++) {
			int f = pick_feed(o, mix, s, i);
			gen_patient_make(p, o->seed, s, i);
			struct gen_facts *x = &g->facts[sx][f];
			x->patients++;
			x->visits += p->nenc;
			x->conditions += p->ncond;
			x->drugs += p->nmed;
			x->immunizations += p->nimm;
			x->allergies += p->nall;
			for (int k = 0; k < p->nenc; k++)
				x->measurements += p->enc[k].nobs;
			switch (f) {
			case F_HL7_EPIC: rc = gen_hl7_patient(g, so, 0, p, e); break;
			case F_HL7_CERNER: rc = gen_hl7_patient(g, so, 1, p, e); break;
			case F_CCDA_A: rc = gen_ccda_patient(g, so, 0, p, &so->ccda, e); break;
			case F_CCDA_B: rc = gen_ccda_patient(g, so, 1, p, &so->ccda, e); break;
			case F_CSV_SYNTHEA: rc = gen_csv_patient(g, so, 0, p, e); break;
			default: rc = gen_csv_patient(g, so, 1, p, e); break;
			}
			t->patients++;
		}
		int rc2 = site_close(so, e);
		if (rc == 0)
			rc = rc2;
		if (rc == 0)
			rc = write_sitemap(o, s, e);
	}
	if (rc == 0)
		rc = write_conf(o, e);
	for (size_t i = 0; i < g->nfiles; i++) {
		t->records += g->files[i]->records;
		t->broken += g->files[i]->broken;
		t->bytes_raw += g->files[i]->bytes_raw;
		t->bytes_disk += g->files[i]->bytes_disk;
	}
	t->files = g->nfiles;
	if (rc == 0)
		rc = write_expected(g, t, e);
out:
	for (size_t i = 0; i < g->nfiles; i++)
		free(g->files[i]);
	free(g->files);
	free(g);
	free(p);
	free(so);
	return rc;
}
