"""A/B analysis of the feedback store (docs/feedback.md): ``stats`` (per-client metrics, Welch test,
fixed horizon), ``report`` (``aivj ab report EXP``), ``simulate`` (power and A/A false positives).
Assignment is ``aivj.feedback.assign``: the feedback service assigns arms when it logs exposures."""
