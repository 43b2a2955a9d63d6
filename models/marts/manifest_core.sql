{#- The selected events ("1+fill" with session quotas), deterministic to the byte:
    stage `one` takes each symbol's best surviving event (coverage first); stage `fill` then adds
    the best remaining events by score, session by session (AH, PM, RTH: scarcest first), never
    more than max_per_symbol per symbol in all. Ties in score are broken by event_id. -#}
with candidates as (
    select * from {{ ref('int_selection_candidates') }}
    where survives_overlap
),

quotas as (
    select * from {{ ref('int_selection_quotas') }}
),

config as (
    select * from {{ ref('selection_config') }}
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
ah_allowed as (
    select fill_pool.*
    from fill_pool, quotas
    where fill_pool.session = 'AH'
    qualify row_number() over (partition by fill_pool.symbol order by fill_pool.selection_rank)
                <= quotas.max_per_symbol - 1
),

fill_ah as (
    select ah_allowed.*, 'fill' as selection_stage
    from ah_allowed, quotas
    qualify row_number() over (order by ah_allowed.selection_rank)
                <= greatest(quotas.quota_ah - quotas.stage_one_ah, 0)
),

ah_shortfall as (
    select greatest(quotas.quota_ah - quotas.stage_one_ah - (select count(*) from fill_ah), 0) as events
    from quotas
),

used_after_ah as (
    select symbol, count(*) as used from fill_ah group by symbol
),

-- PM next: its quota plus the AH shortfall, never above PM's band maximum.
pm_allowed as (
    select fill_pool.*
    from fill_pool
    cross join quotas
    left join used_after_ah using (symbol)
    where fill_pool.session = 'PM'
    qualify row_number() over (partition by fill_pool.symbol order by fill_pool.selection_rank)
                <= quotas.max_per_symbol - 1 - coalesce(used_after_ah.used, 0)
),

fill_pm as (
    select pm_allowed.*, 'fill' as selection_stage
    from pm_allowed, quotas, ah_shortfall
    qualify row_number() over (order by pm_allowed.selection_rank)
                <= greatest(least(quotas.quota_pm + ah_shortfall.events, quotas.ceiling_pm) - quotas.stage_one_pm, 0)
),

used_after_pm as (
    select symbol, count(*) as used
    from (select symbol from fill_ah union all select symbol from fill_pm)
    group by symbol
),

-- RTH last: whatever is left of the effective target.
rth_allowed as (
    select fill_pool.*
    from fill_pool
    cross join quotas
    left join used_after_pm using (symbol)
    where fill_pool.session = 'RTH'
    qualify row_number() over (partition by fill_pool.symbol order by fill_pool.selection_rank)
                <= quotas.max_per_symbol - 1 - coalesce(used_after_pm.used, 0)
),

fill_rth as (
    select rth_allowed.*, 'fill' as selection_stage
    from rth_allowed, quotas
    qualify row_number() over (order by rth_allowed.selection_rank)
                <= greatest(
                    quotas.target_effective - quotas.symbols_with_candidates
                    - (select count(*) from fill_ah) - (select count(*) from fill_pm), 0)
),

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
order by event_id
