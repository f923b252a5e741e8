/*
 * gen_catalog.c - what a synthetic patient can have, with the codes feeds
 * carry for it. Every code here has its concept in gen_vocab.c (checked by
 * test_gen_vocab), except those marked unmappable: the local point-of-care
 * test and the 'Full-time employment' finding, which stay concept 0 on purpose.
 *
 * Value distributions and reference ranges are typical adult values; local
 * codes (Epic "L", Cerner "99CERNER") are invented, as local codes are.
 */
#include "gen/gen_codes.h"

#define NONE (-1)

const struct gen_test gen_tests[T__COUNT] = {
	[T_GLUCOSE]   = { "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 95, 12, 70, 99, 0, "GLU", "LAB1001", "Glucose", 0 },
	[T_BUN]       = { "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 14, 4, 7, 20, 0, NULL, "LAB1002", "BUN", 0 },
	[T_CREAT]     = { "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.9, 0.18, 0.6, 1.3, 2, "CREAT", "LAB1003", "Creatinine", 0 },
	[T_SODIUM]    = { "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 140, 2.5, 136, 145, 0, NULL, "LAB1004", "Sodium", 0 },
	[T_POTASSIUM] = { "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 4.2, 0.35, 3.5, 5.1, 1, "K", "LAB1005", "Potassium", 0 },
	[T_CHLORIDE]  = { "2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 102, 2.5, 98, 107, 0, NULL, "LAB1006", "Chloride", 0 },
	[T_CO2]       = { "2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 25, 2.2, 22, 29, 0, NULL, "LAB1007", "CO2", 0 },
	[T_CALCIUM]   = { "17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 9.4, 0.35, 8.5, 10.2, 1, NULL, "LAB1008", "Calcium", 0 },
	[T_WBC]       = { "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 7.0, 1.7, 4.5, 11.0, 1, NULL, "LAB2001", "WBC", 0 },
	[T_RBC]       = { "789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 4.7, 0.42, 4.2, 5.9, 2, NULL, "LAB2002", "RBC", 0 },
	[T_HGB]       = { "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 14.0, 1.3, 12.0, 17.5, 1, "HGB", "LAB2003", "Hemoglobin", 0 },
	[T_HCT]       = { "20570-8", "Hematocrit [Volume Fraction] of Blood", "%", 42, 3.8, 36, 50, 1, NULL, "LAB2004", "Hematocrit", 0 },
	[T_MCV]       = { "787-2", "MCV [Entitic volume] by Automated count", "fL", 90, 4.5, 80, 100, 0, NULL, "LAB2005", "MCV", 0 },
	[T_PLT]       = { "777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 250, 55, 150, 400, 0, NULL, "LAB2006", "Platelets", 0 },
	[T_CHOL]      = { "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 190, 32, 100, 199, 0, NULL, "LAB3001", "Cholesterol", 0 },
	[T_TRIG]      = { "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 130, 45, 0, 149, 0, NULL, "LAB3002", "Triglycerides", 0 },
	[T_HDL]       = { "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 52, 11, 40, 100, 0, NULL, "LAB3003", "HDL", 0 },
	[T_LDL]       = { "18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", 110, 28, 0, 129, 0, NULL, "LAB3004", "LDL", 0 },
	[T_A1C]       = { "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 5.4, 0.35, 4.0, 5.6, 1, "HGBA1C", "LAB4001", "Hemoglobin A1c", 0 },
	[T_POCT]      = { NULL, "Point of care test, miscellaneous", "mg/dL", 100, 15, 0, 0, 0, "POCT99", "LAB9999", "POC misc", 0 },
	[T_HEIGHT]    = { "8302-2", "Body height", "cm", 170, 9, 0, 0, 1, NULL, "VS001", "Height", 1 },
	[T_WEIGHT]    = { "29463-7", "Body weight", "kg", 80, 15, 0, 0, 1, NULL, "VS002", "Weight", 1 },
	[T_BMI]       = { "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 27, 4.5, 18.5, 24.9, 1, NULL, "VS003", "BMI", 1 },
	[T_SYS]       = { "8480-6", "Systolic blood pressure", "mm[Hg]", 121, 13, 90, 120, 0, NULL, "VS004", "Systolic BP", 1 },
	[T_DIA]       = { "8462-4", "Diastolic blood pressure", "mm[Hg]", 77, 8, 60, 80, 0, NULL, "VS005", "Diastolic BP", 1 },
	[T_HR]        = { "8867-4", "Heart rate", "/min", 74, 9, 60, 100, 0, NULL, "VS006", "Pulse", 1 },
	[T_RR]        = { "9279-1", "Respiratory rate", "/min", 15, 1.8, 12, 20, 0, NULL, "VS007", "Resp rate", 1 },
	[T_TEMP]      = { "8310-5", "Body temperature", "Cel", 36.8, 0.3, 36.1, 37.2, 1, NULL, "VS008", "Temperature", 1 },
	[T_SPO2]      = { "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 97.5, 1.1, 95, 100, 0, NULL, "VS009", "SpO2", 1 },
};

const struct gen_panel gen_panels[P__COUNT] = {
	[P_BMP]    = { "51990-0", "Basic metabolic panel - Blood", 8, { T_GLUCOSE, T_BUN, T_CREAT, T_SODIUM, T_POTASSIUM, T_CHLORIDE, T_CO2, T_CALCIUM } },
	[P_CBC]    = { "58410-2", "CBC panel - Blood by Automated count", 6, { T_WBC, T_RBC, T_HGB, T_HCT, T_MCV, T_PLT } },
	[P_LIPID]  = { "57698-3", "Lipid panel with direct LDL - Serum or Plasma", 4, { T_CHOL, T_TRIG, T_HDL, T_LDL } },
	[P_A1C]    = { "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 1, { T_A1C } },
	[P_POCT]   = { NULL, "Point of care test, miscellaneous", 1, { T_POCT } },
	[P_VITALS] = { "85353-1", "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel", 9,
	               { T_HEIGHT, T_WEIGHT, T_BMI, T_SYS, T_DIA, T_HR, T_RR, T_TEMP, T_SPO2 } },
};

#define M(t) (1u << (t))
const struct gen_cond gen_conds[C__COUNT] = {
	[C_HTN]         = { "59621000", "Essential hypertension", "I10", "Essential (primary) hypertension", 1, 300, { D_LISINOPRIL, D_AMLODIPINE }, 0, 0 },
	[C_T2DM]        = { "44054006", "Type 2 diabetes mellitus", "E11.9", "Type 2 diabetes mellitus without complications", 1, 110, { NONE, NONE }, 0, 0 },
	[C_HLD]         = { "55822004", "Hyperlipidemia", "E78.5", "Hyperlipidemia, unspecified", 1, 250, { D_SIMVASTATIN, D_ATORVASTATIN }, 0, 0 },
	[C_AFIB]        = { "49436004", "Atrial fibrillation", "I48.91", "Unspecified atrial fibrillation", 1, 40, { D_WARFARIN, NONE }, 0, 0 },
	[C_ASTHMA]      = { "195967001", "Asthma", NULL, NULL, 1, 80, { D_ALBUTEROL, D_LORATADINE }, 0, 0 },
	[C_GERD]        = { "235595009", "Gastroesophageal reflux disease", NULL, NULL, 1, 80, { NONE, NONE }, 0, 0 },
	[C_OA_KNEE]     = { "239873007", "Osteoarthritis of knee", NULL, NULL, 1, 80, { D_CELECOXIB, D_DICLOFENAC }, 0, 0 },
	[C_HYPOTHYROID] = { "83664006", "Idiopathic atrophic hypothyroidism", NULL, NULL, 1, 50, { D_LEVOTHYROXINE, NONE }, 0, 0 },
	[C_MDD]         = { "370143000", "Major depressive disorder", NULL, NULL, 1, 60, { NONE, NONE }, 0, 0 },
	[C_CKD3]        = { "433144002", "Chronic kidney disease stage 3", NULL, NULL, 1, 30, { NONE, NONE }, 0, 0 },
	[C_CAD]         = { "53741008", "Coronary arteriosclerosis", NULL, NULL, 1, 40, { D_CLOPIDOGREL, D_ASPIRIN }, 0, 0 },
	[C_BRONCHITIS]  = { "10509002", "Acute bronchitis", NULL, NULL, 0, 200, { NONE, NONE }, M(E_SYMPTOM), 0 },
	[C_PHARYNGITIS] = { "195662009", "Acute viral pharyngitis", NULL, NULL, 0, 200, { D_ACETAMINOPHEN, NONE }, M(E_SYMPTOM), 0 },
	[C_SINUSITIS]   = { "444814009", "Viral sinusitis", NULL, NULL, 0, 200, { D_AMOX_CLAV, NONE }, M(E_SYMPTOM), 0 },
	[C_OTITIS]      = { "65363002", "Otitis media", NULL, NULL, 0, 120, { D_AMOXICILLIN, NONE }, M(E_SYMPTOM), 0 },
	[C_UTI]         = { "68566005", "Urinary tract infectious disease", NULL, NULL, 0, 150, { D_NITROFURANTOIN, NONE }, M(E_SYMPTOM) | M(E_ER), 0 },
	[C_SPRAIN]      = { "44465007", "Sprain of ankle", NULL, NULL, 0, 150, { D_IBUPROFEN, D_NAPROXEN }, M(E_SYMPTOM) | M(E_ER), 0 },
	[C_PNEUMONIA]   = { "233604007", "Pneumonia", NULL, NULL, 0, 200, { D_AMOXICILLIN, NONE }, M(E_ER) | M(E_IP), 0 },
	[C_GI_BLEED]    = { "74474003", "Gastrointestinal hemorrhage", "K92.2", "Gastrointestinal hemorrhage, unspecified", 0, 100, { NONE, NONE }, M(E_ER) | M(E_IP), 0 },
	[C_EMPLOYED]    = { "160903007", "Full-time employment (finding)", NULL, NULL, 0, 60, { NONE, NONE }, M(E_WELL), 1 },
};

const struct gen_drug gen_drugs[D__COUNT] = {
	[D_LISINOPRIL]     = { "314076", "lisinopril 10 MG Oral Tablet", NULL, NULL, 10, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 90, 90, 3, 1 },
	[D_AMLODIPINE]     = { "197361", "amlodipine 5 MG Oral Tablet", NULL, NULL, 5, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 90, 90, 3, 1 },
	[D_SIMVASTATIN]    = { "312961", "simvastatin 20 MG Oral Tablet", NULL, NULL, 20, "mg", "TAB", "Tablet", "Take 1 tablet by mouth at bedtime", 90, 90, 3, 1 },
	[D_ATORVASTATIN]   = { "259255", "atorvastatin 80 MG Oral Tablet", NULL, NULL, 80, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 90, 90, 3, 1 },
	[D_LEVOTHYROXINE]  = { "966222", "levothyroxine sodium 0.075 MG Oral Tablet", NULL, NULL, 0.075, "mg", "TAB", "Tablet", "Take 1 tablet by mouth every morning", 90, 90, 3, 1 },
	[D_WARFARIN]       = { "855332", "warfarin sodium 5 MG Oral Tablet", NULL, NULL, 5, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 30, 30, 2, 1 },
	[D_CLOPIDOGREL]    = { "309362", "clopidogrel 75 MG Oral Tablet", NULL, NULL, 75, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 90, 90, 3, 1 },
	[D_ASPIRIN]        = { "243670", "aspirin 81 MG Oral Tablet", NULL, NULL, 81, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 90, 90, 3, 1 },
	[D_AMOXICILLIN]    = { "308192", "amoxicillin 500 MG Oral Tablet", NULL, NULL, 500, "mg", "TAB", "Tablet", "Take 1 tablet by mouth three times daily for 10 days", 10, 30, 0, 1 },
	[D_AMOX_CLAV]      = { "562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet", NULL, NULL, 1, "1", "TAB", "Tablet", "Take 1 tablet by mouth every 8 hours for 10 days", 10, 30, 0, 1 },
	[D_ACETAMINOPHEN]  = { "313782", "acetaminophen 325 MG Oral Tablet", NULL, NULL, 650, "mg", "TAB", "Tablet", "Take 2 tablets by mouth every 6 hours as needed", 5, 40, 0, 1 },
	[D_IBUPROFEN]      = { "310965", "ibuprofen 200 MG Oral Tablet", NULL, NULL, 400, "mg", "TAB", "Tablet", "Take 2 tablets by mouth every 8 hours as needed", 7, 42, 0, 1 },
	[D_NAPROXEN]       = { "198014", "naproxen 500 MG Oral Tablet", NULL, NULL, 500, "mg", "TAB", "Tablet", "Take 1 tablet by mouth twice daily with food", 10, 20, 0, 1 },
	[D_LORATADINE]     = { "311372", "loratadine 10 MG Oral Tablet", NULL, NULL, 10, "mg", "TAB", "Tablet", "Take 1 tablet by mouth daily", 30, 30, 5, 1 },
	[D_ALBUTEROL]      = { "2123111", "NDA020503 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", NULL, NULL, 2, "{puff}", "INH", "Inhaler", "Inhale 2 puffs every 4 hours as needed", 30, 1, 2, 0 },
	[D_NITROFURANTOIN] = { "311995", "nitrofurantoin, macrocrystals 50 MG Oral Capsule", NULL, NULL, 50, "mg", "CAP", "Capsule", "Take 1 capsule by mouth four times daily for 7 days", 7, 28, 0, 1 },
	[D_CELECOXIB]      = { "213469", "celecoxib 200 MG Oral Capsule [Celebrex]", "00025152531", "Celebrex 200 mg capsule", 200, "mg", "CAP", "Capsule", "Take 1 capsule by mouth daily", 30, 30, 2, 1 },
	[D_DICLOFENAC]     = { "855926", "Diclofenac Sodium 75 MG Delayed Release Oral Tablet", "00781178901", "Diclofenac sodium 75 mg DR tablet", 75, "mg", "TAB", "Tablet", "Take 1 tablet by mouth twice daily", 30, 60, 2, 1 },
};

const struct gen_vax gen_vaxes[V__COUNT] = {
	[V_FLU]       = { "140", "Influenza, seasonal, injectable, preservative free", 1, 120, 1 },
	[V_PCV13]     = { "133", "pneumococcal conjugate vaccine, 13 valent", 65, 120, 0 },
	[V_TD]        = { "113", "tetanus and diphtheria toxoids, adsorbed, preservative free, for adult use", 19, 120, 2 },
	[V_TDAP]      = { "115", "tetanus toxoid, reduced diphtheria toxoid, and acellular pertussis vaccine, adsorbed", 11, 18, 0 },
	[V_HPV]       = { "62", "human papilloma virus vaccine, quadrivalent", 9, 26, 0 },
	[V_HEPB]      = { "43", "hepatitis B vaccine, adult dosage", 19, 59, 0 },
	[V_VARICELLA] = { "21", "varicella virus vaccine", 1, 12, 0 },
	[V_ZOSTER]    = { "121", "zoster vaccine, live", 60, 120, 0 },
	[V_HEPA]      = { "52", "hepatitis A vaccine, adult dosage", 19, 120, 0 },
};

const struct gen_allergy gen_allergies[A__COUNT] = {
	{ "91935009", "Allergy to peanuts", "FA", "food", "Hives" },
	{ "417532002", "Allergy to fish", "FA", "food", "Hives" },
	{ "300916003", "Allergy to latex", "EA", "environment", "Rash" },
	{ "419474003", "Allergy to mold", "EA", "environment", "Sneezing" },
	{ "232347008", "Allergy to animal dander", "EA", "environment", "Itching" },
	{ "418689008", "Allergy to grass pollen", "EA", "environment", "Sneezing" },
	{ "91934008", "Allergy to nut", "FA", "food", "Swelling" },
};

const struct gen_enc_type_def gen_enc_types[E__COUNT] = {
	[E_WELL]    = { "185349003", "Encounter for check up", "O", "wellness", "AMB", "ambulatory", 9202 },
	[E_SYMPTOM] = { "185345009", "Encounter for symptom", "O", "ambulatory", "AMB", "ambulatory", 9202 },
	[E_ER]      = { "50849002", "Emergency room admission", "E", "emergency", "EMER", "emergency", 9203 },
	[E_IP]      = { "32485007", "Hospital admission", "I", "inpatient", "IMP", "inpatient encounter", 9201 },
};

const struct gen_race gen_races[R__COUNT] = {
	{ "2106-3", "White", "white", 8527, 620 },
	{ "2054-5", "Black or African American", "black", 8516, 140 },
	{ "2028-9", "Asian", "asian", 8515, 70 },
	{ "2131-1", "Other Race", "other", 0, 170 },
};
