"""Chinese output is Chinese: no English sentence fragments spliced into zh rows.

Fragments built below the checks (trust-policy explanations, ARN errors, credential-chain
rules, the names of evidence that was not collected) are :class:`irsa_nb.text.Msg` objects
rendered in the row's language; English stays the text of ``str(msg)`` and of the evidence.
"""

from __future__ import annotations

import ast
import json
import pickle
import re
import string
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from irsa_nb import load_bundle, run_checks
from irsa_nb.demo import demo_names
from irsa_nb.text import Msg, catalogue, join, render

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the heuristic

_QUOTED = re.compile(r"`[^`\n]*`|\"[^\"\n]*\"|“[^”\n]*”|'[^'\n]*'(?!\w)")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
_ARN = re.compile(r"\barn:\S+")
# An inline command runs to the next CJK character, bracket or sentence punctuation.
_COMMAND = re.compile(
    r"\b(?:kubectl|aws|eksctl|pip|npm|helm|curl|sh|echo|grep|docker|irsa-nb)\s"
    r"[^\u3000-\u9fff\uff00-\uffef()\[\];,]*"
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# A run: words separated by nothing but spaces (a comma ends it: "a, b, c" lists names).
_TOKEN = re.compile(r",|[^\s,]+")  # a comma is a token of its own
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]+s?")


def english_runs(text: str, min_words: int = 3) -> list[str]:
    """Runs of ``min_words``+ English words left after removing what is meant to stay
    English in any language: indented command/JSON lines, quoted or backticked spans, URLs,
    ARNs and inline commands.

    A run is ended by CJK text, a comma (lists of names are comma-separated) or sentence
    punctuation (``. ; : ?``). Identifiers (a token with a digit or one of ``_ / . - = @ *
    < > { } [ ]``, e.g. ``AWS_ACCESS_KEY_ID`` or ``shop/ledger``), acronyms (``AWS``) and
    brackets do not end a run, so "static keys A_B (from secret c/d) come first" is one
    run. A run made only of capitalised words (``Pod Identity Agent``) is a proper name.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith((" ", "\t"))]
    body = "\n".join(lines)
    for pattern in (_URL, _ARN, _QUOTED, _COMMAND):
        body = pattern.sub(" ; ", body)
    body = _CJK.sub(" ; ", body)
    runs: list[str] = []
    current: list[str] = []

    def close() -> None:
        if len(current) >= min_words and any(w[0].islower() for w in current):
            runs.append(" ".join(current))
        current.clear()

    for line in body.splitlines():
        for token in _TOKEN.findall(line):
            token = token.strip("()")
            word = token.rstrip(".;:?!")
            ends = word != token or token == ","
            if _WORD.fullmatch(word) and not _ACRONYM.fullmatch(word):
                current.append(word)
            if ends:
                close()
        close()
    return runs


@pytest.mark.parametrize(
    "text",
    [
        "角色 irsa-cart 不信任 x:statement 1 requires k StringEquals v but the token's sub is y。",
        "未收集 the issuer's discovery record(tls/discovery.json),因此无法检查此项。",
        "语句 1 允许:which also matches service accounts in other namespaces.",
        "在 shop/ledger 中:app (any SDK): static keys AWS_ACCESS_KEY_ID (from secret k/a) "
        "and AWS_SECRET_ACCESS_KEY (from secret k/s) come first。",
        "集群 shop-prod 位于分区 aws,但 the role annotation arn:aws-cn:iam::1:role/r "
        "(partition x)。",
    ],
)
def test_the_heuristic_finds_english_sentences(text):
    assert english_runs(text)


@pytest.mark.parametrize(
    "text",
    [
        "Pod shop/a 具有 EKS Pod Identity 凭证(AWS_CONTAINER_CREDENTIALS_FULL_URI)。",
        '如果出现 "doesn\'t match configured thumbprint" 错误,请更新指纹:\n  aws iam update x',
        "查看其角色:aws eks describe-pod-identity-association --cluster-name c --association-id I)",
        "使用 --sdk NAME=VERSION 提供版本(例如 --sdk boto3=1.34.0)",
        "服务账户 shop/order 不存在(shop 中带注释的服务账户:analytics, audit, batch, cart)。",
        "角色 r 信任来自 arn:aws:iam::1:oidc-provider/x 的 system:serviceaccount:a:b(语句 1)。",
        "参见 https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html 了解详情",
    ],
)
def test_the_heuristic_ignores_names_commands_and_lists(text):
    assert english_runs(text) == []


# --------------------------------------------------------------------------- demo bundles


@cache
def _rows(name: str, lang: str) -> pd.DataFrame:
    return run_checks(load_bundle(f"demo:{name}"), lang=lang)


@pytest.mark.parametrize("name", demo_names())
def test_zh_rows_of_every_demo_bundle_have_no_english_sentences(name):
    df = _rows(name, "zh")
    leaks = [
        f"{row.check_id} {row.status} {col}: {run!r} in {row[col]!r}"
        for _, row in df.iterrows()
        for col in ("detail", "remediation")
        for run in english_runs(row[col])
    ]
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("name", demo_names())
def test_zh_rows_keep_the_english_evidence(name):
    """Machine-readable evidence does not depend on the language."""
    en, zh = _rows(name, "en"), _rows(name, "zh")
    assert en.evidence.tolist() == zh.evidence.tolist()
    assert en.status.tolist() == zh.status.tolist()


def test_the_reported_leaks_are_now_chinese():
    df = _rows("demo", "zh")

    def detail(check_id: str, status: str = "FAIL", **where: str) -> str:
        sel = df[(df.check_id == check_id) & (df.status == status)]
        for key, value in where.items():
            sel = sel[sel[key] == value]
        return sel.iloc[0].detail

    assert "语句 1 要求" in detail("trust_policy_allows_service_account", service_account="cart")
    assert "其他命名空间" in detail("trust_policy_not_overbroad", service_account="audit")
    assert "第 5 部分" in detail("service_account_role_annotation", service_account="inventory")
    assert "角色注释" in detail("partition_consistent", service_account="mirror")
    assert "静态密钥" in detail("no_credentials_override")
    assert "颁发者的发现文档" in detail("issuer_discovery_reachable", "SKIP")


# --------------------------------------------------------------------------- the catalogue

_FRAGMENT_SECTIONS = (
    "_sep",
    "_what",
    "_trust",
    "_policy",
    "_arn",
    "_token",
    "_partition",
    "_chain",
)


def _leaves(node: object, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    if isinstance(node, dict):
        out: dict[tuple[str, ...], str] = {}
        for key, value in node.items():
            out.update(_leaves(value, (*path, str(key))))
        return out
    return {path: str(node)}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("section", _FRAGMENT_SECTIONS)
def test_fragment_sections_have_the_same_keys_and_placeholders_in_every_language(section):
    en, zh = _leaves(catalogue("en")[section]), _leaves(catalogue("zh")[section])
    assert en.keys() == zh.keys()
    for key, template in en.items():
        assert _fields(template) == _fields(zh[key]), (section, key)
        if section != "_sep":
            assert not english_runs(zh[key]), (section, key, zh[key])


def _literal_whats() -> set[str]:
    """English evidence names passed to from_gap() or as a "what" parameter in the code."""
    names: set[str] = set()
    for path in (ROOT / "irsa_nb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "from_gap":
                args = node.args[1:2]
            elif isinstance(node, ast.Dict):
                args = [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "what"
                ]
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3:  # runner's gap table
                args = node.elts[2:] if isinstance(node.elts[0], ast.Constant) else []
            else:
                continue
            names |= {a.value for a in args if isinstance(a, ast.Constant) and a.value}
    return {n for n in names if isinstance(n, str) and n.startswith("the ")} | {
        n for n in names if isinstance(n, str) and n.startswith("one of ")
    }


def test_every_evidence_name_in_the_code_has_a_translation():
    whats = _literal_whats()
    assert "the issuer's discovery record" in whats and "the pod list" in whats
    known = set(catalogue("en")["_what"].values())
    assert whats <= known, sorted(whats - known)
    for english in whats:
        params = {"what": english, "path": "p"}
        zh = render("zh", ("_common", "detail", "_not_collected"), params)
        assert english not in zh


# --------------------------------------------------------------------------- Msg


def test_msg_is_its_english_text_and_renders_in_other_languages():
    inner = Msg("_arn.iam_account")
    msg = Msg("_arn.invalid", text="'x'", problem=inner, example="arn:aws:iam::1:role/r")
    assert msg == (
        "invalid ARN 'x': IAM ARNs need a 12-digit account ID in the 5th part; a valid ARN "
        "looks like arn:<partition>:<service>:<region>:<account>:<resource>, e.g. "
        "arn:aws:iam::1:role/r"
    )
    assert msg.in_lang("en") == msg and "第 5 部分" in msg.in_lang("zh")
    assert json.dumps({"m": msg}) == json.dumps({"m": str(msg)})
    assert f"{msg}" == str(msg) and {msg: 1}[str(msg)] == 1
    copy = pickle.loads(pickle.dumps(msg))
    assert copy == msg and copy.in_lang("zh") == msg.in_lang("zh")


def test_join_uses_each_languages_separator():
    parts = [Msg("_what.pod_list"), Msg("_what.iam_role")]
    joined = join(parts)
    assert joined == "the pod list; the IAM role"
    assert joined.in_lang("zh") == "Pod 列表;IAM 角色"
    assert render("zh", ("_common", "detail", "_invalid"), {"what": joined, "message": "m"}) == (
        "无法读取 Pod 列表;IAM 角色:m"
    )


def test_an_unknown_key_fails_loudly():
    with pytest.raises(KeyError):
        Msg("_trust.no_such_text")
