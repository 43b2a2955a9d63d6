{#- Every parameter of every profile row of `model` (the seed selection_profiles) is present and in
    range, so that a profile with a blank or absurd cell stops `dbt build` before any selection is
    made (dbt skips everything downstream of a seed whose test does not pass):
    - every column but `key` and `exclude` holds a number (not blank, not text, not NaN/inf);
    - `shares` lie in [0, 1]; `positive` > 0; `non_negative` >= 0; `whole` are whole numbers;
      `at_most` {column: limit} <= limit;
    - each chain of `ordered` is non-decreasing (e.g. pm_min <= pm_target <= pm_max), each pair of
      `strictly_ordered` increasing (min_price < max_price);
    - each of `rules` ({rule: a SQL condition over the parameters, columns: the ones it reads}) holds.
    The failing rows name the profile, the column and the value. When there are any, the test raises
    them as its error message, so the profile and column are named in dbt's own output (a failing
    test's output would only count rows). -#}
{% test profile_parameters_valid(model, key, exclude=[], shares=[], positive=[], non_negative=[], whole=[],
                                 at_most={}, ordered=[], strictly_ordered=[], rules=[]) %}
{%- set parameters = [] -%}
{%- if execute -%}
    {%- for col in adapter.get_columns_in_relation(model) -%}
        {%- if col.name | lower != key | lower and col.name | lower not in (exclude | map('lower') | list) -%}
            {%- do parameters.append(col.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
with profiles as (
    select * from {{ model }}
),

-- Every parameter as a number (NULL when blank or not a number), whatever type the seed inferred.
numbers as (
    select
        {{ key }} as profile
        {%- for p in parameters %},
        try_cast(cast({{ p }} as varchar) as double) as {{ p }}
        {%- endfor %}
    from profiles
),

long as (
    {%- for p in parameters %}
    select
        profiles.{{ key }} as profile,
        '{{ p }}' as parameter,
        {{ loop.index }} as position,
        cast(profiles.{{ p }} as varchar) as raw,
        try_cast(cast(profiles.{{ p }} as varchar) as double) as value
    from profiles
    {{ 'union all' if not loop.last }}
    {%- else %}
    select cast(null as varchar) as profile, cast(null as varchar) as parameter, 0 as position,
           cast(null as varchar) as raw, cast(null as double) as value
    where false
    {%- endfor %}
),

problems as (
    select profile, parameter, position,
           parameter || case when raw is null or trim(raw) = '' then ' is blank' else ' is not a number (' || raw || ')' end
               as problem
    from long
    where value is null or isnan(value) or isinf(value)
    {%- for columns, condition, text in [
        (shares, 'value < 0 or value > 1', 'outside [0, 1] (a share)'),
        (positive, 'value <= 0', 'must be > 0'),
        (non_negative, 'value < 0', 'must be >= 0'),
        (whole, 'value <> round(value)', 'must be a whole number')] if columns | length > 0 %}
    union all
    select profile, parameter, position, parameter || ' is ' || raw || ': {{ text }}'
    from long
    where parameter in ({% for c in columns %}'{{ c | lower }}'{{ ', ' if not loop.last }}{% endfor %})
      and ({{ condition }})
    {%- endfor %}
    {%- for col, limit in at_most.items() %}
    union all
    select profile, parameter, position, parameter || ' is ' || raw || ': must be <= {{ limit }}'
    from long
    where parameter = '{{ col | lower }}' and value > {{ limit }}
    {%- endfor %}
    {%- for chain in ordered %}
    {%- for i in range(chain | length - 1) %}
    union all
    select profile, '{{ chain[i] }}', 1000, '{{ chain[i] }} ' || {{ chain[i] }} || ' > {{ chain[i + 1] }} ' || {{ chain[i + 1] }}
        || ' (needs {{ chain | join(" <= ") }})'
    from numbers
    where {{ chain[i] }} > {{ chain[i + 1] }}
    {%- endfor %}
    {%- endfor %}
    {%- for pair in strictly_ordered %}
    union all
    select profile, '{{ pair[0] }}', 2000, '{{ pair[0] }} ' || {{ pair[0] }} || ' >= {{ pair[1] }} ' || {{ pair[1] }}
        || ' (needs {{ pair[0] }} < {{ pair[1] }})'
    from numbers
    where {{ pair[0] }} >= {{ pair[1] }}
    {%- endfor %}
    {%- for r in rules %}
    union all
    select profile, '{{ r.columns | join(", ") }}', 3000,
        {%- set shown = [] -%}
        {%- for c in r.columns %}{% do shown.append("'" ~ c ~ " ' || coalesce(cast(" ~ c ~ " as varchar), 'blank')") %}{% endfor %}
        {{ shown | join(" || ', ' || ") }} || ' (needs {{ r.rule | replace("'", "''") }})'
    from numbers
    where not coalesce({{ r.rule }}, true)
    {%- endfor %}
),

listed as (
    select
        string_agg('profile ' || coalesce(profile, '<blank>') || ': ' || problem, '; '
                   order by profile, position, parameter) as message,
        count(*) as n
    from problems
)

-- error() in the filter, not the select list: a projection nobody reads may be optimised away.
select problems.profile, problems.parameter, problems.problem
from problems
cross join listed
where error('seeds/selection_profiles.csv: ' || listed.n || ' invalid parameter(s), nothing is selected until they are fixed: '
            || listed.message) is null
{% endtest %}
