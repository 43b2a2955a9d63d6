{#- Published: per selected event, the median (calibrated) trade and quote rows of its window, the Parquet
    bytes and API requests they mean. The totals' p50/p90 are in download_estimate_totals. -#}
with predictions as (
    select * from {{ ref('int_manifest_rows_predicted') }}
),

coefficients as (
    select * from {{ ref('int_estimate_coefficients_chosen') }}
),

rows_estimated as (
    select
        predictions.event_id,
        predictions.symbol,
        predictions.session,
        predictions.trading_date,
        predictions.window_minutes,
        predictions.predicted_trades_base * exp(coefficients.log_ratio_mean) as trades_rows_p50,
        predictions.predicted_trades_base * exp(coefficients.log_ratio_mean) * coefficients.quotes_per_trade
            as quotes_rows_p50,
        coefficients.trade_bytes_per_row,
        coefficients.quote_bytes_per_row,
        coefficients.rows_per_page,
        coefficients.calibrated
    from predictions
    cross join coefficients
),

final as (
    select
        event_id,
        symbol,
        session,
        trading_date,
        window_minutes,
        trades_rows_p50,
        quotes_rows_p50,
        trades_rows_p50 * trade_bytes_per_row + quotes_rows_p50 * quote_bytes_per_row as bytes_p50,
        -- Each kind costs at least one request, then one per full page.
        greatest(ceil(trades_rows_p50 / rows_per_page), 1) + greatest(ceil(quotes_rows_p50 / rows_per_page), 1)
            as requests_p50,
        calibrated
    from rows_estimated
)

select * from final
order by event_id
