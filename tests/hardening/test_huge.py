"""A 200 MB ``pods.json`` (one pod repeated with fresh names) is read and checked to the end.

No timing assertion: the subprocess timeout is what turns a hang into a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_nb.bundle import write_documents

from .helpers import assert_clean_rows, demo_docs, run_cli

pytestmark = pytest.mark.slow

TARGET_BYTES = 200 * 1024 * 1024


def write_huge_bundle(root: Path) -> tuple[Path, int]:
    """The demo bundle whose pods.json also holds ~200 MB of plain (non-IRSA) pods."""
    docs = demo_docs()
    pods = docs.pop("k8s/pods.json")["items"]
    docs["k8s/serviceaccounts.json"]["items"].append(
        {"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "bulk"}}
    )
    bundle = write_documents(docs, root / "huge")
    template = json.loads(json.dumps(next(p for p in pods if p["spec"].get("containers"))))
    template["metadata"].update(namespace="bulk", name="NAME", annotations={"note": "x" * 2000})
    template["spec"]["serviceAccountName"] = template["spec"]["serviceAccount"] = "default"
    for c in template["spec"]["containers"]:
        c["env"] = [e for e in c.get("env", []) if not e["name"].startswith("AWS_")]
    head, tail = json.dumps(template).split('"NAME"')
    count = 0
    with (bundle / "k8s/pods.json").open("w") as fh:
        fh.write('{"apiVersion": "v1", "kind": "List", "items": [\n')
        for p in pods:
            fh.write(json.dumps(p) + ",\n")
        size = fh.tell()
        while size < TARGET_BYTES:
            size += fh.write(f'{head}"bulk-{count:07d}"{tail},\n')
            count += 1
        fh.write(json.dumps(pods[0]) + "]}\n")
    return bundle, count


def test_a_200_mb_pod_list_is_read_and_checked_to_the_end(tmp_path: Path) -> None:
    bundle, count = write_huge_bundle(tmp_path)
    assert (bundle / "k8s/pods.json").stat().st_size >= TARGET_BYTES
    assert count > 40_000
    last = f"bulk-{count - 1:07d}"  # the last pod of the file: everything was parsed
    run = run_cli(["check", "--bundle", str(bundle), "-p", last, "--format", "json"], timeout=240)
    rows = assert_clean_rows(run)
    assert set(rows.loc[rows.pod != "", "pod"]) == {last}
    (detail,) = rows.loc[rows.check_id == "pod_uses_service_account", "detail"]
    assert f"bulk/{last}" in detail
