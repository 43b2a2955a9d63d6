{#- Input daily bars left out of the metrics, with the reason (never dropped silently). -#}
select symbol, bar_date, close_day, volume_day, source_file, reason
from {{ ref('int_daily_bars_classified') }}
where reason is not null
order by symbol, bar_date, source_file
