/*
 * hl7_gen.c - writes N generated ORU^R01 messages for the HL7 v2 benchmark.
 *
 *   hl7_gen N FILE
 *
 * Each message: MSH, PID, PV1, ORC, OBR and five OBX (numeric lab results
 * with LOINC codes, UCUM units, reference ranges, zoned timestamps), segments
 * ending with CR, about 1.7 KB, the shape PERF.md's figures were measured on.
 * Deterministic (a fixed LCG): the same N gives the same file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng >> 33) % n);
}

static const struct { const char *code, *name, *unit, *range; double lo, span; } tests[] = {
	{ "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "70-99", 60, 80 },
	{ "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "0.6-1.2", 0.4, 1.5 },
	{ "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "3.5-5.1", 3.0, 2.8 },
	{ "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "136-145", 128, 20 },
	{ "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "12.0-17.5", 9, 9 },
	{ "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", "4.5-11.0", 3, 10 },
	{ "777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", "150-400", 100, 350 },
	{ "17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", "8.6-10.3", 7.5, 4 },
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hl7_gen N FILE\n");
		return 2;
	}
	long n = atol(argv[1]);
	FILE *f = fopen(argv[2], "wb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof buf);
	for (long i = 0; i < n; i++) {
		unsigned mrn = 100000 + rnd(900000), day = 1 + rnd(28), mon = 1 + rnd(12), hh = rnd(24), mm = rnd(60);
		fprintf(f, "MSH|^~\\&|EPIC|NORTH_LAB|OMOPIPE|NORTH|2023%02u%02u%02u%02u00-0500||ORU^R01^ORU_R01|MSG%08ld|P|2.5.1|||AL|NE|USA|UNICODE UTF-8\r",
		        mon, day, hh, mm, i);
		fprintf(f, "PID|1||%u^^^NORTH^MR~%03u-%02u-%04u^^^SSA^SS||PATIENT%ld^GIVEN^M^^^^L||19%02u%02u%02u|%c||2106-3^White^CDCREC|%u MAIN ST^^SPRINGFIELD^MA^01101^USA^H||^PRN^PH^^1^413^5550%03u|||M^Married^HL70002|||||||N^Not Hispanic or Latino^HL70189\r",
		        mrn, rnd(1000), rnd(100), rnd(10000), i, 30 + rnd(60), 1 + rnd(12), 1 + rnd(28), rnd(2) ? 'F' : 'M',
		        1 + rnd(999), rnd(1000));
		fprintf(f, "PV1|1|O|NORTH^CLINIC^%u^NORTH HOSPITAL||||%u^WELBY^MARCUS^J^^DR^MD^^NORTH^L^^^NPI|||MED||||||||||V%09ld^^^NORTH^VN|||||||||||||||||||||||||2023%02u%02u%02u%02u00-0500\r",
		        rnd(40), 1000 + rnd(9000), i, mon, day, hh, mm);
		fprintf(f, "ORC|RE|ORD%08ld^EPIC|LAB%08ld^NORTH_LAB||CM||||2023%02u%02u%02u%02u00-0500|||%u^WELBY^MARCUS^J^^DR^MD^^NORTH^L^^^NPI\r",
		        i, i, mon, day, hh, mm, 1000 + rnd(9000));
		fprintf(f, "OBR|1|ORD%08ld^EPIC|LAB%08ld^NORTH_LAB|80048^Basic metabolic panel^C4|||2023%02u%02u%02u%02u00-0500|||||||||%u^WELBY^MARCUS^J^^DR^MD^^NORTH^L^^^NPI||||||2023%02u%02u%02u%02u00-0500|||F\r",
		        i, i, mon, day, hh, mm, 1000 + rnd(9000), mon, day, hh, mm);
		unsigned first = rnd(8);
		for (unsigned k = 0; k < 5; k++) {
			unsigned t = (first + k) % 8;
			double v = tests[t].lo + tests[t].span * rnd(1000) / 1000.0;
			fprintf(f, "OBX|%u|NM|%s^%s^LN||%.1f|%s^^UCUM|%s|%s|||F|||2023%02u%02u%02u%02u00-0500||||||||NORTH LAB^L|1 LAB WAY^^SPRINGFIELD^MA^01101\r",
			        k + 1, tests[t].code, tests[t].name, v, tests[t].unit, tests[t].range, rnd(5) ? "N" : "H",
			        mon, day, hh, mm);
		}
	}
	if (fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
