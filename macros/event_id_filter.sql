{#- A WHERE condition keeping the rows of the listed event ids: `true` when `event_ids` is none (no
    restriction), `false` when it is empty, else a literal IN list. A literal list on the event_id of the
    tick staging views (taken from the file name) lets DuckDB skip every other file before opening it,
    which a join or sub-query would not. Ids are hex hashes (checked, so the list cannot inject SQL). -#}
{% macro event_id_filter(column, event_ids) -%}
    {%- if event_ids is none -%}
        true
    {%- elif event_ids | length == 0 -%}
        false
    {%- else -%}
        {%- for id in event_ids -%}
            {%- if not modules.re.fullmatch('[0-9a-f]+', id | string) -%}
                {{ exceptions.raise_compiler_error("event_id_filter: " ~ id ~ " is not a hex event id") }}
            {%- endif -%}
        {%- endfor -%}
        {{ column }} in ('{{ event_ids | join("', '") }}')
    {%- endif -%}
{%- endmacro %}
