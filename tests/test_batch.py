"""`python -m autograder grade` as an instructor uses it: a folder of submissions, the CSV, the feedback, the
gradebook (a TA's scores survive a regrade), skipping what did not change. (Every key and blank release is graded
in the full sandbox by `check`, test_homeworks.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder.course.paths import ASSIGNMENTS, ROOT
from autograder.course.spec import load
from autograder.grading import gradebook
from autograder.grading.results import CellScore, Result, WrittenAnswer

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="grading with isolation needs a root grader with namespaces")


@pytest.fixture
def hw3():
    return load(ASSIGNMENTS / "hw3.toml")


def grade_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )


@pytest.mark.slow
@ROOT_ONLY
def test_cli_grades_a_folder_and_skips_what_did_not_change(hw3, tmp_path):
    folder = tmp_path / "submissions"
    for student, source in (("ann", hw3.source_notebook), ("bo", hw3.release_notebook)):
        (folder / student).mkdir(parents=True)
        shutil.copy(source, folder / student / hw3.notebook)
    (folder / "cy").mkdir()
    (folder / "cy" / hw3.notebook).write_text('{"cells": [')
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'gradebook.db'}"
    args = [hw3.id, str(folder), "-j", "2", "-o", str(out), "--db", db, "--no-progress", "--cell-timeout", "60"]

    first = grade_cli(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "graded 2, rejected 1, grader errors 0, skipped 0" in first.stdout
    rows = {r.split(",")[0]: r.split(",") for r in (out / "grades.csv").read_text().splitlines()[1:]}
    assert rows["ann"][1:4] == ["graded", f"{hw3.autograded_total:g}", f"{hw3.autograded_total:g}"]
    assert rows["bo"][1:3] == ["graded", "0"] and rows["cy"][1:3] == ["rejected", "0"]
    assert sorted(p.parent.name for p in (out / "feedback").glob(f"*/{hw3.id}.html")) == ["ann", "bo", "cy"]

    second = grade_cli(*args)
    assert "skipped 3" in second.stdout and "graded 0" in second.stdout

    shutil.copy(hw3.source_notebook, folder / "bo" / hw3.notebook)  # bo resubmits: only bo is graded again
    third = grade_cli(*args)
    assert "graded 1, rejected 0, grader errors 0, skipped 2" in third.stdout, third.stdout + third.stderr[-2000:]
    rows = {r.split(",")[0]: r.split(",") for r in (out / "grades.csv").read_text().splitlines()[1:]}
    assert rows["bo"][2] == f"{hw3.autograded_total:g}"
    with Gradebook(db) as gb:
        assert gb.find_submission(hw3.id, "bo").score == pytest.approx(hw3.autograded_total)


def test_cli_reports_a_missing_folder():
    proc = grade_cli("hw3", "/nonexistent/submissions", "--no-progress")
    if "unknown homework" in proc.stderr:
        pytest.skip("no hw3")
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Gradescope export zip" in proc.stderr


def synthetic_template(tmp_path) -> tuple[str, object]:
    """A gradebook holding a one-problem assignment, made with nbgrader's API (no CLI, no kernels)."""
    path = tmp_path / "hwt.toml"
    path.write_text(
        'id = "hwt"\ntitle = "t"\nhandout = "h"\norigin = "o"\nnotebook = "hwt.ipynb"\n'
        '[[problems]]\nid = "p1"\ntitle = "x"\npoints = 3\nautograded = 2\nmanual = 1\n'
    )
    spec = load(path)
    url = f"sqlite:///{tmp_path / 'template.db'}"
    gradebook._alembic_on_path()
    with Gradebook(url, "course") as gb:
        gb.add_assignment("hwt")
        gb.add_notebook("hwt", "hwt")
        gb.add_grade_cell("p1_tests", "hwt", "hwt", max_score=2, cell_type="code")
        gb.add_grade_cell("p1_answer", "hwt", "hwt", max_score=1, cell_type="markdown")
        gb.add_solution_cell("p1_answer", "hwt", "hwt")
        gb.add_source_cell("p1_tests", "hwt", "hwt", cell_type="code", locked=True, source="assert f() == 1")
    return url, spec


def test_gradebook_merge_keeps_what_a_ta_entered(tmp_path):
    template, spec = synthetic_template(tmp_path)
    course = f"sqlite:///{tmp_path / 'course.db'}"
    gradebook.copy_assignment(template, course, spec, "course")
    result = Result(
        "hwt",
        "ann",
        ["ann", "bo"],
        "graded",
        tests=[CellScore("p1_tests", "p1", 2.0, 2.0, False)],
        written=[WrittenAnswer("p1_answer", "p1", 1.0, True)],
    )
    gradebook.merge(course, spec, result, "course")
    with Gradebook(course, "course") as gb:
        for student in ("ann", "bo"):  # a group submission counts for each member
            assert gb.find_grade("p1_tests", "hwt", "hwt", student).auto_score == 2.0
        gb.find_grade("p1_tests", "hwt", "hwt", "ann").manual_score = 1.5  # a TA overrides the autograder
        gb.db.commit()
    result.tests[0].score = 0.0  # regraded with --force
    gradebook.merge(course, spec, result, "course")
    with Gradebook(course, "course") as gb:
        grade = gb.find_grade("p1_tests", "hwt", "hwt", "ann")
        assert (grade.auto_score, grade.manual_score, grade.needs_manual_grade) == (0.0, 1.5, True)
        assert gb.find_grade("p1_answer", "hwt", "hwt", "ann").needs_manual_grade
    rejected = Result("hwt", "cy", ["cy"], "rejected", message="empty")
    gradebook.merge(course, spec, rejected, "course")
    assert gradebook.scores(course, spec, "cy", "course") == {"p1_tests": 0.0, "p1_answer": 0.0}
