{#- The tables written outside dbt's models (the sources `tickwindows`.*): by the CLI (`release` writes
    manifest_batches and manifest_lineages, `pilot` writes pilot_measurements) and by the gate's on-run-end
    hook (gate_runs). The on-run-start hook creates each one, empty and with its schema, when it is
    missing, so every model and test reads the real table from the first build on: a view over it is
    never an empty placeholder that stays empty until the view itself is rebuilt. Python's writers
    declare the same schemas (python/tickwindows/batches.py, pilot.py; python/tests/test_batches.py
    checks that both sides create identical tables). Columns added later are added with
    `add column if not exists`, so a warehouse built by an older version upgrades in place. -#}
{% macro tickwindows_table_ddl() -%}
create table if not exists main.manifest_batches (
    lineage integer not null,
    batch integer not null,
    released_at timestamp not null,
    event_id varchar not null,
    symbol varchar not null,
    session varchar not null,
    event_ts_utc timestamp,
    event_ts_et timestamp,
    window_start_utc timestamp not null,
    window_end_utc timestamp not null,
    trading_date date not null,
    event_type varchar,
    score double,
    selection_stage varchar,
    profile varchar,
    config_hash varchar,
    enrichment_version varchar,
    coverage double,
    manifest_checksum varchar,
    primary key (lineage, event_id)
);
create table if not exists main.manifest_lineages (
    lineage integer primary key,
    started_at timestamp not null,
    reason varchar not null
);
create table if not exists main.pilot_measurements (
    event_id varchar,
    symbol varchar,
    session varchar,
    kind varchar,
    rows bigint,
    bytes bigint,
    pages integer,
    seconds double,
    workers integer,
    base_url varchar,
    measured_at timestamp
);
create table if not exists main.gate_runs (
    evaluated_at timestamp,
    invocation_id varchar,
    command varchar,
    profile varchar,
    config_hash varchar,
    enrichment_version varchar,
    manifest_checksum varchar,
    manifest_rows bigint,
    tests_expected integer,
    tests_passed integer,
    tests_failed integer,
    passed_checks varchar,
    failed_checks varchar,
    failure_messages varchar,
    go boolean
);
alter table main.gate_runs add column if not exists judged_checksum varchar;
{%- endmacro %}
