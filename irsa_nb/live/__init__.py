"""Live collection: boto3 and the Kubernetes API into the same documents a bundle holds.

:func:`irsa_nb.live.collect.collect` is the entry point (exported as ``irsa_nb.collect``);
``aws`` talks to EKS/IAM, ``kube`` to the Kubernetes API, ``tls`` to the OIDC issuer.
Nothing here is imported by ``import irsa_nb``: boto3 and kubernetes load on first use.
"""
