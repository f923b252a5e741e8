/*
 * record.h - the source-neutral record model.
 *
 *   extractor (hl7v2 | ccda | csv)  --fills-->  struct record  --sink_emit-->  loader
 *
 * Only extractors know their source formats; they describe what the source
 * says, in the source's own codes. Mapping to standard concepts, routing to
 * CDM tables and ids are the loader's business (etl/load/).
 *
 * Every span points into the extractor's input or its record arena and must
 * stay valid until the record ends (sink_end / sink_quarantine / sink_skip).
 * Its text is valid UTF-8 without NUL bytes, as PostgreSQL text must be (a
 * COPY holding either fails, and with it the whole file): an extractor
 * quarantines the source record that would give anything else.
 * Empty spans mean "not given". Dates are struct dt (core/date.h): local wall
 * time of the site, with precision.
 *
 * Keys: a key identifies a thing within its site, as the source identifies it.
 * The same key always gives the same CDM id, so a later record with the same
 * key (ADT A08, OBX-11 = C, a newer C-CDA, a changed CSV row) replaces the
 * earlier row instead of adding one. Keys are free text, chosen by the
 * extractor; they never appear in logs.
 *   person key    patient identifier, with its assigning authority when the
 *                 source has one ("12345^^^HOSP^MR" -> "HOSP|12345")
 *   visit key     encounter / visit number (PV1-19, encounter id)
 *   event key     whatever makes the fact unique and stable in its source
 *                 (filler order + OBX-3 + OBX-4; a CSV row's natural key;
 *                 a C-CDA entry id). Empty: the loader uses file + record
 *                 number + event ordinal, stable only while the file is.
 */
#ifndef OMO_RECORD_H
#define OMO_RECORD_H

#include <stdint.h>
#include <stdio.h>
#include "core/date.h"
#include "core/span.h"

enum rec_kind {
	REC_PERSON = 1,
	REC_VISIT,
	REC_EVENT,
	REC_DEATH,
	REC_PROVIDER,
	REC_CARE_SITE,
	REC_LOCATION,
	REC_RETRACT,   /* remove what an earlier record said (A11/A13 cancel, OBX-11 = D, RXA-21 = D) */
	REC_MERGE,     /* two person keys are one person (ADT A40): rows move to the survivor */
	REC_COST,      /* what a visit or an event cost (claims, Synthea's cost columns) -> COST */
	REC_PAYER_PERIOD, /* a person's coverage by a payer plan -> PAYER_PLAN_PERIOD */
};

/* What the source says an event is. Decides the default CDM table when the
 * code does not map, and (with origin) the *_type_concept_id. */
enum ev_kind {
	EV_CONDITION = 1,  /* diagnosis, problem (DG1, PPR PRB, conditions.csv) */
	EV_DRUG,           /* order, prescription, medication list (RXE, RXO, medications.csv) */
	EV_IMMUNIZATION,   /* vaccine given (VXU RXA, immunizations.csv) -> DRUG_EXPOSURE */
	EV_PROCEDURE,      /* PR1, procedures.csv */
	EV_MEASUREMENT,    /* lab result, vital sign (ORU OBX, observations.csv) */
	EV_OBSERVATION,    /* social history, other observations */
	EV_ALLERGY,        /* AL1, allergies.csv -> OBSERVATION */
	EV_DEVICE,         /* devices.csv, supplies */
	EV_SPECIMEN,       /* SPM */
	EV_NOTE,           /* free-text note (MDM TXA/OBX TX, C-CDA narrative) */
};

/* Where a row came from, as OMOP's Type Concepts classify it
 * (mapped to *_type_concept_id through mappings/type_concepts.csv). */
enum rec_origin {
	ORIG_EHR = 0,          /* EHR (32817) */
	ORIG_EHR_ENCOUNTER,    /* EHR encounter record */
	ORIG_LAB,              /* Lab result */
	ORIG_PROBLEM_LIST,     /* EHR problem list */
	ORIG_PRESCRIPTION,     /* EHR prescription */
	ORIG_DISPENSE,         /* EHR dispensing record */
	ORIG_ADMINISTRATION,   /* EHR administration record */
	ORIG_SELF_REPORT,      /* Patient self-report */
	ORIG_CLAIM,            /* Claim */
	ORIG_REGISTRY,         /* Registry (immunization registry) */
	ORIG_NLP,              /* derived from free text */
	ORIG__COUNT
};

/* A code as the source wrote it. system: an HL7 v2 coding-system name (LN,
 * I10, SCT ...), a C-CDA code-system OID, or a name a profile gives (e.g. a
 * CSV column's fixed vocabulary "SNOMED"). */
struct code {
	struct span system;
	struct span code;
	struct span display;   /* the source's text for it */
};

enum val_kind { VAL_NONE = 0, VAL_NUM, VAL_TEXT, VAL_CODED };

struct value {
	uint8_t kind;          /* enum val_kind */
	uint8_t has_low, has_high;
	double num;            /* VAL_NUM */
	struct span op;        /* VAL_NUM comparator: "<", "<=", "=", ">=", ">" (SN, "<5") */
	struct span text;      /* VAL_TEXT; also the original text of any value */
	struct code coded;     /* VAL_CODED (CWE/CE result, C-CDA CD value) */
	struct code unit;      /* UCUM or local unit */
	double low, high;      /* reference range */
};

struct rec_person {
	struct span key;
	struct code gender, race, ethnicity;
	struct dt birth;
	struct span location;  /* location key, or empty */
	struct span provider;  /* primary care provider key */
	struct span care_site;
};

struct rec_death {
	struct span person;
	struct dt date;
	struct code cause;     /* may be empty */
	uint8_t origin;        /* enum rec_origin */
};

struct rec_visit {
	struct span key, person;
	struct code cls;       /* PV1-2 class, C-CDA encounter code, Synthea ENCOUNTERCLASS */
	struct dt start, end;
	struct span provider, care_site;
	struct code admitted_from, discharged_to;
	uint8_t origin;
};

struct rec_event {
	uint8_t kind;          /* enum ev_kind */
	uint8_t origin;        /* enum rec_origin */
	struct span key, person, visit, provider;
	struct code code;      /* what happened: the source code */
	struct code code_alt;  /* an alternate coding of the same (CWE 4-6), tried when code does not map */
	struct dt start, end;
	struct value value;
	/* drugs and immunizations */
	double quantity;       /* NaN if unknown */
	int32_t days_supply;   /* -1 if unknown */
	int32_t refills;       /* -1 if unknown */
	struct code route;
	struct span lot;
	struct span sig;       /* dosing instructions as text */
	struct span stop_reason;
	/* conditions, observations */
	struct code qualifier; /* condition status, severity, modifier */
	/* notes */
	struct span title, text;
};

struct rec_provider {
	struct span key;
	struct span name;      /* a clinician's name is not patient data */
	struct span npi, dea;
	struct code specialty, gender;
	struct span care_site;
	int32_t year_of_birth; /* 0 if unknown */
};

struct rec_care_site {
	struct span key, name;
	struct code place_of_service;
	struct span location;
};

struct rec_location {
	struct span key;
	struct span address_1, address_2, city, state, zip, county, country;
	double latitude, longitude;  /* NaN if unknown */
};

/* Remove the row(s) an earlier record created under key. */
struct rec_retract {
	uint8_t target;        /* REC_VISIT or REC_EVENT (REC_PERSON: the person and all their rows) */
	struct span key;
};

/* from is merged into to: from's rows are re-pointed to to's person, from goes. */
struct rec_merge {
	struct span from, to;
};

/* The cost of a visit (visit = its key) or of an event (event = its key, an
 * event of the same source record or an earlier one of the same file).
 * Amounts NaN when unknown. */
struct rec_cost {
	struct span key;       /* the cost's own key; empty: the visit's or event's */
	struct span visit, event;
	uint8_t origin;        /* enum rec_origin, ORIG_CLAIM unless said */
	struct span currency;  /* ISO 4217 code, e.g. "USD"; empty: unknown */
	double total_charge, total_cost, total_paid, paid_by_payer, paid_by_patient;
	struct span revenue_code, drg;
};

struct rec_payer_period {
	struct span key, person;
	struct dt start, end;
	struct span payer, plan, family;  /* source values */
};

struct record {
	uint8_t kind;          /* enum rec_kind */
	union {
		struct rec_person person;
		struct rec_death death;
		struct rec_visit visit;
		struct rec_event event;
		struct rec_provider provider;
		struct rec_care_site care_site;
		struct rec_location location;
		struct rec_retract retract;
		struct rec_merge merge;
		struct rec_cost cost;
		struct rec_payer_period payer_period;
	} u;
};

/* A record of the kind, all spans empty, numbers unknown (NaN / -1). */
void record_init(struct record *r, enum rec_kind kind);
/* The record on one line (no newline): its kind, then every field that is
 * set as " name=value" (codes as [system|code|display], dates as
 * day/second/precision). For tools and tests comparing what was extracted;
 * it prints patient data, so never into a log. */
void record_print(FILE *f, const struct record *r);

#endif
