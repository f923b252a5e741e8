-- omopipe's own schema: what the pipeline needs to be safe to re-run.
-- Idempotent. The version row (schema_version) lets later releases migrate.

CREATE TABLE IF NOT EXISTS @omopipe.schema_version (
    version          integer PRIMARY KEY,
    applied_at       timestamptz NOT NULL DEFAULT now(),
    omopipe_version  text NOT NULL
);

-- Sites: site_no is the high part of every id omopipe assigns, so ids of two
-- sites never collide (id = site_no * 10^12 + a number below 10^12: from id_seq
-- for persons, visits and the health system, from event id blocks for events).
CREATE TABLE IF NOT EXISTS @omopipe.site (
    site_no     integer PRIMARY KEY CHECK (site_no BETWEEN 1 AND 9000),
    site_id     text NOT NULL UNIQUE,
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE IF NOT EXISTS @omopipe.id_seq MAXVALUE 499999999999;
-- Events take their ids in blocks of 10,000 (one sequence call per block, kept
-- by the worker): id = site_no * 10^12 + 5 * 10^11 + block * 10^4 + n.
CREATE SEQUENCE IF NOT EXISTS @omopipe.event_block_seq MAXVALUE 49999999;

-- Stable identity: a 128-bit hash of (site, kind, source key) -> the CDM id;
-- an event's starts with the hash of its key's first two parts (its order,
-- visit or patient: etl/load/keytab.h). uuid rather than bytea: a fixed 16
-- bytes, a third cheaper to insert and probe in the b-tree.
-- kind: 1 person, 2 visit, 3 provider, 4 care_site, 5 location, 6 event.
-- An event's provenance: the file (source_file) and the record in it that
-- wrote its row last (record_no: message, row or document; source_record).
CREATE TABLE IF NOT EXISTS @omopipe.id_map (
    key        uuid PRIMARY KEY,
    id         bigint NOT NULL,
    kind       smallint NOT NULL,
    site_no    integer NOT NULL,
    file_id    bigint,
    record_no  bigint
);
-- a merge (HL7 A40) re-points the person's key: found without scanning id_map
CREATE INDEX IF NOT EXISTS idx_id_map_person ON @omopipe.id_map (id) WHERE kind = 1;
-- BRIN: rows of a file are written together, so a block range index finds them
-- (replacing a changed file) at a fraction of a b-tree's cost on every insert
CREATE INDEX IF NOT EXISTS idx_id_map_file ON @omopipe.id_map USING brin (file_id);

-- Loaded records as their senders name them (HL7 v2 MSH-10 message control
-- id, C-CDA ClinicalDocument/id as ROOT|EXTENSION), with their position: with
-- id_map.record_no, what `omopipe provenance ID` shows. A CSV row has no such
-- name: its file and row number are its provenance.
CREATE TABLE IF NOT EXISTS @omopipe.source_record (
    file_id      bigint NOT NULL,
    record_no    bigint NOT NULL,
    line_no      bigint,
    byte_offset  bigint NOT NULL,
    source_id    text NOT NULL,
    PRIMARY KEY (file_id, record_no)
);

-- Runs and the files they read: the ledger behind `omopipe runs`.
CREATE TABLE IF NOT EXISTS @omopipe.run (
    run_id           bigserial PRIMARY KEY,
    command          text NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    status           text NOT NULL DEFAULT 'running',
    host             text,
    backend_pid      integer,           -- of the run's main connection: a dead one means interrupted
    omopipe_version  text
);

-- The current version of every input file a site has loaded.
CREATE TABLE IF NOT EXISTS @omopipe.source_file (
    file_id       bigserial PRIMARY KEY,
    site_no       integer NOT NULL REFERENCES @omopipe.site (site_no),
    path          text NOT NULL,
    content_hash  text NOT NULL,
    size_bytes    bigint NOT NULL,
    format        text NOT NULL,
    profile       text NOT NULL,
    loaded_run_id bigint,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_no, path)
);

CREATE TABLE IF NOT EXISTS @omopipe.run_file (
    run_id               bigint NOT NULL REFERENCES @omopipe.run (run_id),
    site_no              integer NOT NULL,
    path                 text NOT NULL,
    file_id              bigint,
    content_hash         text,
    format               text,
    profile              text,
    status               text NOT NULL,     -- loaded | unchanged | failed
    records_read         bigint NOT NULL DEFAULT 0,
    records_loaded       bigint NOT NULL DEFAULT 0,
    records_quarantined  bigint NOT NULL DEFAULT 0,
    records_skipped      bigint NOT NULL DEFAULT 0,
    rows_per_table       jsonb NOT NULL DEFAULT '{}',
    skipped_per_reason   jsonb NOT NULL DEFAULT '{}',
    notes_per_reason     jsonb NOT NULL DEFAULT '{}',  -- parts of records left out on purpose
    message              text,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    PRIMARY KEY (run_id, site_no, path)
);

-- Records that could not be loaded, with where, why, and the raw record
-- (zstd-compressed) for a steward to fix and replay.
CREATE TABLE IF NOT EXISTS @omopipe.quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    run_id         bigint NOT NULL,
    site_no        integer NOT NULL,
    file_id        bigint,
    path           text NOT NULL,
    record_no      bigint,
    line_no        bigint,
    byte_offset    bigint,
    position       text,
    reason         text NOT NULL,
    message        text NOT NULL,
    format         text NOT NULL,
    profile        text NOT NULL,
    raw_zst        bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    replayed_run_id bigint
);
CREATE INDEX IF NOT EXISTS idx_quarantine_site ON @omopipe.quarantine (site_no, reason);
CREATE INDEX IF NOT EXISTS idx_quarantine_file ON @omopipe.quarantine (file_id);

-- Codes that did not map, per site: what a steward takes to Usagi.
-- source_system is the system key: the OMOP vocabulary_id when the feed's
-- system resolved, else the system as written (upper case). reason: no_standard,
-- unknown_code, unknown_system, invalid_code (etl/map/map_stats.c).
CREATE TABLE IF NOT EXISTS @omopipe.unmapped_code (
    site_id         text NOT NULL,
    source_system   text NOT NULL,
    vocabulary_id   text NOT NULL,
    source_code     text NOT NULL,
    source_name     text,
    record_count    bigint NOT NULL,
    first_run_id    bigint,
    last_run_id     bigint,
    reason          text,
    last_seen       timestamptz,
    PRIMARY KEY (site_id, source_system, source_code)
);

-- Persons a run touched: derived tables are recomputed for these only.
CREATE TABLE IF NOT EXISTS @omopipe.touched_person (
    run_id     bigint NOT NULL,
    person_id  bigint NOT NULL,
    PRIMARY KEY (run_id, person_id)
);

-- Ids of derived rows (observation_period, eras).
CREATE SEQUENCE IF NOT EXISTS @omopipe.derived_seq;
