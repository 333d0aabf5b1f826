"""Bundles for Explorer tests: a copy of the demo with hostile strings from a "cluster"."""

from __future__ import annotations

import copy
from pathlib import Path

from irsa_nb import demo_bundle
from irsa_nb.bundle import read_documents, write_documents

# Markup that must show as text: it would run script or add an image if rendered as HTML.
EVIL_SA = '<img src=x onerror="window.__pwned=1">'
EVIL_ROLE = "arn:aws:iam::111122223333:role/<script>window.__pwned=2</script>"
EVIL_POD = "evil-<b>bold</b>-pod"


def write_hostile_bundle(out: Path) -> Path:
    """The demo bundle plus, in namespace ``shop``, a service account named :data:`EVIL_SA`
    annotated with :data:`EVIL_ROLE` and a pod :data:`EVIL_POD` using it."""
    docs = read_documents(demo_bundle("demo"))
    sas = docs["k8s/serviceaccounts.json"]["items"]
    sa = copy.deepcopy(next(s for s in sas if s["metadata"]["name"] == "cart"))
    sa["metadata"]["name"] = EVIL_SA
    sa["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": EVIL_ROLE}
    sas.append(sa)
    pods = docs["k8s/pods.json"]["items"]
    pod = copy.deepcopy(next(p for p in pods if p["metadata"]["name"].startswith("cart-")))
    pod["metadata"]["name"] = EVIL_POD
    pod["spec"]["serviceAccountName"] = pod["spec"]["serviceAccount"] = EVIL_SA
    pods.append(pod)
    return write_documents(docs, out)
