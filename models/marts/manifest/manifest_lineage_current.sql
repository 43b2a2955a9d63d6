{{ config(materialized='view') }}
{#- Published: the current lineage of releases in one row (logic: int_manifest_lineage_current), read by
    the gate (checks 09 and 15) and by the CLI (`release`, `download`, `export`). A view: always as the
    tables stand now. -#}
with source_model as (
    select * from {{ ref('int_manifest_lineage_current') }}
),

final as (
    select
        lineage
    from source_model
)

select * from final
