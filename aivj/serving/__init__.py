"""``aivj serve``: the scoring service (docs/monitoring.md).

``champion`` (the loaded champion, swapped when the registry's pointer moves), ``app`` (the FastAPI
routes: score pairs, top-k of a pack, the champion; the latency histogram), ``cli``.
"""
