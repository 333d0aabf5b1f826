"""Document builders: the Kubernetes and IAM JSON a bundle (or a fake server) holds.

* :mod:`tests.builders.k8s_objects` - schema-complete Kubernetes JSON builders (EKS pods).
* :mod:`tests.builders.synthetic` - a large synthetic cluster + IAM data; the bundle layout.

Pure functions, no servers: the check tests build documents with them, the fake servers in
``tests/servers/`` serve them, and ``benchmarks/`` builds its synthetic world from them. The
``test_*.py`` files here check the builders themselves.
"""
