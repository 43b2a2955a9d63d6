{#- Gate: the `n` most frequent values of `column_name` hold less than profile.<max_param> of the rows;
    fails closed when the threshold is NULL. -#}
{% test gate_top_n_share_below(model, column_name, n, max_param) %}
{{ gate_after_marts() }}
with counted as (select {{ column_name }} as grp, count(*) as rows_ from {{ model }} group by 1),
top_n as (select * from counted order by rows_ desc, grp limit {{ n }}),
shared as (
    select coalesce((select sum(rows_) from top_n) / nullif((select sum(rows_) from counted), 0), 0) as share
),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([max_param]) }}),
judged as (
    select
        shared.share,
        'top-{{ n }} {{ column_name }} share ' || {{ fmt('shared.share', 3) }} || ' >= ' || config.{{ max_param }} as failure
    from shared, config
    where shared.share >= config.{{ max_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
