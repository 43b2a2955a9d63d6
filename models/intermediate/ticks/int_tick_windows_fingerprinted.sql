{#- One row per downloaded window: a manifest event whose trades file AND quotes file are both present in
    {ticks_dir}, with the manifest's description of the window and a fingerprint of what a liquidity
    measurement of it depends on: each file's size and modification time (read from the file system by
    read_blob, whose content is never read when only size and last_modified are selected), the window's
    definition (session, event time, bounds) and the version of the measures' definitions.

    The downloader writes a file to a temporary name and renames it into place only when complete, so a
    re-downloaded file is a new inode with a new modification time (microseconds); a resumed download
    that finds a file intact (sha256 from its checkpoint store) leaves it alone, so its fingerprint stays.
    int_window_liquidity_measured recomputes exactly the windows whose fingerprint it has not seen. -#}
-- depends_on: {{ source('ticks', 'trades') }}
{#- bump to recompute every window after a change of the measures' definitions (v2: unsigned trades, issue 17): -#}
{% set liquidity_version = 'liquidity-v2' -%}
-- depends_on: {{ source('ticks', 'quotes') }}
with manifest as (
    select * from {{ ref('int_manifest_selected') }}
),

trades_files as (
    select
        regexp_extract(filename, '([0-9a-f]+)\.parquet$', 1) as event_id,
        filename as trades_path,
        size as trades_bytes,
        last_modified as trades_modified_at
    from read_blob('{{ tick_files_glob('trades') }}')
),

quotes_files as (
    select
        regexp_extract(filename, '([0-9a-f]+)\.parquet$', 1) as event_id,
        filename as quotes_path,
        size as quotes_bytes,
        last_modified as quotes_modified_at
    from read_blob('{{ tick_files_glob('quotes') }}')
),

final as (
    select
        manifest.event_id,
        manifest.symbol,
        manifest.session,
        manifest.event_type,
        manifest.trading_date,
        manifest.event_ts_utc,
        manifest.window_start_utc,
        manifest.window_end_utc,
        trades_files.trades_path,
        trades_files.trades_bytes,
        trades_files.trades_modified_at,
        quotes_files.quotes_path,
        quotes_files.quotes_bytes,
        quotes_files.quotes_modified_at,
        md5(concat_ws('|',
            '{{ liquidity_version }}',
            trades_files.trades_bytes, epoch_us(trades_files.trades_modified_at),
            quotes_files.quotes_bytes, epoch_us(quotes_files.quotes_modified_at),
            manifest.session, epoch_ns(manifest.event_ts_utc),
            epoch_ns(manifest.window_start_utc), epoch_ns(manifest.window_end_utc)
        )) as fingerprint
    from trades_files
    inner join quotes_files on quotes_files.event_id = trades_files.event_id
    inner join manifest on manifest.event_id = trades_files.event_id
)

select * from final
