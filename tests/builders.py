"""Small notebooks for tests that need no kernel: one release with a problem, a student's copy of it."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

LOCKED = {"locked": True, "solution": False, "grade": False}


def cell(kind: str, source: str, **nbgrader) -> nbformat.NotebookNode:
    c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


def release_nb() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("code", "import numpy as np", grade_id="setup", **LOCKED),
        cell("md", "## Problem 1: squares (3 points)", grade_id="p1_statement", **LOCKED),
        cell(
            "code", "def square(x):\n    raise NotImplementedError()", grade_id="p1_square", solution=True, grade=False
        ),
        cell(
            "code",
            "assert square(2) == 4",
            grade_id="p1_square_tests",
            grade=True,
            solution=False,
            locked=True,
            points=2,
        ),
        cell("md", "YOUR ANSWER HERE", grade_id="p1_answer", solution=True, grade=True, points=1),
    ]
    return nb


def student_nb() -> nbformat.NotebookNode:
    nb = copy.deepcopy(release_nb())
    nb.cells[2].source = "def square(x):\n    return x * x"
    nb.cells[4].source = "Because 2x."
    return nb


def source_with_hidden() -> nbformat.NotebookNode:
    nb = release_nb()
    nb.cells[
        3
    ].source = (
        "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(7) == 49, 'secret case'\n### END HIDDEN TESTS"
    )
    return nb


def write_nb(path: Path, nb=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb or student_nb(), str(path))
    return path
