"""Reading nbgrader notebooks: cells, their roles, and which problem each belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=nbformat.NO_CONVERT)


def meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when it is missing or malformed (a submission's notebook may be anything)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    found = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) else {}


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_autograded_test(cell) -> bool:
    m = meta(cell)
    return bool(m.get("grade")) and not m.get("solution") and cell.cell_type == "code"


def is_manual(cell) -> bool:
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def is_statement(cell) -> bool:
    gid = grade_id(cell) or ""
    return cell.cell_type == "markdown" and gid.endswith("_statement")


def points(cell) -> float:
    value = meta(cell).get("points", 0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def regions(text: str, begin: str, end: str) -> list[str]:
    """The texts between each `begin`/`end` marker pair (markers excluded)."""
    found, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == begin:
            inside, current = True, []
        elif line.strip() == end and inside:
            inside = False
            found.append("\n".join(current))
        elif inside:
            current.append(line)
    return found


@dataclass(frozen=True)
class Section:
    """A problem's part of the notebook: its statement cell and the cells up to the next statement."""

    problem_id: str
    heading: str
    cells: tuple[int, ...]


def sections(nb) -> list[Section]:
    """Split a notebook into problem sections using the `<pid>_statement` cells."""
    out: list[Section] = []
    current: list[int] = []
    pid = heading = None
    for i, cell in enumerate(nb.cells):
        if is_statement(cell):
            if pid is not None:
                out.append(Section(pid, heading, tuple(current)))
            pid = grade_id(cell)[: -len("_statement")]
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else pid
            heading = first.lstrip("#").strip()
            current = [i]
        elif pid is not None:
            current.append(i)
    if pid is not None:
        out.append(Section(pid, heading, tuple(current)))
    return out
