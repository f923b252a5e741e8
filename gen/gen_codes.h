/*
 * gen_codes.h - the codes the synthetic feed generator writes, and the demo
 * vocabulary that gives them meaning.
 *
 *   gen_catalog.c   what a synthetic patient can have: lab tests, vital signs,
 *                   conditions, drugs, vaccines, allergies, encounter types,
 *                   each with the real codes the feeds carry (LOINC, SNOMED,
 *                   ICD-10-CM, RxNorm, NDC, CVX, UCUM) and the local codes of
 *                   the vendor dialects that need a site map.
 *   gen_vocab.c     the OMOP concepts behind those codes (real concept ids,
 *                   names, domains, classes and dates, attributed to their
 *                   source), 'Maps to' relationships for the non-standard
 *                   codes, drug -> ingredient ancestors; and the writer of
 *                   mappings/demo-vocab/ (Athena download format).
 *
 * One table feeds both the generator and the vocabulary, so they cannot
 * drift: test_gen_vocab checks that every code of the catalog (except the
 * ones marked unmappable on purpose) resolves to a concept here, and that the
 * shipped mappings/demo-vocab/ is byte for byte what gen_vocab_write() writes.
 */
#ifndef OMO_GEN_CODES_H
#define OMO_GEN_CODES_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* ---- the demo vocabulary ---- */

struct gen_concept {
	int32_t id;
	const char *name, *domain, *vocab, *cls, *std, *code;
	const char *start, *end, *invalid;   /* YYYYMMDD, YYYYMMDD, "" or D/U */
};
struct gen_rel { int32_t a, b; const char *rel; const char *start; };
struct gen_anc { int32_t anc, desc; int minl, maxl; };

extern const struct gen_concept gen_concepts[];
extern const size_t gen_nconcepts;
extern const struct gen_rel gen_maps[];      /* 'Maps to' (reverse rows are added on write) */
extern const size_t gen_nmaps;
extern const struct gen_anc gen_ancestors[];
extern const size_t gen_nancestors;

/* The concept with this vocabulary and code, or NULL. */
const struct gen_concept *gen_concept_by_code(const char *vocab, const char *code);
const struct gen_concept *gen_concept_by_id(int32_t id);
/* The standard concept a code maps to (itself if standard), or NULL. */
const struct gen_concept *gen_concept_standard(const struct gen_concept *c);

/* Write CONCEPT.csv, CONCEPT_RELATIONSHIP.csv, CONCEPT_ANCESTOR.csv,
 * VOCABULARY.csv, DOMAIN.csv, CONCEPT_CLASS.csv, RELATIONSHIP.csv into dir
 * (created if missing). Deterministic. 0 or -E_IO. */
int gen_vocab_write(const char *dir, struct err *e);

/* ---- the clinical catalog ---- */

/* A lab test or a vital sign (an OBX, a C-CDA result, an observations.csv row). */
struct gen_test {
	const char *loinc;         /* NULL: a local test with no LOINC (unmappable on purpose) */
	const char *name;          /* display, as vendors send it */
	const char *unit;          /* UCUM code */
	double mean, sd;           /* value distribution of a healthy adult */
	double lo, hi;             /* reference range (lo >= hi: none) */
	int decimals;
	const char *epic_local;    /* Epic sends this local code (system L) instead of LOINC, or NULL */
	const char *cerner_local;  /* Cerner's 99CERNER code (always sent first, LOINC as alternate) */
	const char *local_name;    /* name of the local code */
	uint8_t vital;             /* 1: vital sign */
};

enum gen_test_id {
	T_GLUCOSE, T_BUN, T_CREAT, T_SODIUM, T_POTASSIUM, T_CHLORIDE, T_CO2, T_CALCIUM,
	T_WBC, T_RBC, T_HGB, T_HCT, T_MCV, T_PLT,
	T_CHOL, T_TRIG, T_HDL, T_LDL, T_A1C,
	T_POCT,                    /* local point-of-care test: no LOINC, no map */
	T_HEIGHT, T_WEIGHT, T_BMI, T_SYS, T_DIA, T_HR, T_RR, T_TEMP, T_SPO2,
	T__COUNT
};

struct gen_panel {
	const char *loinc, *name;  /* OBR-4 / organizer code */
	uint8_t ntests;
	uint8_t tests[10];
};
enum gen_panel_id { P_BMP, P_CBC, P_LIPID, P_A1C, P_POCT, P_VITALS, P__COUNT };

struct gen_cond {
	const char *snomed, *name;
	const char *icd10, *icd10_name;   /* ICD-10-CM code vendors bill with, or NULL */
	uint8_t chronic;
	uint16_t permille;          /* chronic: prevalence among adults; acute: weight */
	int8_t drug[2];             /* enum gen_drug_id, -1 none */
	uint8_t enc_mask;           /* acute: encounter types that bring it (1 << enc type) */
	uint8_t unmappable;         /* 1: the code is deliberately absent from the demo vocabulary */
};
enum gen_cond_id {
	C_HTN, C_T2DM, C_HLD, C_AFIB, C_ASTHMA, C_GERD, C_OA_KNEE, C_HYPOTHYROID, C_MDD, C_CKD3, C_CAD,
	C_BRONCHITIS, C_PHARYNGITIS, C_SINUSITIS, C_OTITIS, C_UTI, C_SPRAIN, C_PNEUMONIA, C_GI_BLEED,
	C_EMPLOYED,
	C__COUNT
};

struct gen_drug {
	const char *rxnorm, *name;
	const char *ndc, *ndc_name;  /* an NDC some vendors send instead, or NULL */
	double dose;
	const char *dose_unit;      /* UCUM */
	const char *form, *form_name;
	const char *sig;
	int days_supply, qty, refills;
	uint8_t oral;
};
enum gen_drug_id {
	D_LISINOPRIL, D_AMLODIPINE, D_SIMVASTATIN, D_ATORVASTATIN, D_LEVOTHYROXINE, D_WARFARIN,
	D_CLOPIDOGREL, D_ASPIRIN, D_AMOXICILLIN, D_AMOX_CLAV, D_ACETAMINOPHEN, D_IBUPROFEN,
	D_NAPROXEN, D_LORATADINE, D_ALBUTEROL, D_NITROFURANTOIN, D_CELECOXIB, D_DICLOFENAC,
	D__COUNT
};

struct gen_vax { const char *cvx, *name; int min_age, max_age; uint8_t kind; /* 0 once, 1 yearly, 2 every 10 y */ };
enum gen_vax_id { V_FLU, V_PCV13, V_TD, V_TDAP, V_HPV, V_HEPB, V_VARICELLA, V_ZOSTER, V_HEPA, V__COUNT };

struct gen_allergy {
	const char *snomed, *name;
	const char *type;            /* HL7 AL1-2: FA food, EA environment, DA drug */
	const char *category;        /* Synthea CATEGORY */
	const char *reaction;        /* text */
};
enum { A__COUNT = 7 };

enum gen_enc_type { E_WELL, E_SYMPTOM, E_ER, E_IP, E__COUNT };
struct gen_enc_type_def {
	const char *snomed, *name;   /* encounter code (Synthea CODE, C-CDA translation) */
	const char *hl7_class;       /* PV1-2: O, E, I */
	const char *synthea_class;   /* ENCOUNTERCLASS */
	const char *actcode, *actname; /* C-CDA encounter code (HL7 ActCode) */
	int32_t visit_concept;       /* what the visit should become */
};

struct gen_race { const char *cdc, *name, *synthea; int32_t concept; uint16_t permille; };
enum { R__COUNT = 4 };

extern const struct gen_test gen_tests[T__COUNT];
extern const struct gen_panel gen_panels[P__COUNT];
extern const struct gen_cond gen_conds[C__COUNT];
extern const struct gen_drug gen_drugs[D__COUNT];
extern const struct gen_vax gen_vaxes[V__COUNT];
extern const struct gen_allergy gen_allergies[A__COUNT];
extern const struct gen_enc_type_def gen_enc_types[E__COUNT];
extern const struct gen_race gen_races[R__COUNT];

/* Code systems as the feeds spell them. */
#define GEN_OID_LOINC   "2.16.840.1.113883.6.1"
#define GEN_OID_SNOMED  "2.16.840.1.113883.6.96"
#define GEN_OID_RXNORM  "2.16.840.1.113883.6.88"
#define GEN_OID_NDC     "2.16.840.1.113883.6.69"
#define GEN_OID_CVX     "2.16.840.1.113883.12.292"
#define GEN_OID_ICD10CM "2.16.840.1.113883.6.90"
#define GEN_OID_ACTCODE "2.16.840.1.113883.5.4"
#define GEN_OID_UNKNOWN "2.16.840.1.113883.19.5.99.999"   /* injected "unknown code system" */
/* Vendor B's local lab code system: this root + "." + site number. */
#define GEN_OID_LOCAL_LAB_ROOT "2.16.840.1.113883.19.5.99.1"

#endif
