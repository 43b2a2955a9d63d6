{#- One session's pass of the 1+fill stage, as two CTEs for manifest_core: `<session>_allowed`
    (that session's fill candidates within each symbol's remaining cap: max_per_symbol minus its
    stage-one pick and its picks in `earlier_fills`), then `fill_<session>`: the best `take` of
    them by selection_rank. Needs the CTEs fill_pool and quotas. -#}
{% macro fill_pass(session, earlier_fills, take) -%}
{{ session }}_allowed as (
    select fill_pool.*
    from fill_pool
    cross join quotas
    left join (
        select symbol, count(*) as used
        from (
            {%- for earlier in earlier_fills %}
            select symbol from {{ earlier }}{{ ' union all' if not loop.last }}
            {%- else %}
            select cast(null as varchar) as symbol where false
            {%- endfor %}
        )
        group by symbol
    ) as earlier using (symbol)
    where fill_pool.session = '{{ session | upper }}'
    qualify row_number() over (partition by fill_pool.symbol order by fill_pool.selection_rank)
                <= quotas.max_per_symbol - 1 - coalesce(earlier.used, 0)
),

fill_{{ session }} as (
    select {{ session }}_allowed.*, 'fill' as selection_stage
    from {{ session }}_allowed, quotas
    qualify row_number() over (order by {{ session }}_allowed.selection_rank) <= greatest({{ take }}, 0)
)
{%- endmacro %}
