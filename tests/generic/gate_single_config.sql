{#- Gate: the manifest carries exactly one profile, one config_hash and one enrichment_version,
    and they are the active profile's (selection_config). Fails closed when selection_config lacks
    them (NULL) or does not hold exactly one row. -#}
{% test gate_single_config(model) %}
{{ gate_after_marts() }}
with seen as (
    select
        count(distinct profile) as profiles,
        count(distinct config_hash) as hashes,
        count(distinct enrichment_version) as versions,
        min(profile) as profile,
        min(config_hash) as config_hash,
        min(enrichment_version) as enrichment_version,
        count(*) filter (where config_hash is null or profile is null or enrichment_version is null) as missing
    from {{ model }}
),
config as (select * from {{ gate_config() }}),
unreadable as ({{ gate_thresholds_unreadable(['profile', 'config_hash', 'enrichment_version']) }}),
judged as (
    select
        'manifest has ' || hashes || ' config_hash, ' || versions || ' enrichment_version, ' || profiles || ' profile value(s)'
            || ', ' || missing || ' rows without them; active: ' || coalesce(config.profile, '<null>') || ' '
            || coalesce(config.config_hash, '<null>') || ' ' || coalesce(config.enrichment_version, '<null>') as failure
    from seen, config
    where hashes <> 1 or versions <> 1 or profiles <> 1 or missing > 0
       or seen.config_hash is distinct from config.config_hash
       or seen.profile is distinct from config.profile
       or seen.enrichment_version is distinct from config.enrichment_version
)
select 0 as gate_order, failure from unreadable
union all by name
select 1 as gate_order, * from judged
order by gate_order
{% endtest %}
