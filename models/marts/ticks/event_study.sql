{#- Published: the event study, pre vs post event medians of every window_liquidity measure: per session x event_type (and per session over all event types, event_type
    '(all types)') and per measure: how many windows have both a pre and a post value, the medians of
    pre, post and post - pre, and a distribution-free 95 % interval for the median of post - pre.

    The interval is rank-based (the sign-test interval for a median): with the n differences sorted,
    [d_(j), d_(n+1-j)] where j is the largest rank with P(B <= j - 1) <= 2.5 % for B ~ Binomial(n, 1/2).
    Its coverage is at least 95 % for any continuous distribution, exact from the binomial (no normal
    approximation, no random draws: the same windows always give the same interval). With fewer than 6
    windows no such j exists and the interval is NULL. -#}
with paired as (
    select * from {{ ref('int_window_liquidity_paired') }}
),

grouped as (
    select session, event_type, measure, pre_value, post_value, post_minus_pre
    from paired
    union all
    select session, '(all types)' as event_type, measure, pre_value, post_value, post_minus_pre
    from paired
),

ranked as (
    select
        *,
        row_number() over (partition by session, event_type, measure order by post_minus_pre) as diff_rank,
        count(*) over (partition by session, event_type, measure) as windows
    from grouped
),

sample_sizes as (
    select distinct windows as n from ranked
),

-- P(B <= i) for B ~ Binomial(n, 1/2), i = 0 .. n / 2, from log-gamma so that large n stays finite
binomial_terms as (
    select n, unnest(range(0, n // 2 + 1)) as i
    from sample_sizes
),

binomial_cdf as (
    select
        n,
        i,
        sum(exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) - n * ln(2)))
            over (partition by n order by i rows between unbounded preceding and current row) as cdf
    from binomial_terms
),

interval_ranks as (
    select n, max(i) + 1 as lower_rank
    from binomial_cdf
    where cdf <= 0.025
    group by n
),

final as (
    select
        ranked.session,
        ranked.event_type,
        ranked.measure,
        ranked.windows,
        median(ranked.pre_value) as median_pre,
        median(ranked.post_value) as median_post,
        median(ranked.post_minus_pre) as median_post_minus_pre,
        max(ranked.post_minus_pre) filter (where ranked.diff_rank = interval_ranks.lower_rank) as ci95_low,
        max(ranked.post_minus_pre) filter (where ranked.diff_rank = ranked.windows + 1 - interval_ranks.lower_rank)
            as ci95_high
    from ranked
    left join interval_ranks on interval_ranks.n = ranked.windows
    group by ranked.session, ranked.event_type, ranked.measure, ranked.windows
)

select * from final
order by session, event_type, measure
