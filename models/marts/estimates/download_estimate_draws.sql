{#- Published: the 400 Monte Carlo draws of the whole download (logic: int_estimate_draws_simulated). -#}
with source_model as (
    select * from {{ ref('int_estimate_draws_simulated') }}
),

final as (
    select
        draw,
        storage_gb,
        requests,
        download_days
    from source_model
)

select * from final
order by draw
