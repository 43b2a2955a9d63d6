{#- A reproducible pseudo-random number in (0, 1) from key expressions (a comma-separated SQL list):
    same inputs, same number, whatever the thread count (DuckDB's random() is not reproducible). -#}
{% macro uniform_hash(keys) -%}
    ((hash({{ keys }}) % 4294967296)::double + 0.5) / 4294967296.0
{%- endmacro %}

{#- A standard normal draw (Box-Muller) from two independent uniform hashes of the keys. -#}
{% macro normal_hash(keys) -%}
    (sqrt(-2.0 * ln({{ uniform_hash(keys ~ ", 'u1'") }}))
     * cos(2.0 * pi() * {{ uniform_hash(keys ~ ", 'u2'") }}))
{%- endmacro %}
