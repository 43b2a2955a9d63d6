{{ config(materialized='view') }}
{#- A live fingerprint of what the gate judges, as it is now (a view, so edits show at once): the gate
    records it with each verdict and `download`, `release`, `export` and `pilot` compare it before acting.
    - manifest_checksum: manifest_core's content (the manifest a batch is released from);
    - judged_checksum: that, plus everything else the gate's checks judge that a later `dbt run` or an
      edit can change without touching manifest_core: the active configuration (selection_config, checks
      01-07, 09, 11, 14), the estimate totals (download_estimate_totals, checks 12-13) and the pinned
      events of the current lineage that are not in manifest_core exactly as released (check 15). The
      pins enter only through that mismatch, so releasing the manifest as it stands (which pins exactly
      its rows) leaves the fingerprint, and the GO it was recorded with, unchanged. -#}
with manifest as (
    select * from {{ ref('manifest_core') }}
),

config as (
    select * from {{ ref('selection_config') }}
),

estimates as (
    select * from {{ ref('download_estimate_totals') }}
),

pins as (
    select *
    from {{ source('tickwindows', 'manifest_batches') }}
    where lineage = (select lineage from {{ ref('manifest_lineage_current') }})
),

pins_not_as_released as (
    select
        pins.batch,
        pins.event_id,
        concat_ws('|', pins.batch, pins.event_id, pins.symbol, pins.session, epoch_ns(pins.window_start_utc),
                  epoch_ns(pins.window_end_utc), pins.config_hash, pins.enrichment_version,
                  coalesce(manifest.event_id, 'missing')) as line
    from pins
    left join manifest
        on manifest.event_id = pins.event_id
       and manifest.symbol = pins.symbol
       and manifest.session = pins.session
       and manifest.window_start_utc = pins.window_start_utc
       and manifest.window_end_utc = pins.window_end_utc
       and manifest.config_hash = pins.config_hash
       and manifest.enrichment_version = pins.enrichment_version
    where manifest.event_id is null
),

parts as (
    select
        (select count(*) from manifest) as manifest_rows,
        (select md5(coalesce(string_agg(
            concat_ws('|', event_id, symbol, session, epoch_ns(window_start_utc), epoch_ns(window_end_utc),
                      config_hash, enrichment_version),
            chr(10) order by event_id), '')) from manifest) as manifest_checksum,
        (select coalesce(string_agg(cast(to_json(config) as varchar), chr(10) order by profile), '') from config)
            as config_part,
        (select coalesce(string_agg(cast(to_json(estimates) as varchar), chr(10)), '') from estimates)
            as estimates_part,
        (select md5(coalesce(string_agg(line, chr(10) order by batch, event_id), '')) from pins_not_as_released)
            as pins_part
),

final as (
    select
        manifest_rows,
        manifest_checksum,
        md5(concat_ws('|', manifest_checksum, config_part, estimates_part, pins_part)) as judged_checksum
    from parts
)

select * from final
