{#- Naive timestamps everywhere: *_utc columns hold UTC wall time, *_et columns New York wall time.
    DuckDB's ICU timezone(): timezone(zone, TIMESTAMP) reads the naive value as `zone` time and returns
    TIMESTAMPTZ; timezone(zone, TIMESTAMPTZ) returns the naive wall time in `zone`. DST is the zone's job.
    ET -> UTC needs no macro: window bounds take their event's own offset (int_selection_candidates_ranked). -#}

{% macro utc_to_et(ts_utc) -%}
    timezone('America/New_York', timezone('UTC', {{ ts_utc }}))
{%- endmacro %}

{#- New York's UTC offset for each UTC calendar day in `days` (a relation or CTE with a DATE column
    `date_column`): `offset_start` at the day's first instant, `offset_end` at its last, and on the two
    days a year they differ, `switch_at`, the UTC instant of the change (New York changes at 02:00 local
    time: 07:00 UTC in March, 06:00 UTC in November; found here as the first whole UTC hour with the new
    offset, by the zone rules, not hard-coded). A day whose change is not on a whole hour is left out, so
    it falls back to the per-row lookup. Three ICU lookups per day (and 23 on a switch day) instead of one
    per event row: utc_to_et_by_day() joins on the UTC date and adds the offset. -#}
{% macro new_york_offsets_by_utc_day(days, date_column) -%}
    with utc_days as (
        select distinct cast({{ date_column }} as timestamp) as day_start from {{ days }}
    ),

    ends as (
        select
            day_start,
            {{ utc_to_et('day_start') }} - day_start as offset_start,
            {{ utc_to_et("day_start + interval '86399999999 microseconds'") }}
                - (day_start + interval '86399999999 microseconds') as offset_end
        from utc_days
    ),

    switches as (
        select ends.day_start, min(ends.day_start + to_hours(h)) as switch_at
        from ends
        cross join range(1, 24) as hours(h)
        where ends.offset_start <> ends.offset_end
          and {{ utc_to_et('ends.day_start + to_hours(h)') }} - (ends.day_start + to_hours(h)) = ends.offset_end
        group by ends.day_start
    )

    select cast(ends.day_start as date) as utc_date, ends.offset_start, ends.offset_end, switches.switch_at
    from ends
    left join switches using (day_start)
    where ends.offset_start = ends.offset_end or switches.switch_at is not null
{%- endmacro %}

{#- ET wall time of the UTC timestamp `ts_utc`, given `offsets`, the row of new_york_offsets_by_utc_day()
    left-joined on utc_date = cast(ts_utc as date). A timestamp whose day has no row (outside the days
    given) takes the per-row ICU lookup, utc_to_et(). Equal to utc_to_et() for every instant
    (the switch instants themselves and the microsecond before them are in the unit tests). -#}
{% macro utc_to_et_by_day(ts_utc, offsets) -%}
    case
        when {{ offsets }}.utc_date is null then {{ utc_to_et(ts_utc) }}
        else {{ ts_utc }} + case
            when {{ offsets }}.switch_at is null or {{ ts_utc }} < {{ offsets }}.switch_at then {{ offsets }}.offset_start
            else {{ offsets }}.offset_end
        end
    end
{%- endmacro %}
