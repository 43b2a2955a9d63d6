{#- A table that the Python side writes into the warehouse (a source of schema main) may not exist
    yet: before the first pilot or release. Then read an empty relation with the same `columns`
    ([(name, type), ...]) instead, so every model downstream builds the same way either way. -#}
{% macro source_or_empty(source_name, table_name, columns) %}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set src = source(source_name, table_name) -%}
        {%- set found = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        (select {% for name, type in columns %}cast({{ name }} as {{ type }}) as {{ name }}{{ ', ' if not loop.last }}{% endfor %}
         from {{ source(source_name, table_name) }})
    {%- else -%}
        (select {% for name, type in columns %}cast(null as {{ type }}) as {{ name }}{{ ', ' if not loop.last }}{% endfor %}
         where false)
    {%- endif -%}
{% endmacro %}
