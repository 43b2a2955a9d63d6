{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    pre_hook=["set asof_loop_join_threshold = 0", "{{ duckdb_memory_limit('ticks') }}"],
    post_hook=[
        "reset asof_loop_join_threshold",
        "{{ duckdb_memory_limit() }}",
        "{% if is_incremental() %}delete from {{ this }} as measured where not exists (select 1 from {{ ref('int_tick_windows_fingerprinted') }} as current_windows where current_windows.event_id = measured.event_id){% endif %}",
    ]
) }}
{#- The liquidity measures of every downloaded window, two rows per window (segments pre and post), with
    the definitions of docs/CONTRACT.md (window_liquidity). All timestamps are integer epoch nanoseconds
    of sip_timestamp here; the window's session (the event's) applies to the whole window.

    Incremental, keyed by event_id: a window is measured once. Each row keeps the fingerprint of its
    window (int_tick_windows_fingerprinted: size and modification time of both files, the window's
    definition, the definitions' version). At each run the windows whose current fingerprint is not
    stored here are listed first (a query at run time) and only their files are read: the list becomes
    a literal `event_id in (...)` filter on the staging views, which DuckDB applies to the file names
    before opening any file (so a build after 100 new downloads reads those 200 files, not all of them).
    Their old rows, if any (a re-downloaded file), are replaced (delete+insert on event_id); the post-hook
    deletes the rows of windows whose files or manifest event are gone (skipped after a full refresh, which
    has just measured exactly the current windows). Why file size + mtime and not the downloader's sha256:
    the checkpoint store is SQLite, outside the warehouse, and the atomic rename of every (re-)download
    gives a new mtime; hashing every file at every build would read them all.
    `dbt build --full-refresh -s int_window_liquidity_measured` recomputes everything.

    The pre-hook keeps DuckDB from planning the ASOF joins as nested loops: its row estimates for the
    file scans are tiny, and below asof_loop_join_threshold rows it would loop over every quote per trade.

    Quotes and trades outside [window_start, window_end) are ignored (the downloader writes none).

    A new column reaches a warehouse built before it through on_schema_change='append_new_columns' (added to
    the table, NULL in the stored rows); a change of the measures also bumps the definitions' version in
    int_tick_windows_fingerprinted, which changes every fingerprint, so the same plain `dbt build` re-measures
    every stored window and fills the new column.

    Memory: each step is a DuckDB hash aggregate, sort-based window or ASOF join, all of which spill to
    disk past memory_limit (this model raises it to TICKWINDOWS_DUCKDB_TICKS_MEMORY, default 3GB, while it
    runs: macros/duckdb_memory.sql), so a full build of any number of windows runs in bounded memory
    (bench/bench_liquidity.py: 1,000 windows, 35M tick rows, in 1.24 GB at a 1GB limit).
    Proofs: the edges of the definitions are the unit tests beside this model; python/tests/
    test_window_liquidity.py checks every value against an independent computation and the incremental
    behaviour (only new or changed windows measured, unchanged files never opened, vanished ones dropped).
-#}
{%- set todo = none -%}
{%- if is_incremental() -%}
    {%- set todo_query -%}
        select current_windows.event_id
        from {{ ref('int_tick_windows_fingerprinted') }} as current_windows
        where not exists (
            select 1 from {{ this }} as measured
            where measured.event_id = current_windows.event_id
              and measured.fingerprint = current_windows.fingerprint
        )
        order by current_windows.event_id
    {%- endset -%}
    {%- set todo = run_query(todo_query).columns[0].values() | list -%}
    {{ log("int_window_liquidity_measured: " ~ (todo | length) ~ " window(s) to measure", info=True) }}
{%- endif -%}

with windows as (
    select
        event_id,
        symbol,
        session,
        event_type,
        trading_date,
        event_ts_utc,
        window_start_utc,
        window_end_utc,
        fingerprint,
        epoch_ns(window_start_utc) as start_ns,
        epoch_ns(event_ts_utc) as event_ns,
        epoch_ns(window_end_utc) as end_ns,
        -- a small integer key: joins, partitions and sorts on it are cheaper than on the 32-character id
        cast(row_number() over (order by event_id) as integer) as window_key
    from {{ ref('int_tick_windows_fingerprinted') }}
    where {{ event_id_filter('event_id', todo) }}
),

trades_in_files as (
    select * from {{ ref('stg_ticks__trades') }}
    where {{ event_id_filter('event_id', todo) }}
),

quotes_in_files as (
    select * from {{ ref('stg_ticks__quotes') }}
    where {{ event_id_filter('event_id', todo) }}
),

-- Valid quotes: both sides priced and sized; in RTH also not crossed and at most $5 wide
-- (pre-market and after-hours keep crossed and wide quotes).
quotes_valid as (
    select
        windows.window_key,
        epoch_ns(quotes_in_files.sip_timestamp) as t,
        quotes_in_files.sequence_number,
        (quotes_in_files.bid_price + quotes_in_files.ask_price) / 2 as mid,
        (quotes_in_files.ask_price - quotes_in_files.bid_price)
            / ((quotes_in_files.bid_price + quotes_in_files.ask_price) / 2) as relative_spread
    from quotes_in_files
    inner join windows on windows.event_id = quotes_in_files.event_id
    where quotes_in_files.bid_price > 0
      and quotes_in_files.ask_price > 0
      and quotes_in_files.bid_size > 0
      and quotes_in_files.ask_size > 0
      and (windows.session <> 'RTH'
           or (quotes_in_files.ask_price >= quotes_in_files.bid_price
               and quotes_in_files.ask_price - quotes_in_files.bid_price <= 5))
      and epoch_ns(quotes_in_files.sip_timestamp) >= windows.start_ns
      and epoch_ns(quotes_in_files.sip_timestamp) < windows.end_ns
),

-- Each valid quote holds until the next valid quote (in sip_timestamp, sequence_number order). Of several
-- valid quotes stamped in the same nanosecond only the last holds (the others hold for 0 ns), and only it
-- can be a trade's prevailing quote: keeping the last quote of each nanosecond makes the ASOF join exact.
quotes_held as (
    select
        window_key,
        t,
        mid,
        relative_spread,
        lead(t) over quote_order as next_t,
        lag(t) over quote_order as previous_t,
        lag(mid) over quote_order as previous_mid
    from quotes_valid
    window quote_order as (partition by window_key order by t, sequence_number)
),

-- Time-weighted relative quoted spread per segment: each quote weighted by the time it holds inside
-- [segment start, segment end); the last one holds until the window's end. The quote prevailing at the
-- post segment's start (stamped before the event) counts from the start. Time before the first valid
-- quote counts for nothing (not in the denominator either).
quotes_timed as (
    select
        quotes_held.window_key,
        quotes_held.relative_spread,
        greatest(0, least(coalesce(quotes_held.next_t, windows.end_ns), windows.event_ns) - quotes_held.t) as pre_ns,
        greatest(0, coalesce(quotes_held.next_t, windows.end_ns) - greatest(quotes_held.t, windows.event_ns))
            as post_ns
    from quotes_held
    inner join windows on windows.window_key = quotes_held.window_key
),

quoted_time as (
    select
        window_key,
        sum(relative_spread * pre_ns) as pre_spread_ns,
        sum(pre_ns) as pre_quoted_ns,
        sum(relative_spread * post_ns) as post_spread_ns,
        sum(post_ns) as post_quoted_ns
    from quotes_timed
    group by window_key
),

-- The quotes the ASOF joins look up: the last valid quote of each nanosecond, and of those only the ones
-- that change the mid. A quote whose previous valid quote is the last of an earlier nanosecond (so itself
-- a candidate) with the same mid cannot change any trade's mid or mid5: the lookup lands on that earlier
-- quote, or on the first of its run of equal mids, instead. Many NBBO updates change only a size (in the
-- benchmark's emulator windows 62 % of these quotes repeat the mid), so the joins sort and search fewer rows.
quotes_last_of_ns as (
    select window_key, t, mid
    from quotes_held
    where (next_t is null or next_t > t)
      and not coalesce(previous_t < t and previous_mid = mid, false)
),

-- Valid trades: positive price and size, not a correction; inside the window.
trades_valid as (
    select
        windows.window_key,
        epoch_ns(trades_in_files.sip_timestamp) as t,
        trades_in_files.sequence_number,
        trades_in_files.price,
        trades_in_files.size
    from trades_in_files
    inner join windows on windows.event_id = trades_in_files.event_id
    where trades_in_files.price > 0
      and trades_in_files.size > 0
      and coalesce(trades_in_files.correction, 0) = 0
      and epoch_ns(trades_in_files.sip_timestamp) >= windows.start_ns
      and epoch_ns(trades_in_files.sip_timestamp) < windows.end_ns
),

-- Tick test: +1 / -1 when the price is above / below the previous valid trade's (in sip_timestamp,
-- sequence_number order, anywhere in the window); at an unchanged price the direction of the last
-- change carries over, which is the comparison with the most recent earlier trade at another price.
trades_ticks as (
    select
        *,
        sign(price - lag(price) over (partition by window_key order by t, sequence_number)) as price_change
    from trades_valid
),

trades_ticked as (
    select
        window_key,
        t,
        price,
        size,
        coalesce(last_value(nullif(price_change, 0) ignore nulls)
            over (partition by window_key order by t, sequence_number
                  rows between unbounded preceding and current row), 0) as tick_direction
    from trades_ticks
),

-- The prevailing quote: the last valid quote stamped strictly before the trade (one stamped in the same
-- nanosecond does not count). None: the trade is unmatched.
trades_quoted as (
    select
        trades_ticked.*,
        quotes_last_of_ns.mid
    from trades_ticked
    asof left join quotes_last_of_ns
        on quotes_last_of_ns.window_key = trades_ticked.window_key
        and trades_ticked.t > quotes_last_of_ns.t
),

-- mid5: the mid of the last valid quote stamped strictly before t + 300 s.
trades_quoted_5m as (
    select
        trades_quoted.*,
        quotes_last_of_ns.mid as mid5
    from trades_quoted
    asof left join quotes_last_of_ns
        on quotes_last_of_ns.window_key = trades_quoted.window_key
        and trades_quoted.t + 300000000000 > quotes_last_of_ns.t
),

-- Sign q: above the mid +1, below -1, at the mid the tick test (0 when no earlier trade in the window
-- had another price: the trade is unsigned, as Lee-Ready and Holden-Jacobsen leave it, and enters none of the
-- four signed measures). "At the mid" allows 1e-9 relative, so the float rounding of (bid + ask) / 2
-- cannot decide it. q is NULL for an unmatched trade.
trades_signed as (
    select
        trades_quoted_5m.window_key,
        trades_quoted_5m.t >= windows.event_ns as in_post,
        trades_quoted_5m.price,
        trades_quoted_5m.size,
        trades_quoted_5m.mid,
        -- realized spread and price impact cover matched trades with t + 300 s before the window's end
        case
            when trades_quoted_5m.mid is not null and trades_quoted_5m.t + 300000000000 < windows.end_ns
                then trades_quoted_5m.mid5
        end as mid5,
        case
            when trades_quoted_5m.mid is null then null
            when abs(trades_quoted_5m.price - trades_quoted_5m.mid) <= 1e-9 * trades_quoted_5m.mid
                then trades_quoted_5m.tick_direction
            when trades_quoted_5m.price > trades_quoted_5m.mid then 1
            else -1
        end as q
    from trades_quoted_5m
    inner join windows on windows.window_key = trades_quoted_5m.window_key
),

trade_measures as (
    select
        window_key,
        in_post,
        count(*) as n_trades,
        sum(size) as volume,
        count(*) filter (where mid is null) as trades_unmatched,
        count(*) filter (where q = 0) as trades_unsigned,
        -- dollar-volume (price x size) weighted means over the signed (so matched) trades each measure covers,
        -- unsigned ones (q = 0) in neither numerator nor denominator; NULL when none
        sum(2 * abs(price - mid) / mid * price * size) filter (where q <> 0)
            / sum(price * size) filter (where q <> 0) as effective_spread_dvw,
        sum(2 * q * (price - mid5) / mid * price * size) filter (where q <> 0 and mid5 is not null)
            / sum(price * size) filter (where q <> 0 and mid5 is not null) as realized_spread_5m_dvw,
        sum(2 * q * (mid5 - mid) / mid * price * size) filter (where q <> 0 and mid5 is not null)
            / sum(price * size) filter (where q <> 0 and mid5 is not null) as price_impact_5m_dvw,
        sum(q * size) filter (where q <> 0)
            / sum(size) filter (where q <> 0) as order_imbalance
    from trades_signed
    group by window_key, in_post
),

segments as (
    select
        window_key, event_id, symbol, session, event_type, trading_date, fingerprint,
        'pre' as segment, false as in_post, window_start_utc as segment_start_utc, event_ts_utc as segment_end_utc
    from windows
    union all
    select
        window_key, event_id, symbol, session, event_type, trading_date, fingerprint,
        'post' as segment, true as in_post, event_ts_utc as segment_start_utc, window_end_utc as segment_end_utc
    from windows
),

final as (
    select
        segments.event_id,
        segments.segment,
        segments.symbol,
        segments.session,
        segments.event_type,
        segments.trading_date,
        segments.segment_start_utc,
        segments.segment_end_utc,
        coalesce(trade_measures.n_trades, 0) as n_trades,
        coalesce(trade_measures.volume, 0) as volume,
        coalesce(trade_measures.trades_unmatched, 0) as trades_unmatched,
        coalesce(trade_measures.trades_unsigned, 0) as trades_unsigned,
        case
            when segments.in_post then quoted_time.post_spread_ns / nullif(quoted_time.post_quoted_ns, 0)
            else quoted_time.pre_spread_ns / nullif(quoted_time.pre_quoted_ns, 0)
        end as quoted_spread_tw,
        trade_measures.effective_spread_dvw,
        trade_measures.realized_spread_5m_dvw,
        trade_measures.price_impact_5m_dvw,
        trade_measures.order_imbalance,
        segments.fingerprint,
        '{{ invocation_id }}' as invocation_id,
        cast(now() as timestamp) as measured_at
    from segments
    left join trade_measures
        on trade_measures.window_key = segments.window_key
        and trade_measures.in_post = segments.in_post
    left join quoted_time on quoted_time.window_key = segments.window_key
)

select * from final
