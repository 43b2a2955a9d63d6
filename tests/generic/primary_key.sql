{#- The combination of `columns` is a key of `model`: unique, and none of its columns null
    (dbt_utils.unique_combination_of_columns and not_null in one query). Returns the offending keys. -#}
{% test primary_key(model, columns) %}
with keys as (
    select {{ columns | join(', ') }}
    from {{ model }}
),

duplicated as (
    select {{ columns | join(', ') }}, count(*) as copies, 'duplicated' as problem
    from keys
    group by all
    having count(*) > 1
),

incomplete as (
    select {{ columns | join(', ') }}, 1 as copies, 'null key column' as problem
    from keys
    where {% for c in columns %}{{ c }} is null{{ ' or ' if not loop.last }}{% endfor %}
)

select * from duplicated
union all
select * from incomplete
{% endtest %}
