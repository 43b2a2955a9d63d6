{#- on-run-end: append the verdict of this invocation's gate tests (tag `gate`) to main.gate_runs.
    GO needs every gate test of the project to have run and passed; a partial selection, an error
    or a skip is NO-GO. Failing checks are named, with the first lines of their `failure` column
    (the figures), and printed. An invocation that ran no gate test records nothing, unless it rebuilt
    a relation a gate test judges (a `dbt run` after a pilot rebuilding download_estimate_totals, a
    `dbt seed`, ...): then the last verdict no longer describes the tables, and a NO-GO naming the
    rebuilt relations is recorded.
    The recorded verdict is also the only source of the ok / fail `status` of the manifest_summary
    rows that name a gate check: they are set from it here, so the summary never judges on its own. -#}
{% macro record_gate_run(results) %}
    {% if not execute %}{{ return('') }}{% endif %}

    {% set expected = [] %}
    {% for node in graph.nodes.values() if node.resource_type == 'test' and 'gate' in node.tags %}
        {% do expected.append(node.name) %}
    {% endfor %}
    {% set evaluated = [] %}
    {% set failed = [] %}
    {% set messages = [] %}
    {% for r in results if r.node.resource_type == 'test' and 'gate' in r.node.tags %}
        {% do evaluated.append(r.node.name) %}
        {% if r.status != 'pass' %}
            {% do failed.append(r.node.name) %}
            {% set detail = [] %}
            {% if r.status in ('fail', 'warn') and r.node.compiled_code %}
                {% set probe %}select * from ({{ r.node.compiled_code }}) as failing limit 3{% endset %}
                {% set rows = run_query(probe) %}
                {% if 'failure' in rows.column_names %}
                    {% for v in rows.columns['failure'].values() %}{% do detail.append(v | string) %}{% endfor %}
                {% endif %}
            {% endif %}
            {% if detail | length == 0 %}{% do detail.append(r.status ~ ': ' ~ (r.message or 'not evaluated')) %}{% endif %}
            {% do messages.append(r.node.name ~ ': ' ~ (detail | join(' | '))) %}
        {% endif %}
    {% endfor %}
    {% if evaluated | length == 0 %}
        {#- No gate test ran: did this invocation rebuild something a gate test judges? -#}
        {% set judged = {} %}
        {% for node in graph.nodes.values() if node.resource_type == 'test' and 'gate' in node.tags %}
            {% for parent in node.depends_on.nodes %}
                {% do judged.setdefault(parent, []).append(node.name) %}
            {% endfor %}
        {% endfor %}
        {% set rebuilt = [] %}
        {% for r in results if r.node.unique_id in judged and r.node.resource_type in ('model', 'seed', 'snapshot')
                               and r.status in ('success', 'pass') %}
            {% do rebuilt.append(r.node.name) %}
        {% endfor %}
        {% if rebuilt | length == 0 %}{{ return('') }}{% endif %}
        {% set rebuilt = rebuilt | sort %}
    {% else %}
        {% set rebuilt = [] %}
    {% endif %}
    {% for name in expected if name not in evaluated %}
        {% do failed.append(name) %}
        {% if rebuilt | length > 0 %}
            {% do messages.append(name ~ ': not evaluated after ' ~ (rebuilt | join(', ')) ~ ' was rebuilt by `dbt '
                ~ flags.WHICH ~ '` without the gate; run `dbt build` (or `dbt test --select tag:gate`) to judge the tables as they are now') %}
        {% else %}
            {% do messages.append(name ~ ': not evaluated in this invocation') %}
        {% endif %}
    {% endfor %}
    {% set go = (failed | length == 0) %}

    {#- Hooks cannot ref(): look the relations up, they may be missing after an error. -#}
    {% set config_rel = adapter.get_relation(database=target.database, schema='main', identifier='selection_config') %}
    {% set fingerprint_rel = adapter.get_relation(database=target.database, schema='main', identifier='manifest_fingerprint') %}
    {% set summary_rel = adapter.get_relation(database=target.database, schema='main', identifier='manifest_summary') %}
    {% set cfg = {'profile': var('profile'), 'config_hash': none, 'enrichment_version': var('enrichment_version')} %}
    {% set fp = {'rows': none, 'checksum': none, 'judged': none} %}
    {% if config_rel %}
        {% set row = run_query('select profile, config_hash, enrichment_version from ' ~ config_rel).rows[0] %}
        {% do cfg.update({'profile': row[0], 'config_hash': row[1], 'enrichment_version': row[2]}) %}
    {% endif %}
    {% if fingerprint_rel %}
        {% set row = run_query('select manifest_rows, manifest_checksum, judged_checksum from ' ~ fingerprint_rel).rows[0] %}
        {% do fp.update({'rows': row[0], 'checksum': row[1], 'judged': row[2]}) %}
    {% endif %}

    {% if go %}
        {{ log("GATE: GO (" ~ evaluated | length ~ " checks passed; manifest " ~ fp.checksum ~ ")", info=True) }}
    {% else %}
        {{ log("GATE: NO-GO (" ~ failed | length ~ " of " ~ expected | length ~ " checks failed)", info=True) }}
        {% for m in messages %}{{ log("  - " ~ m, info=True) }}{% endfor %}
    {% endif %}

    {#- main.gate_runs exists: the on-run-start hook creates it (macros/tickwindows_tables.sql). -#}
    insert into main.gate_runs by name select
        cast(now() as timestamp) as evaluated_at,
        {{ sql_literal(invocation_id) }} as invocation_id,
        {{ sql_literal(flags.WHICH) }} as command,
        {{ sql_literal(cfg.profile) }} as profile,
        {{ sql_literal(cfg.config_hash) }} as config_hash,
        {{ sql_literal(cfg.enrichment_version) }} as enrichment_version,
        {{ sql_literal(fp.checksum) }} as manifest_checksum,
        {{ fp.rows if fp.rows is not none else 'null' }} as manifest_rows,
        {{ expected | length }} as tests_expected,
        {{ evaluated | reject('in', failed) | list | length }} as tests_passed,
        {{ failed | length }} as tests_failed,
        {{ sql_literal(evaluated | reject('in', failed) | sort | join(',')) }} as passed_checks,
        {{ sql_literal(failed | sort | join(',')) }} as failed_checks,
        {{ sql_literal(messages | join('\n')) }} as failure_messages,
        {{ 'true' if go else 'false' }} as go,
        {{ sql_literal(fp.judged) }} as judged_checksum;
    {% if summary_rel %}
    {% set failed_sql = [] %}{% for n in failed %}{% do failed_sql.append(sql_literal(n)) %}{% endfor %}
    {% set passed_sql = [] %}{% for n in evaluated if n not in failed %}{% do passed_sql.append(sql_literal(n)) %}{% endfor %}
    update {{ summary_rel }}
    set status = case
        when gate_check in ({{ (failed_sql | join(', ')) or 'null' }}) then 'fail'
        when gate_check in ({{ (passed_sql | join(', ')) or 'null' }}) then 'ok'
        else 'pending'
    end
    where gate_check is not null;
    {% endif %}
{% endmacro %}

{#- A value as a SQL literal: NULL, or a single-quoted string with quotes doubled. -#}
{% macro sql_literal(v) -%}
    {%- if v is none %}null{% else %}'{{ (v | string) | replace("'", "''") }}'{% endif -%}
{%- endmacro %}
