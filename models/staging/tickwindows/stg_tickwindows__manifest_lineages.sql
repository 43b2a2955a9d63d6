{#- Manifest lineages (`tickwindows release` writes main.manifest_lineages): lineage 1 starts with the
    first release; `tickwindows release --discard` starts the next one (recorded, with its reason), after
    which the pins of earlier lineages no longer bind the selection. The table always exists (created empty
    by the on-run-start hook), so this view reads the real table at every query. -#}
with source as (
    select * from {{ source('tickwindows', 'manifest_lineages') }}
),

final as (
    select
        lineage,
        started_at,
        reason
    from source
)

select * from final
