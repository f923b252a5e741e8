/*
 * gen_vocab.c - the demo vocabulary: the OMOP concepts behind every code the
 * generator writes, and its writer (Athena download format).
 *
 * Facts only. Rows come from:
 *   [E]  ../shared/data/vocab/Eunomia-Synthea27Nj_5.4 and Eunomia-GiBleed_5.3
 *        CONCEPT.csv (ids, names, domains, classes, codes, dates as released);
 *   [A]  CONCEPT_ANCESTOR rows of OHDSI-dbt-synthea-shard-partial and GiBleed;
 *   [R]  CONCEPT_RELATIONSHIP 'Maps to' rows of the same folders;
 *   [P]  public OMOP vocabulary excerpts (Athena rows quoted in OHDSI ETL code
 *        and tests): race, route, ICD-10-CM I10 / E11.9 / E78.5 / I48.91,
 *        type concepts (code = OMOP4976890 + id - 32817 in every quoted row),
 *        Office Visit.
 * Where a field could not be attributed it is marked so in a comment.
 */
#include "gen/gen_codes.h"
#include "core/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct gen_concept gen_concepts[] = {
	/* [E] concepts, in catalog order: labs, vitals, units, conditions, allergies,
	 * drugs, ingredients, NDC, CVX, visits, gender, ethnicity, encounter codes */
	{ 3004501, "Glucose [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2345-7", "19700101", "20991231", "" },
	{ 3016723, "Creatinine [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2160-0", "19700101", "20991231", "" },
	{ 3013682, "Urea nitrogen [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "3094-0", "19700101", "20991231", "" },
	{ 3019550, "Sodium [Moles/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2951-2", "19700101", "20991231", "" },
	{ 3023103, "Potassium [Moles/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2823-3", "19700101", "20991231", "" },
	{ 3014576, "Chloride [Moles/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2075-0", "19700101", "20991231", "" },
	{ 3015632, "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2028-9", "19700101", "20991231", "" },
	{ 3006906, "Calcium [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "17861-6", "19980709", "20991231", "" },
	{ 3000905, "Leukocytes [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "S", "6690-2", "19700101", "20991231", "" },
	{ 3020416, "Erythrocytes [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "S", "789-8", "19700101", "20991231", "" },
	{ 3000963, "Hemoglobin [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "S", "718-7", "19700101", "20991231", "" },
	{ 3009542, "Hematocrit [Volume Fraction] of Blood", "Measurement", "LOINC", "Lab Test", "S", "20570-8", "19700101", "20991231", "" },
	{ 3023599, "MCV [Entitic volume] by Automated count", "Measurement", "LOINC", "Lab Test", "S", "787-2", "19700101", "20991231", "" },
	{ 3024929, "Platelets [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "S", "777-3", "19700101", "20991231", "" },
	{ 3027114, "Cholesterol [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2093-3", "19700101", "20991231", "" },
	{ 3022192, "Triglyceride [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2571-8", "19700101", "20991231", "" },
	{ 3007070, "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2085-9", "19700101", "20991231", "" },
	{ 3009966, "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "Measurement", "LOINC", "Lab Test", "S", "18262-6", "19980825", "20991231", "" },
	{ 3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", "LOINC", "Lab Test", "S", "4548-4", "19700101", "20991231", "" },
	{ 3036277, "Body height", "Measurement", "LOINC", "Clinical Observation", "S", "8302-2", "19960906", "20991231", "" },
	{ 3025315, "Body weight", "Measurement", "LOINC", "Clinical Observation", "S", "29463-7", "19700101", "20991231", "" },
	{ 3038553, "Body mass index (BMI) [Ratio]", "Measurement", "LOINC", "Clinical Observation", "S", "39156-5", "19700101", "20991231", "" },
	{ 3004249, "Systolic blood pressure", "Measurement", "LOINC", "Clinical Observation", "S", "8480-6", "19960906", "20991231", "" },
	{ 3012888, "Diastolic blood pressure", "Measurement", "LOINC", "Clinical Observation", "S", "8462-4", "19960906", "20991231", "" },
	{ 3027018, "Heart rate", "Measurement", "LOINC", "Clinical Observation", "S", "8867-4", "19700101", "20991231", "" },
	{ 3024171, "Respiratory rate", "Measurement", "LOINC", "Clinical Observation", "S", "9279-1", "19960906", "20991231", "" },
	{ 3020891, "Body temperature", "Measurement", "LOINC", "Clinical Observation", "S", "8310-5", "19960906", "20991231", "" },
	{ 40762499, "Oxygen saturation in Arterial blood by Pulse oximetry", "Measurement", "LOINC", "Clinical Observation", "S", "59408-5", "20100414", "20991231", "" },
	{ 8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "S", "mg/dL", "19700101", "20991231", "" },
	{ 8753, "millimole per liter", "Unit", "UCUM", "Unit", "S", "mmol/L", "19700101", "20991231", "" },
	{ 8713, "gram per deciliter", "Unit", "UCUM", "Unit", "S", "g/dL", "19700101", "20991231", "" },
	{ 8554, "percent", "Unit", "UCUM", "Unit", "S", "%", "19700101", "20991231", "" },
	{ 8541, "per minute", "Unit", "UCUM", "Unit", "S", "/min", "19700101", "20991231", "" },
	{ 8582, "centimeter", "Unit", "UCUM", "Unit", "S", "cm", "19700101", "20991231", "" },
	{ 9529, "kilogram", "Unit", "UCUM", "Unit", "S", "kg", "19700101", "20991231", "" },
	{ 9531, "kilogram per square meter", "Unit", "UCUM", "Unit", "S", "kg/m2", "19700101", "20991231", "" },
	{ 8876, "millimeter mercury column", "Unit", "UCUM", "Unit", "S", "mm[Hg]", "19700101", "20991231", "" },
	{ 586323, "degree Celsius", "Unit", "UCUM", "Unit", "S", "Cel", "19700101", "20991231", "" },
	{ 8848, "thousand per microliter", "Unit", "UCUM", "Unit", "S", "10*3/uL", "19700101", "20991231", "" },
	{ 8815, "million per microliter", "Unit", "UCUM", "Unit", "S", "10*6/uL", "19700101", "20991231", "" },
	{ 8583, "femtoliter", "Unit", "UCUM", "Unit", "S", "fL", "19700101", "20991231", "" },
	{ 8587, "milliliter", "Unit", "UCUM", "Unit", "S", "mL", "19700101", "20991231", "" },
	{ 8576, "milligram", "Unit", "UCUM", "Unit", "S", "mg", "19700101", "20991231", "" },
	{ 320128, "Essential hypertension", "Condition", "SNOMED", "Clinical Finding", "S", "59621000", "20020131", "20991231", "" },
	{ 201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S", "44054006", "20020131", "20991231", "" },
	{ 432867, "Hyperlipidemia", "Condition", "SNOMED", "Clinical Finding", "S", "55822004", "20020131", "20991231", "" },
	{ 313217, "Atrial fibrillation", "Condition", "SNOMED", "Clinical Finding", "S", "49436004", "20020131", "20991231", "" },
	{ 317009, "Asthma", "Condition", "SNOMED", "Clinical Finding", "S", "195967001", "20020131", "20991231", "" },
	{ 318800, "Gastroesophageal reflux disease", "Condition", "SNOMED", "Clinical Finding", "S", "235595009", "20020131", "20991231", "" },
	{ 4079750, "Osteoarthritis of knee", "Condition", "SNOMED", "Clinical Finding", "S", "239873007", "20020131", "20991231", "" },
	{ 4309027, "Idiopathic atrophic hypothyroidism", "Condition", "SNOMED", "Clinical Finding", "S", "83664006", "20020131", "20991231", "" },
	{ 4152280, "Major depressive disorder", "Condition", "SNOMED", "Clinical Finding", "S", "370143000", "20020731", "20991231", "" },
	{ 443597, "Chronic kidney disease stage 3", "Condition", "SNOMED", "Clinical Finding", "S", "433144002", "20080731", "20991231", "" },
	{ 317576, "Coronary arteriosclerosis", "Condition", "SNOMED", "Clinical Finding", "S", "53741008", "20020131", "20991231", "" },
	{ 260139, "Acute bronchitis", "Condition", "SNOMED", "Clinical Finding", "S", "10509002", "20020131", "20991231", "" },
	{ 4112343, "Acute viral pharyngitis", "Condition", "SNOMED", "Clinical Finding", "S", "195662009", "20020131", "20991231", "" },
	{ 40481087, "Viral sinusitis", "Condition", "SNOMED", "Clinical Finding", "S", "444814009", "20100731", "20991231", "" },
	{ 372328, "Otitis media", "Condition", "SNOMED", "Clinical Finding", "S", "65363002", "20020131", "20991231", "" },
	{ 81902, "Urinary tract infectious disease", "Condition", "SNOMED", "Clinical Finding", "S", "68566005", "20020131", "20991231", "" },
	{ 81151, "Sprain of ankle", "Condition", "SNOMED", "Clinical Finding", "S", "44465007", "20020131", "20991231", "" },
	{ 255848, "Pneumonia", "Condition", "SNOMED", "Clinical Finding", "S", "233604007", "20020131", "20991231", "" },
	{ 192671, "Gastrointestinal hemorrhage", "Condition", "SNOMED", "Clinical Finding", "S", "74474003", "19700101", "20991231", "" },
	{ 35208414, "Gastrointestinal hemorrhage, unspecified", "Condition", "ICD10CM", "4-char billing code", "", "K92.2", "20070101", "20991231", "" },
	{ 4240902, "Allergy to peanuts", "Observation", "SNOMED", "Clinical Finding", "S", "91935009", "19700101", "20991231", "" },
	{ 4219399, "Allergy to fish", "Observation", "SNOMED", "Clinical Finding", "S", "417532002", "19700101", "20991231", "" },
	{ 4102123, "Allergy to latex", "Observation", "SNOMED", "Clinical Finding", "S", "300916003", "20020131", "20991231", "" },
	{ 4304110, "Allergy to mold", "Observation", "SNOMED", "Clinical Finding", "S", "419474003", "20060131", "20991231", "" },
	{ 439406, "Allergy to animal dander", "Observation", "SNOMED", "Clinical Finding", "S", "232347008", "20020131", "20991231", "" },
	{ 4302207, "Allergy to grass pollen", "Observation", "SNOMED", "Clinical Finding", "S", "418689008", "20060131", "20991231", "" },
	{ 438614, "Allergy to nut", "Observation", "SNOMED", "Clinical Finding", "S", "91934008", "19700101", "20991231", "" },
	{ 19080128, "lisinopril 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "314076", "19700101", "20991231", "" },
	{ 1332419, "amlodipine 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "197361", "19700101", "20991231", "" },
	{ 1539411, "simvastatin 20 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "312961", "19700101", "20991231", "" },
	{ 1545959, "atorvastatin 80 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "259255", "19700101", "20991231", "" },
	{ 40174880, "levothyroxine sodium 0.075 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "966222", "20100404", "20991231", "" },
	{ 40163554, "warfarin sodium 5 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "855332", "20090802", "20991231", "" },
	{ 19075601, "clopidogrel 75 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "309362", "19700101", "20991231", "" },
	{ 19059056, "aspirin 81 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "243670", "19700101", "20991231", "" },
	{ 19073188, "amoxicillin 500 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "308192", "19700101", "20991231", "" },
	{ 1713671, "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "562251", "20050911", "20991231", "" },
	{ 1127433, "acetaminophen 325 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "313782", "19700101", "20991231", "" },
	{ 19078461, "ibuprofen 200 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "310965", "19700101", "20991231", "" },
	{ 19019273, "naproxen 500 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "198014", "19700101", "20991231", "" },
	{ 1107882, "loratadine 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "311372", "19700101", "20991231", "" },
	{ 1511248, "NDA020503 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "Drug", "RxNorm", "Clinical Drug", "S", "2123111", "20190506", "20991231", "" },
	{ 920334, "nitrofurantoin, macrocrystals 50 MG Oral Capsule", "Drug", "RxNorm", "Clinical Drug", "S", "311995", "19700101", "20991231", "" },
	{ 1118088, "celecoxib 200 MG Oral Capsule [Celebrex]", "Drug", "RxNorm", "Branded Drug", "S", "213469", "19700101", "20991231", "" },
	{ 40162359, "Diclofenac Sodium 75 MG Delayed Release Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "855926", "20090802", "20991231", "" },
	{ 1308216, "lisinopril", "Drug", "RxNorm", "Ingredient", "S", "29046", "19700101", "20991231", "" },
	{ 1332418, "Amlodipine", "Drug", "RxNorm", "Ingredient", "S", "17767", "19700101", "20991231", "" },
	{ 1539403, "Simvastatin", "Drug", "RxNorm", "Ingredient", "S", "36567", "19700101", "20991231", "" },
	{ 1545958, "atorvastatin", "Drug", "RxNorm", "Ingredient", "S", "83367", "19700101", "20991231", "" },
	{ 1501700, "levothyroxine", "Drug", "RxNorm", "Ingredient", "S", "10582", "19700101", "20991231", "" },
	{ 1310149, "Warfarin", "Drug", "RxNorm", "Ingredient", "S", "11289", "19700101", "20991231", "" },
	{ 1322184, "clopidogrel", "Drug", "RxNorm", "Ingredient", "S", "32968", "19700101", "20991231", "" },
	{ 1112807, "aspirin", "Drug", "RxNorm", "Ingredient", "S", "1191", "19700101", "20991231", "" },
	{ 1713332, "Amoxicillin", "Drug", "RxNorm", "Ingredient", "S", "723", "19700101", "20991231", "" },
	{ 1759842, "Clavulanate", "Drug", "RxNorm", "Ingredient", "S", "48203", "19700101", "20991231", "" },
	{ 1125315, "Acetaminophen", "Drug", "RxNorm", "Ingredient", "S", "161", "19700101", "20991231", "" },
	{ 1177480, "ibuprofen", "Drug", "RxNorm", "Ingredient", "S", "5640", "19700101", "20991231", "" },
	{ 1115008, "Naproxen", "Drug", "RxNorm", "Ingredient", "S", "7258", "19700101", "20991231", "" },
	{ 1107830, "Loratadine", "Drug", "RxNorm", "Ingredient", "S", "28889", "19700101", "20991231", "" },
	{ 1154343, "Albuterol", "Drug", "RxNorm", "Ingredient", "S", "435", "19700101", "20991231", "" },
	{ 920293, "Nitrofurantoin", "Drug", "RxNorm", "Ingredient", "S", "7454", "19700101", "20991231", "" },
	{ 1118084, "celecoxib", "Drug", "RxNorm", "Ingredient", "S", "140587", "19700101", "20991231", "" },
	{ 1124300, "Diclofenac", "Drug", "RxNorm", "Ingredient", "S", "3355", "19700101", "20991231", "" },
	{ 44923712, "celecoxib 200 MG Oral Capsule [Celebrex]", "Drug", "NDC", "11-digit NDC", "", "00025152531", "20000101", "20991231", "" },
	{ 45011828, "Diclofenac Sodium 75 MG Delayed Release Oral Tablet", "Drug", "NDC", "11-digit NDC", "", "00781178901", "20000101", "20991231", "" },
	{ 40213154, "Influenza, seasonal, injectable, preservative free", "Drug", "CVX", "CVX", "S", "140", "20111104", "20991231", "" },
	{ 40213198, "pneumococcal conjugate vaccine, 13 valent", "Drug", "CVX", "CVX", "S", "133", "20091015", "20991231", "" },
	{ 40213227, "tetanus and diphtheria toxoids, adsorbed, preservative free, for adult use", "Drug", "CVX", "CVX", "S", "113", "20081201", "20991231", "" },
	{ 40213230, "tetanus toxoid, reduced diphtheria toxoid, and acellular pertussis vaccine, adsorbed", "Drug", "CVX", "CVX", "S", "115", "20081201", "20991231", "" },
	{ 40213320, "human papilloma virus vaccine, quadrivalent", "Drug", "CVX", "CVX", "S", "62", "20081201", "20991231", "" },
	{ 40213306, "hepatitis B vaccine, adult dosage", "Drug", "CVX", "CVX", "S", "43", "20081201", "20991231", "" },
	{ 40213251, "varicella virus vaccine", "Drug", "CVX", "CVX", "S", "21", "20081201", "20991231", "" },
	{ 40213260, "zoster vaccine, live", "Drug", "CVX", "CVX", "S", "121", "20081201", "20991231", "" },
	{ 40213296, "hepatitis A vaccine, adult dosage", "Drug", "CVX", "CVX", "S", "52", "20081201", "20991231", "" },
	{ 9201, "Inpatient Visit", "Visit", "Visit", "Visit", "S", "IP", "19700101", "20991231", "" },
	{ 9202, "Outpatient Visit", "Visit", "Visit", "Visit", "S", "OP", "19700101", "20991231", "" },
	{ 9203, "Emergency Room Visit", "Visit", "Visit", "Visit", "S", "ER", "19700101", "20991231", "" },
	{ 8507, "MALE", "Gender", "Gender", "Gender", "S", "M", "19700101", "20991231", "" },
	{ 8532, "FEMALE", "Gender", "Gender", "Gender", "S", "F", "19700101", "20991231", "" },
	{ 38003563, "Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "S", "Hispanic", "19700101", "20991231", "" },
	{ 38003564, "Not Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "S", "Not Hispanic", "19700101", "20991231", "" },
	{ 4085799, "Encounter for check up", "Observation", "SNOMED", "Procedure", "S", "185349003", "20020131", "20991231", "" },
	{ 4088569, "Encounter for symptom", "Observation", "SNOMED", "Procedure", "S", "185345009", "20020131", "20991231", "" },
	{ 4176269, "Emergency room admission", "Observation", "SNOMED", "Procedure", "S", "50849002", "20020131", "20991231", "" },
	{ 8715, "Hospital admission", "Observation", "SNOMED", "Procedure", "S", "32485007", "20020131", "20991231", "" },
	{ 0, "No matching concept", "Metadata", "None", "Undefined", "", "No matching concept", "19700101", "20991231", "" },
	/* [P] ICD-10-CM (valid_start as released for ICD10CM; I48.91's assumed the same) */
	{ 35207668, "Essential (primary) hypertension", "Condition", "ICD10CM", "3-char billing code", "", "I10", "20070101", "20991231", "" },
	{ 35206882, "Type 2 diabetes mellitus without complications", "Condition", "ICD10CM", "4-char billing code", "", "E11.9", "20070101", "20991231", "" },
	{ 35207065, "Hyperlipidemia, unspecified", "Condition", "ICD10CM", "4-char billing code", "", "E78.5", "20070101", "20991231", "" },
	{ 45576876, "Unspecified atrial fibrillation", "Condition", "ICD10CM", "5-char billing code", "", "I48.91", "20070101", "20991231", "" },
	/* [P] race */
	{ 8515, "Asian", "Race", "Race", "Race", "S", "2", "19700101", "20991231", "" },
	{ 8516, "Black or African American", "Race", "Race", "Race", "S", "3", "19700101", "20991231", "" },
	{ 8527, "White", "Race", "Race", "Race", "S", "5", "19700101", "20991231", "" },
	/* [P] route */
	{ 4132161, "Oral", "Route", "SNOMED", "Qualifier Value", "S", "26643006", "20020131", "20991231", "" },
	/* [P] type concepts (valid_start of 32817 as quoted; the others of the same 2020 release) */
	{ 32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976890", "20200820", "20991231", "" },
	{ 32818, "EHR administration record", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976891", "20200820", "20991231", "" },
	{ 32827, "EHR encounter record", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976900", "20200820", "20991231", "" },
	{ 32838, "EHR prescription", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976911", "20200820", "20991231", "" },
	{ 32840, "EHR problem list", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976913", "20200820", "20991231", "" },
	{ 32856, "Lab", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976929", "20200820", "20991231", "" },
	/* [P] Office Visit (valid_start not attributed: the Visit vocabulary's 19700101) */
	{ 581477, "Office Visit", "Visit", "Visit", "Visit", "S", "OV", "19700101", "20991231", "" },
};
const size_t gen_nconcepts = sizeof gen_concepts / sizeof *gen_concepts;

/* Non-standard -> standard. [R] unless marked. */
const struct gen_rel gen_maps[] = {
	{ 35207668, 320128, "Maps to", "19700101" },   /* I10 -> Essential hypertension */
	{ 35206882, 201826, "Maps to", "19700101" },   /* E11.9 -> Type 2 diabetes mellitus [P]; date not attributed */
	{ 35207065, 432867, "Maps to", "19700101" },   /* E78.5 -> Hyperlipidemia */
	{ 45576876, 313217, "Maps to", "19700101" },   /* I48.91 -> Atrial fibrillation; date not attributed */
	{ 35208414, 192671, "Maps to", "19700101" },   /* K92.2 -> Gastrointestinal hemorrhage */
	{ 44923712, 1118088, "Maps to", "19700101" },  /* NDC 00025152531 -> celecoxib 200 MG Oral Capsule [Celebrex] */
	{ 45011828, 40162359, "Maps to", "20090803" }, /* NDC 00781178901 -> Diclofenac Sodium 75 MG DR Oral Tablet */
};
const size_t gen_nmaps = sizeof gen_maps / sizeof *gen_maps;

/* [A] clinical drug -> ingredient, and every ingredient is its own ancestor.
 * celecoxib [Celebrex] and diclofenac 75 MG have no ancestor row in the
 * reference data, so none is invented: they get no drug era. */
const struct gen_anc gen_ancestors[] = {
	{ 1308216, 19080128, 2, 3 },
	{ 1332418, 1332419, 2, 3 },
	{ 1539403, 1539411, 2, 3 },
	{ 1545958, 1545959, 2, 3 },
	{ 1501700, 40174880, 2, 3 },
	{ 1310149, 40163554, 2, 3 },
	{ 1322184, 19075601, 2, 3 },
	{ 1112807, 19059056, 2, 3 },
	{ 1713332, 19073188, 2, 3 },
	{ 1713332, 1713671, 2, 3 },
	{ 1759842, 1713671, 2, 3 },
	{ 1125315, 1127433, 2, 3 },
	{ 1177480, 19078461, 2, 3 },
	{ 1115008, 19019273, 2, 3 },
	{ 1107830, 1107882, 2, 3 },
	{ 1154343, 1511248, 2, 3 },
	{ 920293, 920334, 2, 3 },
	{ 1308216, 1308216, 0, 0 },
	{ 1332418, 1332418, 0, 0 },
	{ 1539403, 1539403, 0, 0 },
	{ 1545958, 1545958, 0, 0 },
	{ 1501700, 1501700, 0, 0 },
	{ 1310149, 1310149, 0, 0 },
	{ 1322184, 1322184, 0, 0 },
	{ 1112807, 1112807, 0, 0 },
	{ 1713332, 1713332, 0, 0 },
	{ 1759842, 1759842, 0, 0 },
	{ 1125315, 1125315, 0, 0 },
	{ 1177480, 1177480, 0, 0 },
	{ 1115008, 1115008, 0, 0 },
	{ 1107830, 1107830, 0, 0 },
	{ 1154343, 1154343, 0, 0 },
	{ 920293, 920293, 0, 0 },
	{ 1118084, 1118084, 0, 0 },
	{ 1124300, 1124300, 0, 0 },
};
const size_t gen_nancestors = sizeof gen_ancestors / sizeof *gen_ancestors;

const struct gen_concept *gen_concept_by_code(const char *vocab, const char *code)
{
	for (size_t i = 0; i < gen_nconcepts; i++)
		if (strcmp(gen_concepts[i].vocab, vocab) == 0 && strcmp(gen_concepts[i].code, code) == 0)
			return &gen_concepts[i];
	return NULL;
}

const struct gen_concept *gen_concept_by_id(int32_t id)
{
	for (size_t i = 0; i < gen_nconcepts; i++)
		if (gen_concepts[i].id == id)
			return &gen_concepts[i];
	return NULL;
}

const struct gen_concept *gen_concept_standard(const struct gen_concept *c)
{
	if (!c)
		return NULL;
	if (strcmp(c->std, "S") == 0)
		return c;
	for (size_t i = 0; i < gen_nmaps; i++)
		if (gen_maps[i].a == c->id)
			return gen_concept_by_id(gen_maps[i].b);
	return NULL;
}

/* ---- the writer ---- */

struct vw { FILE *f; int failed; };

static int vw_open(struct vw *w, const char *dir, const char *name, const char *header, struct err *e)
{
	char path[4096];
	if (path_join(path, sizeof path, dir, name) < 0)
		return err_set(e, E_IO, "%s: path too long", dir);
	w->f = fopen(path, "w");
	w->failed = 0;
	if (!w->f)
		return err_set(e, E_IO, "%s: %s", path, strerror(errno));
	fputs(header, w->f);
	fputc('\n', w->f);
	return 0;
}

static int vw_close(struct vw *w, const char *dir, const char *name, struct err *e)
{
	int bad = ferror(w->f);
	if (fclose(w->f) != 0 || bad)
		return err_set(e, E_IO, "%s/%s: write failed", dir, name);
	return 0;
}

/* Rows of the reference tables for the vocabularies, domains and classes in use. [E] */
static const char *const vocab_rows[] = {
	"CVX\tCDC Vaccine Administered CVX (NCIRD)\thttps://www2a.cdc.gov/vaccines/iis/iisstandards/vaccines.asp?rpt=cvx\tCVX code set 31-JUL-17\t581400",
	"Ethnicity\tOMOP Ethnicity\tOMOP generated\t\t44819134",
	"Gender\tOMOP Gender\tOMOP generated\t\t44819108",
	"ICD10CM\tInternational Classification of Diseases, Tenth Revision, Clinical Modification (NCHS)\thttp://www.cdc.gov/nchs/icd/icd10cm.htm\tICD10CM FY2019 code descriptions\t44819098",
	"LOINC\tLogical Observation Identifiers Names and Codes (Regenstrief Institute)\thttp://loinc.org/downloads/loinc\t2.65\t44819102",
	"NDC\tNational Drug Code (FDA and manufacturers)\thttp://www.nlm.nih.gov/research/umls/rxnorm/docs/rxnormfiles.html, http://www.fda.gov/downloads/Drugs/DevelopmentApprovalProcess/UCM070838.zip\tNDC 20190113\t44819105",
	"None\tOMOP Standardized Vocabularies\tOMOP generated\tv5.0 18-JAN-19\t44819096",
	"Race\tRace and Ethnicity Code Set (USBC)\thttp://www.cdc.gov/nchs/data/dvs/Race_Ethnicity_CodeSet.pdf\tVersion 1.0\t44819109",
	"RxNorm\tRxNorm (NLM)\thttp://www.nlm.nih.gov/research/umls/rxnorm/docs/rxnormfiles.html\tRxNorm 20181203\t44819104",
	"SNOMED\tSystematic Nomenclature of Medicine - Clinical Terms (IHTSDO)\thttp://www.nlm.nih.gov/research/umls/licensedcontent/umlsknowledgesources.html\tSnomed Release 20180731\t44819097",
	"Type Concept\tOMOP Type Concept\tOMOP generated\tType Concept 20221030\t32808",
	"UCUM\tUnified Code for Units of Measure (Regenstrief Institute)\thttp://aurora.regenstrief.org/~ucum/ucum.html#section-Alphabetic-Index\tVersion 1.8.2\t44819107",
	"Visit\tOMOP Visit\tOMOP generated\t\t44819119",
};
static const char *const domain_rows[] = {
	"Condition\tCondition\t19", "Drug\tDrug\t13", "Ethnicity\tEthnicity\t4", "Gender\tGender\t2",
	"Measurement\tMeasurement\t21", "Metadata\tMetadata\t7", "Observation\tObservation\t27",
	"Procedure\tProcedure\t10", "Race\tRace\t3", "Route\tRoute Of Administration\t15",
	"Type Concept\tType Concept\t58", "Unit\tUnit\t16", "Visit\tVisit\t8",
};
static const char *const class_rows[] = {
	"11-digit NDC\t11-digit NDC code\t44819243", "3-char billing code\t3-character billing code\t46233663",
	"4-char billing code\t4-character billing code\t46233664", "5-char billing code\t5-character billing code\t46233665",
	"Branded Drug\tSemantic Branded Drug\t44819063", "CVX\tCVX vaccine\t581401",
	"Clinical Drug\tSemantic Clinical Drug\t44819028", "Clinical Finding\tClinical Finding\t44818997",
	"Clinical Observation\tClinical Class\t45754679", "Ethnicity\tEthnicity\t44819035",
	"Gender\tGender\t44819086", "Ingredient\tIngredient\t44818981", "Lab Test\tLaboratory Class\t45754678",
	"Procedure\tProcedure\t44819080", "Qualifier Value\tQualifier Value\t44819021", "Race\tRace\t44819030",
	"Type Concept\tType Concept\t581453", "Undefined\tUndefined\t44819044", "Unit\tUnit\t44819072",
	"Visit\tOMOP Visit\t44819023",
};
static const char *const relationship_rows[] = {
	"Mapped from\tStandard to Non-standard map (OMOP)\t0\t0\tMaps to\t44818976",
	"Maps to\tNon-standard to Standard map (OMOP)\t0\t0\tMapped from\t44818977",
};

static void put_rows(struct vw *w, const char *const *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(rows[i], w->f);
		fputc('\n', w->f);
	}
}

int gen_vocab_write(const char *dir, struct err *e)
{
	struct vw w;
	int rc;

	if ((rc = path_mkdirs(dir, 0755, e)) < 0)
		return rc;
	if ((rc = vw_open(&w, dir, "CONCEPT.csv", "concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\tconcept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason", e)) < 0)
		return rc;
	for (size_t i = 0; i < gen_nconcepts; i++) {
		const struct gen_concept *c = &gen_concepts[i];
		fprintf(w.f, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (int)c->id, c->name, c->domain, c->vocab,
		        c->cls, c->std, c->code, c->start, c->end, c->invalid);
	}
	if ((rc = vw_close(&w, dir, "CONCEPT.csv", e)) < 0)
		return rc;

	if ((rc = vw_open(&w, dir, "CONCEPT_RELATIONSHIP.csv", "concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason", e)) < 0)
		return rc;
	for (size_t i = 0; i < gen_nmaps; i++) {
		const struct gen_rel *r = &gen_maps[i];
		fprintf(w.f, "%d\t%d\tMaps to\t%s\t20991231\t\n", (int)r->a, (int)r->b, r->start);
		fprintf(w.f, "%d\t%d\tMapped from\t%s\t20991231\t\n", (int)r->b, (int)r->a, r->start);
	}
	/* every standard concept maps to itself, as in an Athena download */
	for (size_t i = 0; i < gen_nconcepts; i++) {
		const struct gen_concept *c = &gen_concepts[i];
		if (strcmp(c->std, "S") == 0)
			fprintf(w.f, "%d\t%d\tMaps to\t%s\t20991231\t\n%d\t%d\tMapped from\t%s\t20991231\t\n",
			        (int)c->id, (int)c->id, c->start, (int)c->id, (int)c->id, c->start);
	}
	if ((rc = vw_close(&w, dir, "CONCEPT_RELATIONSHIP.csv", e)) < 0)
		return rc;

	if ((rc = vw_open(&w, dir, "CONCEPT_ANCESTOR.csv", "ancestor_concept_id\tdescendant_concept_id\tmin_levels_of_separation\tmax_levels_of_separation", e)) < 0)
		return rc;
	for (size_t i = 0; i < gen_nancestors; i++)
		fprintf(w.f, "%d\t%d\t%d\t%d\n", (int)gen_ancestors[i].anc, (int)gen_ancestors[i].desc,
		        gen_ancestors[i].minl, gen_ancestors[i].maxl);
	if ((rc = vw_close(&w, dir, "CONCEPT_ANCESTOR.csv", e)) < 0)
		return rc;

	if ((rc = vw_open(&w, dir, "VOCABULARY.csv", "vocabulary_id\tvocabulary_name\tvocabulary_reference\tvocabulary_version\tvocabulary_concept_id", e)) < 0)
		return rc;
	put_rows(&w, vocab_rows, sizeof vocab_rows / sizeof *vocab_rows);
	if ((rc = vw_close(&w, dir, "VOCABULARY.csv", e)) < 0)
		return rc;
	if ((rc = vw_open(&w, dir, "DOMAIN.csv", "domain_id\tdomain_name\tdomain_concept_id", e)) < 0)
		return rc;
	put_rows(&w, domain_rows, sizeof domain_rows / sizeof *domain_rows);
	if ((rc = vw_close(&w, dir, "DOMAIN.csv", e)) < 0)
		return rc;
	if ((rc = vw_open(&w, dir, "CONCEPT_CLASS.csv", "concept_class_id\tconcept_class_name\tconcept_class_concept_id", e)) < 0)
		return rc;
	put_rows(&w, class_rows, sizeof class_rows / sizeof *class_rows);
	if ((rc = vw_close(&w, dir, "CONCEPT_CLASS.csv", e)) < 0)
		return rc;
	if ((rc = vw_open(&w, dir, "RELATIONSHIP.csv", "relationship_id\trelationship_name\tis_hierarchical\tdefines_ancestry\treverse_relationship_id\trelationship_concept_id", e)) < 0)
		return rc;
	put_rows(&w, relationship_rows, sizeof relationship_rows / sizeof *relationship_rows);
	return vw_close(&w, dir, "RELATIONSHIP.csv", e);
}
