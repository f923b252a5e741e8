/*
 * test_hl7.c - the HL7 v2 extractor (extract_hl7v2) through a tu_sink.
 *
 *   - every file under ../shared/data/hl7v2: how many messages load, are
 *     quarantined and are skipped (none crashes, every begin is closed), the
 *     same when read one byte at a time;
 *   - content: the ORU normative example's result, an ADT's person, a VXU's
 *     CVX code, Epic and Cerner dialects through their profiles, corrections
 *     and deletions under one key, refusals, merges, cancels;
 *   - malformed inputs (tests/fixtures/hl7v2): error code and position, and
 *     the rest of the file loads; a 10 MB message of repetitions.
 */
#include "testutil.h"
#include "etl/extract/extract.h"
#include "etl/extract/hl7_int.h"
#include "etl/sink_print.h"
#include "core/date.h"
#include "core/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- collecting what is emitted ----------------------------------------- */

#define MAXREC 256

struct got {
	struct record r[MAXREC];
	char keys[MAXREC][160];
	size_t n;
};

static char *copy_span(struct span s, char *buf, size_t cap)
{
	span_copy(s, buf, cap);
	return buf;
}

/* Records' spans die with their message: copy them into an arena. */
static struct arena keep;

static void cp(struct span *s)
{
	*s = arena_span(&keep, *s);
}

static void cpc(struct code *c)
{
	cp(&c->system);
	cp(&c->code);
	cp(&c->display);
}

static void deep_copy(struct record *r)
{
	switch (r->kind) {
	case REC_PERSON:
		cp(&r->u.person.key), cpc(&r->u.person.gender), cpc(&r->u.person.race), cpc(&r->u.person.ethnicity);
		cp(&r->u.person.location), cp(&r->u.person.provider);
		break;
	case REC_VISIT:
		cp(&r->u.visit.key), cp(&r->u.visit.person), cpc(&r->u.visit.cls), cp(&r->u.visit.provider);
		cpc(&r->u.visit.admitted_from), cpc(&r->u.visit.discharged_to);
		break;
	case REC_EVENT: {
		struct rec_event *e = &r->u.event;
		cp(&e->key), cp(&e->person), cp(&e->visit), cp(&e->provider), cpc(&e->code), cpc(&e->code_alt);
		cp(&e->value.op), cp(&e->value.text), cpc(&e->value.coded), cpc(&e->value.unit);
		cpc(&e->route), cp(&e->lot), cp(&e->sig), cpc(&e->qualifier);
		break;
	}
	case REC_PROVIDER:
		cp(&r->u.provider.key), cp(&r->u.provider.name), cp(&r->u.provider.npi);
		break;
	case REC_LOCATION:
		cp(&r->u.location.key), cp(&r->u.location.address_1), cp(&r->u.location.city), cp(&r->u.location.zip);
		cp(&r->u.location.address_2), cp(&r->u.location.state), cp(&r->u.location.county);
		cp(&r->u.location.country);
		break;
	case REC_RETRACT:
		cp(&r->u.retract.key);
		break;
	case REC_MERGE:
		cp(&r->u.merge.from), cp(&r->u.merge.to);
		break;
	case REC_DEATH:
		cp(&r->u.death.person);
		break;
	default:
		break;
	}
}

static void on_emit(struct tu_sink *s, const struct record *r)
{
	struct got *g = s->user;
	if (!g || g->n == MAXREC)
		return;
	g->r[g->n] = *r;
	deep_copy(&g->r[g->n]);
	struct span key = r->kind == REC_EVENT ? r->u.event.key : r->kind == REC_PERSON ? r->u.person.key :
	                  r->kind == REC_VISIT ? r->u.visit.key : r->kind == REC_RETRACT ? r->u.retract.key :
	                  r->kind == REC_PROVIDER ? r->u.provider.key : r->kind == REC_MERGE ? r->u.merge.from :
	                  r->kind == REC_LOCATION ? r->u.location.key : r->kind == REC_DEATH ? r->u.death.person :
	                  span_make(NULL, 0);
	copy_span(key, g->keys[g->n], sizeof g->keys[0]);
	/* spans die with the message: keep what the checks look at */
	g->n++;
}

static struct extractor *xopen(const char *profile, int tz)
{
	struct extractor *x;
	struct err e;
	struct conf_site site;
	memset(&site, 0, sizeof site);
	site.id = "test";
	site.tz = tz;
	memset(&e, 0, sizeof e);
	if (extract_hl7v2.open(&x, profile, &site, &e) < 0)
		fail_msg("open %s: %s", profile ? profile : "(default)", e.msg);
	return x;
}

static void run(struct extractor *x, const char *path, struct tu_sink *s, struct got *g)
{
	struct err e;
	memset(&e, 0, sizeof e);
	tu_sink_init(s);
	s->on_emit = on_emit;
	s->user = g;
	if (g) {
		g->n = 0;
		if (!keep.chunk_size)
			arena_init(&keep, 1 << 20);
		arena_reset(&keep);
	}
	int rc = extract_hl7v2.run(x, path, &s->base, &e);
	if (rc != 0)
		fail_msg("%s: %s", path, e.msg);
	assert_false(s->in_record);
	assert_int_equal(s->begun, s->loaded + s->quarantined + s->skipped);
}

/* --- every shared file ---------------------------------------------------- */

static const struct { const char *file; unsigned long loaded, quarantined, skipped; } counts[] = {
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/parser/adt_a03.txt", 1, 0, 0 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/parser/cv.04_001_chem.hl7", 0, 0, 1 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/parser/example_oml_o21.hl7", 0, 1, 12 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/parser/omd_o03.txt", 0, 0, 1 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/parser/omd_o03_rep.txt", 0, 0, 1 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/util/messages.txt", 1, 0, 17 },
	{ "hapifhir-hapi-hl7v2/hapi-test/src/test/resources/ca/uhn/hl7v2/util/segmentfinder_a24.hl7", 0, 0, 1 },
	{ "hapifhir-hapi-hl7v2/src/docs/examples/ADT_A01.txt", 1, 0, 0 },
	{ "johnpaulett-python-hl7/rep_sample_hl7.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_bad_batch.hl7", 0, 1, 0 },
	{ "johnpaulett-python-hl7/sample_bad_batch1.hl7", 0, 2, 0 },
	{ "johnpaulett-python-hl7/sample_bad_file.hl7", 0, 1, 0 },
	{ "johnpaulett-python-hl7/sample_bad_file1.hl7", 0, 2, 0 },
	{ "johnpaulett-python-hl7/sample_bad_file2.hl7", 0, 2, 0 },
	{ "johnpaulett-python-hl7/sample_bad_file3.hl7", 0, 1, 0 },
	{ "johnpaulett-python-hl7/sample_batch.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_batch1.hl7", 2, 0, 0 },
	{ "johnpaulett-python-hl7/sample_batch2.hl7", 2, 0, 0 },
	{ "johnpaulett-python-hl7/sample_batch3.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_batch4.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file1.hl7", 3, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file2.hl7", 2, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file3.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file4.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file5.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_file6.hl7", 1, 0, 0 },
	{ "johnpaulett-python-hl7/sample_hl7.hl7", 0, 1, 0 },
	{ "johnpaulett-python-hl7/sample_msh.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A01-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A01-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A02-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A02-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A03-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A03-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A04-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A04-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A05-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A05-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A06-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A06-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A07-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A07-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A08-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A08-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A09-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A09-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A10-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A10-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A11-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A11-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A13-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A13-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A14-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A14-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A15-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A15-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A16-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A16-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A25-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A25-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A26-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A26-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A27-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A27-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A28-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A28-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A29-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A29-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A31-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A31-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A40-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A40-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT-A41-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A41-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A45-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A45-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A47-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A47-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A60-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT-A60-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ADT01-23.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT01-28.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT04-23.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT04-251.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/ADT04-28.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/BAR-P01-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/BAR-P01-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/BAR-P02-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/BAR-P02-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/BAR-P12-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/BAR-P12-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/DFT-P03-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/DFT-P03-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/DFT-P11-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/DFT-P11-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/IZ_1_1.1_Admin_Child_Max_Message.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/LAB-ORM-1.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/LAB-ORU-1.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/LAB-ORU-2.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/LRI_2.0-NG_CBC_Typ_Message.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/MDHHS-OML-O21-1.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDHHS-OML-O21-2.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T01-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T01-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T02-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T02-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T02-03.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T05-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T05-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T06-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T06-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T09-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T09-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T10-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM-T10-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/MDM_01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/OMG-O19-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OMG-O19-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OML-O21-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OML-O21-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OML-O21-03.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-03.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-04.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-05.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORM-O01-06.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/ORU-R01-01.hl7", 0, 1, 0 },
	{ "microsoft-FHIR-Converter/ORU-R01-RMGEAD.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/OUL-R22-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OUL-R22-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OUL-R23-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OUL-R23-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OUL-R24-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/OUL-R24-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/PC1-Problem-Add-v2.3.1.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/PC1-Problem-Delete-v2.3.1.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/PC1-Problem-Update-v2.3.1.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDE-O11-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDE-O11-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDE-O25-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDE-O25-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDS-O13-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/RDS-O13-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/REF-I12-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/REF-I12-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/REF-I14-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/REF-I14-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S12-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S12-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S12_1.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S13-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S13-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S14-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S14-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S15-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S15-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S16-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S16-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S17-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S17-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S26-01.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU-S26-02.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/SIU_12.hl7", 0, 0, 1 },
	{ "microsoft-FHIR-Converter/VXU-V04-01.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/VXU-V04-02.hl7", 1, 0, 0 },
	{ "microsoft-FHIR-Converter/VXU.hl7", 1, 0, 0 },
	{ "npm-simple-hl7-3.3.0/adt.hl7", 1, 0, 0 },
	{ "npm-simple-hl7-3.3.0/adt.txt", 1, 0, 0 },
	{ "npm-simple-hl7-3.3.0/orm.hl7", 0, 0, 1 },
	{ "npm-simple-hl7-3.3.0/oru-imm.hl7", 0, 1, 0 },
	{ "npm-simple-hl7-3.3.0/oru.hl7", 1, 0, 0 },
};

static void test_every_shared_file(void **state)
{
	(void)state;
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	unsigned long tot[3] = { 0, 0, 0 };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		char path[1024];
		struct tu_sink s;
		snprintf(path, sizeof path, "%s", tu_shared("hl7v2"));
		snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", counts[i].file);
		for (int mode = 0; mode < 2; mode++) {
			x->max_read = mode ? 1 : 0;
			run(x, path, &s, NULL);
			if (s.loaded != counts[i].loaded || s.quarantined != counts[i].quarantined ||
			    s.skipped != counts[i].skipped)
				fail_msg("%s%s: loaded %lu quarantined %lu skipped %lu, want %lu %lu %lu", counts[i].file,
				         mode ? " (byte by byte)" : "", s.loaded, s.quarantined, s.skipped,
				         counts[i].loaded, counts[i].quarantined, counts[i].skipped);
		}
		tot[0] += s.loaded;
		tot[1] += s.quarantined;
		tot[2] += s.skipped;
	}
	x->max_read = 0;
	/* 204 messages and 6 runs of segments without MSH */
	assert_int_equal(tot[0] + tot[1] + tot[2], 210);
	assert_int_equal(tot[0], 66);
	extract_hl7v2.close(x);
}

/* --- content ------------------------------------------------------------- */

static const struct record *find(struct got *g, int kind, const char *key)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->r[i].kind == kind && (!key || strcmp(g->keys[i], key) == 0))
			return &g->r[i];
	fail_msg("no record of kind %d with key %s", kind, key ? key : "(any)");
	return NULL;
}

static size_t count_kind(struct got *g, int kind)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n; i++)
		k += g->r[i].kind == kind;
	return k;
}

static void date_is(struct dt d, const char *want)
{
	char o[20];
	dt_fmt_ts(d, o);
	o[want[10] ? 19 : 10] = '\0';
	assert_string_equal(o, want);
}

static struct got G; /* big: not on the stack */

static void test_oru_normative_example(void **state)
{
	(void)state;
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	/* the v2.4 normative ORU (the copy with a valid birth date) */
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/ORU-R01-RMGEAD.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_string_equal(s.last_source_id, "CNTRL-3456"); /* MSH-10: the message's provenance */
	assert_int_equal(count_kind(&G, REC_EVENT), 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, NULL)->u.event;
	assert_int_equal(ev->kind, EV_MEASUREMENT);
	assert_int_equal(ev->origin, ORIG_LAB);
	assert_int_equal(ev->value.kind, VAL_NUM);  /* SN ^182 */
	assert_true(ev->value.num == 182.0);
	assert_int_equal(ev->value.op.n, 0);
	assert_true(ev->value.has_low && ev->value.has_high); /* 70_105 */
	assert_true(ev->value.low == 70.0 && ev->value.high == 105.0);
	date_is(ev->start, "2002-02-15 07:30:00"); /* no OBX-14: OBR-7, wall time kept */
	/* OBX-3.3 holds text, not a system: emitted as written all the same */
	find(&G, REC_EVENT, "obx|GHH LAB|1045813|POST 12H CFST:MCNC:PT:SER/PLAS:QN|1554-5|");
	/* the original normative example has a 9-digit birth date */
	run(x, tu_shared("hl7v2/johnpaulett-python-hl7/sample_hl7.hl7"), &s, &G);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_DATE);
	assert_string_equal(s.last_q.pos.where, "PID[1]-7");
	assert_int_equal(s.last_q.pos.line, 2);
	extract_hl7v2.close(x);
}

static void test_lab_results_units_status(void **state)
{
	(void)state;
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	char b[64];
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/LAB-ORU-1.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.events_by_kind[EV_MEASUREMENT], 8); /* 10 OBX, 2 with status I */
	assert_int_equal(s.notes, 2);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||82503246|LN|20570-8|")->u.event;
	assert_true(ev->value.num == 40.1);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "%");
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "HEMATOCRIT");
	/* 20141006083000+0700 to UTC */
	extract_hl7v2.close(x);
	x = xopen(NULL, 0);
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/LAB-ORU-1.hl7"), &s, &G);
	date_is(find(&G, REC_EVENT, "obx||82503246|LN|20570-8|")->u.event.start, "2014-10-06 01:30:00");
	extract_hl7v2.close(x);
}

static void test_adt_person_visit(void **state)
{
	(void)state;
	struct extractor *x = xopen("cerner", DT_TZ_KEEP);
	struct tu_sink s;
	char b[64];
	/* Cerner HNAM ADT^A01: PID-3 MSH_MRN first, then an EMPI */
	run(x, tu_shared("hl7v2/johnpaulett-python-hl7/sample_msh.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_person *p = &find(&G, REC_PERSON, "MSH_MRN|2148790")->u.person;
	date_is(p->birth, "1952-11-29");
	assert_string_equal(copy_span(p->gender.code, b, sizeof b), "F");
	assert_string_equal(copy_span(p->gender.system, b, sizeof b), "HL70001");
	const struct rec_visit *v = &find(&G, REC_VISIT, NULL)->u.visit;
	assert_string_equal(copy_span(v->cls.code, b, sizeof b), "I");
	date_is(v->start, "2014-02-10 22:53:00");
	assert_string_equal(copy_span(v->provider, b, sizeof b), "03525");
	const struct rec_event *dg = &find(&G, REC_EVENT, NULL)->u.event;
	assert_int_equal(dg->kind, EV_CONDITION);
	assert_string_equal(copy_span(dg->code.code, b, sizeof b), "440.21");
	assert_string_equal(copy_span(dg->code.system, b, sizeof b), "I9");
	extract_hl7v2.close(x);

	/* v2.8 ADT^A01: PID-3 of type MR with an HD authority, DG1, PR1, AL1, OBX */
	x = xopen("v2.8", DT_TZ_KEEP);
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/ADT-A01-01.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	p = &find(&G, REC_PERSON, "test1|PATID1234")->u.person;
	date_is(p->birth, "1988-08-18");
	assert_int_equal(s.events_by_kind[EV_CONDITION], 1);
	assert_int_equal(s.events_by_kind[EV_PROCEDURE], 1);
	assert_int_equal(s.events_by_kind[EV_ALLERGY], 1);
	assert_int_equal(s.events_by_kind[EV_MEASUREMENT], 1);
	const struct rec_event *al = &find(&G, REC_EVENT, "al1|test1|PATID1234|ICDO|P|")->u.event;
	assert_string_equal(copy_span(al->code.display, b, sizeof b), "PENICILLIN");
	find(&G, REC_LOCATION, NULL);
	find(&G, REC_PROVIDER, NULL);

	/* A11 cancels the visit, A40 merges, A13 reopens */
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/ADT-A11-01.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_retract *rt = &find(&G, REC_RETRACT, NULL)->u.retract;
	assert_int_equal(rt->target, REC_VISIT);
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/ADT-A40-02.hl7"), &s, &G);
	assert_int_equal(count_kind(&G, REC_MERGE), 2);
	const struct rec_merge *mg = &find(&G, REC_MERGE, "BCBS|56789")->u.merge;
	assert_string_equal(copy_span(mg->to, b, sizeof b), "BCBS|12345");
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/ADT-A13-01.hl7"), &s, &G);
	v = &find(&G, REC_VISIT, NULL)->u.visit;
	assert_int_equal(v->end.prec, DT_NONE);
	extract_hl7v2.close(x);
}

static void test_vxu_pharmacy_problems(void **state)
{
	(void)state;
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	char b[64];
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/VXU.hl7"), &s, &G);
	assert_int_equal(s.events_by_kind[EV_IMMUNIZATION], 3);
	const struct rec_event *ev = &find(&G, REC_EVENT, "rxa|NIST-AA-IZ-2|38760|0|1")->u.event;
	assert_string_equal(copy_span(ev->code.system, b, sizeof b), "CVX");
	assert_string_equal(copy_span(ev->code.code, b, sizeof b), "88");
	assert_true(isnan(ev->quantity)); /* 999: unknown */
	assert_int_equal(ev->origin, ORIG_EHR); /* 01 historical */
	ev = &find(&G, REC_EVENT, "rxa|NIST-AA-IZ-2|13696|0|1")->u.event;
	assert_string_equal(copy_span(ev->code.system, b, sizeof b), "NDC");
	assert_true(ev->quantity == 0.5);
	assert_string_equal(copy_span(ev->lot, b, sizeof b), "315841");
	assert_string_equal(copy_span(ev->route.code, b, sizeof b), "C28161");
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mL");
	date_is(ev->start, "2015-06-24");

	/* refusal counted, deletion retracts under the original's key */
	run(x, tu_fixture("hl7v2/vxu_refusal.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.events_by_kind[EV_IMMUNIZATION], 1);
	assert_int_equal(s.notes, 2);
	assert_int_equal(find(&G, REC_RETRACT, "rxa|NORTH|IZ-3|0|1")->u.retract.target, REC_EVENT);
	find(&G, REC_PROVIDER, "77");

	/* pharmacy: prescription with days supply and refills, dispense */
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/RDE-O11-01.hl7"), &s, &G);
	ev = &find(&G, REC_EVENT, "rxe|EPC|1163422591")->u.event;
	assert_int_equal(ev->kind, EV_DRUG);
	assert_int_equal(ev->origin, ORIG_PRESCRIPTION);
	assert_true(ev->quantity == 3.0);
	assert_int_equal(ev->refills, 12);
	assert_int_equal(ev->days_supply, 3);
	assert_string_equal(copy_span(ev->route.code, b, sizeof b), "IV");
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/RDS-O13-01.hl7"), &s, &G);
	ev = &find(&G, REC_EVENT, "rxd|EPC|1163422591|1")->u.event;
	assert_int_equal(ev->origin, ORIG_DISPENSE);
	assert_true(ev->quantity == 10.0);
	date_is(ev->start, "2020-12-12");

	/* problems: add, and delete through a retraction */
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/PC1-Problem-Add-v2.3.1.hl7"), &s, &G);
	ev = &find(&G, REC_EVENT, "prb|WEST|10290||26744|")->u.event;
	assert_int_equal(ev->origin, ORIG_PROBLEM_LIST);
	assert_string_equal(copy_span(ev->code.code, b, sizeof b), "596.5");
	run(x, tu_shared("hl7v2/microsoft-FHIR-Converter/PC1-Problem-Delete-v2.3.1.hl7"), &s, &G);
	find(&G, REC_RETRACT, "prb||10292||26806|");
	extract_hl7v2.close(x);
}

static void test_epic_profile(void **state)
{
	(void)state;
	struct extractor *x = xopen("epic", 0);
	struct tu_sink s;
	char b[64];
	run(x, tu_fixture("hl7v2/epic.hl7"), &s, &G);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(s.quarantined, 1); /* only an SSN: no MR repetition */
	assert_int_equal(s.last_q.code, E_NO_PATIENT);
	assert_string_equal(s.last_q.pos.where, "PID[1]-3");
	find(&G, REC_PERSON, "NORTH|E100");
	/* the result and its correction share a key */
	size_t n = 0;
	const char *k = "obx|LAB|F100|LN|2345-7|";
	for (size_t i = 0; i < G.n; i++)
		n += G.r[i].kind == REC_EVENT && strcmp(G.keys[i], k) == 0;
	assert_int_equal(n, 2);
	const struct rec_event *ev = &find(&G, REC_EVENT, k)->u.event;
	date_is(ev->start, "2023-03-01 12:30:00"); /* -0500 to UTC */
	assert_string_equal(copy_span(ev->value.unit.system, b, sizeof b), "UCUM");
	ev = &find(&G, REC_EVENT, "obx|LAB|F100|LN|2160-0|")->u.event;
	assert_string_equal(copy_span(ev->value.op, b, sizeof b), "<");
	assert_true(ev->value.num == 0.5);
	ev = &find(&G, REC_EVENT, "obx|LAB|F100|LN|600-7|")->u.event; /* P: loaded */
	assert_int_equal(ev->value.kind, VAL_CODED);
	assert_string_equal(copy_span(ev->value.coded.system, b, sizeof b), "SCT");
	find(&G, REC_EVENT, "obx|LAB|F100|L|GLU|"); /* local code as written */
	find(&G, REC_RETRACT, "obx|LAB|F100|L|GLU|"); /* D */
	assert_int_equal(s.notes, 2);                 /* X counted, D counted */
	extract_hl7v2.close(x);

	/* the generic profile takes the SSN when there is nothing else */
	x = xopen(NULL, 0);
	run(x, tu_fixture("hl7v2/epic.hl7"), &s, &G);
	assert_int_equal(s.loaded, 3);
	find(&G, REC_PERSON, "SSA|SSN2");
	extract_hl7v2.close(x);
}

static void test_cerner_profile(void **state)
{
	(void)state;
	struct extractor *x = xopen("cerner", -300);
	struct tu_sink s;
	char b[64];
	run(x, tu_fixture("hl7v2/cerner.hl7"), &s, &G);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(x->batch_mismatch, 0);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx|HNAM|F200|99CERNER|LAB123|")->u.event;
	assert_string_equal(copy_span(ev->code_alt.system, b, sizeof b), "LN");
	assert_string_equal(copy_span(ev->code_alt.code, b, sizeof b), "2345-7");
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg/dL");
	assert_int_equal(ev->value.unit.system.n, 0);
	date_is(ev->start, "2023-03-01 07:30:00"); /* no zone: wall time */
	const struct rec_visit *v = &find(&G, REC_VISIT, "CERNER|V200")->u.visit;
	date_is(v->end, "2023-03-01 10:00:00");
	find(&G, REC_PERSON, "CERNER|123456");
	find(&G, REC_LOCATION, NULL);
	extract_hl7v2.close(x);
}

/* A Z segment's key holds its occurrence number among the segments of its
 * id, empty and "" ones counted too (they give no record). */
static void test_zfields_occurrences(void **state)
{
	(void)state;
	char prof[1024];
	char b[64];
	snprintf(prof, sizeof prof, "%s", tu_fixture("hl7v2/profile-z.conf"));
	const char *path = tu_tmpfile("hl7zocc", "z.hl7",
	      "MSH|^~\\&|EPIC|NORTH|OMOP|NORTH|20230301080000||ADT^A01|Z1|P|2.5.1\rEVN|A01|20230301075500\r"
	      "PID|1||3001^^^NORTH^MR||ZED^ZOE||19900101|F\rZPD|1|FIRST\rZPD|2|\rZPD|3|\"\"\rZPD|4|FOURTH\r");
	struct extractor *x = xopen(prof, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, "z|NORTH|3001|ZPD-2.0|1")->u.event;
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "FIRST");
	ev = &find(&G, REC_EVENT, "z|NORTH|3001|ZPD-2.0|4")->u.event;
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "FOURTH");
	assert_int_equal(count_kind(&G, REC_EVENT), 2);
	extract_hl7v2.close(x);
}

static void test_profile_aliases_zfields(void **state)
{
	(void)state;
	char path[1024];
	char b[64];
	snprintf(path, sizeof path, "%s", tu_fixture("hl7v2/profile-z.conf"));
	struct extractor *x = xopen(path, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, tu_fixture("hl7v2/z.hl7"), &s, &G);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(s.skipped, 1);
	assert_string_equal(s.last_skip, "message type ADT^A08 not loaded");
	const struct rec_event *ev = &find(&G, REC_EVENT, "z|NORTH|3001|ZPD-2.0|1")->u.event;
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "CORNER PHARMACY&CO");
	assert_string_equal(copy_span(ev->code.system, b, sizeof b), "NORTH-Z");
	date_is(ev->start, "2023-03-01 07:55:00");
	find(&G, REC_EVENT, "obx|LAB|F300|NORTH-LAB|GLU|");
	assert_true(extract_hl7v2.wants(x, "/feeds/north/adt_20230301.hl7.zst"));
	assert_false(extract_hl7v2.wants(x, "/feeds/north/notes.pdf"));
	extract_hl7v2.close(x);

	/* a bad profile names its file and line */
	const char *dir = tu_tmpdir("hl7prof");
	snprintf(path, sizeof path, "%s/bad.conf", dir);
	assert_int_equal(tu_write(path, "[profile]\nbase = generic-2.5.1\n[patient]\nmrn_typo = MR\n"), 0);
	struct extractor *bad;
	struct err e;
	memset(&e, 0, sizeof e);
	assert_int_equal(extract_hl7v2.open(&bad, path, NULL, &e), -E_CONFIG);
	assert_int_equal(e.pos.line, 4);
	assert_non_null(strstr(e.msg, "mrn_typo"));
}

/* --- malformed input ------------------------------------------------------ */

static void test_malformed(void **state)
{
	(void)state;
	static const struct { const char *file; int code; const char *where; uint64_t line; } cases[] = {
		{ "bad_date_short.hl7", E_DATE, "OBX[2]-14", 9 },
		{ "bad_date_feb30.hl7", E_DATE, "PID[1]-7", 6 },
		{ "bad_escape.hl7", E_ENCODING, "OBX[1]-5", 8 },
		{ "wrong_delimiters.hl7", E_PARSE, "MSH-2", 5 },
		{ "missing_msh.hl7", E_MISSING, "MSH", 7 },
		{ "truncated_segment.hl7", E_PARSE, "segment 3", 7 },
		{ "truncated_result.hl7", E_MISSING, "OBX[1]-14", 8 },
		{ "no_patient.hl7", E_NO_PATIENT, "PID[1]-3", 6 },
	};
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[1024];
		snprintf(path, sizeof path, "hl7v2/%s", cases[i].file);
		for (int mode = 0; mode < 2; mode++) {
			struct tu_sink s;
			x->max_read = mode;
			run(x, tu_fixture(path), &s, NULL);
			if (s.loaded != 2 || s.quarantined != 1)
				fail_msg("%s: loaded %lu quarantined %lu", cases[i].file, s.loaded, s.quarantined);
			assert_int_equal(s.last_q.code, cases[i].code);
			assert_string_equal(s.last_q.pos.where, cases[i].where);
			assert_int_equal(s.last_q.pos.record, 2);
			assert_int_equal(s.last_q.pos.line, cases[i].line);
			assert_non_null(strstr(s.last_q.pos.file, cases[i].file));
		}
	}
	x->max_read = 0;
	struct tu_sink s;
	run(x, tu_fixture("hl7v2/mllp.hl7"), &s, NULL);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(s.begun, 2);
	extract_hl7v2.close(x);
}

/* A date is remembered by its field's bytes, its component and the
 * separators: the same bytes (the last ones parsed) cut by another component
 * separator are another date (here: none), and each OBX keeps its own time. */
static void test_dates_by_field_and_separators(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7dates", "dates.hl7",
	      "MSH|#~\\&|A|B|C|D|20230301||ORU#R01|1|P|2.5.1\rPID|1||7###H#MR\rOBR|1||ORD1\r"
	      "OBX|1|NM|1-1#A#LN||5||||||F|||20230103\r"
	      "OBX|2|NM|1-2#B#LN||6||||||F|||20230102#20230301\r"
	      "OBX|3|NM|1-3#C#LN||7||||||F|||20230102#20230301\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|2|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD2\r"
	      "OBX|1|NM|1-1^A^LN||5||||||F|||20230102#20230301\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_DATE);
	assert_string_equal(s.last_q.pos.where, "OBX[1]-14");
	date_is(find(&G, REC_EVENT, "obx||ORD1|LN|1-1|")->u.event.start, "2023-01-03");
	date_is(find(&G, REC_EVENT, "obx||ORD1|LN|1-2|")->u.event.start, "2023-01-02");
	date_is(find(&G, REC_EVENT, "obx||ORD1|LN|1-3|")->u.event.start, "2023-01-02");
	extract_hl7v2.close(x);
}

/* An ORU with two patients: the second patient's results, given no OBR of
 * their own, are keyed and dated without the first patient's order (its
 * number, its time OBR-7, its provider OBR-16). */
static void test_order_per_patient(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7orderpid", "two.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||1^^^H^MR\r"
	      "OBR|1||ORD1||||20230101080000|||||||||77^WELBY^MARCUS\r"
	      "OBX|1|NM|1-1^A^LN||5||||||F\r"
	      "PID|2||2^^^H^MR\rOBX|1|NM|1-2^B^LN||6||||||F|||20230102\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_event *first = &find(&G, REC_EVENT, "obx||ORD1|LN|1-1|")->u.event;
	date_is(first->start, "2023-01-01 08:00:00");
	assert_true(first->provider.n > 0);
	const struct rec_event *second = &find(&G, REC_EVENT, "obx|H|2|LN|1-2||20230102")->u.event;
	date_is(second->start, "2023-01-02");
	assert_int_equal(second->provider.n, 0);
	extract_hl7v2.close(x);
}

/* A date field is parsed as it is when it is a plain HL7 DTM; not when a
 * separator may be a character of a date: with '+' the component separator,
 * "20230104120000+0500" is the time 12:00 (no zone) and "20230105+0500" a
 * day; nor when it needs trimming or holds a repetition. Sites at UTC. */
static void test_dates_whole_field_or_cut(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7datecut", "dates.hl7",
	      "MSH|+~\\&|A|B|C|D|20230301||ORU+R01|1|P|2.5.1\rPID|1||7+++H+MR\rOBR|1||ORD1\r"
	      "OBX|1|NM|1-1+A+LN||5||||||F|||20230104120000+0500\r"
	      "OBX|2|NM|1-2+B+LN||6||||||F|||20230105+0500\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|2|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD2\r"
	      "OBX|1|NM|1-1^A^LN||5||||||F|||20230104120000+0500\r"
	      "OBX|2|NM|1-2^B^LN||6||||||F||| 20230106120000-0100\r"
	      "OBX|3|NM|1-3^C^LN||7||||||F|||20230107120000-0100~20230108\r");
	struct extractor *x = xopen(NULL, 0);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	date_is(find(&G, REC_EVENT, "obx||ORD1|LN|1-1|")->u.event.start, "2023-01-04 12:00:00");
	assert_int_equal(find(&G, REC_EVENT, "obx||ORD1|LN|1-2|")->u.event.start.prec, DT_DAY);
	date_is(find(&G, REC_EVENT, "obx||ORD2|LN|1-1|")->u.event.start, "2023-01-04 07:00:00");
	date_is(find(&G, REC_EVENT, "obx||ORD2|LN|1-2|")->u.event.start, "2023-01-06 13:00:00");
	date_is(find(&G, REC_EVENT, "obx||ORD2|LN|1-3|")->u.event.start, "2023-01-07 13:00:00");
	extract_hl7v2.close(x);
}

/* Short fields cut at their first component (OBX-2, OBX-7, OBX-11 under 8
 * bytes take a byte loop, longer ones the vector one): the same values. */
static void test_short_fields_first_component(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7short", "short.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD1\r"
	      "OBX|1|NM^x|1-1^A^LN||5||2-4^y||||F^z|||20230103\r"
	      "OBX|2|NM|1-2^B^LN||6||2.5-4.75^normal range||||F^final result|||20230103\r"
	      "OBX|3|ST^x|1-3^C^LN||high||3||||I^z|||20230103\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-1|")->u.event;
	assert_int_equal(ev->kind, EV_MEASUREMENT);
	assert_true(ev->value.num == 5 && ev->value.low == 2 && ev->value.high == 4);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-2|")->u.event;
	assert_true(ev->value.num == 6 && ev->value.low == 2.5 && ev->value.high == 4.75);
	assert_int_equal(count_kind(&G, REC_EVENT), 2); /* OBX 3, status I: counted, not loaded */
	extract_hl7v2.close(x);
}

/* An OBX short of OBX-14 (obx_short: each field read tested against the
 * fields the segment has), beside a full one (obx_read without the tests):
 * the same values, the time from OBR-7. */
static void test_obx_short_segment(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7obxshort", "short.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD1||||20230105\r"
	      "OBX|1|NM|s-1^A^LN|x|5|mg^^UCUM|1-3|N|||F\r"
	      "OBX|2|NM|s-2^B^LN|y|6|mg^^UCUM|2-4|H|||F|||20230103\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||ORD1|LN|s-1|x")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 5);
	assert_true(ev->value.low == 1 && ev->value.high == 3);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg");
	assert_string_equal(copy_span(ev->qualifier.code, b, sizeof b), "N");
	assert_string_equal(copy_span(ev->qualifier.system, b, sizeof b), "HL70078");
	int32_t day1 = ev->start.day; /* OBR-7, 2023-01-05 */
	assert_int_not_equal(ev->start.prec, DT_NONE);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|s-2|y")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 6);
	assert_true(ev->value.low == 2 && ev->value.high == 4);
	assert_string_equal(copy_span(ev->qualifier.code, b, sizeof b), "H");
	assert_int_equal(day1 - ev->start.day, 2); /* OBX-14, 2023-01-03 */
	extract_hl7v2.close(x);
}

/* The components of OBX-3 and OBX-6 by hx_comps_n: a field of at most 64
 * bytes with 64 readable behind its start in one mask (16, 17, 33, 64 bytes,
 * a separator as its last byte, the alternate ending at byte 64), else the
 * loop (65 bytes, a segment that ends sooner). */
static void test_obx_comps_mask(void **state)
{
	(void)state;
	char b[96];
#define TAIL "||||||||NORTH LAB^L|1 LAB WAY^^SPRINGFIELD^MA^01101^USA^B"
	const char *path = tu_tmpfile("hl7comps", "comps.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD1\r"
	      "OBX|1|NM|c16^DDDDDDDDD^LN||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|2|NM|c17^DDDDDDDDDD^LN||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|3|NM|c33^DDDDDDDDDDDDDDDDDDDDDDDDDD^LN||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|4|NM|c64^DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD^LN^a64^Alt^XX||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|5|NM|c65^DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD^LN^a65^Alt^XX||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|6|NM|c6y^DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD^LN^||5|mg^^UCUM|1-3|N|||F|||20230103" TAIL "\r"
	      "OBX|7|NM|c7^E^LN||5|mg|||||F|||20230103\r");
#undef TAIL
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(count_kind(&G, REC_EVENT), 7);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c16|")->u.event;
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "DDDDDDDDD");
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg");
	assert_string_equal(copy_span(ev->value.unit.system, b, sizeof b), "UCUM");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c17|")->u.event;
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "DDDDDDDDDD");
	assert_int_equal(ev->code_alt.code.n, 0);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c33|")->u.event;
	assert_int_equal(ev->code.display.n, 26);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c64|")->u.event;
	assert_int_equal(ev->code.display.n, 46);
	assert_string_equal(copy_span(ev->code_alt.code, b, sizeof b), "a64");
	assert_string_equal(copy_span(ev->code_alt.display, b, sizeof b), "Alt");
	assert_string_equal(copy_span(ev->code_alt.system, b, sizeof b), "XX");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c65|")->u.event;
	assert_int_equal(ev->code.display.n, 47);
	assert_string_equal(copy_span(ev->code_alt.code, b, sizeof b), "a65");
	assert_string_equal(copy_span(ev->code_alt.system, b, sizeof b), "XX");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c6y|")->u.event;
	assert_int_equal(ev->code.display.n, 56);
	assert_int_equal(ev->code_alt.code.n, 0);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|c7|")->u.event;
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "E");
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg");
	extract_hl7v2.close(x);
}

/* Numbers of a plain OBX read at once (hx_num_head): an NM value that is a
 * number and nothing else, an OBX-7 that is two numbers joined by '-' or
 * '_'; anything else read as before (range, hx_number). */
static void test_obx_plain_numbers(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7nums", "nums.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD1\r"
	      "OBX|1|NM|n-1^A^LN||-4.5|mg|-5-10||||F|||20230103\r"
	      "OBX|2|NM|n-2^A^LN||+3|mg|5--3||||F|||20230103\r"
	      "OBX|3|NM|n-3^A^LN||4.|mg|1-2-3||||F|||20230103\r"
	      "OBX|4|NM|n-4^A^LN||.5|mg|1.-2||||F|||20230103\r"
	      "OBX|5|NM|n-5^A^LN||7|mg|5-||||F|||20230103\r"
	      "OBX|6|NM|n-6^A^LN||1234567890123456|mg|1234567890123456-2||||F|||20230103\r"
	      "OBX|7|NM|n-7^A^LN||8 |mg|2-4 ||||F|||20230103\r"
	      "OBX|8|NM|n-8^A^LN||-|mg|2-4x||||F|||20230103\r"
	      "MSH|-~\\&|A|B|C|D|20230301||ORU-R01|2|P|2.5.1\rPID|1||8---H-MR\rOBR|1||ORD2\r"
	      "OBX|1|NM|m-1-LN||5|mg|3-5||||F|||20230103\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-1|")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == -4.5);
	assert_int_equal(ev->value.op.n, 0);
	assert_true(ev->value.has_low && ev->value.has_high && ev->value.low == -5 && ev->value.high == 10);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-2|")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 3);
	assert_true(ev->value.low == 5 && ev->value.high == -3);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-3|")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 4);
	assert_true(!ev->value.has_low && !ev->value.has_high); /* 1-2-3: no range */
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-4|")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 0.5);
	assert_true(ev->value.low == 1 && ev->value.high == 2);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-5|")->u.event;
	assert_true(!ev->value.has_low && !ev->value.has_high); /* 5-: no range */
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-6|")->u.event; /* 16 digits: hx_number_any */
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 1234567890123456.0);
	assert_true(ev->value.has_low && ev->value.low == 1234567890123456.0 && ev->value.high == 2);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-7|")->u.event; /* trimmed */
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 8);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "8 ");
	assert_true(ev->value.low == 2 && ev->value.high == 4);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|n-8|")->u.event;
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_true(!ev->value.has_low && !ev->value.has_high);
	/* '-' the component separator: OBX-7 "3-5" is "3", no range */
	ev = &find(&G, REC_EVENT, "obx||ORD2|LN|m|")->u.event;
	assert_true(ev->value.kind == VAL_NUM && ev->value.num == 5);
	assert_true(!ev->value.has_low && !ev->value.has_high);
	extract_hl7v2.close(x);
}

/* OBX fields read straight from the field table in a plain segment (no
 * escapes, high bytes, subcomponents, repetitions), cut in any other: the
 * first repetition of OBX-4 and OBX-7, escapes resolved in OBX-3 and OBX-6. */
static void test_obx_plain_or_not(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7plain", "plain.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\rOBR|1||ORD1\r"
	      "OBX|1|NM|1-1^A^LN|s1|5|mg^^UCUM|1-3||||F|||20230103\r"
	      "OBX|2|NM|1-2^B^LN|s2~x|6|mg^^UCUM|2-4~5-9||||F|||20230103\r"
	      "OBX|3|NM|1-3^C\\T\\D^LN||7|mg\\S\\dL^^UCUM|3-5||||F|||20230103\r"
	      "OBX|4|NM|1-4^D^LN||\"\"|mg|||||F|||20230103\r"
	      "OBX|5|NM|1-5^E^LN||<=0.5|mg|||||F|||20230103\r"
	      "OBX|6|NM|1-6^F^LN||pending|mg|||||F|||20230103\r"
	      /* codes and systems to trim or HL7 null (hx_trim_nul past its
	       * common case): a space at either end, `""` */
	      "OBX|7|NM| 1-7^G^LN ||8|mg ^^\"\"|||||F|||20230103\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-1|s1")->u.event;
	assert_true(ev->value.num == 5 && ev->value.low == 1 && ev->value.high == 3);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg");
	assert_string_equal(copy_span(ev->qualifier.system, b, sizeof b), "");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-2|s2")->u.event;
	assert_true(ev->value.num == 6 && ev->value.low == 2 && ev->value.high == 4);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-3|")->u.event;
	assert_true(ev->value.num == 7 && ev->value.low == 3 && ev->value.high == 5);
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "C&D");
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg^dL");
	assert_string_equal(copy_span(ev->value.unit.system, b, sizeof b), "UCUM");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-7|")->u.event;
	assert_true(ev->value.num == 8);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "mg");
	assert_int_equal(ev->value.unit.system.n, 0);
	/* NM values of a plain segment: HL7 null, a comparator, not a number */
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-4|")->u.event;
	assert_int_equal(ev->value.kind, VAL_NONE);
	assert_int_equal(ev->kind, EV_MEASUREMENT);
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-5|")->u.event;
	assert_int_equal(ev->value.kind, VAL_NUM);
	assert_true(ev->value.num == 0.5);
	assert_string_equal(copy_span(ev->value.op, b, sizeof b), "<=");
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "<=0.5");
	ev = &find(&G, REC_EVENT, "obx||ORD1|LN|1-6|")->u.event;
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "pending");
	assert_int_equal(ev->value.op.n, 0);
	assert_int_equal(s.notes, 1);
	extract_hl7v2.close(x);
}

/* hx_record gives what record_init does, by either copy of the template
 * (16-byte moves, or 32-byte ones on a CPU with AVX2). */
static void test_record_templates(void **state)
{
	(void)state;
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct hl7_msg m;
	memset(&m, 0, sizeof m);
	struct hx h = { .x = x, .m = &m };
	for (int avx2 = 0; avx2 < 2; avx2++) {
#if defined(__x86_64__) && defined(__GNUC__)
		if (avx2 && !__builtin_cpu_supports("avx2"))
			continue;
#else
		if (avx2)
			continue;
#endif
		m.avx2 = avx2;
		for (int k = 0; k <= REC_MERGE + 1; k++) {
			struct record a, b;
			memset(&a, 0x5a, sizeof a);
			hx_record(&h, &a, (enum rec_kind)k);
			record_init(&b, (enum rec_kind)k);
			assert_memory_equal(&a, &b, sizeof a);
		}
	}
	extract_hl7v2.close(x);
}

/* hx_number's fast path (digits, a point, digits) against span_to_double:
 * the same number, or -1 for what is none. */
static void test_numbers(void **state)
{
	(void)state;
	static const char *const ok[] = { "0", "5", "-5", "+7", "130.1", "3.", ".5", "-.25", " 4.7 ", "007",
		                          "123456789012345", "1.23456789012345", "1e3", "1.5E-2", "12345678901234567",
		                          "0.00000000000000000000001" /* 23 places: past the table of powers */ };
	static const char *const bad[] = { "", " ", "-", "+", ".", "-.", "1.2.3", "1-2", "x", "5x", "1..2", "--1" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		double a = NAN, b = NAN;
		assert_int_equal(hx_number(span_of(ok[i]), &a), 0);
		assert_int_equal(span_to_double(span_trim(span_of(ok[i])), &b), 0);
		assert_true(a == b);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double a;
		assert_int_equal(hx_number(span_of(bad[i]), &a), -1);
	}
}

/* The person's PID-3 repetition: the first of the profile's first type even
 * after one of another listed type, a listed type found late before the
 * fallback, empty and null ids passed over; mrn_repetition whatever the
 * types, and nothing when that one has no id. */
static void test_patient_identifier_choice(void **state)
{
	(void)state;
	char prof[1024];
	const char *path = tu_tmpfile("hl7pid", "pid.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||1^^^A^PT~2^^^B^MR~3^^^C^MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|2|P|2.5.1\rPID|1||4^^^A^SS~5^^^B^PT~6^^^C^PI\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|3|P|2.5.1\rPID|1||~\"\"^^^A^MR~ ^^^B^MR~7^^^D^SS~8^^^E^SS\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|4|P|2.5.1\rPID|1||9^^^A^MR~^^^B^SS\r"
	      /* repetitions of more than five components, ending past 16 bytes */
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|5|P|2.5.1\rPID|1||10^^^A^PT^XX^YY^1234567890123~11^^^B^PT^Q~12^^^F^MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|6|P|2.5.1\rPID|1||13^^^G^SS^^^^^^^^^^^^^^^^^^~14^^^H^MR\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 6);
	assert_int_equal(count_kind(&G, REC_PERSON), 6);
	find(&G, REC_PERSON, "B|2");
	find(&G, REC_PERSON, "C|6");
	find(&G, REC_PERSON, "D|7");
	find(&G, REC_PERSON, "A|9");
	find(&G, REC_PERSON, "F|12");
	find(&G, REC_PERSON, "H|14");
	extract_hl7v2.close(x);

	snprintf(prof, sizeof prof, "%s/rep2.conf", tu_tmpdir("hl7pidprof"));
	assert_int_equal(tu_write(prof, "[profile]\nbase = generic-2.5.1\n[patient]\nmrn_repetition = 2\n"), 0);
	x = xopen(prof, DT_TZ_KEEP);
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 4);
	assert_int_equal(s.quarantined, 2); /* the third and fourth: no id in the second repetition */
	assert_int_equal(s.last_q.code, E_NO_PATIENT);
	find(&G, REC_PERSON, "B|2");
	find(&G, REC_PERSON, "B|5");
	find(&G, REC_PERSON, "B|11");
	find(&G, REC_PERSON, "H|14");
	extract_hl7v2.close(x);
}

/* MSH-9, MSH-10 and MSH-18 are found without splitting the MSH, and the
 * last message type and character set are remembered: a type is known by
 * its bytes and the component separator that cut them, an event taken from
 * EVN-1 is not remembered with MSH-9, and MSH-18 switches the character set
 * back and forth. */
static void test_message_header(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("hl7msh");
	char path[1024], b[64];
	snprintf(path, sizeof path, "%s/msh.hl7", dir);
	const char *text =
	      "MSH|#~\\&|A|B|C|D|20230301||ORU#R01|1|P|2.5.1\rPID|1||1###H#MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU#R01|2|P|2.5.1\rPID|1||2^^^H^MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT|3|P|2.5.1\rEVN|A01\rPID|1||3^^^H^MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT|4|P|2.5.1\rEVN|A02\rPID|1||4^^^H^MR\r"
	      "MSH|^~\\&|||||||X\rPID|1||5^^^H^MR\r"
	      "MSH|^~\\&\rPID|1||6^^^H^MR\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|7|P|2.5.1||||||8859/1\rPID|1||7^^^H^MR|||||F^F\xe9minin\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|8|P|2.5.1||||||UNICODE UTF-8\rPID|1||8^^^H^MR|||||F^F\xe9minin\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|9|P|2.5.1||||||8859/1~UNICODE UTF-8|X\rPID|1||9^^^H^MR|||||F^F\xe9minin\r";
	for (int avx2 = 1; avx2 >= 0; avx2--) {
		struct extractor *x = xopen(NULL, DT_TZ_KEEP);
		x->m.avx2 = x->m.avx2 && avx2; /* 0: MSH fields found 16 bytes at a time */
		struct tu_sink s;
		assert_int_equal(tu_write(path, text), 0);
		run(x, path, &s, &G);
		assert_int_equal(s.begun, 9);
		assert_int_equal(s.loaded, 4);
		assert_int_equal(s.skipped, 3);
		assert_int_equal(s.quarantined, 2);
		find(&G, REC_PERSON, "H|1");
		find(&G, REC_PERSON, "H|3");
		assert_string_equal(copy_span(find(&G, REC_PERSON, "H|7")->u.person.gender.display, b, sizeof b), "F\xc3\xa9minin");
		assert_string_equal(copy_span(find(&G, REC_PERSON, "H|9")->u.person.gender.display, b, sizeof b), "F\xc3\xa9minin");
		assert_int_equal(s.last_q.code, E_ENCODING); /* the eighth: UTF-8 */
		assert_string_equal(s.last_q.pos.where, "PID[1]-8.1");
		assert_string_equal(s.last_skip, "message type X^ not loaded");
		assert_string_equal(s.last_source_id, "9");

		/* the skips before, each the last of a run */
		static const struct { const char *text, *skip; } runs[] = {
			{ "MSH|#~\\&|A|B|C|D|20230301||ORU#R01|1|P|2.5.1\rPID|1||1###H#MR\r"
			  "MSH|^~\\&|A|B|C|D|20230301||ORU#R01|2|P|2.5.1\rPID|1||2^^^H^MR\r", "message type ORU?R01^ not loaded" },
			{ "MSH|^~\\&|A|B|C|D|20230301||ADT|3|P|2.5.1\rEVN|A01\rPID|1||3^^^H^MR\r"
			  "MSH|^~\\&|A|B|C|D|20230301||ADT|4|P|2.5.1\rEVN|A02\rPID|1||4^^^H^MR\r", "message type ADT^A02 not loaded" },
		};
		for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
			assert_int_equal(tu_write(path, runs[i].text), 0);
			run(x, path, &s, &G);
			assert_int_equal(s.loaded, 1);
			assert_int_equal(s.skipped, 1);
			assert_string_equal(s.last_skip, runs[i].skip);
		}
		extract_hl7v2.close(x);
	}
}

/* Fields read from segments not split (MSH-9, -10, -18; PV1-19) at every
 * offset a block boundary can fall on, in segments shorter and longer than
 * a block, with and without fields after them; PV1-19 with an escape, a
 * subcomponent, repetitions, a null id; both ways (AVX2, SSE2). */
static void test_fields_unsplit(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("hl7unsplit");
	char path[1024], line[512], key[64], b[64];
	snprintf(path, sizeof path, "%s/unsplit.hl7", dir);
	size_t cap = 1 << 16, len = 0;
	char *text = xmalloc(cap);
	enum { NPAD = 48 };
	for (int pad = 0; pad < NPAD; pad++) {
		const char *pv1_19 = pad == 5 ? "V5^^^N\\T\\X&1.2&ISO^VN" : pad == 6 ? "V6^^^N~V7^^^M" :
		                     pad == 7 ? "\"\"^^^N" : "";
		char v19[64];
		snprintf(v19, sizeof v19, "V%d^^^N", pad);
		len += (size_t)snprintf(text + len, cap - len,
		      "MSH|^~\\&|%.*s|B|C|D|20230301||ORU^R01|M%d|P|2.5.1||||||%s%s\r"
		      "PID|1||%d^^^H^MR\r"
		      "PV1|%.*s||||||||||||||||||%s%s\r"
		      "OBR|1||O%d\r"
		      "OBX|1|NM|1-1^Sod%sum^LN||5||||||F|||20230103\r",
		      pad, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pad,
		      pad % 2 ? "8859/1" : "", pad % 3 ? "" : "|X", pad,
		      pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		      pad >= 5 && pad <= 7 ? pv1_19 : v19, pad % 4 ? "" : "|Z|Z", pad, pad % 2 ? "\xe9" : "e");
	}
	assert_int_equal(tu_write(path, text), 0);
	free(text);
	for (int avx2 = 1; avx2 >= 0; avx2--) {
		struct extractor *x = xopen(NULL, DT_TZ_KEEP);
		x->m.avx2 = x->m.avx2 && avx2;
		struct tu_sink s;
		run(x, path, &s, &G);
		assert_int_equal(s.loaded, NPAD);
		assert_string_equal(s.last_source_id, "M47");
		for (int pad = 0; pad < NPAD; pad++) {
			snprintf(line, sizeof line, "obx||O%d|LN|1-1|", pad);
			const struct rec_event *ev = &find(&G, REC_EVENT, line)->u.event;
			if (pad == 5)
				snprintf(key, sizeof key, "N&X|V5");
			else if (pad == 7)
				key[0] = '\0';
			else
				snprintf(key, sizeof key, "N|V%d", pad);
			assert_string_equal(copy_span(ev->visit, b, sizeof b), key);
			assert_string_equal(copy_span(ev->code.display, b, sizeof b), pad % 2 ? "Sod\xc3\xa9um" : "Sodeum");
		}
		extract_hl7v2.close(x);
	}
}

/* Records whose spans must hold until their message ends: what each
 * pointed to when emitted is compared with what it points to at the end. */
static struct {
	struct span name;
	char copy[64];
} held[128];
static size_t nheld;
static const struct sink_ops *held_ops;
static struct sink_ops held_check_ops;

static void hold(struct span v)
{
	if (v.n && nheld < sizeof held / sizeof held[0]) {
		held[nheld].name = v;
		copy_span(v, held[nheld].copy, sizeof held[0].copy);
		nheld++;
	}
}

static void held_emit(struct tu_sink *s, const struct record *r)
{
	on_emit(s, r);
	if (r->kind == REC_PROVIDER)
		hold(r->u.provider.name);
	if (r->kind == REC_PERSON) {
		const struct rec_person *p = &r->u.person;
		hold(p->gender.code), hold(p->gender.display), hold(p->gender.system);
		hold(p->race.code), hold(p->race.display), hold(p->race.system);
	}
}

static int held_end(struct sink *b, struct err *e)
{
	char now[64];
	for (size_t i = 0; i < nheld; i++)
		assert_string_equal(copy_span(held[i].name, now, sizeof now), held[i].copy);
	nheld = 0;
	return held_ops->end(b, e);
}

/* run, the spans hold() kept (held_emit: provider names, person codes)
 * checked when each message ends */
static void run_held(struct extractor *x, const char *path, struct tu_sink *s)
{
	struct err e;
	memset(&e, 0, sizeof e);
	tu_sink_init(s);
	s->on_emit = held_emit;
	s->user = &G;
	G.n = 0;
	if (!keep.chunk_size)
		arena_init(&keep, 1 << 20);
	arena_reset(&keep);
	held_ops = s->base.ops;
	held_check_ops = *held_ops;
	held_check_ops.end = held_end;
	s->base.ops = &held_check_ops;
	nheld = 0;
	if (extract_hl7v2.run(x, path, &s->base, &e) != 0)
		fail_msg("%s: %s", path, e.msg);
	assert_int_equal(s->begun, s->loaded);
}

/* Providers' names and NPIs, remembered from message to message by the
 * bytes after the identifier (and the separators): six in one message (more
 * than are remembered), a segment with an escape, another subcomponent
 * separator; every name still what it was when its message ends. */
static void test_provider_names(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("hl7prov");
	char path[1024], b[64];
	snprintf(path, sizeof path, "%s/prov.hl7", dir);
	const char *m1 =
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A01|1|P|2.5.1\rEVN|A01|20230301\rPID|1||1^^^H^MR\r"
	      "PD1||||4^FAM4^GIV4^^^^^^^^^^XX\r"
	      "PV1|1|I|||||1^FAM1^GIV1^^^^^^^^^^NPI|2^FAM2|||||||||3^^GIV3||V1^^^H\r"
	      "DG1|1||I10^Hypertension^I10|||||||||||||5^FAM5&SUB^GIV5\r"
	      "PR1|1||P1^Proc^CPT||20230301||||||6^FAM6^GIV6^^^^^^^^^^NPI\r";
	const char *m2 =
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A01|2|P|2.5.1\rEVN|A01|20230301\rPID|1||1^^^H^MR\r"
	      "PD1||||4^FAM4^GIV4^^^^^^^^^^XX\r"
	      "PV1|1|I|||||7^F\\T\\M^G|2^FAM2|||||||||3^^GIV3||V1^^^H\r"
	      "DG1|1||I10^Hypertension^I10|||||||||||||5^FAM5&SUB^GIV5\r"
	      "PR1|1||P1^Proc^CPT||20230301||||||6^FAM6^GIV6^^^^^^^^^^NPI\r";
	const char *m3 =
	      "MSH|^~\\#|A|B|C|D|20230301||ADT^A01|3|P|2.5.1\rEVN|A01|20230301\rPID|1||1^^^H^MR\r"
	      "PD1||||4^FAM4^GIV4^^^^^^^^^^XX\r"
	      "PV1|1|I|||||1^FAM1^GIV1^^^^^^^^^^NPI|2^FAM2|||||||||3^^GIV3||V1^^^H\r"
	      "DG1|1||I10^Hypertension^I10|||||||||||||5^FAM5&SUB^GIV5\r"
	      "PR1|1||P1^Proc^CPT||20230301||||||6^FAM6^GIV6^^^^^^^^^^NPI\r";
	const char *msgs[] = { m1, m2, m3, m1, m1 };
	static const struct { const char *id, *name; int npi; } want[] = {
		{ "1", "GIV1 FAM1", 1 }, { "2", "FAM2", 0 }, { "3", "GIV3", 0 },
		{ "4", "GIV4 FAM4", 0 }, { "5", "GIV5 FAM5", 0 }, { "6", "GIV6 FAM6", 1 },
	};
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
		struct tu_sink s;
		assert_int_equal(tu_write(path, msgs[k]), 0);
		run_held(x, path, &s);
		assert_int_equal(s.loaded, 1);
		assert_int_equal(count_kind(&G, REC_PROVIDER), 6);
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
			if (k == 1 && i == 0)
				continue;
			const char *name = k == 2 && i == 4 ? "GIV5 FAM5&SUB" : want[i].name;
			const struct rec_provider *pr = &find(&G, REC_PROVIDER, want[i].id)->u.provider;
			assert_string_equal(copy_span(pr->name, b, sizeof b), name);
			assert_string_equal(copy_span(pr->npi, b, sizeof b), want[i].npi ? want[i].id : "");
		}
		if (k == 1)
			assert_string_equal(copy_span(find(&G, REC_PROVIDER, "7")->u.provider.name, b, sizeof b), "G F&M");
	}
	/* the same bytes, another subcomponent separator: another name */
	static const struct { const char *text, *name; } one[] = {
		{ "MSH|^~\\&|A|B|C|D|20230301||ADT^A01|4|P|2.5.1\rPID|1||1^^^H^MR\rPV1|1|I|||||8^F8&S^G8\r", "G8 F8" },
		{ "MSH|^~\\#|A|B|C|D|20230301||ADT^A01|5|P|2.5.1\rPID|1||1^^^H^MR\rPV1|1|I|||||8^F8&S^G8\r", "G8 F8&S" },
		{ "MSH|^~\\&|A|B|C|D|20230301||ADT^A01|6|P|2.5.1\rPID|1||1^^^H^MR\rPV1|1|I|||||8^F8&S^G8\r", "G8 F8" },
	};
	for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
		struct tu_sink s;
		assert_int_equal(tu_write(path, one[k].text), 0);
		run_held(x, path, &s);
		assert_string_equal(copy_span(find(&G, REC_PROVIDER, "8")->u.provider.name, b, sizeof b), one[k].name);
	}
	extract_hl7v2.close(x);
}

/* Genders and races remembered from message to message by the field's
 * bytes and separators: more distinct ones in a message than are remembered,
 * the same bytes cut by another component or repetition separator; every
 * code still what it was when its message ends. */
static void test_person_codes(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("hl7codes");
	char path[1024], b[64], text[4096], key[32];
	snprintf(path, sizeof path, "%s/codes.hl7", dir);
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	for (int round = 0; round < 2; round++) {
		/* twelve patients, each with a gender and race of their own */
		size_t len = (size_t)snprintf(text, sizeof text, "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|%d|P|2.5.1\r", round);
		for (int i = 0; i < 12; i++)
			len += (size_t)snprintf(text + len, sizeof text - len, "PID|1||%d^^^H^MR|||||G%d^Gender %d||R%d^Race %d^HL70005\r",
			                        i, (i + round) % 12, (i + round) % 12, i, i);
		assert_int_equal(tu_write(path, text), 0);
		run_held(x, path, &s);
		assert_int_equal(s.loaded, 1);
		for (int i = 0; i < 12; i++) {
			snprintf(key, sizeof key, "H|%d", i);
			const struct rec_person *p = &find(&G, REC_PERSON, key)->u.person;
			snprintf(key, sizeof key, "G%d", (i + round) % 12);
			assert_string_equal(copy_span(p->gender.code, b, sizeof b), key);
			assert_string_equal(copy_span(p->gender.system, b, sizeof b), "HL70001");
			snprintf(key, sizeof key, "Race %d", i);
			assert_string_equal(copy_span(p->race.display, b, sizeof b), key);
		}
	}
	/* the same bytes, other separators */
	static const struct { const char *text, *gender, *race; } sep[] = {
		{ "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||1^^^H^MR|||||F~M||2106-3^White^CDCREC\r", "F", "2106-3" },
		{ "MSH|^#\\&|A|B|C|D|20230301||ORU^R01|2|P|2.5.1\rPID|1||1^^^H^MR|||||F~M||2106-3^White^CDCREC\r", "F~M", "2106-3" },
		{ "MSH|#~\\&|A|B|C|D|20230301||ORU#R01|3|P|2.5.1\rPID|1||1###H#MR|||||F~M||2106-3^White^CDCREC\r", "F", "2106-3^White^CDCREC" },
		{ "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|4|P|2.5.1\rPID|1||1^^^H^MR|||||F~M||2106-3^White^CDCREC\r", "F", "2106-3" },
	};
	for (size_t k = 0; k < sizeof sep / sizeof sep[0]; k++) {
		assert_int_equal(tu_write(path, sep[k].text), 0);
		run_held(x, path, &s);
		const struct rec_person *p = &find(&G, REC_PERSON, "H|1")->u.person;
		assert_string_equal(copy_span(p->gender.code, b, sizeof b), sep[k].gender);
		assert_string_equal(copy_span(p->race.code, b, sizeof b), sep[k].race);
	}
	extract_hl7v2.close(x);
}

/* The patient's address (PID-11) in a segment without escapes (its
 * components are the parts), with an escape, with a street of subcomponents,
 * with a null city; the death date and indicator (PID-29, PID-30), and
 * neither. */
static void test_location_death(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7loc", "loc.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|1|P|2.5.1\rEVN|A28\rPID|1||1^^^H^MR|||||||| 12 MAIN ST ^APT 4^SPRINGFIELD^MA^01101^USA^H^^HAMPDEN\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|2|P|2.5.1\rEVN|A28\rPID|1||2^^^H^MR||||||||12 MAIN ST^^SPRING\\T\\FIELD^MA^01101\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|3|P|2.5.1\rEVN|A28\rPID|1||3^^^H^MR||||||||12 MAIN ST&MAIN ST&12^^SPRINGFIELD^MA\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|4|P|2.5.1\rEVN|A28\rPID|1||4^^^H^MR||||||||1 A ST^^\"\"^MA\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|5|P|2.5.1\rEVN|A28\rPID|1||5^^^H^MR||||||||||||||||||||||||||20230101\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|6|P|2.5.1\rEVN|A28\rPID|1||6^^^H^MR|||||||||||||||||||||||||||Y\r"
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A28|7|P|2.5.1\rEVN|A28\rPID|1||7^^^H^MR\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 7);
	assert_int_equal(count_kind(&G, REC_LOCATION), 4);
	const struct rec_location *l = &find(&G, REC_LOCATION, "loc|12 MAIN ST|SPRINGFIELD|MA|01101|USA")->u.location;
	assert_string_equal(copy_span(l->address_1, b, sizeof b), "12 MAIN ST");
	assert_string_equal(copy_span(l->address_2, b, sizeof b), "APT 4");
	assert_string_equal(copy_span(l->county, b, sizeof b), "HAMPDEN");
	assert_string_equal(copy_span(l->country, b, sizeof b), "USA");
	find(&G, REC_LOCATION, "loc|12 MAIN ST|SPRING&FIELD|MA|01101|");
	find(&G, REC_LOCATION, "loc|12 MAIN ST MAIN ST 12|SPRINGFIELD|MA||");
	l = &find(&G, REC_LOCATION, "loc|1 A ST||MA||")->u.location;
	assert_int_equal(l->city.n, 0);
	assert_int_equal(count_kind(&G, REC_DEATH), 1);
	date_is(find(&G, REC_DEATH, "H|5")->u.death.date, "2023-01-01");
	assert_int_equal(s.notes, 1); /* PID-30 Y without PID-29 */
	extract_hl7v2.close(x);
}

/* The k-th record (from 0) of the kind with the key, in the order emitted. */
static const struct record *find_nth(struct got *g, int kind, const char *key, size_t k)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->r[i].kind == kind && strcmp(g->keys[i], key) == 0 && k-- == 0)
			return &g->r[i];
	fail_msg("fewer records of kind %d with key %s", kind, key);
	return NULL;
}

/* How many records of the kind have the key. */
static size_t count_key(struct got *g, int kind, const char *key)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n; i++)
		k += g->r[i].kind == kind && strcmp(g->keys[i], key) == 0;
	return k;
}

/* Race (PID-10) and ethnicity (PID-22) on one person: each its own code,
 * text and system, none taken for the other; an ethnicity without a system
 * gets the HL7 table PID-22 draws from (HL70189), and a PID without PID-22
 * gives no ethnicity. */
static void test_person_race_ethnicity(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7eth", "eth.hl7",
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230301||ADT^A04|E1|P|2.5.1\rEVN|A04|20230301\r"
	      "PID|1||5101^^^NORTH^MR||DOE^ANA||19800101|F||2106-3^White^CDCREC||||||||||||N^Not Hispanic or Latino^HL70189\r"
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230301||ADT^A04|E2|P|2.5.1\rEVN|A04|20230301\r"
	      "PID|1||5102^^^NORTH^MR||ROE^BEA||19810101|F||2054-5^Black or African American^CDCREC||||||||||||H^Hispanic or Latino\r"
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230301||ADT^A04|E3|P|2.5.1\rEVN|A04|20230301\r"
	      "PID|1||5103^^^NORTH^MR||POE^CY||19820101|M||2028-9^Asian^CDCREC\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 3);
	const struct rec_person *p = &find(&G, REC_PERSON, "NORTH|5101")->u.person;
	assert_string_equal(copy_span(p->race.code, b, sizeof b), "2106-3");
	assert_string_equal(copy_span(p->race.display, b, sizeof b), "White");
	assert_string_equal(copy_span(p->race.system, b, sizeof b), "CDCREC");
	assert_string_equal(copy_span(p->ethnicity.code, b, sizeof b), "N");
	assert_string_equal(copy_span(p->ethnicity.display, b, sizeof b), "Not Hispanic or Latino");
	assert_string_equal(copy_span(p->ethnicity.system, b, sizeof b), "HL70189");
	p = &find(&G, REC_PERSON, "NORTH|5102")->u.person;
	assert_string_equal(copy_span(p->race.code, b, sizeof b), "2054-5");
	assert_string_equal(copy_span(p->ethnicity.code, b, sizeof b), "H");
	assert_string_equal(copy_span(p->ethnicity.display, b, sizeof b), "Hispanic or Latino");
	assert_string_equal(copy_span(p->ethnicity.system, b, sizeof b), "HL70189"); /* the table's name */
	p = &find(&G, REC_PERSON, "NORTH|5103")->u.person;
	assert_string_equal(copy_span(p->race.code, b, sizeof b), "2028-9");
	assert_int_equal(p->ethnicity.code.n + p->ethnicity.display.n + p->ethnicity.system.n, 0);
	extract_hl7v2.close(x);
}

/* ADT^A08 (update) after an A04 for the same patient: the person again
 * under the same key with the new birth date, sex and race, so that the
 * loader replaces the row; the visit again under its key. ADT^A31 (update
 * person, adt_person): the person, and no visit even with a PV1 that has a
 * visit number and an admit time. */
static void test_adt_update_person_only(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7a08", "a08.hl7",
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230301||ADT^A04|U1|P|2.5.1\rEVN|A04|20230301\r"
	      "PID|1||5201^^^NORTH^MR||DOE^ANA||19800101|F||2106-3^White^CDCREC\r"
	      "PV1|1|O|||||||||||||||||V5201^^^NORTH^VN\r"
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230302||ADT^A08|U2|P|2.5.1\rEVN|A08|20230302\r"
	      "PID|1||5201^^^NORTH^MR||DOE^ANA||19800202|M||2054-5^Black or African American^CDCREC\r"
	      "PV1|1|E|||||||||||||||||V5201^^^NORTH^VN\r"
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230303||ADT^A31|U3|P|2.5.1\rEVN|A31|20230303\r"
	      "PID|1||5201^^^NORTH^MR||DOE^ANA||19800303|F\r"
	      "PV1|1|I|||||||||||||||||V5202^^^NORTH^VN|||||||||||||||||||||||||20230303080000\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 3);
	assert_int_equal(count_key(&G, REC_PERSON, "NORTH|5201"), 3);
	const struct rec_person *p = &find_nth(&G, REC_PERSON, "NORTH|5201", 0)->u.person;
	date_is(p->birth, "1980-01-01");
	assert_string_equal(copy_span(p->gender.code, b, sizeof b), "F");
	assert_string_equal(copy_span(p->race.code, b, sizeof b), "2106-3");
	/* A08: the new values under the same key */
	p = &find_nth(&G, REC_PERSON, "NORTH|5201", 1)->u.person;
	date_is(p->birth, "1980-02-02");
	assert_string_equal(copy_span(p->gender.code, b, sizeof b), "M");
	assert_string_equal(copy_span(p->race.code, b, sizeof b), "2054-5");
	assert_string_equal(copy_span(p->race.display, b, sizeof b), "Black or African American");
	assert_int_equal(count_key(&G, REC_VISIT, "NORTH|V5201"), 2);
	const struct rec_visit *v = &find_nth(&G, REC_VISIT, "NORTH|V5201", 1)->u.visit;
	assert_string_equal(copy_span(v->cls.code, b, sizeof b), "E");
	assert_string_equal(copy_span(v->person, b, sizeof b), "NORTH|5201");
	/* A31: the person only */
	p = &find_nth(&G, REC_PERSON, "NORTH|5201", 2)->u.person;
	date_is(p->birth, "1980-03-03");
	assert_string_equal(copy_span(p->gender.code, b, sizeof b), "F");
	assert_int_equal(count_kind(&G, REC_VISIT), 2);
	assert_int_equal(count_key(&G, REC_VISIT, "NORTH|V5202"), 0);
	extract_hl7v2.close(x);
}

/* PV1-44 (admit) without PV1-45 (discharge): the visit starts at PV1-44 and
 * has no end. In an A01 PV1-44 wins over EVN-2 (the fallback); in an A08
 * (no fallback) it is the only start. */
static void test_visit_admit_without_discharge(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7pv144", "pv144.hl7",
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230305||ADT^A01|A1|P|2.5.1\rEVN|A01|20230305090000\r"
	      "PID|1||5301^^^NORTH^MR\r"
	      "PV1|1|I|||||||||||||||||V5301^^^NORTH^VN|||||||||||||||||||||||||20230304221500\r"
	      "MSH|^~\\&|REG|NORTH|OMOP|NORTH|20230305||ADT^A08|A2|P|2.5.1\rEVN|A08|20230305090000\r"
	      "PID|1||5302^^^NORTH^MR\r"
	      "PV1|1|I|||||||||||||||||V5302^^^NORTH^VN|||||||||||||||||||||||||20230304061000\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	const struct rec_visit *v = &find(&G, REC_VISIT, "NORTH|V5301")->u.visit;
	date_is(v->start, "2023-03-04 22:15:00");
	assert_int_equal(v->end.prec, DT_NONE);
	assert_string_equal(copy_span(v->person, b, sizeof b), "NORTH|5301");
	v = &find(&G, REC_VISIT, "NORTH|V5302")->u.visit;
	date_is(v->start, "2023-03-04 06:10:00");
	assert_int_equal(v->end.prec, DT_NONE);
	extract_hl7v2.close(x);
}

/* PPR^PC2 (problem update) after PPR^PC1 (problem add): the problem again
 * under the PC1's key (the person and PRB-4, the problem instance id; not
 * the action PRB-1 nor its time PRB-2), with the new life cycle status
 * (PRB-14) and resolution date (PRB-9), its onset (PRB-16) unchanged.
 * Without PRB-4 the key is the person and the code, the same for both. */
static void test_ppr_update_same_key(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7pc2", "pc2.hl7",
	      "MSH|^~\\&|EHR|NORTH|OMOP|NORTH|20230301100000||PPR^PC1|P1|P|2.5.1\r"
	      "PID|1||6001^^^NORTH^MR||DOE^JOHN||19600101|M\r"
	      "PRB|AD|20230301100000|I10^Essential hypertension^I10|PRB-77^EHR|||20230301|||||||active^Active^HL70241||20230215\r"
	      "PRB|AD|20230301100000|E78.5^Hyperlipidemia^I10||||20230301|||||||active^Active^HL70241||20230110\r"
	      "MSH|^~\\&|EHR|NORTH|OMOP|NORTH|20230310100000||PPR^PC2|P2|P|2.5.1\r"
	      "PID|1||6001^^^NORTH^MR||DOE^JOHN||19600101|M\r"
	      "PRB|UP|20230310100000|I10^Essential hypertension^I10|PRB-77^EHR|||20230301||20230310|||||resolved^Resolved^HL70241||20230215\r"
	      "PRB|UP|20230310100000|E78.5^Hyperlipidemia^I10||||20230301||20230309|||||resolved^Resolved^HL70241||20230110\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(count_kind(&G, REC_EVENT), 4);
	assert_int_equal(count_kind(&G, REC_RETRACT), 0);
	/* the same key for the add and the update, each problem its own */
	const char *k1 = "prb|NORTH|6001|EHR|PRB-77|", *k2 = "prb|NORTH|6001||I10|E78.5";
	assert_int_equal(count_key(&G, REC_EVENT, k1), 2);
	assert_int_equal(count_key(&G, REC_EVENT, k2), 2);
	const struct rec_event *add = &find_nth(&G, REC_EVENT, k1, 0)->u.event;
	const struct rec_event *up = &find_nth(&G, REC_EVENT, k1, 1)->u.event;
	assert_int_equal(up->kind, EV_CONDITION);
	assert_int_equal(up->origin, ORIG_PROBLEM_LIST);
	assert_string_equal(copy_span(add->qualifier.code, b, sizeof b), "active");
	assert_int_equal(add->end.prec, DT_NONE);
	assert_string_equal(copy_span(up->code.code, b, sizeof b), "I10");
	assert_string_equal(copy_span(up->qualifier.code, b, sizeof b), "resolved");
	assert_string_equal(copy_span(up->qualifier.system, b, sizeof b), "HL70241");
	date_is(up->start, "2023-02-15");
	date_is(up->end, "2023-03-10");
	up = &find_nth(&G, REC_EVENT, k2, 1)->u.event;
	assert_string_equal(copy_span(up->qualifier.code, b, sizeof b), "resolved");
	date_is(up->end, "2023-03-09");
	extract_hl7v2.close(x);
}

/* ORU results of value type ST and TX with status F: loaded, their value
 * the text of OBX-5 (escapes resolved); repetitions of a text value (TX,
 * ST alike) joined by a line feed, an empty repetition an empty line. */
static void test_oru_text_values(void **state)
{
	(void)state;
	char b[128];
	const char *path = tu_tmpfile("hl7text", "text.hl7",
	      "MSH|^~\\&|LAB|NORTH|OMOP|NORTH|20230301120000||ORU^R01|T1|P|2.5.1\rPID|1||7001^^^NORTH^MR\r"
	      "OBR|1|P700^EHR|F700^LAB|11529-5^Surgical path report^LN|||20230301110000\r"
	      "OBX|1|ST|33747-0^General appearance^LN||Well nourished, no distress||||||F|||20230301113000\r"
	      "OBX|2|TX|22634-0^Path report.gross^LN||Specimen received fresh.~Two fragments, 1.2 cm.~~Entirely submitted.||||||F|||20230301113000\r"
	      "OBX|3|ST|8251-1^Service comment^LN||A\\F\\B \\T\\ C~second||||||F\r"
	      "OBX|4|TX|22637-3^Path report.final dx^LN||Benign.||||||F\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(count_kind(&G, REC_EVENT), 4);
	assert_int_equal(s.notes, 0);
	const struct rec_event *ev = &find(&G, REC_EVENT, "obx|LAB|F700|LN|33747-0|")->u.event;
	assert_int_equal(ev->origin, ORIG_LAB);
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "Well nourished, no distress");
	date_is(ev->start, "2023-03-01 11:30:00");
	ev = &find(&G, REC_EVENT, "obx|LAB|F700|LN|22634-0|")->u.event;
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b),
	                    "Specimen received fresh.\nTwo fragments, 1.2 cm.\n\nEntirely submitted.");
	ev = &find(&G, REC_EVENT, "obx|LAB|F700|LN|8251-1|")->u.event;
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "A|B & C\nsecond");
	date_is(ev->start, "2023-03-01 11:00:00"); /* no OBX-14: OBR-7 */
	ev = &find(&G, REC_EVENT, "obx|LAB|F700|LN|22637-3|")->u.event;
	assert_int_equal(ev->value.kind, VAL_TEXT);
	assert_string_equal(copy_span(ev->value.text, b, sizeof b), "Benign.");
	extract_hl7v2.close(x);
}

/* RAS^O17 (tests/fixtures/hl7v2/ras.hl7): the RXA is a drug administration
 * keyed by the ORC's filler order and RXA-1/2: its code (RXA-5), dose
 * (RXA-6 amount, RXA-7 units), route (RXR-1), start and end (RXA-3, RXA-4,
 * here converted to UTC), lot (RXA-15), the administering provider
 * (RXA-10), the patient and the visit. */
static void test_ras_administration(void **state)
{
	(void)state;
	char b[64];
	struct extractor *x = xopen(NULL, 0);
	struct tu_sink s;
	run(x, tu_fixture("hl7v2/ras.hl7"), &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_string_equal(s.last_source_id, "RAS1");
	assert_int_equal(count_kind(&G, REC_EVENT), 1);
	assert_int_equal(s.events_by_kind[EV_DRUG], 1);
	const struct rec_event *ev = &find(&G, REC_EVENT, "rxa|PHARM|F400|0|1")->u.event;
	assert_int_equal(ev->kind, EV_DRUG);
	assert_int_equal(ev->origin, ORIG_ADMINISTRATION);
	assert_string_equal(copy_span(ev->person, b, sizeof b), "NORTH|4001");
	assert_string_equal(copy_span(ev->visit, b, sizeof b), "NORTH|V400");
	assert_string_equal(copy_span(ev->code.system, b, sizeof b), "99NRX");
	assert_string_equal(copy_span(ev->code.code, b, sizeof b), "CEF1G");
	assert_string_equal(copy_span(ev->code.display, b, sizeof b), "Ceftriaxone 1 g injection");
	assert_true(ev->quantity == 1.0);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "g");
	assert_string_equal(copy_span(ev->value.unit.system, b, sizeof b), "UCUM");
	assert_string_equal(copy_span(ev->route.code, b, sizeof b), "IV");
	assert_string_equal(copy_span(ev->route.display, b, sizeof b), "Intravenous");
	assert_string_equal(copy_span(ev->route.system, b, sizeof b), "HL70162");
	date_is(ev->start, "2023-03-01 15:05:00"); /* 10:05 -0500 */
	date_is(ev->end, "2023-03-01 15:35:00");
	assert_string_equal(copy_span(ev->lot, b, sizeof b), "LOT42");
	assert_string_equal(copy_span(ev->provider, b, sizeof b), "5555");
	assert_string_equal(copy_span(find(&G, REC_PROVIDER, "5555")->u.provider.name, b, sizeof b), "NANCY NURSE");
	extract_hl7v2.close(x);
}

/* --- the same whole or byte by byte ---------------------------------------- */

/* What a run gave, as sink_print writes it (each message's frame, source id,
 * records field by field, notes and end), into *out (malloc'd); the counts
 * in s. */
static void run_printed(struct extractor *x, const char *path, struct tu_sink *s, char **out)
{
	struct err e;
	memset(&e, 0, sizeof e);
	tu_sink_init(s);
	size_t n;
	FILE *f = open_memstream(out, &n);
	assert_non_null(f);
	struct sink_print p;
	sink_print_init(&p, f, &s->base);
	if (extract_hl7v2.run(x, path, &p.base, &e) != 0)
		fail_msg("%s: %s", path, e.msg);
	assert_int_equal(fclose(f), 0);
	assert_false(s->in_record);
	assert_int_equal(s->begun, s->loaded + s->quarantined + s->skipped);
}

static size_t count_lines(const char *t)
{
	size_t k = 0;
	for (; *t; t++)
		k += *t == '\n';
	return k;
}

/* The project's own fixtures, each through its profile, read whole and one
 * byte at a time (max_read 1: every line end, CRLF, MLLP frame byte and BOM
 * split across reads): the same counts, the same frames at the same lines
 * and offsets, the same records field by field, the same notes and ends. */
static void test_fixtures_byte_by_byte(void **state)
{
	(void)state;
	/* a profile with a '/' is a fixture; none: the generic one */
	static const struct { const char *file, *profile; int tz; unsigned long loaded, quarantined, skipped; } cases[] = {
		{ "hl7v2/epic.hl7", "epic", 0, 2, 1, 0 },
		{ "hl7v2/cerner.hl7", "cerner", -300, 2, 0, 0 },
		{ "hl7v2/z.hl7", "hl7v2/profile-z.conf", DT_TZ_KEEP, 2, 0, 1 },
		{ "hl7v2/mllp.hl7", NULL, DT_TZ_KEEP, 2, 0, 0 },
		{ "hl7v2/vxu_refusal.hl7", NULL, DT_TZ_KEEP, 1, 0, 0 },
		{ "hl7v2/ras.hl7", NULL, 0, 1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[1024], prof[1024];
		snprintf(path, sizeof path, "%s", tu_fixture(cases[i].file));
		const char *p = cases[i].profile;
		if (p && strchr(p, '/')) {
			snprintf(prof, sizeof prof, "%s", tu_fixture(p));
			p = prof;
		}
		struct extractor *x = xopen(p, cases[i].tz);
		struct tu_sink s[2];
		char *out[2];
		for (size_t mode = 0; mode < 2; mode++) {
			x->max_read = mode; /* 0: as much as the window takes, 1: one byte */
			run_printed(x, path, &s[mode], &out[mode]);
			if (s[mode].loaded != cases[i].loaded || s[mode].quarantined != cases[i].quarantined ||
			    s[mode].skipped != cases[i].skipped)
				fail_msg("%s%s: loaded %lu quarantined %lu skipped %lu, want %lu %lu %lu", cases[i].file,
				         mode ? " (byte by byte)" : "", s[mode].loaded, s[mode].quarantined, s[mode].skipped,
				         cases[i].loaded, cases[i].quarantined, cases[i].skipped);
		}
		assert_int_equal(s[1].notes, s[0].notes);
		assert_memory_equal(s[1].by_kind, s[0].by_kind, sizeof s[0].by_kind);
		assert_memory_equal(s[1].events_by_kind, s[0].events_by_kind, sizeof s[0].events_by_kind);
		assert_string_equal(s[1].last_source_id, s[0].last_source_id);
		assert_string_equal(s[1].last_skip, s[0].last_skip);
		assert_int_equal(s[1].last_q.code, s[0].last_q.code);
		assert_string_equal(s[1].last_q.pos.where, s[0].last_q.pos.where);
		assert_int_equal(s[1].last_q.pos.line, s[0].last_q.pos.line);
		assert_true(count_lines(out[0]) > 2 * cases[i].loaded); /* a begin, records, an end each */
		/* every record printed: those of loaded messages at least */
		unsigned long kept = 0, printed = 0;
		for (size_t k = 0; k < sizeof s[0].by_kind / sizeof s[0].by_kind[0]; k++)
			kept += s[0].by_kind[k];
		for (const char *l = strstr(out[0], "  rec "); l; l = strstr(l + 1, "  rec "))
			printed++;
		assert_true(kept > 0 && printed >= kept);
		tu_same_lines(cases[i].file, "byte by byte", out[0], out[1]);
		free(out[0]);
		free(out[1]);
		extract_hl7v2.close(x);
	}
}

/* 10 MB of PID-3 repetitions: parsed in bounded memory under the default
 * limit; beyond a profile's smaller limit, quarantined and the next loads. */
static void test_ten_megabytes_of_repetitions(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir("hl7big");
	char path[1024], prof[1024];
	snprintf(path, sizeof path, "%s/big.hl7", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("MSH|^~\\&|A|B|C|D|20230301||ADT^A04|1|P|2.5.1\rPID|1||", f);
	size_t n = 0;
	while (n < (10u << 20))
		n += (size_t)fprintf(f, "%zu^^^SSA^SS~", n);
	fputs("77^^^NORTH^MR||BIG^BERTHA||19700101|F\rPV1|1|O\r", f);
	fputs("MSH|^~\\&|A|B|C|D|20230301||ADT^A04|2|P|2.5.1\rPID|1||78^^^NORTH^MR\rPV1|1|O\r", f);
	fclose(f);
	/* the default profile: more than 10,000 repetitions of PID-3 */
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.last_q.code, E_TOO_LARGE);
	assert_int_equal(s.last_q.pos.record, 1);
	assert_string_equal(s.last_q.pos.where, "PID[1]-3");
	assert_non_null(strstr(s.last_q.msg, "max_repetitions (10000)"));
	assert_int_equal(count_kind(&G, REC_PERSON), 1);
	find(&G, REC_PERSON, "NORTH|78");
	extract_hl7v2.close(x);

	snprintf(prof, sizeof prof, "%s", tu_fixture("hl7v2/profile-z.conf"));
	x = xopen(prof, DT_TZ_KEEP);
	run(x, path, &s, &G);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.last_q.code, E_TOO_LARGE);
	assert_int_equal(s.last_q.pos.record, 1);
	find(&G, REC_PERSON, "NORTH|78");
	extract_hl7v2.close(x);
}

/* A profile's max_repetitions: a field repeated that often loads, once more
 * is quarantined at that field; MSH-2's repetition character is not counted
 * as a repetition of MSH-2's own, and other fields and messages load. */
static void test_max_repetitions(void **state)
{
	(void)state;
	char prof[1024], path[1024];
	snprintf(prof, sizeof prof, "%s",
	         tu_tmpfile("hl7repsp", "reps.conf", "[profile]\nbase = generic-2.5.1\nmax_repetitions = 10\n"));
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "MSH|^~\\&|A|B|C|D|20230301||ADT^A04|1|P|2.5.1\rPID|1||");
	for (int i = 0; i < 10; i++) /* PID-3 ten times, PID-5 three */
		n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%d^^^H^MR", i ? "~" : "", i + 1);
	n += snprintf(msg + n, sizeof msg - (size_t)n, "||A^B~C^D~E^F\rPV1|1|O\r");
	n += snprintf(msg + n, sizeof msg - (size_t)n, "MSH|^~\\&|A|B|C|D|20230301||ADT^A04|2|P|2.5.1\rPID|1||");
	for (int i = 0; i < 11; i++) /* once more */
		n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%d^^^H^MR", i ? "~" : "", i + 1);
	snprintf(msg + n, sizeof msg - (size_t)n, "\rPV1|1|O\r");
	snprintf(path, sizeof path, "%s", tu_tmpfile("hl7reps", "reps.hl7", msg));
	struct extractor *x = xopen(prof, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	assert_int_equal(s.quarantined, 1);
	find(&G, REC_PERSON, "H|1");
	assert_int_equal(s.last_q.code, E_TOO_LARGE);
	assert_int_equal(s.last_q.pos.record, 2);
	assert_string_equal(s.last_q.pos.where, "PID[1]-3");
	assert_non_null(strstr(s.last_q.msg, "11 repetitions"));
	/* the shortest field over the limit: eleven empty repetitions */
	run(x, tu_tmpfile("hl7repse", "e.hl7", "MSH|^~\\&|A|B|C|D|20230301||ADT^A04|1|P|2.5.1\rPID|1||1^^^H^MR||~~~~~~~~~~\r"),
	    &s, &G);
	assert_int_equal(s.quarantined, 1);
	assert_string_equal(s.last_q.pos.where, "PID[1]-5");
	extract_hl7v2.close(x);

	/* a value out of range is a one-line configuration error */
	struct extractor *bad;
	struct err e;
	struct conf_site site;
	memset(&site, 0, sizeof site);
	site.id = "test";
	memset(&e, 0, sizeof e);
	snprintf(prof, sizeof prof, "%s",
	         tu_tmpfile("hl7repsb", "bad.conf", "[profile]\nbase = generic-2.5.1\nmax_repetitions = 9\n"));
	assert_true(extract_hl7v2.open(&bad, prof, &site, &e) < 0);
	assert_int_equal(e.code, E_CONFIG);
	assert_non_null(strstr(e.msg, "max_repetitions must be 10 to 100000000"));
}

/*
 * Results under an OBR without an order number (OBR-2 and OBR-3 empty) are
 * keyed by the patient, the test and its time (OBX-14, else OBR-7), as
 * results without an OBR are: a correction sent later replaces the result
 * and a deletion finds it, while the message's other results still load.
 */
static void test_result_without_order_number(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7noorder", "r.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|1|P|2.5.1\rPID|1||7^^^H^MR\r"
	      "OBR|1|||1-0^Panel^LN|||20230101080000\r"
	      "OBX|1|NM|1-1^A^LN||5||||||F|||20230101090000\r"
	      "OBX|2|NM|1-2^B^LN||6||||||F\r"
	      "MSH|^~\\&|A|B|C|D|20230302||ORU^R01|2|P|2.5.1\rPID|1||7^^^H^MR\r"
	      "OBR|1|||1-0^Panel^LN|||20230101080000\r"
	      "OBX|1|NM|1-1^A^LN||5.5||||||C|||20230101090000\r"
	      "OBX|2|NM|1-2^B^LN||6||||||D\r"
	      "OBX|3|NM|1-3^C^LN||7||||||F\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	assert_int_equal(s.quarantined, 0);
	/* the first result and its correction under one key */
	size_t k = 0;
	for (size_t i = 0; i < G.n; i++)
		k += G.r[i].kind == REC_EVENT && strcmp(G.keys[i], "obx|H|7|LN|1-1||20230101090000") == 0;
	assert_int_equal(k, 2);
	/* the second (OBR-7's time) deleted under its key */
	find(&G, REC_EVENT, "obx|H|7|LN|1-2||20230101080000");
	assert_int_equal(find(&G, REC_RETRACT, "obx|H|7|LN|1-2||20230101080000")->u.retract.target, REC_EVENT);
	const struct rec_event *third = &find(&G, REC_EVENT, "obx|H|7|LN|1-3||20230101080000")->u.event;
	date_is(third->start, "2023-01-01 08:00:00");
	extract_hl7v2.close(x);
}

/* An A11 (visit cancelled) without a PV1 is quarantined at the segment it
 * lacks, not at no position at all. */
static void test_cancel_without_visit(void **state)
{
	(void)state;
	const char *path = tu_tmpfile("hl7a11", "a11.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||ADT^A11|1|P|2.5.1\rEVN|A11|20230301\rPID|1||7^^^H^MR\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.quarantined, 1);
	assert_int_equal(s.last_q.code, E_MISSING);
	assert_string_equal(s.last_q.pos.where, "PV1");
	assert_non_null(strstr(s.last_q.msg, "visit number (PV1-19)"));
	extract_hl7v2.close(x);
}

/* What a record holds goes into PostgreSQL text, which holds neither a NUL
 * byte nor invalid UTF-8 (a COPY with either fails the whole file): a NUL
 * anywhere, a \X00\ escape, an invalid message control id (MSH-10) or key
 * part (OBX-4) quarantines its message at that field; the rest load.
 * Latin-1 in a key part becomes UTF-8, escapes in MSH-10 are resolved. */
static void test_bytes_a_database_cannot_hold(void **state)
{
	(void)state;
	static const char msh[] = "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|";
	static const char rest[] = "PID|1||7^^^H^MR||DOE^JANE\rOBR|1|P1|F1|80048^BMP^C4|||20230301\r";
	static const struct {
		const char *id, *pid5, *obx, *charset;
		const char *where, *why; /* NULL: loads */
	} cases[] = {
		{ "1", "DO\0E", "1|NM|2345-7^Glucose^LN||98", "", "PID[1]-5", "a NUL byte" },
		{ "2", "DOE", "1|TX|8251-1^Note^LN||a\\X00\\b", "", "OBX[1]-5", "NUL" },
		{ "3\xED\xA0\x80", "DOE", "1|NM|2345-7^Glucose^LN||98", "UNICODE UTF-8", "MSH[1]-10", "invalid UTF-8" },
		{ "4", "DOE", "1|NM|2345-7^Glucose^LN|\xFF|98", "UNICODE UTF-8", "OBX[1]-4", "invalid UTF-8" },
		{ "A\\F\\B", "DOE", "1|NM|2345-7^Glucose^LN|\xE9|98", "8859/1", NULL, NULL },
	};
	char path[4096];
	snprintf(path, sizeof path, "%s/bytes.hl7", tu_tmpdir("hl7bytes"));
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char in[1024];
		size_t k = 0;
		k += (size_t)snprintf(in + k, sizeof in - k, "%s%s|P|2.5.1||||||%s\r", msh, cases[i].id, cases[i].charset);
		k += (size_t)snprintf(in + k, sizeof in - k, "PID|1||7^^^H^MR||");
		size_t n5 = cases[i].pid5 == cases[0].pid5 ? 5 : strlen(cases[i].pid5); /* the first holds a NUL */
		memcpy(in + k, cases[i].pid5, n5);
		k += n5;
		k += (size_t)snprintf(in + k, sizeof in - k, "\rOBR|1|P1|F1|80048^BMP^C4|||20230301\rOBX|%s||||||F|||20230301\r",
		                      cases[i].obx);
		k += (size_t)snprintf(in + k, sizeof in - k, "%sOK|P|2.5.1\r%sOBX|1|NM|2345-7^Glucose^LN||98||||||F\r", msh, rest);
		assert_int_equal(tu_write_bytes(path, in, k), 0);
		struct tu_sink s;
		run(x, path, &s, &G);
		if (!cases[i].where) {
			assert_int_equal(s.loaded, 2);
			assert_string_equal(s.last_source_id, "OK");
			assert_string_equal(G.keys[G.n - 1], "obx||F1|LN|2345-7|");
			/* the first message's result: its OBX-4 in UTF-8 */
			int found = 0;
			for (size_t r = 0; r < G.n; r++)
				found |= strcmp(G.keys[r], "obx||F1|LN|2345-7|\xC3\xA9") == 0;
			assert_true(found);
			continue;
		}
		if (s.quarantined != 1 || s.loaded != 1 || strcmp(s.last_q.pos.where, cases[i].where) != 0 ||
		    s.last_q.code != E_ENCODING || !strstr(s.last_q.msg, cases[i].why))
			fail_msg("case %zu: %lu quarantined, %lu loaded, at %s: %s", i, s.quarantined, s.loaded,
			         s.last_q.pos.where, s.last_q.msg);
	}
	extract_hl7v2.close(x);
	/* the source id of the last case, whose control id has an escape */
	const char *p2 = tu_tmpfile("hl7bytes2", "id.hl7", "MSH|^~\\&|A|B|C|D|20230301||ORU^R01|A\\F\\B|P|2.5.1\rPID|1||7^^^H^MR\r");
	struct extractor *x2 = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s2;
	run(x2, p2, &s2, NULL);
	assert_string_equal(s2.last_source_id, "A|B");
	extract_hl7v2.close(x2);
}

/* An RDE's RXE fields left empty come from the order's RXO (pharmacy order):
 * the give code (RXO-1), the dispense amount and units (RXO-11/12), the
 * refills (RXO-13) and the instructions (RXO-7); the RXE's own, where it
 * has them, win. */
static void test_rde_order_fallback(void **state)
{
	(void)state;
	char b[64];
	const char *path = tu_tmpfile("hl7rxo", "rde.hl7",
	      "MSH|^~\\&|A|B|C|D|20230301||RDE^O11|1|P|2.5.1\rPID|1||7^^^H^MR\r"
	      "ORC|NW|P100^EHR|F100^PH\r"
	      "RXO|197361^Amlodipine 5 MG Oral Tablet^RXNORM||||||^Take one daily||||30|TAB^tablet^UCUM|2\r"
	      "RXE|^^^20230301080000\r"
	      "MSH|^~\\&|A|B|C|D|20230302||RDE^O11|2|P|2.5.1\rPID|1||7^^^H^MR\r"
	      "ORC|NW|P200^EHR|F200^PH\r"
	      "RXO|197361^Amlodipine^RXNORM||||||^Take one daily||||30|TAB|2\r"
	      "RXE|^^^20230302080000|310798^HCTZ 25 MG^RXNORM|||||^Twice daily|||60|CAP|5\r");
	struct extractor *x = xopen(NULL, DT_TZ_KEEP);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 2);
	const struct rec_event *ev = &find(&G, REC_EVENT, "rxe|EHR|P100")->u.event;
	assert_string_equal(copy_span(ev->code.code, b, sizeof b), "197361");
	assert_string_equal(copy_span(ev->code.system, b, sizeof b), "RXNORM");
	assert_true(ev->quantity == 30.0);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "TAB");
	assert_int_equal(ev->refills, 2);
	assert_string_equal(copy_span(ev->sig, b, sizeof b), "Take one daily");
	date_is(ev->start, "2023-03-01 08:00:00");
	ev = &find(&G, REC_EVENT, "rxe|EHR|P200")->u.event;
	assert_string_equal(copy_span(ev->code.code, b, sizeof b), "310798");
	assert_true(ev->quantity == 60.0);
	assert_string_equal(copy_span(ev->value.unit.code, b, sizeof b), "CAP");
	assert_int_equal(ev->refills, 5);
	assert_string_equal(copy_span(ev->sig, b, sizeof b), "Twice daily");
	extract_hl7v2.close(x);
}

/* A profile's [dates]: assume_offset gives times written without a zone
 * their zone (a zoned time and a bare date keep theirs), and format reads
 * a sender's own date pattern. Site at UTC. */
static void test_profile_dates(void **state)
{
	(void)state;
	char prof[1024], path[1024];
	snprintf(path, sizeof path, "%s", tu_tmpfile("hl7dz", "z.hl7",
	         "MSH|^~\\&|A|B|C|D|20230301||ADT^A01|1|P|2.5.1\rPID|1||7^^^H^MR||||19800101\r"
	         "PV1|1|I|||||||||||||||||V1^^^H^VN|||||||||||||||||||||||||20230301080000|20230301090000-0700\r"));
	snprintf(prof, sizeof prof, "%s",
	         tu_tmpfile("hl7dzp", "z.conf", "[profile]\nbase = generic-2.5.1\n[dates]\nassume_offset = -0500\n"));
	struct extractor *x = xopen(prof, 0);
	struct tu_sink s;
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	const struct rec_visit *v = &find(&G, REC_VISIT, "H|V1")->u.visit;
	date_is(v->start, "2023-03-01 13:00:00"); /* 08:00 at -0500 */
	date_is(v->end, "2023-03-01 16:00:00");   /* its own -0700 */
	date_is(find(&G, REC_PERSON, "H|7")->u.person.birth, "1980-01-01");
	extract_hl7v2.close(x);
	x = xopen(NULL, 0); /* without it: the site's wall time */
	run(x, path, &s, &G);
	date_is(find(&G, REC_VISIT, "H|V1")->u.visit.start, "2023-03-01 08:00:00");
	extract_hl7v2.close(x);

	snprintf(path, sizeof path, "%s", tu_tmpfile("hl7df", "f.hl7",
	         "MSH|^~\\&|A|B|C|D|2023-03-01||ADT^A01|1|P|2.5.1\rPID|1||7^^^H^MR||||1980-01-02\r"
	         "PV1|1|I|||||||||||||||||V1^^^H^VN|||||||||||||||||||||||||2023-03-01 08:30\r"));
	snprintf(prof, sizeof prof, "%s",
	         tu_tmpfile("hl7dfp", "f.conf", "[profile]\nbase = generic-2.5.1\n[dates]\nformat = %Y-%m-%d%T\n"));
	x = xopen(prof, 0);
	run(x, path, &s, &G);
	assert_int_equal(s.loaded, 1);
	date_is(find(&G, REC_VISIT, "H|V1")->u.visit.start, "2023-03-01 08:30:00");
	date_is(find(&G, REC_PERSON, "H|7")->u.person.birth, "1980-01-02");
	extract_hl7v2.close(x);
}

/* record_print of the kinds the CSV extractor makes too (cost, coverage):
 * every field set, so that the fuzz tests look at every span of them. */
static void test_record_print_cost_coverage(void **state)
{
	(void)state;
	struct record c, pp;
	record_init(&c, REC_COST);
	c.u.cost.key = span_of("cost|1");
	c.u.cost.event = span_of("proc|9");
	c.u.cost.currency = span_of("USD");
	c.u.cost.total_charge = 120.5;
	c.u.cost.paid_by_patient = 20;
	c.u.cost.drg = span_of("470");
	record_init(&pp, REC_PAYER_PERIOD);
	pp.u.payer_period.key = span_of("cov|1");
	pp.u.payer_period.person = span_of("p1");
	pp.u.payer_period.start = (struct dt){ 19000, -1, DT_DAY };
	pp.u.payer_period.payer = span_of("MEDICARE");
	pp.u.payer_period.family = span_of("Self");
	char *out;
	size_t n;
	FILE *f = open_memstream(&out, &n);
	assert_non_null(f);
	record_print(f, &c);
	fputc('\n', f);
	record_print(f, &pp);
	assert_int_equal(fclose(f), 0);
	char want[512];
	snprintf(want, sizeof want,
	         "%d key=cost|1 event=proc|9 origin=%d currency=USD charge=120.5 patient=20 drg=470\n"
	         "%d key=cov|1 person=p1 start=19000/-1/%d payer=MEDICARE family=Self",
	         REC_COST, ORIG_CLAIM, REC_PAYER_PERIOD, DT_DAY);
	assert_string_equal(out, want);
	free(out);
}

/* sink_print's lines (what hl7_records prints and bench/compare_hl7.sh
 * compares: a field missing there hides a difference), each call passed on
 * to the next sink. */
static void test_sink_print(void **state)
{
	(void)state;
	char *out;
	size_t n;
	FILE *f = open_memstream(&out, &n);
	assert_non_null(f);
	struct tu_sink next;
	tu_sink_init(&next);
	struct sink_print p;
	sink_print_init(&p, f, &next.base);
	struct err_pos pos;
	memset(&pos, 0, sizeof pos);
	pos.record = 2;
	pos.line = 7;
	pos.offset = 300;
	struct err e;
	memset(&e, 0, sizeof e);
	struct record r;
	record_init(&r, REC_EVENT);
	r.u.event.kind = EV_MEASUREMENT;
	r.u.event.origin = ORIG_LAB;
	r.u.event.key = span_of("obx|K");
	r.u.event.code.system = span_of("LN");
	r.u.event.code.code = span_of("718-7");
	r.u.event.start = (struct dt){ 19417, 3600, DT_TIME };
	r.u.event.value.kind = VAL_NUM;
	r.u.event.value.num = 14.5;
	sink_begin(&p.base, &pos, span_of("MSH|..."));
	sink_source_id(&p.base, span_of("M1"));
	assert_int_equal(sink_emit(&p.base, &r, &e), 0);
	sink_note(&p.base, "result status X not loaded");
	assert_int_equal(sink_end(&p.base, &e), 0);
	struct err why;
	memset(&why, 0, sizeof why);
	why.code = E_DATE;
	snprintf(why.pos.where, sizeof why.pos.where, "PID[1]-7");
	why.pos.line = 9;
	snprintf(why.msg, sizeof why.msg, "not a date");
	sink_begin(&p.base, &pos, span_of("MSH|..."));
	assert_int_equal(sink_quarantine(&p.base, &why, &e), 0);
	sink_begin(&p.base, &pos, span_of("MSH|..."));
	assert_int_equal(sink_skip(&p.base, "message type ACK not loaded", &e), 0);
	assert_int_equal(fclose(f), 0);
	char want[1024];
	snprintf(want, sizeof want,
	         "begin 2 line 7 offset 300 bytes 7\n  id M1\n"
	         "  rec %d kind=%d origin=%d key=obx|K code=[LN|718-7|] start=19417/3600/%d value=%d num=14.5 days=-1 "
	         "refills=-1\n  note result status X not loaded\nend loaded\n"
	         "begin 2 line 7 offset 300 bytes 7\nend quarantined %s at PID[1]-7 line 9: not a date\n"
	         "begin 2 line 7 offset 300 bytes 7\nend skipped: message type ACK not loaded\n",
	         REC_EVENT, EV_MEASUREMENT, ORIG_LAB, DT_TIME, VAL_NUM, err_reason(E_DATE));
	assert_string_equal(out, want);
	free(out);
	/* and the next sink had it all */
	assert_int_equal(next.begun, 3);
	assert_int_equal(next.loaded, 1);
	assert_int_equal(next.quarantined, 1);
	assert_int_equal(next.skipped, 1);
	assert_int_equal(next.notes, 1);
	assert_int_equal(next.by_kind[REC_EVENT], 1);
	assert_string_equal(next.last_source_id, "M1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shared_file),
		cmocka_unit_test(test_oru_normative_example),
		cmocka_unit_test(test_lab_results_units_status),
		cmocka_unit_test(test_adt_person_visit),
		cmocka_unit_test(test_vxu_pharmacy_problems),
		cmocka_unit_test(test_epic_profile),
		cmocka_unit_test(test_cerner_profile),
		cmocka_unit_test(test_profile_aliases_zfields),
		cmocka_unit_test(test_zfields_occurrences),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_patient_identifier_choice),
		cmocka_unit_test(test_message_header),
		cmocka_unit_test(test_fields_unsplit),
		cmocka_unit_test(test_provider_names),
		cmocka_unit_test(test_person_codes),
		cmocka_unit_test(test_location_death),
		cmocka_unit_test(test_ten_megabytes_of_repetitions),
		cmocka_unit_test(test_dates_by_field_and_separators),
		cmocka_unit_test(test_order_per_patient),
		cmocka_unit_test(test_dates_whole_field_or_cut),
		cmocka_unit_test(test_short_fields_first_component),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_record_templates),
		cmocka_unit_test(test_obx_plain_or_not),
		cmocka_unit_test(test_obx_plain_numbers),
		cmocka_unit_test(test_obx_comps_mask),
		cmocka_unit_test(test_obx_short_segment),
		cmocka_unit_test(test_max_repetitions),
		cmocka_unit_test(test_result_without_order_number),
		cmocka_unit_test(test_cancel_without_visit),
		cmocka_unit_test(test_bytes_a_database_cannot_hold),
		cmocka_unit_test(test_rde_order_fallback),
		cmocka_unit_test(test_profile_dates),
		cmocka_unit_test(test_sink_print),
		cmocka_unit_test(test_record_print_cost_coverage),
		cmocka_unit_test(test_person_race_ethnicity),
		cmocka_unit_test(test_adt_update_person_only),
		cmocka_unit_test(test_visit_admit_without_discharge),
		cmocka_unit_test(test_ppr_update_same_key),
		cmocka_unit_test(test_oru_text_values),
		cmocka_unit_test(test_ras_administration),
		cmocka_unit_test(test_fixtures_byte_by_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
