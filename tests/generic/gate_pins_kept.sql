{#- Gate: every pinned event of the current lineage (`pins`: the table `tickwindows release` writes, read
    directly, not through the models that select around the pins; `lineage`: the one row of
    manifest_lineage_current, the one definition of the current lineage), as released, is
    in the manifest with the same symbol, session and window bounds, and the pinned batches were
    selected under the active profile, config_hash and enrichment_version. Returns one row per
    missing or moved event, and one per batch selected under another configuration (naming it:
    start over with `tickwindows release --discard`). Without pins there is nothing to check. -#}
{% test gate_pins_kept(model, pins, lineage) %}
{{ gate_after_marts() }}
with manifest as (select * from {{ model }}),
config as (select * from {{ gate_config() }}),
pins as (
    select p.* from {{ pins }} as p where p.lineage = (select lineage from {{ lineage }})
),
moved as (
    select
        pins.batch,
        pins.event_id,
        'pinned event ' || pins.event_id || ' (batch ' || pins.batch || ', ' || pins.symbol || ' '
            || pins.window_start_utc || ' -> ' || pins.window_end_utc || '): ' ||
        case
            when manifest.event_id is null then 'missing from the manifest'
            else 'changed: ' || concat_ws(', ',
                case when manifest.symbol is distinct from pins.symbol then 'symbol ' || coalesce(manifest.symbol, 'null') end,
                case when manifest.session is distinct from pins.session then 'session ' || coalesce(manifest.session, 'null') end,
                case when manifest.window_start_utc is distinct from pins.window_start_utc
                       or manifest.window_end_utc is distinct from pins.window_end_utc
                     then 'window ' || coalesce(cast(manifest.window_start_utc as varchar), 'null') || ' -> '
                          || coalesce(cast(manifest.window_end_utc as varchar), 'null') end)
        end as failure
    from pins
    left join manifest on manifest.event_id = pins.event_id
    where manifest.event_id is null
       or manifest.symbol is distinct from pins.symbol
       or manifest.session is distinct from pins.session
       or manifest.window_start_utc is distinct from pins.window_start_utc
       or manifest.window_end_utc is distinct from pins.window_end_utc
),
other_config as (
    select
        pins.batch,
        cast(null as varchar) as event_id,
        'batch ' || pins.batch || ' (' || count(*) || ' events) was released under profile '
            || any_value(pins.profile) || ', config_hash ' || any_value(pins.config_hash) || ', '
            || any_value(pins.enrichment_version) || '; the active configuration is ' || coalesce(any_value(config.profile), 'null')
            || ', ' || coalesce(any_value(config.config_hash), 'null') || ', ' || coalesce(any_value(config.enrichment_version), 'null')
            || ': rebuild with that configuration, or start a new lineage with `tickwindows release --discard`' as failure
    from pins
    left join config on true
    where pins.profile is distinct from config.profile
       or pins.config_hash is distinct from config.config_hash
       or pins.enrichment_version is distinct from config.enrichment_version
    group by pins.batch
)
select * from other_config
union all
select * from moved
order by batch, event_id
{% endtest %}
