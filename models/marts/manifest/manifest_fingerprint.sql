{{ config(materialized='view') }}
{#- A live fingerprint of manifest_core as it is now (a view, so edits show at once): the gate
    records it with each verdict and the downloader compares it before starting. -#}
select
    count(*) as manifest_rows,
    md5(coalesce(string_agg(
        concat_ws('|', event_id, symbol, session, epoch_ns(window_start_utc), epoch_ns(window_end_utc),
                  config_hash, enrichment_version),
        chr(10) order by event_id), '')) as manifest_checksum
from {{ ref('manifest_core') }}
