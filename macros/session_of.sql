{#- The session of an ET wall-clock time on a trading day whose regular close is `close_et`
    (16:00, or 13:00 on an early-close day): PM = [04:00, 09:30), RTH = [09:30, close),
    AH = [close, close + 4h); NULL means outside the extended-hours day. -#}
{% macro session_of(ts_et, close_et) -%}
    case
        when cast({{ ts_et }} as time) >= time '04:00:00'
         and cast({{ ts_et }} as time) <  time '09:30:00' then 'PM'
        when cast({{ ts_et }} as time) >= time '09:30:00'
         and cast({{ ts_et }} as time) <  {{ close_et }} then 'RTH'
        when cast({{ ts_et }} as time) >= {{ close_et }}
         and cast({{ ts_et }} as time) <  {{ close_et }} + interval 4 hour then 'AH'
    end
{%- endmacro %}

{#- The extended-hours day of a trading date as ET wall-clock bounds: [04:00, close + 4h). -#}
{% macro extended_day_start_et(trading_date) -%}
    ({{ trading_date }} + time '04:00:00')
{%- endmacro %}

{% macro extended_day_end_et(trading_date, close_et) -%}
    ({{ trading_date }} + {{ close_et }} + interval 4 hour)
{%- endmacro %}
