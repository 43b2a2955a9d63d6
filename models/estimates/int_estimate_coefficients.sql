{{ config(materialized='view') }}
{#- The coefficients the estimates use: measured by the latest pilot (`tickwindows pilot` writes
    main.pilot_measurements) where it measured at least 3 windows, else the committed priors.
    From the pilot: log(actual/predicted) trade rows (mean, sd, and the standard error of the mean),
    quotes per trade, Parquet bytes per row of each kind, wall seconds per request, workers. -#}
-- depends_on: {{ source('downloads', 'pilot_measurements') }}
-- depends_on: {{ ref('int_window_predictions') }}
{%- set pilot_relation = none -%}
{%- if execute -%}
    {%- set pilot_relation = adapter.get_relation(database=target.database, schema='main', identifier='pilot_measurements') -%}
{%- endif %}

with priors as (
    select * from {{ ref('int_estimate_priors') }}
),

{% if pilot_relation is not none %}
pilot as (
    select * from {{ source('downloads', 'pilot_measurements') }}
),

predictions as (
    select * from {{ ref('int_window_predictions') }}
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
{% else %}
measured as (
    select
        0 as pilot_windows,
        cast(null as double) as log_ratio_mean,
        cast(null as double) as log_ratio_sd,
        cast(null as double) as quotes_per_trade,
        cast(null as double) as trade_bytes_per_row,
        cast(null as double) as quote_bytes_per_row,
        cast(null as double) as seconds_per_request,
        cast(null as integer) as workers,
        cast(null as timestamp) as measured_at
),
{% endif %}

chosen as (
    select
        measured.pilot_windows >= 3 as calibrated,
        measured.pilot_windows,
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
