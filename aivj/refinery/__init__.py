"""The refinery: real labels from projectM renders.

Owns the native shim over libprojectM + EGL (``native``), deterministic audio programs (``audio``),
rendering every preset once into a frame cache (``render``, ``worker``, ``cache``), per-preset
render descriptors (``descriptors``), vectorised pair scoring from the cache (``scoring``), coupled
pair generation (``alchemy``) and the embedded default dataset (``dataset``). Nothing here loads the
shim at import time: only a render does, so the rest of the framework works without projectM.
See docs/refinery.md.
"""
