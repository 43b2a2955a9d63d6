{#- Published: the dry-run report as rows: the funnel from input to selection, the selection against every
    target of the profile, the quota shortfalls, and the storage/time estimates. Rows with a target
    name the gate check that judges them (`gate_check`) and start as `pending`: the verdict is the
    gate's alone, and the gate writes it into manifest_summary when it records a run (ok / fail, see
    macros/record_gate_run.sql). Rows without a target are `info`. -#}
{%- set session_gate_checks = {'pm': 'gate_03_pm_share', 'rth': 'gate_04_rth_share', 'ah': 'gate_05_ah_share'} %}
with config as (
    select * from {{ ref('int_selection_config_resolved') }}
),

coverage as (
    select * from {{ ref('int_selection_coverage_measured') }}
),

pins as (
    select * from {{ ref('int_manifest_pins_current') }}
),

pinned as (
    select
        (select count(*) from pins) as events,
        (select count(*) from pins where not still_eligible) as not_eligible,
        coalesce((select string_agg('batch ' || batch || ': ' || events, ', ' order by batch)
                  from (select batch, count(*) as events from pins group by batch)), 'none') as per_batch
),

inputs as (
    select count(*) as input_rows from {{ ref('int_events_classified') }}
),

rejected as (
    select reason, count(*) as events from {{ ref('int_events_classified') }} where reason is not null group by reason
),

enriched as (
    select
        count(*) as events,
        count(*) filter (where passes_all) as eligible,
        count(*) filter (where not f1_price) as fail_f1,
        count(*) filter (where not f2_dollar_volume) as fail_f2,
        count(*) filter (where not f3_rvol) as fail_f3,
        count(*) filter (where not f4_adv20_dollar) as fail_f4,
        count(*) filter (where not f5_history) as fail_f5,
        count(*) filter (where session = 'PM') / nullif(count(*), 0) as raw_share_pm,
        count(*) filter (where session = 'RTH') / nullif(count(*), 0) as raw_share_rth,
        count(*) filter (where session = 'AH') / nullif(count(*), 0) as raw_share_ah,
        count(*) filter (where passes_all and session = 'PM') as eligible_pm,
        count(*) filter (where passes_all and session = 'RTH') as eligible_rth,
        count(*) filter (where passes_all and session = 'AH') as eligible_ah
    from {{ ref('events_enriched') }}
),

survivors as (
    select count(*) filter (where survives_overlap) as events
    from {{ ref('int_selection_candidates_ranked') }}
),

quotas as (
    select * from {{ ref('int_selection_quotas_computed') }}
),

manifest as (
    select * from {{ ref('int_manifest_selected') }}
),

per_symbol as (
    select symbol, count(*) as events from manifest group by symbol
),

selection as (
    select
        (select count(*) from manifest) as events,
        (select count(*) from per_symbol) as symbols,
        (select coalesce(max(events), 0) from per_symbol) as max_per_symbol,
        (select coalesce(sum(events), 0) from (select events from per_symbol order by events desc, symbol limit 20))
            / nullif((select count(*) from manifest), 0) as top20_share,
        (select count(*) from manifest where session = 'PM') as pm,
        (select count(*) from manifest where session = 'RTH') as rth,
        (select count(*) from manifest where session = 'AH') as ah,
        (select count(*) from manifest where selection_stage = 'one') as stage_one,
        (select count(*) from manifest where selection_stage = 'fill') as stage_fill
),

estimates as (
    select * from {{ ref('int_estimate_totals_computed') }}
),

rows_ as (
    select 1 as ord, 'config' as section, 'profile' as metric, null::double as value, null as target, 'info' as status, null as gate_check,
           config.profile || ' (' || config.config_hash || ', ' || config.enrichment_version || ')' as detail
    from config
    union all select 2, 'funnel', 'input_rows', input_rows, null, 'info', null, 'rows read from events_path' from inputs
    union all select 3, 'funnel', 'rejected_' || reason, events, null, 'info', null, 'see events_rejected' from rejected
    union all select 4, 'funnel', 'enriched_events', events, null, 'info', null, 'distinct events in trading hours with a daily bar' from enriched
    union all select 5, 'funnel', 'failing_f1_price', fail_f1, null, 'info', null, 'close_day outside [' || config.min_price || ', ' || config.max_price || ']' from enriched, config
    union all select 6, 'funnel', 'failing_f2_dollar_volume', fail_f2, null, 'info', null, 'dollar_volume_day < ' || config.min_dollar_volume_day from enriched, config
    union all select 7, 'funnel', 'failing_f3_rvol', fail_f3, null, 'info', null, 'rvol_day < ' || config.min_rvol_day || ' or unknown' from enriched, config
    union all select 8, 'funnel', 'failing_f4_adv20_dollar', fail_f4, null, 'info', null, 'adv20_dollar < ' || config.min_adv20_dollar from enriched, config
    union all select 9, 'funnel', 'failing_f5_history', fail_f5, null, 'info', null, 'history_days < ' || config.min_history_days from enriched, config
    union all select 10, 'funnel', 'eligible_events', eligible, null, 'info', null, 'passes_all' from enriched
    union all select 11, 'funnel', 'non_overlapping_candidates', events, null, 'info', null, 'eligible after per-symbol window overlap suppression' from survivors
    union all select 12, 'selection', 'selected_events', events, coverage.min_events_scaled || '-' || coverage.max_events_scaled,
        'pending', 'gate_01_selected_events',
        'stage one ' || stage_one || ' + fill ' || stage_fill || ' (effective target ' || quotas.target_effective || ')'
        || case when coverage.coverage < 1 then '; profile band ' || config.min_events || '-' || config.max_events
                || ' scaled by coverage ' || round(coverage.coverage, 4) else '' end
        from selection, config, quotas, coverage
    union all select 13, 'selection', 'selected_symbols', symbols, '>= ' || coverage.min_symbols_scaled,
        'pending', 'gate_02_distinct_symbols',
        case when coverage.coverage < 1 then 'profile minimum ' || config.min_symbols || ' scaled by coverage '
             || round(coverage.coverage, 4) end
        from selection, config, coverage
    union all select 14, 'selection', 'max_events_per_symbol', selection.max_per_symbol, '<= ' || config.max_per_symbol,
        'pending', 'gate_06_events_per_symbol', null from selection, config
    union all select 15, 'selection', 'top20_symbols_share', top20_share, '< ' || config.top20_max_share,
        'pending', 'gate_07_top20_concentration', null from selection, config
    {% for s in ['pm', 'rth', 'ah'] %}
    union all select {{ 16 + loop.index0 }}, 'sessions', 'share_{{ s }}', selection.{{ s }} / nullif(selection.events, 0),
        config.{{ s }}_min || '-' || config.{{ s }}_max,
        'pending', '{{ session_gate_checks[s] }}',
        selection.{{ s }} || ' events; raw share ' || round(enriched.raw_share_{{ s }}, 4) || ', eligible ' || enriched.eligible_{{ s }}
        from selection, config, enriched
    union all select {{ 19 + loop.index0 }}, 'quotas', 'quota_{{ s }}', quotas.quota_{{ s }}, null, 'info', null,
        'stage one gave ' || quotas.stage_one_{{ s }} || ', non-overlapping candidates ' || quotas.survivors_{{ s }}
        from quotas
    union all select {{ 22 + loop.index0 }}, 'quotas', 'shortfall_{{ s }}', greatest(quotas.quota_{{ s }} - selection.{{ s }}, 0), null,
        'info', null, case when quotas.quota_{{ s }} <= selection.{{ s }} then 'quota met'
                      when '{{ s }}' = 'ah' then 'short: moved to PM (up to its band maximum), then to RTH'
                      when '{{ s }}' = 'pm' then 'short: moved to RTH'
                      else 'short: RTH takes what is left of the effective target (stage one gave other sessions more, or RTH candidates ran out)' end
        from quotas, selection
    {% endfor %}
    union all select 25, 'estimates', 'storage_gb_p50', storage_gb_p50, null, 'info', null, null from estimates
    union all select 26, 'estimates', 'storage_gb_p90', storage_gb_p90, '< ' || config.storage_p90_max_gb,
        'pending', 'gate_12_storage_p90', null from estimates, config
    union all select 27, 'estimates', 'download_days_p50', download_days_p50, null, 'info', null, round(requests_p50) || ' requests' from estimates
    union all select 28, 'estimates', 'download_days_p90', download_days_p90, '< ' || config.download_p90_max_days,
        'pending', 'gate_13_download_time_p90', round(requests_p90) || ' requests' from estimates, config
    union all select 30, 'batches', 'coverage', coverage.coverage, null, 'info', null,
        case when coverage.universe_symbols is null then 'dbt var universe_symbols not set: the inputs are the whole universe'
             else coverage.symbols_usable || ' symbols with usable events of a final universe of ' || coverage.universe_symbols
                  || '; count bands scaled to ' || coverage.min_events_scaled || '-' || coverage.max_events_scaled
                  || ' events, >= ' || coverage.min_symbols_scaled || ' symbols, target ' || coverage.target_events_scaled end
        from coverage
    union all select 31, 'batches', 'pinned_events', pinned.events, null, 'info', null,
        'released and kept as released (' || pinned.per_batch || ')' from pinned
    union all select 32, 'batches', 'pinned_not_eligible', pinned.not_eligible, null, 'info', null,
        'pinned events that no longer qualify (kept, flagged still_eligible = false in manifest_core)' from pinned
    union all select 33, 'batches', 'new_picks', selection.events - pinned.events, null, 'info', null,
        'not released yet: the next release pins them' from selection, pinned
    union all select 29, 'estimates', 'estimates_calibrated', case when calibrated then 1 else 0 end, null, 'info', null,
        case when calibrated then 'pilot: ' || pilot_windows || ' windows measured at ' || calibrated_at
             else 'priors (seeds/estimate_priors.csv): run tickwindows pilot to calibrate' end
        from estimates
),

final as (
    select ord as display_order, section, metric, value, target, status, gate_check, detail
    from rows_
)

select * exclude (display_order) from final
order by display_order, metric
