"""Pair-scoring networks. Each maps a batch dict to a dict with at least ``score`` [B] in 0-5."""
