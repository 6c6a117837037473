"""Music style engine: audio -> style probabilities -> the pairing side's visual parameters (docs/style.md).

``features`` (log-mel windows and the app's live features), ``audio`` (decoding WAV/OGG/FLAC/MP3),
``compose`` / ``recipes`` / ``generate`` (deterministic labelled audio rendered with fluidsynth and a
General MIDI soundfont), ``data`` (``StyleDataModule``), ``nets`` and ``module`` (CNN+LSTM, CNN-only,
the Lightning module), ``stream`` (smoothing with hysteresis), ``hand_rule`` (the app's profile rule,
the baseline), ``store`` (the style model family's registry folder), ``onnx`` (export), ``visuals``
(style -> preset tags, coupling, parallax, phase; ``aivj style pick``), ``cli``.
"""

DEFAULT_LABELS = ("techno", "drum_and_bass", "hiphop", "ambient", "classical", "rock")
