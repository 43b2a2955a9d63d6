{{ config(materialized='view') }}
{#- The current lineage of releases, in one row: the latest lineage started (by `tickwindows release`, or
    `release --discard`), 0 before the first release. The one definition of "current lineage": the
    selection (int_manifest_pins_current), the gate (checks 09 and 15) and the CLI (python/tickwindows/
    batches.py, through the published view manifest_lineage_current) all read it here. A view, so it
    always tells the lineage as the tables stand now. -#}
with batches as (
    select * from {{ ref('stg_tickwindows__manifest_batches') }}
),

lineages as (
    select * from {{ ref('stg_tickwindows__manifest_lineages') }}
),

final as (
    select
        cast(greatest(
            coalesce((select max(lineage) from lineages), 0),
            coalesce((select max(lineage) from batches), 0)
        ) as integer) as lineage
)

select * from final
