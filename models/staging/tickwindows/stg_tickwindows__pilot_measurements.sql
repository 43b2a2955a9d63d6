{#- The pilot's measurements (`tickwindows pilot` writes main.pilot_measurements), one row per
    (event, kind). Until a pilot has run the table does not exist: then this is an empty relation with
    the same columns, and the estimates fall back to the committed priors. -#}
-- depends_on: {{ source('tickwindows', 'pilot_measurements') }}
with source as (
    select * from {{ source_or_empty('tickwindows', 'pilot_measurements', [
        ('event_id', 'varchar'), ('symbol', 'varchar'), ('session', 'varchar'), ('kind', 'varchar'),
        ('rows', 'bigint'), ('bytes', 'bigint'), ('pages', 'integer'), ('seconds', 'double'),
        ('workers', 'integer'), ('base_url', 'varchar'), ('measured_at', 'timestamp')]) }}
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
