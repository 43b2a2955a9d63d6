{#- DuckDB's memory_limit (the buffer pool: past it sorts, joins and windows spill to disk). The
    profile sets it for the whole build (profiles.yml: TICKWINDOWS_DUCKDB_MEMORY, default 1500MB: at
    10M events peak RSS 1.8 GB, ~6 % slower than at 3GB). Measuring downloaded ticks
    (int_window_liquidity_measured: ASOF joins over tens of millions of quotes) is 1.6x slower at 1GB
    than at 3GB, so that model raises the limit to TICKWINDOWS_DUCKDB_TICKS_MEMORY (default 3GB) while
    it runs (pre-hook: `duckdb_memory_limit('ticks')`) and restores the profile's own value after
    (post-hook: `duckdb_memory_limit()`; DuckDB's `reset` would go back to its default, 80 % of RAM). -#}
{% macro duckdb_memory_limit(kind='profile') -%}
    {%- if kind == 'ticks' -%}
        set memory_limit = '{{ env_var("TICKWINDOWS_DUCKDB_TICKS_MEMORY", "3GB") }}'
    {%- elif target.get('settings', {}).get('memory_limit') -%}
        set memory_limit = '{{ target.settings.memory_limit }}'
    {%- else -%}
        reset memory_limit
    {%- endif -%}
{%- endmacro %}
