{{ config(materialized='view') }}
{#- Published: every downloaded quote row, read in place from the tick files (logic: stg_ticks__quotes, ephemeral).
    A view, bound to the files when built: built before any download it is the empty variant, which fails when
    queried once quotes files exist (the error names the fix: dbt build -s trades quotes). Built after a download
    it reads the files at each query. -#}
with source_model as (
    select * from {{ ref('stg_ticks__quotes') }}
),

final as (
    select
        event_id,
        symbol,
        trading_date,
        sip_timestamp,
        participant_timestamp,
        trf_timestamp,
        sequence_number,
        bid_price,
        bid_size,
        bid_exchange,
        ask_price,
        ask_size,
        ask_exchange,
        tape,
        conditions,
        indicators
    from source_model
)

select * from final
