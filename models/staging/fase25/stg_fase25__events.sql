{#- A view (the staging default): its readers, int_events_classified (a table) and the accounting
    test, each scan the Parquet files, which costs less than writing every event row
    into the warehouse first (make bench). -#}
{#- One row per input event row, typed and normalised; nothing is dropped here (rejections are
    decided and counted downstream). The timestamp's stored type is read from the Parquet metadata. -#}
{%- do parquet_input_columns(var('events_path'), 'Events', 'events_path', ['symbol', 'timestamp', 'event_type', 'score'], []) -%}
{%- set types = union_column_types(var('events_path')) -%}

with source as (
    select * from {{ source('fase25', 'events') }}
),

typed as (
    select
        upper(trim(cast(symbol as varchar))) as symbol,
        cast(symbol as varchar) as symbol_raw,
        {{ event_timestamp_to_utc('"timestamp"', types.get('timestamp')) }} as event_ts_utc,
        nullif(trim(cast(event_type as varchar)), '') as event_type,
        try_cast(score as double) as score,
        {% if 'price' in types %}try_cast(price as double){% else %}cast(null as double){% endif %} as event_price,
        {% if 'volume' in types %}try_cast(volume as double){% else %}cast(null as double){% endif %} as event_volume,
        {% if 'session' in types %}cast(session as varchar){% else %}cast(null as varchar){% endif %} as legacy_session,
        filename as source_file,
        file_row_number as source_row
    from source
)

select
    *,
    -- Stable identity of an event: the same (symbol, instant, type) always gets the same id.
    {{ event_id('symbol', 'event_ts_utc', 'event_type') }} as event_id
from typed
