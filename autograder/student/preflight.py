"""`python -m autograder preflight NOTEBOOK`: what a student should fix before uploading, in plain words.

It says which homework the notebook is, which answers are still placeholders, whether the saved notebook was
run top to bottom (the PDF shows the saved outputs), and runs a copy in a fresh kernel the way the grader
will, but with only the visible tests (hidden-test regions are removed even from an instructor's notebook),
to report the tests that fail and the cells that raise. Every finding is FIX (would cost points), WARN or OK;
the exit code is non-zero when there is anything to FIX.
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
from traitlets.config.loader import PyFileConfigLoader

from autograder.authoring.execute import INLINE_BACKEND
from autograder.course import cells as nbu
from autograder.course import policy
from autograder.course.paths import NBGRADER_CONFIG, tool_env
from autograder.course.policy import placeholder
from autograder.course.spec import Spec, select
from autograder.pdf.export import NAME_ID, homework_of, student_name

FIX, WARN, OK = "FIX", "WARN", "OK"
DEFAULT_CELL_TIMEOUT = 120
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
                "Verdict: READY to upload. Export the PDF with `python -m autograder pdf NOTEBOOK`, then upload "
                "the notebook to the autograder and the PDF to Gradescope."
                + ("" if self.ran else " (The notebook was not run here: --no-run.)")
            )
        else:
            lines.append(
                f"Verdict: NOT READY: {count} thing{'s' if count != 1 else ''} marked FIX would cost points. Fix "
                "them, then Kernel > Restart Kernel and Run All Cells, save, and run preflight again."
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
    """Unanswered answer cells, deleted or duplicated graded cells, edited locked cells."""
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
            level = WARN if gid == NAME_ID else FIX
            report.add(section, level, f"{gid}: this cell was deleted; copy it back from {spec.release_notebook}")
    test_points = {}
    for cell in nb.cells:
        problem = spec.problem_of(nbu.grade_id(cell) or "")
        if problem and nbu.is_autograded_test(cell):
            test_points[problem.id] = test_points.get(problem.id, 0.0) + nbu.points(cell)
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
                report.add(
                    section,
                    FIX,
                    f"{_label(i, cell)} shows an error in the saved notebook (the PDF "
                    f"will show it too): {_error_text(output)}",
                )
    if not report.sections.get(section):
        report.add(section, OK, f"run top to bottom in order ({len(ran)} code cells), no errors")


def cell_timeout() -> int:
    """nbgrader's per-cell limit from nbgrader_config.py: a cell that runs longer scores 0 under grading."""
    if not NBGRADER_CONFIG.exists():
        return DEFAULT_CELL_TIMEOUT
    config = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
    value = config.get("Execute", {}).get("timeout", DEFAULT_CELL_TIMEOUT)
    return int(value) if isinstance(value, int | float) else DEFAULT_CELL_TIMEOUT


def visible_copy(nb):
    """The notebook as the grader would run it, minus the hidden tests; outputs cleared."""
    copy = nbformat.from_dict(nbformat.from_dict(dict(nb)))
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.source = strip_hidden(cell.source)
            cell.outputs, cell.execution_count = [], None
    return copy


def run_fresh(nb, spec: Spec, *, timeout: int, log: Callable[[str], None]) -> tuple[object, str | None]:
    """Run the visible copy in a fresh kernel (short training path, errors do not stop the run) in a scratch
    folder holding the homework's released files; return it, and why the run stopped early if it did."""
    copy = visible_copy(nb)
    code_cells = [i for i, c in enumerate(copy.cells) if c.cell_type == "code"]
    started = time.monotonic()

    def progress(cell, cell_index, **_):
        done = code_cells.index(cell_index) + 1 if cell_index in code_cells else 0
        log(f"[preflight] {done}/{len(code_cells)} {_label(cell_index, cell)} ({time.monotonic() - started:.0f}s)")

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
        env = tool_env(COURSE_QUICK="1", MPLBACKEND=INLINE_BACKEND)
        env.pop("NBGRADER_EXECUTION", None)
        try:
            client.execute(env=env)
        except DeadKernelError as exc:
            return copy, f"the kernel died ({exc}); this usually means the notebook ran out of memory"
    return copy, None


def check_fresh_run(report: Report, nb, *, log: Callable[[str], None]) -> None:
    """Visible tests and errors of a fresh top-to-bottom run."""
    report.ran = True
    timeout = cell_timeout()
    log(f"[preflight] running a copy of {report.notebook.name} in a fresh kernel (visible tests only) ...")
    executed, died = run_fresh(nb, report.spec, timeout=timeout, log=log)
    tests = "Visible tests (fresh kernel; the hidden tests are not run here, and they decide your points)"
    errors = "Errors in the fresh run"
    report.sections.setdefault(tests, [])
    report.sections.setdefault(errors, [])
    for i, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is not None and error.get("ename") in INTERRUPTED:  # only our time limit interrupts the kernel
            error = {"ename": "Timeout", "evalue": f"the cell ran over {timeout}s; the grader stops it there"}
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
        elif error is not None and _label(i, cell) not in report.unanswered:  # those are listed already
            report.add(errors, FIX, f"{_label(i, cell)} raises {_error_text(error)}")
    if died:
        report.add(errors, FIX, died)
    if not report.sections[errors]:
        report.add(errors, OK, "no cell raised" if not report.unanswered else "no cell raised except unanswered ones")


def load_notebook(path: Path):
    """Read the student's notebook, or explain what is wrong with the file."""
    if not path.exists():
        raise RuntimeError(f"{path}: no such file; give the path of your .ipynb notebook")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 -- any parse failure means the same thing to a student
        raise RuntimeError(
            f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]}); "
            "open it in Jupyter and save it again, or start from the release notebook"
        ) from None


def preflight(
    path: Path,
    *,
    spec: Spec | None = None,
    run: bool = True,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> Report:
    """Every check on the notebook at `path`; `run=False` skips the fresh run (fast, static checks only)."""
    nb = load_notebook(path)
    spec = spec or homework_of(nb, path)
    reference = nbu.read(spec.release_notebook) if spec.release_notebook.exists() else None
    report = Report(path, spec)
    check_name(report, nb)
    check_answers(report, nb, reference)
    check_saved_run(report, nb)
    if run:
        check_fresh_run(report, nb, log=log)
    return report


def command(notebook: Path, homework: str | None, run: bool) -> int:
    """`python -m autograder preflight`: print the report; exit 1 when something would cost points."""
    spec = select([homework])[0] if homework else None
    report = preflight(notebook, spec=spec, run=run)
    print(report.render())
    return 0 if report.ready else 1
