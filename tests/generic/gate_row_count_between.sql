{#- Gate: the number of rows of `model` lies in [profile.<min_param>, profile.<max_param>];
    fails closed when either threshold is NULL. -#}
{% test gate_row_count_between(model, min_param, max_param, label='rows') %}
{{ gate_after_marts() }}
with counted as (select count(*) as n from {{ model }}),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([min_param, max_param]) }}),
judged as (
    select
        counted.n,
        '{{ label }} ' || counted.n || ' outside [' || config.{{ min_param }} || ', ' || config.{{ max_param }} || ']' as failure
    from counted, config
    where counted.n < config.{{ min_param }} or counted.n > config.{{ max_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
