{#- Published: the one active configuration (logic: int_selection_config_resolved), with the
    thresholds in fixed types whatever the seed's inferred ones, so readers and the contract can rely
    on them. config_hash is computed upstream from the profile row exactly as loaded. The coverage of
    the final universe (dbt var universe_symbols) and the count thresholds scaled to it follow: the
    gate judges counts against the *_scaled columns. -#}
with source_model as (
    select * from {{ ref('int_selection_config_resolved') }}
),

coverage as (
    select * from {{ ref('int_selection_coverage_measured') }}
),

final as (
    select
        source_model.profile,
        cast(target_events as integer) as target_events,
        cast(min_events as integer) as min_events,
        cast(max_events as integer) as max_events,
        cast(max_per_symbol as integer) as max_per_symbol,
        cast(min_symbols as integer) as min_symbols,
        cast(top20_max_share as double) as top20_max_share,
        cast(pm_min as double) as pm_min,
        cast(pm_target as double) as pm_target,
        cast(pm_max as double) as pm_max,
        cast(rth_min as double) as rth_min,
        cast(rth_max as double) as rth_max,
        cast(ah_min as double) as ah_min,
        cast(ah_target as double) as ah_target,
        cast(ah_max as double) as ah_max,
        cast(min_price as double) as min_price,
        cast(max_price as double) as max_price,
        cast(min_dollar_volume_day as double) as min_dollar_volume_day,
        cast(min_rvol_day as double) as min_rvol_day,
        cast(min_adv20_dollar as double) as min_adv20_dollar,
        cast(min_history_days as integer) as min_history_days,
        cast(window_before_min as integer) as window_before_min,
        cast(window_after_min as integer) as window_after_min,
        cast(storage_p90_max_gb as double) as storage_p90_max_gb,
        cast(download_p90_max_days as double) as download_p90_max_days,
        enrichment_version,
        selection_algorithm,
        config_hash,
        coverage.universe_symbols,
        coverage.symbols_usable,
        coverage.coverage,
        coverage.target_events_scaled,
        coverage.min_events_scaled,
        coverage.max_events_scaled,
        coverage.min_symbols_scaled
    from source_model
    cross join coverage
)

select * from final
