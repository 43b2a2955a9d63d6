{#- One session's pass of the 1+fill stage, as two CTEs for int_manifest_selected: `<session>_allowed`
    (that session's fill candidates within each symbol's remaining cap: max_per_symbol minus what the
    symbol held before the fill, its stage-one pick or its pinned events, and its picks in
    `earlier_fills`), then `fill_<session>`: the best `take` of them by selection_rank. Needs the
    CTEs fill_pool, held_before_fill and quotas. -#}
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
    left join held_before_fill as held using (symbol)
    where fill_pool.session = '{{ session | upper }}'
    qualify row_number() over (partition by fill_pool.symbol order by fill_pool.selection_rank)
                <= quotas.max_per_symbol - coalesce(held.used, 0) - coalesce(earlier.used, 0)
),

fill_{{ session }} as (
    select {{ session }}_allowed.*, 'fill' as selection_stage
    from {{ session }}_allowed, quotas
    qualify row_number() over (order by {{ session }}_allowed.selection_rank) <= greatest({{ take }}, 0)
)
{%- endmacro %}
