{#- Schemas per layer: a model's `+schema` (dbt_project.yml) is its schema as it is, not appended to the
    target's: staging in `staging`, intermediate in `intermediate`, marts (what analysts query) and the
    tables the CLI writes in `main`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif node is not none and node.resource_type == 'test' -%}
        {#- stored test failures keep dbt's own schema, main_dbt_test__audit -#}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: a warehouse built before the layers had their own schemas holds the staging and
    intermediate relations in `main`; drop those copies (dbt's own, by name) so `main` shows only what
    analysts query. Nothing else is touched. -#}
{% macro drop_layers_left_in_main() %}
    {% if execute %}
        {% for node in graph.nodes.values() if node.resource_type == 'model' and node.schema != 'main' %}
            {% set stale = adapter.get_relation(database=target.database, schema='main', identifier=node.alias) %}
            {% if stale is not none %}
                {{ log("dropping main." ~ node.alias ~ ": it now lives in schema " ~ node.schema, info=True) }}
                {% do adapter.drop_relation(stale) %}
            {% endif %}
        {% endfor %}
    {% endif %}
{% endmacro %}
