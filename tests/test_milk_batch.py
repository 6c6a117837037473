"""Batch parsing: pool and in-process agree; bad files become records with an error."""

from __future__ import annotations

import numpy as np

from aivj.milk import batch
from aivj.milk.synthetic import synthetic_preset


def test_pool_matches_in_process_and_keeps_errors(tmp_path, monkeypatch):
    paths = []
    for i in range(30):
        p = tmp_path / "sub" / f"p{i:02d}.MILK"
        p.parent.mkdir(exist_ok=True)
        p.write_text(synthetic_preset(i).to_text())
        paths.append(p)
    (tmp_path / "sub" / "bad.milk").write_bytes(b"\x00garbage")
    files = batch.milk_files(tmp_path)
    assert len(files) == 31
    files.append(tmp_path / "missing.milk")
    serial = batch.load_preset_files(files, workers=1, progress=False)
    monkeypatch.setattr(batch, "POOL_MIN_FILES", 1)
    pooled = batch.load_preset_files(files, workers=2, progress=True)
    assert [r.path for r in serial] == [r.path for r in pooled] == [str(f) for f in files]
    for a, b in zip(serial, pooled):
        assert a.preset_id == b.preset_id and a.error == b.error
        assert (a.features is None and b.features is None) or np.array_equal(a.features, b.features)
    errors = {r.path.rsplit("/", 1)[-1]: r.error for r in serial if r.error}
    assert set(errors) == {"bad.milk", "missing.milk"}
    assert "NUL" in errors["bad.milk"] and "unreadable" in errors["missing.milk"]
