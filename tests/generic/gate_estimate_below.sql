{#- Gate: the estimate `column_name` of `model` (one row) is below profile.<max_param>. -#}
{% test gate_estimate_below(model, column_name, max_param, unit) %}
{{ gate_after_marts() }}
with estimate as (select {{ column_name }} as value, calibrated from {{ model }}),
config as (select * from {{ gate_config() }})
select
    estimate.value,
    '{{ column_name }} ' || coalesce({{ fmt('estimate.value', 2) }}, 'unknown') || ' {{ unit }} >= '
        || config.{{ max_param }} || ' {{ unit }} ('
        || case when estimate.calibrated then 'calibrated by a pilot' else 'priors' end || ')' as failure
from config
left join estimate on true
where estimate.value is null or estimate.value >= config.{{ max_param }}
{% endtest %}
