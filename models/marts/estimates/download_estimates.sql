{#- Published: per selected event, the median rows, bytes and requests of its download (logic: int_manifest_estimates_computed). -#}
with source_model as (
    select * from {{ ref('int_manifest_estimates_computed') }}
),

final as (
    select
        event_id,
        symbol,
        session,
        trading_date,
        window_minutes,
        trades_rows_p50,
        quotes_rows_p50,
        bytes_p50,
        requests_p50,
        calibrated
    from source_model
)

select * from final
order by event_id
