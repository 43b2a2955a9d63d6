{{ config(materialized='table') }}
{#- The selected events ("1+fill" with session quotas), deterministic to the byte:
    stage `one` takes each symbol's best surviving event (coverage first); stage `fill` then adds
    the best remaining events by score, session by session (AH, PM, RTH: scarcest first), never
    more than max_per_symbol per symbol in all. Ties in score are broken by event_id. -#}
with candidates as (
    select * from {{ ref('int_selection_candidates_ranked') }}
    where survives_overlap
),

quotas as (
    select * from {{ ref('int_selection_quotas_computed') }}
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

ranked as (
    select
        *,
        row_number() over (partition by symbol order by selection_rank) as rank_in_symbol
    from candidates
),

stage_one as (
    select *, 'one' as selection_stage from ranked where rank_in_symbol = 1
),

fill_pool as (
    select * from ranked where rank_in_symbol > 1
),

-- AH first: up to its quota (less what stage one already gave it).
{{ fill_pass('ah', [], 'quotas.quota_ah - quotas.stage_one_ah') }},

ah_shortfall as (
    select greatest(quotas.quota_ah - quotas.stage_one_ah - (select count(*) from fill_ah), 0) as events
    from quotas
),

-- PM next: its quota plus the AH shortfall, never above PM's band maximum.
{{ fill_pass('pm', ['fill_ah'],
    'least(quotas.quota_pm + (select events from ah_shortfall), quotas.ceiling_pm) - quotas.stage_one_pm') }},

-- RTH last: whatever is left of the effective target.
{{ fill_pass('rth', ['fill_ah', 'fill_pm'],
    'quotas.target_effective - quotas.symbols_with_candidates
     - (select count(*) from fill_ah) - (select count(*) from fill_pm)') }},

selected as (
    select * from stage_one
    union all select * from fill_ah
    union all select * from fill_pm
    union all select * from fill_rth
),

final as (
    select
        selected.event_id,
        selected.symbol,
        selected.session,
        selected.event_ts_utc,
        selected.event_ts_et,
        selected.window_start_utc,
        selected.window_end_utc,
        selected.trading_date,
        selected.event_type,
        selected.score,
        cast(row_number() over (partition by selected.symbol order by selected.selection_rank) as integer)
            as symbol_rank,
        selected.selection_stage,
        config.profile,
        config.config_hash,
        config.enrichment_version
    from selected
    cross join config
)

select * from final
