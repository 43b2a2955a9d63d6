{{ config(materialized='view') }}
{#- The committed priors (seeds/estimate_priors.csv) pivoted into one row of named coefficients. -#}
with priors as (
    select coefficient, value from {{ ref('estimate_priors') }}
)

select
    {% for name in ['quotes_per_trade', 'trade_bytes_per_row', 'quote_bytes_per_row', 'rows_per_page',
                    'seconds_per_request', 'workers', 'rate_limit_per_second', 'log_ratio_mean',
                    'log_ratio_sd', 'session_intensity_pm', 'session_intensity_rth', 'session_intensity_ah',
                    'event_intensity', 'trades_per_share_volume'] %}
    max(value) filter (where coefficient = '{{ name }}') as {{ name }}{{ ',' if not loop.last }}
    {% endfor %}
from priors
