{{ config(materialized='table') }}
{#- The pinned events of the current lineage (the latest one started), as released, with whether
    each is still eligible today: an upstream correction may have removed an event from the inputs,
    rejected it, or made it fail a filter. Pinned events stay in the manifest either way; this says
    why one no longer qualifies. -#}
with batches as (
    select * from {{ ref('stg_tickwindows__manifest_batches') }}
),

current_lineage as (
    select lineage from {{ ref('int_manifest_lineage_current') }}
),

pins as (
    select batches.*
    from batches
    join current_lineage using (lineage)
),

kept as (
    select event_id, passes_all, f1_price, f2_dollar_volume, f3_rvol, f4_adv20_dollar, f5_history
    from {{ ref('events_enriched') }}
    semi join pins using (event_id)
),

rejected as (
    select event_id, min(reason) as reason
    from {{ ref('int_events_classified') }}
    semi join pins using (event_id)
    where reason is not null
    group by event_id
),

final as (
    select
        pins.*,
        coalesce(kept.passes_all, false) as still_eligible,
        case
            when kept.passes_all then null
            when kept.event_id is not null then 'fails ' || concat_ws(', ',
                case when not kept.f1_price then 'F1 price' end,
                case when not kept.f2_dollar_volume then 'F2 dollar volume' end,
                case when not kept.f3_rvol then 'F3 rvol' end,
                case when not kept.f4_adv20_dollar then 'F4 adv20 dollar' end,
                case when not kept.f5_history then 'F5 history' end)
            when rejected.event_id is not null then 'rejected: ' || rejected.reason
            else 'not in the inputs'
        end as not_eligible_reason
    from pins
    left join kept using (event_id)
    left join rejected using (event_id)
)

select * from final
