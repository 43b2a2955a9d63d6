{{ config(materialized='ephemeral') }}
{#- Every downloaded trade, read in place from {ticks_dir}/trades/symbol=S/date=D/{event_id}.parquet. -#}
-- depends_on: {{ source('ticks', 'trades') }}
{{ tick_files_relation('trades', [
    ('id', 'trade_id', 'varchar'),
    ('price', 'price', 'double'),
    ('size', 'size', 'double'),
    ('exchange', 'exchange', 'integer'),
    ('tape', 'tape', 'integer'),
    ('conditions', 'conditions', 'integer[]'),
    ('correction', 'correction', 'integer'),
    ('trf_id', 'trf_id', 'integer'),
]) }}
