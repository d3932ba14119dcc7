"""The grader's pieces without kernels: submission layouts, bad files, the rebuild from the release, homework
identification, feedback redaction, the results.json format, the CSV, bundles. Fast (seconds)."""

from __future__ import annotations

import copy
import json
import zipfile
from dataclasses import asdict

import nbformat
import pytest

from autograder.course import cells as nbu
from autograder.course.policy import Limits
from autograder.course.spec import load
from autograder.gradescope import bundle as gradescope
from autograder.grading import integrity, submissions
from autograder.grading.batch import write_csv
from autograder.grading.engine import CellScore, Result
from autograder.grading.kernel import bound_names
from autograder.grading.runtime import sandbox


def cell(kind, source, **nbgrader):
    c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


LOCKED = dict(locked=True, solution=False, grade=False)


def release_nb():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("code", "import numpy as np", grade_id="setup", **LOCKED),
        cell("md", "## Problem 1: squares (3 points)", grade_id="p1_statement", **LOCKED),
        cell(
            "code", "def square(x):\n    raise NotImplementedError()", grade_id="p1_square", solution=True, grade=False
        ),
        cell(
            "code",
            "assert square(2) == 4",
            grade_id="p1_square_tests",
            grade=True,
            solution=False,
            locked=True,
            points=2,
        ),
        cell("md", "YOUR ANSWER HERE", grade_id="p1_answer", solution=True, grade=True, points=1),
    ]
    return nb


def student_nb():
    nb = copy.deepcopy(release_nb())
    nb.cells[2].source = "def square(x):\n    return x * x"
    nb.cells[4].source = "Because 2x."
    return nb


def sources(nb):
    return [(nbu.grade_id(c), c.cell_type, c.source) for c in nb.cells]


# -- the rebuild ---------------------------------------------------------------------------------------------


def test_rebuild_takes_answers_only():
    rebuilt = integrity.rebuild(release_nb(), student_nb())
    assert rebuilt.notes == []
    assert rebuilt.answered == 2
    assert sources(rebuilt.nb)[2][2] == "def square(x):\n    return x * x"
    assert sources(rebuilt.nb)[3][2] == "assert square(2) == 4"


def test_rebuild_restores_edited_deleted_retyped_test_cells():
    for change, note in [
        (lambda nb: setattr(nb.cells[3], "source", "pass"), "test cell p1_square_tests was edited"),
        (lambda nb: nb.cells.pop(3), "test cell p1_square_tests was deleted"),
        (lambda nb: setattr(nb.cells[3], "cell_type", "markdown"), "changed to markdown"),
    ]:
        nb = student_nb()
        change(nb)
        rebuilt = integrity.rebuild(release_nb(), nb)
        assert sources(rebuilt.nb) == sources(integrity.rebuild(release_nb(), student_nb()).nb)
        assert any(note in n for n in rebuilt.notes), rebuilt.notes


def test_rebuild_ignores_metadata_changes_and_duplicates():
    nb = student_nb()
    nb.cells[3].metadata.nbgrader["points"] = 200
    stale = copy.deepcopy(nb.cells[2])
    stale.source = "def square(x):\n    return 0"
    nb.cells.append(stale)
    rebuilt = integrity.rebuild(release_nb(), nb)
    assert nbu.points(rebuilt.nb.cells[3]) == 2
    assert rebuilt.nb.cells[2].source.endswith("return x * x")
    assert any("metadata changed (points)" in n for n in rebuilt.notes)
    assert any("appears 2 times: the first copy was graded" in n for n in rebuilt.notes)


def test_rebuild_runs_in_homework_order_and_keeps_added_code_ungraded():
    nb = student_nb()
    nb.cells = [nb.cells[3], *nb.cells[:3], nb.cells[4]]  # the test first
    helper = nbformat.v4.new_code_cell("HELPER = 1")
    fake = cell("code", "assert True", grade_id="p1_bonus_tests", grade=True, solution=False, points=100)
    nb.cells.insert(4, helper)  # after p1_square in the student's order
    nb.cells.append(fake)
    nb.metadata["kernelspec"]["name"] = "ir"
    rebuilt = integrity.rebuild(release_nb(), nb)
    ids = [nbu.grade_id(c) for c in rebuilt.nb.cells]
    assert ids == ["setup", "p1_statement", "p1_square", None, "p1_square_tests", "p1_answer", None]
    assert rebuilt.nb.cells[3].source == "HELPER = 1"
    assert not nbu.meta(rebuilt.nb.cells[6]), "an added cell never carries grading metadata"
    assert rebuilt.nb.metadata["kernelspec"]["name"] == "python3"
    notes = " ".join(rebuilt.notes)
    assert "re-ordered" in notes and "2 code cell(s) added" in notes and "kernel 'ir' was replaced" in notes


def test_identify_other_homework_and_foreign_notebooks():
    mine = release_nb()
    other = copy.deepcopy(release_nb())
    for c in other.cells[1:]:
        c.metadata.nbgrader["grade_id"] = "q9_" + c.metadata.nbgrader["grade_id"]
    assert integrity.identify(student_nb(), mine, {"hw9": other}) is None
    assert "notebook of hw9" in integrity.identify(other, mine, {"hw9": other})
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert "none of the homework's cell ids" in integrity.identify(bare, mine, {"hw9": other})


# -- feedback redaction --------------------------------------------------------------------------------------


def source_with_hidden():
    nb = release_nb()
    nb.cells[
        3
    ].source = (
        "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(7) == 49, 'secret case'\n### END HIDDEN TESTS"
    )
    return nb


def test_secret_lines_are_hidden_tests_not_public_lines():
    secrets = integrity.secret_lines(source_with_hidden())
    assert secrets == {"assert square(7) == 49, 'secret case'"}


def test_redact_removes_hidden_lines_and_hidden_tracebacks():
    nb = source_with_hidden()
    test = nb.cells[3]
    test.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="seen: assert square(7) == 49, 'secret case'\nok\n"),
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="secret case",
            traceback=["Cell In[3], line 3", "assert square(7) == 49, 'secret case'"],
        ),
    ]
    resources = {"autograder_feedback": {"secrets": integrity.secret_lines(nb), "hidden_cells": {"p1_square_tests"}}}
    out, _ = integrity.Redact().preprocess(nb, resources)
    text = json.dumps(out.cells[3].outputs)
    assert "square(7)" not in text
    assert integrity.REDACTED in out.cells[3].outputs[0].text and "ok" in out.cells[3].outputs[0].text
    assert out.cells[3].outputs[1].traceback[0] == "AssertionError: secret case"


def test_bound_names_of_instructor_cells():
    src = (
        "import numpy as np\nfrom os import path as p\nX, y = 1, 2\nfor i in range(3):\n    z = i\n"
        "def f():\n    inner = 1\nclass C:\n    pass\n"
    )
    assert bound_names(src) == {"np", "p", "X", "y", "i", "z", "f", "C"}
    assert bound_names("%matplotlib inline") == set()


# -- submissions ---------------------------------------------------------------------------------------------


def write_nb(path, nb=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb or student_nb(), str(path))
    return path


def test_folder_and_nbgrader_layouts(tmp_path):
    write_nb(tmp_path / "plain" / "bob" / "hw3.ipynb")
    write_nb(tmp_path / "plain" / "ann" / "hw3.ipynb")
    write_nb(tmp_path / "plain" / "ann" / ".ipynb_checkpoints" / "hw3-checkpoint.ipynb")
    subs = submissions.discover(tmp_path / "plain", "hw3", "hw3.ipynb", tmp_path / "w")
    assert [s.student for s in subs] == ["ann", "bob"]
    assert submissions.pick_notebook(subs[0], "hw3.ipynb").name == "hw3.ipynb"

    write_nb(tmp_path / "submitted" / "cy" / "hw3" / "hw3.ipynb")
    (tmp_path / "submitted" / "cy" / "hw3" / "timestamp.txt").write_text("2023-11-20 10:00:00")
    [sub] = submissions.discover(tmp_path / "submitted", "hw3", "hw3.ipynb", tmp_path / "w")
    assert (sub.student, sub.timestamp) == ("cy", "2023-11-20 10:00:00")


def test_gradescope_export_zip(tmp_path):
    archive = tmp_path / "export.zip"
    text = nbformat.writes(student_nb())
    meta = (
        "submission_11:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '1001'\n    :email: ann@x.edu\n"
        "  :created_at: 2023-11-20 10:00:00.000000000 -08:00\n"
        "submission_12:\n  :submitters:\n  - :name: Bo\n    :email: bo@x.edu\n  - :name: Cy\n    :sid: '1003'\n"
    )
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("assignment_7_export/submission_metadata.yml", meta)
        zf.writestr("assignment_7_export/submission_11/hw3.ipynb", text)
        zf.writestr("assignment_7_export/submission_12/hw3.ipynb", text)
    subs = submissions.discover(archive, "hw3", "hw3.ipynb", tmp_path / "w")
    assert [(s.student, s.students) for s in subs] == [("1001", ["1001"]), ("bo", ["bo", "1003"])]
    assert subs[0].timestamp.startswith("2023-11-20")
    assert submissions.pick_notebook(subs[1], "hw3.ipynb").exists()


def test_zip_members_cannot_escape(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
    with pytest.raises(submissions.SubmissionsError, match="points outside the archive"):
        submissions.discover(archive, "hw3", "hw3.ipynb", tmp_path / "w")
    assert not (tmp_path / "escaped.txt").exists()


def test_missing_source_names_the_layouts(tmp_path):
    with pytest.raises(submissions.SubmissionsError, match="Gradescope export zip"):
        submissions.discover(tmp_path / "nope", "hw3", "hw3.ipynb", tmp_path / "w")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        ("{}".encode("utf-16"), "not UTF-8"),
        (b'{"cells": [', "not valid JSON (line 1"),
        (b'{"hello": 1}', "not a Jupyter notebook"),
    ],
)
def test_bad_files_are_rejected_with_the_fix(tmp_path, data, message):
    path = tmp_path / "hw3.ipynb"
    path.write_bytes(data)
    rejection = submissions.read_notebook(path)
    assert isinstance(rejection, submissions.Rejection) and message in rejection.message


def test_notebook_count(tmp_path):
    sub = submissions.Submission("s", tmp_path / "s")
    assert "nothing was submitted" in submissions.pick_notebook(sub, "hw3.ipynb").message
    write_nb(tmp_path / "s" / "a.ipynb")
    write_nb(tmp_path / "s" / "b.ipynb")
    assert "2 notebooks were submitted (a.ipynb, b.ipynb)" in submissions.pick_notebook(sub, "hw3.ipynb").message


# -- sandbox policy ----------------------------------------------------------------------------------------------


def test_hide_all_but_keeps_only_the_way_to_kept_paths(tmp_path):
    for p in ["a/b/keep/x", "a/b/other", "a/c", "d", "e/f"]:
        (tmp_path / p).mkdir(parents=True)
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    hidden = sandbox.hide_all_but(tmp_path, [tmp_path / "a/b/keep", tmp_path / "e"])
    assert sorted(hidden) == sorted(str(tmp_path / p) for p in ["a/b/other", "a/c", "d", "file.txt"])


def test_limits_follow_the_homework_budget():
    limits = Limits.for_homework(120, memory_mb=1024)
    assert (limits.cell_seconds, limits.notebook_seconds, limits.memory_mb) == (120, 240, 1024)
    assert Limits.for_homework(10).cell_seconds == 60
    policy = sandbox.Policy(asdict(limits), "/w", uid=61000, hide=["/x"])
    assert sandbox.Policy.from_json(policy.to_json()) == policy


def test_parallel_kernels_share_the_cores(monkeypatch):
    base = Limits.for_homework(60)
    assert base.share_cores(2, cores=2).threads == 1
    assert base.share_cores(1, cores=16).threads == 16
    assert base.share_cores(4, cores=2).threads == 1  # never 0, which would mean "library default"
    assert Limits(threads=3).share_cores(2, cores=2).threads == 3  # an explicit --threads wins
    monkeypatch.setenv("OMP_NUM_THREADS", "8")  # the instructor's own setting is overridden by the share
    env = sandbox._kernel_env(sandbox.Policy(asdict(base.share_cores(2, cores=2)), "/w"))
    assert [env[name] for name in sandbox.THREAD_VARIABLES] == ["1", "1", "1"]
    assert sandbox._kernel_env(sandbox.Policy(asdict(base), "/w"))["OMP_NUM_THREADS"] == "8"  # 0: passed through


# -- reports -------------------------------------------------------------------------------------------------------


@pytest.fixture
def hw3():
    from autograder.course.spec import ASSIGNMENTS

    path = ASSIGNMENTS / "hw3.toml"
    if not path.exists():
        pytest.skip("hw3 is not in assignments/")
    return load(path)


def graded_result(spec):
    tests = [
        CellScore("q1_a_tests", "q1", 3.0, 3.0, True, None, ""),
        CellScore("q1_b_tests", "q1", 0.0, 9.0, True, "hidden", "AssertionError: wrong for random inputs"),
        CellScore("q2_tests", "q2", 0.0, 5.0, False, "visible", "NameError: name 'f' is not defined"),
    ]
    r = Result(
        spec.id,
        "ann",
        ["ann"],
        "graded",
        tests=tests,
        score=3.0,
        max_score=spec.autograded_total,
        problems={p.id: [0.0, p.autograded] for p in spec.problems},
        flags=["q1_a_tests: x was replaced"],
    )
    return r


def test_results_json_follows_the_documented_format(hw3):
    data = gradescope.results_json(hw3, graded_result(hw3), 12.3)
    gradescope.validate(data)
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["q1_b_tests"]["visibility"] == "after_published"
    assert by_name["q1_b_tests: visible checks"] == {
        **by_name["q1_b_tests: visible checks"],
        "status": "passed",
        "visibility": "visible",
        "max_score": 0.0,
    }
    assert by_name["q2_tests"]["visibility"] == "visible" and by_name["q2_tests"]["status"] == "failed"
    assert data["score"] == 3.0 and "x was replaced" in data["output"]
    rejected = Result(hw3.id, "bo", ["bo"], "rejected", message="hw3.ipynb is empty: save it")
    data = gradescope.results_json(hw3, rejected, 1.0)
    gradescope.validate(data)
    assert data["tests"][0]["visibility"] == "visible" and "is empty" in data["tests"][0]["output"]


def test_results_schema_rejects_what_gradescope_would_not_read():
    import jsonschema

    for bad in (
        {"tests": [{"name": "x", "max_points": 1}]},
        {"score": "10"},
        {"score": 1, "visibility": "later"},
        {"output": "no score anywhere"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            gradescope.validate(bad)


def test_csv_has_one_row_per_student_and_problem_columns(hw3, tmp_path):
    (tmp_path / "results").mkdir()
    r = graded_result(hw3)
    r.students = ["ann", "cy"]  # a Gradescope group
    r.problems["q1"] = [3.0, 14.0]
    (tmp_path / "results" / "ann.json").write_text(json.dumps(r.to_dict()))
    rows = (write_csv(hw3, tmp_path)).read_text().splitlines()
    assert rows[0].split(",")[:7] == ["student", "status", "autograded", "autograded_max", "q1", "q2", "q3"]
    assert [row.split(",")[:5] for row in rows[1:]] == [
        ["ann", "graded", "3", "32", "3"],
        ["cy", "graded", "3", "32", "3"],
    ]


def test_bundle_for_every_homework(homework, tmp_path):
    path = gradescope.build(homework, tmp_path / f"{homework.id}.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        info = json.loads(zf.read("gradescope.json"))
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "autograder/gradescope/bundle.py",
        "autograder/gradescope/__main__.py",
    } <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert f"source/{homework.id}/{homework.notebook}" in names
    assert not [n for n in names if n.startswith("source/") and not n.startswith(f"source/{homework.id}/")]
    assert info["homework"] == homework.id and not [n for n in names if "__pycache__" in n]
