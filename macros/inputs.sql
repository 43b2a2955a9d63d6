{#- Input introspection at run time. The contract lets FASE 2.5 files vary (timestamp types,
    `date` vs epoch-ms `t`, optional vwap/transactions), so staging asks the Parquet metadata
    which variant it has, and fails with the file and column named when a file breaks the contract. -#}

{% macro daily_bars_glob() -%}
    {{ var('daily_bars_dir') | replace('\\', '/') }}/*.parquet
{%- endmacro %}

{#- The columns of the files matching `glob`, checked against the contract, from the Parquet
    metadata only (no data is read): fails with the first file (in name order) that lacks a column of
    `required` or every column of a group of `alternatives`, naming the file, the column(s), the dbt var
    and the columns it has. Returns {lower-case column name: type} over all files (the union; a
    TIMESTAMP type wins over another file's): TIMESTAMP / TIMESTAMP WITH TIME ZONE / DATE from the
    logical type, else the physical type (INT64, DOUBLE, BYTE_ARRAY, ...). One query does the per-file
    work in SQL (2,200 daily files: ~0.1 s), not a template loop over every file's columns. -#}
{% macro parquet_input_columns(glob, what, var_name, required, alternatives) %}
    {% set types = {} %}
    {% if execute %}
        {% set count_sql %}select count(*) from glob('{{ glob }}'){% endset %}
        {% if run_query(count_sql).columns[0].values()[0] == 0 %}
            {{ exceptions.raise_compiler_error(
                "No " ~ (what | lower) ~ " files match '" ~ glob ~ "' (dbt var " ~ var_name ~ "). "
                ~ "Generate demo inputs with `tickwindows demo-data`, or point the project at FASE 2.5 output: "
                ~ "dbt build --vars '{" ~ var_name ~ ": ...}'") }}
        {% endif %}
        {% set sql %}
            with cols as (
                select
                    file_name,
                    lower(name) as name,
                    case
                        when coalesce(logical_type, '') like 'TimestampType(isAdjustedToUTC=1%' then 'TIMESTAMP WITH TIME ZONE'
                        when coalesce(logical_type, '') like 'TimestampType%' or coalesce(converted_type, '') like 'TIMESTAMP%' then 'TIMESTAMP'
                        when coalesce(converted_type, '') = 'DATE' then 'DATE'
                        else coalesce(type, 'GROUP')
                    end as type
                from parquet_schema('{{ glob }}')
                where num_children is null or num_children = 0
            ),
            files as (
                select file_name, string_agg(name, ', ' order by name) as found from cols group by file_name
            ),
            problems as (
                {%- for col in required %}
                select files.file_name, {{ loop.index0 }} as ord, 'column' as kind, '{{ col }}' as missing, files.found
                from files
                where not exists (select 1 from cols where cols.file_name = files.file_name and cols.name = '{{ col }}')
                union all
                {%- endfor %}
                {%- for group in alternatives %}
                select files.file_name, {{ required | length + loop.index0 }}, 'one of', '{{ group | join(' / ') }}', files.found
                from files
                where not exists (select 1 from cols where cols.file_name = files.file_name
                                  and cols.name in ('{{ group | join("', '") }}'))
                union all
                {%- endfor %}
                select null, null, null, null, null where false
            ),
            first_problem as (
                select 'problem' as row_kind, file_name, kind, missing, found from problems order by file_name, ord limit 1
            )
            select * from first_problem
            union all
            select 'type', null, name,
                   coalesce(max_by(type, file_name) filter (where type like 'TIMESTAMP%'), min_by(type, file_name)), null
            from cols
            group by name
        {% endset %}
        {% for row_kind, file, kind, value, found in run_query(sql).rows %}
            {% if row_kind == 'problem' and kind == 'column' %}
                {{ exceptions.raise_compiler_error(
                    what ~ " file '" ~ file ~ "' has no column '" ~ value ~ "' (dbt var " ~ var_name
                    ~ "; columns found: " ~ found ~ "). See docs/CONTRACT.md, Inputs.") }}
            {% elif row_kind == 'problem' %}
                {{ exceptions.raise_compiler_error(
                    what ~ " file '" ~ file ~ "' needs one of the columns " ~ value
                    ~ " (dbt var " ~ var_name ~ "; columns found: " ~ found ~ ").") }}
            {% else %}
                {% do types.update({kind: value}) %}
            {% endif %}
        {% endfor %}
    {% endif %}
    {{ return(types) }}
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
