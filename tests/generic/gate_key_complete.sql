{#- Gate: `column_name` is unique and neither it nor any of `not_null_columns` is null;
    returns the offending keys. -#}
{% test gate_key_complete(model, column_name, not_null_columns) %}
{{ gate_after_marts() }}
with duplicated as (
    select {{ column_name }} as key, 'duplicated ' || count(*) || ' times' as problem
    from {{ model }}
    where {{ column_name }} is not null
    group by 1
    having count(*) > 1
),
incomplete as (
    {% for col in [column_name] + not_null_columns %}
    select cast({{ column_name }} as varchar) as key, 'null {{ col }}' as problem
    from {{ model }} where {{ col }} is null
    {{ 'union all' if not loop.last }}
    {% endfor %}
)
select key, problem, '{{ column_name }} ' || coalesce(key, '<null>') || ': ' || problem as failure
from (select * from duplicated union all select * from incomplete)
order by key, problem
{% endtest %}
