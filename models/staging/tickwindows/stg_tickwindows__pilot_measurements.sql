{#- The pilot's measurements (`tickwindows pilot` writes main.pilot_measurements), one row per
    (event, kind). Until a pilot has run the table does not exist: then this is an empty relation with
    the same columns, and the estimates fall back to the committed priors. -#}
-- depends_on: {{ source('tickwindows', 'pilot_measurements') }}
{%- set pilot = none -%}
{%- if execute -%}
    {%- set src = source('tickwindows', 'pilot_measurements') -%}
    {%- set pilot = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) -%}
{%- endif %}

{% if pilot is not none -%}
with source as (
    select * from {{ source('tickwindows', 'pilot_measurements') }}
),
{%- else -%}
with source as (
    select
        cast(null as varchar) as event_id,
        cast(null as varchar) as symbol,
        cast(null as varchar) as session,
        cast(null as varchar) as kind,
        cast(null as bigint) as rows,
        cast(null as bigint) as bytes,
        cast(null as integer) as pages,
        cast(null as double) as seconds,
        cast(null as integer) as workers,
        cast(null as varchar) as base_url,
        cast(null as timestamp) as measured_at
    where false
),
{%- endif %}

final as (
    select
        event_id,
        symbol,
        session,
        kind,
        rows,
        bytes,
        pages,
        seconds,
        workers,
        base_url,
        measured_at
    from source
)

select * from final
