"""Where things live in the repository, and the environment the tools run in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ROOT / "assignments"
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
BUILD = ROOT / "build"
NBGRADER_CONFIG = ROOT / "nbgrader_config.py"
SEEDS = ROOT.parent / "shared" / "seeds"
# Figures drawn into the notebook, as in Jupyter, whatever MPLBACKEND the caller's shell has (Agg would leave
# plt.show() with nothing to save, and the PDF without figures).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def data_root() -> Path:
    """The data root: `$COURSE_DATA` when set, else `data/` at the repository root."""
    env = os.environ.get("COURSE_DATA")
    return Path(env).resolve() if env else ROOT / "data"


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for child processes (nbgrader, jupyter, kernels).

    nbgrader shells out to `alembic` and kernels are found through `jupyter`, so the interpreter's own `bin/`
    goes first on PATH; COURSE_DATA tells notebooks where MNIST is, wherever they run.
    """
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["COURSE_DATA"] = str(data_root())
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra)
    return env
