{#- Pinned manifest events (`tickwindows release` writes main.manifest_batches), one row per event and
    lineage: the event exactly as it was released. Empty until the first release. -#}
-- depends_on: {{ source('tickwindows', 'manifest_batches') }}
with source as (
    select * from {{ source_or_empty('tickwindows', 'manifest_batches', [
        ('lineage', 'integer'), ('batch', 'integer'), ('released_at', 'timestamp'),
        ('event_id', 'varchar'), ('symbol', 'varchar'), ('session', 'varchar'),
        ('event_ts_utc', 'timestamp'), ('event_ts_et', 'timestamp'),
        ('window_start_utc', 'timestamp'), ('window_end_utc', 'timestamp'), ('trading_date', 'date'),
        ('event_type', 'varchar'), ('score', 'double'), ('selection_stage', 'varchar'),
        ('profile', 'varchar'), ('config_hash', 'varchar'), ('enrichment_version', 'varchar'),
        ('coverage', 'double'), ('manifest_checksum', 'varchar')]) }}
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
