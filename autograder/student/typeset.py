"""Typeset a notebook's written answers as the PDF does, and say what would go wrong, by cell and line.

The PDF exporter owns this check: `autograder.pdf.export.check_written_answers(nb, workdir=...)` (being written
on the PDF branch) returns problems with `cell`, `where`, `line`, `message`, `fix` and `tex_error`. Until it is
there, `check_written_answers` below does the same with the exporter's public pieces: it exports the written
cells alone (a real xelatex build with the PDF's template and fonts), traces each LaTeX error to its cell and
drops that cell to find the next, and finds the characters the fonts lack in the cells' text.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import cells as nbu
from autograder.course.spec import Spec
from autograder.pdf import export, latex

MAX_ERRORS = 5  # LaTeX errors reported per run: each costs one more xelatex pass
CJK = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FFFF))
EMOJI = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0xFE00, 0xFE0F))


@dataclass(frozen=True)
class Problem:
    """Something in a cell that the PDF cannot show as written (the fields of the exporter's TypesetProblem)."""

    cell: int | None  # index of the notebook's cell
    where: str
    line: int | None  # 1-based line of the cell's source
    message: str
    fix: str
    tex_error: bool = False  # the PDF cannot be made at all (rather than a character left out)


def written_cells(nb) -> list[int]:
    """The markdown cells a student writes: answers, the name, cells they added (not the locked ones)."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and not nbu.meta(c).get("locked")]


def check_written_answers(nb, *, spec: Spec, workdir: Path) -> list:
    """Problems of the written answers in the PDF, in notebook order; an empty list when they typeset cleanly.
    Raises ExportError when xelatex or pandoc is missing (the message says how to get them)."""
    owned = getattr(export, "check_written_answers", None)
    if owned is not None:  # the exporter's own check, once the PDF branch has landed
        return owned(nb, workdir=workdir)
    latex.require_tools()
    spec = dataclasses.replace(spec, pdf_code_appendix=False)
    remaining, problems = written_cells(nb), []
    while remaining and len(problems) < MAX_ERRORS:
        try:
            warnings = _export(nb, remaining, spec, workdir)
        except latex.LatexError as exc:
            culprit = remaining[exc.cell] if exc.cell is not None and exc.cell < len(remaining) else None
            problems.append(_latex_problem(nb, culprit, exc))
            if culprit is None:
                break
            remaining.remove(culprit)
            continue
        problems += _glyph_problems(nb, remaining, warnings)
        break
    return sorted(problems, key=lambda p: (p.cell if p.cell is not None else -1, p.line or 0))


def _export(nb, indices: list[int], spec: Spec, workdir: Path) -> list[str]:
    """Export the cells `indices` of `nb` alone as a PDF in a scratch folder; return the exporter's warnings."""
    sub = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    sub.cells = [copy.deepcopy(nb.cells[i]) for i in indices]
    with tempfile.TemporaryDirectory(prefix="preflight-typeset-") as scratch:
        result = export.export_pdf(sub, Path(scratch) / "answers.pdf", spec=spec, workdir=workdir, log=_quiet)
    return result.warnings


def _quiet(_message: str) -> None:
    """The exporter's progress is noise inside preflight."""


def describe(nb, index: int) -> str:
    cell = nb.cells[index]
    return f"{nbu.grade_id(cell) or 'a cell you added'} (written cell {index + 1} of the notebook)"


def _latex_problem(nb, culprit: int | None, exc: latex.LatexError) -> Problem:
    if exc.error is None or culprit is None:
        first = str(exc).splitlines()[0]
        return Problem(None, "the PDF", None, first, "export again; if it fails again, use --html", tex_error=True)
    construct = latex.construct_of(exc.error)
    message = re.sub(r"^(LaTeX Error|Package \w+ Error): ", "", exc.error.message).rstrip(".; ")
    fix = next((hint for key, hint in latex.HINTS.items() if key in message), "check the LaTeX of this cell")
    lines = nb.cells[culprit].source.splitlines()
    line = next((n for n, text in enumerate(lines, 1) if construct.strip() and construct.strip() in text), None)
    shown = "" if line else f", at `{construct}`"  # the line itself is quoted when it was found
    return Problem(culprit, describe(nb, culprit), line, f"LaTeX cannot typeset this: {message}{shown}", fix, True)


def _glyph_problems(nb, indices: list[int], warnings: list[str]) -> list[Problem]:
    """The exporter warns about characters the fonts lack without saying where; find them in the cells: one
    problem per line and kind of fix."""
    warned = {char for warning in warnings for char in warning if ord(char) > 0x7F}
    problems = []
    for index in indices:
        for number, text in enumerate(nb.cells[index].source.splitlines(), 1):
            by_fix: dict[str, list[str]] = {}
            for char in dict.fromkeys(c for c in text if c in warned):
                by_fix.setdefault(glyph_fix(char), []).append(char)
            for fix, chars in by_fix.items():
                shown = ", ".join(f"{c} (U+{ord(c):04X} {unicodedata.name(c, '?')})" for c in chars)
                message = f"the PDF's fonts have no {shown}: printed as nothing"
                problems.append(Problem(index, describe(nb, index), number, message, fix))
    return problems


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= ord(char) <= high for low, high in ranges)


def glyph_fix(char: str) -> str:
    """What to write instead of a character no font of the PDF has."""
    if _within(char, CJK):
        return "the PDF's fonts have no Chinese, Japanese or Korean characters: write it in English"
    if _within(char, EMOJI):
        return "emoji cannot be printed in the PDF: delete it or say it in words"
    return "write it in LaTeX math instead (e.g. $\\blacksquare$ for ∎, $\\checkmark$ for ✓) or in words"
