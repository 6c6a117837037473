"""The data contract: what every package agrees on, importing nothing heavier than pyarrow and numpy.

``schema`` (the presets/pairs tables, dimensions, versions), ``layout`` (their reader and writer),
``batch`` (the keys a model reads), ``thresholds`` (every gate and score edge), ``scoring_paths``
(render/static and the figures each needs), ``atomic`` (the one way to write a file that matters).
Nothing here may import torch, Lightning, Hydra or another package of this project.
"""
