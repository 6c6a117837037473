"""The model beside the app's hand rule on the same held-out tracks (``aivj style evaluate``).

Both answer per window and are read per track (model: mean probabilities; rule: majority vote).
Figures: six-label macro F1 (the rule names only ambient, techno and rock, so three labels score 0
for it) and three-profile macro F1, where every style counts as its profile
(``hand_rule.PROFILE_OF``) and the model's answer is mapped the same way. The rule's thresholds are
fitted on the training tracks first (its best chance; the app's own numbers are not written down).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aivj.style.audio import AudioError, load_audio
from aivj.style.features import FeatureSpec, windows
from aivj.style.hand_rule import PROFILE_OF, PROFILES, f1_per_class, fit_thresholds, macro_f1, track_vote
from aivj.style.predict import window_probs
from aivj.style.tracks import list_tracks


def _windows_of(tracks, spec: FeatureSpec):
    mels, lives, ids, kept, skipped = [], [], [], [], []
    for t in tracks:
        try:
            mel, live = windows(load_audio(t.path, spec.sample_rate), spec)
        except AudioError as exc:
            skipped.append(str(exc))
            continue
        mels.append(mel)
        lives.append(live)
        ids += [len(kept)] * len(mel)
        kept.append(t)
    return np.concatenate(mels), np.concatenate(lives), np.asarray(ids), kept, skipped


def evaluate(model, root: str | Path | None = None, csv: str | Path | None = None, split: str = "test") -> dict:
    labels, spec = list(model.hparams.labels), FeatureSpec(**model.hparams.spec)
    tracks, _ = list_tracks(root, csv, labels)
    profile_of = np.array([PROFILES.index(PROFILE_OF.get(s, "rock")) for s in labels])
    train = [t for t in tracks if t.split == "train"]
    held = [t for t in tracks if t.split == split]
    if not train or not held:
        raise ValueError(f"{root or csv}: needs train and {split} tracks (has {len(train)} and {len(held)})")
    _, tr_live, tr_ids, tr_kept, _ = _windows_of(train, spec)
    rule = fit_thresholds(tr_live, profile_of[[tr_kept[i].label for i in tr_ids]], tr_ids)

    mel, live, ids, kept, skipped = _windows_of(held, spec)
    truth = np.array([t.label for t in kept])
    probs = window_probs(model, mel, live)
    model_pred = np.array([probs[ids == i].mean(axis=0).argmax() for i in range(len(kept))])
    _, rule_profile = track_vote(rule.profiles(live), ids, len(PROFILES))
    # the rule's profile as a style: the label that is its own profile's namesake (ambient, techno, rock)
    as_style = {PROFILES.index(p): labels.index(p) for p in PROFILES if p in labels}
    rule_style = np.array([as_style.get(int(p), -1) for p in rule_profile])
    n = len(labels)
    return {
        "tracks": len(kept),
        "set_aside": skipped,
        "windows": int(len(mel)),
        "model_macro_f1": macro_f1(model_pred, truth, n),
        "model_window_macro_f1": macro_f1(probs.argmax(axis=1), truth[ids], n),
        "model_track_acc": float(np.mean(model_pred == truth)),
        "rule_macro_f1": macro_f1(rule_style, truth, n),
        "model_profile_macro_f1": macro_f1(profile_of[model_pred], profile_of[truth], len(PROFILES)),
        "rule_profile_macro_f1": macro_f1(rule_profile, profile_of[truth], len(PROFILES)),
        "rule_thresholds": rule.asdict(),
        "model_f1": dict(zip(labels, np.round(f1_per_class(model_pred, truth, n), 3).tolist())),
        "rule_f1": dict(zip(labels, np.round(f1_per_class(rule_style, truth, n), 3).tolist())),
    }
