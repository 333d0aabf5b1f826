"""The in-pod probe: one fixed POSIX sh script run once per container, and its parser.

``irsa-nb collect --exec`` (and the collect script's exec section) runs :data:`PROBE_SCRIPT`
as ``sh -c PROBE_SCRIPT`` inside each selected container. The script is a constant: no
input of the tool (cluster, namespace, pod or container names, flags) is ever part of it,
and the only paths it reads come from the container's own environment (``HOME``,
``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``, ``AWS_CONFIG_FILE``,
``VIRTUAL_ENV``, the working directory). It writes nothing and changes nothing.

Output: a header line ``IRSA-NB-PROBE 1 <marker>``, then sections each opened by a line
``<marker> <name>``; the marker embeds a random id read inside the container, so no
environment value set before the probe started can fake a section. Sections, in order
(cheapest first, so a timeout during SDK discovery keeps the rest):

``env``
    ``NAME=value``, one line per variable; values are printed only for the AWS SDK settings
    in :data:`irsa_nb.exec_facts.KEPT_ENV_VALUES`, every other non-empty value
    is replaced by ``***`` inside the container (secrets never cross the wire). Names come
    from awk's ``ENVIRON`` (else ``env``, else the shell's ``export -p``) and count only when
    the shell has the variable set; each value is read from the variable itself, never from
    a printed line, so a multi-line value (a PEM key, a line ``AWS_ACCESS_KEY_ID=...``
    inside another value) can neither fake a variable nor show through a kept name. A kept
    value holding a newline or another control character is printed as ``***``.
``id``
    ``id`` output, else ``uid=.. gid=.. groups=..`` from ``/proc/self/status``.
``token-stat``
    ``path=``, ``source=env|default``, ``exists=yes|no``, ``stat=UID GID MODE``
    (``stat -L -c``) or ``ls=`` (``ls -lnL``), ``readable=yes|no`` (the shell's
    ``[ -r ]`` as the container user).
``token-claims``
    Only the payload segment of the projected token (the middle of ``header.payload.sig``,
    printed only when the file looks like a JWT): never the signature, so what crosses
    the wire cannot be replayed. It is decoded in memory and only ``iss``, ``sub``,
    ``aud``, ``exp`` and ``iat`` are kept.
``aws-files``
    For the effective shared credentials and config files: ``file`` lines (kind, origin,
    present/absent/unreadable, path) and ``key`` lines (kind, profile, key *name*); values
    are never printed.
``sdk``
    Tab-separated records: ``py`` (boto3/botocore/awscli via Python's
    ``importlib.metadata``), ``cli`` (``aws --version``), ``npm`` (``package.json``
    versions of ``aws-sdk`` and ``@aws-sdk/client-*``/``credential-provider-*``), ``jar``
    and ``jar-entry`` (AWS SDK for Java jars, also inside fat jars with ``unzip -l``),
    ``gomod`` (``go version -m /proc/1/exe`` when ``go`` exists), ``tool`` (yes/no) and
    ``cwd``. Searches are bounded (``-maxdepth``, ``timeout`` when present, 60 hits).

Without a shell (distroless, scratch) the collector falls back to :data:`FALLBACK_COMMANDS`
(``env -0``, else ``env``, then ``id``) as plain argv lists. There nothing masks inside the
container: the raw environment crosses the wire and is masked by
:func:`irsa_nb.exec_facts.redact_env_text` before anything is kept (``env -0`` splits the
variables exactly; with plain ``env`` a name seen twice keeps no value).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..exec_facts import KEPT_ENV_VALUES, redact_env_text
from ..redact import mask_text

PROBE_VERSION = "1"
HEADER = "IRSA-NB-PROBE"
#: Section name -> bundle file name (token-claims is decoded, see :func:`claims_document`).
FILES = {
    "env": "env.txt",
    "id": "id.txt",
    "token-stat": "token-stat.txt",
    "token-claims": "token-claims.json",
    "aws-files": "aws-files.txt",
    "sdk": "sdk.json",
}
CLAIMS = ("iss", "sub", "aud", "exp", "iat")
#: ``(section, argv)`` tried in order (fixed argv) when the container has no ``sh``; a section
#: is read once: ``env -0`` (NUL-separated, exact) first, plain ``env`` when it fails.
FALLBACK_COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("env", ("env", "-0")),
    ("env", ("env",)),
    ("id", ("id",)),
)

_PY = (  # one line per statement, one-space indents: it sits in the single-quoted PY=
    "import sys\n"
    "try:from importlib.metadata import version as V\n"
    "except ImportError:V=lambda n:__import__(n).__version__\n"
    'for n in("boto3","botocore","awscli"):\n'
    ' try:sys.stdout.write("py\\t%s\\t%s\\t%s\\n"%(n,V(n),sys.executable))\n'
    " except Exception:pass\n"
)

_TEMPLATE = Path(__file__).with_name("exec_probe.sh.in").read_text(encoding="utf-8")
#: Sent without comments, indentation and blank lines: the script travels in the exec URL
#: (``command=`` query parameter), which proxies and API servers limit to about 8 KiB.
_TEMPLATE = "\n".join(
    ln.strip() for ln in _TEMPLATE.splitlines() if ln.strip() and not ln.startswith("#")
)

#: The probe: a fixed literal (built once from constants; no tool input is ever part of it).
PROBE_SCRIPT = (
    _TEMPLATE.replace("@VERSION@", PROBE_VERSION)
    .replace("@KEPT@", "|".join(KEPT_ENV_VALUES))
    .replace("@PY@", _PY)
)
#: The argv the collector sends for the probe.
PROBE_COMMAND = ("sh", "-c", PROBE_SCRIPT)

assert "'" not in _PY and "@" not in "".join(KEPT_ENV_VALUES)


def split_sections(stdout: str) -> tuple[bool, dict[str, str], bool]:
    """``(shell_ran, {section: text}, finished)`` of the probe's stdout.

    A section counts only when the next marker was seen (it is complete); ``finished`` says
    the ``end`` marker arrived. Trailing blank lines of a section are dropped.
    """
    lines = stdout.split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.startswith(HEADER + " ")), None)
    if start is None:
        return False, {}, False
    parts = lines[start].split(" ")
    marker = parts[2] if len(parts) > 2 else ""
    sections: dict[str, str] = {}
    current: str | None = None
    body: list[str] = []
    for ln in lines[start + 1 :]:
        ln = ln.rstrip("\r")
        if marker and ln.startswith(marker + " "):
            if current is not None:
                while body and body[-1] == "":
                    body.pop()
                sections[current] = "".join(x + "\n" for x in body)
            current = ln[len(marker) + 1 :].strip()
            body = []
            if current == "end":
                return True, sections, True
        elif current is not None:
            body.append(ln)
    return True, sections, False


def decode_claims(payload: str) -> dict[str, Any] | None:
    """The kept claims (``iss, sub, aud, exp, iat``) of a JWT payload segment, or None."""
    seg = payload.strip()
    try:
        raw = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    out: dict[str, Any] = {}
    for name in CLAIMS:
        if name not in data:
            continue
        value = data[name]
        if name == "aud":
            value = [str(a) for a in value] if isinstance(value, list) else [str(value)]
        elif name in ("exp", "iat"):
            value = value if isinstance(value, int) and not isinstance(value, bool) else None
        else:
            value = str(value)
        out[name] = value
    return out


def sdk_document(text: str) -> dict[str, Any]:
    """``sdk.json``: the sdk section's tab-separated records as lists of fields."""
    records = [ln.split("\t") for ln in text.splitlines() if ln.strip()]
    return {"records": [[mask_text(f)[0] for f in rec] for rec in records]}


def documents_from_sections(sections: Mapping[str, str], checked_at: int) -> dict[str, Any]:
    """Bundle documents (file name -> text or JSON) of the probe's sections.

    Every text is masked again here (:func:`irsa_nb.exec_facts.redact_env_text` for the
    environment, :func:`irsa_nb.redact.mask_text` for the rest) before anything is kept.
    """
    docs: dict[str, Any] = {}
    for name, text in sections.items():
        if name == "env":
            docs[FILES[name]] = redact_env_text(text)
        elif name == "token-claims":
            claims = decode_claims(text) if text.strip() else None
            if claims is not None:
                docs[FILES[name]] = {**claims, "checked_at": checked_at}
        elif name == "sdk":
            docs[FILES[name]] = sdk_document(text)
        elif name in FILES:
            docs[FILES[name]] = mask_text(text)[0]
    return docs
