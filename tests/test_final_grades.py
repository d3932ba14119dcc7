"""From graded notebooks to final grades: the roster, the late policy, Gradescope's score export, `grades` (per
homework, course, Canvas CSV), and a whole test course of six students graded for real, a score entered in the
formgrader through a browser, a Gradescope export imported, a test fixed and regraded."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from builders import LOCKED, cell
from nbgrader.api import Gradebook

from autograder import cli
from autograder.course.spec import load
from autograder.grading import final, gradebook, gradescope_scores, late, roster
from autograder.grading.results import CellScore, Result, WrittenAnswer

COURSE_ID = "intro-deep-learning"

SPEC_TOML = """id = "hwt"
title = "Squares and cubes"
handout = "none"
origin = "test course"
due = 2024-03-01
notebook = "hwt.ipynb"
quick_seconds = 30

[[problems]]
id = "p1"
title = "squares"
points = 5
autograded = 3
manual = 2

[[problems]]
id = "p2"
title = "cubes"
points = 5
autograded = 2
manual = 3
"""
WRITTEN = [("p1_why", 2.0), ("p2_explain", 3.0)]
ROSTER = """id,name,email
ann,Ann Lee,ann@uni.edu
bo,Bo Chen,bo.chen@uni.edu
cy,Cy Young,cy@uni.edu
dee,Dee Park,dee@uni.edu
eve,Eve Adams,eve@uni.edu
fay,Fay Wong,fay@uni.edu
"""


def write_spec(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hwt.toml").write_text(SPEC_TOML)
    return load(folder / "hwt.toml")


def write_roster(path: Path) -> roster.Roster:
    path.write_text(ROSTER)
    return roster.read(path)


# -- the roster -----------------------------------------------------------------------------------------------------


def test_roster_matches_ids_emails_and_email_names_and_nothing_else(tmp_path):
    students = write_roster(tmp_path / "roster.csv")
    assert len(students) == 6 and students.get("bo").first_last == ("Bo", "Chen")
    assert students.match("bo").id == "bo"
    assert students.match("BO.CHEN@uni.edu").id == "bo"  # Gradescope's email
    assert students.match("bo.chen").id == "bo"  # an export without SIDs names folders by the email's local part
    assert students.match("zed") is None and students.match("") is None
    assert students.get("ann").sortable_name == "Lee, Ann"


@pytest.mark.parametrize(
    "text, error",
    [
        ("id,name\nann,Ann\n", "missing: email"),
        ("id,name,email\nann,Ann,a@x\nann,Ann B,b@x\n", "line 3: id 'ann' is already on line 2"),
        ("id,name,email\n,Ann,a@x\n", "line 2: no id"),
    ],
)
def test_a_bad_roster_is_refused_with_its_line(tmp_path, text, error):
    (tmp_path / "roster.csv").write_text(text)
    with pytest.raises(roster.RosterError, match=re.escape(error)):
        roster.read(tmp_path / "roster.csv")
    with pytest.raises(roster.RosterError, match="no roster"):
        roster.read(tmp_path / "none.csv")


# -- the late policy ------------------------------------------------------------------------------------------------

DUE = dt.date(2024, 3, 1)


def test_late_days_are_started_days_after_the_deadline_with_grace():
    policy = late.LatePolicy(per_day=10, grace_minutes=15)
    deadline = policy.deadline(DUE)
    assert deadline == dt.datetime(2024, 3, 1, 23, 59, tzinfo=dt.UTC)
    for stamp, days in [
        ("2024-03-01 23:59:00 UTC", 0),
        ("2024-03-02 00:13:59 UTC", 0),  # within the grace period
        ("2024-03-02 00:15:00 UTC", 1),
        ("2024-03-02 23:59:00 UTC", 1),
        ("2024-03-03 00:00:00 UTC", 2),
        ("2024-03-02 10:00:00.000 -0800", 1),  # Gradescope's created_at: 18:00 UTC, 18 h late
        ("2024-03-02 16:00:00.123456-08:00", 2),  # ... as read by PyYAML (submissions.py): 24 h 1 min late
    ]:
        assert policy.late_days(late.parse_time(stamp), deadline) == days, stamp


def test_due_time_and_time_zone_are_the_courses():
    policy = late.LatePolicy(due_time=dt.time(17, 0), timezone="America/New_York")
    assert policy.deadline(DUE).astimezone(dt.UTC) == dt.datetime(2024, 3, 1, 22, 0, tzinfo=dt.UTC)


def test_penalty_free_days_spent_in_due_order_and_the_limit():
    policy = late.LatePolicy(per_day=10, free_days=2, max_days=3)
    outcome = late.assess(
        policy,
        [
            ("hw2", dt.date(2024, 3, 8), "2024-03-11 12:00:00 UTC"),  # 3 days late: 1 free left, 2 penalised
            ("hw1", DUE, "2024-03-02 12:00:00 UTC"),  # 1 day late, due first: 1 free day
            ("hw3", dt.date(2024, 3, 15), "2024-03-20 00:00:00 UTC"),  # 5 days: past the limit
            ("hw4", None, "2030-01-01 00:00:00 UTC"),  # no due date: never late
            ("hw5", dt.date(2024, 3, 22), None),  # no submission time
        ],
    )
    assert (outcome["hw1"].days, outcome["hw1"].free_used, outcome["hw1"].penalty(10)) == (1, 1, 0)
    assert (outcome["hw2"].days, outcome["hw2"].free_used, outcome["hw2"].penalty(10)) == (3, 1, 2)
    assert outcome["hw3"].penalty(10) == 10 and "past the 3-day limit" in outcome["hw3"].describe()
    assert outcome["hw4"].days == 0 and outcome["hw4"].describe() == ""
    assert outcome["hw5"].penalty(10) == 0 and "not counted late" in outcome["hw5"].describe()


# -- a gradebook filled through the grader's own merge --------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory) -> Path:
    """The test homework's gradebook before any submission (made with nbgrader's API, no kernels), made once."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    gradebook._alembic_on_path()
    with Gradebook(f"sqlite:///{path}", COURSE_ID) as gb:
        gb.add_assignment("hwt", duedate=None)
        gb.add_notebook("hwt", "hwt")
        for name, points, kind in [
            ("p1_square_tests", 3, "code"),
            ("p1_why", 2, "markdown"),
            ("p2_cube_tests", 2, "code"),
            ("p2_explain", 3, "markdown"),
        ]:
            gb.add_grade_cell(name, "hwt", "hwt", max_score=points, cell_type=kind)
            if kind == "markdown":
                gb.add_solution_cell(name, "hwt", "hwt")
    return path


def synthetic_course(tmp_path: Path, empty: Path):
    """A copy of the empty gradebook, and the spec."""
    shutil.copy(empty, tmp_path / "gradebook.db")
    return write_spec(tmp_path / "assignments"), f"sqlite:///{tmp_path / 'gradebook.db'}"


def result(student: str, p1: float, p2: float, answered=(True, True), *, stamp=None, status="graded", message=""):
    tests = [
        CellScore("p1_square_tests", "p1", p1, 3.0, False),
        CellScore("p2_cube_tests", "p2", p2, 2.0, False),
    ]
    written = [WrittenAnswer(gid, gid[:2], pts, a) for (gid, pts), a in zip(WRITTEN, answered, strict=True)]
    if status != "graded":
        tests, written = [], []
    return Result("hwt", student, [student], status, message, 5.0, tests, written, timestamp=stamp)


def record(results_dir: Path, res: Result) -> None:
    (results_dir / "results").mkdir(parents=True, exist_ok=True)
    (results_dir / "results" / f"{res.student}.json").write_text(json.dumps(res.to_dict()))


def set_manual(url: str, student: str, gid: str, score: float) -> None:
    with Gradebook(url, COURSE_ID) as gb:
        grade = gb.find_grade(gid, "hwt", "hwt", student)
        grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


@pytest.fixture
def graded_course(tmp_path, empty_gradebook):
    """Six roster students and one stranger, graded as `grade` would leave them (records and gradebook)."""
    spec, url = synthetic_course(tmp_path, empty_gradebook)
    results = tmp_path / "grades" / "hwt"
    outcomes = [
        result("ann", 3, 2, stamp="2024-03-01 20:00:00 UTC"),
        result("bo", 0, 2, answered=(True, False), stamp="2024-03-01 21:00:00 UTC"),
        result("cy", 3, 2, stamp="2024-03-03 03:00:00 UTC"),  # 27 h late: 2 late days
        result("eve", 0, 0, status="rejected", message="hwt.ipynb is empty: save it in Jupyter\nand upload again"),
        result("fay", 3, 2),
        result("zed", 3, 2, stamp="2024-03-01 10:00:00 UTC"),  # not on the roster
    ]
    for res in outcomes:
        record(results, res)
        gradebook.merge(url, spec, res, COURSE_ID)
    error = Result("hwt", "dee", ["dee"], "error", "RunnerError: the trusted runner died\nTraceback ...", 5.0)
    record(results, error)  # the grader failed on dee: never merged into the gradebook
    students = write_roster(tmp_path / "roster.csv")
    roster.sync_gradebook(students, url, COURSE_ID)
    return spec, url, students, tmp_path / "grades"


def test_homework_grades_status_pending_and_strangers(graded_course):
    spec, url, students, results = graded_course
    set_manual(url, "ann", "p1_why", 1.5)
    set_manual(url, "ann", "p2_explain", 3.0)
    set_manual(url, "cy", "p1_why", 2.0)
    set_manual(url, "cy", "p2_explain", 3.0)
    set_manual(url, "bo", "p1_why", 1.0)
    course = final.course_grades([spec], students, results, url, COURSE_ID, late.LatePolicy())
    [hw] = course.homeworks
    rows = {r.student.id: r for r in hw.rows}
    assert {k: (r.status, r.total_text()) for k, r in rows.items()} == {
        "ann": ("graded", "9.5"),
        "bo": ("graded", "3"),  # p2_explain unanswered: 0 ("No response."), not pending
        "cy": ("graded", "8"),  # 10 - 2 late days x 10% of 10 points
        "dee": ("error", "error"),
        "eve": ("rejected", "0"),
        "fay": ("needs manual grading", "pending"),
    }
    assert rows["dee"].reason == "RunnerError: the trusted runner died"  # one line, no log
    assert rows["eve"].reason == "hwt.ipynb is empty: save it in Jupyter"
    assert rows["fay"].reason == "waiting for a TA: p1_why, p2_explain; no submission time recorded: not counted late"
    assert [(r.submission.student_id, r.status) for r in hw.unknown] == [("zed", "needs manual grading")]
    assert course.total("cy") == (8.0, 10.0) and course.total("fay") == (None, 10.0)


def test_csv_files_say_pending_never_zero_and_canvas_can_import_them(graded_course, tmp_path):
    spec, url, students, results = graded_course
    set_manual(url, "ann", "p1_why", 2.0)
    set_manual(url, "ann", "p2_explain", 2.5)
    course = final.course_grades([spec], students, results, url, COURSE_ID, late.LatePolicy())
    path = final.write_homework_csv(course.homeworks[0], tmp_path / "hwt.csv")
    rows = {r["id"]: r for r in csv.DictReader(path.open())}
    assert list(rows) == ["ann", "bo", "cy", "dee", "eve", "fay", "zed"]  # the stranger is kept, marked
    assert rows["zed"]["status"] == "needs manual grading, not on the roster"
    ann, cy, fay = rows["ann"], rows["cy"], rows["fay"]
    assert (ann["name"], ann["email"], ann["p1_auto"], ann["p1_manual"], ann["p2_manual"]) == (
        "Ann Lee",
        "ann@uni.edu",
        "3",
        "2",
        "2.5",
    )
    assert (ann["autograded"], ann["manual"], ann["total"], ann["max"], ann["late_days"]) == (
        "5",
        "4.5",
        "9.5",
        "10",
        "0",
    )
    assert (cy["late_days"], cy["late_penalty"], cy["p1_manual"], cy["total"]) == ("2", "2", "pending", "pending")
    assert cy["submitted"] == "2024-03-03T03:00:00+00:00"
    assert (fay["manual"], fay["total"], fay["late_days"]) == ("pending", "pending", "0")
    assert "no submission time recorded: not counted late" in fay["reason"]
    assert rows["dee"]["p1_auto"] == "error" and rows["dee"]["status"] == "error"
    canvas = list(csv.reader(final.write_canvas_csv(course, tmp_path / "canvas.csv").open()))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hwt"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "10"]
    by_id = {row[2]: row for row in canvas[2:]}
    assert by_id["ann"] == ["Lee, Ann", "", "ann", "ann@uni.edu", "", "9.5"]
    assert by_id["cy"][5] == "" and by_id["dee"][5] == "" and by_id["eve"][5] == "0"  # unknown yet: empty


def test_a_homework_never_graded_is_left_out(graded_course, tmp_path):
    spec, url, students, results = graded_course
    course = final.course_grades(  # another results folder and gradebook: nothing graded there
        [spec], students, tmp_path / "nothing", f"sqlite:///{tmp_path / 'empty.db'}", COURSE_ID, late.LatePolicy()
    )
    assert course.homeworks == [] and course.skipped == ["hwt"]


# -- Gradescope's export ---------------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "First Name",
    "Last Name",
    "SID",
    "Email",
    "Sections",
    "Total Score",
    "Max Points",
    "Status",
    "Submission ID",
    "Submission Time",
    "Lateness (H:M:S)",
    "View Count",
    "Submission Count",
    "1: Honor code (0.0 pts)",
    "2: Why squares are never negative (2.0 pts)",
    "3: p2_explain (3.0 pts)",
]


def write_export(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(EXPORT_HEADER)
        for first, last, sid, email, status, q2, q3 in rows:
            writer.writerow(
                [first, last, sid, email, "", "", "5.0", status, "1", "2024-03-01 10:00:00 -0800", "00:00:00", "1", "1"]
                + ["0.0", q2, q3]
            )
    return path


def test_questions_map_by_grade_id_then_by_order_and_points(tmp_path):
    qs = gradescope_scores.questions(EXPORT_HEADER)
    assert [(q.number, q.points) for q in qs] == [("1", 0.0), ("2", 2.0), ("3", 3.0)]
    mapping = gradescope_scores.map_questions(qs, WRITTEN, tmp_path / "x.csv")
    assert mapping == {EXPORT_HEADER[14]: "p1_why", EXPORT_HEADER[15]: "p2_explain"}
    with pytest.raises(gradescope_scores.GradescopeScoresError, match="cannot tell which written answer"):
        gradescope_scores.map_questions(qs, [("p1_why", 2.0), ("p2_explain", 2.0), ("p3", 1.0)], tmp_path / "x.csv")
    with pytest.raises(gradescope_scores.GradescopeScoresError, match="worth 3 points but p2_explain is worth 4"):
        gradescope_scores.map_questions(qs, [("p1_why", 2.0), ("p2_explain", 4.0)], tmp_path / "x.csv")


def test_import_reports_strangers_and_absentees_and_keeps_the_formgraders_scores(graded_course, tmp_path):
    spec, url, students, results = graded_course
    set_manual(url, "ann", "p1_why", 1.5)  # a TA graded it in the formgrader
    export = write_export(
        tmp_path / "scores.csv",
        [
            ["Ann", "Lee", "ann", "ann@uni.edu", "Graded", "2.0", "2.5"],
            ["Bo", "Chen", "", "BO.CHEN@uni.edu", "Graded", "1.0", ""],  # no SID: matched by email
            ["Dee", "Park", "dee", "dee@uni.edu", "Missing", "", ""],
            ["Fay", "Wong", "fay", "fay@uni.edu", "Ungraded", "", ""],
            ["Zed", "Nobody", "999", "zed@elsewhere.org", "Graded", "2.0", "3.0"],
        ],
    )
    ledger = tmp_path / "ledger.json"

    def run(path=export, **kwargs):
        return gradescope_scores.import_scores(spec, path, students, WRITTEN, url, COURSE_ID, ledger, **kwargs)

    report = run()
    assert (report.written, report.unchanged, report.ungraded) == (2, 0, 3)
    assert report.unmatched_rows == ["line 6 (Zed Nobody, SID 999, zed@elsewhere.org)"]
    assert report.no_row == ["cy", "eve"] and report.missing == ["dee"]
    assert report.conflicts == ["ann p1_why: formgrader 1.5, Gradescope 2"]
    assert gradebook.scores(url, spec, "ann", COURSE_ID)["p1_why"] is None  # auto_score: a TA's part
    with Gradebook(url, COURSE_ID) as gb:
        assert gb.find_grade("p1_why", "hwt", "hwt", "ann").manual_score == 1.5
        assert gb.find_grade("p2_explain", "hwt", "hwt", "ann").manual_score == 2.5
        assert gb.find_grade("p1_why", "hwt", "hwt", "bo").manual_score == 1.0
    assert "rows that match no roster student: line 6" in "\n".join(report.lines())

    again = run()  # the same file again changes nothing
    assert (again.written, again.unchanged, again.conflicts) == (0, 2, report.conflicts)
    regraded = write_export(
        tmp_path / "scores2.csv", [["Ann", "Lee", "ann", "ann@uni.edu", "Graded", "2.0", "3.0"]]
    )  # a regrade request on Gradescope: the import's own earlier score is replaced
    assert run(regraded).written == 1
    with Gradebook(url, COURSE_ID) as gb:
        assert gb.find_grade("p2_explain", "hwt", "hwt", "ann").manual_score == 3.0
    assert run(regraded, overwrite=True).written == 1  # ... and, asked to, the formgrader's too
    with Gradebook(url, COURSE_ID) as gb:
        assert gb.find_grade("p1_why", "hwt", "hwt", "ann").manual_score == 2.0


def test_an_export_that_is_not_per_question_is_refused(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text("Name,SID,Email,hw1,hw2\nAnn,ann,a@x,3,4\n")
    with pytest.raises(gradescope_scores.GradescopeScoresError, match="no question columns"):
        gradescope_scores.read(path)
    path.write_text("Name,Total\nAnn,3\n")
    with pytest.raises(gradescope_scores.GradescopeScoresError, match="no SID or Email"):
        gradescope_scores.read(path)


# -- a whole course, graded for real ------------------------------------------------------------------------------

TEST_BUGGY = "assert cube(2) == 8\n### BEGIN HIDDEN TESTS\nassert cube(-2) == 8\n### END HIDDEN TESTS"
TEST_FIXED = TEST_BUGGY.replace("cube(-2) == 8", "cube(-2) == -8")
CORRECT = {
    "p1_square": "def square(x):\n    return x * x",
    "p2_cube": "def cube(x):\n    return x ** 3",
    "p1_why": "Both factors have the same sign.",
    "p2_explain": "It is odd: cube(-x) == -cube(x).",
}
# Six roster students of differing quality (dee submitted nothing) and one stranger, in nbgrader's layout.
SUBMISSIONS = {
    "ann": (CORRECT, "2024-03-01 20:00:00.000000 UTC"),
    "bo": (  # square wrong for negative numbers (the hidden test); the second written answer left blank
        {"p1_square": "def square(x):\n    return abs(x) * x", "p2_cube": CORRECT["p2_cube"], "p1_why": "No idea."},
        "2024-03-01 21:30:00.000000 UTC",
    ),
    "cy": (CORRECT, "2024-03-03 03:00:00.000000 UTC"),  # 27 hours late: 2 late days
    "eve": (None, "2024-03-01 12:00:00.000000 UTC"),  # an empty file
    "fay": (CORRECT, None),  # no timestamp.txt
    "zed": (CORRECT, "2024-03-01 09:00:00.000000 UTC"),  # not on the roster
}


def homework_notebook(test_source: str) -> nbformat.NotebookNode:
    """The instructor's notebook of the test homework: two problems, each a function, its test, a written answer."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    answer = {"solution": True, "locked": False}
    test = {"grade": True, "solution": False, "locked": True}
    nb.cells = [
        cell("md", "# Squares and cubes", grade_id="header", **LOCKED),
        cell("code", "import numpy as np", grade_id="setup", **LOCKED),
        cell("md", "## Problem 1: squares (5 points)", grade_id="p1_statement", **LOCKED),
        cell("code", f"def square(x):\n{SOL}    return x * x\n{END}", grade_id="p1_square", grade=False, **answer),
        cell("code", SQUARE_TEST, grade_id="p1_square_tests", points=3, **test),
        cell(
            "md",
            f"Why is a square never negative?\n\n{SOL}{CORRECT['p1_why']}\n{END}",
            grade_id="p1_why",
            grade=True,
            points=2,
            **answer,
        ),
        cell("md", "## Problem 2: cubes (5 points)", grade_id="p2_statement", **LOCKED),
        cell("code", f"def cube(x):\n{SOL}    return x ** 3\n{END}", grade_id="p2_cube", grade=False, **answer),
        cell("code", test_source, grade_id="p2_cube_tests", points=2, **test),
        cell("md", f"{SOL}{CORRECT['p2_explain']}\n{END}", grade_id="p2_explain", grade=True, points=3, **answer),
    ]
    return nb


SOL, END = "    ### BEGIN SOLUTION\n", "    ### END SOLUTION"
SQUARE_TEST = "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16\n### END HIDDEN TESTS"


def student_copy(nb, answers: dict[str, str]) -> nbformat.NotebookNode:
    """What a student uploads: the release's cells (no solutions, no hidden tests) with their answers."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for c in copy.cells:
        gid = c.metadata["nbgrader"]["grade_id"]
        if c.metadata["nbgrader"].get("solution"):
            stub = "YOUR ANSWER HERE" if c.cell_type == "markdown" else "# YOUR CODE HERE\nraise NotImplementedError()"
            c.source = answers.get(gid, stub)
        elif "HIDDEN" in c.source:
            c.source = c.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
    return copy


class TestCourse:
    """A course on disk: the homework (spec, source), the roster, submissions in nbgrader's submitted/ layout, and
    the course folder the formgrader uses (nbgrader_config.py, gradebook.db, autograded/)."""

    __test__ = False  # a helper, not a test class

    def __init__(self, root: Path, monkeypatch, test_source: str = TEST_FIXED) -> None:
        import autograder.course.config
        import autograder.course.spec
        from autograder.course.paths import NBGRADER_CONFIG

        self.root = root
        self.spec = write_spec(root / "assignments")
        self.source = root / "source"
        self.write_source(test_source)
        for module, name, value in (
            (autograder.course.config, "SOURCE", self.source),
            (autograder.course.spec, "SOURCE", self.source),
            (autograder.course.spec, "ASSIGNMENTS", root / "assignments"),
        ):
            monkeypatch.setattr(module, name, value)
        self.course_dir = root / "course"
        self.course_dir.mkdir()
        shutil.copy(NBGRADER_CONFIG, self.course_dir / "nbgrader_config.py")
        self.db_url = f"sqlite:///{self.course_dir / 'gradebook.db'}"
        self.roster = self.course_dir / "roster.csv"
        write_roster(self.roster)
        self.submitted = root / "submitted"
        self.results = root / "grades"

    def write_source(self, test_source: str) -> None:
        path = self.source / "hwt" / "hwt.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(homework_notebook(test_source), str(path))

    def submit(self, students) -> None:
        release = homework_notebook(TEST_FIXED)
        for student in students:
            answers, stamp = SUBMISSIONS[student]
            folder = self.submitted / student / "hwt"
            folder.mkdir(parents=True, exist_ok=True)
            if answers is None:
                (folder / "hwt.ipynb").write_text("")
            else:
                nbformat.write(student_copy(release, answers), str(folder / "hwt.ipynb"))
            if stamp:
                (folder / "timestamp.txt").write_text(stamp)

    def cli(self, *args: str) -> str:
        """`python -m autograder ...` in this process (the course's paths are patched here); its output."""
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            code = cli.main(list(args))
        assert code == 0, buffer.getvalue()
        return buffer.getvalue()

    def grade(self, students=None, *extra: str) -> str:
        """Grade with full isolation (the default; the tests run as root), the way an instructor does."""
        self.submit(students or list(SUBMISSIONS))
        out = self.results / "hwt"
        return self.cli(
            "grade", "hwt", str(self.submitted), "-o", str(out), "--db", self.db_url,
            "--course-dir", str(self.course_dir), "--no-progress", "-j", "2", *extra,
        )  # fmt: skip

    def grades(self, *extra: str) -> str:
        return self.cli(
            "grades", "hwt", "--roster", str(self.roster), "--db", self.db_url, "--results", str(self.results),
            "-o", str(self.root / "final"), "--course-dir", str(self.course_dir), *extra,
        )  # fmt: skip

    def submission_id(self, student: str) -> str:
        with Gradebook(self.db_url, COURSE_ID) as gb:
            return gb.find_submission_notebook("hwt", "hwt", student).id

    def manual_score(self, student: str, grade_id: str) -> float | None:
        with Gradebook(self.db_url, COURSE_ID) as gb:
            return gb.find_grade(grade_id, "hwt", "hwt", student).manual_score


def printed_totals(output: str) -> dict[str, tuple[str, str]]:
    """The homework table `grades` prints: student -> (total, status)."""
    section = output.split("hwt: Squares and cubes", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^  (\S+)\s+(\S+) / 10  ([a-z ,]+[a-z])", section, flags=re.M)
    return {student: (total, status) for student, total, status in rows}


@pytest.mark.slow
def test_six_students_from_grading_to_final_grades(tmp_path, monkeypatch):
    from test_formgrader_browser import chrome, enter_score, open_submission

    from autograder.grading import formgrader

    course = TestCourse(tmp_path, monkeypatch, test_source=TEST_BUGGY)
    graded = course.grade()
    assert "graded 5, rejected 1, grader errors 0, skipped 0" in graded, graded

    browser = chrome()  # a TA grades one written answer in the formgrader
    try:
        with formgrader.serve(course.course_dir, course.db_url, COURSE_ID) as server:
            open_submission(browser, server, course.submission_id("ann"))
            enter_score(browser, "p1_why", 1.5)
    finally:
        browser.quit()
    assert course.manual_score("ann", "p1_why") == 1.5

    export = write_export(  # the rest was graded on Gradescope
        tmp_path / "hwt_scores.csv",
        [
            ["Ann", "Lee", "ann", "ann@uni.edu", "Graded", "2.0", "2.5"],
            ["Bo", "Chen", "", "bo.chen@uni.edu", "Graded", "1.0", ""],
            ["Cy", "Young", "cy", "cy@uni.edu", "Graded", "2.0", "3.0"],
            ["Dee", "Park", "dee", "dee@uni.edu", "Missing", "", ""],
            ["Fay", "Wong", "fay", "fay@uni.edu", "Ungraded", "", ""],
            ["Zed", "Nobody", "999", "zed@elsewhere.org", "Graded", "2.0", "3.0"],
        ],
    )
    first = course.grades("--gradescope-scores", f"hwt={export}")
    assert "4 written, 0 unchanged, 3 not graded on Gradescope yet" in first
    assert "rows that match no roster student: line 7 (Zed Nobody, SID 999, zed@elsewhere.org)" in first
    assert "roster students with no row: eve" in first
    assert "kept the formgrader's score over Gradescope's: ann p1_why: formgrader 1.5, Gradescope 2" in first
    # p2's hidden test is wrong: nobody earns its 2 points yet
    assert printed_totals(first) == {
        "ann": ("7", "graded"),  # 3 + 1.5 (formgrader) + 0 + 2.5 (Gradescope)
        "bo": ("1", "graded"),  # 0 (hidden test) + 1 + 0 + 0 (unanswered)
        "cy": ("6", "graded"),  # 3 + 2 + 0 + 3 - 2 (2 late days x 10% of 10)
        "dee": ("0", "missing"),
        "eve": ("0", "rejected"),
        "fay": ("pending", "needs manual grading"),
        "zed": ("pending", "needs manual grading, not on the roster"),
    }

    course.write_source(TEST_FIXED)  # the test is fixed; every submission is graded again
    regraded = course.grade(None, "--force")
    changes = regraded.split("manual scores are kept):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [c.strip() for c in changes] == [
        "ann: 3 -> 5",
        "bo: 0 -> 2",
        "cy: 3 -> 5",
        "fay: 3 -> 5",
        "zed: 3 -> 5",
    ]
    assert course.manual_score("ann", "p1_why") == 1.5 and course.manual_score("cy", "p2_explain") == 3.0

    second = course.grades()
    assert printed_totals(second) == {
        "ann": ("9", "graded"),
        "bo": ("3", "graded"),
        "cy": ("8", "graded"),
        "dee": ("0", "missing"),
        "eve": ("0", "rejected"),
        "fay": ("pending", "needs manual grading"),
        "zed": ("pending", "needs manual grading, not on the roster"),
    }
    final_dir = tmp_path / "final"
    course_rows = {r["id"]: r for r in csv.DictReader((final_dir / "course.csv").open())}
    assert {k: (r["hwt"], r["total"], r["status"]) for k, r in course_rows.items()} == {
        "ann": ("9", "9", "complete"),
        "bo": ("3", "3", "complete"),
        "cy": ("8", "8", "complete"),
        "dee": ("0", "0", "missing: hwt"),
        "eve": ("0", "0", "rejected: hwt"),
        "fay": ("pending", "pending", "pending: hwt"),
    }
    canvas = {row[2]: row[5] for row in list(csv.reader((final_dir / "canvas.csv").open()))[2:]}
    assert canvas == {"ann": "9", "bo": "3", "cy": "8", "dee": "0", "eve": "0", "fay": ""}

    assert "Feedback pages updated with the TAs' scores, late penalties and totals: 5" in second
    pages = {s: (course.results / "hwt" / "feedback" / s / "hwt.html").read_text() for s in ("ann", "cy", "fay")}
    assert "Written answers: 4 / 5" in pages["ann"] and "Total: 9 / 10" in pages["ann"]
    assert "Late: 2 day(s) late, -2 points" in pages["cy"] and "Total: 8 / 10" in pages["cy"]
    assert "Written answers: pending" in pages["fay"] and "Total: pending" in pages["fay"]
    assert "square(-4)" not in pages["ann"]  # still no hidden test on the page
