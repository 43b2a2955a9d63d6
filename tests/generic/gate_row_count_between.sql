{#- Gate: the number of rows of `model` lies in [profile.<min_param>, profile.<max_param>]. -#}
{% test gate_row_count_between(model, min_param, max_param, label='rows') %}
{{ gate_after_marts() }}
with counted as (select count(*) as n from {{ model }}),
config as (select * from {{ gate_config() }})
select
    counted.n,
    '{{ label }} ' || counted.n || ' outside [' || config.{{ min_param }} || ', ' || config.{{ max_param }} || ']' as failure
from counted, config
where counted.n < config.{{ min_param }} or counted.n > config.{{ max_param }}
{% endtest %}
