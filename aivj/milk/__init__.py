"""MilkDrop presets: parse ``.milk`` text (``parser``, ``lines``, ``values``), write it back
(``writer``), identify it by content (``hashing``), turn it into the fixed 64-dim feature vector,
pair terms and style tags (``feature_spec``, ``features``, ``pairs``), run all that over many
files in a process pool (``batch``), and make realistic synthetic presets (``synthetic``).
"""

from aivj.milk.hashing import content_hash
from aivj.milk.parser import MilkParseError, MilkPreset, parse_milk

__all__ = ["MilkParseError", "MilkPreset", "content_hash", "parse_milk"]
