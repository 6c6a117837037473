"""`aivj compare OLD NEW`: two model versions side by side (scores, coupling settings, composites; docs/coupling.md)."""
