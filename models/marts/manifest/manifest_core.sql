{#- Published: the download manifest, 1+fill with session quotas (logic: int_manifest_selected). Ordered by event_id so the table is byte-for-byte reproducible. -#}
with source_model as (
    select * from {{ ref('int_manifest_selected') }}
),

final as (
    select
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
        symbol_rank,
        selection_stage,
        profile,
        config_hash,
        enrichment_version,
        batch,
        still_eligible,
        not_eligible_reason
    from source_model
)

select * from final
order by event_id
