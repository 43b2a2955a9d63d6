{#- The stable identity of an event: md5 of symbol | epoch nanoseconds of its UTC timestamp | event_type.
    The same (symbol, instant, type) always gets the same id (stg_fase25__events; the accounting test
    names events by it). -#}
{% macro event_id(symbol, event_ts_utc, event_type) -%}
    md5(concat_ws('|', {{ symbol }}, epoch_ns({{ event_ts_utc }}), {{ event_type }}))
{%- endmacro %}
