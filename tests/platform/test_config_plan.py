"""The format-independent plan over the tables generated from the real Airflow installs."""

from __future__ import annotations

from airshift.platform.config_plan import (
    FAB_AUTH_MANAGER,
    Entry,
    Options,
    detect_source,
    mask_value,
    plan_migration,
)
from airshift.platform.config_tables import load_tables


def _plan(rows: list[tuple[str, str, str]], **options: object):
    entries = [Entry(s, o, v, i) for i, (s, o, v) in enumerate(rows)]
    return plan_migration(load_tables(), entries, Options(**options))  # type: ignore[arg-type]


def _final(plan) -> dict[tuple[str, str], str]:
    return {fate.key: fate.value for fate in plan.fates if fate.key is not None}


def test_110_names_are_chained_through_2_to_3() -> None:
    plan = _plan(
        [
            ("scheduler", "max_threads", "4"),  # 1.10 -> 2.0 rename, then 3.0 move to [dag_processor]
            ("celery", "celeryd_concurrency", "8"),  # only the 1.10 table knows it
            ("core", "remote_logging", "True"),  # 2.0 move to [logging]; in no 3.x table
            ("kubernetes", "namespace", "airflow"),  # 2.5 section rename
            ("webserver", "base_url", "https://af.example.com"),  # 3.0 move to [api]
        ]
    )
    final = _final(plan)
    assert final[("dag_processor", "parsing_processes")] == "4"
    assert final[("celery", "worker_concurrency")] == "8"
    assert final[("logging", "remote_logging")] == "True"
    assert final[("kubernetes_executor", "namespace")] == "airflow"
    assert final[("api", "base_url")] == "https://af.example.com"
    steps = [step for fate in plan.fates for step in fate.steps]
    assert any(s.old == ("scheduler", "max_threads") and "1.10.15" in s.why for s in steps)
    assert plan.source == "1.10"


def test_removed_options_are_reported_with_the_reason() -> None:
    plan = _plan([("core", "check_slas", "True"), ("webserver", "rbac", "True"), ("my_plugin", "x", "1")])
    fates = {fate.entry.key: fate for fate in plan.fates}
    assert fates[("core", "check_slas")].key is None
    assert "SLA" in fates[("core", "check_slas")].steps[-1].why
    assert fates[("webserver", "rbac")].key is None
    # A section Airflow does not know (a plugin's own) is kept as written.
    assert fates[("my_plugin", "x")].key == ("my_plugin", "x")


def test_behaviour_defaults_stay_explicit_unless_adopted() -> None:
    kept = _plan([("scheduler", "catchup_by_default", "True")])
    assert _final(kept)[("scheduler", "catchup_by_default")] == "True"
    added = {a.key: a.value for a in kept.additions}
    assert added[("scheduler", "create_cron_data_intervals")] == "True"
    assert added[("core", "dag_ignore_file_syntax")] == "regexp"

    adopted = _plan([("scheduler", "catchup_by_default", "True")], adopt_new_defaults=True)
    assert ("scheduler", "catchup_by_default") not in _final(adopted)
    assert ("scheduler", "create_cron_data_intervals") not in {a.key for a in adopted.additions}

    # A value the user chose (not the old default) is theirs either way.
    chosen = _plan([("scheduler", "catchup_by_default", "False")], adopt_new_defaults=True)
    assert _final(chosen)[("scheduler", "catchup_by_default")] == "False"


def test_values_airflow_rewrites_at_read_time_are_rewritten() -> None:
    plan = _plan(
        [
            ("core", "executor", "SequentialExecutor"),
            ("core", "hostname_callable", "socket:getfqdn"),
            ("core", "xcom_backend", "airflow.models.xcom.BaseXCom"),
        ]
    )
    final = _final(plan)
    assert final[("core", "executor")] == "LocalExecutor"
    assert final[("core", "hostname_callable")] == "socket.getfqdn"
    assert final[("core", "xcom_backend")] == "airflow.sdk.execution_time.xcom.BaseXCom"


def test_the_new_name_wins_over_a_renamed_duplicate() -> None:
    plan = _plan(
        [
            ("core", "sql_alchemy_conn", "sqlite:///old.db"),
            ("database", "sql_alchemy_conn", "sqlite:///new.db"),
        ]
    )
    assert _final(plan)[("database", "sql_alchemy_conn")] == "sqlite:///new.db"
    assert plan.fates[0].key is None


def test_settings_airflow_3_needs_are_added_once() -> None:
    plan = _plan([("webserver", "base_url", "https://af.example.com")])
    added = {a.key: a for a in plan.additions}
    assert added[("core", "execution_api_server_url")].value == "https://af.example.com/execution/"
    assert added[("core", "auth_manager")].value == FAB_AUTH_MANAGER
    assert added[("api_auth", "jwt_secret")].secret and added[("api", "secret_key")].secret
    assert ("api", "base_url") not in added  # moved from [webserver], not added


def test_target_211_stops_after_the_2x_tables() -> None:
    plan = _plan([("scheduler", "max_threads", "4"), ("webserver", "base_url", "http://x")], target="2.11")
    final = _final(plan)
    assert final[("scheduler", "parsing_processes")] == "4"
    assert final[("webserver", "base_url")] == "http://x"
    assert not plan.additions


def test_source_detection_and_masking() -> None:
    tables = load_tables()
    assert detect_source(tables, [("webserver", "rbac")]) == "1.10"
    assert detect_source(tables, [("database", "sql_alchemy_conn")]) == "2"
    assert mask_value(tables, ("database", "sql_alchemy_conn"), "postgresql://u:pw@h/db") == "***"
    assert mask_value(tables, ("celery", "result_backend"), "db+postgresql://u:pw@h/db") == "***"
    assert mask_value(tables, ("my_plugin", "url"), "https://u:pw@h/x") == "https://u:***@h/x"
