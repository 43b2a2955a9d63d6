{{ config(materialized='view') }}
{#- Structural prediction of trade rows in each selected window, before calibration: the day's
    trade count (transactions, or volume x trades_per_share_volume when the bar has none) spread
    over 390 RTH minutes, scaled by the session's intensity and the event's intensity, times the
    window's length. -#}
with manifest as (
    select * from {{ ref('int_manifest_selected') }}
),

metrics as (
    select * from {{ ref('int_daily_metrics_rolling') }}
),

priors as (
    select * from {{ ref('int_estimate_priors_pivoted') }}
)

select
    manifest.event_id,
    manifest.symbol,
    manifest.session,
    manifest.trading_date,
    date_diff('second', manifest.window_start_utc, manifest.window_end_utc) / 60.0 as window_minutes,
    coalesce(metrics.transactions_day, metrics.volume_day * priors.trades_per_share_volume) as trades_day,
    coalesce(metrics.transactions_day, metrics.volume_day * priors.trades_per_share_volume) / 390.0
        * case manifest.session
            when 'PM' then priors.session_intensity_pm
            when 'AH' then priors.session_intensity_ah
            else priors.session_intensity_rth
          end
        * priors.event_intensity
        * date_diff('second', manifest.window_start_utc, manifest.window_end_utc) / 60.0
        as predicted_trades_base
from manifest
cross join priors
left join metrics
    on metrics.symbol = manifest.symbol
   and metrics.trading_date = manifest.trading_date
