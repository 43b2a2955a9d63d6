{#- Totals for the whole manifest at p50 and p90: quantiles of the Monte Carlo draws in
    download_estimate_draws (see there for the model), with the coefficients' provenance.
    `events_covered` (the fewest events any draw's sums hold) below `events` means some selected
    event has no usable prediction: the totals under-estimate, and the gate fails checks 12-13. -#}
with draws as (
    select * from {{ ref('int_estimate_draws_simulated') }}
),

coefficients as (
    select * from {{ ref('int_estimate_coefficients_chosen') }}
),

events as (
    select count(*) as events from {{ ref('int_manifest_rows_predicted') }}
)

select
    count(*) as draws,
    any_value(events.events) as events,
    min(draws.events_covered) as events_covered,
    quantile_cont(storage_gb, 0.5) as storage_gb_p50,
    quantile_cont(storage_gb, 0.9) as storage_gb_p90,
    quantile_cont(download_days, 0.5) as download_days_p50,
    quantile_cont(download_days, 0.9) as download_days_p90,
    quantile_cont(requests, 0.5) as requests_p50,
    quantile_cont(requests, 0.9) as requests_p90,
    any_value(coefficients.calibrated) as calibrated,
    any_value(coefficients.pilot_windows) as pilot_windows,
    any_value(coefficients.calibrated_at) as calibrated_at
from draws
cross join coefficients
cross join events
