{#- Gate: no value of `column_name` has more than profile.<max_param> rows; failing groups are returned. -#}
{% test gate_max_per_group(model, column_name, max_param) %}
{{ gate_after_marts() }}
with counted as (select {{ column_name }} as grp, count(*) as n from {{ model }} group by 1),
config as (select * from {{ gate_config() }})
select
    counted.grp,
    counted.n,
    '{{ column_name }} ' || counted.grp || ' has ' || counted.n || ' rows > ' || config.{{ max_param }} as failure
from counted, config
where counted.n > config.{{ max_param }}
order by counted.n desc, counted.grp
{% endtest %}
