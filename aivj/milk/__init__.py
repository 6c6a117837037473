"""MilkDrop presets: parse ``.milk`` text (``parser``), write it back (``writer``), identify it by
content (``hashing``), and turn it into the fixed 64-dim feature vector plus pair terms
(``features``, ``feature_spec``, ``pairs``). ``batch`` runs parse + features over many files.
"""

from aivj.milk.hashing import content_hash
from aivj.milk.parser import MilkParseError, MilkPreset, parse_milk

__all__ = ["MilkParseError", "MilkPreset", "content_hash", "parse_milk"]
