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

{#- on-run-start: keep the layers' schemas to what this project builds.
    1. A warehouse built before the layers had their own schemas holds the staging and intermediate
       relations in `main`: drop those copies (dbt's own, by name) so `main` shows only what analysts query.
    2. A relation in schema staging or intermediate that no model of this version defines (an older
       version's model, e.g. int_events_filtered, now folded into events_enriched) is dropped: a stale
       view there would still answer queries with an older version's logic.
    Nothing in `main` other than the copies of 1 is touched. -#}
{% macro drop_layers_left_in_main() %}
    {% if execute %}
        {% set defined = {} %}
        {% for node in graph.nodes.values() if node.resource_type == 'model' and node.schema != 'main' %}
            {% do defined.setdefault(node.schema, []).append(node.alias | lower) %}
            {% set stale = adapter.get_relation(database=target.database, schema='main', identifier=node.alias) %}
            {% if stale is not none %}
                {{ log("dropping main." ~ node.alias ~ ": it now lives in schema " ~ node.schema, info=True) }}
                {% do adapter.drop_relation(stale) %}
            {% endif %}
        {% endfor %}
        {% for schema, aliases in defined.items() %}
            {% set listed %}
                select table_name, table_type from information_schema.tables
                where table_catalog = '{{ target.database }}' and table_schema = '{{ schema }}'
            {% endset %}
            {% for name, kind in run_query(listed).rows if name | lower not in aliases %}
                {{ log("dropping " ~ schema ~ "." ~ name ~ ": no model of this project defines it any more", info=True) }}
                {% do adapter.drop_relation(api.Relation.create(database=target.database, schema=schema, identifier=name,
                                                                type='view' if kind == 'VIEW' else 'table')) %}
            {% endfor %}
        {% endfor %}
    {% endif %}
{% endmacro %}
