{#- Gate: the share of rows whose `column_name` = `value` lies in [profile.<min_param>, profile.<max_param>]
    (an empty model has share 0); fails closed when either threshold is NULL. -#}
{% test gate_share_in_band(model, column_name, value, min_param, max_param) %}
{{ gate_after_marts() }}
with counted as (
    select
        count(*) filter (where {{ column_name }} = '{{ value }}') as hits,
        count(*) as total
    from {{ model }}
),
shared as (select hits, total, coalesce(hits / nullif(total, 0), 0) as share from counted),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([min_param, max_param]) }}),
judged as (
    select
        shared.share,
        '{{ value }} share ' || {{ fmt('shared.share', 3) }} || ' (' || shared.hits || ' of ' || shared.total || ') outside ['
            || config.{{ min_param }} || ', ' || config.{{ max_param }} || ']' as failure
    from shared, config
    where shared.share < config.{{ min_param }} or shared.share > config.{{ max_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
