{#- Published: whole-manifest storage and download time at p50/p90 (logic: int_estimate_totals_computed); the gate judges the p90s. -#}
with source_model as (
    select * from {{ ref('int_estimate_totals_computed') }}
),

final as (
    select
        draws,
        events,
        events_covered,
        storage_gb_p50,
        storage_gb_p90,
        download_days_p50,
        download_days_p90,
        requests_p50,
        requests_p90,
        calibrated,
        pilot_windows,
        calibrated_at
    from source_model
)

select * from final
