"""Evaluate an IAM role trust policy against an EKS web-identity (IRSA) token.

Pure functions, no AWS calls. The model is the one STS applies to
``sts:AssumeRoleWithWebIdentity`` after it has validated the token: the request carries the
provider ARN as principal and a request context holding exactly ``<issuer>:sub`` and
``<issuer>:aud`` (EKS tokens carry nothing else that IAM exposes, e.g. no ``:amr``).

Semantics follow the IAM User Guide ("Condition operators", "Conditions with multiple context
keys or values", "Single-valued vs multivalued context keys"):

* Allow statements are ORed; any matching Deny wins.
* Several operators in a ``Condition`` are ANDed, several keys in one operator are ANDed,
  several values for one key are ORed; for negated operators (``StringNotEquals``...) the
  values are NORed (the request value must match none of them).
* A key absent from the request makes positive operators false and negated operators true;
  ``...IfExists`` makes the condition true; ``ForAllValues:`` is vacuously true and
  ``ForAnyValue:`` false; ``Null`` tests presence.
* Condition key names are case-insensitive, values are case-sensitive except for the
  ``*IgnoreCase`` operators.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any
from urllib.parse import unquote

from irsa_nb.iam.arn import ArnError, parse_arn

__all__ = [
    "WEB_IDENTITY_ACTION",
    "PolicyError",
    "StatementResult",
    "TrustDecision",
    "WebIdentityRequest",
    "evaluate_trust",
    "overbroad_findings",
    "parse_policy",
    "string_like",
]

WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
_POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
_SUB_PREFIX = "system:serviceaccount:"
_PRINCIPAL_TYPES = ("AWS", "Federated", "Service", "CanonicalUser")
_SET_QUALIFIERS = ("ForAnyValue", "ForAllValues")

# Negated operator -> the positive operator it negates.
_NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_POSITIVE_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "NumericEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "ArnEquals",
        "ArnLike",
    }
)
_KNOWN_OPERATORS = _POSITIVE_OPERATORS | frozenset(_NEGATIONS) | {"Null"}
_ISSUER_REGION_RE = re.compile(r"^oidc[.-]eks\.([a-z0-9-]+)\.", re.ASCII)


class PolicyError(ValueError):
    """The policy document cannot be evaluated (invalid JSON, wrong shape, unknown operator)."""


@dataclass(frozen=True)
class WebIdentityRequest:
    """An ``AssumeRoleWithWebIdentity`` call made with an EKS service-account token.

    Attributes
    ----------
    provider_arn : str
        ARN of the IAM OIDC provider STS resolved for the token's issuer.
    issuer : str
        Issuer host/path without scheme, e.g. ``oidc.eks.us-west-2.amazonaws.com/id/ABC``.
    sub : str
        The token's ``sub`` claim, ``system:serviceaccount:<namespace>:<name>``.
    aud : str
        The token's ``aud`` claim (``sts.amazonaws.com`` unless annotated otherwise).
    action : str
        The STS action being authorised.
    """

    provider_arn: str
    issuer: str
    sub: str
    aud: str
    action: str = WEB_IDENTITY_ACTION


@dataclass(frozen=True)
class StatementResult:
    """How one statement (1-based ``index``) fared against the request.

    ``detail`` is a clause explaining the first part that did not match (principal, then
    action, then conditions), or an empty string when the statement matches.
    """

    index: int
    effect: str
    principal_matches: bool
    action_matches: bool
    conditions_match: bool
    failed_condition: str | None = None
    detail: str = ""

    @property
    def matches(self) -> bool:
        """Whether principal, action and conditions all match."""
        return self.principal_matches and self.action_matches and self.conditions_match


@dataclass(frozen=True)
class TrustDecision:
    """The outcome of :func:`evaluate_trust`.

    ``reason`` is one plain sentence naming the deciding statement and the real values;
    ``allowed_by`` / ``denied_by`` are 1-based statement numbers (``allowed_by`` is ``None``
    whenever the request is denied).
    """

    allowed: bool
    reason: str
    allowed_by: int | None
    denied_by: int | None
    statements: tuple[StatementResult, ...]


@dataclass(frozen=True)
class _Operator:
    name: str
    base: str
    positive: str
    negated: bool
    qualifier: str | None
    if_exists: bool


# --------------------------------------------------------------------------- wildcards


def string_like(pattern: str, value: str) -> bool:
    """Match ``value`` against an IAM ``StringLike`` pattern (whole-string, case-sensitive).

    ``*`` matches any run of characters (including none and including ``:``), ``?`` matches
    exactly one character, everything else is literal.

    Examples
    --------
    >>> string_like("system:serviceaccount:*:app", "system:serviceaccount:prod:app")
    True
    >>> string_like("sts:AssumeRole?", "sts:AssumeRole")
    False
    """
    p = v = 0
    star = -1
    mark = 0
    plen, vlen = len(pattern), len(value)
    while v < vlen:
        if p < plen and pattern[p] == "*":
            star, mark = p, v
            p += 1
        elif p < plen and (pattern[p] == "?" or pattern[p] == value[v]):
            p += 1
            v += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            v = mark
        else:
            return False
    while p < plen and pattern[p] == "*":
        p += 1
    return p == plen


def _arn_like(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-delimited components matched separately."""
    pat = pattern.split(":", 5)
    val = value.split(":", 5)
    if len(pat) != 6 or len(val) != 6:
        return False
    return all(string_like(p, v) for p, v in zip(pat, val, strict=True))


# --------------------------------------------------------------------------- parsing


def _parse_operator(name: str, where: str) -> _Operator:
    qualifier = None
    rest = name
    for q in _SET_QUALIFIERS:
        if name.startswith(q + ":"):
            qualifier, rest = q, name[len(q) + 1 :]
            break
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in _KNOWN_OPERATORS:
        hint = ""
        lowered = {op.lower(): op for op in _KNOWN_OPERATORS}
        if base.lower() in lowered:
            hint = f" (operator names are case-sensitive: did you mean {lowered[base.lower()]}?)"
        elif ":" in rest:
            hint = " (the only set prefixes are ForAnyValue: and ForAllValues:)"
        raise PolicyError(f"{where} uses unknown condition operator {name!r}{hint}")
    if base == "Null" and if_exists:
        raise PolicyError(f"{where} uses {name!r}, but IfExists cannot be added to Null")
    return _Operator(
        name=name,
        base=base,
        positive=_NEGATIONS.get(base, base),
        negated=base in _NEGATIONS,
        qualifier=qualifier,
        if_exists=if_exists,
    )


def _decode_text(text: str, depth: int = 0) -> Any:
    stripped = text.strip()
    if not stripped:
        raise PolicyError("the policy document is empty")
    if not stripped.startswith(("{", "[", '"')) and "%" in stripped:
        stripped = unquote(stripped).strip()
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"the policy document is not valid JSON: {exc}") from None
    if isinstance(data, str) and depth == 0:
        # A JSON string holding the JSON document (double-encoded).
        return _decode_text(data, depth + 1)
    return data


def _string_list(value: Any, where: str, element: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PolicyError(
        f"{where}: {element} must be a string or a list of strings, got {_kind(value)}"
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return json.dumps(value)
        except ValueError as exc:  # int too large to print
            raise PolicyError(f"{where}: condition value cannot be read: {exc}") from None
    raise PolicyError(f"{where}: condition values must be strings, booleans or numbers")


def _normalise_principal(value: Any, where: str, element: str) -> dict[str, list[str]]:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, str):
        raise PolicyError(
            f'{where}: {element} must be "*" or an object such as '
            f'{{"Federated": "arn:aws:iam::111122223333:oidc-provider/..."}}, got {value!r}'
        )
    if not isinstance(value, dict) or not value:
        raise PolicyError(f"{where}: {element} must be a non-empty object, got {_kind(value)}")
    out: dict[str, list[str]] = {}
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                f"{where}: {element} has unknown principal type {ptype!r}; "
                f"use one of {', '.join(_PRINCIPAL_TYPES)}"
            )
        out[ptype] = _string_list(ids, where, f"{element}.{ptype}")
    return out


def _normalise_condition(value: Any, where: str) -> dict[str, dict[str, list[str]]]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: Condition must be an object, got {_kind(value)}")
    out: dict[str, dict[str, list[str]]] = {}
    for op_name, block in value.items():
        if not isinstance(op_name, str):
            raise PolicyError(f"{where}: condition operator {op_name!r} is not a string")
        op = _parse_operator(op_name, where)
        if not isinstance(block, dict):
            raise PolicyError(
                f"{where}: {op_name} must map condition keys to values, got {_kind(block)}"
            )
        keys: dict[str, list[str]] = {}
        for key, raw in block.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(f"{where}: {op_name} has an empty or non-string condition key")
            here = f"{where}, {op_name} {key}"
            items = raw if isinstance(raw, list) else [raw]
            values = [_scalar_text(v, here) for v in items]
            if op.base == "Null" and any(v.lower() not in ("true", "false") for v in values):
                raise PolicyError(f"{here}: Null takes true or false, got {values}")
            keys[key] = values
        out[op_name] = keys
    return out


def _normalise_statement(raw: Any, index: int) -> dict[str, Any]:
    where = f"statement {index}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be an object, got {_kind(raw)}")
    out = dict(raw)
    effect = raw.get("Effect")
    if not isinstance(effect, str) or effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where} has Effect {_kind(effect)}; it must be "Allow" or "Deny"')
    for positive, negative, what in (
        ("Principal", "NotPrincipal", "who may assume the role"),
        ("Action", "NotAction", "which STS actions it covers"),
    ):
        if positive in raw and negative in raw:
            raise PolicyError(f"{where} has both {positive} and {negative}; use one")
        if positive not in raw and negative not in raw:
            raise PolicyError(f"{where} has no {positive} (or {negative}) saying {what}")
    for element in ("Principal", "NotPrincipal"):
        if element in raw:
            out[element] = _normalise_principal(raw[element], where, element)
    for element in ("Action", "NotAction"):
        if element in raw:
            out[element] = _string_list(raw[element], where, element)
    out["Condition"] = _normalise_condition(raw.get("Condition", {}), where)
    return out


def parse_policy(doc: dict[str, Any] | str) -> dict[str, Any]:
    """Validate and normalise a trust-policy document.

    Accepts a dict (what boto3 and the AWS CLI return), a JSON string, or the URL-encoded
    JSON string the raw IAM API returns. In the result ``Statement`` is a list;
    ``Principal``/``NotPrincipal`` map principal types to lists (``"*"`` becomes
    ``{"AWS": ["*"]}``); ``Action``/``NotAction`` are lists; ``Condition`` is always present
    and maps operator -> key -> list of strings (booleans become ``"true"``/``"false"``).
    Normalising an already normalised policy returns an equal policy.

    Raises
    ------
    PolicyError
        If the document cannot be evaluated; the message names the statement (1-based).
    """
    data = _decode_text(doc) if isinstance(doc, str) else doc
    if not isinstance(data, dict):
        raise PolicyError(f"a policy document must be a JSON object, got {_kind(data)}")
    if "Statement" not in data:
        raise PolicyError("the policy document has no Statement element")
    raw = data["Statement"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyError(f"Statement must be an object or a list, got {_kind(raw)}")
    out = dict(data)
    out["Statement"] = [_normalise_statement(s, i) for i, s in enumerate(raw, 1)]
    return out


# --------------------------------------------------------------------------- operators


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ip_in(address: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


_ORDERINGS = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _positive_match(base: str, actual: str, expected: str) -> bool:
    """Whether one request value satisfies one policy value under a positive operator."""
    if base in ("StringEquals", "Bool", "BinaryEquals"):
        return actual == expected
    if base == "StringEqualsIgnoreCase":
        return actual.casefold() == expected.casefold()
    if base == "StringLike":
        return string_like(expected, actual)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if base == "IpAddress":
        return _ip_in(actual, expected)
    if base.startswith("Numeric"):
        a, b = _number(actual), _number(expected)
        return a is not None and b is not None and _ORDERINGS[base[7:]](a, b)
    if base.startswith("Date"):
        da, db = _date(actual), _date(expected)
        return da is not None and db is not None and _ORDERINGS[base[4:]](da, db)
    raise AssertionError(f"unhandled operator {base}")  # pragma: no cover


def _condition_holds(op: _Operator, key: str, values: list[str], context: dict[str, Any]) -> bool:
    entry = context.get(key.lower())
    present = entry is not None
    if op.base == "Null":
        return any((v.lower() == "true") == (not present) for v in values)
    if not present:
        if op.if_exists or op.qualifier == "ForAllValues":
            return True
        if op.qualifier == "ForAnyValue":
            return False
        return op.negated
    request_values = [entry[1]]  # EKS claims are single-valued

    def one(actual: str) -> bool:
        hit = any(_positive_match(op.positive, actual, v) for v in values)
        return not hit if op.negated else hit

    if op.qualifier == "ForAllValues":
        return all(one(v) for v in request_values)
    return any(one(v) for v in request_values)


# --------------------------------------------------------------------------- explanations


def _bare_issuer(issuer: str) -> str:
    text = issuer.strip()
    if text[:8].lower() == "https://":
        text = text[8:]
    return text.rstrip("/")


def _show(values: list[str], negated: bool) -> str:
    if len(values) == 1:
        return values[0]
    if not values:
        return "(no values)"
    listed = "[" + ", ".join(values) + "]"
    return listed if negated else f"one of {listed}"


def _absent_key(key: str, issuer: str) -> str:
    prefix = key.rpartition(":")[0]
    if prefix.lower() == issuer.lower():
        return f"condition key {key} is not in the request (EKS tokens only provide :sub and :aud)"
    if prefix and ("." in prefix or "/" in prefix):
        return (
            f"condition key {key} names another issuer, which this token does not carry "
            f"(the token's issuer is {issuer})"
        )
    return (
        f"condition key {key} is not in the request context of an EKS web-identity token "
        "(it holds only <issuer>:sub and <issuer>:aud)"
    )


def _explain_condition(
    index: int, op: _Operator, key: str, values: list[str], context: dict[str, Any], issuer: str
) -> str:
    entry = context.get(key.lower())
    if op.base == "Null":
        state = "present" if entry is not None else "absent"
        return (
            f"statement {index} requires {key} Null {_show(values, False)} but the key is {state}"
        )
    if entry is None:
        outcome = "false" if not (op.if_exists or op.qualifier == "ForAllValues") else "true"
        return f"statement {index}'s {_absent_key(key, issuer)}, so {op.name} is {outcome}"
    claim, actual = entry
    text = (
        f"statement {index} requires {key} {op.name} {_show(values, op.negated)} "
        f"but the token's {claim} is {actual}"
    )
    if op.negated:
        return text + ", which it excludes"
    hints = []
    if op.positive in ("StringEquals", "StringEqualsIgnoreCase"):
        wild = [v for v in values if "*" in v or "?" in v]
        if wild:
            char = "*" if any("*" in v for v in wild) else "?"
            fold = str.casefold if op.positive == "StringEqualsIgnoreCase" else str
            hint = f"{op.positive} treats {char} literally"
            if any(string_like(fold(v), fold(actual)) for v in wild):
                hint += "; use StringLike"
            hints.append(hint)
    folded = actual.casefold()
    if (
        op.positive in ("StringEquals", "StringLike")
        and not hints
        and any(string_like(v.casefold(), folded) for v in values)
    ):
        hints.append(f"{op.positive} compares case-sensitively")
    if claim == "aud" and any(v.startswith(_SUB_PREFIX) for v in values):
        hints.append(
            f"that value is a service-account subject, so the key was probably meant to be "
            f"{key.rpartition(':')[0]}:sub"
        )
    elif claim == "sub" and values and not any(":" in v or "*" in v for v in values):
        hints.append(f"subjects look like {_SUB_PREFIX}<namespace>:<name>")
    return text + "".join(f"; {h}" for h in hints)


def _split_arn(text: str) -> list[str]:
    return re.split(r"[:/]", text)


def _provider_difference(trusted: str, actual: str) -> str:
    if trusted == actual + "/":
        return "the trusted ARN has a trailing '/', which the AWS CLI adds; remove it"
    if actual == trusted + "/":
        return "this cluster's provider ARN has a trailing '/' (the AWS CLI adds one)"
    if trusted.lower() == actual.lower():
        return "they differ only in letter case, and ARNs compare case-sensitively"
    try:
        t, a = parse_arn(trusted), parse_arn(actual)
    except ArnError:
        return f"{trusted} is not an IAM OIDC provider ARN"
    diffs = []
    if t.partition != a.partition:
        diffs.append(f"different partition: {t.partition} vs {a.partition}")
    if t.service != a.service:
        diffs.append(f"different service: {t.service} vs {a.service}")
    if t.account != a.account:
        diffs.append(f"different account: {t.account} vs {a.account}")
    t_type, _, t_path = t.resource.partition("/")
    a_type, _, a_path = a.resource.partition("/")
    if t_type != a_type:
        diffs.append(f"resource type {t_type} instead of {a_type}")
    else:
        t_host, _, t_rest = t_path.partition("/")
        a_host, _, a_rest = a_path.partition("/")
        if t_host != a_host:
            t_reg = _ISSUER_REGION_RE.match(t_host)
            a_reg = _ISSUER_REGION_RE.match(a_host)
            if t_reg and a_reg and t_reg.group(1) != a_reg.group(1):
                diffs.append(f"different issuer region: {t_reg.group(1)} vs {a_reg.group(1)}")
            else:
                diffs.append(f"different issuer host: {t_host} vs {a_host}")
        if t_rest != a_rest:
            if t_rest.rstrip("/") == a_rest.rstrip("/"):
                diffs.append("a trailing '/' differs (the AWS CLI adds one)")
            elif t_rest.startswith("id/") and a_rest.startswith("id/"):
                diffs.append(f"different issuer id: {t_rest[3:]} vs {a_rest[3:]}")
            else:
                diffs.append(f"different issuer path: {t_rest} vs {a_rest}")
    return " and ".join(diffs) or "the ARNs differ"


def _distance(trusted: str, actual: str) -> int:
    return sum(x != y for x, y in zip_longest(_split_arn(trusted), _split_arn(actual)))


def _lists_provider(principal: dict[str, list[str]], provider_arn: str) -> bool:
    return "*" in principal.get("AWS", ()) or provider_arn in principal.get("Federated", ())


def _principal_result(stmt: dict[str, Any], index: int, provider_arn: str) -> tuple[bool, str]:
    if "NotPrincipal" in stmt:
        if _lists_provider(stmt["NotPrincipal"], provider_arn):
            return False, f"statement {index} excludes provider {provider_arn} through NotPrincipal"
        return True, ""
    principal = stmt["Principal"]
    if _lists_provider(principal, provider_arn):
        return True, ""
    federated = principal.get("Federated", [])
    if federated:
        best = min(federated, key=lambda t: _distance(t, provider_arn))
        more = f" (the closest of {len(federated)} listed)" if len(federated) > 1 else ""
        return False, (
            f"statement {index} trusts provider {best}{more}, not this cluster's "
            f"{provider_arn} ({_provider_difference(best, provider_arn)})"
        )
    services = principal.get("Service", [])
    if _POD_IDENTITY_SERVICE in services:
        return False, (
            f"statement {index} trusts the EKS Pod Identity service principal "
            f"{_POD_IDENTITY_SERVICE}, which never matches a web-identity (IRSA) token"
        )
    for ptype, label in (("Service", "service"), ("AWS", "AWS"), ("CanonicalUser", "canonical")):
        if principal.get(ptype):
            return False, (
                f"statement {index} trusts {label} principal {', '.join(principal[ptype])}, "
                f"not the web-identity provider {provider_arn}"
            )
    return False, f"statement {index} lists no principal, so it matches nothing"


def _action_result(stmt: dict[str, Any], index: int, action: str) -> tuple[bool, str]:
    wanted = action.lower()
    if "NotAction" in stmt:
        if any(string_like(p.lower(), wanted) for p in stmt["NotAction"]):
            return False, f"statement {index} excludes {action} through NotAction"
        return True, ""
    actions = stmt["Action"]
    if any(string_like(p.lower(), wanted) for p in actions):
        return True, ""
    verb = "allows" if stmt["Effect"] == "Allow" else "denies"
    listed = ", ".join(actions) if actions else "no action"
    return False, f"statement {index} {verb} only {listed}, not {action}"


def _evaluate_statement(
    stmt: dict[str, Any], index: int, request: WebIdentityRequest, issuer: str, context: dict
) -> StatementResult:
    p_ok, p_detail = _principal_result(stmt, index, request.provider_arn)
    a_ok, a_detail = _action_result(stmt, index, request.action)
    c_ok, failed, c_detail = True, None, ""
    for op_name, block in stmt["Condition"].items():
        op = _parse_operator(op_name, f"statement {index}")
        for key, values in block.items():
            if not _condition_holds(op, key, values, context):
                c_ok, failed = False, f"{op_name} {key}"
                c_detail = _explain_condition(index, op, key, values, context, issuer)
                break
        if not c_ok:
            break
    detail = p_detail or a_detail or c_detail
    return StatementResult(index, stmt["Effect"], p_ok, a_ok, c_ok, failed, detail)


def evaluate_trust(policy: dict[str, Any] | str, request: WebIdentityRequest) -> TrustDecision:
    """Decide whether a trust policy lets this web-identity token assume the role.

    Parameters
    ----------
    policy : dict or str
        The role's ``AssumeRolePolicyDocument`` (dict, JSON or URL-encoded JSON).
    request : WebIdentityRequest
        The provider ARN and token claims.

    Returns
    -------
    TrustDecision
        ``allowed``, a one-sentence ``reason`` naming the deciding statement and values,
        ``allowed_by``/``denied_by`` and per-statement results.

    Raises
    ------
    PolicyError
        If the document cannot be evaluated.

    Examples
    --------
    >>> issuer = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
    >>> provider = f"arn:aws:iam::111122223333:oidc-provider/{issuer}"
    >>> policy = {"Statement": [{
    ...     "Effect": "Allow", "Principal": {"Federated": provider},
    ...     "Action": "sts:AssumeRoleWithWebIdentity",
    ...     "Condition": {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:prod:app"}},
    ... }]}
    >>> request = WebIdentityRequest(provider, issuer, "system:serviceaccount:prod:app",
    ...                              "sts.amazonaws.com")
    >>> evaluate_trust(policy, request).allowed
    True
    >>> other = WebIdentityRequest(provider, issuer, "system:serviceaccount:default:app",
    ...                            "sts.amazonaws.com")
    >>> print(evaluate_trust(policy, other).reason)  # doctest: +NORMALIZE_WHITESPACE
    statement 1 requires oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub
    StringEquals system:serviceaccount:prod:app but the token's sub is
    system:serviceaccount:default:app
    """
    doc = parse_policy(policy)
    issuer = _bare_issuer(request.issuer)
    context = {
        f"{issuer}:sub".lower(): ("sub", request.sub),
        f"{issuer}:aud".lower(): ("aud", request.aud),
    }
    results = tuple(
        _evaluate_statement(stmt, i, request, issuer, context)
        for i, stmt in enumerate(doc["Statement"], 1)
    )
    deny = next((r for r in results if r.effect == "Deny" and r.matches), None)
    allow = next((r for r in results if r.effect == "Allow" and r.matches), None)
    if deny is not None:
        beaten = f"the Allow in statement {allow.index}" if allow else "any Allow"
        reason = (
            f"explicit Deny in statement {deny.index} matches this request "
            f"(sub {request.sub}), which overrides {beaten}"
        )
        return TrustDecision(False, reason, None, deny.index, results)
    if allow is not None:
        reason = (
            f"statement {allow.index} allows {request.action} for sub {request.sub} "
            f"from provider {request.provider_arn}"
        )
        return TrustDecision(True, reason, allow.index, None, results)
    return TrustDecision(False, _no_allow_reason(results, request), None, None, results)


def _no_allow_reason(results: tuple[StatementResult, ...], request: WebIdentityRequest) -> str:
    allows = [r for r in results if r.effect == "Allow"]
    if not allows:
        what = "has no statements" if not results else "has only Deny statements"
        return f"no statement allows {request.action}: the policy {what}"

    def progress(r: StatementResult) -> int:
        if r.principal_matches and r.action_matches:
            return 3
        return 2 if r.action_matches else int(r.principal_matches)

    best = max(allows, key=progress)  # max() keeps the first of equals
    if progress(best) == 0:
        return f"no statement allows {request.action}; {best.detail}"
    return best.detail


# --------------------------------------------------------------------------- findings


def _sub_pattern_scope(pattern: str) -> tuple[int, str | None]:
    """Breadth of a StringLike ``sub`` pattern: 0 narrow, 1 whole namespace, 2 many namespaces."""
    if "*" not in pattern and "?" not in pattern:
        return 0, None
    segments = pattern.split(":")
    if len(segments) == 4:
        system, kind, namespace, name = segments
        if not (string_like(system, "system") and string_like(kind, "serviceaccount")):
            return 0, None  # matches no service-account subject at all
        if "*" in namespace or "?" in namespace:
            return 2, None
        if name and "*" in name and set(name) <= {"*", "?"}:
            return 1, namespace
        return 0, None
    if len(segments) < 4 and "*" in pattern:
        # A '*' has to swallow a ':' of system:serviceaccount:<ns>:<name>, so the
        # namespace is open, provided the literal start is compatible with a subject.
        head = pattern[: pattern.index("*")]
        n = min(len(head), len(_SUB_PREFIX))
        if string_like(head[:n], _SUB_PREFIX[:n]):
            return 2, None
    return 0, None


def _trusts_issuer(stmt: dict[str, Any], issuer: str) -> tuple[bool, str | None]:
    """Whether an Allow statement can match this issuer's tokens, and a wildcard note."""
    suffix = f":oidc-provider/{issuer}"
    if "NotPrincipal" in stmt:
        np = stmt["NotPrincipal"]
        listed = "*" in np.get("AWS", ()) or any(
            f.endswith(suffix) for f in np.get("Federated", ())
        )
        return (
            not listed
        ), "NotPrincipal with Allow, which trusts every principal it does not list"
    principal = stmt["Principal"]
    if "*" in principal.get("AWS", ()):
        return True, 'Principal "*", which trusts any principal and leaves only the conditions'
    return any(f.endswith(suffix) for f in principal.get("Federated", ())), None


def overbroad_findings(policy: dict[str, Any] | str, issuer: str) -> list[str]:
    """List security findings for statements that allow web identity from ``issuer``.

    Flags: ``Principal: "*"`` (and NotPrincipal with Allow); no ``<issuer>:sub`` condition,
    or one constrained only by negated operators; a ``sub`` pattern matching other namespaces
    (``system:serviceaccount:*:app``) or every service account in a namespace
    (``system:serviceaccount:ns:*``); ``ForAllValues:`` or ``...IfExists`` on ``sub``.

    Returns
    -------
    list of str
        One plain sentence per finding, in statement order; empty when nothing is over-broad.

    Raises
    ------
    PolicyError
        If the document cannot be evaluated.
    """
    doc = parse_policy(policy)
    iss = _bare_issuer(issuer)
    sub_key = f"{iss}:sub"
    findings: list[str] = []
    for index, stmt in enumerate(doc["Statement"], 1):
        if stmt["Effect"] != "Allow":
            continue
        if not _action_result(stmt, index, WEB_IDENTITY_ACTION)[0]:
            continue
        trusts, wildcard = _trusts_issuer(stmt, iss)
        if not trusts:
            continue
        where = f"statement {index}"
        if wildcard:
            findings.append(f"{where} uses {wildcard}.")
        constraints = [
            (_parse_operator(op_name, where), values)
            for op_name, block in stmt["Condition"].items()
            for key, values in block.items()
            if key.lower() == sub_key.lower()
        ]
        positive = []
        negated = []
        for op, values in constraints:
            if op.qualifier == "ForAllValues":
                findings.append(
                    f"{where} uses {op.name} on {sub_key}, which is vacuously true when the "
                    f"key is absent; drop the ForAllValues: prefix."
                )
            if op.if_exists:
                findings.append(
                    f"{where} uses {op.name} on {sub_key}, which passes when the key is "
                    f"absent; use {op.base}."
                )
            if op.base == "Null":
                continue
            (negated if op.negated else positive).append((op, values))
        if not positive:
            if negated:
                names = ", ".join(sorted({op.name for op, _ in negated}))
                findings.append(
                    f"{where} constrains {sub_key} only with {names}, so every other service "
                    "account in the cluster can assume the role."
                )
            else:
                findings.append(
                    f"{where} has no {sub_key} condition, so any service account in the "
                    "cluster can assume the role."
                )
            continue
        scopes = []
        for op, values in positive:
            if op.positive != "StringLike":
                scopes.append((0, None, op, ""))
                continue
            worst = max(
                ((*_sub_pattern_scope(v), v) for v in values),
                default=(0, None, ""),
                key=lambda s: s[0],
            )
            scopes.append((worst[0], worst[1], op, worst[2]))
        level, namespace, op, pattern = min(scopes, key=lambda s: s[0])
        if level == 2:
            findings.append(
                f"{where} lets {sub_key} match {pattern} ({op.name}), which also matches "
                "service accounts in other namespaces."
            )
        elif level == 1:
            findings.append(
                f"{where} lets {sub_key} match {pattern} ({op.name}), which matches every "
                f"service account in namespace {namespace}."
            )
    return list(dict.fromkeys(findings))
