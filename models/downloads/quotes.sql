{{ config(materialized='view') }}
{#- Every downloaded NBBO quote, read in place from {ticks_dir}/quotes/symbol=S/date=D/{event_id}.parquet.
    The view is bound to the files present when it was built: until the first download it is an
    empty relation with the same columns (rebuild it after downloading: dbt run -s downloads). -#}
{%- set pattern = var('ticks_dir') ~ '/quotes/**/*.parquet' -%}
{%- set has_files = false -%}
{%- if execute -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_files = found.rows[0][0] > 0 -%}
{%- endif %}

{% if has_files -%}
with files as (
    select *
    from read_parquet(
        '{{ pattern }}',
        hive_partitioning = true,
        hive_types = {'symbol': 'varchar', 'date': 'date'},
        filename = true
    )
),

final as (
    select
        regexp_extract(filename, '([0-9a-f]+)\.parquet$', 1) as event_id,
        symbol,
        "date" as trading_date,
        sip_timestamp,
        participant_timestamp,
        trf_timestamp,
        sequence_number,
        bid_price,
        bid_size,
        bid_exchange,
        ask_price,
        ask_size,
        ask_exchange,
        tape,
        conditions,
        indicators
    from files
)
{%- else -%}
with final as (
    select
        cast(null as varchar) as event_id,
        cast(null as varchar) as symbol,
        cast(null as date) as trading_date,
        cast(null as timestamptz) as sip_timestamp,
        cast(null as timestamptz) as participant_timestamp,
        cast(null as timestamptz) as trf_timestamp,
        cast(null as bigint) as sequence_number,
        cast(null as double) as bid_price,
        cast(null as double) as bid_size,
        cast(null as integer) as bid_exchange,
        cast(null as double) as ask_price,
        cast(null as double) as ask_size,
        cast(null as integer) as ask_exchange,
        cast(null as integer) as tape,
        cast(null as integer[]) as conditions,
        cast(null as integer[]) as indicators
    where false
)
{%- endif %}

select * from final
