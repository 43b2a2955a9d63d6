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
    from profile
)

select
    parameters.*,
    md5(cast(to_json(parameters) as varchar)) as config_hash
from parameters
