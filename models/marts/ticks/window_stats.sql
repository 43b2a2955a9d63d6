{#- Published: one row per downloaded window and kind: what the files hold, next to the manifest's description of
    the event. A window whose file holds no rows (a ticker without data) is listed with rows = 0:
    the file list comes from glob(), not from the rows. Files of events no longer in the manifest
    are left out. -#}
-- depends_on: {{ source('ticks', 'trades') }}
-- depends_on: {{ source('ticks', 'quotes') }}
with manifest as (
    select * from {{ ref('int_manifest_selected') }}
),

trades as (
    select * from {{ ref('stg_ticks__trades') }}
),

quotes as (
    select * from {{ ref('stg_ticks__quotes') }}
),

downloaded_files as (
    select
        regexp_extract(file, '([0-9a-f]+)\.parquet$', 1) as event_id,
        'trades' as kind
    from glob('{{ tick_files_glob('trades') }}')
    union all
    select
        regexp_extract(file, '([0-9a-f]+)\.parquet$', 1) as event_id,
        'quotes' as kind
    from glob('{{ tick_files_glob('quotes') }}')
),

trade_stats as (
    select
        event_id,
        'trades' as kind,
        count(*) as rows,
        min(sip_timestamp) as first_sip_timestamp,
        max(sip_timestamp) as last_sip_timestamp,
        sum(size) as trades_volume,
        cast(null as double) as median_quoted_spread
    from trades
    group by event_id
),

quote_stats as (
    select
        event_id,
        'quotes' as kind,
        count(*) as rows,
        min(sip_timestamp) as first_sip_timestamp,
        max(sip_timestamp) as last_sip_timestamp,
        cast(null as double) as trades_volume,
        median(ask_price - bid_price) filter (where bid_price > 0 and ask_price >= bid_price) as median_quoted_spread
    from quotes
    group by event_id
),

window_rows as (
    select * from trade_stats
    union all
    select * from quote_stats
),

final as (
    select
        downloaded_files.event_id,
        downloaded_files.kind,
        manifest.symbol,
        manifest.session,
        manifest.trading_date,
        manifest.event_ts_utc,
        manifest.window_start_utc,
        manifest.window_end_utc,
        manifest.event_type,
        manifest.score,
        manifest.selection_stage,
        coalesce(window_rows.rows, 0) as rows,
        window_rows.first_sip_timestamp,
        window_rows.last_sip_timestamp,
        window_rows.trades_volume,
        window_rows.median_quoted_spread
    from downloaded_files
    inner join manifest on manifest.event_id = downloaded_files.event_id
    left join window_rows
        on window_rows.event_id = downloaded_files.event_id
        and window_rows.kind = downloaded_files.kind
)

select * from final
order by event_id, kind
