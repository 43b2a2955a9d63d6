{{ config(materialized='view') }}
{#- Published: every downloaded trade row, read in place from the tick files (logic: stg_ticks__trades). A view: it
    binds to the files present when built, so rebuild it after a download (dbt build -s +window_stats). -#}
with source_model as (
    select * from {{ ref('stg_ticks__trades') }}
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
        trade_id,
        price,
        size,
        exchange,
        tape,
        conditions,
        correction,
        trf_id
    from source_model
)

select * from final
