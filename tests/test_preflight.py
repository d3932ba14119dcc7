"""`preflight`: synthetic notebooks for each rule; every homework's blank release and answer key; and the
acceptance: notebooks filled from the student kit are READY exactly when the grader gives them full
autograded points."""

from __future__ import annotations

import ast
import copy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import cells as nbu
from autograder.course import policy
from autograder.course.paths import INLINE_BACKEND, ROOT, tool_env
from autograder.course.policy import Limits
from autograder.course.spec import load, select
from autograder.student import preflight as pf

LOCKED = dict(locked=True, solution=False, grade=False)
SPEC = """id = "hwt"
title = "Preflight test"
handout = "none"
origin = "none"
notebook = "hwt.ipynb"
[[problems]]
id = "p1"
title = "one"
points = 5
autograded = 4
manual = 1
"""


def cell(kind, source, count=None, outputs=(), **nbgrader):
    c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    if kind == "code":
        c.execution_count, c.outputs = count, list(outputs)
    c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "hwt.toml"
    path.write_text(SPEC)
    return load(path)


def student(answer="def f(x):\n    return x", written="Because.", marker=None, sleep=0):
    """A small homework notebook as a student would hand it in (not run)."""
    hidden = ""
    if marker:
        hidden = f"\n### BEGIN HIDDEN TESTS\nopen({str(marker)!r}, 'w').write('ran')\n### END HIDDEN TESTS"
    return notebook(
        cell("md", "# Test", grade_id="header", **LOCKED),
        cell("md", "**Name:** Ada", grade_id="student_name", solution=True, grade=True, points=0),
        cell("md", "## Problem 1: one (5 points)", grade_id="p1_statement", **LOCKED),
        cell("code", answer, grade_id="p1_f", solution=True, grade=False),
        cell(
            "code",
            "assert f(1) == 1, 'f(1) should be 1'" + hidden,
            grade_id="p1_f_tests",
            grade=True,
            solution=False,
            locked=True,
            points=2,
        ),
        cell("code", f"import time\ntime.sleep({sleep})", grade_id="p1_slow", **LOCKED),
        cell("code", "assert f(2) == 2, 'f(2) should be 2'", grade_id="p1_g_tests", grade=True, locked=True, points=2),
        cell("md", written, grade_id="p1_why", solution=True, grade=True, points=1),
    )


def levels(report, section_start: str) -> list[str]:
    return [f.level for title, found in report.sections.items() if title.startswith(section_start) for f in found]


def texts(report) -> str:
    return "\n".join(f.text for found in report.sections.values() for f in found)


# ---------------------------------------------------------------------------------------------------------
# Static rules (no kernel)


def test_unanswered_cells_are_listed(spec):
    nb = student(answer="def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()", written="YOUR ANSWER HERE")
    report = pf.Report(spec.path, spec)
    pf.check_answers(report, nb, None)
    assert report.unanswered == ["p1_f", "p1_why"]
    assert "p1_f (code, Problem 1: one (5 points)) still has `raise NotImplementedError()`" in texts(report)
    assert "the tests of this problem carry 4 points" in texts(report)
    assert levels(report, "Answers") == ["FIX", "FIX"]


def test_answer_identical_to_the_release_is_unanswered(spec):
    release = student(answer="def f(x):\n    pass", written="YOUR ANSWER HERE")
    report = pf.Report(spec.path, spec)
    pf.check_answers(report, student(answer="def f(x):\n    pass  "), release)
    assert report.unanswered == ["p1_f"]


def test_deleted_duplicated_and_edited_cells(spec):
    release = student(answer="# YOUR CODE HERE\nraise NotImplementedError()", written="YOUR ANSWER HERE")
    nb = student()
    del nb.cells[6]  # the second test cell
    nb.cells.append(nbformat.from_dict(dict(nb.cells[3])))  # the answer cell, copied
    nb.cells[4].source += "\nassert True  # my own line"
    report = pf.Report(spec.path, spec)
    pf.check_answers(report, nb, release)
    found = texts(report)
    assert "p1_g_tests: this cell was deleted" in found
    assert "p1_f: this cell appears 2 times" in found
    assert "p1_f_tests: you edited this locked cell" in found
    assert levels(report, "Answers").count("FIX") == 2 and levels(report, "Answers").count("WARN") == 1


def test_hidden_tests_in_an_instructors_notebook_are_not_an_edit(spec, tmp_path):
    release, source = student(), student(marker=tmp_path / "x")
    report = pf.Report(spec.path, spec)
    pf.check_answers(report, source, release)
    assert "edited" not in texts(report)


@pytest.mark.parametrize(
    "counts, level, phrase",
    [
        ([1, 2, 3, 4], "OK", "run top to bottom in order"),
        ([None, None, None, None], "FIX", "never run"),
        ([1, 2, None, 3], "FIX", "1 code cell(s) were not run: p1_slow"),
        ([1, 3, 2, 4], "FIX", "out of order (first at p1_slow)"),
        ([3, 5, 6, 9], "WARN", "re-run or run in between"),
    ],
)
def test_run_order(spec, counts, level, phrase):
    nb = student()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c, n in zip(code, counts, strict=True):
        c.execution_count = n
    report = pf.Report(spec.path, spec)
    pf.check_saved_run(report, nb)
    assert level in levels(report, "Saved") and phrase in texts(report)


def test_saved_error_is_reported(spec):
    nb = student()
    for i, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        c.execution_count = i + 1
    nb.cells[4].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f(1) should be 1")]
    report = pf.Report(spec.path, spec)
    pf.check_saved_run(report, nb)
    assert "p1_f_tests shows an error in the saved notebook" in texts(report)
    assert "AssertionError: f(1) should be 1" in texts(report)


def test_name_cell(spec):
    cases = {"**Name:** Ada": ("OK", "Ada"), "**Name:**\nYOUR ANSWER HERE": ("WARN", "no name yet")}
    for source, (level, phrase) in cases.items():
        nb = student()
        nb.cells[1].source = source
        report = pf.Report(spec.path, spec)
        pf.check_name(report, nb)
        assert report.sections["Name"][0].level == level and phrase in report.sections["Name"][0].text
    nb = student()
    del nb.cells[1]
    report = pf.Report(spec.path, spec)
    pf.check_name(report, nb)
    assert "no Name cell" in report.sections["Name"][0].text


def with_optional(nb, source="# YOUR CODE HERE (optional, not graded)\npass"):
    """`nb` with an optional, ungraded answer cell (cell metadata `course.optional`) after the answer."""
    optional = cell("code", source, grade_id="p1_check", solution=True, grade=False)
    optional.metadata["course"] = {"optional": True}
    nb.cells.insert(4, optional)
    return nb


def test_optional_cells_are_never_fix(spec):
    release = with_optional(student(answer="# YOUR CODE HERE\nraise NotImplementedError()", written="YOUR ANSWER HERE"))
    for source in ("# YOUR CODE HERE (optional, not graded)\npass", "# YOUR CODE HERE\nraise NotImplementedError()"):
        report = pf.Report(spec.path, spec)
        pf.check_answers(report, with_optional(student(), source), release)
        assert report.ready and report.unanswered == []
        assert "optional, not graded, left as given: p1_check" in texts(report)
    deleted = student()  # the optional cell deleted: worth a look, not a FIX
    report = pf.Report(spec.path, spec)
    pf.check_answers(report, deleted, release)
    assert report.ready and "p1_check: this cell was deleted" in texts(report)


def test_saved_error_in_an_optional_cell_is_a_warning(spec):
    nb = with_optional(student(), "raise NotImplementedError()")
    for i, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        c.execution_count = i + 1
    nb.cells[4].outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="")]
    report = pf.Report(spec.path, spec)
    pf.check_saved_run(report, nb)
    assert levels(report, "Saved") == ["WARN"] and "optional cell: it costs no points" in texts(report)


def test_upload_limits(spec, tmp_path):
    path = tmp_path / "hwt.ipynb"
    nbformat.write(student(), str(path))
    report = pf.Report(path, spec)
    pf.check_upload(report, path, student(), Limits(upload_mb=20, cells=5))
    assert levels(report, "Upload") == ["FIX"] and "8 cells; the grader takes notebooks of up to 5 cells" in texts(
        report
    )
    big = student()
    big.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 2**20)]
    big.cells[3].execution_count = 1
    nbformat.write(big, str(path))
    report = pf.Report(path, spec)
    pf.check_upload(report, path, big, Limits(upload_mb=1))
    assert levels(report, "Upload") == ["FIX"] and "the grader takes notebooks up to 1 MB" in texts(report)


def test_unreadable_file_is_explained(tmp_path):
    bad = tmp_path / "hw3.ipynb"
    bad.write_text("{ not json")
    with pytest.raises(RuntimeError, match="not a readable Jupyter notebook"):
        pf.preflight(bad, run=False)


# ---------------------------------------------------------------------------------------------------------
# The fresh run: a real kernel


@pytest.mark.slow
def test_fresh_run_visible_tests_only(spec, tmp_path):
    """One run covers: hidden tests never run, a failing visible test with its message, a cell past the
    time limit, and the verdict."""
    marker = tmp_path / "hidden-ran"
    nb = student(answer="def f(x):\n    return 1", marker=marker, sleep=30)
    path = tmp_path / "hwt.ipynb"
    nbformat.write(nb, str(path))
    limits = Limits(cell_seconds=3, notebook_seconds=600)
    report = pf.preflight(path, spec=spec, limits=limits, typeset_answers=False, log=lambda *_: None)
    assert not marker.exists(), "a hidden test ran"
    assert report.test_results["p1_f_tests"] is None
    assert report.test_results["p1_g_tests"] == "AssertionError: f(2) should be 2"
    assert "p1_slow raises Timeout: the cell ran over 3s" in texts(report)
    assert not report.ready and "NOT READY" in report.render()


@pytest.mark.slow
def test_fresh_run_optional_cells_warnings_stderr_and_time(spec, tmp_path):
    """An optional cell that raises is a WARN; a test cell that warns and writes to stderr passes (a test fails
    only by raising); a notebook slower than the grader's notebook limit is a FIX."""
    noisy = (
        "import sys, warnings\nwarnings.warn('deprecated', DeprecationWarning)\n"
        "print('noise', file=sys.stderr)\nassert f(1) == 1, 'f(1) should be 1'"
    )
    nb = with_optional(student(answer="def f(x):\n    return x", sleep=3), "raise ValueError('my check')")
    nb.cells[5].source = noisy
    for i, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        c.execution_count = i + 1  # saved after Run All
    path = tmp_path / "hwt.ipynb"
    nbformat.write(nb, str(path))
    limits = Limits(cell_seconds=60, notebook_seconds=2)
    report = pf.preflight(path, spec=spec, limits=limits, typeset_answers=False, log=lambda *_: None)
    assert report.test_results == {"p1_f_tests": None, "p1_g_tests": None}
    errors = report.sections["Errors in the fresh run"]
    assert [f.level for f in errors] == ["WARN", "FIX"]
    assert "p1_check raises ValueError: my check (optional" in errors[0].text
    assert "the grader stops a notebook at 2s" in errors[1].text
    assert [f.text for f in report.problems] == [errors[1].text]


# ---------------------------------------------------------------------------------------------------------
# Typesetting the written answers: what LaTeX rejects and what the fonts lack, with the cell, line and fix

ALIGN = "Derivation:\n\n$$\\begin{align} a &= b \\\\ c &= d \\end{align}$$\n\nSo $a = d$."
# ∎ prints through the template's fallback fonts; no font of the PDF has the hieroglyph or Chinese.
GLYPHS = "The proof is complete.\n\nHence $x = y$ \U00013000 and 中文 too."


@pytest.mark.slow
@pytest.mark.parametrize(
    "written, line, phrases",
    [
        (ALIGN, 3, ["Erroneous nesting of equation structures", "\\begin{aligned}...\\end{aligned}"]),
        (
            GLYPHS,
            3,
            ["\U00013000 (U+13000 EGYPTIAN HIEROGLYPH A001)", "$\\blacksquare$", "中 (U+4E2D", "write this in English"],
        ),
    ],
    ids=["mathjax-only", "missing-glyph"],
)
def test_typesetting_problems_name_cell_line_and_fix(spec, tmp_path, written, line, phrases):
    path = tmp_path / "hwt.ipynb"
    nbformat.write(student(written=written), str(path))
    report = pf.preflight(path, spec=spec, run=False, log=lambda *_: None)
    found = [f for t, found in report.sections.items() if t.startswith("Written answers in the PDF") for f in found]
    assert found and all(f.level == "FIX" for f in found) and not report.ready
    for finding in found:
        assert finding.text.startswith(f"p1_why (cell 8), line {line}: ")
        assert f"line {line}: {written.splitlines()[line - 1].strip()}" in finding.text
        assert "\nfix: " in finding.text
    for phrase in phrases:
        assert any(phrase in f.text for f in found), phrase
    print(report.render())  # what a student sees (pytest -s shows it)


@pytest.mark.slow
def test_clean_written_answers_typeset(spec, tmp_path):
    path = tmp_path / "hwt.ipynb"
    nbformat.write(student(written="Because $\\begin{aligned} a &= b \\end{aligned}$ and é, ü, —."), str(path))
    report = pf.preflight(path, spec=spec, run=False, log=lambda *_: None)
    assert "every written answer typesets" in texts(report)


# ---------------------------------------------------------------------------------------------------------
# Every homework


@pytest.mark.slow
def test_blank_release_lists_every_unanswered_cell(homework):
    assert homework.release_notebook.exists(), f"{homework.release_notebook} is missing: python -m autograder release"
    report = pf.preflight(homework.release_notebook, run=False, typeset_answers=False)
    release = nbu.read(homework.release_notebook)
    expected = [nbu.grade_id(c) for c in release.cells if nbu.meta(c).get("solution") and not policy.optional(c)]
    expected = [gid for gid in expected if gid != "student_name"]
    assert report.spec.id == homework.id
    assert report.unanswered == expected
    rendered = report.render()
    for gid in expected:
        assert gid in rendered
    assert "never run" in rendered and not report.ready


@pytest.mark.slow
def test_answer_key_passes(homework, solution_keys):
    key = solution_keys(homework)
    report = pf.preflight(key.notebook, log=lambda *_: None)
    assert report.spec.id == homework.id
    assert report.ready, report.render()
    assert report.test_results and all(error is None for error in report.test_results.values())
    assert "edited" not in texts(report), "hidden tests must be compared as the release has them"


@pytest.mark.slow
def test_cli_exit_codes(solution_keys):
    [hw3] = select(["hw3"])
    blank = subprocess.run(
        [sys.executable, "-m", "autograder", "preflight", str(hw3.release_notebook), "--no-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert blank.returncode == 1 and "Verdict: NOT READY" in blank.stdout
    key = subprocess.run(
        [sys.executable, "-m", "autograder", "preflight", str(solution_keys(hw3).notebook)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert key.returncode == 0, key.stdout + key.stderr
    assert "Verdict: READY" in key.stdout and "q1_loss_tests (3 points): passes" in key.stdout
    assert "[preflight] 1/" in key.stderr  # progress goes to stderr


# ---------------------------------------------------------------------------------------------------------
# Acceptance: a notebook filled from the student kit is READY exactly when the grader gives it every
# autograded point (complete: READY; an answer missing or visibly wrong: NOT READY)

ACCEPTANCE = ("hw3", "hw4", "hw5")
# Scores do not depend on the isolation; "none" as in `check` (the sandboxed kinds are the engine tests' business).
ISOLATION = "none"


def quiet(*_) -> None:
    """Progress messages are not wanted here."""


@pytest.fixture(scope="module")
def kit_notebook(tmp_path_factory):
    """The release notebook of a homework as the student kit (`make student`) ships it."""
    from autograder.student import kit

    built = kit.build(tmp_path_factory.mktemp("kit") / "student", log=quiet)
    return lambda spec: built / spec.id / spec.notebook


def key_answer(cell) -> str:
    """The key's text of an answer cell without the solution markers: what a student who got it right writes."""
    markers = (nbu.SOLUTION_BEGIN, nbu.SOLUTION_END)
    return "\n".join(line for line in cell.source.splitlines() if line.strip() not in markers)


def fill(release, source, *, leave: tuple[str, ...] = (), append: dict[str, str] | None = None):
    """The release with the key's answer in every answer cell but the optional ones (a complete notebook
    leaves those as given) and those in `leave`; `append` adds text to an answer."""
    key = {nbu.grade_id(c): c for c in source.cells if nbu.meta(c).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = nbu.grade_id(cell)
        if gid in key and gid not in leave and not policy.optional(cell):
            cell.source = key_answer(key[gid]) + (append or {}).get(gid, "")
    return nb


def first_tested_function(release) -> tuple[str, str]:
    """(grade_id, function name) of the first answer code cell defining a function that a visible test checks."""
    for index, cell in enumerate(release.cells):
        if cell.cell_type != "code" or not nbu.meta(cell).get("solution") or policy.optional(cell):
            continue
        names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
        following = release.cells[index + 1] if index + 1 < len(release.cells) else None
        if names and following is not None and nbu.is_autograded_test(following) and names[0] in following.source:
            return nbu.grade_id(cell), names[0]
    raise AssertionError("no answer cell defines a function that the next (visible) test cell uses")


def run_all(nb, folder: Path):
    """Kernel > Restart Kernel and Run All, in `folder`, then save: errors stay in the outputs (short path)."""
    folder.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=tool_env(COURSE_QUICK="1", MPLBACKEND=INLINE_BACKEND))
    return nb


def grade(spec, notebooks: dict[str, Path]) -> dict:
    """The grader's results (student -> Result) for notebooks (student -> path), through the grading engine
    with full isolation, as `python -m autograder grade` grades a class."""
    from autograder.course.paths import BUILD
    from autograder.grading import engine
    from autograder.grading.submissions import Submission

    BUILD.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"preflight-grade-{spec.id}-", dir=BUILD))  # kernels get a private /tmp
    try:
        setup = engine.prepare(spec, scratch, Limits.for_homework(spec.quick_seconds), isolation=ISOLATION)
        grader = engine.Grader(setup)
        try:
            return {s: grader.grade(Submission(s, path.parent, notebook=path)) for s, path in notebooks.items()}
        finally:
            grader.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.homeworks(lambda spec: spec.id in ACCEPTANCE)
def test_ready_exactly_when_grading_gives_full_points(homework, kit_notebook, tmp_path):
    release, source = nbu.read(kit_notebook(homework)), nbu.read(homework.source_notebook)
    answer, function = first_tested_function(release)
    variants = {
        "complete": fill(release, source),
        "missing": fill(release, source, leave=(answer,)),
        "wrong": fill(release, source, append={answer: f"\n\n\ndef {function}(*args, **kwargs):\n    return None\n"}),
    }
    reports, paths = {}, {}
    for student, nb in variants.items():
        path = paths[student] = tmp_path / "submissions" / student / f"my-{homework.id}.ipynb"  # renamed
        path.parent.mkdir(parents=True)
        nbformat.write(run_all(nb, tmp_path / "work" / student), str(path))
        reports[student] = pf.preflight(path, log=quiet)
        assert reports[student].spec.id == homework.id
    graded = grade(homework, paths)
    full = {s: r.status == "graded" and r.max_score > 0 and r.score == r.max_score for s, r in graded.items()}
    ready = {student: report.ready for student, report in reports.items()}
    detail = {s: (r.status, r.score, r.max_score, r.message, r.cell_errors) for s, r in graded.items()}
    lost = [f"{t.grade_id}: {t.message}" for t in graded["complete"].tests if t.score < t.max_score]
    assert full["complete"], f"the key's answers lose points under the grader (the homework's tests): {lost}"
    assert ready == full, f"preflight {ready}, grader {detail}\n\n" + reports["complete"].render()
    assert ready == {"complete": True, "missing": False, "wrong": False}
    assert answer in reports["missing"].unanswered
    assert any(error for error in reports["wrong"].test_results.values())
