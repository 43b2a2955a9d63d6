{#- The active selection profile (dbt var `profile`) must be a row of seeds/selection_profiles.csv;
    an unknown name is an error naming the known ones, never an empty manifest. -#}
{% macro assert_profile_exists() %}
    {% if execute %}
        {% set sql %}select string_agg(profile, ',' order by profile) from {{ ref('selection_profiles') }}{% endset %}
        {% set known = (run_query(sql).columns[0].values()[0] or '').split(',') %}
        {% if var('profile') not in known %}
            {{ exceptions.raise_compiler_error(
                "Unknown selection profile '" ~ var('profile') ~ "' (dbt var profile). Known profiles in "
                ~ "seeds/selection_profiles.csv: " ~ (known | join(', '))) }}
        {% endif %}
    {% endif %}
{% endmacro %}
