{#- A relation over the downloaded tick files of one kind ({ticks_dir}/{kind}/symbol=S/date=D/{event_id}.parquet,
    the source `ticks`.<kind>), timestamps as TIMESTAMPTZ_NS (nanoseconds, as the files store them),
    with event_id, symbol and trading_date from the paths and `columns` = [(source column, name, type), ...].
    Whether files exist is decided when the SQL is compiled: DuckDB's read_parquet fails on a glob that
    matches no file, so before the first download this is an empty relation with the same columns. The
    staging models that call it are ephemeral, so the check runs again for each model that reads them, in
    the invocation that builds it: a model built after a download never sees the empty variant.
    A view built before any download (the analyst views `trades`, `quotes`) keeps the empty variant: it
    fails when queried once files of its kind exist, naming the fix, rather than reading as empty. -#}
{% macro tick_files_relation(kind, columns) %}
{%- set pattern = tick_files_glob(kind) -%}
{%- set has_files = false -%}
{%- if execute -%}
    {%- set has_files = run_query("select count(*) from glob('" ~ pattern ~ "')").rows[0][0] > 0 -%}
{%- endif %}
{%- set common = [('event_id', 'varchar'), ('symbol', 'varchar'), ('trading_date', 'date'),
                  ('sip_timestamp', 'timestamptz_ns'), ('participant_timestamp', 'timestamptz_ns'),
                  ('trf_timestamp', 'timestamptz_ns'), ('sequence_number', 'bigint')] -%}
{% if has_files -%}
with files as (
    select * from {{ source('ticks', kind) }}
),

final as (
    select
        regexp_extract(filename, '([0-9a-f]+)\.parquet$', 1) as event_id,
        symbol,
        cast("date" as date) as trading_date,
        cast(sip_timestamp as timestamptz_ns) as sip_timestamp,
        cast(participant_timestamp as timestamptz_ns) as participant_timestamp,
        cast(trf_timestamp as timestamptz_ns) as trf_timestamp,
        sequence_number,
        {%- for source, name, type in columns %}
        {{ source }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from files
)
{%- else -%}
with final as (
    select
        {%- for name, type in common %}
        cast(null as {{ type }}) as {{ name }},
        {%- endfor %}
        {%- for source, name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    -- stale once files exist: fail loudly instead of reading as empty
    where case
        when exists (select 1 from glob('{{ pattern }}'))
            then error('{{ kind }} files now exist under {{ var("ticks_dir") }} but this relation was built before any '
                       || 'download, as an empty one: rebuild it (dbt build -s trades quotes for the analyst views)')
        else false
    end
)
{%- endif %}

select * from final
{% endmacro %}

{#- The glob of the tick files of one kind: the same files the source `ticks`.<kind> reads. -#}
{% macro tick_files_glob(kind) -%}
    {{ var('ticks_dir') }}/{{ kind }}/**/*.parquet
{%- endmacro %}
