{{ config(materialized='table') }}
{#- The selected events ("1+fill" with session quotas), deterministic to the byte:
    pinned events (released batches) stay exactly as released; stage `one` takes the best surviving
    event of each symbol that has no pinned event (coverage first); stage `fill` then adds the best
    remaining events by score, session by session (AH, PM, RTH: scarcest first), never more than
    max_per_symbol per symbol in all, pinned ones included. Ties in score are broken by event_id.
    `batch` is the pinned event's batch, or the next batch number for picks not yet released. -#}
with candidates as (
    select * from {{ ref('int_selection_candidates_ranked') }}
    where survives_overlap
),

pins as (
    select * from {{ ref('int_manifest_pins_current') }}
),

quotas as (
    select * from {{ ref('int_selection_quotas_computed') }}
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

pinned_per_symbol as (
    select symbol, count(*) as used from pins group by symbol
),

ranked as (
    select
        candidates.*,
        row_number() over (partition by candidates.symbol order by candidates.selection_rank) as rank_in_symbol,
        pinned_per_symbol.used is not null as symbol_is_pinned
    from candidates
    left join pinned_per_symbol using (symbol)
),

stage_one as (
    select * exclude (symbol_is_pinned), 'one' as selection_stage
    from ranked
    where rank_in_symbol = 1 and not symbol_is_pinned
),

fill_pool as (
    select * exclude (symbol_is_pinned)
    from ranked
    where rank_in_symbol > 1 or symbol_is_pinned
),

-- What each symbol holds before the fill: its stage-one pick, or its pinned events.
held_before_fill as (
    select symbol, 1 as used from stage_one
    union all
    select symbol, used from pinned_per_symbol
),

-- AH first: up to its quota (less what stage one and the pins already gave it).
{{ fill_pass('ah', [], 'quotas.quota_ah - quotas.stage_one_ah - coalesce(quotas.pinned_ah, 0)') }},

ah_shortfall as (
    select greatest(quotas.quota_ah - quotas.stage_one_ah - coalesce(quotas.pinned_ah, 0)
                    - (select count(*) from fill_ah), 0) as events
    from quotas
),

-- PM next: its quota plus the AH shortfall, never above PM's band maximum.
{{ fill_pass('pm', ['fill_ah'],
    'least(quotas.quota_pm + (select events from ah_shortfall), quotas.ceiling_pm)
     - quotas.stage_one_pm - coalesce(quotas.pinned_pm, 0)') }},

-- RTH last: whatever is left of the effective target.
{{ fill_pass('rth', ['fill_ah', 'fill_pm'],
    'quotas.target_effective - quotas.symbols_with_candidates - coalesce(quotas.pinned_total, 0)
     - (select count(*) from fill_ah) - (select count(*) from fill_pm)') }},

next_batch as (
    select coalesce(max(batch), 0) + 1 as batch from {{ ref('stg_tickwindows__manifest_batches') }}
),

new_picks as (
    select
        picked.event_id,
        picked.symbol,
        picked.session,
        picked.event_ts_utc,
        picked.event_ts_et,
        picked.window_start_utc,
        picked.window_end_utc,
        picked.trading_date,
        picked.event_type,
        picked.score,
        picked.selection_stage,
        config.profile,
        config.config_hash,
        config.enrichment_version,
        next_batch.batch,
        true as still_eligible,
        cast(null as varchar) as not_eligible_reason
    from (
        select * from stage_one
        union all select * from fill_ah
        union all select * from fill_pm
        union all select * from fill_rth
    ) as picked
    cross join config
    cross join next_batch
),

pinned as (
    select
        event_id,
        symbol,
        session,
        event_ts_utc,
        event_ts_et,
        window_start_utc,
        window_end_utc,
        trading_date,
        event_type,
        score,
        selection_stage,
        profile,
        config_hash,
        enrichment_version,
        batch,
        still_eligible,
        not_eligible_reason
    from pins
),

selected as (
    select * from pinned
    union all
    select * from new_picks
),

final as (
    select
        event_id,
        symbol,
        session,
        event_ts_utc,
        event_ts_et,
        window_start_utc,
        window_end_utc,
        trading_date,
        event_type,
        score,
        -- Same order as selection_rank (score desc, then event_id), which pinned events may no longer have.
        cast(row_number() over (partition by symbol order by score desc, event_id) as integer) as symbol_rank,
        selection_stage,
        profile,
        config_hash,
        enrichment_version,
        cast(batch as integer) as batch,
        still_eligible,
        not_eligible_reason
    from selected
)

select * from final
