{#- DuckDB's memory_limit (the buffer pool: past it sorts, joins and windows spill to disk). The
    selection build holds at most a few columns of the events at once, so its default is 1500MB
    (10M events: peak RSS 1.8 GB, 3 % slower than at 3GB; make bench). Measuring downloaded ticks
    (int_window_liquidity_measured: ASOF joins over tens of millions of quotes) is 1.6x slower at 1GB
    than at 3GB, so that model raises the limit while it runs (pre-hook) and restores it after
    (post-hook). TICKWINDOWS_DUCKDB_MEMORY and TICKWINDOWS_DUCKDB_TICKS_MEMORY override them;
    profiles.yml sets the same default at connection time. -#}
{% macro duckdb_memory_limit(kind='default') -%}
    {%- if kind == 'ticks' -%}
        set memory_limit = '{{ env_var("TICKWINDOWS_DUCKDB_TICKS_MEMORY", "3GB") }}'
    {%- else -%}
        set memory_limit = '{{ env_var("TICKWINDOWS_DUCKDB_MEMORY", "1500MB") }}'
    {%- endif -%}
{%- endmacro %}
