"""`preflight`: on every homework's blank release and answer key, and on synthetic notebooks for each rule."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from autograder.course import cells as nbu
from autograder.course.paths import ROOT
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


def test_unreadable_file_is_explained(tmp_path):
    bad = tmp_path / "hw3.ipynb"
    bad.write_text("{ not json")
    with pytest.raises(RuntimeError, match="not a readable Jupyter notebook"):
        pf.preflight(bad, run=False)


# ---------------------------------------------------------------------------------------------------------
# The fresh run: a real kernel


@pytest.mark.slow
def test_fresh_run_visible_tests_only(spec, tmp_path, monkeypatch):
    """One run covers: hidden tests never run, a failing visible test with its message, a cell past the
    time limit, and the verdict."""
    marker = tmp_path / "hidden-ran"
    nb = student(answer="def f(x):\n    return 1", marker=marker, sleep=30)
    path = tmp_path / "hwt.ipynb"
    nbformat.write(nb, str(path))
    monkeypatch.setattr(pf, "cell_timeout", lambda: 3)
    report = pf.preflight(path, spec=spec, log=lambda *_: None)
    assert not marker.exists(), "a hidden test ran"
    assert report.test_results["p1_f_tests"] is None
    assert report.test_results["p1_g_tests"] == "AssertionError: f(2) should be 2"
    assert "p1_slow raises Timeout: the cell ran over 3s" in texts(report)
    assert not report.ready and "NOT READY" in report.render()


# ---------------------------------------------------------------------------------------------------------
# Every homework


@pytest.mark.slow
def test_blank_release_lists_every_unanswered_cell(homework):
    assert homework.release_notebook.exists(), f"{homework.release_notebook} is missing: python -m autograder release"
    report = pf.preflight(homework.release_notebook, run=False)
    release = nbu.read(homework.release_notebook)
    expected = [nbu.grade_id(c) for c in release.cells if nbu.meta(c).get("solution")]
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
