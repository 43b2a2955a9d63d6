{#- The one active configuration: the profile row, the enrichment version and the selection
    algorithm version, hashed into `config_hash` (any threshold or parameter change moves it). -#}
{{ assert_profile_exists() }}

with profile as (
    select * exclude (description)
    from {{ ref('selection_profiles') }}
    where profile = '{{ var("profile") }}'
),

parameters as (
    select
        profile.*,
        '{{ var("enrichment_version") }}' as enrichment_version,
        'one-plus-fill-v1' as selection_algorithm
        {%- if var('universe_symbols', none) is not none and (var('universe_symbols') | string | trim) != '' %},
        -- Only when set, so that a build without the var keeps the config_hash it always had.
        cast({{ var('universe_symbols') | int }} as integer) as universe_symbols
        {%- endif %}
    from profile
)

select
    parameters.*,
    md5(cast(to_json(parameters) as varchar)) as config_hash
from parameters
