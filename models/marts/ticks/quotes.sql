{{ config(materialized='view') }}
{#- Published: every downloaded quote row, read in place from the tick files (logic: stg_ticks__quotes). A view: it
    binds to the files present when built, so rebuild it after a download (dbt build -s +window_stats). -#}
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
