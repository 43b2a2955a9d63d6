{#- Gate: the left-closed baselines in `model` (daily_metrics) agree with a recomputation from
    strictly earlier kept daily bars, done by another route than the model's. The kept bars are
    rebuilt from the staged input `bars` (stg_fase25__daily_bars), not from the model's own
    int_daily_bars_classified: a bar is kept when its bar_date is set, NYSE trades that day (raw seed
    `nyse_calendar`: not a weekend, not status 'holiday'; a date outside the seed's years is not kept,
    as in the model), close_day > 0 and volume_day >= 0 (neither null nor NaN), and it is the first of
    the usable copies of its (symbol, bar_date) by volume_day desc, close_day desc, then source_file,
    source_row (an unusable copy never displaces a usable one); that first copy is found with an
    anti-join (no other usable copy ranks before it; only the copies of a (symbol, bar_date) that has
    more than one usable copy are compared), not the model's row_number window. The baselines are then
    an equi-join on the previous 1..20 row numbers (the wanted row numbers are computed first, so the
    join is on equal keys, not a filter over every earlier bar of the symbol), not a window frame.
    Checked for every row an event of `manifest` uses, plus a reproducible ~2 % sample of all rows. A
    baseline that includes day D fails. Fails closed: a selected event whose (symbol, trading_date) has
    no row in `model`, or a row without a kept daily bar, cannot be checked and fails. -#}
{% test gate_no_lookahead(model, bars, manifest) %}
{{ gate_after_marts() }}
with seed as (
    select date as day, status from {{ ref('nyse_calendar') }}
),
coverage as (
    select min(year(day)) as first_year, max(year(day)) as last_year from seed
),
holidays as (
    select distinct day from seed where status = 'holiday'
),
staged as (
    select symbol, bar_date, close_day, volume_day, vwap_day, source_file, source_row
    from {{ bars }}
),
usable as (
    select staged.*
    from staged
    cross join coverage
    anti join holidays on holidays.day = staged.bar_date
    where staged.bar_date is not null
      and year(staged.bar_date) between coverage.first_year and coverage.last_year
      and dayofweek(staged.bar_date) not in (0, 6)
      and staged.close_day > 0 and not isnan(staged.close_day)
      and staged.volume_day >= 0 and not isnan(staged.volume_day)
),
-- Keys with more than one usable copy: the anti-join compares those copies alone (a copy of any
-- other key is the only usable one, so no copy ranks before it).
repeated as (
    select symbol, bar_date from usable group by all having count(*) > 1
),
copies as (
    select usable.*
    from usable
    semi join repeated using (symbol, bar_date)
),
kept_bars as (
    select usable.*
    from usable
    anti join copies as other
        on other.symbol = usable.symbol
       and other.bar_date = usable.bar_date
       and (
            other.volume_day > usable.volume_day
         or (other.volume_day = usable.volume_day and (
                other.close_day > usable.close_day
             or (other.close_day = usable.close_day and (
                    other.source_file < usable.source_file
                 or (other.source_file = usable.source_file and other.source_row < usable.source_row))))))
),
bars as (
    select
        symbol,
        bar_date as trading_date,
        volume_day,
        coalesce(vwap_day, close_day) * volume_day as dollar_volume_day,
        row_number() over (partition by symbol order by bar_date) as n
    from kept_bars
),
metrics as (
    select symbol, trading_date, history_days, adv20_volume, adv20_dollar from {{ model }}
),
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
-- The row numbers of the 1..20 previous rows, computed before the join: written inside the join
-- condition, n - lag_rows made DuckDB join every earlier bar of the symbol and filter afterwards.
wanted as (
    select numbered.symbol, numbered.trading_date, numbered.n - k.lag_rows as earlier_n
    from numbered
    cross join range(1, 21) as k(lag_rows)
),
previous as (
    select wanted.symbol, wanted.trading_date, earlier.volume_day, earlier.dollar_volume_day
    from wanted
    join bars as earlier
        on earlier.symbol = wanted.symbol
       and earlier.n = wanted.earlier_n
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
