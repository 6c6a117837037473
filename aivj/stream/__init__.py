"""The streaming reweighter (docs/streaming.md): score and rank change events logged by the refinery
(``refinery_v2_*.log``, JSON lines) -> a Redis Stream (the tailer) -> per-pack sorted sets of sampling
weights (consumer-group workers) -> the live app's top-k and the training sampler's live weights.

Redis is the only moving part; the event format and the Redis keys (``keys.py``) are the contract a
Flink job would keep if it took the worker's place.
"""
