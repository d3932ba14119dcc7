"""A local emulation of Gradescope's autograder contract (https://gradescope-autograders.readthedocs.io/en/
latest/specs/), used by the tests: the real bundle's setup.sh and run_autograder under a temporary ROOT instead of
/autograder, against this project's Python environment ($AUTOGRADER_PYTHON; nothing downloaded)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from autograder.course.paths import data_root, tool_env
from autograder.gradescope.container import GradescopeError, validate


def emulate_setup(bundle: Path, root: Path, python: str = sys.executable) -> subprocess.CompletedProcess:
    """Lay out ROOT as Gradescope does (source = the unpacked zip, run_autograder copied next to it) and run
    setup.sh against this project's environment: AUTOGRADER_PYTHON, the data root, and pip without an index,
    so a missing package fails instead of being downloaded."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops permission bits: restore them as Gradescope's unzip keeps them
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    env = _env(root, AUTOGRADER_PYTHON=python, PIP_NO_INDEX="1")
    proc = subprocess.run(["bash", "setup.sh"], cwd=root / "source", env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GradescopeError(
            f"setup.sh failed (exit {proc.returncode}) in {root}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def emulate_run(root: Path, files: dict[str, bytes] | Path, *, slot: int = 0, user: dict | None = None) -> dict:
    """Run ROOT/run_autograder on one submission (a folder, or file name -> bytes); return results.json,
    validated against the documented format."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    if isinstance(files, Path):
        shutil.copytree(files, root / "submission", dirs_exist_ok=True, symlinks=True)
    else:
        for name, data in files.items():
            (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "submission" / name).write_bytes(data)
    meta = {
        "id": 1,
        "created_at": "2023-11-20T10:00:00.000000-08:00",
        "users": [user or {"email": "student@example.edu", "id": 1, "name": "A Student"}],
    }
    (root / "submission_metadata.json").write_text(json.dumps(meta))
    env = _env(root, AUTOGRADER_SLOT=str(slot))
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True)
    results = root / "results" / "results.json"
    if proc.returncode != 0 or not results.exists():
        raise GradescopeError(
            f"run_autograder failed (exit {proc.returncode}), no results.json in {root}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    data = json.loads(results.read_text())
    validate(data)
    return data


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = tool_env(AUTOGRADER_ROOT=str(root), COURSE_DATA=str(data_root()), **extra)
    env.pop("PYTHONPATH", None)  # the bundle's own package, not this checkout's
    return env
