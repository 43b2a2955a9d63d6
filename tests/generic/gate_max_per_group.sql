{#- Gate: no value of `column_name` has more than profile.<max_param> rows; failing groups are returned.
    Fails closed when the threshold is NULL. -#}
{% test gate_max_per_group(model, column_name, max_param) %}
{{ gate_after_marts() }}
with counted as (select {{ column_name }} as grp, count(*) as n from {{ model }} group by 1),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([max_param]) }}),
judged as (
    select
        counted.grp,
        counted.n,
        '{{ column_name }} ' || counted.grp || ' has ' || counted.n || ' rows > ' || config.{{ max_param }} as failure
    from counted, config
    where counted.n > config.{{ max_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order, n desc, grp
{% endtest %}
