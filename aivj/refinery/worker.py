"""A render worker process: ``python -m aivj.refinery.worker SETTINGS_JSON CACHE_DIR``.

Started by ``render.py`` with ``LD_PRELOAD=<shim>`` (the virtual clock must win symbol lookup) and
``LP_NUM_THREADS=1``. Reads one JSON job per line on stdin (``{"id", "path"}``), writes the stored
frames into the cache and answers one JSON line per job on the original stdout; everything projectM
prints goes to stderr (the parent's per-worker log). It never destroys projectM: it leaves with
``os._exit`` (``~projectM()`` can deadlock).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from aivj.contract.atomic import write_text_atomic
from aivj.milk.audio import make_audio
from aivj.refinery.settings import RenderSettings

BLACK_PRESET = """[preset00]
fRating=3.0
fGammaAdj=1.0
fDecay=0.0
fVideoEchoAlpha=0.0
fWaveAlpha=0.0
fWaveScale=0.0
nWaveMode=0
bAdditiveWaves=0
bMaximizeWaveColor=0
bDarkenCenter=0
zoom=1.0
rot=0.0
warp=0.0
wave_a=0.0
ob_size=0.0
ob_a=0.0
ib_size=0.0
ib_a=0.0
nMotionVectorsX=0.0
nMotionVectorsY=0.0
mv_a=0.0
per_frame_1=wave_a=0;
"""
BLACK_MAX_LUMA = 10.0 / 255.0  # a preset whose brightest stored pixel stays below this renders black


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma in [0, 1] of uint8 RGB (the web app's 0.2126 R + 0.7152 G + 0.0722 B)."""
    return rgb[..., 0] * (0.2126 / 255) + rgb[..., 1] * (0.7152 / 255) + rgb[..., 2] * (0.0722 / 255)


def downsample(frames: np.ndarray, size: int) -> np.ndarray:
    """Box mean of each (h // size) x (w // size) block, rounded half to even, as uint8 [t, size, size, c].

    The same bytes as ``round(float32 mean)`` (the sums are exact integers, then one float32 division),
    at a third of the CPU: two reductions over contiguous axes instead of a float copy of every pixel
    and a mean over two strided axes (44 -> 14 ms per preset, docs/benchmarks.md "Renderer")."""
    t, h, w, c = frames.shape
    fy, fx = h // size, w // size
    boxed = np.ascontiguousarray(frames[:, : size * fy, : size * fx])
    rows = boxed.reshape(t * size, fy, size * fx * c).sum(axis=1, dtype=np.uint32)
    sums = rows.reshape(t, size, size, fx, c).sum(axis=3, dtype=np.uint32)
    return np.round(sums.astype(np.float32) / np.float32(fy * fx)).astype(np.uint8)


class Shim:
    """ctypes binding of the preloaded shim (one projectM per process)."""

    def __init__(self, lib_path: str, s: RenderSettings):
        self.lib = ctypes.CDLL(lib_path)
        self.s = s
        self.err = ctypes.create_string_buffer(1024)
        libc = ctypes.CDLL(None)
        self.lib.aivj_clock_set(ctypes.c_double(4321.0))
        libc.time.restype = ctypes.c_long
        if libc.time(None) != 4321:
            raise RuntimeError(f"{lib_path} is not first in symbol lookup: start the worker with LD_PRELOAD")
        rc = self.lib.aivj_pm_open(
            s.width,
            s.height,
            s.mesh_x,
            s.mesh_y,
            int(round(1 / s.frame_seconds)),
            b"/usr/share/projectM",
            self.err,
            len(self.err),
        )
        if rc != 0:
            raise RuntimeError(f"projectM/EGL init failed: {self.err.value.decode(errors='replace')}")
        f = self.lib.aivj_pm_render
        f.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_double,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        n = s.total_frames * s.samples_per_frame
        self.audio = make_audio(s.audio, n, bpm=s.bpm)
        self.out = np.zeros((s.frames, s.height, s.width, 3), dtype=np.uint8)

    def render(self, path: str, black_path: str) -> tuple[int, str, np.ndarray]:
        s, spf = self.s, self.s.samples_per_frame
        prime = self.audio[: s.black_frames * spf]
        rest = self.audio[s.black_frames * spf :]
        rc = self.lib.aivj_pm_render(
            path.encode(),
            black_path.encode(),
            s.black_frames,
            prime.ctypes.data,
            s.warmup,
            s.frames,
            rest.ctypes.data,
            spf,
            s.frame_seconds,
            s.seed,
            self.out.ctypes.data,
            self.err,
            len(self.err),
        )
        return rc, self.err.value.decode(errors="replace"), self.out


def render_job(shim: Shim, settings: RenderSettings, black_path: str, job: dict, save) -> dict:
    """Render one ``{"id", "path"}`` job; ``save(id, frames)`` stores the frames. The status record (no
    ``seconds``) is the one both pools log: the local workers here, the Ray actors in ``ray_pool.py``."""
    rec = {"id": job["id"], "seconds": 0.0, "reason": ""}
    if not (os.path.isabs(job["path"]) and os.access(job["path"], os.R_OK)):
        # projectM renders a file it cannot open as its idle preset, which stores as "black"
        rec.update(status="load_error", reason=f"{job['path']}: cannot read (the worker needs an absolute, readable path)")
        return rec
    rc, err, frames = shim.render(job["path"], black_path)
    if rc != 0:
        rec.update(status="load_error", reason=err or f"render returned {rc}")
        return rec
    small = downsample(frames, settings.store)
    lum = luma(small)
    peak = float(lum.max())
    save(job["id"], small)
    rec.update(status="ok" if peak >= BLACK_MAX_LUMA else "black", mean_luma=round(float(lum.mean()), 5))
    if rec["status"] == "black":
        rec["reason"] = f"renders black (brightest stored pixel luma {peak:.4f})"
    return rec


def main(argv: list[str]) -> None:
    settings = RenderSettings.from_json(argv[0])
    cache_dir = Path(argv[1])
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # projectM prints to stdout; keep the protocol channel clean
    black = cache_dir / "black.milk"
    if not black.exists():
        write_text_atomic(black, BLACK_PRESET)
    from aivj.refinery.cache import FrameCache

    cache = FrameCache(settings, cache_dir.parent)
    try:
        shim = Shim(os.environ["AIVJ_SHIM"], settings)
    except Exception as exc:  # reported once; the parent marks the job and stops
        proto.write(json.dumps({"fatal": str(exc)}) + "\n")
        os._exit(3)
    proto.write(json.dumps({"ready": True}) + "\n")
    fault = os.environ.get("AIVJ_REFINERY_FAULT", "")  # tests only: "hang:<file name>" or "crash:<file name>"
    for line in sys.stdin:
        job = json.loads(line)
        t0 = time.perf_counter()
        if fault:
            kind, _, name = fault.partition(":")
            if job["path"].endswith(name):
                if kind == "hang":
                    time.sleep(3600)
                os.abort()
        rec = render_job(shim, settings, str(black), job, cache.save_frames)
        rec["seconds"] = round(time.perf_counter() - t0, 4)
        proto.write(json.dumps(rec) + "\n")
    proto.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
