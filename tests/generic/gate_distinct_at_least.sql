{#- Gate: `column_name` takes at least profile.<min_param> distinct values; fails closed when the
    threshold is NULL. -#}
{% test gate_distinct_at_least(model, column_name, min_param) %}
{{ gate_after_marts() }}
with counted as (select count(distinct {{ column_name }}) as n from {{ model }}),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([min_param]) }}),
judged as (
    select
        counted.n,
        'distinct {{ column_name }} ' || counted.n || ' < ' || config.{{ min_param }} as failure
    from counted, config
    where counted.n < config.{{ min_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
