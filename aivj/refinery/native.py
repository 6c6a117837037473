"""Compile and locate the C ABI shim over libprojectM 3.1.12 + EGL (aivj/refinery/native/pm_shim.cpp).

The shim is built by the project itself with g++ into ``build/native/`` under the repo root, only when
the .so is missing or older than its source. Loading it for rendering happens in worker processes
(``worker.py``) with ``LD_PRELOAD`` so its virtual ``gettimeofday``/``time`` win symbol lookup.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from aivj.contract.atomic import atomic_path
from aivj.home import project_root

REPO_ROOT = project_root()
SOURCE = Path(__file__).with_name("native") / "pm_shim.cpp"
BUILD_DIR = REPO_ROOT / "build" / "native"
LIB_NAME = "libaivj_pm.so"
ABI_VERSION = 1

INSTALL_HINT = "apt-get install -y libprojectm-dev projectm-data libegl-dev libgl-dev g++"
_HEADER = Path("/usr/include/libprojectM/projectM.hpp")
_DATADIR = Path("/usr/share/projectM")


class RefineryUnavailable(RuntimeError):
    """projectM, EGL or a compiler is missing: the message says what to install, in one line."""


def missing_requirements() -> list[str]:
    """What this machine lacks to build and run the shim (empty list = ready)."""
    missing = []
    if shutil.which("g++") is None:
        missing.append("g++")
    if not _HEADER.exists():
        missing.append("libprojectm-dev")
    if not (_DATADIR / "presets").is_dir():
        missing.append("projectm-data")
    libdirs = [Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib/aarch64-linux-gnu"), Path("/usr/lib")]
    for lib, pkg in (("libEGL.so", "libegl-dev"), ("libOpenGL.so", "libgl-dev")):
        if not any((d / lib).exists() for d in libdirs):
            missing.append(pkg)
    return missing


def require_projectm() -> None:
    missing = missing_requirements()
    if missing:
        raise RefineryUnavailable(
            f"the refinery needs projectM 3.1 + EGL + g++ (missing: {', '.join(missing)}); install with: {INSTALL_HINT}"
        )


def shim_path() -> Path:
    return BUILD_DIR / LIB_NAME


def build_shim(force: bool = False, quiet: bool = True, out: Path | None = None) -> Path:
    """Compile the shim if it is missing or older than its source; returns the .so path."""
    out = Path(out) if out else shim_path()
    if not force and out.exists() and out.stat().st_mtime >= SOURCE.stat().st_mtime:
        return out
    require_projectm()
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:  # a worker never loads a half-written library
        cmd = ["g++", "-O2", "-fPIC", "-shared", "-std=c++17", "-o", str(tmp), str(SOURCE), "-lprojectM", "-lEGL", "-lOpenGL"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
            raise RefineryUnavailable(f"{SOURCE}: g++ failed: {first} (install with: {INSTALL_HINT})")
    if not quiet:
        print(f"built {out}")
    return out
