{{ config(materialized='view') }}
{#- The coefficients the estimates use: measured by the latest pilot (`tickwindows pilot` writes
    main.pilot_measurements, see stg_tickwindows__pilot_measurements) where it measured at least 3 windows, else the committed priors.
    From the pilot: log(actual/predicted) trade rows (mean, sd, and the standard error of the mean),
    quotes per trade, Parquet bytes per row of each kind, wall seconds per request, workers. -#}
with priors as (
    select * from {{ ref('int_estimate_priors_pivoted') }}
),

pilot as (
    select * from {{ ref('stg_tickwindows__pilot_measurements') }}
),

predictions as (
    select * from {{ ref('int_manifest_rows_predicted') }}
),

trade_windows as (
    select
        ln((pilot.rows + 1.0) / (predictions.predicted_trades_base + 1.0)) as log_ratio
    from pilot
    join predictions using (event_id)
    where pilot.kind = 'trades'
),

measured as (
    select
        (select count(*) from trade_windows) as pilot_windows,
        (select avg(log_ratio) from trade_windows) as log_ratio_mean,
        (select stddev_samp(log_ratio) from trade_windows) as log_ratio_sd,
        sum(rows) filter (where kind = 'quotes') / nullif(sum(rows) filter (where kind = 'trades'), 0) as quotes_per_trade,
        sum(bytes) filter (where kind = 'trades') / nullif(sum(rows) filter (where kind = 'trades'), 0) as trade_bytes_per_row,
        sum(bytes) filter (where kind = 'quotes') / nullif(sum(rows) filter (where kind = 'quotes'), 0) as quote_bytes_per_row,
        sum(seconds) / nullif(sum(pages), 0) as seconds_per_request,
        max(workers) as workers,
        max(measured_at) as measured_at
    from pilot
),

chosen as (
    select
        measured.pilot_windows >= 3 as calibrated,
        cast(measured.pilot_windows as integer) as pilot_windows,
        measured.measured_at as calibrated_at,
        priors.rows_per_page,
        priors.rate_limit_per_second,
        {% for name in ['log_ratio_mean', 'log_ratio_sd', 'quotes_per_trade', 'trade_bytes_per_row',
                        'quote_bytes_per_row', 'seconds_per_request', 'workers'] %}
        case when measured.pilot_windows >= 3 then coalesce(measured.{{ name }}, priors.{{ name }})
             else priors.{{ name }} end as {{ name }},
        {% endfor %}
        -- Uncertainty of the mean log ratio itself: sd/sqrt(n) after a pilot, the full sd on priors.
        case when measured.pilot_windows >= 3
             then coalesce(measured.log_ratio_sd, priors.log_ratio_sd) / sqrt(measured.pilot_windows)
             else priors.log_ratio_sd end as log_ratio_mean_se
    from priors
    cross join measured
)

select * from chosen
