{#- Gate: every selected event exists in `enriched`, passes each of the five liquidity filters when
    they are recomputed here from its metrics and the profile's thresholds (the stored flags are not
    trusted), and carries the session recorded there; a session recomputed from its ET time and the
    calendar must match too. Returns the offending events. -#}
{% test gate_filters_reverified(model, enriched) %}
{{ gate_after_marts() }}
with manifest as (select * from {{ model }}),
enriched as (select * from {{ enriched }}),
calendar as (select * from {{ ref('int_trading_days_expanded') }}),
config as (select * from {{ gate_config() }}),
checked as (
    select
        manifest.event_id,
        enriched.event_id is null as missing,
        not coalesce(enriched.close_day between config.min_price and config.max_price, false) as bad_f1,
        not coalesce(enriched.dollar_volume_day >= config.min_dollar_volume_day, false) as bad_f2,
        not coalesce(enriched.rvol_day >= config.min_rvol_day, false) as bad_f3,
        not coalesce(enriched.adv20_dollar >= config.min_adv20_dollar, false) as bad_f4,
        not coalesce(enriched.history_days >= config.min_history_days, false) as bad_f5,
        not coalesce(enriched.passes_all, false) as bad_flag,
        manifest.session is distinct from enriched.session as bad_session,
        manifest.session is distinct from {{ session_of(utc_to_et('manifest.event_ts_utc'), 'calendar.close_et') }}
            or not coalesce(calendar.is_trading_day, false) as bad_session_recomputed
    from manifest
    cross join config
    left join enriched on enriched.event_id = manifest.event_id
    left join calendar on calendar.calendar_date = cast({{ utc_to_et('manifest.event_ts_utc') }} as date)
)
select
    event_id,
    'event ' || event_id || ' fails: ' || concat_ws(', ',
        case when missing then 'not in events_enriched' end,
        case when bad_f1 then 'F1 price' end,
        case when bad_f2 then 'F2 dollar volume' end,
        case when bad_f3 then 'F3 rvol' end,
        case when bad_f4 then 'F4 adv20 dollar' end,
        case when bad_f5 then 'F5 history' end,
        case when bad_flag then 'passes_all false' end,
        case when bad_session then 'session differs from events_enriched' end,
        case when bad_session_recomputed then 'session differs from the calendar' end) as failure
from checked
where missing or bad_f1 or bad_f2 or bad_f3 or bad_f4 or bad_f5 or bad_flag or bad_session or bad_session_recomputed
order by event_id
{% endtest %}
