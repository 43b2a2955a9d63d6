{#- Pinned manifest events (`tickwindows release` writes main.manifest_batches), one row per event and
    lineage: the event exactly as it was released. The table always exists (the on-run-start hook creates
    it empty: macros/tickwindows_tables.sql), so this view reads the real table at every query. -#}
with source as (
    select * from {{ source('tickwindows', 'manifest_batches') }}
),

final as (
    select
        lineage,
        batch,
        released_at,
        event_id,
        symbol,
        session,
        event_ts_utc,
        event_ts_et,
        window_start_utc,
        window_end_utc,
        trading_date,
        event_type,
        score,
        selection_stage,
        profile,
        config_hash,
        enrichment_version,
        coverage,
        manifest_checksum
    from source
)

select * from final
