"""Merging graded submissions into the course gradebook through nbgrader's own API (any SQLAlchemy db_url).

Each submission was graded in its own scratch gradebook; here the assignment's structure (notebooks, grade,
solution, source and task cells) is copied once from the template gradebook, then every student's autograded
scores and comments are written. Like nbgrader's SaveAutoGrades, a score a TA entered by hand (manual_score)
is never overwritten, and such a cell stays flagged for review.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.course.paths import ROOT
from autograder.course.spec import Spec
from autograder.grading.results import Result

DEFAULT_DB_URL = f"sqlite:///{ROOT / 'gradebook.db'}"


def _alembic_on_path() -> None:
    """nbgrader runs `alembic` when it creates a gradebook: it must find the one next to this interpreter."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


@contextmanager
def open_gradebook(db_url: str, course_id: str) -> Iterator[Gradebook]:
    """nbgrader's Gradebook at `db_url` (created when missing, which runs alembic), closed afterwards."""
    _alembic_on_path()
    with Gradebook(db_url, course_id) as gb:
        yield gb


def copy_assignment(template_url: str, course_url: str, spec: Spec, course_id: str) -> None:
    """Create or update the assignment in the course gradebook from the template course's gradebook."""
    with open_gradebook(template_url, course_id) as src, open_gradebook(course_url, course_id) as dst:
        assignment = src.find_assignment(spec.id)
        dst.update_or_create_assignment(spec.id, duedate=assignment.duedate)
        for nb in assignment.notebooks:
            dst.update_or_create_notebook(nb.name, spec.id)
            for cell in nb.grade_cells:
                dst.update_or_create_grade_cell(
                    cell.name, nb.name, spec.id, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in nb.solution_cells:
                dst.update_or_create_solution_cell(cell.name, nb.name, spec.id)
            for cell in nb.task_cells:
                dst.update_or_create_task_cell(
                    cell.name, nb.name, spec.id, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in nb.source_cells:
                dst.update_or_create_source_cell(
                    cell.name,
                    nb.name,
                    spec.id,
                    cell_type=cell.cell_type,
                    locked=cell.locked,
                    source=cell.source,
                    checksum=cell.checksum,
                )


def merge(course_url: str, spec: Spec, result: Result, course_id: str) -> None:
    """Write one result (graded or rejected) for each of its students: the autograded score of every test cell
    (0 for a rejected submission), and, for written answers, whether a TA must grade them (an unanswered one
    gets 0 and nbgrader's "No response."). A score a TA already entered is never touched."""
    notebook = spec.notebook.removesuffix(".ipynb")
    tests = {t.grade_id: t for t in result.tests}
    written = {w.grade_id: w for w in result.written}
    with warnings.catch_warnings(), open_gradebook(course_url, course_id) as gb:
        # nbgrader's update_or_create_submission trips SQLAlchemy's autoflush warnings; harmless, and noise
        warnings.simplefilter("ignore", SAWarning)
        for student in result.students:
            gb.update_or_create_student(student)
            kwargs = {"timestamp": result.timestamp} if result.timestamp else {}
            gb.update_or_create_submission(spec.id, student, **kwargs)
            submitted = gb.find_submission_notebook(notebook, spec.id, student)
            for grade in submitted.grades:
                if grade.name in tests:
                    test = tests[grade.name]
                    grade.auto_score = test.score
                    grade.needs_manual_grade = test.review or grade.manual_score is not None
                elif grade.name in written:
                    answered = written[grade.name].answered and result.status != "rejected"
                    grade.auto_score = None if answered else 0.0
                    grade.needs_manual_grade = answered and grade.manual_score is None
                else:  # 0-point cells (the student's name): nothing to grade
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            for comment in submitted.comments:  # "No response." only where a written answer is missing
                answer = written.get(comment.name)
                missing = result.status == "rejected" or (answer is not None and not answer.answered)
                comment.auto_comment = "No response." if missing else None
            gb.db.commit()


def scores(course_url: str, spec: Spec, student: str, course_id: str) -> dict[str, float | None]:
    """The autograded score of each grade cell of a student's submission (for tests and reports)."""
    with open_gradebook(course_url, course_id) as gb:
        try:
            nb = gb.find_submission_notebook(spec.notebook.removesuffix(".ipynb"), spec.id, student)
        except MissingEntry:
            return {}
        return {g.name: g.auto_score for g in nb.grades}
