"""Load a model and score presets with it: ``load_scorer(version | checkpoint | "champion")``.

``scorer`` (the Scorer every consumer shares), ``loading`` (registry version, checkpoint or champion
-> module, without Hydra or the Trainer), ``checkpoint`` (weights-only reading), ``build`` (trusted
``_target_`` nodes), ``packs`` (a pack folder's pairs and features), ``onnx`` (the one exporter),
``tiers`` (the fast regression tier's scoring).
"""

from aivj.inference.scorer import CHAMPION, PackScores, Scorer, load_scorer

__all__ = ["CHAMPION", "PackScores", "Scorer", "load_scorer"]
