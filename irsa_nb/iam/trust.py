"""Evaluate an IAM role trust policy against an EKS web-identity (IRSA) token.

Pure functions, no AWS calls. The model is the one STS applies to
``sts:AssumeRoleWithWebIdentity`` after it has validated the token: the request carries the
provider ARN as principal and the request context of :mod:`irsa_nb.iam.context` (the token's
``<issuer>:sub`` and ``<issuer>:aud``, the global keys IAM always adds, and which keys the
evidence cannot settle).

Semantics follow the IAM User Guide ("Condition operators", "Conditions with multiple context
keys or values", "Single-valued vs multivalued context keys", "Variables and tags"):

* Allow statements are ORed; any matching Deny wins.
* Several operators in a ``Condition`` are ANDed, several keys in one operator are ANDed,
  several values for one key are ORed; for negated operators (``StringNotEquals``...) the
  values are NORed (the request value must match none of them).
* A key absent from the request makes ``ForAllValues:`` true and ``ForAnyValue:`` false
  (with or without ``IfExists``), ``...IfExists`` true, positive operators false and negated
  operators true; ``Null`` tests presence.
* Condition key names are case-insensitive, values are case-sensitive except for the
  ``*IgnoreCase`` operators; under ``"Version": "2012-10-17"`` string and ARN condition values
  have their policy variables substituted (:mod:`irsa_nb.iam.variables`).
* A condition on a key whose value the evidence cannot show (``aws:SourceIp``...) is neither
  true nor false; when it decides the outcome, :attr:`TrustDecision.undecided` names it.

Every explanation (``reason``, ``detail``, findings, :class:`PolicyError` messages) is an
:class:`irsa_nb.text.Msg`: English text that the checks render in the row's language.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any
from urllib.parse import unquote

from irsa_nb.iam.arn import ArnError, parse_arn
from irsa_nb.iam.context import Known, RequestContext, Unknown, absent_kind
from irsa_nb.iam.variables import UNKNOWN, VARIABLES_VERSION, Pattern, like, resolve, text
from irsa_nb.iam.variables import pattern as as_pattern
from irsa_nb.text import Msg, join

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
    "unmatchable_statements",
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

    @property
    def message(self) -> str:
        """The explanation as a :class:`~irsa_nb.text.Msg` (``str(exc)`` is the English)."""
        return self.args[0] if self.args else ""


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
    ``undecided_by`` lists the conditions (``"<operator> <key>"``) the evidence cannot settle
    when no condition is false: the statement then neither matches nor fails for certain.
    """

    index: int
    effect: str
    principal_matches: bool
    action_matches: bool
    conditions_match: bool
    failed_condition: str | None = None
    detail: str = ""
    undecided_by: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        """Whether principal, action and conditions all match."""
        return self.principal_matches and self.action_matches and self.conditions_match

    @property
    def undecided(self) -> bool:
        """Whether it would match but for conditions the evidence cannot settle."""
        return self.principal_matches and self.action_matches and bool(self.undecided_by)


@dataclass(frozen=True)
class TrustDecision:
    """The outcome of :func:`evaluate_trust`.

    ``reason`` is one plain sentence naming the deciding statement and the real values;
    ``allowed_by`` / ``denied_by`` are 1-based statement numbers (``allowed_by`` is ``None``
    whenever the request is not allowed). ``undecided`` lists the conditions
    (``"<operator> <key>"``) that decide the outcome but that the evidence cannot settle
    (e.g. ``aws:SourceIp``); ``allowed`` is then ``False`` and ``outcome`` ``"undecided"``.
    """

    allowed: bool
    reason: str
    allowed_by: int | None
    denied_by: int | None
    statements: tuple[StatementResult, ...]
    undecided: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``"allowed"``, ``"denied"`` or ``"undecided"``."""
        if self.allowed:
            return "allowed"
        return "undecided" if self.undecided else "denied"


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
    return like(as_pattern(pattern), value)


def _arn_like(tokens: Pattern, value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-delimited components matched separately."""
    parts: list[list[str]] = [[]]
    for t in tokens:
        if t == ":" and type(t) is str and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append(t)
    val = value.split(":", 5)
    if len(parts) != 6 or len(val) != 6:
        return False
    return all(like(tuple(p), v) for p, v in zip(parts, val, strict=True))


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
        lowered = {op.lower(): op for op in _KNOWN_OPERATORS}
        params = {"where": where, "name": repr(name)}
        if base.lower() in lowered:
            msg = Msg("_policy.unknown_operator_case", **params, op=lowered[base.lower()])
        elif ":" in rest:
            msg = Msg("_policy.unknown_operator_set", **params)
        else:
            msg = Msg("_policy.unknown_operator", **params)
        raise PolicyError(msg)
    if base == "Null" and if_exists:
        raise PolicyError(Msg("_policy.null_if_exists", where=where, name=repr(name)))
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
        raise PolicyError(Msg("_policy.empty"))
    if not stripped.startswith(("{", "[", '"')) and "%" in stripped:
        stripped = unquote(stripped).strip()
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(Msg("_policy.not_json", error=str(exc))) from None
    if isinstance(data, str) and depth == 0:
        # A JSON string holding the JSON document (double-encoded).
        return _decode_text(data, depth + 1)
    return data


def _string_list(value: Any, where: str, element: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PolicyError(Msg("_policy.string_list", where=where, element=element, kind=_kind(value)))


def _kind(value: Any) -> str:
    if value is None:
        return Msg("_policy.kind.null")
    if isinstance(value, bool):
        return Msg("_policy.kind.boolean")
    if isinstance(value, int | float):
        return Msg("_policy.kind.number")
    if isinstance(value, str):
        return Msg("_policy.kind.string", value=repr(value))
    if isinstance(value, list):
        return Msg("_policy.kind.list")
    if isinstance(value, dict):
        return Msg("_policy.kind.object")
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
            raise PolicyError(
                Msg("_policy.value_unreadable", where=where, error=str(exc))
            ) from None
    raise PolicyError(Msg("_policy.value_type", where=where))


def _normalise_principal(value: Any, where: str, element: str) -> dict[str, list[str]]:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, str):
        raise PolicyError(
            Msg("_policy.principal_string", where=where, element=element, value=repr(value))
        )
    if not isinstance(value, dict) or not value:
        raise PolicyError(
            Msg("_policy.principal_empty", where=where, element=element, kind=_kind(value))
        )
    out: dict[str, list[str]] = {}
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                Msg(
                    "_policy.principal_type",
                    where=where,
                    element=element,
                    ptype=repr(ptype),
                    types=", ".join(_PRINCIPAL_TYPES),
                )
            )
        out[ptype] = _string_list(ids, where, f"{element}.{ptype}")
    return out


def _normalise_condition(value: Any, where: str) -> dict[str, dict[str, list[str]]]:
    if not isinstance(value, dict):
        raise PolicyError(Msg("_policy.condition_object", where=where, kind=_kind(value)))
    out: dict[str, dict[str, list[str]]] = {}
    for op_name, block in value.items():
        if not isinstance(op_name, str):
            raise PolicyError(Msg("_policy.operator_not_string", where=where, op=repr(op_name)))
        op = _parse_operator(op_name, where)
        if not isinstance(block, dict):
            raise PolicyError(
                Msg("_policy.operator_block", where=where, op=op_name, kind=_kind(block))
            )
        keys: dict[str, list[str]] = {}
        for key, raw in block.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(Msg("_policy.empty_key", where=where, op=op_name))
            here = Msg("_policy.where_key", where=where, op=op_name, key=key)
            items = raw if isinstance(raw, list) else [raw]
            values = [_scalar_text(v, here) for v in items]
            if op.base == "Null" and any(v.lower() not in ("true", "false") for v in values):
                raise PolicyError(Msg("_policy.null_values", where=here, values=str(values)))
            keys[key] = values
        out[op_name] = keys
    return out


def _where(index: int) -> str:
    return Msg("_policy.statement", index=index)


def _normalise_statement(raw: Any, index: int) -> dict[str, Any]:
    where = _where(index)
    if not isinstance(raw, dict):
        raise PolicyError(Msg("_policy.statement_object", where=where, kind=_kind(raw)))
    out = dict(raw)
    effect = raw.get("Effect")
    if not isinstance(effect, str) or effect not in ("Allow", "Deny"):
        raise PolicyError(Msg("_policy.effect", where=where, kind=_kind(effect)))
    for positive, negative in (("Principal", "NotPrincipal"), ("Action", "NotAction")):
        params = {"where": where, "positive": positive, "negative": negative}
        if positive in raw and negative in raw:
            raise PolicyError(Msg("_policy.both", **params))
        if positive not in raw and negative not in raw:
            raise PolicyError(Msg(f"_policy.neither_{positive.lower()}", **params))
    for element in ("Principal", "NotPrincipal"):
        if element in raw:
            out[element] = _normalise_principal(raw[element], where, element)
    for element in ("Action", "NotAction"):
        if element in raw:
            out[element] = _string_list(raw[element], where, element)
    out["Condition"] = _normalise_condition(raw.get("Condition", {}), where)
    return out


class Policy(dict):
    """A trust-policy document as :func:`parse_policy` returns it (a plain ``dict`` otherwise):
    passed to :func:`parse_policy` again, it is returned as is."""


def parse_policy(doc: dict[str, Any] | str) -> Policy:
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
    if type(doc) is Policy:
        return doc
    data = _decode_text(doc) if isinstance(doc, str) else doc
    if not isinstance(data, dict):
        raise PolicyError(Msg("_policy.not_object", kind=_kind(data)))
    if "Statement" not in data:
        raise PolicyError(Msg("_policy.no_statement"))
    raw = data["Statement"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyError(Msg("_policy.statement_shape", kind=_kind(raw)))
    out = Policy(data)
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


def _positive_match(base: str, actual: str, expected: Pattern) -> bool:
    """Whether one request value satisfies one policy value under a positive operator."""
    if base in ("StringEquals", "Bool", "BinaryEquals"):
        return actual == text(expected)
    if base == "StringEqualsIgnoreCase":
        return actual.casefold() == text(expected).casefold()
    if base == "StringLike":
        return like(expected, actual)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if base == "IpAddress":
        return _ip_in(actual, text(expected))
    if base.startswith("Numeric"):
        a, b = _number(actual), _number(text(expected))
        return a is not None and b is not None and _ORDERINGS[base[7:]](a, b)
    if base.startswith("Date"):
        da, db = _date(actual), _date(text(expected))
        return da is not None and db is not None and _ORDERINGS[base[4:]](da, db)
    raise AssertionError(f"unhandled operator {base}")  # pragma: no cover


def _any3(results: Iterable[bool | None]) -> bool | None:
    """Kleene OR: True if any is True, else None if any is unknown, else False."""
    seen = list(results)
    return True if True in seen else None if None in seen else False


def _absent_outcome(op: _Operator) -> bool:
    """A condition on a key absent from the request. The set qualifier decides first ("Conditions
    with multiple context keys or values": ForAllValues "returns true if there are no keys in
    the request", ForAnyValue "for no matching key ... returns false", IfExists inside it
    included, as AWS answers in https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w); then
    "...IfExists" is true; otherwise positive operators are false and negated ones true
    ("Condition operators")."""
    if op.qualifier == "ForAllValues":
        return True
    if op.qualifier == "ForAnyValue":
        return False
    return op.if_exists or op.negated


def _condition_holds(
    op: _Operator, key: str, values: list[str], ctx: RequestContext, variables: bool = False
) -> bool | None:
    """Whether one key's condition holds: ``None`` when the evidence cannot decide."""
    entry = ctx.lookup(key)
    if op.base == "Null":
        present = entry.present if isinstance(entry, Unknown) else entry is not None
        if present is None:
            return None
        return any((v.lower() == "true") == (not present) for v in values)
    if entry is None:
        return _absent_outcome(op)
    if isinstance(entry, Unknown):
        return None
    substitute = variables and op.positive.startswith(("String", "Arn"))
    patterns = [resolve(v, ctx.lookup, substitute) for v in values]
    hit = _any3(
        None if p is UNKNOWN else p is not None and _positive_match(op.positive, entry.value, p)
        for p in patterns
    )
    if op.negated and hit is not None:
        return not hit
    return hit  # single-valued: ForAllValues/ForAnyValue over one value decide as plain


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
        return Msg("_trust.no_values")
    listed = "[" + ", ".join(values) + "]"
    return listed if negated else Msg("_trust.one_of", values=listed)


def _explain_condition(
    index: int, op: _Operator, key: str, values: list[str], ctx: RequestContext
) -> str:
    entry = ctx.lookup(key)
    if isinstance(entry, Unknown) and (op.base != "Null" or entry.present is None):
        return Msg(f"_trust.unknown.{entry.kind}", index=index, key=key, op=op.name)
    if op.base == "Null":
        state = "present" if entry is not None else "absent"
        return Msg(f"_trust.null_{state}", index=index, key=key, values=_show(values, False))
    if entry is None:
        outcome = "true" if _absent_outcome(op) else "false"
        return Msg(
            f"_trust.absent_{absent_kind(key, ctx.issuer)}",
            index=index,
            key=key,
            issuer=ctx.issuer,
            op=op.name,
            outcome=outcome,
        )
    assert isinstance(entry, Known)  # Unknown entries were explained above
    if not entry.claim:
        return Msg(
            "_trust.mismatch_context_negated" if op.negated else "_trust.mismatch_context",
            index=index,
            key=key,
            op=op.name,
            values=_show(values, op.negated),
            actual=entry.value,
        )
    claim, actual = entry.claim, entry.value
    params = {
        "index": index,
        "key": key,
        "op": op.name,
        "values": _show(values, op.negated),
        "claim": claim,
        "actual": actual,
    }
    if op.negated:
        return Msg("_trust.mismatch_negated", **params)
    hints = []
    if op.positive in ("StringEquals", "StringEqualsIgnoreCase"):
        wild = [v for v in values if "*" in v or "?" in v]
        if wild:
            char = "*" if any("*" in v for v in wild) else "?"
            fold = str.casefold if op.positive == "StringEqualsIgnoreCase" else str
            use_like = any(string_like(fold(v), fold(actual)) for v in wild)
            hint = "hint_literal_use_like" if use_like else "hint_literal"
            hints.append(Msg(f"_trust.{hint}", op=op.positive, char=char))
    folded = actual.casefold()
    if (
        op.positive in ("StringEquals", "StringLike")
        and not hints
        and any(string_like(v.casefold(), folded) for v in values)
    ):
        hints.append(Msg("_trust.hint_case", op=op.positive))
    if claim == "aud" and any(v.startswith(_SUB_PREFIX) for v in values):
        hints.append(Msg("_trust.hint_aud_is_sub", key=f"{key.rpartition(':')[0]}:sub"))
    elif claim == "sub" and values and not any(":" in v or "*" in v for v in values):
        hints.append(Msg("_trust.hint_sub_shape", prefix=_SUB_PREFIX))
    sentence = Msg("_trust.mismatch", **params)
    return join([sentence, *hints]) if hints else sentence


def _split_arn(text: str) -> list[str]:
    return re.split(r"[:/]", text)


def _provider_difference(trusted: str, actual: str) -> str:
    if trusted == actual + "/":
        return Msg("_trust.diff.trusted_trailing_slash")
    if actual == trusted + "/":
        return Msg("_trust.diff.actual_trailing_slash")
    if trusted.lower() == actual.lower():
        return Msg("_trust.diff.case_only")
    try:
        t, a = parse_arn(trusted), parse_arn(actual)
    except ArnError:
        return Msg("_trust.diff.not_provider_arn", trusted=trusted)
    diffs = []

    def differ(what: str, trusted: str, actual: str) -> None:
        diffs.append(Msg(f"_trust.diff.{what}", trusted=trusted, actual=actual))

    if t.partition != a.partition:
        differ("partition", t.partition, a.partition)
    if t.service != a.service:
        differ("service", t.service, a.service)
    if t.account != a.account:
        differ("account", t.account, a.account)
    t_type, _, t_path = t.resource.partition("/")
    a_type, _, a_path = a.resource.partition("/")
    if t_type != a_type:
        differ("resource_type", t_type, a_type)
    else:
        t_host, _, t_rest = t_path.partition("/")
        a_host, _, a_rest = a_path.partition("/")
        if t_host != a_host:
            t_reg = _ISSUER_REGION_RE.match(t_host)
            a_reg = _ISSUER_REGION_RE.match(a_host)
            if t_reg and a_reg and t_reg.group(1) != a_reg.group(1):
                differ("issuer_region", t_reg.group(1), a_reg.group(1))
            else:
                differ("issuer_host", t_host, a_host)
        if t_rest != a_rest:
            if t_rest.rstrip("/") == a_rest.rstrip("/"):
                diffs.append(Msg("_trust.diff.trailing_slash"))
            elif t_rest.startswith("id/") and a_rest.startswith("id/"):
                differ("issuer_id", t_rest[3:], a_rest[3:])
            else:
                differ("issuer_path", t_rest, a_rest)
    return join(diffs, "and") if diffs else Msg("_trust.diff.other")


def _distance(trusted: str, actual: str) -> int:
    return sum(x != y for x, y in zip_longest(_split_arn(trusted), _split_arn(actual)))


def _lists_provider(principal: dict[str, list[str]], provider_arn: str) -> bool:
    return "*" in principal.get("AWS", ()) or provider_arn in principal.get("Federated", ())


def _principal_result(stmt: dict[str, Any], index: int, provider_arn: str) -> tuple[bool, str]:
    if "NotPrincipal" in stmt:
        if _lists_provider(stmt["NotPrincipal"], provider_arn):
            return False, Msg("_trust.not_principal", index=index, provider=provider_arn)
        return True, ""
    principal = stmt["Principal"]
    if _lists_provider(principal, provider_arn):
        return True, ""
    federated = principal.get("Federated", [])
    if federated:
        best = min(federated, key=lambda t: _distance(t, provider_arn))
        return False, Msg(
            "_trust.other_provider" if len(federated) == 1 else "_trust.other_provider_closest",
            index=index,
            trusted=best,
            count=len(federated),
            provider=provider_arn,
            difference=_provider_difference(best, provider_arn),
        )
    services = principal.get("Service", [])
    if _POD_IDENTITY_SERVICE in services:
        return False, Msg("_trust.pod_identity", index=index, service=_POD_IDENTITY_SERVICE)
    for ptype in ("Service", "AWS", "CanonicalUser"):
        if principal.get(ptype):
            return False, Msg(
                f"_trust.principal_{ptype.lower()}",
                index=index,
                principals=", ".join(principal[ptype]),
                provider=provider_arn,
            )
    return False, Msg("_trust.no_principal", index=index)


def _action_result(stmt: dict[str, Any], index: int, action: str) -> tuple[bool, str]:
    wanted = action.lower()
    if "NotAction" in stmt:
        if any(string_like(p.lower(), wanted) for p in stmt["NotAction"]):
            return False, Msg("_trust.not_action", index=index, action=action)
        return True, ""
    actions = stmt["Action"]
    if any(string_like(p.lower(), wanted) for p in actions):
        return True, ""
    verb = "allows" if stmt["Effect"] == "Allow" else "denies"
    listed = ", ".join(actions) if actions else Msg("_trust.no_action")
    return False, Msg(f"_trust.{verb}_only", index=index, actions=listed, action=action)


def _conditions_result(
    stmt: dict[str, Any], index: int, ctx: RequestContext, variables: bool
) -> tuple[bool | None, str | None, str, tuple[str, ...]]:
    """(outcome, failed condition, detail, undecided conditions) of a statement's conditions:
    ANDed, so one false condition decides; otherwise any undecidable one leaves it ``None``."""
    unknown: list[tuple[str, str]] = []
    for op_name, block in stmt["Condition"].items():
        op = _parse_operator(op_name, _where(index))
        for key, values in block.items():
            holds = _condition_holds(op, key, values, ctx, variables)
            if holds is True:
                continue
            detail = _explain_condition(index, op, key, values, ctx)
            if holds is False:
                return False, f"{op_name} {key}", detail, ()
            unknown.append((f"{op_name} {key}", detail))
    if unknown:
        return None, None, unknown[0][1], tuple(u[0] for u in unknown)
    return True, None, "", ()


def _evaluate_statement(
    stmt: dict[str, Any],
    index: int,
    request: WebIdentityRequest,
    ctx: RequestContext,
    variables: bool,
) -> StatementResult:
    p_ok, p_detail = _principal_result(stmt, index, request.provider_arn)
    a_ok, a_detail = _action_result(stmt, index, request.action)
    c_ok, failed, c_detail, unknown = _conditions_result(stmt, index, ctx, variables)
    detail = p_detail or a_detail or c_detail
    return StatementResult(
        index, stmt["Effect"], p_ok, a_ok, c_ok is True, failed, detail, undecided_by=unknown
    )


def evaluate_trust(
    policy: dict[str, Any] | str,
    request: WebIdentityRequest,
    *,
    requested_region: str | None = None,
    now: datetime | None = None,
) -> TrustDecision:
    """Decide whether a trust policy lets this web-identity token assume the role.

    Parameters
    ----------
    policy : dict or str
        The role's ``AssumeRolePolicyDocument`` (dict, JSON or URL-encoded JSON).
    request : WebIdentityRequest
        The provider ARN and token claims.
    requested_region : str, optional
        The Region whose STS endpoint the pod's SDK calls (``aws:RequestedRegion``); unknown
        when omitted, so a condition on it is undecided.
    now : datetime, optional
        The time of the call (``aws:CurrentTime``, ``aws:EpochTime``); default: now.

    Returns
    -------
    TrustDecision
        ``allowed``, a one-sentence ``reason`` naming the deciding statement and values,
        ``allowed_by``/``denied_by``, per-statement results, and ``undecided`` (the
        conditions the evidence cannot settle when they decide the outcome).

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
    ctx = RequestContext(
        _bare_issuer(request.issuer),
        request.sub,
        request.aud,
        requested_region,
        now or datetime.now(UTC),
    )
    variables = doc.get("Version") == VARIABLES_VERSION
    results = tuple(
        _evaluate_statement(stmt, i, request, ctx, variables)
        for i, stmt in enumerate(doc["Statement"], 1)
    )
    return _decide(results, request)


def _decide(results: tuple[StatementResult, ...], request: WebIdentityRequest) -> TrustDecision:
    """Any matching Deny wins, then any matching Allow; a Deny or Allow that the evidence
    cannot settle leaves the outcome undecided when it could change it."""
    deny = next((r for r in results if r.effect == "Deny" and r.matches), None)
    allow = next((r for r in results if r.effect == "Allow" and r.matches), None)
    if deny is not None:
        reason = Msg(
            "_trust.deny_over_allow" if allow else "_trust.deny_over_any",
            index=deny.index,
            sub=request.sub,
            allow=allow.index if allow else "",
        )
        return TrustDecision(False, reason, None, deny.index, results)
    maybe_deny = next((r for r in results if r.effect == "Deny" and r.undecided), None)
    maybe_allow = next((r for r in results if r.effect == "Allow" and r.undecided), None)
    if allow is not None and maybe_deny is None:
        reason = Msg(
            "_trust.allow",
            index=allow.index,
            action=request.action,
            sub=request.sub,
            provider=request.provider_arn,
        )
        return TrustDecision(True, reason, allow.index, None, results)
    deciding = maybe_deny if allow is not None else maybe_allow
    if deciding is not None:
        which = "deny" if deciding is maybe_deny else "allow"
        reason = Msg(f"_trust.undecided_{which}", index=deciding.index, detail=deciding.detail)
        return TrustDecision(False, reason, None, None, results, deciding.undecided_by)
    return TrustDecision(False, _no_allow_reason(results, request), None, None, results)


def _no_allow_reason(results: tuple[StatementResult, ...], request: WebIdentityRequest) -> str:
    allows = [r for r in results if r.effect == "Allow"]
    if not allows:
        what = "no_statements" if not results else "only_deny"
        return Msg(f"_trust.{what}", action=request.action)

    def progress(r: StatementResult) -> int:
        if r.principal_matches and r.action_matches:
            return 3
        return 2 if r.action_matches else int(r.principal_matches)

    best = max(allows, key=progress)  # max() keeps the first of equals
    if progress(best) == 0:
        return Msg("_trust.no_allow", action=request.action, detail=best.detail)
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
    """Whether an Allow statement can match this issuer's tokens, and its wildcard (the
    ``_trust.overbroad`` key naming it) if it trusts every principal."""
    suffix = f":oidc-provider/{issuer}"
    if "NotPrincipal" in stmt:
        np = stmt["NotPrincipal"]
        listed = "*" in np.get("AWS", ()) or any(
            f.endswith(suffix) for f in np.get("Federated", ())
        )
        return not listed, "not_principal"
    principal = stmt["Principal"]
    if "*" in principal.get("AWS", ()):
        return True, "principal_star"
    return any(f.endswith(suffix) for f in principal.get("Federated", ())), None


def _unmatchable_condition(stmt: dict[str, Any], issuer: str) -> str | None:
    """The first condition (``"<operator> <key>"``) that no token from ``issuer`` satisfies.

    Only what holds for every call is judged (:class:`~irsa_nb.iam.context.RequestContext`):
    conditions on keys absent from every such request (the issuer's claims other than
    ``sub``/``aud``, another provider's keys, global keys documented as absent) and ``Null``
    on keys whose presence is certain. On an absent key a positive operator without
    ``IfExists``, ``ForAnyValue:`` and ``Null: false`` are false (IAM User Guide, "Condition
    operators"), so the statement admits nothing. Values that differ per token or per call
    (``sub``, ``aws:CurrentTime``) and keys the evidence cannot settle are not judged.
    """
    ctx = RequestContext(issuer, "", "")
    for op_name, block in stmt["Condition"].items():
        op = _parse_operator(op_name, "")
        for key, values in block.items():
            if ctx.lookup(key) is not None and op.base != "Null":
                continue
            if _condition_holds(op, key, values, ctx) is False:
                return f"{op_name} {key}"
    return None


def _issuer_statements(doc: dict[str, Any], issuer: str) -> Iterator[tuple[int, dict, str | None]]:
    """The Allow statements covering web identity that trust ``issuer``'s provider."""
    for index, stmt in enumerate(doc["Statement"], 1):
        if stmt["Effect"] != "Allow":
            continue
        if not _action_result(stmt, index, WEB_IDENTITY_ACTION)[0]:
            continue
        trusts, wildcard = _trusts_issuer(stmt, issuer)
        if trusts:
            yield index, stmt, wildcard


def unmatchable_statements(policy: dict[str, Any] | str, issuer: str) -> dict[int, str]:
    """Allow statements for ``issuer``'s provider that no token from it can match.

    Returns
    -------
    dict
        1-based statement number -> ``"<operator> <key>"`` of the condition that fails
        for every token, e.g. ``{1: "StringLike oidc.eks.../id/OTHER:sub"}``.

    Raises
    ------
    PolicyError
        If the document cannot be evaluated.
    """
    doc = parse_policy(policy)
    iss = _bare_issuer(issuer)
    out = {}
    for index, stmt, _ in _issuer_statements(doc, iss):
        failed = _unmatchable_condition(stmt, iss)
        if failed:
            out[index] = failed
    return out


def overbroad_findings(policy: dict[str, Any] | str, issuer: str) -> list[str]:
    """List security findings for statements that allow web identity from ``issuer``.

    Flags: ``Principal: "*"`` (and NotPrincipal with Allow); no ``<issuer>:sub`` condition,
    or one constrained only by negated operators; a ``sub`` pattern matching other namespaces
    (``system:serviceaccount:*:app``) or every service account in a namespace
    (``system:serviceaccount:ns:*``); ``ForAllValues:`` or ``...IfExists`` on ``sub``.
    A statement that no token from ``issuer`` can match (see :func:`unmatchable_statements`,
    e.g. a ``StringLike`` on another issuer's ``:sub``) admits nothing and is not flagged.

    Returns
    -------
    list of str
        One plain sentence (:class:`~irsa_nb.text.Msg`) per finding, in statement order;
        empty when nothing is over-broad. A namespace-wide pattern's finding has the key
        ``_trust.overbroad.namespace_wide``.

    Raises
    ------
    PolicyError
        If the document cannot be evaluated.
    """
    doc = parse_policy(policy)
    iss = _bare_issuer(issuer)
    sub_key = f"{iss}:sub"
    findings: list[str] = []

    def finding(kind: str, **params: Any) -> None:
        findings.append(Msg(f"_trust.overbroad.{kind}", index=index, key=sub_key, **params))

    for index, stmt, wildcard in _issuer_statements(doc, iss):
        if _unmatchable_condition(stmt, iss):
            continue  # admits nothing from this issuer
        where = _where(index)
        if wildcard:
            finding(wildcard)
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
                finding("for_all_values", op=op.name)
            if op.if_exists and op.qualifier != "ForAnyValue":  # ForAnyValue: false if absent
                finding("if_exists", op=op.name, base=op.base)
            if op.base == "Null":
                continue
            (negated if op.negated else positive).append((op, values))
        if not positive:
            if negated:
                finding("negated_only", ops=", ".join(sorted({op.name for op, _ in negated})))
            else:
                finding("no_sub")
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
            finding("other_namespaces", pattern=pattern, op=op.name)
        elif level == 1:
            finding("namespace_wide", pattern=pattern, op=op.name, namespace=namespace)
    return list(dict.fromkeys(findings))
