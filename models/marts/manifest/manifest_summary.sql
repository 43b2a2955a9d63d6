{#- Published: the dry-run report as rows (logic: int_manifest_summary_assembled). `status` of the rows a gate check judges is written by the gate itself (macros/record_gate_run.sql) from the verdict it records in gate_runs. -#}
with source_model as (
    select * from {{ ref('int_manifest_summary_assembled') }}
),

final as (
    select
        display_order,
        section,
        metric,
        value,
        target,
        status,
        gate_check,
        detail
    from source_model
)

select * exclude (display_order) from final
order by display_order, metric
