{#- `model` has exactly `rows` rows (a one-row relation: its key is the relation itself). -#}
{% test row_count_equals(model, rows) %}
select count(*) as actual_rows, {{ rows }} as expected_rows
from {{ model }}
having count(*) <> {{ rows }}
{% endtest %}
