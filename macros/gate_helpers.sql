{#- Shared pieces of the gate tests. Every gate test reads thresholds from the active profile
    (`selection_config`) and also depends on the last mart, so that in `dbt build` it runs after
    everything is built: a red check never skips the models the dry-run report reads.

    The gate fails closed: a check that cannot judge (a threshold it reads is NULL, a row it judges
    cannot be joined to what it needs, a count it relies on is short) returns a failing row that
    says so, with the parameter or the rows named. Rows that say a check cannot judge come first
    (`gate_order` 0), so they lead the messages the gate records. -#}
{% macro gate_after_marts() -%}
    -- depends_on: {{ ref('manifest_summary') }}
{%- endmacro %}

{% macro gate_config() -%}
    {{ ref('selection_config') }}
{%- endmacro %}

{#- A number formatted for a failure message. -#}
{% macro fmt(expr, decimals=4) -%}
    cast(round(cast({{ expr }} as double), {{ decimals }}) as varchar)
{%- endmacro %}

{#- Failing rows (`failure`) when the thresholds `params` cannot be read from `relation` (default:
    selection_config): it does not hold exactly one row, or a parameter is NULL (or NaN). Comparisons
    with a NULL threshold are NULL, and a NULL condition returns no row: without this, a check with a
    NULL threshold would pass. `what` names the relation in the message. -#}
{% macro gate_thresholds_unreadable(params, relation=none, what='selection_config') -%}
    {%- set rel = relation if relation is not none else gate_config() -%}
    select
        'cannot judge: ' || '{{ what }}' || ' holds ' || count(*) || ' rows for the active profile, not 1' as failure
    from {{ rel }}
    having count(*) <> 1
    {%- for p in params %}
    union all
    select
        'cannot judge: parameter {{ p }} of profile ' || coalesce(cast(profile as varchar), '<null>')
            || ' is ' || coalesce(cast({{ p }} as varchar), 'NULL') || ' in {{ what }}' as failure
    from {{ rel }}
    where {{ p }} is null or isnan(try_cast({{ p }} as double))
    {%- endfor %}
{%- endmacro %}

{#- For each distinct `trading_date` of `dates` (a relation or CTE with that column): whether the
    NYSE calendar seed covers it, whether NYSE trades that day and the instants (epoch microseconds,
    UTC) of its session boundaries in New York: pm_start 04:00, rth_start 09:30, close (16:00 or the
    seeded early close) and day_end = close + 4h. Computed here from the raw seed `nyse_calendar` with
    make_timestamptz(..., 'America/New_York'), on purpose without int_trading_days_expanded, the
    time-zone macros or session_of: the gate must not share the code it checks.
    `calendar_problem` says why a date cannot be judged (null when it can). -#}
{% macro gate_day_bounds(dates) -%}
    with seed as (
        select date as day, status, close_et from {{ ref('nyse_calendar') }}
    ),

    coverage as (
        select min(year(day)) as first_year, max(year(day)) as last_year from seed
    ),

    days as (
        select distinct trading_date from {{ dates }} where trading_date is not null
    ),

    looked_up as (
        select
            days.trading_date,
            year(days.trading_date) between coverage.first_year and coverage.last_year as covered,
            coverage.first_year,
            coverage.last_year,
            holiday.day is not null as is_holiday,
            dayofweek(days.trading_date) in (0, 6) as is_weekend,
            early.day is not null as is_early_close,
            case when early.day is null then time '16:00:00' else early.close_et end as close_time
        from days
        cross join coverage
        left join seed as holiday on holiday.day = days.trading_date and holiday.status = 'holiday'
        left join seed as early on early.day = days.trading_date and early.status = 'early_close'
    ),

    bounded as (
        select
            *,
            {%- for name, h, m in [('pm_start', '4', '0'), ('rth_start', '9', '30'),
                                   ('close', 'hour(close_time)', 'minute(close_time)'),
                                   ('day_end', 'hour(close_time) + 4', 'minute(close_time)')] %}
            epoch_us(make_timestamptz(
                year(trading_date), month(trading_date), day(trading_date), {{ h }}, {{ m }}, 0.0,
                'America/New_York')) as {{ name }}_us{{ ',' if not loop.last }}
            {%- endfor %}
        from looked_up
    )

    select
        *,
        case
            when not coalesce(covered, false) then 'trading_date ' || trading_date || ' is outside the years the calendar seed covers ('
                || coalesce(cast(first_year as varchar), '?') || '-' || coalesce(cast(last_year as varchar), '?') || ')'
            when is_weekend then 'trading_date ' || trading_date || ' is a weekend day'
            when is_holiday then 'trading_date ' || trading_date || ' is an NYSE holiday'
            when close_time is null then 'trading_date ' || trading_date || ' is an early close without close_et in the calendar seed'
        end as calendar_problem
    from bounded
{%- endmacro %}
