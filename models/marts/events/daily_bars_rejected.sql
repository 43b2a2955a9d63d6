{#- Published: input daily bars left out of the metrics, with the reason (never dropped silently). -#}
with classified as (
    select * from {{ ref('int_daily_bars_classified') }}
    where reason is not null
),

final as (
    select
        symbol,
        bar_date,
        close_day,
        volume_day,
        source_file,
        source_row,
        reason
    from classified
)

select * from final
order by symbol, bar_date, source_file, source_row
