{#- Gate: the left-closed baselines in `model` (daily_metrics) agree with a recomputation from
    strictly earlier kept daily bars, done differently (an equi-join on the previous 1..20 row
    numbers, not a window frame). Checked for every row an event of `manifest` uses, plus a
    reproducible ~2 % sample of all rows. A baseline that includes day D fails. Fails closed: a
    selected event whose (symbol, trading_date) has no row in `model`, or a row without its kept
    daily bar, cannot be checked and fails. -#}
{% test gate_no_lookahead(model, bars, manifest) %}
{{ gate_after_marts() }}
with bars as (
    select
        symbol,
        bar_date as trading_date,
        volume_day,
        coalesce(vwap_day, close_day) * volume_day as dollar_volume_day,
        row_number() over (partition by symbol order by bar_date) as n
    from {{ bars }}
    where reason is null
),
metrics as (select * from {{ model }}),
targets as (
    select metrics.*
    from metrics
    where {{ uniform_hash("metrics.symbol, metrics.trading_date, 'lookahead-sample'") }} < 0.02
       or exists (
            select 1 from {{ manifest }} as m
            where m.symbol = metrics.symbol and m.trading_date = metrics.trading_date)
),
numbered as (
    select targets.*, bars.n
    from targets
    join bars using (symbol, trading_date)
),
previous as (
    select numbered.symbol, numbered.trading_date, earlier.volume_day, earlier.dollar_volume_day
    from numbered
    cross join range(1, 21) as k(lag_rows)
    join bars as earlier
        on earlier.symbol = numbered.symbol
       and earlier.n = numbered.n - k.lag_rows
),
recomputed as (
    select
        numbered.symbol,
        numbered.trading_date,
        count(previous.volume_day) as history_days,
        avg(previous.volume_day) as adv20_volume,
        avg(previous.dollar_volume_day) as adv20_dollar
    from numbered
    left join previous using (symbol, trading_date)
    group by all
),
compared as (
    select
        targets.symbol,
        targets.trading_date,
        targets.history_days,
        recomputed.history_days as expected_history_days,
        targets.adv20_volume,
        recomputed.adv20_volume as expected_adv20_volume,
        targets.adv20_dollar,
        recomputed.adv20_dollar as expected_adv20_dollar
    from targets
    left join recomputed using (symbol, trading_date)
),
unjoinable as (
    select
        m.symbol,
        m.trading_date,
        'event ' || m.event_id || ' (' || coalesce(m.symbol, '<null>') || ' ' || coalesce(cast(m.trading_date as varchar), 'null')
            || '): no daily_metrics row for its symbol and trading_date, its baselines cannot be checked' as failure
    from {{ manifest }} as m
    anti join metrics
        on metrics.symbol = m.symbol
       and metrics.trading_date = m.trading_date
),
judged as (
    select
        *,
        symbol || ' ' || trading_date || ': stored history_days/adv20_volume/adv20_dollar '
            || coalesce(cast(history_days as varchar), 'null') || '/' || coalesce({{ fmt('adv20_volume', 1) }}, 'null')
            || '/' || coalesce({{ fmt('adv20_dollar', 1) }}, 'null')
            || ' vs recomputed from earlier days ' || coalesce(cast(expected_history_days as varchar), 'null') || '/'
            || coalesce({{ fmt('expected_adv20_volume', 1) }}, 'null') || '/' || coalesce({{ fmt('expected_adv20_dollar', 1) }}, 'null')
            as failure
    from compared
    where history_days is distinct from expected_history_days
       or coalesce(abs(adv20_volume - expected_adv20_volume) > 1e-6 * greatest(abs(expected_adv20_volume), 1), (adv20_volume is null) <> (expected_adv20_volume is null))
       or coalesce(abs(adv20_dollar - expected_adv20_dollar) > 1e-6 * greatest(abs(expected_adv20_dollar), 1), (adv20_dollar is null) <> (expected_adv20_dollar is null))
)
select 0 as gate_order, * from unjoinable
union all by name
select 1 as gate_order, * from judged
order by gate_order, symbol, trading_date
{% endtest %}
