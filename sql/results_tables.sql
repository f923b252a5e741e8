-- The results schema: data-quality results with history (filled by `omopipe dq`).
-- Later releases add to it; idempotent.
CREATE TABLE IF NOT EXISTS @results.dq_run (
    dq_run_id        bigserial PRIMARY KEY,
    run_id           bigint,
    site_id          text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    cdm_version      text NOT NULL DEFAULT '5.4'
);
