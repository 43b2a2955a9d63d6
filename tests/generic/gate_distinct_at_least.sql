{#- Gate: `column_name` takes at least profile.<min_param> distinct values. -#}
{% test gate_distinct_at_least(model, column_name, min_param) %}
{{ gate_after_marts() }}
with counted as (select count(distinct {{ column_name }}) as n from {{ model }}),
config as (select * from {{ gate_config() }})
select
    counted.n,
    'distinct {{ column_name }} ' || counted.n || ' < ' || config.{{ min_param }} as failure
from counted, config
where counted.n < config.{{ min_param }}
{% endtest %}
