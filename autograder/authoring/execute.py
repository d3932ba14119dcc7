"""Running an instructor's notebook top to bottom (the answer keys): through the grading engine, with the
tests on the trusted side as in grading, no sandbox (the instructor's own code), no output caps, and errors
that name the cell."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from autograder.course.paths import INLINE_BACKEND, tool_env
from autograder.course.policy import Limits
from autograder.errors import ExecutionError
from autograder.grading import roles
from autograder.grading.execute import NotebookRun
from autograder.grading.trusted import Zygote

__all__ = ["INLINE_BACKEND", "ExecutionError", "execute", "write"]
KEY_OUTPUT_KB = 64 * 1024  # a key's figures are never truncated


def execute(nb, workdir: Path, *, label: str, quick: bool = False, cell_timeout: int = 1800, log=print):
    """Execute `nb` in place: its code in a fresh kernel whose working folder is `workdir`, its tests on the
    trusted side. `quick` sets COURSE_QUICK=1 so training cells take their short path. Raises ExecutionError
    naming the failing cell; `nb` then holds the outputs of every cell."""
    workdir.mkdir(parents=True, exist_ok=True)
    limits = Limits(cell_seconds=cell_timeout, notebook_seconds=12 * cell_timeout, output_kb=KEY_OUTPUT_KB)
    env = tool_env(MPLBACKEND=INLINE_BACKEND, **({"COURSE_QUICK": "1"} if quick else {}))
    env.pop("NBGRADER_EXECUTION", None)
    if not quick:
        env.pop("COURSE_QUICK", None)
    zygote = Zygote()
    try:
        with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
            with NotebookRun(
                nb,
                roles.answer_names(nb),
                limits,
                zygote,
                workdir=workdir,
                socket_dir=Path(sockets),
                env=env,
                log=lambda line: log(f"[{label}] {line}"),
            ) as run:
                execution = run.run_all()
    finally:
        zygote.close()
    failures = [f"{gid}: {t.message}" for gid, t in execution.tests.items() if not t.passed]
    failures += execution.cell_errors
    if failures:
        raise ExecutionError(f"{label}: " + "; ".join(failures[:10]))
    return nb


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
