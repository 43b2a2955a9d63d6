{#- Input introspection at run time. The contract lets FASE 2.5 files vary (timestamp types,
    `date` vs epoch-ms `t`, optional vwap/transactions), so staging asks the Parquet metadata
    which variant it has, and fails with the file and column named when a file breaks the contract. -#}

{% macro daily_bars_glob() -%}
    {{ var('daily_bars_dir') | replace('\\', '/') }}/*.parquet
{%- endmacro %}

{#- {file: {lower-case column name: type}} for the files matching `glob`, from the Parquet
    metadata only (no data is read). Types: TIMESTAMP / TIMESTAMP WITH TIME ZONE / DATE from the
    logical type, else the physical type (INT64, DOUBLE, BYTE_ARRAY, ...). -#}
{% macro parquet_file_columns(glob, what, var_name) %}
    {% set sql %}
        select
            file_name,
            string_agg(lower(name) || ':' || case
                when coalesce(logical_type, '') like 'TimestampType(isAdjustedToUTC=1%' then 'TIMESTAMP WITH TIME ZONE'
                when coalesce(logical_type, '') like 'TimestampType%' or coalesce(converted_type, '') like 'TIMESTAMP%' then 'TIMESTAMP'
                when coalesce(converted_type, '') = 'DATE' then 'DATE'
                else coalesce(type, 'GROUP') end, '|' order by name) as columns
        from parquet_schema('{{ glob }}')
        where num_children is null or num_children = 0
        group by file_name order by file_name
    {% endset %}
    {% set files = {} %}
    {% if execute %}
        {% set count_sql %}select count(*) from glob('{{ glob }}'){% endset %}
        {% if run_query(count_sql).columns[0].values()[0] == 0 %}
            {{ exceptions.raise_compiler_error(
                "No " ~ what ~ " files match '" ~ glob ~ "' (dbt var " ~ var_name ~ "). "
                ~ "Generate demo inputs with `tickwindows demo-data`, or point the project at FASE 2.5 output: "
                ~ "dbt build --vars '{" ~ var_name ~ ": ...}'") }}
        {% endif %}
        {% for row in run_query(sql).rows %}
            {% set cols = {} %}
            {% for pair in row[1].split('|') %}
                {% set name, type = pair.split(':', 1) %}
                {% do cols.update({name: type}) %}
            {% endfor %}
            {% do files.update({row[0]: cols}) %}
        {% endfor %}
    {% endif %}
    {{ return(files) }}
{% endmacro %}

{#- {column: type} over all files: the union of the columns any file has (TIMESTAMP wins). -#}
{% macro merged_column_types(files) %}
    {% set types = {} %}
    {% for cols in files.values() %}
        {% for name, type in cols.items() %}
            {% if name not in types or type.startswith('TIMESTAMP') %}{% do types.update({name: type}) %}{% endif %}
        {% endfor %}
    {% endfor %}
    {{ return(types) }}
{% endmacro %}

{#- Raise a clear error naming the first file that lacks a required column (or every one of a set of alternatives). -#}
{% macro require_columns(files, required, alternatives, what, var_name) %}
    {% for file, cols in files.items() %}
        {% for col in required %}
            {% if col not in cols %}
                {{ exceptions.raise_compiler_error(
                    what ~ " file '" ~ file ~ "' has no column '" ~ col ~ "' (dbt var " ~ var_name
                    ~ "; columns found: " ~ (cols.keys() | sort | join(', ')) ~ "). See docs/CONTRACT.md, Inputs.") }}
            {% endif %}
        {% endfor %}
        {% for group in alternatives %}
            {% set found = [] %}
            {% for col in group %}{% if col in cols %}{% do found.append(col) %}{% endif %}{% endfor %}
            {% if found | length == 0 %}
                {{ exceptions.raise_compiler_error(
                    what ~ " file '" ~ file ~ "' needs one of the columns " ~ (group | join(' / '))
                    ~ " (dbt var " ~ var_name ~ "; columns found: " ~ (cols.keys() | sort | join(', ')) ~ ").") }}
            {% endif %}
        {% endfor %}
    {% endfor %}
{% endmacro %}

{#- {column: duckdb type} of the union of the files (union_by_name), for type-dependent parsing. -#}
{% macro union_column_types(glob) %}
    {% set types = {} %}
    {% if execute %}
        {% set sql %}describe select * from read_parquet('{{ glob }}', union_by_name = true){% endset %}
        {% for row in run_query(sql).rows %}
            {% do types.update({row[0] | lower: row[1] | upper}) %}
        {% endfor %}
    {% endif %}
    {{ return(types) }}
{% endmacro %}

{#- UTC naive TIMESTAMP from the events' `timestamp` column, whatever its stored type. Integers are
    epoch values whose unit is detected per value from the magnitude (ns ~1e18, us ~1e15, ms ~1e12, s ~1e9). -#}
{% macro event_timestamp_to_utc(column, type) -%}
    {%- set t = (type or 'TIMESTAMP') | upper -%}
    {%- if 'WITH TIME ZONE' in t -%}
        timezone('UTC', {{ column }})
    {%- elif t.startswith('TIMESTAMP') or t == 'DATE' -%}
        cast({{ column }} as timestamp)
    {%- elif t in ('BIGINT', 'INTEGER', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'DOUBLE', 'FLOAT', 'DECIMAL') or t.startswith('DECIMAL') -%}
        case
            when abs({{ column }}) >= 1e17 then make_timestamp(cast({{ column }} // 1000 as bigint))
            when abs({{ column }}) >= 1e14 then make_timestamp(cast({{ column }} as bigint))
            when abs({{ column }}) >= 1e11 then make_timestamp(cast({{ column }} as bigint) * 1000)
            when abs({{ column }}) >= 1e8 then make_timestamp(cast({{ column }} as bigint) * 1000000)
        end
    {%- else -%}
        try_cast(try_cast({{ column }} as timestamptz) at time zone 'UTC' as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- The date of an epoch-ms daily-bar stamp. Polygon stamps ET midnight (04:00 or 05:00 UTC),
    other providers UTC midnight: both fall on the bar's date in UTC, so no time zone is needed. -#}
{% macro epoch_ms_to_bar_date(col) -%}
    cast(make_timestamp(cast({{ col }} as bigint) * 1000) as date)
{%- endmacro %}

{#- The first present of `candidates` (alternative column names), cast; NULL when none is present. -#}
{% macro first_present(types, candidates, cast_to='double') -%}
    {%- set present = [] -%}
    {%- for c in candidates if c in types %}{% do present.append('try_cast("' ~ c ~ '" as ' ~ cast_to ~ ')') %}{% endfor -%}
    {%- if present | length == 0 %}cast(null as {{ cast_to }}){% elif present | length == 1 %}{{ present[0] }}{% else %}coalesce({{ present | join(', ') }}){% endif -%}
{%- endmacro %}
