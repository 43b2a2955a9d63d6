{#- Every calendar date the seed covers, with whether NYSE trades and when it closes (ET).
    Weekends and seeded holidays are closed; seeded early closes end RTH at their close_et. -#}
with exceptions as (
    select date, status, close_et from {{ ref('nyse_calendar') }}
),

bounds as (
    select
        make_date(year(min(date)), 1, 1) as first_date,
        make_date(year(max(date)), 12, 31) as last_date
    from exceptions
),

days as (
    select cast(d as date) as calendar_date
    from bounds, range(bounds.first_date, bounds.last_date + interval 1 day, interval 1 day) as r(d)
)

select
    days.calendar_date,
    isodow(days.calendar_date) <= 5 and coalesce(exceptions.status, '') <> 'holiday' as is_trading_day,
    coalesce(exceptions.status = 'early_close', false) as is_early_close,
    case
        when exceptions.status = 'early_close' then coalesce(exceptions.close_et, time '13:00:00')
        else time '16:00:00'
    end as close_et
from days
left join exceptions on exceptions.date = days.calendar_date
