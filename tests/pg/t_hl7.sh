#!/usr/bin/env bash
# HL7 v2 feeds end to end through `omopipe etl --format hl7v2`: the Epic and
# Cerner dialect fixtures through their profiles (persons, visits,
# measurements; a result with status X is not loaded), malformed messages quarantined with
# their position while the rest of the file loads, a re-run changes nothing,
# every shared sample file loads or is quarantined or skipped; a correction
# and a deletion in a later file; provenance (file, record, MSH-10) of rows.
source "$(dirname "$0")/lib.sh"
F="$OMO_FIXTURES/hl7v2"
cdm() { sql "SELECT count(*) FROM cdm.$1 ${2:-}"; }

expect_rc "init" 0 omo init
expect_rc "vocab load" 0 omo vocab load "$OMO_SHARED_DATA/vocab/Eunomia-Synthea27Nj_5.4"

# epic.hl7 holds three messages; each goes into a file of its own (E1 the
# results, E2 their correction and a deletion, E3 an SSN-only patient)
tr '\r' '\n' < "$F/epic.hl7" | awk -v d="$T" '/^MSH/ { n++ } { print > (d "/epic" n ".txt") }'
for i in 1 2 3; do tr '\n' '\r' < "$T/epic$i.txt" > "$T/epic$i.hl7"; done
expect_rc "etl epic E1" 0 omo etl --site north --format hl7v2 --profile epic "$T/epic1.hl7"
expect_grep "E1 records" "records: 1 read = 1 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "epic persons" "1" "$(cdm person)"
expect_eq "glucose as first reported" "98" "$(sql "SELECT value_as_number FROM cdm.measurement WHERE measurement_source_value = '2345-7'")"
expect_eq "local code loaded" "1" "$(cdm measurement "WHERE measurement_source_value = 'GLU'")"
expect_eq "X result not loaded" "0" "$(cdm measurement "WHERE measurement_source_value = '718-7'")"
glu=$(sql "SELECT measurement_id FROM cdm.measurement WHERE measurement_source_value = '2345-7'")
expect_eq "E1 named by its sender" "E1" "$(sql "SELECT source_id FROM omopipe.source_record")"
expect_rc "provenance of the glucose" 0 omo provenance "$glu"
expect_grep "its file" "file: .*/epic1.hl7 (hl7v2, profile epic)" "$T/out"
expect_grep "its record" "record: *1 (line 1, byte 0)" "$T/out"
expect_grep "its message control id" "source: *E1" "$T/out"
expect_rc "an unknown id" 1 omo provenance 999
expect_grep "is said to be unknown" "999: no row omopipe loaded has this id" "$T/out"
expect_rc "not an id" 2 omo provenance glucose
# E2 in a file of its own: corrects E1's glucose under the same key and
# deletes its local result; the corrected row's provenance is E2
expect_rc "etl epic E2" 0 omo etl --site north --format hl7v2 --profile epic "$T/epic2.hl7"
expect_eq "glucose corrected in place" "89|$glu" "$(sql "SELECT value_as_number || '|' || measurement_id FROM cdm.measurement WHERE measurement_source_value = '2345-7'")"
expect_eq "local result deleted" "0" "$(cdm measurement "WHERE measurement_source_value = 'GLU'")"
expect_rc "provenance of the correction" 0 omo provenance "$glu"
expect_grep "the correcting file" "file: .*/epic2.hl7" "$T/out"
expect_grep "the correcting message" "source: *E2" "$T/out"
# E2 sent again under the same name with new content (another control id, another
# value): its old version's rows and source records give way to the new one's
sed -e 's/|E2|/|E2B|/' -e 's/||89|/||90|/' "$T/epic2.hl7" > "$T/epic2.new" && mv "$T/epic2.new" "$T/epic2.hl7"
expect_rc "etl epic E2 changed" 0 omo etl --site north --format hl7v2 --profile epic "$T/epic2.hl7"
expect_eq "the new version's value" "90|$glu" "$(sql "SELECT value_as_number || '|' || measurement_id FROM cdm.measurement WHERE measurement_source_value = '2345-7'")"
expect_eq "only the new version's source record" "E2B" "$(sql "SELECT string_agg(source_id, ',') FROM omopipe.source_record r JOIN omopipe.source_file f USING (file_id) WHERE f.path LIKE '%/epic2.hl7'")"
expect_rc "etl epic E3" 0 omo etl --site north --format hl7v2 --profile epic "$T/epic3.hl7"
expect_grep "SSN only: no patient" "records: 1 read = 0 loaded + 1 quarantined + 0 skipped" "$T/out"

# re-run: nothing changes
expect_rc "etl epic E1 again" 0 omo etl --site north --format hl7v2 --profile epic "$T/epic1.hl7"
expect_eq "same persons" "1" "$(cdm person)"

# Cerner batch file: CRLF, FHS/BHS, zone-less times, 99CERNER codes with LOINC alternates
expect_rc "etl cerner" 0 omo etl --site south --format hl7v2 --profile cerner "$F/cerner.hl7"
expect_grep "cerner records" "records: 2 read = 2 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "cerner visit" "1" "$(cdm visit_occurrence)"

# malformed messages: quarantined, the rest of each file loads
expect_rc "etl malformed" 0 omo etl --site north --format hl7v2 "$F/bad_date_short.hl7" "$F/wrong_delimiters.hl7"
expect_grep "malformed totals" "4 loaded + 2 quarantined" "$T/out"
expect_rc "quarantine list" 0 omo quarantine list
expect_grep "position of the bad date" "OBX\[2\]-14" "$T/out"

# bytes PostgreSQL text cannot hold: a control id (MSH-10) that is not UTF-8
# quarantines its message, not the file (a COPY with it would fail them all);
# a long one is cut to 127 bytes without splitting a character
printf 'MSH|^~\\&|A|B|C|D|20230301||ADT^A31|BAD\355\240\200|P|2.5.1||||||UNICODE UTF-8\rPID|1||91^^^H^MR||DOE^JANE||19800115|F\r' > "$T/bytes.hl7"
printf 'MSH|^~\\&|A|B|C|D|20230301||ADT^A31|%s\303\251y|P|2.5.1||||||UNICODE UTF-8\rPID|1||92^^^H^MR||DOE^JOHN||19800115|M\r' \
  "$(printf 'x%.0s' $(seq 126))" >> "$T/bytes.hl7"
expect_rc "etl bytes" 0 omo etl --site north --format hl7v2 "$T/bytes.hl7"
expect_grep "bytes: one quarantined, one loaded" "records: 2 read = 1 loaded + 1 quarantined" "$T/out"
expect_eq "a long control id cut before its character" "126" "$(sql "SELECT length(source_id) FROM omopipe.source_record WHERE source_id LIKE 'xxx%'")"
expect_rc "quarantine list" 0 omo quarantine list
expect_grep "the control id's position" "MSH\[1\]-10" "$T/out"

# every shared sample: the counts add up, nothing crashes
expect_rc "etl shared samples" 0 omo etl --site samples --format hl7v2 "$OMO_SHARED_DATA/hl7v2"
expect_grep "shared totals" "records: 210 read = 66 loaded + 13 quarantined + 131 skipped" "$T/out"

# a visit start and a diagnosis date sent to the month only (HL7 DTM YYYYMM):
# loaded as the first day of that month, with a note (the database refused
# the diagnosis before, and its message with it, at no position)
printf 'MSH|^~\\&|A|B|C|D|20230301||ADT^A01|PD1|P|2.5.1\rEVN|A01|20230301\rPID|1||PD1^^^H^MR||DOE^JANE||19800101|F\rPV1|1|I|||||||||||||||||PD1V^^^H^VN|||||||||||||||||||||||||202302\rDG1|1||E11.9^Type 2 diabetes mellitus^I10||202302\r' > "$T/partial.hl7"
expect_rc "etl dates without their day" 0 omo etl --site north --format hl7v2 "$T/partial.hl7"
expect_grep "partial dates loaded" "records: 1 read = 1 loaded + 0 quarantined + 0 skipped" "$T/out"
expect_eq "the visit from the first of the month" "2023-02-01" \
  "$(sql "SELECT visit_start_date FROM cdm.visit_occurrence WHERE visit_source_value IS NOT NULL AND person_id = (SELECT person_id FROM cdm.person WHERE person_source_value LIKE '%PD1%')")"
expect_eq "the diagnosis on the first of the month" "2023-02-01" \
  "$(sql "SELECT condition_start_date FROM cdm.condition_occurrence WHERE person_id = (SELECT person_id FROM cdm.person WHERE person_source_value LIKE '%PD1%')")"
expect_eq "noted" '{"event date without its day: its first day taken": 1, "visit start without its day: its first day taken": 1}' \
  "$(sql "SELECT notes_per_reason FROM omopipe.run_file WHERE path LIKE '%/partial.hl7'")"
