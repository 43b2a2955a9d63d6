{#- The session quotas of the fill stage, in one row. The effective target is the profile's target
    scaled to the universe's coverage (int_selection_coverage_measured), capped by what the universe
    can give (per symbol, at most max_per_symbol events: its pinned ones plus its surviving
    candidates). Quotas: PM and AH at their target shares, RTH the rest. Pinned events (released
    batches) count against each session's quota; stage one gives each symbol without pins its best
    event. Scarce sessions are filled first (AH, then PM); an AH shortfall is redistributed to PM up
    to PM's band maximum, and RTH absorbs whatever remains (see int_manifest_selected). -#}
with candidates as (
    select * from {{ ref('int_selection_candidates_ranked') }}
    where survives_overlap
),

pins as (
    select * from {{ ref('int_manifest_pins_current') }}
),

config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

coverage as (
    select * from {{ ref('int_selection_coverage_measured') }}
),

pinned_symbols as (
    select symbol, count(*) as pinned from pins group by symbol
),

per_symbol as (
    select
        candidates.symbol,
        count(*) as survivors,
        arg_min(candidates.session, candidates.selection_rank) as best_session,
        any_value(pinned_symbols.pinned) as pinned
    from candidates
    left join pinned_symbols using (symbol)
    group by candidates.symbol
),

capacity as (
    select
        sum(least(survivors + coalesce(pinned, 0), config.max_per_symbol)) as capacity_events,
        count(*) filter (where pinned is null) as symbols_with_candidates,
        count(*) filter (where pinned is null and best_session = 'PM') as stage_one_pm,
        count(*) filter (where pinned is null and best_session = 'RTH') as stage_one_rth,
        count(*) filter (where pinned is null and best_session = 'AH') as stage_one_ah
    from per_symbol
    cross join config
    group by all
),

-- Pinned symbols without any surviving candidate still hold their pinned events.
pinned_only as (
    select coalesce(sum(least(pinned, config.max_per_symbol)), 0) as capacity_events
    from pinned_symbols
    anti join candidates using (symbol)
    cross join config
),

pinned_sessions as (
    select
        count(*) as pinned_total,
        count(*) filter (where session = 'PM') as pinned_pm,
        count(*) filter (where session = 'RTH') as pinned_rth,
        count(*) filter (where session = 'AH') as pinned_ah
    from pins
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
        coverage.target_events_scaled as target_events,
        config.max_per_symbol,
        config.pm_max,
        coalesce(capacity.capacity_events, 0) + pinned_only.capacity_events as capacity_events,
        coalesce(capacity.symbols_with_candidates, 0) as symbols_with_candidates,
        cast(least(coverage.target_events_scaled,
                   coalesce(capacity.capacity_events, 0) + pinned_only.capacity_events) as bigint) as target_effective,
        coalesce(capacity.stage_one_pm, 0) as stage_one_pm,
        coalesce(capacity.stage_one_rth, 0) as stage_one_rth,
        coalesce(capacity.stage_one_ah, 0) as stage_one_ah,
        pinned_sessions.pinned_total,
        pinned_sessions.pinned_pm,
        pinned_sessions.pinned_rth,
        pinned_sessions.pinned_ah,
        config.pm_target,
        config.ah_target,
        available.survivors_pm,
        available.survivors_rth,
        available.survivors_ah
    from config
    cross join coverage
    cross join available
    cross join pinned_only
    cross join pinned_sessions
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
