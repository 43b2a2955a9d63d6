{#- Gate: the estimate `column_name` of `model` (one row) is below profile.<max_param>, and it is an
    estimate of the whole of `manifest` (manifest_core) as it is now: the estimates must cover every
    selected event with a usable prediction (`events` and `events_covered` equal the manifest's rows),
    else an event missing from the sums would make the total look smaller than it is. Fails closed
    when the threshold is NULL, the estimate is missing, or the coverage is short. -#}
{% test gate_estimate_below(model, column_name, max_param, unit, manifest) %}
{{ gate_after_marts() }}
with estimate as (select {{ column_name }} as value, calibrated, events, events_covered from {{ model }}),
manifest as (select count(*) as events from {{ manifest }}),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable([max_param]) }}),
short as (
    select
        'cannot judge {{ column_name }}: the estimates cover ' || coalesce(cast(estimate.events_covered as varchar), 'no')
            || ' of the ' || manifest.events || ' events of manifest_core ('
            || coalesce(cast(manifest.events - estimate.events_covered as varchar), 'all') || ' without a usable prediction'
            || case when estimate.events is distinct from manifest.events
                    then '; estimated for ' || coalesce(cast(estimate.events as varchar), 'no') || ' events' else '' end
            || ')' as failure
    from manifest
    left join estimate on true
    where estimate.events_covered is distinct from manifest.events
       or estimate.events is distinct from manifest.events
),
judged as (
    select
        estimate.value,
        '{{ column_name }} ' || coalesce({{ fmt('estimate.value', 2) }}, 'unknown') || ' {{ unit }} >= '
            || config.{{ max_param }} || ' {{ unit }} ('
            || case when estimate.calibrated then 'calibrated by a pilot' else 'priors' end || ')' as failure
    from config
    left join estimate on true
    where estimate.value is null or estimate.value >= config.{{ max_param }}
)
select 0 as gate_order, failure from unreadable
union all by name
select 0 as gate_order, failure from short
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
