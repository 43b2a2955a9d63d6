{{ config(materialized='view') }}
{#- Published: every downloaded trade row, read in place from the tick files (logic: stg_ticks__trades, ephemeral).
    A view, bound to the files when built: built before any download it is the empty variant, which fails when
    queried once trades files exist (the error names the fix: dbt build -s trades quotes). Built after a download
    it reads the files at each query. -#}
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
