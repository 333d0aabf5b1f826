"""A fake STS (and IAM policy simulator) on 127.0.0.1 that behaves like the real services.

``FakeAwsFront(moto_url, ca_file=...)`` answers, in the query protocol (form POST, XML):

* ``AssumeRoleWithWebIdentity`` (unsigned): the role ARN must be well formed (else
  ``ValidationError: Request ARN is invalid``); the token's ``iss`` must have an IAM OIDC
  provider in the role's account (moto's IAM; else ``InvalidIdentityToken: No OpenIDConnect
  provider found in your account for ISS``); its RS256 signature is checked against the
  issuer's JWKS, fetched over HTTPS from ``ISS/.well-known/openid-configuration`` as STS does;
  ``exp`` is compared with this server's clock (``clock_skew`` seconds ahead: ``Token expired:
  ...``, code ``ExpiredTokenException``); ``aud`` must be in the provider's ClientIDList
  (``InvalidIdentityToken: Incorrect token audience``); the role must exist and its trust
  policy, evaluated by :func:`irsa_nb.iam.trust.evaluate_trust`, must admit the token (else
  ``AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity``). On success it
  issues ASIA credentials and remembers them;
* ``GetCallerIdentity`` (signed with such credentials, session token checked): the
  assumed-role ARN;
* IAM ``SimulatePrincipalPolicy`` (moto lacks it): the role's inline and attached customer
  policies from moto, evaluated for Action/Resource with wildcards (Deny wins; statements
  with conditions report their keys as ``MissingContextValues``); ``simulate_denied=True``
  answers AccessDenied for the caller.

Every other request is forwarded to moto, so ``AWS_ENDPOINT_URL_STS`` and
``AWS_ENDPOINT_URL_IAM`` can both point here. ``calls`` records ``(service, operation)``;
``issued`` the credentials handed out (for leak checks). With ``trail=`` (a
:class:`tests.servers.fake_cloudtrail.FakeCloudTrail`) every ``AssumeRoleWithWebIdentity``
it answers is recorded there as CloudTrail records it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import secrets
import ssl
import string
import threading
import time
import urllib.parse
import urllib.request
import uuid
from typing import Any
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from irsa_nb.iam.trust import WebIdentityRequest, evaluate_trust
from tests.servers.aws import _ProxyHandler, make_client
from tests.servers.jwt_keys import b64url_decode
from tests.servers.tls import BackgroundHTTPServer

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
_CRED_RE = re.compile(r"Credential=([A-Z0-9]+)/")


class StsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


class _Handler(_ProxyHandler):
    def _do(self) -> None:
        front: FakeAwsFront = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service, op, _proto = self._identify(body)
        front.calls.append((service, op))
        local = ("AssumeRoleWithWebIdentity", "GetCallerIdentity", "SimulatePrincipalPolicy")
        if op not in local or (op == "GetCallerIdentity" and not front.issued_to(self.headers)):
            self._forward(front, body)  # type: ignore[arg-type]  (moto answers for its users)
            return
        params = {
            k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()
        }
        ns = IAM_NS if op == "SimulatePrincipalPolicy" else STS_NS
        if op == "AssumeRoleWithWebIdentity":
            front.assume_signed.append("authorization" in {k.lower() for k in self.headers})
        try:
            result = front.answer(op, params, dict(self.headers))
            status = 200
            payload = (
                f'<{op}Response xmlns="{ns}"><{op}Result>{result}</{op}Result>'
                f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
                f"</{op}Response>"
            )
            front.log_web_identity(op, params, dict(self.headers), self.client_address[0], None)
        except StsError as exc:
            front.log_web_identity(op, params, dict(self.headers), self.client_address[0], exc)
            status = exc.status
            kind = "Receiver" if status >= 500 else "Sender"
            payload = (
                f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type>'
                f"<Code>{escape(exc.code)}</Code><Message>{escape(exc.message)}</Message>"
                f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
            )
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _do


class FakeAwsFront(BackgroundHTTPServer):
    """See the module docstring."""

    def __init__(
        self,
        moto_url: str,
        *,
        ca_file: str | None = None,
        clock_skew: float = 0.0,
        simulate_denied: bool = False,
        trail: Any = None,
    ) -> None:
        super().__init__(_Handler)
        self.trail = trail  # a FakeCloudTrail that records each AssumeRoleWithWebIdentity
        self.upstream_url = moto_url.rstrip("/")
        self.url = f"http://127.0.0.1:{self.port}"
        self.ca_file = ca_file
        self.clock_skew = clock_skew
        self.simulate_denied = simulate_denied
        self.calls: list[tuple[str, str]] = []
        self.issued: list[dict[str, str]] = []  # credentials handed out
        self.tokens_seen: list[str] = []
        self.assume_signed: list[bool] = []  # whether each AssumeRoleWithWebIdentity was signed
        self._sessions: dict[str, dict[str, str]] = {}
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> FakeAwsFront:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def operations(self) -> list[str]:
        return [op for _, op in self.calls]

    def log_web_identity(
        self,
        op: str,
        params: dict[str, str],
        headers: dict[str, str],
        source_ip: str,
        error: StsError | None,
    ) -> None:
        """Record an AssumeRoleWithWebIdentity call in ``trail`` as CloudTrail would: the
        token's iss/aud/sub (never the token), the error, the caller's IP and user agent."""
        if self.trail is None or op != "AssumeRoleWithWebIdentity":
            return
        claims: dict[str, Any] = {}
        with contextlib.suppress(ValueError, IndexError):
            claims = json.loads(b64url_decode(params.get("WebIdentityToken", "").split(".")[1]))
        aud = claims.get("aud") or ""
        agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
        m = ROLE_ARN.match(params.get("RoleArn", ""))
        self.trail.record_web_identity(
            params.get("RoleArn", ""),
            issuer=str(claims.get("iss") or ""),
            audience=aud[0] if isinstance(aud, list) and aud else str(aud),
            subject=str(claims.get("sub") or ""),
            error_code=error.code if error else "",
            error_message=error.message if error else "",
            source_ip=source_ip,
            user_agent=agent,
            **({"account": m.group(2)} if m else {}),
        )

    # ------------------------------------------------------------------ dispatch
    def answer(self, op: str, params: dict[str, str], headers: dict[str, str]) -> str:
        if op == "AssumeRoleWithWebIdentity":
            return self._assume(params)
        if op == "GetCallerIdentity":
            return self._caller(headers)
        return self._simulate(params)

    def _iam(self, account: str) -> Any:
        """moto's IAM for ``account`` (one client per account, created on first use)."""
        with self._lock:
            if account not in self._clients:
                self._clients[account] = make_client("iam", self.upstream_url, account_id=account)
            return self._clients[account]

    def warm(self, account: str) -> None:
        """Create the IAM client now (so a later botocore call recorder does not see it)."""
        self._iam(account)

    # ------------------------------------------------------------------ STS
    def _assume(self, p: dict[str, str]) -> str:
        token = p.get("WebIdentityToken", "")
        self.tokens_seen.append(token)
        m = ROLE_ARN.match(p.get("RoleArn", ""))
        if not m:
            raise StsError(400, "ValidationError", "Request ARN is invalid")
        partition, account, role_name = m.groups()
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(b64url_decode(head_b64))
            claims = json.loads(b64url_decode(body_b64))
        except ValueError:
            raise StsError(400, "InvalidIdentityToken", "Token contains malformed data") from None
        iss = str(claims.get("iss", ""))
        host_path = iss.removeprefix("https://").rstrip("/")
        iam = self._iam(account)
        arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
        provider_arn = next((a for a in arns if a.endswith("oidc-provider/" + host_path)), None)
        if provider_arn is None:
            raise StsError(
                400,
                "InvalidIdentityToken",
                f"No OpenIDConnect provider found in your account for {iss}",
            )
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
        self._verify(iss, header, f"{head_b64}.{body_b64}", sig_b64)
        now = int(time.time() + self.clock_skew)
        if now >= int(claims.get("exp", 0)):
            raise StsError(
                400,
                "ExpiredTokenException",
                f"Token expired: current date/time {now} must be before the expiration "
                f"date/time {claims.get('exp')}",
            )
        auds = claims.get("aud") or []
        auds = [auds] if isinstance(auds, str) else list(auds)
        matched = [a for a in auds if a in provider.get("ClientIDList", [])]
        if not matched:
            raise StsError(400, "InvalidIdentityToken", "Incorrect token audience")
        denied = StsError(
            403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            raise denied from None
        request = WebIdentityRequest(provider_arn, host_path, str(claims.get("sub")), matched[0])
        if not evaluate_trust(role["AssumeRolePolicyDocument"], request).allowed:
            raise denied
        session = p.get("RoleSessionName", "")
        key = "ASIA" + _rand(string.ascii_uppercase + string.digits, 16)
        creds = {
            "AccessKeyId": key,
            "SecretAccessKey": _rand(string.ascii_letters + string.digits + "/+", 40),
            "SessionToken": "IQoJb3JpZ2luX2Vj" + _rand(string.ascii_letters + string.digits, 200),
        }
        arn = f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"
        user_id = f"AROA{_rand(string.ascii_uppercase + string.digits, 17)}:{session}"
        with self._lock:
            self.issued.append(creds)
            self._sessions[key] = {**creds, "Arn": arn, "UserId": user_id, "Account": account}
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 900))
        return (
            f"<SubjectFromWebIdentityToken>{escape(str(claims.get('sub')))}"
            f"</SubjectFromWebIdentityToken><Audience>{escape(matched[0])}</Audience>"
            f"<AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>{user_id}</AssumedRoleId>"
            f"</AssumedRoleUser><Credentials><AccessKeyId>{key}</AccessKeyId>"
            f"<SecretAccessKey>{creds['SecretAccessKey']}</SecretAccessKey>"
            f"<SessionToken>{creds['SessionToken']}</SessionToken>"
            f"<Expiration>{exp}</Expiration></Credentials>"
            f"<Provider>{escape(provider_arn)}</Provider>"
        )

    def _verify(self, iss: str, header: dict[str, Any], signed: str, sig_b64: str) -> None:
        """The RS256 signature against the issuer's JWKS, fetched as STS does."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        unreachable = StsError(
            400,
            "IDPCommunicationError",
            "Couldn't retrieve verification key from your identity provider, please reference "
            "AssumeRoleWithWebIdentity documentation for requirements",
        )
        try:
            with urllib.request.urlopen(
                iss.rstrip("/") + "/.well-known/openid-configuration", context=ctx, timeout=5
            ) as r:
                jwks_uri = json.loads(r.read())["jwks_uri"]
            with urllib.request.urlopen(jwks_uri, context=ctx, timeout=5) as r:
                keys = json.loads(r.read())["keys"]
        except (OSError, ValueError, KeyError):
            raise unreachable from None
        key = next((k for k in keys if k.get("kid") == header.get("kid")), None)
        if key is None or header.get("alg") != "RS256":
            raise StsError(400, "InvalidIdentityToken", "Couldn't find a key to verify the token")
        pub = rsa.RSAPublicNumbers(
            int.from_bytes(b64url_decode(key["e"]), "big"),
            int.from_bytes(b64url_decode(key["n"]), "big"),
        ).public_key()
        try:
            pub.verify(b64url_decode(sig_b64), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            raise StsError(400, "InvalidIdentityToken", "Invalid token signature") from None

    def issued_to(self, headers: Any) -> bool:
        """Whether a request is signed with credentials this fake handed out."""
        m = _CRED_RE.search(headers.get("Authorization", ""))
        with self._lock:
            return bool(m) and m.group(1) in self._sessions

    def _caller(self, headers: dict[str, str]) -> str:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        tok = next((v for k, v in headers.items() if k.lower() == "x-amz-security-token"), "")
        m = _CRED_RE.search(auth)
        with self._lock:
            sess = self._sessions.get(m.group(1)) if m else None
        if sess is None or sess["SessionToken"] != tok:
            raise StsError(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        return (
            f"<Arn>{sess['Arn']}</Arn><UserId>{sess['UserId']}</UserId>"
            f"<Account>{sess['Account']}</Account>"
        )

    # ------------------------------------------------------------------ IAM simulation
    def _simulate(self, p: dict[str, str]) -> str:
        source = p.get("PolicySourceArn", "")
        if self.simulate_denied:
            raise StsError(
                403,
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/irsa-nb-test is not authorized to perform: "
                f"iam:SimulatePrincipalPolicy on resource: {source} because no identity-based "
                "policy allows the iam:SimulatePrincipalPolicy action",
            )
        m = ROLE_ARN.match(source)
        if not m:
            raise StsError(400, "InvalidInput", f"Invalid ARN: {source}")
        _, account, name = m.groups()
        iam = self._iam(account)
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            raise StsError(
                404, "NoSuchEntity", f"The role with name {name} cannot be found."
            ) from None
        policies: list[tuple[str, dict[str, Any]]] = []
        for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
            policies.append((pname, doc if isinstance(doc, dict) else json.loads(doc)))
        for att in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(
                PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"]
            )["PolicyVersion"]["Document"]
            policies.append((att["PolicyName"], ver if isinstance(ver, dict) else json.loads(ver)))
        actions = _members(p, "ActionNames")
        resources = _members(p, "ResourceArns") or ["*"]
        out = []
        for action in actions:
            for resource in resources:
                decision, matched, missing = _evaluate(policies, action, resource)
                stmts = "".join(
                    f"<member><SourcePolicyId>{escape(s)}</SourcePolicyId>"
                    "<SourcePolicyType>IAM Policy</SourcePolicyType></member>"
                    for s in matched
                )
                ctx = "".join(f"<member>{escape(k)}</member>" for k in missing)
                out.append(
                    f"<member><EvalActionName>{escape(action)}</EvalActionName>"
                    f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                    f"<EvalDecision>{decision}</EvalDecision>"
                    f"<MatchedStatements>{stmts}</MatchedStatements>"
                    f"<MissingContextValues>{ctx}</MissingContextValues></member>"
                )
        return (
            f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(out)}</EvaluationResults>"
        )


def _members(p: dict[str, str], name: str) -> list[str]:
    items = [(int(k.rsplit(".", 1)[1]), v) for k, v in p.items() if k.startswith(f"{name}.member.")]
    return [v for _, v in sorted(items)]


def _as_list(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else list(v or [])


def _evaluate(
    policies: list[tuple[str, dict[str, Any]]], action: str, resource: str
) -> tuple[str, list[str], list[str]]:
    allowed: list[str] = []
    missing: list[str] = []
    for name, doc in policies:
        statements = doc.get("Statement") or []
        for st in statements if isinstance(statements, list) else [statements]:
            acts = any(
                fnmatch.fnmatch(action.lower(), a.lower()) for a in _as_list(st.get("Action"))
            )
            res = any(fnmatch.fnmatchcase(resource, r) for r in _as_list(st.get("Resource")))
            if not (acts and res):
                continue
            if st.get("Condition"):
                missing += [k for op in st["Condition"].values() for k in op]
                continue
            if st.get("Effect") == "Deny":
                return "explicitDeny", [name], []
            allowed.append(name)
    if allowed:
        return "allowed", allowed, []
    return "implicitDeny", [], sorted(set(missing))
