"""`python -m autograder solutions`: execute each answer key once and export it as a notebook and two PDFs.

- `build/solutions/hwN.pdf` (and hwN.pages.json): the instructor's edition, with every test, hidden tests
  and solution markers included, and each test's result;
- `build/solutions/public/hwN.pdf`: the edition students may get after the due date: statements, answers,
  solution code without its markers, plots; no test cells, no grade_ids or points, no page map.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.execute import execute, write
from autograder.course import cells as nbu
from autograder.course.paths import BUILD
from autograder.course.spec import Spec
from autograder.pdf.export import INSTRUCTOR, PUBLIC, export_pdf

SOLUTIONS = BUILD / "solutions"
PUBLIC_DIR = "public"  # under SOLUTIONS
KEY_NAME = "answer key"  # the name line of the keys' title block


@dataclass
class SolutionResult:
    homework: str
    notebook: Path
    pdf: Path  # the instructor's edition
    public_pdf: Path  # the edition for students, after the due date
    execute_seconds: float
    export_seconds: float
    summary: list[str]  # what the key's summary cells printed (see summary_lines)


def build(spec: Spec, *, quick: bool = False, out: Path = SOLUTIONS, log=print) -> SolutionResult:
    """Execute `source/<id>` fully (or on its short path with `quick`) and export both editions of it."""
    workdir = out / f"{spec.id}_work"
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(spec.source_notebook.parent, workdir)  # the key may read files beside it
    nb = nbu.read(spec.source_notebook)
    t0 = time.monotonic()
    execute(nb, workdir, label=f"{spec.id} key", quick=quick, log=log)
    t1 = time.monotonic()
    summary = summary_lines(nb)
    for line in summary:
        log(f"[{spec.id}] {line}")
    ipynb = write(nb, out / f"{spec.id}.ipynb")
    editions = export_key(spec, nb, out=out, workdir=workdir, log=log)
    t2 = time.monotonic()
    shutil.rmtree(workdir, ignore_errors=True)
    log(f"[{spec.id}] executed in {t1 - t0:.1f}s, PDFs in {t2 - t1:.1f}s: {editions[INSTRUCTOR]}, {editions[PUBLIC]}")
    return SolutionResult(spec.id, ipynb, editions[INSTRUCTOR], editions[PUBLIC], t1 - t0, t2 - t1, summary)


def export_key(spec: Spec, nb, *, out: Path = SOLUTIONS, workdir: Path | None = None, log=print) -> dict[str, Path]:
    """Both PDFs of an executed key `nb`: {edition: path}. `workdir` holds the files its markdown refers to
    (default: the key's source folder), so an executed key can be exported again without running it."""
    title = f"{spec.id.upper()}: {spec.title} (answer key)"
    folder = workdir or spec.source_notebook.parent
    editions = {}
    for edition, pdf in ((INSTRUCTOR, out / f"{spec.id}.pdf"), (PUBLIC, out / PUBLIC_DIR / f"{spec.id}.pdf")):
        exported = export_pdf(nb, pdf, spec=spec, workdir=folder, title=title, name=KEY_NAME, edition=edition, log=log)
        for warning in exported.warnings:
            log(f"[{spec.id}] warning ({edition} edition): {warning}")
        editions[edition] = exported.pdf
    return editions


def summary_lines(nb) -> list[str]:
    """What the key's summary cells (grade_id starting with "summary", e.g. hw4's table of reported test errors
    and training times) printed, so that a full run shows its results in the terminal too."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code" and (nbu.grade_id(cell) or "").startswith("summary"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    lines += output["text"].rstrip("\n").splitlines()
    return lines
