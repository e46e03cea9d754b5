"""Jinja rewriting: every removed context variable, free-variable detection, quoting, schedules."""

from __future__ import annotations

import datetime as dt

import pytest

from airshift.upgrade.pystrings import literal_pieces, source_offset
from airshift.upgrade.templates import Schedule, rewrite_template

DAILY = Schedule(dt.timedelta(days=1), "'@daily'")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{{ execution_date }}", "{{ logical_date }}"),
        ("{{ next_execution_date }}", "{{ data_interval_end }}"),
        ("{{ next_ds }}", "{{ data_interval_end | ds }}"),
        ("{{ next_ds_nodash }}", "{{ data_interval_end | ds_nodash }}"),
        ("{{ prev_execution_date_success }}", "{{ prev_data_interval_start_success }}"),
        ("{{ tomorrow_ds }}", "{{ macros.ds_add(ds, 1) }}"),
        ("{{ tomorrow_ds_nodash }}", "{{ macros.ds_format(macros.ds_add(ds, 1), '%Y-%m-%d', '%Y%m%d') }}"),
        ("{{ yesterday_ds }}", "{{ macros.ds_add(ds, -1) }}"),
        ("{{ yesterday_ds_nodash }}", "{{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d') }}"),
        ("{{ prev_ds }}", "{{ macros.ds_add(ds, -1) }}"),
        ("{{ prev_ds_nodash }}", "{{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d') }}"),
        ("{{ prev_execution_date }}", "{{ logical_date - macros.timedelta(days=1) }}"),
        ("{{ triggering_dataset_events }}", "{{ triggering_asset_events }}"),
        ("{{ dag_run.external_trigger }}", "{{ (dag_run.run_type == 'manual') }}"),
        (
            "{{ ti.execution_date }} {{ dag_run.execution_date }}",
            "{{ ti.logical_date }} {{ dag_run.logical_date }}",
        ),
    ],
)
def test_each_removed_variable(before: str, after: str) -> None:
    assert rewrite_template(before, DAILY).text == after


def test_expressions_filters_and_macro_arguments_are_parenthesised() -> None:
    assert (
        rewrite_template("{{ next_ds|replace('-', '') }}").text
        == "{{ (data_interval_end | ds)|replace('-', '') }}"
    )
    assert (
        rewrite_template("{{ macros.ds_add(next_ds, 2) }}").text
        == "{{ macros.ds_add((data_interval_end | ds), 2) }}"
    )
    assert rewrite_template("{{ execution_date.strftime('%H') }}").text == "{{ logical_date.strftime('%H') }}"
    assert (
        rewrite_template("{% if prev_ds %}x{% endif %}", DAILY).text
        == "{% if macros.ds_add(ds, -1) %}x{% endif %}"
    )


def test_names_the_template_binds_itself_or_uses_as_attributes_are_left_alone() -> None:
    for text in (
        "{% set execution_date = '2020' %}{{ execution_date }}",
        "{% for next_ds in items %}{{ next_ds }}{% endfor %}",
        "{{ params.execution_date }}",
        "{{ value | next_ds }}",
        "{{ macros.foo(execution_date=1) }}",
        "no template here: execution_date",
        "{% raw %}{{ execution_date }}{% endraw %}",
    ):
        assert rewrite_template(text).text == text


def test_schedule_relative_variables_need_a_constant_period() -> None:
    hourly = Schedule(dt.timedelta(hours=6), "every 6h")
    assert (
        rewrite_template("{{ prev_ds }}", hourly).text
        == "{{ (logical_date - macros.timedelta(seconds=21600)) | ds }}"
    )
    monthly = rewrite_template("{{ prev_ds }}", Schedule(None, "'@monthly'"))
    assert monthly.text == "{{ prev_ds }}"
    assert "'@monthly'" in monthly.problems[0][1]


def test_conf_has_no_equivalent_on_3_but_is_fine_on_2_11() -> None:
    assert rewrite_template("{{ conf.get('core', 'x') }}").problems
    assert not rewrite_template("{{ conf.get('core', 'x') }}", target=(2, 11)).problems


def test_quote_choice_for_inserted_strings() -> None:
    assert rewrite_template("{{ tomorrow_ds_nodash }}", quote='"').text == (
        '{{ macros.ds_format(macros.ds_add(ds, 1), "%Y-%m-%d", "%Y%m%d") }}'
    )


def test_invalid_jinja_is_left_alone() -> None:
    assert rewrite_template("{{ execution_date ").text == "{{ execution_date "


def test_literal_pieces_map_values_to_source() -> None:
    source = '("a {{ x }} "\n    "b {{ y }}")'
    pieces = literal_pieces(source, 100)
    assert pieces is not None and len(pieces) == 2
    value = "a {{ x }} b {{ y }}"
    assert source[source_offset(pieces, value.index("y"), 1) - 100] == "y"
    assert literal_pieces('"a\\n{{ x }}"', 0) is None  # escapes do not map one to one
    assert literal_pieces('f"{x}"', 0) is None
    assert literal_pieces("r'{{ x }}'", 0) is not None


def test_datetimes_printed_bare_keep_the_1_10_iso_text() -> None:
    # pendulum 1 (Airflow 1.10) printed "2024-03-05T00:00:00+00:00", pendulum 3 prints a space.
    hourly = Schedule(dt.timedelta(hours=1), "'@hourly'")
    rewrite = rewrite_template(
        "{{ execution_date }} {{ prev_execution_date }} {{ execution_date.strftime('%H') }} "
        "{{ macros.ds_add(ds, 1) }} {{ next_execution_date | ds }}",
        hourly,
        iso_datetimes=True,
    )
    assert rewrite.text == (
        "{{ logical_date | ts }} {{ (logical_date - macros.timedelta(seconds=3600)) | ts }} "
        "{{ logical_date.strftime('%H') }} {{ macros.ds_add(ds, 1) }} {{ data_interval_end | ds }}"
    )
    assert rewrite_template("{{ execution_date }}", hourly).text == "{{ logical_date }}"


def test_templates_using_airflow_or_user_filters_and_tests_are_still_read() -> None:
    # jinja2 refuses unknown filter/test names when it compiles; Airflow's `ds` and a DAG's
    # user_defined_filters must not make airshift skip the template.
    rewrite = rewrite_template(
        "{{ execution_date | ds }} {{ next_ds | my_filter }} {% if ds is weekend %}{% endif %}"
    )
    assert rewrite.text == (
        "{{ logical_date | ds }} {{ (data_interval_end | ds) | my_filter }} {% if ds is weekend %}{% endif %}"
    )
