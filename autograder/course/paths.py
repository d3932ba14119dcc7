"""Where things live in the repository, and the environment the tools run in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parent
# The student kit (`make student`) ships the specs and the release notebooks inside the package, and nothing of
# the instructor's; in the repository they are at its root.
KIT_HOMEWORKS = PACKAGE / "homeworks"
IN_KIT = KIT_HOMEWORKS.is_dir()
HOMEWORKS = KIT_HOMEWORKS if IN_KIT else ROOT
ASSIGNMENTS = HOMEWORKS / "assignments"
SOURCE = ROOT / "source"
RELEASE = HOMEWORKS / "release"
BUILD = ROOT / "build"
NBGRADER_CONFIG = ROOT / "nbgrader_config.py"
SEEDS = ROOT.parent / "shared" / "seeds"
USER_CACHE = Path.home() / ".cache" / "course-data"  # where notebooks outside the repository keep MNIST
# Figures drawn into the notebook, as in Jupyter, whatever MPLBACKEND the caller's shell has (Agg would leave
# plt.show() with nothing to save, and the PDF without figures).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def data_root(start: Path | None = None) -> Path:
    """The data root (MNIST in `<root>/MNIST/raw`), by the notebooks' own rule: `$COURSE_DATA` when set; else the
    nearest `data/` holding `MNIST/raw` from the folder `start` upwards; else, in the repository, its `data/`
    (`python -m autograder data` fills it); else the user cache, where a notebook anywhere else downloads it."""
    env = os.environ.get("COURSE_DATA")
    if env:
        return Path(env).resolve()
    if start is not None:
        here = start.resolve()
        for folder in (here, *here.parents):
            if (folder / "data" / "MNIST" / "raw").is_dir():
                return folder / "data"
    return USER_CACHE if IN_KIT else ROOT / "data"


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
