"""Every bad-input case through the API (load_bundle + run_checks) and the CLI
(``irsa-nb check --bundle X --format json``): a one-line error or exactly the expected rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import BundleError, TargetNotFound, load_bundle, run_checks

from .corpus import CASES, Case
from .helpers import (
    KEY,
    CliRun,
    assert_clean_rows,
    assert_one_line_error,
    run_cli,
    run_many,
    same_rows,
)

pytestmark = pytest.mark.slow

BY_ID = {c.id: c for c in CASES}


def _target_argv(target: dict[str, str]) -> list[str]:
    flags = {"namespace": "-n", "service_account": "-s", "pod": "-p"}
    return [x for k, v in target.items() for x in (flags[k], v)]


def check_argv(case: Case, bundle: Path) -> list[str]:
    return [
        "check",
        "--bundle",
        str(bundle),
        "--format",
        "json",
        *_target_argv(case.target),
        *case.argv,
    ]


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    """The unbroken demo's rows per target."""
    inv = load_bundle("demo")
    cache: dict[str, pd.DataFrame] = {}

    def rows(target: dict[str, str]) -> pd.DataFrame:
        key = json.dumps(target, sort_keys=True)
        if key not in cache:
            cache[key] = run_checks(inv, **target)
        return cache[key]

    return rows  # type: ignore[return-value]


def assert_expected_rows(case: Case, df: pd.DataFrame, clean_rows: pd.DataFrame) -> None:
    """The statuses the case promises, its cause named, and no PASS it forbids."""
    assert list(df.columns[: len(irsa_nb.RESULT_COLUMNS)]) == irsa_nb.RESULT_COLUMNS
    for check_id, status in case.expect.items():
        rows = df[df.check_id == check_id]
        assert len(rows), f"{case.id}: no {check_id} row\n{df[KEY]}"
        assert set(rows.status) == {status}, f"{case.id}: {check_id}\n{rows[[*KEY, 'detail']]}"
    if case.mentions:
        expected = df[df.check_id.isin(list(case.expect))]
        assert expected.detail.str.contains(case.mentions, regex=False).any(), (
            f"{case.id}: no detail names {case.mentions!r}:\n{expected.detail.tolist()}"
        )
    forbidden = df[df.status == "PASS"]
    if "*" not in case.never_pass:
        forbidden = forbidden[forbidden.check_id.isin(list(case.never_pass))]
    assert forbidden.empty, f"{case.id}: wrong PASS\n{forbidden[[*KEY, 'detail']]}"
    if case.same_as_clean:
        same_rows(df, clean_rows, [*KEY, "detail", "remediation"])


@pytest.mark.parametrize("case", [c for c in CASES if not c.argv], ids=lambda c: c.id)
def test_api_gives_a_clear_error_or_the_expected_rows(case: Case, tmp_path: Path, clean) -> None:
    bundle = case.build(tmp_path)
    if case.usage:
        with pytest.raises((BundleError, TargetNotFound)) as err:
            run_checks(load_bundle(bundle), **case.target)
        assert case.usage in str(err.value)
        assert len(str(err.value).splitlines()) == 1
        return
    inv = load_bundle(bundle)
    df = run_checks(inv, **case.target)
    assert_expected_rows(case, df, clean(case.target))
    inv.frames()  # the inventory tables build too


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    """Every case's ``irsa-nb check`` command line, all in one interpreter (see cli_driver)."""
    root = tmp_path_factory.mktemp("corpus-cli")
    argvs = {}
    for case in CASES:
        folder = root / case.id
        folder.mkdir()
        argvs[case.id] = check_argv(case, case.build(folder))
    return dict(zip(argvs, run_many(list(argvs.values())), strict=True))


def test_every_case_through_the_cli(cli_runs: dict[str, CliRun], clean) -> None:
    """One line and exit 2, or JSON rows (exit 1 iff a FAIL) equal to the API's rows."""
    problems = []
    for case in CASES:
        run = cli_runs[case.id]
        try:
            if case.usage:
                assert_one_line_error(run, case.usage)
                continue
            rows = assert_clean_rows(run)
            assert_expected_rows(case, rows, clean(case.target))
        except AssertionError as exc:
            problems.append(f"--- {case.id}: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case_id", ["tar-dotdot", "unicode-and-long-names"])
def test_the_console_script_itself(case_id: str, tmp_path: Path, clean) -> None:
    """The installed ``irsa-nb`` (a fresh process) gives what the driver saw and the API's rows."""
    case = BY_ID[case_id]
    bundle = case.build(tmp_path)
    run = run_cli(check_argv(case, bundle))
    if case.usage:
        assert_one_line_error(run, case.usage)
        return
    rows = assert_clean_rows(run)
    assert_expected_rows(case, rows, clean(case.target))
    same_rows(rows, run_checks(load_bundle(bundle), **case.target))


def test_unicode_names_survive_json_and_table_output(tmp_path: Path) -> None:
    from .corpus import RTL_NAMESPACE, ZW_NAME

    case = BY_ID["unicode-and-long-names"]
    bundle = case.build(tmp_path)
    as_json, table = run_many(
        [
            check_argv(case, bundle),
            ["check", "--bundle", str(bundle), *_target_argv(case.target), "--all"],
        ]
    )
    rows = as_json.rows()
    targeted = rows[rows.service_account != ""]
    assert len(targeted) > 10
    assert set(targeted.namespace) == {RTL_NAMESPACE} and set(targeted.service_account) == {ZW_NAME}
    assert table.returncode == 1 and "Traceback" not in table.stderr
    assert f"{RTL_NAMESPACE}/{ZW_NAME}" in table.stdout


def test_a_python_tag_in_yaml_runs_nothing(tmp_path: Path) -> None:
    marker = Path("/tmp/irsa-nb-hardening-pwned")
    marker.unlink(missing_ok=True)
    case = BY_ID["yaml-python-tag"]
    run_checks(load_bundle(case.build(tmp_path)), **case.target)
    assert not marker.exists()


def test_a_symlinked_document_is_not_read(tmp_path: Path) -> None:
    case = BY_ID["document-symlink-not-followed"]
    bundle = case.build(tmp_path)
    inv = load_bundle(bundle)
    assert "k8s/pods.json" not in inv.documents
    blob = run_checks(inv).to_json() + json.dumps(inv.frames()["sources"].to_dict())
    assert "OUTSIDE-SECRET-CONTENT" not in blob
