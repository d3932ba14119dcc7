"""`dlhw preflight NOTEBOOK` (`python -m autograder preflight` in the repository): what a student should fix
before uploading, in plain words.

It says which homework the notebook is, which answers are still placeholders, whether the saved notebook was
run top to bottom (the PDF shows the saved outputs), typesets the written answers as the PDF does (naming the
cell, line and fix of what LaTeX rejects or the fonts lack), and runs a copy in a fresh kernel under the
grader's limits, but with only the visible tests (hidden-test regions are removed even from an instructor's
notebook), to report the tests that fail and the cells that raise. A test fails only by raising: output,
stderr and warnings never count. Optional cells (`course.optional`) are never FIX. Every finding is FIX (would
cost points), WARN or OK; the exit code is non-zero when there is anything to FIX. Limits and what counts as
unanswered come from autograder/course/policy.py, as for the grader.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from autograder.course import cells as nbu
from autograder.course import policy
from autograder.course.identify import homework_of
from autograder.course.paths import INLINE_BACKEND, data_root, tool_env
from autograder.course.policy import Limits, placeholder
from autograder.course.spec import Spec, select
from autograder.errors import ExportError
from autograder.pdf import export
from autograder.pdf.export import NAME_ID, student_name

FIX, WARN, OK = "FIX", "WARN", "OK"
INTERRUPTED = ("KeyboardInterrupt", "Timeout")
SHOWN = 200  # characters of an error message shown


@dataclass
class Finding:
    level: str  # FIX, WARN or OK
    text: str


@dataclass
class Report:
    notebook: Path
    spec: Spec
    sections: dict[str, list[Finding]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)  # grade_ids of answer cells still blank
    test_results: dict[str, str | None] = field(default_factory=dict)  # visible test cell -> None or its error
    ran: bool = False
    program: str = "dlhw"  # how the student runs the tools, for the advice in the verdict

    def add(self, section: str, level: str, text: str) -> None:
        self.sections.setdefault(section, []).append(Finding(level, text))

    @property
    def problems(self) -> list[Finding]:
        return [f for findings in self.sections.values() for f in findings if f.level == FIX]

    @property
    def ready(self) -> bool:
        return not self.problems

    def render(self) -> str:
        spec = self.spec
        due = f", due {spec.due.isoformat()}" if spec.due else ""
        lines = [f"Preflight of {self.notebook}", f"Homework: {spec.id}, {spec.title}{due}", ""]
        for title, findings in self.sections.items():
            lines.append(title)
            for finding in findings:
                body = finding.text.splitlines() or [""]
                lines.append(f"  {finding.level:<5} {body[0]}")
                lines.extend(f"        {more}" for more in body[1:])
            lines.append("")
        count = len(self.problems)
        if self.ready:
            lines.append(
                f"Verdict: READY to upload. Export the PDF with `{self.program} pdf NOTEBOOK`, then upload "
                "the notebook to the autograder and the PDF to Gradescope."
                + ("" if self.ran else " (The notebook was not run here: --no-run.)")
            )
        else:
            lines.append(
                f"Verdict: NOT READY: {count} thing{'s' if count != 1 else ''} marked FIX would cost points. Fix "
                f"{'them' if count != 1 else 'it'}, then Kernel > Restart Kernel and Run All Cells, save, and run "
                "preflight again."
            )
        return "\n".join(lines)


def strip_hidden(source: str) -> str:
    """A test cell without its hidden-test regions, markers included (what the release contains)."""
    out, hidden = [], False
    for line in source.splitlines():
        if line.strip() == nbu.HIDDEN_BEGIN:
            hidden = True
        elif line.strip() == nbu.HIDDEN_END and hidden:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def _is_graded_cell(cell) -> bool:
    m = nbu.meta(cell)
    return bool(m.get("grade") or m.get("solution") or m.get("locked"))


def _problem_label(spec: Spec, gid: str, headings: dict[str, str]) -> str:
    problem = spec.problem_of(gid)
    return headings.get(problem.id, problem.title) if problem else "before the first problem"


def check_answers(report: Report, nb, reference) -> None:
    """Unanswered answer cells, deleted or duplicated graded cells, edited locked cells. Optional cells are
    listed, never FIX: they earn nothing."""
    spec = report.spec
    section = "Answers"
    headings = {s.problem_id: s.heading for s in nbu.sections(reference or nb)}
    released = {nbu.grade_id(c): c for c in (reference.cells if reference else []) if nbu.grade_id(c)}
    ids = [nbu.grade_id(c) for c in nb.cells if _is_graded_cell(c)]
    for gid in sorted({g for g in ids if ids.count(g) > 1}):
        report.add(
            section,
            FIX,
            f"{gid}: this cell appears {ids.count(gid)} times; delete the copies "
            "(the grader rejects a notebook with duplicated cells)",
        )
    for gid, cell in released.items():
        if _is_graded_cell(cell) and gid not in ids:
            level = WARN if gid == NAME_ID or policy.optional(cell) else FIX
            report.add(section, level, f"{gid}: this cell was deleted; copy it back from {spec.release_notebook.name}")
    test_points = {}
    for cell in nb.cells:
        problem = spec.problem_of(nbu.grade_id(cell) or "")
        if problem and nbu.is_autograded_test(cell):
            test_points[problem.id] = test_points.get(problem.id, 0.0) + nbu.points(cell)
    optional_blank = []
    for cell in nb.cells:
        gid, m = nbu.grade_id(cell), nbu.meta(cell)
        if not gid:
            continue
        original = released.get(gid)
        # an instructor's notebook still has its hidden tests: compare what the release has
        if (
            m.get("locked")
            and original is not None
            and policy.normal(strip_hidden(cell.source)) != policy.normal(original.source)
        ):
            report.add(
                section,
                WARN,
                f"{gid}: you edited this locked cell; the grader puts the original back, "
                "so your edits there count for nothing",
            )
        if not m.get("solution") or gid == NAME_ID:
            continue
        why = placeholder(cell, original.source if original is not None else None)
        if why is None:
            continue
        if policy.optional(original if original is not None else cell):
            optional_blank.append(gid)
            continue
        report.unanswered.append(gid)
        where = _problem_label(spec, gid, headings)
        if cell.cell_type == "code":
            problem = spec.problem_of(gid)
            stake = test_points.get(problem.id, 0.0) if problem else 0.0
            text = f"{gid} (code, {where}) {why}" + (
                f": the tests of this problem carry {stake:g} points" if stake else ""
            )
            report.add(section, FIX, text)
        else:
            points = nbu.points(cell)
            level = FIX if points > 0 else WARN
            report.add(section, level, f"{gid} (written answer, {points:g} points, {where}) {why}")
    if not report.sections.get(section):
        report.add(section, OK, "every answer cell has an answer")
    if optional_blank:
        report.add(section, OK, f"optional, not graded, left as given: {', '.join(optional_blank)}")


def check_name(report: Report, nb) -> None:
    name = student_name(nb)
    has_cell = any(nbu.grade_id(c) == NAME_ID for c in nb.cells)
    if name:
        report.add("Name", OK, f"{name} (shown on the PDF's title page)")
    elif has_cell:
        report.add("Name", WARN, "no name yet: write it in the Name cell at the top (the PDF says 'Name: not given')")
    else:
        report.add("Name", WARN, "this notebook has no Name cell: the PDF's title page says 'Name: not given'")


def _label(index: int, cell) -> str:
    return nbu.grade_id(cell) or f"cell {index + 1}"


def _error_text(output) -> str:
    text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip().rstrip(":")
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def check_saved_run(report: Report, nb) -> None:
    """Was the saved notebook run top to bottom in one kernel? Its outputs are what the PDF shows."""
    section = "Saved notebook (what the PDF will show)"
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    counts = [(i, c, c.get("execution_count")) for i, c in code]
    ran = [(i, c, n) for i, c, n in counts if n is not None]
    if code and not ran:
        report.add(
            section,
            FIX,
            "the notebook was never run, so the PDF would have no outputs or plots: "
            "Kernel > Restart Kernel and Run All Cells, then save",
        )
        return
    skipped = [_label(i, c) for i, c, n in counts if n is None]
    if skipped:
        report.add(
            section,
            FIX,
            f"{len(skipped)} code cell(s) were not run: {', '.join(skipped[:8])}"
            + (" ..." if len(skipped) > 8 else ""),
        )
    order = [n for _, _, n in ran]
    backwards = [(ran[k][0], ran[k][1]) for k in range(1, len(ran)) if order[k] <= order[k - 1]]
    if backwards:
        i, cell = backwards[0]
        report.add(
            section,
            FIX,
            f"cells were run out of order (first at {_label(i, cell)}): the saved outputs "
            "may not match the code; Kernel > Restart Kernel and Run All Cells, then save",
        )
    elif order and order != list(range(1, len(order) + 1)):
        report.add(
            section,
            WARN,
            "cells were re-run or run in between (execution counts "
            f"{order[0]}..{order[-1]} for {len(order)} cells): Restart Kernel and Run All makes sure "
            "the outputs come from this code",
        )
    for i, cell in code:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                level, note = (WARN, " (an optional cell: it costs no points)") if policy.optional(cell) else (FIX, "")
                report.add(
                    section,
                    level,
                    f"{_label(i, cell)} shows an error in the saved notebook (the PDF "
                    f"will show it too): {_error_text(output)}{note}",
                )
    if not report.sections.get(section):
        report.add(section, OK, f"run top to bottom in order ({len(ran)} code cells), no errors")


def check_upload(report: Report, path: Path, nb, limits: Limits) -> None:
    """What the grader refuses before running anything: a file or a notebook larger than its limits."""
    section = "Upload"
    size_mb = path.stat().st_size / 2**20
    if size_mb > limits.upload_mb:
        report.add(
            section,
            FIX,
            f"the file is {size_mb:.1f} MB; the grader takes notebooks up to {limits.upload_mb} MB: clear the "
            "outputs of cells that print or draw a lot, then Restart and Run All again",
        )
    if len(nb.cells) > limits.cells:
        report.add(section, FIX, f"{len(nb.cells)} cells; the grader takes notebooks of up to {limits.cells} cells")
    if not report.sections.get(section):
        report.add(
            section, OK, f"{size_mb:.1f} MB, {len(nb.cells)} cells (the grader takes up to {limits.upload_mb} MB)"
        )


def check_typesetting(report: Report, nb, folder: Path) -> None:
    """The written answers typeset as the PDF does: what LaTeX rejects and what the fonts lack, by cell and line."""
    section = "Written answers in the PDF (typeset with LaTeX, as the pdf command does)"
    try:
        problems = export.check_written_answers(nb, workdir=folder)
    except ExportError as exc:  # no xelatex or pandoc here: say so, the PDF command would fail the same way
        report.add(section, WARN, f"not checked: {exc}")
        return
    for problem in problems:
        cell = nb.cells[problem.cell] if problem.cell is not None else None
        where = f"{_label(problem.cell, cell)} (cell {problem.cell + 1})" if cell is not None else problem.where
        lines = [f"{where}{f', line {problem.line}' if problem.line else ''}: {problem.message}"]
        if cell is not None and problem.line:
            lines.append(f"line {problem.line}: {cell.source.splitlines()[problem.line - 1].strip()[:SHOWN]}")
        lines.append(f"fix: {problem.fix}")
        report.add(section, FIX, "\n".join(lines))
    if not problems:
        report.add(section, OK, "every written answer typesets, and the fonts have every character")


def visible_copy(nb):
    """The notebook as the grader would run it, minus the hidden tests; outputs cleared."""
    copy = nbformat.from_dict(nbformat.from_dict(dict(nb)))
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.source = strip_hidden(cell.source)
            cell.outputs, cell.execution_count = [], None
    return copy


@dataclass
class Run:
    """A fresh run of the visible copy: the executed notebook, its seconds, and why it stopped early if it did."""

    nb: object
    seconds: float
    died: str | None = None


def run_visible_tests(
    nb, spec: Spec, *, limits: Limits, data: Path, log: Callable[[str], None] = lambda message: None
) -> Run:
    """Run the visible copy of `nb` top to bottom in a fresh local kernel, in a scratch folder holding the
    homework's released files: the short training path, `limits.cell_seconds` per cell, and errors do not stop
    the run (as under grading). This is the one place preflight executes a notebook (the grading engine's local
    mode can replace it)."""
    copy = visible_copy(nb)
    code_cells = [i for i, c in enumerate(copy.cells) if c.cell_type == "code"]
    started = time.monotonic()

    def progress(cell, cell_index, **_):
        done = code_cells.index(cell_index) + 1 if cell_index in code_cells else 0
        log(f"[preflight] {done}/{len(code_cells)} {_label(cell_index, cell)} ({time.monotonic() - started:.0f}s)")

    timeout = limits.cell_seconds
    timed_out = {"ename": "Timeout", "evalue": f"the cell ran over {timeout}s; the grader stops it there"}
    with tempfile.TemporaryDirectory(prefix=f"preflight-{spec.id}-") as scratch:
        folder = Path(scratch)
        if spec.release_notebook.parent.exists():
            shutil.copytree(spec.release_notebook.parent, folder, dirs_exist_ok=True)
        client = NotebookClient(
            copy,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={**timed_out, "traceback": [timed_out["evalue"]]},
            resources={"metadata": {"path": str(folder)}},
            on_cell_executed=progress,
        )
        env = tool_env(COURSE_QUICK="1", MPLBACKEND=INLINE_BACKEND, COURSE_DATA=str(data))
        env.pop("NBGRADER_EXECUTION", None)
        try:
            client.execute(env=env)
        except DeadKernelError as exc:
            died = f"the kernel died ({exc}); this usually means the notebook ran out of memory"
            return Run(copy, time.monotonic() - started, died)
    return Run(copy, time.monotonic() - started)


def check_fresh_run(report: Report, nb, *, data: Path, limits: Limits, log: Callable[[str], None]) -> None:
    """Visible tests and errors of a fresh top-to-bottom run, under the grader's limits."""
    report.ran = True
    log(f"[preflight] running a copy of {report.notebook.name} in a fresh kernel (visible tests only) ...")
    run = run_visible_tests(nb, report.spec, limits=limits, data=data, log=log)
    tests = "Visible tests (fresh kernel; the hidden tests are not run here, and they decide your points)"
    errors = "Errors in the fresh run"
    report.sections.setdefault(tests, [])
    report.sections.setdefault(errors, [])
    for i, cell in enumerate(run.nb.cells):
        if cell.cell_type != "code":
            continue
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is not None and error.get("ename") in INTERRUPTED:  # only our time limit interrupts the kernel
            error = {
                "ename": "Timeout",
                "evalue": f"the cell ran over {limits.cell_seconds}s; the grader stops it there",
            }
        unrun = cell.source.strip() and cell.get("execution_count") is None
        if nbu.is_autograded_test(cell):
            gid = _label(i, cell)
            problem = f"{nbu.points(cell):g} points"
            if error is None and not unrun:
                report.test_results[gid] = None
                report.add(tests, OK, f"{gid} ({problem}): passes its visible checks")
            else:
                why = _error_text(error) if error else "did not run"
                report.test_results[gid] = why
                report.add(tests, FIX, f"{gid} ({problem}): {why}")
        elif error is not None and policy.optional(cell):
            report.add(errors, WARN, f"{_label(i, cell)} raises {_error_text(error)} (optional: it costs no points)")
        elif error is not None and _label(i, cell) not in report.unanswered:  # those are listed already
            report.add(errors, FIX, f"{_label(i, cell)} raises {_error_text(error)}")
    if run.died:
        report.add(errors, FIX, run.died)
    if run.seconds > limits.notebook_seconds:
        report.add(
            errors,
            FIX,
            f"the short path took {run.seconds:.0f}s here; the grader stops a notebook at {limits.notebook_seconds}s "
            "(make the training cells take the short path when QUICK is true)",
        )
    if not [f for f in report.sections[errors] if f.level == FIX]:
        done = "no cell raised" if not report.unanswered else "no cell raised except unanswered ones"
        report.add(
            errors, OK, f"{done}; the short path took {run.seconds:.0f}s (the grader allows {limits.describe()})"
        )


def load_notebook(path: Path):
    """Read the student's notebook, or explain what is wrong with the file."""
    if not path.exists():
        raise RuntimeError(f"{path}: no such file; give the path of your .ipynb notebook")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 -- any parse failure means the same thing to a student
        raise RuntimeError(
            f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]}); "
            "open it in Jupyter and save it again, or start from the released notebook"
        ) from None


def preflight(
    path: Path,
    *,
    spec: Spec | None = None,
    run: bool = True,
    typeset_answers: bool = True,
    program: str = "dlhw",
    limits: Limits | None = None,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> Report:
    """Every check on the notebook at `path`; `run=False` skips the fresh run, `typeset_answers=False` the
    LaTeX check (both need seconds; the rest is instant). `limits` default to the grader's for the homework."""
    nb = load_notebook(path)
    spec = spec or homework_of(nb, path)
    reference = nbu.read(spec.release_notebook) if spec.release_notebook.exists() else None
    limits = limits or Limits.for_homework(spec.quick_seconds)
    report = Report(path, spec, program=program)
    check_name(report, nb)
    check_answers(report, nb, reference)
    check_saved_run(report, nb)
    check_upload(report, path, nb, limits)
    if typeset_answers:
        check_typesetting(report, nb, path.parent)
    if run:
        check_fresh_run(report, nb, data=data_root(path.parent), limits=limits, log=log)
    return report


def command(notebook: Path, homework: str | None, run: bool, program: str = "python -m autograder") -> int:
    """The preflight command: print the report; exit 1 when something would cost points."""
    spec = select([homework])[0] if homework else None
    report = preflight(notebook, spec=spec, run=run, program=program)
    print(report.render())
    return 0 if report.ready else 1
