{#- A view (the staging default): its readers, int_daily_bars_classified (a table), the accounting
    test and gate check 10, each scan the Parquet files, which costs less than writing
    1.6M rows into the warehouse first (make bench). -#}
{#- Daily bars with the symbol taken from the file name and the contract's column variants folded:
    `date` (DATE) or epoch-ms `timestamp` / `t` (Polygon aggregates: ET midnight of the day, whose
    UTC date is the bar's date too),
    `vwap` or `vw`, `transactions` or `n`. -#}
{%- set glob = daily_bars_glob() -%}
{%- set types = parquet_input_columns(glob, 'Daily bars', 'daily_bars_dir', ['close', 'volume'], [['date', 'timestamp', 't']]) -%}

{%- set date_parts = [] -%}
{%- if 'date' in types %}{% do date_parts.append('try_cast("date" as date)') %}{% endif -%}
{%- for col in ['timestamp', 't'] if col in types -%}
    {%- if types[col].startswith('TIMESTAMP') -%}
        {%- do date_parts.append('cast("' ~ col ~ '" as date)') -%}
    {%- else -%}
        {%- do date_parts.append(epoch_ms_to_bar_date('"' ~ col ~ '"')) -%}
    {%- endif -%}
{%- endfor -%}

with source as (
    select * from {{ source('fase25', 'daily_bars') }}
)

select
    upper(parse_filename(filename, true)) as symbol,
    coalesce({{ date_parts | join(', ') }}) as bar_date,
    {{ first_present(types, ['open']) }} as open_day,
    {{ first_present(types, ['high']) }} as high_day,
    {{ first_present(types, ['low']) }} as low_day,
    try_cast("close" as double) as close_day,
    try_cast("volume" as double) as volume_day,
    {{ first_present(types, ['vwap', 'vw']) }} as vwap_day,
    {{ first_present(types, ['transactions', 'n']) }} as transactions_day,
    filename as source_file,
    file_row_number as source_row
from source
