"""The runbook notebook under papermill: evidence folder, HTML, redaction, hostile input."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from irsa_nb import RESULT_COLUMNS, text
from irsa_nb.checks import REGISTRY
from irsa_nb.evidence import sha256
from irsa_nb.runbook import notebook_path

from .conftest import ACCESS_KEY, EVIL_SA, IMG, JWT, PASSWORD, SCRIPT, evidence_texts, local_paths

pytestmark = pytest.mark.kernel

RUNBOOK_PARAMETERS = {
    "bundle",
    "cluster",
    "region",
    "profile",
    "context",
    "namespace",
    "service_account",
    "pod",
    "sdk",
    "probe",
    "redact",
    "lang",
    "error_message",
    "results_dir",
}
FILES = {
    "runbook.ipynb",
    "runbook.html",
    "runbook-full.html",
    "results.json",
    "results.csv",
    "manifest.json",
}


def test_demo_run_writes_a_complete_evidence_folder(cart_run):
    assert cart_run.status == "ok" and cart_run.error == ""
    assert cart_run.verdict == "FAIL" and cart_run.exit_code == 1
    assert {p.name for p in cart_run.folder.iterdir()} == FILES
    manifest = json.loads((cart_run.folder / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["verdict"] == "FAIL"
    assert manifest["parameters"]["service_account"] == "cart"
    assert manifest["target"]["cluster"] == "shop-prod"
    assert manifest["target"]["issuer"].startswith("https://oidc.eks.us-west-2.amazonaws.com/id/")
    assert (
        manifest["started_utc"].endswith("Z") and manifest["finished_utc"] > manifest["started_utc"]
    )
    assert {"python", "irsa-nb", "pandas", "papermill"} <= set(manifest["versions"])
    assert set(manifest["files"]) == FILES - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert sha256(cart_run.folder / name) == digest


def test_results_hold_the_demo_failure_with_the_result_schema(cart_run):
    df = cart_run.results
    assert list(df.columns) == RESULT_COLUMNS
    failed = df[df.status == "FAIL"]
    assert failed["check_id"].tolist() == ["trust_policy_allows_service_account"]
    assert set(df["service_account"]) <= {"cart", ""}
    csv = pd.read_csv(cart_run.folder / "results.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == RESULT_COLUMNS
    assert csv[["check_id", "status", "detail"]].values.tolist() == (
        df[["check_id", "status", "detail"]].values.tolist()
    )


def test_html_has_a_section_per_seed_step_and_the_filled_in_remediation(cart_run):
    page = cart_run.html.read_text("utf-8")
    steps = sorted({c.seed_step for c in REGISTRY.values() if c.seed_step})
    for step in steps:
        title = text.lookup("en", "_runbook", "steps", str(step))
        assert f"Step {step}: {title}" in page
    if any(c.seed_step is None for c in REGISTRY.values()):
        assert "Beyond the article" in page
    assert page.index("Step 1:") < page.index("Step 3:") < page.index("Step 13:")
    assert "aws iam update-assume-role-policy --role-name irsa-cart" in page
    assert "system:serviceaccount:shop:cart" in page
    assert "Verdict" in page and "An Exception was encountered" in page  # the FAIL banner
    full = cart_run.html_full.read_text("utf-8")
    assert "hl-ipython3" not in page  # code cells only in full
    assert "hl-ipython3" in full
    assert "ChecksFailed" in page
    assert "unpkg.com/@jupyter-widgets" not in page  # no widget renderer needed


def test_notebook_metadata_keeps_no_local_paths(cart_run):
    nb = nbformat.read(cart_run.notebook, as_version=4)
    assert nb.metadata.papermill.input_path == "irsa_runbook.ipynb"
    assert nb.metadata.papermill.output_path == "runbook.ipynb"
    assert nb.metadata.irsa_nb.status == "ok"
    for name, body in evidence_texts(cart_run.folder).items():
        for path in local_paths(cart_run.folder.resolve(), cart_run.folder.parent):
            assert path not in body, f"{path} in {name}"


def test_hostile_bundle_renders_as_text_and_leaks_no_secrets(hostile_run):
    assert hostile_run.status == "ok", hostile_run.error
    assert hostile_run.verdict == "FAIL"
    texts = evidence_texts(hostile_run.folder)
    for name, body in texts.items():
        for secret in (JWT, ACCESS_KEY, PASSWORD):
            assert secret not in body, f"secret in {name}"
        for path in local_paths(hostile_run.folder.resolve()):
            assert path not in body, f"{path} in {name}"
    for page in ("runbook.html", "runbook-full.html"):
        body = texts[page]
        assert SCRIPT not in body and IMG not in body
        # shown as text (nbconvert may re-serialise quotes, never the angle brackets)
        assert "&lt;script&gt;alert(" in body and "pwned" in body
        assert "**bold**&lt;img src=x onerror=" in body
    df = hostile_run.results
    assert EVIL_SA in set(df["service_account"])  # kept as data, only rendered escaped
    assert (df["detail"].str.contains(r"\*\*\*", regex=True)).any()  # masked, not dropped
    manifest = json.loads(texts["manifest.json"])
    assert manifest["parameters"]["bundle"] == "hostile-bundle"
    assert manifest["target"]["redacted"] > 0
    assert "Reported error: likely causes" in texts["runbook.html"]


def test_chinese_runbook_uses_the_zh_catalogue(run_once):
    res = run_once("zh", bundle="demo", namespace="shop", service_account="cart", lang="zh")
    assert res.status == "ok" and res.verdict == "FAIL"
    page = res.html.read_text("utf-8")
    assert "步骤 3:验证是否正确设置 IAM 角色信任关系" in page
    assert "使信任关系与此集群和服务账户匹配" in page
    assert "aws iam update-assume-role-policy --role-name irsa-cart" in page
    assert res.results.loc[res.results.status == "FAIL", "title"].iloc[0] == (
        text.lookup("zh", "trust_policy_allows_service_account", "title")
    )


def test_plain_papermill_cli_runs_the_notebook(tmp_path):
    out = tmp_path / "out.ipynb"
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook_path()),
        str(out),
        "-p",
        "namespace",
        "shop",
        "-p",
        "service_account",
        "checkout",
        "-p",
        "results_dir",
        str(tmp_path / "res"),
        "--no-progress-bar",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((tmp_path / "res" / "results.json").read_text())
    assert {r["status"] for r in results} <= {"PASS", "SKIP", "INFO", "WARN"}
    assert any(r["check_id"] == "role_exists" and r["status"] == "PASS" for r in results)
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata.papermill.parameters["service_account"] == "checkout"


def test_notebook_parameters_are_typed_literals_with_help():
    import papermill as pm

    for name, required in (
        ("irsa_runbook.ipynb", RUNBOOK_PARAMETERS),
        ("irsa_fleet_scan.ipynb", {"bundle", "namespace", "lang", "output_dir", "redact"}),
    ):
        params = pm.inspect_notebook(str(notebook_path(name)))
        assert required <= set(params), name
        for p in params.values():
            assert p["inferred_type_name"] in {
                "str",
                "Optional[str]",
                "bool",
                "dict",
                "int",
                "Optional[int]",
            }, p
            assert p["help"], p
        nb = nbformat.read(notebook_path(name), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        names = []
        body = ast.parse(tagged[0].source).body
        # annotated literal assignments only, and the typing import their annotations need
        imports = [s for s in body if isinstance(s, ast.ImportFrom)]
        assert [ast.unparse(s) for s in imports] == ["from typing import Optional"]
        for stmt in (s for s in body if s not in imports):
            assert isinstance(stmt, ast.AnnAssign), ast.dump(stmt)
            ast.literal_eval(stmt.value)
            names.append(stmt.target.id)
        assert names == list(params)


def test_packaged_notebooks_are_the_repository_notebooks():
    import irsa_nb

    repo = Path(irsa_nb.__file__).resolve().parent.parent / "notebooks"
    for name in ("irsa_runbook.ipynb", "irsa_fleet_scan.ipynb"):
        assert notebook_path(name).read_bytes() == (repo / name).read_bytes()


def test_run_survives_a_relative_bundle_path(tmp_path, monkeypatch):
    from irsa_nb.bundle import write_documents
    from tests.runs import run_runbook

    from .conftest import _demo_docs

    write_documents(_demo_docs(), tmp_path / "b.tar.gz")
    monkeypatch.chdir(tmp_path)
    res = run_runbook("ev", bundle="b.tar.gz", namespace="shop", service_account="checkout")
    assert res.status == "ok", res.error
    assert res.verdict in {"PASS", "WARN"}
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    assert manifest["parameters"]["bundle"] == "b.tar.gz"
    for name, body in evidence_texts(tmp_path / "ev").items():
        assert str(tmp_path) not in body, name
    assert os.path.basename(res.notebook) == "runbook.ipynb"


def test_runbook_checks_a_live_cluster_and_records_who_looked(live, tmp_path):
    from tests.runs import run_runbook

    lv = live()
    sa = next(
        s
        for s in lv.data["service_accounts"]
        if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
    )
    ns, name = sa["metadata"]["namespace"], sa["metadata"]["name"]
    res = run_runbook(
        tmp_path / "ev", cluster=lv.cluster, namespace=ns, service_account=name, timeout=180
    )
    assert res.status == "ok", res.error
    assert set(res.results["service_account"]) <= {name, ""}
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    target = manifest["target"]
    assert target["live"] is True and target["cluster"] == lv.cluster
    assert target["cluster_arn"].endswith(f":cluster/{lv.cluster}")
    assert target["issuer"] == lv.issuer.issuer
    assert target["caller_identity"]["Arn"].startswith("arn:aws:")
    assert manifest["parameters"]["cluster"] == lv.cluster
    assert manifest["parameters"]["bundle"] is None
    page = res.html.read_text("utf-8")
    assert f"live cluster {lv.cluster}" in page and "AWS caller identity" in page
