{#- Gate: every window has start < end, contains its event, lies inside its trading day's
    extended hours [04:00 ET, close + 4h), and no two windows of one symbol overlap. -#}
{% test gate_windows_valid(model) %}
{{ gate_after_marts() }}
with manifest as (select * from {{ model }}),
calendar as (select * from {{ ref('int_trading_days_expanded') }}),
bounded as (
    select
        manifest.*,
        {{ et_to_utc(extended_day_start_et('manifest.trading_date')) }} as day_start_utc,
        {{ et_to_utc(extended_day_end_et('manifest.trading_date', 'calendar.close_et')) }} as day_end_utc,
        lag(manifest.window_end_utc) over (
            partition by manifest.symbol order by manifest.window_start_utc, manifest.event_id) as previous_end_utc,
        lag(manifest.event_id) over (
            partition by manifest.symbol order by manifest.window_start_utc, manifest.event_id) as previous_event_id
    from manifest
    left join calendar on calendar.calendar_date = manifest.trading_date
)
select
    event_id,
    symbol,
    window_start_utc,
    window_end_utc,
    'window of ' || event_id || ' (' || symbol || ' ' || window_start_utc || ' -> ' || window_end_utc || '): ' || concat_ws(', ',
        case when window_start_utc is null or window_end_utc is null or not (window_start_utc < window_end_utc) then 'start not before end' end,
        case when not (event_ts_utc between window_start_utc and window_end_utc) then 'does not contain its event' end,
        case when day_start_utc is null or window_start_utc < day_start_utc or window_end_utc > day_end_utc
             then 'outside the extended-hours day' end,
        case when previous_end_utc > window_start_utc then 'overlaps ' || previous_event_id end) as failure
from bounded
where window_start_utc is null or window_end_utc is null
   or not (window_start_utc < window_end_utc)
   or not (event_ts_utc between window_start_utc and window_end_utc)
   or day_start_utc is null or window_start_utc < day_start_utc or window_end_utc > day_end_utc
   or previous_end_utc > window_start_utc
order by symbol, window_start_utc
{% endtest %}
