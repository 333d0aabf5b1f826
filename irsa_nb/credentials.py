"""Predicted identity: which credentials each container's AWS SDK will actually use.

Every SDK walks a default credential chain and takes the first provider that has credentials
(the SDKs' standardized credential providers:
https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html). IRSA is only
one link: static keys in the environment, a shared profile, or container (Pod Identity)
credentials can come first, and IMDS (the node role) is the fallback when nothing earlier
matched. The order differs per SDK; the rules here are the ones a static reader of the
admitted pod spec can apply.

``predict`` judges one container for one SDK; ``predicted_identity`` tabulates every
container of an inventory. Nothing here reads secret values: only variable names, the
Secret or ConfigMap they come from, and non-secret values such as ``AWS_ROLE_ARN``.
Each rule is an :class:`irsa_nb.text.Msg` (English text, renderable in the row's language).

Examples
--------
>>> import irsa_nb
>>> from irsa_nb.credentials import predicted_identity
>>> df = predicted_identity(irsa_nb.load_bundle("demo"), namespace="shop", sdk={"boto3": "1.34.0"})
>>> df.loc[df.pod.str.startswith("checkout"), "source"].unique().tolist()
['web_identity']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from .exec_facts import EXEC_SOURCE, AwsFile, effective_pod, facts_for, sdk_pairs
from .inventory import Gap, Inventory, PodIdentityAssociation
from .k8s import Container, Pod
from .sdk_endpoints import calls_for, summary
from .sdks import normalize_sdk
from .text import Msg, join

__all__ = [
    "CERTAINTIES",
    "IDENTITY_COLUMNS",
    "SOURCES",
    "Chain",
    "Prediction",
    "Step",
    "chain_for",
    "predict",
    "predicted_identity",
    "walk",
]

#: Where credentials can come from, in the words of the result table.
SOURCES = ("env_keys", "profile", "web_identity", "container", "imds", "none")
IDENTITY_COLUMNS = [
    "namespace",
    "pod",
    "container",
    "sdk",
    "source",
    "role_arn",
    "certainty",
    "rule",
    "region",
    "sts_endpoint",
]

#: How sure a prediction is. ``certain``: every fact that decides it was seen. ``spec-only``:
#: decided from the pod spec, but in-pod facts that could put a source before it (the image's
#: ``ENV``, credential files baked into the image) were not seen; :attr:`Prediction.unseen`
#: names them and ``--exec`` reads them. ``possible``: a source that may or may not hold
#: credentials (a Secret's keys, a profile file, IMDS reachability).
CERTAINTIES = ("certain", "spec-only", "possible")
#: In-pod facts a ``spec-only`` prediction did not see: the environment as the container sees
#: it (image ``ENV`` included), and the shared credentials/config files inside it.
UNSEEN = ("image_env", "aws_files")

ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
ROLE_ARN = "AWS_ROLE_ARN"
TOKEN_FILE = "AWS_WEB_IDENTITY_TOKEN_FILE"
CONTAINER_URIS = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
POD_IDENTITY_HOST = "169.254.170.23"
_ALL_PROFILE_VARS = ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")


@dataclass(frozen=True)
class Chain:
    """The default credential chain of one SDK, as far as IRSA is concerned.

    ``order`` lists the sources in the order the SDK tries them. ``profile_vars`` are the
    environment variables that make the shared-profile step (when it is in ``order``)
    worth flagging: the files' contents are not in a bundle, so a profile is "possible".
    """

    key: str
    label: str
    order: tuple[str, ...]
    profile_vars: tuple[str, ...] = ()
    env_keys_skipped_with_profile: bool = False  # JS v3: fromEnv is skipped if AWS_PROFILE set
    partial_web_identity_error: bool = False  # token file without role ARN raises
    partial_env_keys_error: bool = False  # one of the two env keys raises (botocore)
    web_identity_note: str = ""  # catalogue key under _chain.note
    profile_readers: str = ""  # _chain.readers key: who reads the profile (default: label)

    def note(self) -> str:
        """The caveat on the web-identity step (a :class:`~irsa_nb.text.Msg`), or ``""``."""
        return Msg(f"_chain.note.{self.web_identity_note}") if self.web_identity_note else ""

    def readers(self) -> str:
        """Who reads the shared profile before web identity."""
        return Msg(f"_chain.readers.{self.profile_readers}") if self.profile_readers else self.label


_GENERIC = Chain(
    "any",
    "any SDK",
    ("env_keys", "profile", "web_identity", "container", "imds"),
    _ALL_PROFILE_VARS,
    profile_readers="generic",
)
_BOTOCORE = dict(
    order=("env_keys", "profile", "web_identity", "container", "imds"),
    # AssumeRoleProvider (a profile with role_arn in the config file) precedes web identity;
    # static keys in the credentials file come after it.
    profile_vars=("AWS_PROFILE", "AWS_CONFIG_FILE"),
    partial_web_identity_error=True,
    partial_env_keys_error=True,
)
_SIMPLE = ("env_keys", "web_identity", "container", "imds")
_JAVA_NOTE = "java_sts"
CHAINS: dict[str, Chain] = {
    "boto3": Chain("boto3", "boto3", **_BOTOCORE),
    "botocore": Chain("botocore", "botocore", **_BOTOCORE),
    "awscli": Chain("awscli", "AWS CLI", **_BOTOCORE),
    "go": Chain("go", "Go SDK v1", _SIMPLE, partial_web_identity_error=True),
    "go2": Chain("go2", "Go SDK v2", _SIMPLE, partial_web_identity_error=True),
    "java": Chain("java", "Java SDK v1", _SIMPLE, web_identity_note=_JAVA_NOTE),
    "java2": Chain("java2", "Java SDK v2", _SIMPLE, web_identity_note=_JAVA_NOTE),
    "node2": Chain(
        "node2",
        "JavaScript SDK v2",
        ("env_keys", "profile", "container", "web_identity", "imds"),
        ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"),
    ),
    "node3": Chain(
        "node3",
        "JavaScript SDK v3",
        ("env_keys", "profile", "web_identity", "container", "imds"),
        _ALL_PROFILE_VARS,
        env_keys_skipped_with_profile=True,
    ),
    "dotnet3": Chain(
        "dotnet3",
        ".NET SDK v3",
        ("profile", "env_keys", "web_identity", "container", "imds"),
        ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"),
        web_identity_note="dotnet_token",
    ),
    "dotnet4": Chain("dotnet4", ".NET SDK v4", _SIMPLE),
    "ruby": Chain("ruby", "Ruby SDK", _SIMPLE),
    "php": Chain("php", "PHP SDK", _SIMPLE),
    "cpp": Chain(
        "cpp",
        "C++ SDK",
        ("env_keys", "profile", "web_identity", "container", "imds"),
        _ALL_PROFILE_VARS,
    ),
}


@dataclass(frozen=True)
class Step:
    """One link of the chain that has (or may have) credentials for the container."""

    source: str
    certainty: str  # "certain" or "possible"
    rule: str
    role_arn: str | None = None
    stage: str = ""  # the chain link that matched (default: ``source``)

    @property
    def link(self) -> str:
        return self.stage or self.source


@dataclass(frozen=True)
class Prediction:
    """What one container's SDK will use: the first step that matched, and why."""

    namespace: str
    pod: str
    container: str
    sdk: str
    source: str
    role_arn: str | None
    certainty: str  # one of CERTAINTIES
    rule: str
    steps: tuple[Step, ...]
    unseen: tuple[str, ...] = ()  # UNSEEN codes, for a "spec-only" certainty

    @property
    def winner(self) -> Step:
        """The last step walked (:func:`walk` stops at the first certain one): the source
        the SDK uses when every earlier "possible" step turns out empty."""
        return self.steps[-1]


def chain_for(sdk: str | None = None, version: str | None = None) -> Chain:
    """The chain of a canonical SDK key (see :func:`irsa_nb.sdks.normalize_sdk`).

    ``node`` and ``dotnet`` pick v2/v3 and v3/v4 by the major version (default: the newer).

    Examples
    --------
    >>> chain_for("node", "2.1500.0").order
    ('env_keys', 'profile', 'container', 'web_identity', 'imds')
    """
    if not sdk:
        return _GENERIC
    major = _major(version)
    if sdk == "node":
        return CHAINS["node2" if major == 2 else "node3"]
    if sdk == "dotnet":
        return CHAINS["dotnet3" if major == 3 else "dotnet4"]
    if sdk not in CHAINS:
        raise ValueError(f"no credential chain known for SDK {sdk!r}")
    return CHAINS[sdk]


def _major(version: str | None) -> int | None:
    head = (version or "").strip().lstrip("vV").split(".", 1)[0]
    return int(head) if head.isdigit() else None


# --- the steps ----------------------------------------------------------------------------


def _origin(c: Container, name: str) -> str:
    var = c.env[name]
    if var.source == "value":
        return Msg("_chain.origin.value", name=name)
    if var.source == EXEC_SOURCE:
        return Msg("_chain.origin.exec", name=name)
    kind, _, ref = var.source.partition(":")
    if kind in ("secretKeyRef", "configMapKeyRef"):
        return Msg(f"_chain.origin.{kind}", name=name, ref=ref)
    return Msg("_chain.origin.other", name=name, kind=kind, ref=ref)


def _env_from(c: Container) -> list[str]:
    out = []
    for ref in c.env_from:
        kind, _, name = ref.partition(":")
        out.append(
            Msg(f"_chain.env_from.{'secret' if kind == 'secretRef' else 'configmap'}", name=name)
        )
    return out


def _env_keys(c: Container, chain: Chain) -> Step | None:
    if chain.env_keys_skipped_with_profile and c.env_value("AWS_PROFILE") is not None:
        return None
    if ACCESS_KEY in c.env and SECRET_KEY in c.env:
        rule = Msg(
            "_chain.static_keys", access=_origin(c, ACCESS_KEY), secret=_origin(c, SECRET_KEY)
        )
        return Step("env_keys", "certain", rule)
    sources = _env_from(c)
    if ACCESS_KEY in c.env or SECRET_KEY in c.env:
        have, lack = (ACCESS_KEY, SECRET_KEY) if ACCESS_KEY in c.env else (SECRET_KEY, ACCESS_KEY)
        half = {"have": _origin(c, have), "lack": lack}
        if chain.partial_env_keys_error:
            return Step(
                "none",
                "certain",
                Msg("_chain.half_keys_error", **half, sdk=chain.label),
                stage="env_keys",
            )
        if chain.key == "any" or sources:
            key = "_chain.half_keys_env_from" if sources else "_chain.half_keys"
            return Step("env_keys", "possible", Msg(key, **half, sources=sources))
        return None
    if sources:
        return Step(
            "env_keys",
            "possible",
            Msg("_chain.env_from_keys", sources=sources, access=ACCESS_KEY, secret=SECRET_KEY),
        )
    return None


_BOTOCORE_KEYS = ("boto3", "botocore", "awscli")
#: Profile keys that give credentials (static keys, assume-role, a process, SSO).
_CREDENTIAL_KEYS = ("aws_access_key_id", "role_arn", "credential_process", "sso_start_url")


def _profile_in_files(c: Container, chain: Chain, files: Sequence[AwsFile]) -> Step | None:
    """The profile step from the shared files seen inside the container (``--exec``)."""
    profile = c.env_value("AWS_PROFILE") or "default"
    found = []  # ("~/.aws/credentials [default]", keys)
    for f in files:
        keys = [k for k in f.profiles.get(profile, ()) if k in _CREDENTIAL_KEYS]
        if f.state == "present" and keys:
            found.append((f, keys))
    if chain.key in _BOTOCORE_KEYS:  # only an assume-role profile precedes web identity
        found = [(f, k) for f, k in found if "role_arn" in k]
    if not found:
        return None
    what = join(
        Msg("_chain.profile_file", path=f.path, profile=profile, keys=", ".join(k))
        for f, k in found
    )
    if chain.key == "any":
        return Step(
            "profile",
            "possible",
            Msg("_chain.profile_seen_possible", what=what, readers=chain.readers()),
        )
    return Step("profile", "certain", Msg("_chain.profile_seen", what=what, sdk=chain.label))


def _profile(c: Container, chain: Chain, files: Sequence[AwsFile] | None = None) -> Step | None:
    if files is not None:
        return _profile_in_files(c, chain, files)
    present = [v for v in chain.profile_vars if c.env_value(v) is not None]
    if not present:
        return None
    named = ", ".join(f"{v}={c.env_value(v)}" for v in present)
    key = "_chain.profile_env_first" if chain.order.index("profile") == 0 else "_chain.profile_env"
    return Step("profile", "possible", Msg(key, named=named, readers=chain.readers()))


def _web_identity(c: Container, chain: Chain) -> Step | None:
    role, token = c.env_value(ROLE_ARN), c.env_value(TOKEN_FILE)
    names = {"role": ROLE_ARN, "token": TOKEN_FILE}
    if role and token:
        note = chain.note()
        rule = Msg("_chain.web_identity_note", **names, note=note) if note else None
        return Step(
            "web_identity",
            "certain",
            rule or Msg("_chain.web_identity", **names),
            role,
        )
    if token and not role and chain.partial_web_identity_error:
        return Step(
            "none",
            "certain",
            Msg("_chain.token_without_role", **names, sdk=chain.label),
            stage="web_identity",
        )
    return None


def _container(c: Container, association: PodIdentityAssociation | None) -> Step | None:
    present = [v for v in CONTAINER_URIS if c.env_value(v)]
    if not present:
        return None
    uri = c.env_value(present[0]) or ""  # masked in bundles: the name says CREDENTIALS
    token_file = c.env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") or ""
    pod_identity = POD_IDENTITY_HOST in uri or "pods.eks.amazonaws.com" in token_file or association
    what = "pod_identity" if pod_identity else "container"
    if association:
        what += "_association"
    aid = association.association_id if association else ""
    return Step("container", "certain", Msg(f"_chain.{what}", var=present[0], association=aid))


def _imds(pod: Pod) -> Step:
    key = "_chain.imds_host_network" if pod.host_network else "_chain.imds"
    return Step("imds", "possible", Msg(key))


def walk(
    pod: Pod,
    container: Container,
    chain: Chain,
    association: PodIdentityAssociation | None = None,
    aws_files: Sequence[AwsFile] | None = None,
) -> tuple[Step, ...]:
    """The steps that match, in chain order, up to and including the first certain one.

    The last step is what the SDK uses when every earlier (possible) step turns out empty.
    ``aws_files`` (seen inside the container with ``--exec``) replaces the guess from
    ``AWS_PROFILE``-like variables by what the shared credentials/config files hold.
    """
    steps: list[Step] = []
    for source in chain.order:
        if source == "env_keys":
            step = _env_keys(container, chain)
        elif source == "profile":
            step = _profile(container, chain, aws_files)
        elif source == "web_identity":
            step = _web_identity(container, chain)
        elif source == "container":
            step = _container(container, association)
        else:
            step = _imds(pod)
        if step is None:
            continue
        steps.append(step)
        if step.certainty == "certain":
            break
    return tuple(steps)


def unseen_before(
    chain: Chain, step: Step, env_seen: bool, aws_files: Sequence[AwsFile] | None
) -> tuple[str, ...]:
    """The in-pod facts (:data:`UNSEEN`) not seen that could put a source before ``step``.

    Any link before it can be switched on by the image's ``ENV`` (static keys,
    ``AWS_PROFILE``, container credentials), which only the environment seen inside the
    container shows; a profile link also by a credentials or config file baked into the image.
    """
    order = chain.order
    earlier = order[: order.index(step.link)] if step.link in order else ()
    out = []
    if earlier and not env_seen:
        out.append("image_env")
    if "profile" in earlier and aws_files is None:
        out.append("aws_files")
    return tuple(out)


def predict(
    pod: Pod,
    container: Container,
    sdk: str | None = None,
    version: str | None = None,
    association: PodIdentityAssociation | None = None,
    aws_files: Sequence[AwsFile] | None = None,
    env_seen: bool = False,
) -> Prediction:
    """Predict the credential source of one container for one SDK (``None``: any SDK).

    ``env_seen``: the container's environment was read inside it (``--exec``), not only
    from the pod spec; without it (and without ``aws_files``) a "certain" source that an
    unseen earlier one could beat is ``spec-only`` (:data:`CERTAINTIES`).
    """
    chain = chain_for(sdk, version)
    steps = walk(pod, container, chain, association, aws_files)
    first = steps[0]
    rule = first.rule
    if len(steps) > 1:
        rest = [Msg("_chain.step", source=s.source, rule=s.rule) for s in steps[1:]]
        rule = join([rule, *rest], "otherwise")
    role = first.role_arn if first.certainty == "certain" else None
    certainty, unseen = first.certainty, ()
    if certainty == "certain":
        unseen = unseen_before(chain, first, env_seen, aws_files)
        if unseen:
            certainty = "spec-only"
            what = join((Msg(f"_chain.unseen.{u}") for u in unseen), "items")
            rule = join([rule, Msg("_chain.spec_only", unseen=what)])
    label = chain.label if not version else f"{chain.label} {version}"
    return Prediction(
        pod.namespace,
        pod.name,
        container.name,
        label,
        first.source,
        role,
        certainty,
        rule,
        steps,
        unseen,
    )


def association_for(
    associations: Iterable[PodIdentityAssociation] | Gap, namespace: str, service_account: str
) -> PodIdentityAssociation | None:
    """The Pod Identity association of ``namespace/service_account``, if known."""
    if isinstance(associations, Gap):
        return None
    return next(
        (
            a
            for a in associations
            if a.namespace == namespace and a.service_account == service_account
        ),
        None,
    )


def predicted_identity(
    inventory: Inventory,
    namespace: str | None = None,
    pod: str | None = None,
    sdk: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per container (and per SDK given): the credentials its SDK will use.

    Parameters
    ----------
    inventory
        From :func:`irsa_nb.load_bundle`.
    namespace, pod
        Only these pods (default: all).
    sdk
        SDK versions as for :func:`irsa_nb.run_checks` (e.g. ``{"node": "3.600.0"}``); with
        none, the SDKs found inside the container (``--exec``) or else the order most SDKs
        share is used and per-SDK differences are "possible". With in-pod evidence the real
        environment (image ``ENV`` included) and the shared files seen inside are used.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`IDENTITY_COLUMNS`. ``source`` is one of :data:`SOURCES`;
        ``region`` and ``sts_endpoint`` say where that SDK sends ``AssumeRoleWithWebIdentity``
        (:mod:`irsa_nb.sdk_endpoints`; with no SDK known, the most common answer and the
        SDKs that differ), empty unless the source is ``web_identity``;
        ``certainty`` is one of :data:`CERTAINTIES`: ``possible`` when the bundle cannot show
        whether that source has credentials (a Secret's keys, a profile file, IMDS
        reachability), ``spec-only`` when the source was read from the pod spec alone and
        an earlier one could still come from the image (the ``rule`` then names what was not
        seen; ``--exec`` reads it); ``rule`` says which chain rule fired and what follows if
        the source turns out empty.

    Raises
    ------
    ValueError
        For an unknown SDK name or unreadable version.
    """
    given: list[tuple[str | None, str | None]] = list(normalize_sdk(sdk).items())
    pods = inventory.pods if not isinstance(inventory.pods, Gap) else ()
    associations = inventory.pod_identity_associations()
    cluster = inventory.cluster if not isinstance(inventory.cluster, Gap) else None
    node_region = cluster.region if cluster else None
    rows = []
    for p in pods:
        if namespace is not None and p.namespace != namespace:
            continue
        if pod is not None and p.name != pod:
            continue
        assoc = association_for(associations, p.namespace, p.service_account)
        facts = facts_for(inventory.exec_facts, p)  # in-pod evidence (--exec), if collected
        p, sources = effective_pod(inventory.exec_facts, p)
        for c in p.all_containers:
            f = facts.get(c.name)
            files = f.aws_files if f else None
            sdks = given or sdk_pairs(f) or [(None, None)]
            seen = sources[c.name] == "exec"
            for key, version in sdks:
                pr = predict(p, c, key, version, assoc, files, seen)
                row = {col: getattr(pr, col, "") for col in IDENTITY_COLUMNS}
                if pr.source == "web_identity":
                    env = {name: var.value for name, var in c.env.items()}
                    sdk_given = {key: version} if key else None
                    row["region"], row["sts_endpoint"] = summary(
                        calls_for(env, sdk_given, node_region)
                    )
                rows.append(row)
    return pd.DataFrame(rows, columns=IDENTITY_COLUMNS)
