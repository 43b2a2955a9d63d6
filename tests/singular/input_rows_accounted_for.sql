{#- Nothing is dropped silently: every input row is accounted for by identity, exactly once, either
    kept or rejected with a reason (counts alone balance a row both kept and rejected against a
    dropped one).

    Input rows are keyed by (source_file, source_row). A rejected table names its input rows by that
    key; a kept table holds one row per distinct kept key (events_enriched: symbol, event_ts_utc and
    event_type, the identity event_id hashes; daily_metrics: symbol and trading_date = the kept bar's
    symbol and bar_date), so an input row not rejected must be the one such row of a kept key, and
    every kept key must have exactly one input row not rejected (its other copies are rejected, e.g. as
    'duplicate'). The events are keyed by the columns, not by event_id: the same identity (a kept row
    has all three), without an md5 per input row and a group by 32-character strings (21.5 s of a
    10M-event build; make bench).

    One pass per input: a full outer join of the input rows with the rejected keys, then one aggregate
    of counts per kept key over the input rows and the kept rows together; the input rows a failure
    names are looked up for the failing keys only. Returns one row per problem:
    kept and rejected, dropped, kept twice, rejected twice, unknown row, read twice. -#}
{%- set inputs = [
    {'input': 'events', 'read': ref('stg_fase25__events'), 'rejected': ref('events_rejected'),
     'rejected_name': 'events_rejected', 'kept': ref('events_enriched'), 'kept_name': 'events_enriched',
     'read_keys': ['symbol', 'event_ts_utc', 'event_type'], 'kept_keys': ['symbol', 'event_ts_utc', 'event_type'],
     'label': "'event ' || " ~ event_id('k0', 'k1', 'k2')},
    {'input': 'daily_bars', 'read': ref('stg_fase25__daily_bars'), 'rejected': ref('daily_bars_rejected'),
     'rejected_name': 'daily_bars_rejected', 'kept': ref('daily_metrics'), 'kept_name': 'daily_metrics',
     'read_keys': ['symbol', 'bar_date'], 'kept_keys': ['symbol', 'trading_date'],
     'label': "'daily bar ' || coalesce(k0, 'null') || ' ' || coalesce(cast(k1 as varchar), 'null')"},
] -%}
{%- set row_label = "coalesce(source_file, 'null') || ' row ' || coalesce(cast(source_row as varchar), 'null')" -%}

with
{%- for side in inputs %}
{%- set p = side.input %}
{%- set keys = [] %}{% for k in side.read_keys %}{% do keys.append('k' ~ loop.index0) %}{% endfor %}

{{ p }}_read as (
    select
        source_file,
        source_row,
        {%- for k in side.read_keys %}
        {{ k }} as k{{ loop.index0 }},
        {%- endfor %}
        true as is_read
    from {{ side.read }}
),

{{ p }}_rejected as (
    select source_file, source_row, count(*) as times_rejected, min(reason) as reason
    from {{ side.rejected }}
    group by source_file, source_row
),

-- Every input row and every rejected key, side by side.
{{ p }}_rows as (
    select
        coalesce(r.source_file, x.source_file) as source_file,
        coalesce(r.source_row, x.source_row) as source_row,
        {%- for k in keys %}
        r.{{ k }},
        {%- endfor %}
        coalesce(r.is_read, false) as is_read,
        coalesce(x.times_rejected, 0) as times_rejected,
        x.reason
    from {{ p }}_read as r
    full join {{ p }}_rejected as x
        on x.source_file = r.source_file
       and x.source_row = r.source_row
),

-- Each rejected key: rejected once, and exactly one input row.
{{ p }}_rejected_failures as (
    select
        '{{ p }}' as input,
        case
            when not bool_or(is_read) then 'unknown row'
            when max(times_rejected) > 1 then 'rejected twice'
            else 'read twice'
        end as problem,
        'input row ' || {{ row_label }} || ': '
            || case
                when not bool_or(is_read) then 'in {{ side.rejected_name }} (reason ' || coalesce(min(reason), 'null')
                    || ') but not an input row'
                when max(times_rejected) > 1 then 'in {{ side.rejected_name }} ' || max(times_rejected) || ' times'
                else 'rejected once but ' || count(*) || ' input rows have this source_file and source_row'
            end as failure
    from {{ p }}_rows
    where times_rejected > 0
    group by source_file, source_row
    having not bool_or(is_read) or max(times_rejected) > 1 or count(*) > 1
),

-- Each kept key: how many input rows have it (not rejected / rejected) and its rows in the kept table.
-- Counts only: the rows a failure message names are looked up for the failing keys alone (below).
{{ p }}_by_key as (
    select
        {{ keys | join(', ') }},
        sum(kept) as times_kept,
        count(*) filter (where is_read and times_rejected = 0) as rows_open,
        count(*) filter (where is_read and times_rejected > 0) as rows_rejected
    from (
        select {{ keys | join(', ') }}, 0 as kept, is_read, times_rejected
        from {{ p }}_rows
        where is_read
        union all
        select
            {%- for k in side.kept_keys %} {{ k }} as k{{ loop.index0 }},{% endfor %}
            1 as kept, null, null
        from {{ side.kept }}
    )
    group by {{ keys | join(', ') }}
),

{{ p }}_failing_keys as (
    select *
    from {{ p }}_by_key
    where (times_kept > 0 or rows_open > 0) and not (times_kept = 1 and rows_open = 1)
),

{{ p }}_failing_rows as (
    select
        {%- for k in keys %}
        f.{{ k }},
        {%- endfor %}
        f.times_kept,
        f.rows_open,
        f.rows_rejected,
        min({'f': r.source_file, 'r': r.source_row}) filter (where r.times_rejected = 0) as first_open,
        max({'f': r.source_file, 'r': r.source_row}) filter (where r.times_rejected = 0) as last_open,
        min({'f': r.source_file, 'r': r.source_row, 'reason': r.reason}) filter (where r.times_rejected > 0)
            as first_rejected
    from {{ p }}_failing_keys as f
    left join {{ p }}_rows as r
        on r.is_read
        {%- for k in keys %}
       and r.{{ k }} is not distinct from f.{{ k }}
        {%- endfor %}
    group by all
),

{{ p }}_key_failures as (
    select
        '{{ p }}' as input,
        case
            when times_kept = 0 then 'dropped'
            when times_kept > 1 then 'kept twice'
            when rows_open > 1 then 'kept twice'
            when rows_rejected > 0 then 'kept and rejected'
            else 'unknown row'
        end as problem,
        case
            when times_kept = 0 then
                'input row ' || (first_open.f || ' row ' || first_open.r)
                    || ' (' || {{ side.label }} || '): neither in {{ side.kept_name }} nor in {{ side.rejected_name }}'
                    || case when rows_open > 1 then ' (and ' || (rows_open - 1) || ' more input rows of it)' else '' end
            when times_kept > 1 then
                {{ side.label }} || ': ' || times_kept || ' rows in {{ side.kept_name }}'
            when rows_open > 1 then
                {{ side.label }} || ': kept once but ' || rows_open || ' input rows of it are not rejected ('
                    || (first_open.f || ' row ' || first_open.r) || ', '
                    || (last_open.f || ' row ' || last_open.r) || ')'
            when rows_rejected > 0 then
                'input row ' || (first_rejected.f || ' row ' || first_rejected.r) || ' (' || {{ side.label }}
                    || '): in {{ side.kept_name }} and in {{ side.rejected_name }} (reason '
                    || coalesce(first_rejected.reason, 'null') || ')'
            else
                {{ side.label }} || ': in {{ side.kept_name }} but no input row has it'
        end as failure
    from {{ p }}_failing_rows
){{ ',' if not loop.last }}
{%- endfor %}

{% for side in inputs -%}
select * from {{ side.input }}_rejected_failures
union all
select * from {{ side.input }}_key_failures
{{ 'union all' if not loop.last }}
{% endfor -%}
order by input, problem, failure
