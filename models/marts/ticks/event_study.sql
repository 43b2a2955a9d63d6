{#- Published: pre vs post event medians of every window_liquidity measure, by session x event_type
    (logic: int_event_study_summarized). -#}
with source_model as (
    select * from {{ ref('int_event_study_summarized') }}
),

final as (
    select
        session,
        event_type,
        measure,
        windows,
        median_pre,
        median_post,
        median_post_minus_pre,
        ci95_low,
        ci95_high
    from source_model
)

select * from final
order by session, event_type, measure
