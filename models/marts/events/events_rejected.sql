{#- Input events left out before enrichment, one row per input row, with the reason. -#}
with classified as (
    select * from {{ ref('int_events_classified') }}
    where reason is not null
),

final as (
    select
        event_id,
        symbol,
        symbol_raw,
        event_ts_utc,
        event_ts_et,
        trading_date,
        event_type,
        score,
        legacy_session,
        source_file,
        source_row,
        reason
    from classified
)

select * from final
