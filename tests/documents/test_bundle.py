"""Reading bundles: directories, archives, error files, YAML, and unsafe or broken input."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from irsa_nb import BundleError, build_inventory, demo_bundle, load_bundle, run_checks
from irsa_nb.bundle import CallFailed, Unreadable, read_documents, write_documents
from tests.checks.helpers import demo_docs, only


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_directory_tar_gz_and_zip_give_identical_results(tmp_path):
    expected = run_checks(load_bundle("demo"))
    for out in (tmp_path / "b.tar.gz", tmp_path / "b.zip", tmp_path / "dir"):
        write_documents(read_documents(demo_bundle()), out)
        got = run_checks(load_bundle(out))
        assert got.drop(columns="evidence").equals(expected.drop(columns="evidence")), out


def test_a_single_wrapping_folder_is_looked_through(tmp_path):
    shutil.copytree(demo_bundle(), tmp_path / "outer" / "customer-bundle")
    inv = load_bundle(tmp_path / "outer")
    assert inv.cluster.name == "shop-prod"
    archive = tmp_path / "wrapped.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(demo_bundle(), arcname="bundle-2026-11-29")
    assert load_bundle(archive).cluster.name == "shop-prod"


def test_error_txt_files_replace_the_document(tmp_path):
    write_documents(demo_docs(), tmp_path)
    (tmp_path / "aws/iam/get-role/irsa-checkout.json").unlink()
    (tmp_path / "aws/iam/get-role/irsa-checkout.error.txt").write_text(
        "\nAn error occurred (AccessDenied) when calling the GetRole operation: not allowed\n"
    )
    docs = read_documents(tmp_path)
    assert docs["aws/iam/get-role/irsa-checkout.json"] == CallFailed(
        "An error occurred (AccessDenied) when calling the GetRole operation: not allowed"
    )
    df = run_checks(load_bundle(tmp_path), "shop", "checkout")
    assert only(df, "role_exists").status == "ERROR"


@pytest.mark.parametrize(
    ("message", "not_found"),
    [
        ("An error occurred (NoSuchEntity) when calling the GetRole operation: x", True),
        ("An error occurred (ResourceNotFoundException) when calling DescribeCluster", True),
        ("An error occurred (AccessDenied) when calling the GetRole operation: x", False),
        ("Error from server (Forbidden): pods is forbidden", False),
        ("Could not connect to the endpoint URL", False),
    ],
)
def test_call_failed_tells_not_found_from_errors(message, not_found):
    assert CallFailed(message).not_found is not_found


def test_kubectl_yaml_files_load(tmp_path):
    import yaml

    write_documents(demo_docs(), tmp_path)
    pods = json.loads((tmp_path / "k8s/pods.json").read_text())
    (tmp_path / "k8s/pods.json").unlink()
    (tmp_path / "k8s/pods.yaml").write_text(yaml.safe_dump(pods))
    assert run_checks(load_bundle(tmp_path)).equals(run_checks(load_bundle("demo")))


def test_yaml_alias_bombs_are_refused(tmp_path):
    write_documents(demo_docs(), tmp_path)
    (tmp_path / "k8s/pods.json").unlink()
    bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nitems: [*c, *c]\n"
    (tmp_path / "k8s/pods.yaml").write_text(bomb)
    doc = read_documents(tmp_path)["k8s/pods.json"]
    assert isinstance(doc, Unreadable) and "aliases" in doc.message


def test_invalid_json_is_unreadable_with_line_number(tmp_path):
    write_documents(demo_docs(), tmp_path)
    (tmp_path / "aws/eks/describe-cluster.json").write_text('{"cluster": {"name": "x",\n')
    doc = read_documents(tmp_path)["aws/eks/describe-cluster.json"]
    assert isinstance(doc, Unreadable) and "line" in doc.message
    df = run_checks(load_bundle(tmp_path))
    assert only(df, "oidc_provider_exists").status == "ERROR"


def test_missing_path_and_non_bundles_raise_bundle_error(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        load_bundle(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BundleError, match="not a directory"):
        load_bundle(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="no aws/ or k8s/"):
        load_bundle(tmp_path / "empty")


@pytest.mark.parametrize(
    "name", ["../escape.json", "/etc/passwd", "k8s/../../x.json", "C:/windows/x.json"]
)
def test_tar_members_outside_the_bundle_are_refused(tmp_path, name):
    archive = _tar(tmp_path / "evil.tar.gz", [_file("k8s/pods.json", b"{}"), _file(name, b"{}")])
    with pytest.raises(BundleError, match="unsafe path"):
        load_bundle(archive)


def test_tar_links_are_refused(tmp_path):
    link = tarfile.TarInfo("k8s/pods.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    archive = _tar(
        tmp_path / "link.tar.gz", [_file("aws/eks/describe-cluster.json", b"{}"), (link, None)]
    )
    with pytest.raises(BundleError, match="link"):
        load_bundle(archive)
    hard = tarfile.TarInfo("k8s/sa.json")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "aws/eks/describe-cluster.json"
    archive = _tar(
        tmp_path / "hard.tar.gz", [_file("aws/eks/describe-cluster.json", b"{}"), (hard, None)]
    )
    with pytest.raises(BundleError, match="link"):
        load_bundle(archive)


def test_zip_symlinks_and_traversal_are_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("k8s/pods.json", "{}")
        info = zipfile.ZipInfo("k8s/serviceaccounts.json")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match="link"):
        load_bundle(archive)
    with zipfile.ZipFile(tmp_path / "trav.zip", "w") as zf:
        zf.writestr("k8s/pods.json", "{}")
        zf.writestr("../../outside.json", "{}")
    with pytest.raises(BundleError, match="unsafe path"):
        load_bundle(tmp_path / "trav.zip")


def test_damaged_archive_is_a_clear_error(tmp_path):
    write_documents(demo_docs(), tmp_path / "ok.tar.gz")
    data = (tmp_path / "ok.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="damaged archive"):
        load_bundle(tmp_path / "cut.tar.gz")


def test_symlinks_inside_a_bundle_directory_are_not_followed(tmp_path):
    write_documents(demo_docs(), tmp_path / "b")
    secret = tmp_path / "secret.json"
    secret.write_text('{"items": []}')
    (tmp_path / "b/k8s/pods.json").unlink()
    (tmp_path / "b/k8s/pods.json").symlink_to(secret)
    docs = read_documents(tmp_path / "b")
    assert "k8s/pods.json" not in docs


def test_inventory_frames_are_tables_of_the_inventory():
    frames = load_bundle("demo").frames()
    assert set(frames) == {
        "cluster",
        "oidc_providers",
        "roles",
        "service_accounts",
        "pods",
        "containers",
        "sources",
    }
    assert frames["cluster"].loc[0, "region"] == "us-west-2"
    sas = frames["service_accounts"]
    assert (
        sas.loc[(sas.namespace == "shop") & (sas.service_account == "analytics"), "audience"].item()
        == "sts.amazon.com"
    )
    roles = frames["roles"].set_index("role_name")
    assert roles.loc["irsa-payments", "gap"].startswith("An error occurred (NoSuchEntity)")
    assert roles.loc["irsa-checkout", "inline_policies"] == ["checkout-dynamodb"]
    assert (frames["sources"].status == "ok").sum() >= 30


def test_secret_env_values_never_reach_the_inventory(tmp_path):
    docs = demo_docs()
    pod = docs["k8s/pods.json"]["items"][3]
    pod["spec"]["containers"][0]["env"] += [
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
        {"name": "NOTE", "value": "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl here"},
    ]
    inv = build_inventory(docs)
    env = next(p for p in inv.pods if p.name == pod["metadata"]["name"]).containers[0].env
    assert env["AWS_SECRET_ACCESS_KEY"].value == "***"
    assert env["AWS_ACCESS_KEY_ID"].value == "***"
    assert "eyJ" not in env["NOTE"].value
    assert "wJalrXUtnFEMI" not in inv.frames()["containers"].to_json()


@pytest.mark.parametrize(
    "path",
    [
        "tls/issuer-chain.pem",
        "tls/discovery.json",
        "k8s/exec/shop/app-1/app/env.txt",
        "aws/iam/get-role/team.app.json",
        "k8s/pods.json",
    ],
)
def test_a_failed_command_round_trips_through_its_error_file(tmp_path, path):
    write_documents({"k8s/serviceaccounts.json": {"items": []}, path: CallFailed("boom")}, tmp_path)
    assert read_documents(tmp_path)[path] == CallFailed("boom")


@pytest.mark.parametrize("name", ["k8s/version.json", "k8s/version.yaml"])
def test_a_number_too_large_to_read_makes_only_its_file_unreadable(tmp_path, name):
    write_documents(demo_docs(), tmp_path)
    (tmp_path / "k8s/version.json").unlink()
    huge = "9" * 5000  # beyond Python's int digit limit: int() raises a plain ValueError
    body = f'{{"serverVersion": {{"major": "1", "minor": {huge}}}}}'
    (tmp_path / name).write_text(
        body if name.endswith(".json") else f"serverVersion: {{minor: {huge}}}\n"
    )
    doc = read_documents(tmp_path)["k8s/version.json"]
    assert isinstance(doc, Unreadable)
    assert doc.message.startswith(name) and "holds a number too large to read" in doc.message
    assert len(doc.message) < 200 and huge not in doc.message
    inv = load_bundle(tmp_path)  # the rest of the bundle still loads
    assert inv.cluster.name == "shop-prod" and inv.kubernetes_version == "1.29"
    assert only(run_checks(inv, "shop", "checkout"), "role_exists").status == "PASS"


@pytest.mark.slow
def test_a_device_or_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    script = Path(sys.executable).with_name("irsa-nb")
    for path in ("/dev/zero", str(fifo)):
        # In a subprocess first: the old code read these forever.
        proc = subprocess.run(
            [str(script), "check", "--bundle", path], capture_output=True, text=True, timeout=60
        )
        message = f"{path} is not a regular file or directory, so it cannot be a bundle"
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.splitlines() == [f"irsa-nb: error: {message}"]
        with pytest.raises(BundleError) as err:
            read_documents(path)
        assert str(err.value) == message


def _macos_finder_zip(out):
    """A zip as macOS Finder makes it: AppleDouble ``._*`` forks under ``__MACOSX/`` and next
    to the real files, and a .DS_Store, around one ``customer-bundle/`` folder."""
    root = demo_bundle()
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("customer-bundle/.DS_Store", b"\x00\x00\x00\x01Bud1")
        zf.writestr("customer-bundle/._aws", fork)
        for f in sorted(root.rglob("*")):
            if f.is_file():
                rel = f.relative_to(root)
                zf.writestr(f"customer-bundle/{rel.as_posix()}", f.read_bytes())
                forked = (rel.parent / f"._{rel.name}").as_posix()
                zf.writestr(f"__MACOSX/customer-bundle/{forked}", fork)
    return out


def test_macos_finder_zip_and_tar_metadata_are_ignored(tmp_path):
    expected = run_checks(load_bundle("demo"))
    zipped = _macos_finder_zip(tmp_path / "customer-bundle.zip")
    assert run_checks(load_bundle(zipped)).equals(expected)
    with zipfile.ZipFile(zipped) as zf:  # the same as a tar (bsdtar writes ._* forks too)
        members = [_file(n, zf.read(n)) for n in zf.namelist()]
    archive = _tar(
        tmp_path / "customer-bundle.tar.gz", [*members, _file("._customer-bundle", b"x")]
    )
    docs = read_documents(archive)
    assert not [k for k in docs if "._" in k or "DS_Store" in k or "MACOSX" in k]
    assert run_checks(load_bundle(archive)).equals(expected)


def test_writing_never_mixes_with_files_already_in_the_directory(tmp_path):
    out = tmp_path / "b"
    write_documents(demo_docs(), out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(FileExistsError, match="is not empty"):
        write_documents({"k8s/pods.json": {"items": []}}, out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is not a directory"):
        write_documents(demo_docs(), tmp_path / "file")
    write_documents(demo_docs(), tmp_path / "b.tar.gz")
    write_documents(demo_docs(), tmp_path / "b.tar.gz")  # an archive is replaced whole
    assert read_documents(tmp_path / "b.tar.gz") == read_documents(out)


def test_a_long_error_is_cut_once_and_reads_back_the_same(tmp_path):
    from irsa_nb.bundle import MAX_MESSAGE_CHARS

    cut = CallFailed("An error occurred (AccessDenied): " + "x" * 5000)
    assert len(cut.message) <= MAX_MESSAGE_CHARS and cut.message.endswith("more characters)")
    assert CallFailed(cut.message) == cut
    write_documents({"aws/eks/describe-cluster.json": cut}, tmp_path / "b")
    assert read_documents(tmp_path / "b")["aws/eks/describe-cluster.json"] == cut


def test_pod_lists_are_read_with_equal_parts_shared_and_unchanged_values(tmp_path):
    """pods.json (cluster-wide or per namespace) is parsed with equal objects and arrays as
    one object, as the live collector keeps them; values, key order and JSON types are those
    of a plain parse (1, 1.0, true and "1" stay apart), and other documents are not shared."""
    env = [{"name": "AWS_REGION", "value": "eu-west-1"}, {"name": "N", "value": "1"}]
    pods = {
        "apiVersion": "v1",
        "items": [
            {"metadata": {"name": f"p{i}", "labels": {"app": "a", "n": n}},
             "spec": {"containers": [{"name": "c", "env": [dict(e) for e in env]}],
                      "tolerations": [[1, 2], [1, 2]], "x": [True, 1, 1.0, "1", None]}}
            for i, n in enumerate([1, 1.0, True, "1", 1])
        ],
    }  # fmt: skip
    other = {"a": {"k": "v"}, "b": {"k": "v"}}
    files = {
        "k8s/pods.json": pods,
        "k8s/namespaces/shop/pods.json": pods,
        "aws/eks/describe-cluster.json": other,
    }
    for rel, doc in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(json.dumps(doc))
    docs = read_documents(tmp_path)
    for rel, doc in files.items():
        assert json.dumps(docs[rel]) == json.dumps(doc)  # same values, order and types
    for rel in ("k8s/pods.json", "k8s/namespaces/shop/pods.json"):
        items = docs[rel]["items"]
        labels = [p["metadata"]["labels"] for p in items]
        assert labels[0] is labels[4]  # {"app": "a", "n": 1} twice
        assert len({id(x) for x in labels[:4]}) == 4  # 1, 1.0, true and "1" differ
        assert [type(x["n"]) for x in labels] == [int, float, bool, str, int]
        containers = {id(p["spec"]["containers"]) for p in items}
        assert len(containers) == 1
        tol = items[0]["spec"]["tolerations"]
        assert tol[0] is tol[1]
    assert (
        docs["aws/eks/describe-cluster.json"]["a"] is not docs["aws/eks/describe-cluster.json"]["b"]
    )


def test_a_different_part_under_the_same_hash_is_kept_apart():
    """The sharing memo keeps hashes of parts' keys; on a collision the parts are compared,
    and the second part is kept under its whole key, not merged into the first."""
    from irsa_nb.bundle import _found

    first, second, third = {"k": "a"}, {"k": "b"}, {"k": "b"}
    whole = ("{", "k", "b")
    memo = {hash(whole): first}  # as if {"k": "a"} had the hash of {"k": "b"}'s key
    assert _found(memo, whole, second) is second
    assert _found(memo, whole, third) is second
    assert memo[hash(whole)] is first
