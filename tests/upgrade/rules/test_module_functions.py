"""AS106: airflow.configuration.get(...) -> conf.get(...); airflow.PY3x -> sys.version_info."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

SELECT = ("AS106",)


def test_configuration_functions_through_the_module() -> None:
    assert_fix(
        """\
        from airflow import configuration

        folder = configuration.get("core", "dags_folder")
        examples = configuration.getboolean("core", "load_examples")
        """,
        """\
        from airflow import configuration
        from airflow.configuration import conf

        folder = conf.get("core", "dags_folder")
        examples = conf.getboolean("core", "load_examples")
        """,
        select=SELECT,
    )


def test_python_version_flags() -> None:
    assert_fix(
        """\
        import airflow

        if airflow.PY38:
            pass
        """,
        """\
        import airflow
        import sys

        if (sys.version_info >= (3, 8)):
            pass
        """,
        select=SELECT,
    )


def test_aliased_module_and_from_import() -> None:
    result = run(
        "import airflow.configuration as cfg\nx = cfg.getint('core', 'parallelism')\n", select=SELECT
    )
    assert "conf.getint('core', 'parallelism')" in result.text
    source = "from airflow.configuration import get\nget('core', 'x')\n"
    reported = run(source, select=SELECT)
    assert codes(reported) == ["AS106"] and reported.text == source


def test_no_op_cases() -> None:
    for source in (
        "from airflow.configuration import conf\nconf.get('core', 'x')\n",  # already right
        "import mylib.configuration as configuration\nconfiguration.get('x')\n",  # not Airflow
        "try:\n    from airflow import configuration\nexcept ImportError:\n    configuration = None\n"
        "configuration.get('core', 'x')\n",  # compat block
        "configuration = {}\nconfiguration.get('x')\n",  # no Airflow import
    ):
        result = run(source, select=SELECT)
        assert result.text == source and not codes(result), source


def test_conf_name_taken_is_reported_not_rewritten() -> None:
    source = "from airflow import configuration\nconf = {}\nconfiguration.get('core', 'x')\n"
    result = run(source, select=SELECT)
    assert codes(result) == ["AS106"] and result.text == source


def test_version_gate() -> None:
    source = "from airflow import configuration\nconfiguration.get('core', 'x')\n"
    assert not codes(run(source, target="2.11", select=SELECT))
    assert codes(run(source, target="3.0", select=SELECT)) == ["AS106"]
