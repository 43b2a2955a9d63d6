{#- Shared pieces of the gate tests. Every gate test reads thresholds from the active profile
    (`selection_config`) and also depends on the last mart, so that in `dbt build` it runs after
    everything is built: a red check never skips the models the dry-run report reads. -#}
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
