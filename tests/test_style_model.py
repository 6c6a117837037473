"""Style model parts: the networks, track aggregation, the smoother's hysteresis, the hand rule, the track lists."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aivj.style.features import LIVE_DIM, LIVE_NAMES
from aivj.style.hand_rule import PROFILES, HandRule, fit_thresholds, macro_f1, track_vote
from aivj.style.module import StyleModule, track_level
from aivj.style.nets import StyleNet
from aivj.style.stream import StyleSmoother
from aivj.style.tracks import TrackListError, list_tracks

LABELS = ["techno", "drum_and_bass", "hiphop", "ambient", "classical", "rock"]


@pytest.mark.parametrize("arch", ["cnn_lstm", "cnn"])
def test_both_networks_answer_per_window_and_ignore_the_level(arch):
    torch.manual_seed(0)
    net = StyleNet(6, arch=arch, live_dim=LIVE_DIM).eval()
    mel, live = torch.randn(3, 64, 128) * 10 - 40, torch.rand(3, LIVE_DIM)
    with torch.no_grad():
        out = net(mel, live)
        louder = net(mel + 12.0, live)
        other_live = net(mel, live + 1.0)
    assert out.shape == (3, 6)
    torch.testing.assert_close(out, louder, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(out, other_live)  # the live features are read


def test_the_module_keeps_plain_hyperparameters_that_rebuild_it():
    module = StyleModule(labels=LABELS, arch="cnn", spec={"n_mels": 32}, channels=[8, 16])
    again = StyleModule(**module.hparams)
    assert again.hparams.spec["n_mels"] == 32 and again.hparams.labels == LABELS
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in module.parameters())


def test_track_level_averages_each_tracks_windows():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    labels, tracks = torch.tensor([0, 0, 1, 1]), torch.tensor([5, 5, 9, 9])
    mean, truth = track_level(probs, labels, tracks)
    torch.testing.assert_close(mean, torch.tensor([[0.55, 0.45], [0.35, 0.65]]))
    assert truth.tolist() == [0, 1]


def test_the_smoother_ignores_one_odd_window_and_follows_a_lasting_change():
    s = StyleSmoother(["techno", "ambient"], alpha=0.5, margin=0.15, hold=2)
    techno, ambient = np.array([0.9, 0.1]), np.array([0.1, 0.9])
    answers = [s.update(p)[0] for p in [techno, techno, ambient, techno, techno]]
    assert answers == ["techno"] * 5
    answers = [s.update(ambient)[0] for _ in range(4)]
    assert answers[0] == "techno" and answers[-1] == "ambient"
    switch = answers.index("ambient")
    assert switch >= 1  # not on the first ambient window: hysteresis


def _live(energy, beat, kick, flux):
    row = np.zeros(LIVE_DIM, np.float32)
    for name, value in (("rms_db", energy), ("beat_confidence", beat), ("band_kick", kick), ("flux", flux)):
        row[LIVE_NAMES.index(name)] = value
    return row


def test_the_hand_rule_is_the_apps_decision_list():
    rule = HandRule(energy_low=-1.5, beat_low=0.3, kick_high=0.3, flux_high=0.5)
    rows = np.stack(
        [_live(-2.0, 0.8, 0.5, 0.2), _live(-1.0, 0.1, 0.5, 0.2), _live(-1.0, 0.8, 0.5, 0.2), _live(-1.0, 0.8, 0.1, 0.9)]
    )
    assert [PROFILES[i] for i in rule.profiles(rows)] == ["ambient", "ambient", "techno", "rock"]


def test_fitted_thresholds_recover_a_planted_rule():
    rng = np.random.default_rng(0)
    planted = HandRule(energy_low=-1.2, beat_low=0.4, kick_high=0.35, flux_high=0.45)
    live = np.stack([_live(*v) for v in rng.uniform([-2.5, 0, 0, 0], [0, 1, 0.7, 1], size=(600, 4))])
    tracks = np.arange(600) // 3
    profile = planted.profiles(live)
    truth = np.array([np.bincount(profile[tracks == t], minlength=3).argmax() for t in np.unique(tracks)])
    fitted = fit_thresholds(live, np.repeat(truth, 3), tracks)
    assert macro_f1(track_vote(fitted.profiles(live), tracks, 3)[1], truth, 3) > 0.9


def test_a_labelled_folder_splits_by_file_and_names_what_it_ignores(tmp_path):
    for style in ("techno", "ambient"):
        for i in range(5):
            (tmp_path / style / "sub").mkdir(parents=True, exist_ok=True)
            (tmp_path / style / "sub" / f"{i}.MP3").write_bytes(b"x")
    (tmp_path / "polka").mkdir()
    tracks, notes = list_tracks(tmp_path, None, LABELS)
    again, _ = list_tracks(tmp_path, None, LABELS)
    assert len(tracks) == 10 and [t.split for t in tracks] == [t.split for t in again]
    for label in (0, 3):
        assert sorted(t.split for t in tracks if t.label == label) == ["test", "train", "train", "train", "val"]
    assert any("polka" in n for n in notes)


def test_a_track_csv_reads_its_splits_and_sets_aside_bad_rows(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "b.wav").write_bytes(b"x")
    (tmp_path / "list.csv").write_text(
        "file,style,split\na.wav,rock,train\nb.wav,polka,train\nc.wav,rock,test\na.wav,rock,later\n"
    )
    tracks, notes = list_tracks(None, tmp_path / "list.csv", LABELS)
    assert [(t.name, t.split) for t in tracks] == [("a.wav", "train")]
    assert len(notes) == 3 and any("polka" in n for n in notes) and any("c.wav: no such file" in n for n in notes)
    (tmp_path / "bad.csv").write_text("path,label\nx.wav,rock\n")
    with pytest.raises(TrackListError, match=r"bad\.csv: a track list needs the columns file,style"):
        list_tracks(None, tmp_path / "bad.csv", LABELS)
