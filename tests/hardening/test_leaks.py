"""Nothing leaked: planted secrets never reach an evidence folder, ``irsa-nb check`` output,
a bundle written by ``irsa-nb collect``, the Explorer's HTML or irsa-nb's log records; and
hostile strings render as inert text in the HTML evidence and in the widgets."""

from __future__ import annotations

import json
import logging
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

import irsa_nb
from irsa_nb import load_bundle, run_checks

from .helpers import run_cli, run_many
from .secret_corpus import (
    ACCESS_KEY,
    ERROR_MESSAGE,
    HOSTILE_NS,
    HOSTILE_POD,
    HOSTILE_SA,
    JWT,
    PASSWORD,
    ROLE_ERROR,
    SECRETS,
    TEMPLATES,
    UNLABELLED,
    annotations_with_secrets,
    env_with_secrets,
    leaks,
    write_secret_bundle,
)


@pytest.fixture(scope="module")
def secret_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_secret_bundle(tmp_path_factory.mktemp("secrets") / "bundle")


class _Markup(HTMLParser):
    """The elements of an HTML page, and the text inside its script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def assert_inert(html: str) -> None:
    """Hostile markup is text: parsed as HTML, it adds no element, handler, javascript: link
    or script of its own, and its characters are shown escaped."""
    page = _Markup()
    page.feed(html)
    for tag, attrs in page.tags:
        assert not (tag == "img" and attrs.get("src") == "x"), attrs
        assert tag != "svg" or "onload" not in attrs, attrs
        for name, value in attrs.items():
            assert not (name.startswith("on") and "alert(" in value), (tag, name, value)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
    assert not any("alert(" in script for script in page.scripts)
    assert "&lt;script&gt;alert(" in html  # shown, as text


def test_the_planted_secrets_do_reach_unredacted_results(secret_bundle: Path) -> None:
    """Otherwise the tests below would prove nothing."""
    raw = run_checks(load_bundle(secret_bundle), namespace="shop").to_json()
    assert len(leaks(raw)) >= 5, leaks(raw)


@pytest.mark.kernel
def test_evidence_folder_holds_no_secret_and_shows_hostile_strings_as_text(
    secret_bundle: Path, tmp_path: Path
) -> None:
    from tests.runs import run_runbook

    res = run_runbook(
        tmp_path / "ev",
        bundle=str(secret_bundle),
        namespace=HOSTILE_NS,
        error_message=ERROR_MESSAGE,
        timeout=240,
    )
    assert res.status == "ok", res.error
    files = sorted(p for p in (tmp_path / "ev").rglob("*") if p.is_file())
    assert {p.name for p in files} >= {
        "runbook.ipynb",
        "runbook.html",
        "runbook-full.html",
        "results.json",
        "results.csv",
        "manifest.json",
    }
    for path in files:
        assert leaks(path.read_text("utf-8")) == [], path.name
    df = res.results
    assert HOSTILE_SA in set(df.service_account)  # hostile names are kept as data ...
    assert HOSTILE_POD in set(df.pod)
    for page in ("runbook.html", "runbook-full.html"):
        html = (tmp_path / "ev" / page).read_text("utf-8")
        assert_inert(html)  # ... and rendered as text
        assert TEMPLATES in html  # template syntax is not evaluated
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    assert manifest["redacted"] is True and manifest["target"]["redacted"] > 0


@pytest.mark.slow
def test_check_and_diagnose_output_hold_no_secret_unless_asked(secret_bundle: Path) -> None:
    base = ["check", "--bundle", str(secret_bundle), "-n", "shop"]
    diag = ["diagnose", "--bundle", str(secret_bundle)]
    as_json, as_csv, table, raw, diag_json, diag_table = run_many(
        [
            [*base, "--format", "json"],
            [*base, "--format", "csv"],
            [*base, "--all"],
            [*base, "--format", "json", "--no-redact"],
            [*diag, ERROR_MESSAGE, "--format", "json"],
            [*diag, ROLE_ERROR, "-n", "shop", "-s", "leaky"],
        ]
    )
    for run in (as_json, as_csv, table):
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert leaks(run.stdout + run.stderr) == [], run.argv
    assert "***" in as_json.stdout
    assert len(leaks(raw.stdout)) >= 5  # --no-redact shows them: the switch is the only way
    for run in (diag_json, diag_table):
        assert run.returncode in (0, 1), run.stderr
        assert leaks(run.stdout + run.stderr) == []
    df = irsa_nb.diagnose(ERROR_MESSAGE, load_bundle(secret_bundle), namespace="shop")
    assert leaks(df.to_json() + json.dumps(df.attrs["text"])) == []
    from irsa_nb.diagnose import render_html

    html = render_html(df)
    assert leaks(html) == [] and "<svg" not in html


def test_explorer_html_holds_no_secret_and_escapes_hostile_strings(secret_bundle: Path) -> None:
    from irsa_nb.widgets import render
    from irsa_nb.widgets.state import ExplorerState, Source

    state = ExplorerState()
    assert state.load(Source.from_path(secret_bundle)), state.errors
    pages = [render.messages_html(state.messages)]
    state.select_namespace(HOSTILE_NS)
    for sa in ("leaky", HOSTILE_SA):
        state.select_service_account(sa)
        df = state.run()
        assert df is not None and len(df), state.errors
        assert len(leaks(df.to_json())) >= 3  # the rows hold them; the HTML must not
        pages += [
            render.results_table_html(df),
            render.findings_html(df),
            render.messages_html(state.messages),
        ]
    diagnosis = state.explain(ERROR_MESSAGE)
    pages += [render.diagnosis_html(diagnosis), render.messages_html(state.messages)]
    html = "\n".join(pages)
    assert leaks(html) == []
    assert_inert(html)
    assert "irsa-leaky" in html and "AccessDenied" in html  # the role error is shown, masked


@pytest.fixture
def secret_cluster(live, throttle_proxy, fast_retries):
    """A live cluster with the secrets planted in Kubernetes objects, in an IAM role's
    description and tags, and in the message of a failing IAM call."""
    from tests.live.conftest import small_data
    from tests.servers.aws import Fault

    data = small_data()
    sa = next(
        s
        for s in data["service_accounts"]
        if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
    )
    arn = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    sa["metadata"]["annotations"] = annotations_with_secrets(arn)
    sa["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"metadata": {"annotations": {"token": JWT}}}
    )
    ns, name = sa["metadata"]["namespace"], sa["metadata"]["name"]
    pods = [
        p
        for p in data["pods"]
        if p["metadata"]["namespace"] == ns and p["spec"].get("serviceAccountName") == name
    ]
    assert pods
    for pod in pods:
        pod["metadata"].setdefault("annotations", {}).update(
            {"eks.amazonaws.com/skip-containers": JWT, "example.com/token": PASSWORD}
        )
        for c in pod["spec"]["containers"]:
            c["env"] = [
                *c.get("env", []),
                *env_with_secrets(),
                {"name": "DATABASE_URL", "value": f"postgres://app:{UNLABELLED}@db/app"},
            ]
    role = data["roles"][arn.rsplit("/", 1)[-1]]["get_role"]["Role"]
    role["Description"] = f"owner key {ACCESS_KEY}"
    role["Tags"] = [*role.get("Tags", []), {"Key": "bootstrap", "Value": JWT}]
    lv = live(data)
    proxy = throttle_proxy()
    proxy.add("ListAttachedRolePolicies", *[Fault.error(403, "AccessDenied", ROLE_ERROR)] * 50)
    lv.aws.use_endpoint(proxy.url)
    assert JWT in json.dumps(lv.kube.objects("pods"))  # planted where the collector reads
    return lv


@pytest.mark.slow
def test_collected_bundle_collect_output_and_log_records_hold_no_secret(
    secret_cluster, tmp_path, caplog
) -> None:
    lv = secret_cluster
    out = tmp_path / "collected.tar.gz"
    run = run_cli(
        ["collect", "--cluster", lv.cluster, "--context", "cluster-ctx", "--out", str(out)],
        env=lv.env(),
    )
    assert run.returncode == 0, run.stderr
    assert "failed: aws/iam/list-attached-role-policies/" in run.stderr  # the summary ...
    assert leaks(run.stdout + run.stderr) == []  # ... names failures without their secrets
    with tarfile.open(out) as tar:
        texts = {
            m.name: tar.extractfile(m).read().decode("utf-8", "replace")
            for m in tar.getmembers()
            if m.isfile()
        }
    blob = "\n".join(texts.values())
    assert leaks(blob) == [], {n: leaks(t) for n, t in texts.items() if leaks(t)}
    assert UNLABELLED not in blob and "DATABASE_URL" in blob  # the name is kept, not the value
    assert "AccessDenied" in blob and "***" in blob  # recorded, masked
    assert "last-applied-configuration" not in blob
    inv = load_bundle(out)
    assert any(isinstance(doc, irsa_nb.bundle.CallFailed) for doc in inv.documents.values())

    # in-process, with the 403 fallback too: irsa-nb's own log records
    caplog.set_level(logging.DEBUG, logger="irsa_nb")
    lv.kube.forbidden_cluster_wide = {"pods"}
    run_checks(irsa_nb.collect(lv.cluster, context="cluster-ctx", progress=False))
    records = [r for r in caplog.records if r.name.startswith("irsa_nb")]
    assert records  # the collector does log
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        assert leaks(text) == [], (record.name, text[:300])


def test_every_planted_secret_kind_is_covered() -> None:
    assert set(SECRETS) == {
        "access key id",
        "temporary access key id",
        "secret access key",
        "session token",
        "service-account token (JWT)",
        "presigned EKS token",
        "password",
    }
