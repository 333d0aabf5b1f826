"""The in-pod probe script run for real with the system's sh, and the parsers of its output."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest

from irsa_nb.exec_facts import (
    KEPT_ENV_VALUES,
    ExecFacts,
    TokenFile,
    can_read,
    exec_facts_from_documents,
    exec_path,
    redact_env_text,
)
from irsa_nb.live import exec as live_exec
from irsa_nb.live.exec_probe import (
    PROBE_COMMAND,
    PROBE_SCRIPT,
    decode_claims,
    documents_from_sections,
    split_sections,
)
from irsa_nb.live.script import collect_script

from .conftest import (
    DASH,
    MULTILINE_ENV,
    MULTILINE_FRAGMENTS,
    PEM,
    SECRET_VALUES,
    needs_root,
)

SIG = "c2lnbmF0dXJlLW5ldmVyLWxlYXZlcw"


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'RS256', 'kid': 'k'})}.{_b64(claims)}.{SIG}"


CLAIMS = {
    "aud": ["sts.amazonaws.com"],
    "exp": 2_000_000_000,
    "iat": 1_999_990_000,
    "iss": "https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
    "kubernetes.io": {"namespace": "shop", "pod": {"name": "cart-1", "uid": "u"}},
    "nbf": 1_999_990_000,
    "sub": "system:serviceaccount:shop:cart",
}


def _fat_jar(path: Path) -> None:
    """A Spring Boot style jar: SDK v1 core jar inside, no STS jar; > 512 KiB."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("BOOT-INF/lib/aws-java-sdk-core-1.12.261.jar", b"x")
        zf.writestr("BOOT-INF/classes/app.class", os.urandom(600_000))


@pytest.fixture
def box() -> Iterator[dict]:
    """A container filesystem: app dir (cwd), home, a token, SDKs of four languages (under
    /tmp, traversable by other uids)."""
    top = Path(tempfile.mkdtemp(prefix="irsa-probe-"))
    root = top / "box"
    for d in ("app/lib", "home/.aws", "bin", "site/boto3-1.9.100.dist-info", "tok"):
        (root / d).mkdir(parents=True)
    (root / "site/boto3-1.9.100.dist-info/METADATA").write_text(
        "Metadata-Version: 2.1\nName: boto3\nVersion: 1.9.100\n"
    )
    node = root / "app/node_modules"
    for pkg, version in (("aws-sdk", "2.1500.0"), ("@aws-sdk/client-sts", "3.20.0")):
        (node / pkg).mkdir(parents=True)
        (node / pkg / "package.json").write_text(
            json.dumps({"name": pkg, "version": version}, indent=2)
        )
    (node / "@aws-sdk/client-s3").mkdir()
    (node / "@aws-sdk/client-s3/package.json").write_text('{"name": "x", "version": "3.600.0"}')
    (root / "app/lib/sdk-core-2.20.0.jar").write_bytes(b"x")
    (root / "app/lib/sts-2.20.0.jar").write_bytes(b"x")
    _fat_jar(root / "app/app.jar")
    (root / "home/.aws/credentials").write_text(
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        "# comment = x\n[ops]\nregion=us-east-1"
    )
    (root / "home/.aws/config").write_text("[profile ops]\nrole_arn = arn:aws:iam::1:role/x\n")
    token = root / "tok/token"
    token.write_text(_jwt(CLAIMS))
    token.chmod(0o640)
    for tool in ("env", "id", "stat", "ls", "find", "unzip", "timeout"):
        if shutil.which(tool):
            (root / "bin" / tool).symlink_to(shutil.which(tool))
    shim = root / "bin/python3"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    shim.chmod(0o755)
    env = {
        "PATH": str(root / "bin"),
        "HOME": str(root / "home"),
        "PYTHONPATH": str(root / "site"),
        "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/cart",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ACCESS_KEY_ID": SECRET_VALUES[0],
        "AWS_SECRET_ACCESS_KEY": SECRET_VALUES[1],
        "DATABASE_URL": f"postgres://app:{SECRET_VALUES[2]}@db/app",
        "MULTI": "line1\nline2",
    }
    yield {"root": root, "env": env, "token": token}
    shutil.rmtree(top, ignore_errors=True)


def _run(box: dict, *prefix: str, shell: tuple[str, ...] = (DASH,)) -> subprocess.CompletedProcess:
    for dirpath, dirnames, _ in os.walk(box["root"].parent):
        for d in dirnames:
            Path(dirpath, d).chmod(0o755)
    box["root"].parent.chmod(0o755)
    return subprocess.run(
        [*prefix, *shell, "-c", PROBE_SCRIPT],
        env=box["env"],
        cwd=box["root"] / "app",
        capture_output=True,
        text=True,
        timeout=120,
    )


def _facts(stdout: str, checked_at: int = 1_999_995_000) -> ExecFacts:
    shell, sections, finished = split_sections(stdout)
    assert shell and finished
    docs = {
        exec_path("shop", "cart-1", "app", name): doc
        for name, doc in documents_from_sections(sections, checked_at).items()
    }
    docs[exec_path("shop", "cart-1", "app", "probe.json")] = {"status": "ok"}
    return exec_facts_from_documents(docs)[("shop", "cart-1", "app")], docs


def test_probe_reads_what_the_container_sees_and_no_secret_leaves_it(box):
    res = _run(box)
    assert res.returncode == 0, res.stderr
    for secret in (*SECRET_VALUES, SIG, "line2"):
        assert secret not in res.stdout  # masked inside the container; never the signature
    f, docs = _facts(res.stdout)
    env = f.env
    assert env["AWS_ROLE_ARN"] == "arn:aws:iam::111122223333:role/cart"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == env["DATABASE_URL"] == "***"
    assert (f.uid, f.gid) == (os.geteuid(), os.getegid())
    tok = f.token
    assert (tok.path, tok.from_env, tok.exists, tok.mode, tok.readable) == (
        str(box["token"]), True, True, 0o640, True,
    )  # fmt: skip
    claims = docs[exec_path("shop", "cart-1", "app", "token-claims.json")]
    assert claims == {k: CLAIMS[k] for k in ("iss", "sub", "aud", "exp", "iat")} | {
        "checked_at": 1_999_995_000
    }
    assert f.claims.expired is False
    files = {a.kind: a for a in f.aws_files}
    assert files["credentials"].state == "present"
    assert files["credentials"].profiles == {
        "default": ("aws_access_key_id", "aws_secret_access_key"),
        "ops": ("region",),
    }
    assert files["config"].profiles == {"ops": ("role_arn",)}
    sdks = {(s.sdk, s.version): s for s in f.sdks}
    # the SDK inside app.jar is found with unzip -l: the box has it only if this machine does
    has_unzip = (box["root"] / "bin/unzip").exists()
    assert set(sdks) == {
        ("boto3", "1.9.100"),
        ("node", "2.1500.0"),
        ("node", "3.20.0"),  # the oldest v3 client in the image
        ("java2", "2.20.0"),
        *([("java", "1.12.261")] if has_unzip else []),
    }
    assert sdks[("java2", "2.20.0")].sts_module is True
    text = json.dumps(docs, default=str)
    assert not any(s in text for s in SECRET_VALUES)
    if not has_unzip:
        pytest.skip("no unzip on this machine (apt: unzip): the SDK inside app.jar not checked")
    assert sdks[("java", "1.12.261")].sts_module is False  # inside app.jar: core, no sts
    assert sdks[("java", "1.12.261")].where.endswith("/app/app.jar")


@needs_root
def test_probe_as_a_non_root_user_sees_a_root_only_token_as_unreadable(box):
    box["token"].chmod(0o600)
    res = _run(box, shutil.which("setpriv"), "--reuid=1000", "--regid=1000", "--clear-groups")
    f, _ = _facts(res.stdout)
    assert (f.uid, f.gid) == (1000, 1000)
    assert (f.token.uid, f.token.gid, f.token.mode, f.token.readable) == (0, 0, 0o600, False)
    assert can_read(f) is False
    assert f.claims is None  # an unreadable token gives no claims


def test_probe_without_any_tool_still_reads_env_user_and_token(box):
    for tool in (box["root"] / "bin").iterdir():
        tool.unlink()
    res = _run(box)
    assert res.returncode == 0, res.stderr
    f, _ = _facts(res.stdout)
    assert f.env["AWS_ROLE_ARN"].startswith("arn:aws:iam::")  # the shell's export -p
    assert f.uid == os.geteuid()  # /proc/self/status
    assert f.token.exists and f.token.readable and f.token.mode is None  # no stat, no ls
    assert f.claims is not None and f.claims.sub == CLAIMS["sub"]
    assert f.sdks == () and set(f.missing_tools) == {"python3/python", "find"}


def test_a_value_cannot_fake_a_section(box):
    box["env"]["EVIL"] = "x\n@@irsa-nb:p1@@ id\nuid=0 gid=0"
    box["env"]["AWS_REGION"] = "IRSA-NB-PROBE 1 @@irsa-nb:p1@@"
    f, _ = _facts(_run(box).stdout)
    assert f.uid == os.geteuid() and f.env["EVIL"] == "***"


BUSYBOX = shutil.which("busybox")
SHELLS = {"dash": (DASH,), "bash": (shutil.which("bash"),), "busybox": (BUSYBOX, "sh")}


@pytest.mark.parametrize("tools", ["awk", "env", "export-p"])
@pytest.mark.parametrize("shell", ["dash", "busybox", "bash"])
def test_multi_line_values_never_fake_a_variable_nor_leak(box, shell, tools):
    """Names from awk's ENVIRON (else env, else export -p) count only when really set; values
    come from the variables: a PEM's tail line, an AWS_ACCESS_KEY_ID, a second AWS_REGION or
    an ``export``/``declare -x`` line inside another value are never read as variables."""
    if not SHELLS[shell][0]:
        pytest.skip(f"{shell} is not installed")
    if tools == "awk" and shutil.which("awk"):
        (box["root"] / "bin/awk").symlink_to(shutil.which("awk"))
    elif tools == "export-p":  # no awk, no env: the shell's export -p (busybox: its applets)
        (box["root"] / "bin/env").unlink(missing_ok=True)
    env = {k: v for k, v in box["env"].items() if k not in ("AWS_ACCESS_KEY_ID", "MULTI")}
    env.pop("AWS_SECRET_ACCESS_KEY")
    env.update(MULTILINE_ENV, AWS_REGION="us-west-2", EMPTY="")
    box["env"] = env
    res = _run(box, shell=SHELLS[shell])
    assert res.returncode == 0, res.stderr
    assert not any(x in res.stdout for x in MULTILINE_FRAGMENTS)  # masked inside the container
    lines = split_sections(res.stdout)[1]["env"].splitlines()
    names = [ln.split("=", 1)[0] for ln in lines]
    assert len(names) == len(set(names)), lines  # one line per variable
    f, docs = _facts(res.stdout)
    assert set(f.env) - set(env) <= {"PWD", "OLDPWD", "SHLVL", "_"}, lines  # no fake names
    assert f.env["AWS_REGION"] == "us-west-2" and f.env["HOME"] == env["HOME"]
    assert f.env["AWS_ROLE_ARN"] == "arn:aws:iam::111122223333:role/cart"
    assert f.env["AWS_WEB_IDENTITY_TOKEN_FILE"] == str(box["token"])
    assert f.env["TLS_KEY"] == f.env["DB_URL"] == "***" and f.env["EMPTY"] == ""
    assert f.env["AWS_ROLE_SESSION_NAME"] == "***"  # kept name, but two lines
    assert "AWS_ACCESS_KEY_ID" not in f.env and "PASSWORD" not in f.env
    text = json.dumps(docs, default=str)
    assert not any(x in text for x in (*MULTILINE_FRAGMENTS, "PASSWORD"))


def test_env_text_is_split_exactly_and_a_repeated_kept_name_keeps_no_value():
    env = {**MULTILINE_ENV, "AWS_REGION": "us-west-2", "HOME": "/root", "E": "", "R": "a\rb"}
    nul = "".join(f"{k}={v}\0" for k, v in env.items())
    assert redact_env_text(nul, nul=True) == (
        "TLS_KEY=***\nDB_URL=***\nAWS_ROLE_SESSION_NAME=***\nAWS_REGION=us-west-2\n"
        "HOME=/root\nE=\nR=***\n"
    )
    lines = redact_env_text(nul.replace("\0", "\n"))  # plain env: continuations look like vars
    assert "AWS_REGION=***\n" in lines and lines.count("AWS_REGION=") == 1
    assert "AWS_ROLE_SESSION_NAME=app\n" in lines  # its first line: the value's own text
    # (only names can still come from continuations there: SecretTailAbc123=***, PASSWORD=***)
    assert not any(x in lines for x in MULTILINE_FRAGMENTS if x != "SecretTailAbc123")
    assert redact_env_text("HOME=/a\u2028AWS_PROFILE=x\nAWS_REGION=eu-west-1\r\n") == (
        "HOME=***\nAWS_REGION=eu-west-1\n"
    )  # only \n splits; a kept value with a line separator is masked
    # a name must be the whole text before "=" (no trailing newline); CRLF is tolerated alike
    assert redact_env_text("AWS_REGION\n=us-east-1\0AWS_PROFILE=p\r\0", nul=True) == (
        "AWS_PROFILE=p\n"
    )


def test_timeout_keeps_the_complete_sections_only():
    out = "IRSA-NB-PROBE 1 @@m@@\n\n@@m@@ env\nA=1\n\n@@m@@ id\nuid=5 gid=5\n\n@@m@@ sdk\ncwd\t/"
    shell, sections, finished = split_sections(out)
    assert shell and not finished and sections == {"env": "A=1\n", "id": "uid=5 gid=5\n"}
    assert split_sections("OCI runtime exec failed: exec failed") == (False, {}, False)


def test_claims_keep_five_fields_and_reject_junk():
    payload = _b64({**CLAIMS, "aud": "sts.amazonaws.com", "exp": True})
    assert decode_claims(payload) == {
        "iss": CLAIMS["iss"], "sub": CLAIMS["sub"], "aud": ["sts.amazonaws.com"], "exp": None,
        "iat": CLAIMS["iat"],
    }  # fmt: skip
    assert decode_claims("not base64 !!") is None and decode_claims(_b64(["x"])) is None  # type: ignore[arg-type]


def test_the_probe_is_one_fixed_command_that_fits_in_an_exec_url():
    assert PROBE_COMMAND[:2] == ("sh", "-c") and PROBE_COMMAND[2] == PROBE_SCRIPT
    assert subprocess.run([DASH, "-n", "-c", PROBE_SCRIPT]).returncode == 0
    long = "a" * 63
    query = [("container", long), ("stdin", "false"), ("stdout", "true"), ("stderr", "true")]
    query += [("tty", "false")] + [("command", a) for a in PROBE_COMMAND]
    line = (
        f"GET /api/v1/namespaces/{long}/pods/{'p' * 253}/exec?"
        + urlencode(query, safe=live_exec._SAFE, quote_via=quote_plus)
        + " HTTP/1.1"
    )
    assert len(line) < 8190  # aiohttp's and many proxies' request-line limit
    assert ";" not in line.split("?", 1)[1]  # Go's ParseQuery rejects unescaped semicolons


def _script_functions(tmp_path: Path) -> Path:
    """The collect script's exec helpers (mask_env, claims_json) as a sourceable file."""
    script = collect_script("c", "r", exec=True)
    start = script.index("    mask_env() {")
    end = script.index("    split_probe() {")
    path = tmp_path / "helpers.sh"
    path.write_text(script[start:end])
    return path


def test_the_script_masks_env_like_the_collector(tmp_path):
    lines = [f"{n}=v-{i}" for i, n in enumerate(KEPT_ENV_VALUES)]
    lines += ["DB_PASSWORD=hunter2-db", "EMPTY=", "PATH=/usr/bin", "not a var", "9X=1"]
    lines += [f"{k}={v}" for k, v in MULTILINE_ENV.items()]
    text = "\n".join(lines) + "\n"
    helpers = _script_functions(tmp_path)

    def mask_env(data: str, pre: str = "") -> str:
        cmd = f'. "{helpers}"; {pre}mask_env'
        return subprocess.run([DASH, "-c", cmd], input=data, capture_output=True, text=True).stdout

    out = mask_env(text)  # plain env: line-based
    assert out == redact_env_text(text)
    assert "hunter2-db" not in out and "PATH=***" in out and "AWS_ROLE_ARN=v-0" in out
    assert "AWS_REGION=***" in out and "secret-region-9f" not in out  # AWS_REGION twice
    # env -0 records (tr makes them lines, their newlines \001), as the no-shell path reads them
    nul = "".join(f"{ln}\0" for ln in lines) + f"TLS_KEY2={PEM}\0"
    out = mask_env(nul, "tr '\\000\\n' '\\n\\001' | ")
    assert out == redact_env_text(nul, nul=True)
    assert "AWS_REGION=v-2" in out and "AWS_ROLE_SESSION_NAME=***" in out
    assert not any(x in out for x in (*MULTILINE_FRAGMENTS, "\nPASSWORD="))


@pytest.mark.parametrize("bad", ["inf", "nan", "0", "0.0", "-1", ".5", "1e3", '1, "x": 2'])
def test_the_script_wants_a_finite_positive_exec_timeout(tmp_path, bad):
    script = tmp_path / "c.sh"
    script.write_text(collect_script("c", "r", exec=True))
    env = {"PATH": str(tmp_path), "IRSA_OUT": str(tmp_path / "out")}  # no aws, no kubectl
    for value, why in ((bad, "IRSA_EXEC_TIMEOUT must be a positive number"), ("2.5", "aws is")):
        res = subprocess.run(
            [DASH, str(script)], env={**env, "IRSA_EXEC_TIMEOUT": value}, capture_output=True,
            text=True,
        )  # fmt: skip
        assert res.returncode == 2 and why in res.stderr, res.stderr


def test_the_script_decodes_claims_like_the_collector(tmp_path):
    helpers = _script_functions(tmp_path)
    payload = _jwt(CLAIMS).split(".")[1]
    out = subprocess.run(
        [DASH, "-c", f'. "{helpers}"; claims_json "$1" 1999995000', "sh", payload],
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out) == {**decode_claims(payload), "checked_at": 1_999_995_000}


def test_token_readability_from_owner_group_and_mode():
    def facts(uid, gid, groups, owner, group, mode, readable=None):
        tok = TokenFile("/t", True, True, owner, group, mode, readable)
        return ExecFacts("n", "p", "c", "ok", uid=uid, gid=gid, groups=groups, token=tok)

    assert can_read(facts(1000, 1000, (), 0, 0, 0o600)) is False
    assert can_read(facts(0, 0, (), 0, 0, 0o600)) is True  # root
    assert can_read(facts(1000, 1000, (1000, 65534), 0, 65534, 0o640)) is True  # fsGroup
    assert can_read(facts(1000, 1000, (), 1000, 0, 0o600)) is True  # 1.19+: owner
    assert can_read(facts(1000, 1000, (), 0, 0, 0o644, readable=False)) is False  # [ -r ] wins


def test_exit_status_of_v4_v5_status_frames():
    ok = b'{"metadata":{},"status":"Success"}'
    code = (
        b'{"status":"Failure","message":"command terminated with non-zero exit code: exit 3",'
        b'"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
    )
    internal = (
        b'{"status":"Failure","message":"Internal error occurred: no sh","reason":"Internal"}'
    )
    assert live_exec._exit_status(ok) == (0, "")
    assert live_exec._exit_status(code) == (3, "command terminated with non-zero exit code: exit 3")
    assert live_exec._exit_status(internal) == (None, "Internal error occurred: no sh")
    assert live_exec._exit_status(b"") == (None, "")


def test_containerd_no_shell_status_without_exit_code_is_a_skip(monkeypatch):
    """Real API servers with containerd answer a missing ``sh`` with an InternalError Status
    (no exit code, the message on channel 3): no shell, then ``env``/``id`` as plain argv."""
    message = (
        "Internal error occurred: error executing command in container: failed to exec in "
        'container: failed to start exec "1f2e": OCI runtime exec failed: exec failed: unable to '
        'start container process: exec: "sh": executable file not found in $PATH: unknown'
    )
    sent = []

    def fake_run(api, ns, pod, container, argv, timeout=30):
        sent.append(list(argv))
        if list(argv) == ["env", "-0"]:  # an env without -0: usage on stderr, exit 1
            return live_exec.ExecOutput("", "env: unrecognized option: 0\n", 1, "")
        if list(argv) == ["env"]:
            return live_exec.ExecOutput("HOME=/home/nonroot\nSECRET_TOKEN=abc123\n", "", 0, "")
        return live_exec.ExecOutput("", "", None, message)

    monkeypatch.setattr(live_exec, "run_command", fake_run)
    docs = live_exec.probe_container(None, "shop", "cart-1", "app", timeout=5)
    probe = docs[exec_path("shop", "cart-1", "app", "probe.json")]
    assert probe["status"] == "no_shell" and probe["exit_code"] is None
    assert 'exec: "sh": executable file not found' in probe["message"]
    assert "read directly: env.txt" in probe["message"]
    assert (
        docs[exec_path("shop", "cart-1", "app", "env.txt")]
        == "HOME=/home/nonroot\nSECRET_TOKEN=***\n"
    )
    assert sent == [list(PROBE_COMMAND), ["env", "-0"], ["env"], ["id"]]
    f = exec_facts_from_documents(docs)[("shop", "cart-1", "app")]
    assert f.status == "no_shell" and f.has_facts and f.uid is None


def test_hostile_or_broken_exec_files_in_a_bundle_never_break_the_checks(tmp_path):
    import irsa_nb
    from irsa_nb.bundle import read_documents, write_documents
    from irsa_nb.inventory import build_inventory

    pod, c = "checkout-7d4b9c6f5-k2x9p", "checkout"
    docs = read_documents(irsa_nb.demo_bundle("demo"))
    junk = {
        "probe.json": ["not", "an", "object"],
        "env.txt": "AWS_ROLE_ARN=<script>alert(1)</script>\n=x\n\x00\nAWS_PROFILE\n",
        "id.txt": "uid=abc gid= groups=(x)",
        "token-stat.txt": "stat=9 9 99999\nexists=maybe\nls=-rw\n",
        "token-claims.json": {"aud": 5, "exp": "soon", "iat": True, "sub": ["x"]},
        "aws-files.txt": "file\tcredentials\nkey\tx\nfile\tconfig\tdefault\tpresent\t/c\n",
        "sdk.json": {"records": [1, [], ["jar"], ["npm", "x"], ["gomod", "github.com/x"]]},
    }
    for name, doc in junk.items():
        docs[exec_path("shop", pod, c, name)] = doc
    docs[exec_path("shop", pod, "otel-collector", "probe.json")] = {"status": "weird"}
    write_documents(docs, tmp_path / "b")
    for inv in (build_inventory(docs), irsa_nb.load_bundle(tmp_path / "b")):
        df = irsa_nb.run_checks(inv, namespace="shop", pod=pod)
        assert set(df.status) <= {"PASS", "FAIL", "WARN", "INFO", "SKIP", "ERROR"}
        rows = df[df.check_id == "in_pod_evidence"].set_index("status")
        assert set(rows.index) == {"PASS", "ERROR"}  # a junk status is an error, not a crash
        assert _facts_ok(inv.exec_facts[("shop", pod, c)])


def _facts_ok(f: ExecFacts) -> bool:
    return f.uid is None and f.token.mode is None and f.claims.exp is None and f.sdks == ()


def test_secret_values_in_a_hand_written_env_txt_never_reach_the_inventory():
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    env = (
        f"AWS_SECRET_ACCESS_KEY={key}\n"
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
        f"NOTE=token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.{SIG}\n"
        "AWS_REGION=us-west-2\n"
    )
    docs = {exec_path("shop", "cart-1", "app", "env.txt"): env}
    f = exec_facts_from_documents(docs)[("shop", "cart-1", "app")]
    assert f.env["AWS_SECRET_ACCESS_KEY"] == f.env["AWS_ACCESS_KEY_ID"] == "***"
    assert f.env["NOTE"] == "token ***" and f.env["AWS_REGION"] == "us-west-2"
