{#- Naive timestamps everywhere: *_utc columns hold UTC wall time, *_et columns New York wall time.
    DuckDB's ICU timezone(): timezone(zone, TIMESTAMP) reads the naive value as `zone` time and returns
    TIMESTAMPTZ; timezone(zone, TIMESTAMPTZ) returns the naive wall time in `zone`. DST is the zone's job.
    ET -> UTC needs no macro: window bounds take their event's own offset (int_selection_candidates_ranked). -#}

{% macro utc_to_et(ts_utc) -%}
    timezone('America/New_York', timezone('UTC', {{ ts_utc }}))
{%- endmacro %}
