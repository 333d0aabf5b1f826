"""Property tests (hypothesis): ARN parsing, the bundle reader on arbitrary bytes and shapes,
and what tests/iam/test_trust_properties.py does not already cover of the trust evaluator
(StringLike decided end to end as a reference matcher decides it; the check's PASS is the
evaluator's Allow for any document)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from irsa_nb import STATUSES, build_inventory, load_bundle, run_checks
from irsa_nb.bundle import write_documents
from irsa_nb.iam.arn import Arn, ArnError, is_valid_role_arn, parse_arn, role_name
from irsa_nb.iam.trust import PolicyError, WebIdentityRequest, evaluate_trust
from tests.iam.test_trust_properties import reference_like

from .helpers import demo_docs

pytestmark = pytest.mark.slow

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Each example runs every check on the demo bundle (~0.1 s): fewer examples keep CI fast.
SLOW = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- ARNs -------------------------------------------------------------------------------------

arn_like = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(["arn", "aws", "aws-cn", "iam", "eks", "", "111122223333", "role/x", ":"])
        | st.text(max_size=6),
        max_size=8,
    ).map(":".join),
)


@FAST
@given(arn_like)
def test_arbitrary_text_raises_nothing_but_arn_error(text: str) -> None:
    try:
        arn = parse_arn(text)
    except ArnError as exc:
        assert str(exc) and repr(text) in str(exc)
    else:
        assert str(arn) == text  # whatever parses, prints back as it was
    valid = is_valid_role_arn(text)
    try:
        name = role_name(text)
    except ArnError:
        assert not valid  # the webhook's valid ARNs always have a role name
    else:
        assert name and "/" not in name


@FAST
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text()), st.dictionaries(
    st.text(), st.text())))  # fmt: skip
def test_non_strings_raise_arn_error(value: Any) -> None:
    with pytest.raises(ArnError):
        parse_arn(value)
    assert is_valid_role_arn(value) is False


@st.composite
def valid_arns(draw: st.DrawFn) -> tuple[str, Arn]:
    partition = draw(st.from_regex(r"aws(-[a-z]{2,6}){0,2}", fullmatch=True))
    service = draw(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,12}", fullmatch=True))
    region = draw(st.sampled_from(["", "us-west-2", "cn-north-1", "us-gov-east-1", "eu-central-1"]))
    if service == "iam":
        account = draw(st.sampled_from(["111122223333", "aws"]))
    else:
        account = draw(st.sampled_from(["", "111122223333"]))
    first = draw(
        st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc"), blacklist_characters=":")
    )
    rest = draw(st.text(st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc")), max_size=30))
    resource = first + rest
    assume(not any(c.isspace() for c in resource))
    return f"arn:{partition}:{service}:{region}:{account}:{resource}", Arn(
        partition, service, region, account, resource
    )


@FAST
@given(valid_arns())
def test_valid_arns_parse_into_their_parts_and_round_trip(case: tuple[str, Arn]) -> None:
    text, parts = case
    arn = parse_arn(text)
    assert arn == parts
    assert str(arn) == text
    assert parse_arn(str(arn)) == arn


@FAST
@given(
    st.from_regex(
        r"arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,40}", fullmatch=True
    )
)
def test_every_webhook_valid_role_arn_parses_and_names_its_role(text: str) -> None:
    assert is_valid_role_arn(text)
    arn = parse_arn(text)
    assert arn.service == "iam" and arn.resource.startswith("role/")
    if not text.endswith("/"):
        assert role_name(text) == text.rsplit("/", 1)[-1]


# --- the bundle reader --------------------------------------------------------------------------

DOC_PATHS = sorted(demo_docs())
ALL_PATHS = [*DOC_PATHS, "k8s/pods.yaml", "k8s/serviceaccounts.yml", "aws/iam/get-role/x.error.txt"]


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_documents(demo_docs(), tmp_path_factory.mktemp("fuzz") / "bundle")


def _row_statuses_are_known(df: Any) -> None:
    assert set(df["status"]) <= set(STATUSES)
    assert df["detail"].map(lambda d: isinstance(d, str) and bool(d)).all()


@SLOW
@given(st.sampled_from(ALL_PATHS), st.binary(max_size=600))
def test_arbitrary_bytes_in_any_document_never_escape(
    bundle_dir: Path, path: str, data: bytes
) -> None:
    target = bundle_dir / path
    original = target.read_bytes() if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    try:
        inv = load_bundle(bundle_dir)
        _row_statuses_are_known(run_checks(inv))
        inv.frames()
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_bytes(original)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "arn:aws:iam::111122223333:role/irsa-checkout", "https://x", "*"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
BASE = demo_docs()


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*prefix, i))
    return out


NESTED = [(p, q) for p in DOC_PATHS if isinstance(BASE[p], dict) for q in _paths(BASE[p])]


@SLOW
@given(st.lists(st.tuples(st.sampled_from(NESTED), json_values), min_size=1, max_size=3))
def test_any_value_at_any_place_in_any_document_never_escapes(changes: list) -> None:
    docs = dict(BASE)
    for (path, keys), value in changes:
        doc = copy.deepcopy(docs[path])
        if not keys:
            doc = value
        else:
            node = doc
            try:
                for k in keys[:-1]:
                    node = node[k]
                node[keys[-1]] = value
            except (KeyError, IndexError, TypeError):
                continue
        docs[path] = doc
    inv = build_inventory(docs, "fuzz")
    _row_statuses_are_known(run_checks(inv))
    inv.frames()


# --- trust policies: what test_trust_properties.py leaves out -------------------------------------

_CHECKOUT_TRUST = "aws/iam/get-role/irsa-checkout.json"
TRUST_CHECK = "trust_policy_allows_service_account"


def _checkout_request() -> WebIdentityRequest:
    df = run_checks(build_inventory(demo_docs()), "shop", "checkout", checks=[TRUST_CHECK])
    row = df.iloc[0]
    return WebIdentityRequest(**json.loads(row["evidence"])["request"])


REQUEST = _checkout_request()
SUB_KEY = f"{REQUEST.issuer}:sub"
ALPHABET = st.sampled_from("ab:*?.-")


def _policy(effect: str, operator: str, patterns: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"Federated": REQUEST.provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {operator: {SUB_KEY: patterns}},
            }
        ],
    }


@FAST
@given(
    st.lists(st.text(ALPHABET, max_size=10), min_size=1, max_size=3), st.text(ALPHABET, max_size=10)
)
def test_string_like_conditions_decide_as_a_reference_matcher(
    patterns: list[str], suffix: str
) -> None:
    """End to end: the sub claim against StringLike / StringNotLike patterns (values ORed,
    negation NORed) decides the request exactly as an independent glob matcher does."""
    sub = f"system:serviceaccount:shop:{suffix}"
    request = WebIdentityRequest(REQUEST.provider_arn, REQUEST.issuer, sub, REQUEST.aud)
    full = [f"system:serviceaccount:shop:{p}" for p in patterns]
    hit = any(reference_like(p, sub) for p in full)
    assert evaluate_trust(_policy("Allow", "StringLike", full), request).allowed is hit
    assert evaluate_trust(_policy("Allow", "StringNotLike", full), request).allowed is (not hit)
    both = _policy("Allow", "StringLike", "system:serviceaccount:*")
    both["Statement"].append(_policy("Deny", "StringLike", full)["Statement"][0])
    assert evaluate_trust(both, request).allowed is (not hit)  # a matching Deny wins


trust_documents = st.one_of(
    json_values,
    json_values.map(json.dumps),
    st.builds(
        _policy,
        st.sampled_from(["Allow", "Deny", "allow"]),
        st.sampled_from(
            ["StringLike", "StringEquals", "StringLikeX", "ForAnyValue:StringLike", "Null"]
        ),
        json_values,
    ),
)


@FAST
@given(trust_documents)
def test_the_trust_check_passes_only_when_the_evaluator_allows(document: Any) -> None:
    """Any trust document in get-role: PASS iff evaluate_trust allows, WARN iff the evidence
    cannot decide, ERROR iff it cannot be evaluated, FAIL otherwise (the check adds no verdict
    of its own)."""
    docs = dict(BASE)
    role = copy.deepcopy(docs[_CHECKOUT_TRUST])
    role["Role"]["AssumeRolePolicyDocument"] = document
    docs[_CHECKOUT_TRUST] = role
    df = run_checks(build_inventory(docs), "shop", "checkout", checks=[TRUST_CHECK])
    (status,) = df["status"]
    try:
        decision = evaluate_trust(
            document if not isinstance(document, str) else _unquote(document),
            REQUEST,
            requested_region="us-west-2",  # the checkout pods' AWS_REGION
        )
    except PolicyError:
        assert status == "ERROR"
    else:
        expected = {"allowed": "PASS", "undecided": "WARN", "denied": "FAIL"}
        assert status == expected[decision.outcome]


def _unquote(text: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(text)
