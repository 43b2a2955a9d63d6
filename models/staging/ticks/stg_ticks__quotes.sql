{{ config(materialized='ephemeral') }}
{#- Every downloaded NBBO quote, read in place from {ticks_dir}/quotes/symbol=S/date=D/{event_id}.parquet. -#}
-- depends_on: {{ source('ticks', 'quotes') }}
{{ tick_files_relation('quotes', [
    ('bid_price', 'bid_price', 'double'),
    ('bid_size', 'bid_size', 'double'),
    ('bid_exchange', 'bid_exchange', 'integer'),
    ('ask_price', 'ask_price', 'double'),
    ('ask_size', 'ask_size', 'double'),
    ('ask_exchange', 'ask_exchange', 'integer'),
    ('tape', 'tape', 'integer'),
    ('conditions', 'conditions', 'integer[]'),
    ('indicators', 'indicators', 'integer[]'),
]) }}
