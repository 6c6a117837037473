"""The unattended self-training daemon (``aivj daemon``; docs/daemon.md).

``service`` (schedule, lock, guards, backoff) -> ``runner`` (one run under a ``journal``) -> ``steps``
(scan, ingest, select, train, gate, promote) with ``scan`` (packs by content hash), ``views`` (training
sets), ``training`` (train.py stages), ``gate`` (judge against the champion), ``champion`` (rollback,
register, promote), ``report``, ``notify``, ``metrics``; ``status`` and ``cli``.
"""
