"""Music style engine: audio -> style probabilities -> the pairing side's visual parameters (docs/style.md).

``features`` (log-mel windows and the app's live features), ``audio`` (decoding WAV/OGG/FLAC/MP3),
``compose`` / ``recipes`` / ``generate`` (deterministic labelled audio rendered with fluidsynth and a
General MIDI soundfont), ``tracks`` and ``data`` (labelled folders, CSVs, the corpus; ``StyleDataModule``),
``nets``, ``module`` and ``plots`` (CNN+LSTM, CNN-only, the Lightning module, the confusion matrix),
``predict`` (a whole file), ``stream`` (smoothing with hysteresis), ``hand_rule`` and ``evaluate``
(the app's profile rule, the baseline beside the model), ``store`` (the style model family's registry
folder), ``onnx`` (export), ``visuals`` and ``pick`` (style -> preset categories, tags, coupling,
parallax, phase; ``aivj style pick``), ``cli``.
"""

DEFAULT_LABELS = ("techno", "drum_and_bass", "hiphop", "ambient", "classical", "rock")
