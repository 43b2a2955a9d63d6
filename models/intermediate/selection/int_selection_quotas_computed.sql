{#- The session quotas of the fill stage, in one row. The effective target is the profile's
    target capped by what the universe can give (per symbol, at most max_per_symbol surviving
    events). Quotas: PM and AH at their target shares, RTH the rest. Scarce sessions are filled
    first (AH, then PM); an AH shortfall is redistributed to PM up to PM's band maximum, and RTH
    absorbs whatever remains (see manifest_core). -#}
with candidates as (
    select * from {{ ref('int_selection_candidates_ranked') }}
    where survives_overlap
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

per_symbol as (
    select
        symbol,
        count(*) as survivors,
        arg_min(session, selection_rank) as best_session
    from candidates
    group by symbol
),

capacity as (
    select
        sum(least(survivors, config.max_per_symbol)) as capacity_events,
        count(*) as symbols_with_candidates,
        count(*) filter (where best_session = 'PM') as stage_one_pm,
        count(*) filter (where best_session = 'RTH') as stage_one_rth,
        count(*) filter (where best_session = 'AH') as stage_one_ah
    from per_symbol
    cross join config
    group by all
),

available as (
    select
        count(*) filter (where session = 'PM') as survivors_pm,
        count(*) filter (where session = 'RTH') as survivors_rth,
        count(*) filter (where session = 'AH') as survivors_ah
    from candidates
),

targets as (
    select
        config.target_events,
        config.max_per_symbol,
        config.pm_max,
        coalesce(capacity.capacity_events, 0) as capacity_events,
        coalesce(capacity.symbols_with_candidates, 0) as symbols_with_candidates,
        cast(least(config.target_events, coalesce(capacity.capacity_events, 0)) as bigint) as target_effective,
        coalesce(capacity.stage_one_pm, 0) as stage_one_pm,
        coalesce(capacity.stage_one_rth, 0) as stage_one_rth,
        coalesce(capacity.stage_one_ah, 0) as stage_one_ah,
        config.pm_target,
        config.ah_target,
        available.survivors_pm,
        available.survivors_rth,
        available.survivors_ah
    from config
    cross join available
    left join capacity on true
)

select
    *,
    cast(round(target_effective * pm_target) as bigint) as quota_pm,
    cast(round(target_effective * ah_target) as bigint) as quota_ah,
    target_effective
        - cast(round(target_effective * pm_target) as bigint)
        - cast(round(target_effective * ah_target) as bigint) as quota_rth,
    cast(floor(target_effective * pm_max) as bigint) as ceiling_pm
from targets
