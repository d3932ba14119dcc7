"""`python -m autograder solutions`: execute each answer key and export it as notebook and PDF."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.execute import execute, write
from autograder.course import cells as nbu
from autograder.course.paths import BUILD
from autograder.course.spec import Spec
from autograder.pdf.export import export_pdf

SOLUTIONS = BUILD / "solutions"
KEY_NAME = "answer key"  # the name line of the keys' title block


@dataclass
class SolutionResult:
    homework: str
    notebook: Path
    pdf: Path
    execute_seconds: float
    export_seconds: float
    summary: list[str]  # what the key's summary cells printed (see summary_lines)


def build(spec: Spec, *, quick: bool = False, out: Path = SOLUTIONS, log=print) -> SolutionResult:
    """Execute `source/<id>` fully (or on its short path with `quick`) and export it."""
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
    title = f"{spec.id.upper()}: {spec.title} (answer key)"
    exported = export_pdf(nb, out / f"{spec.id}.pdf", spec=spec, workdir=workdir, title=title, name=KEY_NAME, log=log)
    pdf = exported.pdf
    for warning in exported.warnings:
        log(f"[{spec.id}] warning: {warning}")
    t2 = time.monotonic()
    shutil.rmtree(workdir, ignore_errors=True)
    log(f"[{spec.id}] executed in {t1 - t0:.1f}s, PDF in {t2 - t1:.1f}s: {pdf}")
    return SolutionResult(spec.id, ipynb, pdf, t1 - t0, t2 - t1, summary)


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
