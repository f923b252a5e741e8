#!/usr/bin/env bash
# Foundation end to end: init (idempotent), the 39 CDM tables, vocabulary loads
# in both formats (+ zstd), bad input (malformed row, missing folder, broken
# config, unreachable database, usage errors) with the documented exit codes.
source "$(dirname "$0")/lib.sh"
V="$OMO_SHARED_DATA/vocab"

expect_rc "init" 0 omo init
expect_grep "init reports creation" "created" "$T/out"
expect_rc "init again" 0 omo init
expect_grep "init again changes nothing" "up to date" "$T/out"
expect_eq "CDM tables" 37 "$(sql "select count(*) from information_schema.tables where table_schema='cdm'")"
expect_eq "results cohort tables" 2 "$(sql "select count(*) from information_schema.tables where table_schema='results' and table_name like 'cohort%'")"
expect_eq "schema version" 3 "$(sql "select max(version) from omopipe.schema_version")"
# a version-1 database (bytea keys, no provenance records) is refused until
# init migrates it through every version, keys kept
sql "ALTER TABLE omopipe.id_map ALTER COLUMN key TYPE bytea USING decode(replace(key::text, '-', ''), 'hex');
     ALTER TABLE omopipe.id_map DROP COLUMN record_no; DROP TABLE omopipe.source_record;
     INSERT INTO omopipe.id_map VALUES ('\\x0102030405060708090a0b0c0d0e0f10', 7, 1, 1, NULL);
     UPDATE omopipe.schema_version SET version = 1 WHERE version = 3"
expect_rc "a version-1 database is refused" 4 omo runs
expect_grep "and says how to migrate" "run \`omopipe init\` to migrate" "$T/err"
expect_rc "init migrates" 0 omo init
expect_eq "keys are uuid after the migration" uuid "$(sql "select data_type from information_schema.columns where table_schema='omopipe' and table_name='id_map' and column_name='key'")"
expect_eq "keys kept" 01020304-0506-0708-090a-0b0c0d0e0f10 "$(sql "select key from omopipe.id_map where id = 7")"
expect_eq "event provenance after the migration" 1 "$(sql "select count(*) from information_schema.columns where table_schema='omopipe' and table_name='id_map' and column_name='record_no'")"
expect_eq "source records after the migration" 1 "$(sql "select count(*) from information_schema.tables where table_schema='omopipe' and table_name='source_record'")"
expect_eq "version recorded" 3 "$(sql "select max(version) from omopipe.schema_version")"
sql "DELETE FROM omopipe.id_map WHERE id = 7"
expect_eq "event ids are bigint" bigint "$(sql "select data_type from information_schema.columns where table_schema='cdm' and table_name='measurement' and column_name='measurement_id'")"
expect_eq "person_id index" 1 "$(sql "select count(*) from pg_indexes where schemaname='cdm' and indexname='idx_measurement_person_id'")"
expect_eq "reader role" 1 "$(sql "select count(*) from pg_roles where rolname='omopipe_reader'")"
expect_eq "reader cannot write" f "$(sql "select has_table_privilege('omopipe_reader','cdm.person','INSERT')")"
expect_eq "reader can read" t "$(sql "select has_table_privilege('omopipe_reader','cdm.person','SELECT')")"

# the embedded cluster keeps WAL between checkpoints up to a quarter of the
# free disk space where it lives (1 to 32 GB), within what other tests wrote since
free_mb=$(( $(df -Pk "$OMOPIPE_DATA_DIR/pg" | awk 'NR == 2 {print $4}') / 1024 ))
want_mb=$(( free_mb / 4 < 1024 ? 1024 : free_mb / 4 > 32768 ? 32768 : free_mb / 4 ))
wal_mb=$(sql "select setting from pg_settings where name = 'max_wal_size'")
diff_mb=$(( wal_mb > want_mb ? wal_mb - want_mb : want_mb - wal_mb ))
expect_eq "max_wal_size is a quarter of the free space ($wal_mb MB, $want_mb MB expected)" 1 "$(( diff_mb <= want_mb / 10 + 64 ))"

for d in Eunomia-GiBleed_5.3 Eunomia-Synthea27Nj_5.4 OHDSI-dbt-synthea-shard-partial; do
  expect_rc "vocab load $d" 0 omo vocab load "$V/$d"
done
expect_eq "GiBleed concepts replaced by the next CONCEPT load" 0 "$(sql "select count(*) from cdm.concept where vocabulary_id='ICD10CM'")"
expect_eq "relationships from the last load" 24860 "$(sql "select count(*) from cdm.concept_relationship")"
expect_eq "concepts kept from an earlier load" 2294 "$(sql "select count(*) from cdm.concept")"

# Athena download format: tab separated, unquoted (a literal quote in a name), YYYYMMDD, zstd
A="$T/athena"; mkdir -p "$A"
printf 'concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\tconcept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason\n' > "$A/CONCEPT.csv"
printf '1\tA "quoted" name, with comma\tCondition\tSNOMED\tClinical Finding\tS\t111\t19700101\t20991231\t\n' >> "$A/CONCEPT.csv"
printf '2\tback\\\\slash\tCondition\tSNOMED\tClinical Finding\t\t222\t19700101\t20991231\tD\n' >> "$A/CONCEPT.csv"
printf 'concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason\n1\t2\tMaps to\t19700101\t20991231\t\n' | zstd -q -o "$A/concept_relationship.csv.zst"
expect_rc "Athena format with zstd" 0 omo vocab load "$A"
expect_eq "quotes kept literally" 'A "quoted" name, with comma' "$(sql "select concept_name from cdm.concept where concept_id=1")"
expect_eq "backslash kept" 'back\\slash' "$(sql "select concept_name from cdm.concept where concept_id=2")"
expect_eq "empty field is NULL" "t" "$(sql "select standard_concept is null from cdm.concept where concept_id=2")"
expect_eq "date read" "2099-12-31" "$(sql "select valid_end_date from cdm.concept where concept_id=1")"
expect_eq "zstd file loaded" 1 "$(sql "select count(*) from cdm.concept_relationship")"

# a malformed row: file:line and reason, the vocabulary unchanged
B="$T/bad"; mkdir -p "$B"
cp "$A/CONCEPT.csv" "$B/CONCEPT.csv"
printf '3\tok\tCondition\tSNOMED\tClinical Finding\t\t333\t19700101\t20991231\t\n' >> "$B/CONCEPT.csv"
printf 'x4\tbad id\tCondition\tSNOMED\tClinical Finding\t\t444\t19700101\t20991231\t\n' >> "$B/CONCEPT.csv"
expect_rc "malformed row" 1 omo vocab load "$B"
expect_grep "names file and line" "CONCEPT.csv:5" "$T/err"
expect_grep "says why" "not an integer" "$T/err"
expect_eq "vocabulary unchanged" 2 "$(sql "select count(*) from cdm.concept")"
printf '5\ttoo few\tCondition\n' > "$B/CONCEPT.csv.bad"; head -1 "$A/CONCEPT.csv" > "$B/CONCEPT.csv"; cat "$B/CONCEPT.csv.bad" >> "$B/CONCEPT.csv"
expect_rc "wrong column count" 1 omo vocab load "$B"
expect_grep "column count at line 2" "CONCEPT.csv:2" "$T/err"
printf '6\tbad date\tCondition\tSNOMED\tClinical Finding\t\t666\t20230230\t20991231\t\n' >> "$A/CONCEPT.csv"
expect_rc "impossible date" 1 omo vocab load "$A"
expect_grep "date named" "not a date" "$T/err"
expect_eq "still unchanged" 2 "$(sql "select count(*) from cdm.concept")"

expect_rc "missing folder" 1 omo vocab load "$T/nope"
expect_grep "names the folder" "$T/nope" "$T/err"
mkdir -p "$T/empty"
expect_rc "folder without vocabulary" 1 omo vocab load "$T/empty"
expect_grep "says what is expected" "CONCEPT.csv" "$T/err"

# configuration errors: file:line and the key, exit 3
printf '[omopipe]\nworkers = 4\n[schemas]\ncdm = Bad-Name\n' > "$T/bad.conf"
expect_rc "bad config value" 3 omo -c "$T/bad.conf" config check
expect_grep "file:line" "bad.conf:4" "$T/err"
printf '[database]\nconnifo = host=x\n' > "$T/typo.conf"
expect_rc "unknown key" 3 omo -c "$T/typo.conf" config check
expect_grep "key named" "connifo" "$T/err"
expect_rc "missing config file" 3 omo -c "$T/none.conf" config check

# secrets masked
printf '[database]\nconninfo = host=db.example.org dbname=cdm user=etl password=s3cret\n[site north]\nname = North\nfeed = hl7v2 epic feeds/north\n' > "$T/good.conf"
expect_rc "config check" 0 omo -c "$T/good.conf" config check
expect_grep "masked" "password=\*\*\*\*\*" "$T/out"
grep -q s3cret "$T/out" "$T/err" && fail "password printed"
expect_grep "relative feed path resolved" "$T/feeds/north" "$T/out"
PGPASSWORD=envsecret expect_rc "db status with env password" 4 omo -c "$T/good.conf" --conninfo "host=127.0.0.1 port=1 dbname=x connect_timeout=2" db status
grep -q envsecret "$T/out" "$T/err" && fail "env password printed"

# precedence: file < environment < flag
printf '[omopipe]\nworkers = 3\n' > "$T/w.conf"
expect_rc "workers from file" 0 omo -c "$T/w.conf" config check; expect_grep "file value" "workers = 3" "$T/out"
OMOPIPE_WORKERS=5 expect_rc "workers from env" 0 omo -c "$T/w.conf" config check; expect_grep "env beats file" "workers = 5" "$T/out"
OMOPIPE_WORKERS=5 expect_rc "workers from flag" 0 omo -c "$T/w.conf" --workers 7 config check; expect_grep "flag beats env" "workers = 7" "$T/out"

# unreachable database: one line naming it, exit 4
expect_rc "unreachable database" 4 omo --conninfo "host=127.0.0.1 port=1 dbname=x connect_timeout=2" init
expect_grep "names host" "127.0.0.1 port 1" "$T/err"
expect_eq "one line" 1 "$(wc -l < "$T/err")"

# usage
expect_rc "unknown command" 2 omo frobnicate
expect_grep "try --help" "try 'omopipe --help'" "$T/err"
expect_rc "bad subcommand" 2 omo db frob
expect_grep "try db --help" "try 'omopipe db --help'" "$T/err"
expect_rc "help" 0 omo --help
expect_grep "exit codes documented" "Exit codes" "$T/out"
expect_rc "command help" 0 omo vocab --help
expect_rc "version" 0 omo --version
expect_rc "db status" 0 omo db status
expect_grep "prints conninfo" "conninfo:   host=$OMOPIPE_DATA_DIR/run" "$T/out"
expect_rc "db start twice is harmless" 0 omo db start
expect_grep "already running" "already running" "$T/out"
echo "all foundation checks passed"
