{#- How much of the final universe the inputs cover, and the count thresholds scaled to it (one row).
    dbt var `universe_symbols` is the expected size of the final universe; coverage = symbols with
    usable (kept) events / universe_symbols, capped at 1; without the var coverage is 1. Counts of the
    profile (target, min and max events, min symbols) scale with coverage; shares, the per-symbol cap,
    concentration and the other checks do not. -#}
{%- set universe = var('universe_symbols', none) -%}
{%- if universe is not none and (universe | string | trim) != '' -%}
    {%- if not (universe | string | trim).isdigit() or (universe | int) < 1 -%}
        {{ exceptions.raise_compiler_error("dbt var universe_symbols = '" ~ universe ~ "': expected a whole number of symbols >= 1 (the size of the final universe)") }}
    {%- endif -%}
{%- endif %}
with config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

usable as (
    select count(distinct symbol) as symbols_usable
    from {{ ref('int_events_classified') }}
    where reason is null
),

measured as (
    select
        {% if universe is not none and (universe | string | trim) != '' -%}
        cast({{ universe | int }} as integer) as universe_symbols,
        least(usable.symbols_usable / {{ universe | int }}.0, 1.0) as coverage,
        {%- else -%}
        cast(null as integer) as universe_symbols,
        1.0 as coverage,
        {%- endif %}
        usable.symbols_usable
    from usable
)

select
    measured.universe_symbols,
    cast(measured.symbols_usable as integer) as symbols_usable,
    cast(measured.coverage as double) as coverage,
    cast(round(config.target_events * measured.coverage) as integer) as target_events_scaled,
    cast(round(config.min_events * measured.coverage) as integer) as min_events_scaled,
    cast(round(config.max_events * measured.coverage) as integer) as max_events_scaled,
    cast(round(config.min_symbols * measured.coverage) as integer) as min_symbols_scaled
from measured
cross join config
