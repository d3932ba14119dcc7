"""Running a notebook top to bottom in a real kernel, with progress and errors that name the cell."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course import cells as nbu
from autograder.course.paths import tool_env

# Figures drawn into the notebook, as in Jupyter, whatever MPLBACKEND the caller's shell has (Agg would leave
# plt.show() with nothing to save, and the PDF without figures).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class ExecutionError(RuntimeError):
    """A cell raised while executing a notebook that must run clean (the message names the cell)."""


def execute(nb, workdir: Path, *, label: str, quick: bool = False, cell_timeout: int = 1800, log=print):
    """Execute `nb` in place in a fresh python3 kernel whose working folder is `workdir`.

    `quick` sets COURSE_QUICK=1 so training cells take their short path. Raises ExecutionError naming the
    failing cell; `nb` then holds the outputs up to it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = time.monotonic()

    def progress(cell, cell_index, **_):
        done = code_cells.index(cell_index) + 1 if cell_index in code_cells else 0
        name = nbu.grade_id(cell) or f"cell {cell_index}"
        log(f"[{label}] {done}/{len(code_cells)} {name} ({time.monotonic() - started:.0f}s)")

    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        on_cell_executed=progress,
    )
    env = tool_env(MPLBACKEND=INLINE_BACKEND, **({"COURSE_QUICK": "1"} if quick else {}))
    env.pop("NBGRADER_EXECUTION", None)
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        index = next((i for i, c in enumerate(nb.cells) if _has_error(c)), None)
        where = f"cell {index} ({nbu.grade_id(nb.cells[index]) or 'no grade_id'})" if index is not None else "a cell"
        raise ExecutionError(f"{label}: {where} raised:\n{_short(exc)}") from None
    return nb


def _has_error(cell) -> bool:
    return cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _short(exc: Exception, lines: int = 25) -> str:
    text = str(exc).strip().splitlines()
    return "\n".join(text[-lines:])


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
