{#- Gate: every selected event passes the five liquidity filters and carries the right session, both
    recomputed here by another route than the models take, so that a bug in their code cannot pass
    its own check:
    - thresholds straight from the profile's row of the seed `selection_profiles` (the active profile
      of selection_config), not from int_selection_config_resolved;
    - figures from daily_metrics joined on (symbol, trading_date), rvol recomputed as volume_day /
      adv20_volume (the stored flags and rvol_day are not trusted), and events_enriched's copies of
      the figures must agree with daily_metrics;
    - the session from the UTC instant of the event (epoch microseconds) against the instants of the
      day's boundaries in New York (make_timestamptz, the raw calendar seed `nyse_calendar`), not
      session_of / utc_to_et / int_trading_days_expanded.
    Fails closed: a NULL threshold, an unknown profile, an event missing from events_enriched or
    daily_metrics, or a trading_date the calendar seed does not know is a failure, never a pass.
    Pinned events of the current lineage (released batches: the table main.manifest_batches read directly,
    the lineage from manifest_lineage_current) that the manifest flags still_eligible = false are not
    judged again: they were GO when released and stay, flagged and
    counted in manifest_summary (an upstream correction must not unpin what was downloaded); a new
    pick can never be excused this way, since it is not in the released batches.
    Returns the offending events. -#}
{% test gate_filters_reverified(model, enriched, metrics, thresholds) %}
{{ gate_after_marts() }}
{%- set filter_params = ['min_price', 'max_price', 'min_dollar_volume_day', 'min_rvol_day', 'min_adv20_dollar',
                         'min_history_days'] %}
with manifest as (
    select * from {{ model }}
    where coalesce(still_eligible, true)
       or event_id not in (
            select event_id from {{ source('tickwindows', 'manifest_batches') }}
            where lineage = (select lineage from {{ ref('manifest_lineage_current') }}))
),
enriched as (select * from {{ enriched }}),
metrics as (select * from {{ metrics }}),
config as (select * from {{ gate_config() }}),
thresholds as (
    select seed.*
    from {{ thresholds }} as seed
    where seed.profile in (select profile from config)
),
calendar as ({{ gate_day_bounds('manifest') }}),
unreadable as (
    {{ gate_thresholds_unreadable(['profile']) }}
    union all
    {{ gate_thresholds_unreadable(filter_params, relation='thresholds', what='seeds/selection_profiles') }}
),
joined as (
    select
        manifest.event_id,
        manifest.symbol,
        manifest.session,
        manifest.trading_date,
        epoch_us(manifest.event_ts_utc) as event_us,
        enriched.event_id is not null as in_enriched,
        enriched.session as enriched_session,
        enriched.passes_all as enriched_passes_all,
        enriched.close_day as enriched_close_day,
        enriched.dollar_volume_day as enriched_dollar_volume_day,
        enriched.rvol_day as enriched_rvol_day,
        enriched.adv20_dollar as enriched_adv20_dollar,
        enriched.history_days as enriched_history_days,
        metrics.symbol is not null as in_metrics,
        metrics.close_day,
        metrics.dollar_volume_day,
        case when metrics.adv20_volume > 0 then metrics.volume_day / metrics.adv20_volume end as rvol_recomputed,
        metrics.rvol_day,
        metrics.adv20_dollar,
        metrics.history_days,
        calendar.trading_date is not null as in_calendar,
        calendar.calendar_problem,
        calendar.pm_start_us,
        calendar.rth_start_us,
        calendar.close_us,
        calendar.day_end_us,
        {%- for p in filter_params %}
        thresholds.{{ p }}{{ ',' if not loop.last }}
        {%- endfor %}
    from manifest
    left join enriched on enriched.event_id = manifest.event_id
    left join metrics on metrics.symbol = manifest.symbol and metrics.trading_date = manifest.trading_date
    left join calendar on calendar.trading_date = manifest.trading_date
    left join thresholds on true
),
checked as (
    select
        *,
        case
            when event_us >= pm_start_us and event_us < rth_start_us then 'PM'
            when event_us >= rth_start_us and event_us < close_us then 'RTH'
            when event_us >= close_us and event_us < day_end_us then 'AH'
        end as session_recomputed,
        not coalesce(close_day >= min_price and close_day <= max_price, false) as bad_f1,
        not coalesce(dollar_volume_day >= min_dollar_volume_day, false) as bad_f2,
        not coalesce(rvol_recomputed >= min_rvol_day, false) as bad_f3,
        not coalesce(adv20_dollar >= min_adv20_dollar, false) as bad_f4,
        not coalesce(history_days >= min_history_days, false) as bad_f5,
        concat_ws(', ',
            case when enriched_close_day is distinct from close_day then 'close_day' end,
            case when enriched_dollar_volume_day is distinct from dollar_volume_day then 'dollar_volume_day' end,
            case when enriched_rvol_day is distinct from rvol_day then 'rvol_day ' || coalesce({{ fmt('enriched_rvol_day') }}, 'null')
                || ' vs ' || coalesce({{ fmt('rvol_day') }}, 'null') end,
            case when enriched_adv20_dollar is distinct from adv20_dollar then 'adv20_dollar' end,
            case when enriched_history_days is distinct from history_days then 'history_days' end) as figures_differ
    from joined
),
flagged as (
    select
        *,
        not in_enriched as missing,
        not in_metrics as no_metrics,
        in_enriched and in_metrics and figures_differ <> '' as bad_copy,
        not coalesce(enriched_passes_all, false) as bad_flag,
        session is distinct from enriched_session as bad_session,
        not in_calendar or calendar_problem is not null or session is distinct from session_recomputed as bad_session_recomputed
    from checked
),
judged as (
    select
        event_id,
        'event ' || event_id || ' (' || coalesce(symbol, '<null>') || ' ' || coalesce(cast(trading_date as varchar), '<null>')
        || ') fails: ' || concat_ws(', ',
            case when missing then 'not in events_enriched' end,
            case when no_metrics then 'no daily_metrics row for its symbol and trading_date' end,
            case when bad_f1 then 'F1 close_day ' || coalesce({{ fmt('close_day', 4) }}, 'null') || ' outside ['
                || coalesce(cast(min_price as varchar), 'NULL') || ', ' || coalesce(cast(max_price as varchar), 'NULL') || ']' end,
            case when bad_f2 then 'F2 dollar_volume_day ' || coalesce({{ fmt('dollar_volume_day', 0) }}, 'null') || ' < '
                || coalesce(cast(min_dollar_volume_day as varchar), 'NULL') end,
            case when bad_f3 then 'F3 rvol (volume_day / adv20_volume) ' || coalesce({{ fmt('rvol_recomputed', 4) }}, 'null') || ' < '
                || coalesce(cast(min_rvol_day as varchar), 'NULL') end,
            case when bad_f4 then 'F4 adv20_dollar ' || coalesce({{ fmt('adv20_dollar', 0) }}, 'null') || ' < '
                || coalesce(cast(min_adv20_dollar as varchar), 'NULL') end,
            case when bad_f5 then 'F5 history_days ' || coalesce(cast(history_days as varchar), 'null') || ' < '
                || coalesce(cast(min_history_days as varchar), 'NULL') end,
            case when bad_copy then 'events_enriched differs from daily_metrics in ' || figures_differ end,
            case when bad_flag then 'passes_all false' end,
            case when bad_session then 'session ' || coalesce(session, 'null') || ' differs from events_enriched ('
                || coalesce(enriched_session, 'null') || ')' end,
            case when bad_session_recomputed then coalesce(calendar_problem,
                'session ' || coalesce(session, 'null') || ' differs from the calendar (' || coalesce(session_recomputed, 'outside its extended-hours day') || ')') end
        ) as failure
    from flagged
    where missing or no_metrics or bad_f1 or bad_f2 or bad_f3 or bad_f4 or bad_f5 or bad_copy or bad_flag
       or bad_session or bad_session_recomputed
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order, event_id
{% endtest %}
