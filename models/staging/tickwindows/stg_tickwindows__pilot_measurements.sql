{#- The pilot's measurements (`tickwindows pilot` writes main.pilot_measurements), one row per
    (event, kind). Empty until a pilot has run (the on-run-start hook creates the table), and then the
    estimates use the committed priors. -#}
with source as (
    select * from {{ source('tickwindows', 'pilot_measurements') }}
),

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
