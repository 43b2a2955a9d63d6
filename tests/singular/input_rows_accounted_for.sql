{#- Nothing is dropped silently: every input row is either kept or rejected with a reason.
    Events: rows read = events_enriched + events_rejected. Daily bars: rows read = daily_metrics +
    daily_bars_rejected. Returns one row per side that does not add up. -#}
with events as (
    select
        'events' as input,
        (select count(*) from {{ ref('stg_fase25__events') }}) as rows_read,
        (select count(*) from {{ ref('events_enriched') }}) as rows_kept,
        (select count(*) from {{ ref('events_rejected') }}) as rows_rejected
),

daily_bars as (
    select
        'daily_bars' as input,
        (select count(*) from {{ ref('stg_fase25__daily_bars') }}) as rows_read,
        (select count(*) from {{ ref('daily_metrics') }}) as rows_kept,
        (select count(*) from {{ ref('daily_bars_rejected') }}) as rows_rejected
)

select *
from (select * from events union all select * from daily_bars)
where rows_read <> rows_kept + rows_rejected
