{#- The combination of `columns` is a key of `model`: unique, and none of its columns null
    (dbt_utils.unique_combination_of_columns and not_null in one query); and none of `not_null_columns`
    is null either (the column-level not_null tests of a view, folded into one scan of it).
    Returns the offending keys. -#}
{% test primary_key(model, columns, not_null_columns=[]) %}
with keys as (
    select {{ (columns + not_null_columns) | join(', ') }}
    from {{ model }}
),

duplicated as (
    select {{ columns | join(', ') }}, count(*) as copies, 'duplicated' as problem
    from keys
    group by {{ columns | join(', ') }}
    having count(*) > 1
),

incomplete as (
    select {{ columns | join(', ') }}, 1 as copies, 'null ' || concat_ws(', '
        {%- for c in columns + not_null_columns %}, case when {{ c }} is null then '{{ c }}' end{% endfor %}) as problem
    from keys
    where {% for c in columns + not_null_columns %}{{ c }} is null{{ ' or ' if not loop.last }}{% endfor %}
)

select * from duplicated
union all
select * from incomplete
{% endtest %}
