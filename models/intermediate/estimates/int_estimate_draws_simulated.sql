{{ config(materialized='table') }}
{#- The Monte Carlo draws of the whole manifest's download (400 reproducible draws; the dbt var
    estimate_draws exists so that unit tests can use fewer):
    in draw d, event i's rows are its structural prediction x exp(mu + se*z_d + sd*z_id), where
    mu/sd are the mean/sd of log(actual/predicted) (pilot or priors), z_d is shared by all events
    (the calibration's own uncertainty, se = sd/sqrt(pilot windows)) and z_id is per event.
    Storage = rows x bytes/row; time = max(requests x seconds/request / workers,
    requests / rate limit). download_estimate_totals takes their p50 and p90.
    An event without a usable prediction (NULL, NaN or negative: e.g. no daily figures) would drop out
    of the sums silently; `events_covered` counts the events each draw's sums really hold, so the
    totals and the gate (checks 12-13) see the shortfall. -#}
{%- set draws = var('estimate_draws', 400) -%}
with predictions as (
    select event_id, predicted_trades_base from {{ ref('int_manifest_rows_predicted') }}
),

coefficients as (
    select * from {{ ref('int_estimate_coefficients_chosen') }}
),

draws as (
    select d as draw, {{ normal_hash("d, 'calibration'") }} as z_shared
    from range({{ draws }}) as r(d)
),

per_event_draw as (
    select
        draws.draw,
        predictions.predicted_trades_base * exp(
            coefficients.log_ratio_mean
            + coefficients.log_ratio_mean_se * draws.z_shared
            + coefficients.log_ratio_sd * {{ normal_hash('draws.draw, predictions.event_id') }}
        ) as trades_rows
    from predictions
    cross join draws
    cross join coefficients
),

per_draw as (
    select
        per_event_draw.draw,
        sum(trades_rows * coefficients.trade_bytes_per_row
            + trades_rows * coefficients.quotes_per_trade * coefficients.quote_bytes_per_row) / 1e9 as storage_gb,
        sum(greatest(ceil(trades_rows / coefficients.rows_per_page), 1)
            + greatest(ceil(trades_rows * coefficients.quotes_per_trade / coefficients.rows_per_page), 1)) as requests,
        count(*) filter (where isfinite(trades_rows) and trades_rows >= 0) as events_covered
    from per_event_draw
    cross join coefficients
    group by per_event_draw.draw
),

timed as (
    select
        per_draw.*,
        greatest(
            requests * coefficients.seconds_per_request / coefficients.workers,
            requests / coefficients.rate_limit_per_second
        ) / 86400.0 as download_days
    from per_draw
    cross join coefficients
)

select
    timed.draw,
    timed.storage_gb,
    timed.requests,
    timed.download_days,
    timed.events_covered
from timed
