{#- Manifest lineages (`tickwindows release` writes main.manifest_lineages): lineage 1 starts with the
    first release; `tickwindows release --discard` starts the next one (recorded, with its reason), after
    which the pins of earlier lineages no longer bind the selection. Empty until the first release. -#}
-- depends_on: {{ source('tickwindows', 'manifest_lineages') }}
with source as (
    select * from {{ source_or_empty('tickwindows', 'manifest_lineages', [
        ('lineage', 'integer'), ('started_at', 'timestamp'), ('reason', 'varchar')]) }}
),

final as (
    select
        lineage,
        started_at,
        reason
    from source
)

select * from final
