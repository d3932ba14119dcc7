"""One result, every rendering: Gradescope's results.json, the CSV, the text summary, the feedback page (its
safety: nothing a submission wrote becomes markup). No kernels; the page in a real browser: test_feedback_browser.py."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from builders import source_with_hidden, student_nb

from autograder.course.paths import ASSIGNMENTS
from autograder.course.spec import load
from autograder.errors import GradingError
from autograder.gradescope.container import validate
from autograder.grading import feedback
from autograder.grading.batch import write_csv
from autograder.grading.results import CellScore, Result, WrittenAnswer, read_results

HW3 = load(ASSIGNMENTS / "hw3.toml")


def graded(**overrides) -> Result:
    tests = [
        CellScore("q1_a_tests", "q1", 3.0, 3.0, True),
        CellScore("q1_b_tests", "q1", 0.0, 9.0, True, "hidden", "AssertionError: wrong for random inputs"),
        CellScore("q2_tests", "q2", 0.0, 5.0, False, "visible", "NameError: name 'f' is not defined"),
    ]
    written = [WrittenAnswer("q1_process", "q1", 6.0, True), WrittenAnswer("q2_written", "q2", 6.0, False)]
    data = dict(tests=tests, written=written, max_score=HW3.autograded_total, flags=["isolation: reduced"])
    return Result(HW3.id, "ann", ["ann"], "graded", **{**data, **overrides})


def test_results_json_follows_the_documented_format():
    data = graded().results_json(HW3, 12.3)
    validate(data)
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["q1_b_tests"]["visibility"] == "after_published"
    assert by_name["q1_b_tests: visible checks"]["status"] == "passed"
    assert by_name["q1_b_tests: visible checks"]["max_score"] == 0.0
    assert by_name["q2_tests"]["visibility"] == "visible" and by_name["q2_tests"]["status"] == "failed"
    assert data["score"] == 3.0 and sum(t["score"] for t in data["tests"]) == 3.0
    assert "Written answers: pending" in data["output"]
    rejected = Result(HW3.id, "bo", ["bo"], "rejected", message="hw3.ipynb is empty: save it", max_score=32)
    data = rejected.results_json(HW3, 1.0)
    validate(data)
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
            validate(bad)


def test_written_answers_are_pending_never_zero_until_graded():
    result = graded()
    assert result.written_points() == (None, 12.0)
    assert "Written answers: pending" in result.text(HW3) and "unanswered: q2_written" in result.text(HW3)
    result.written[0].score = 5.0
    assert result.written_points() == (5.0, 12.0)


def test_records_read_back_and_a_damaged_one_is_named(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "ann.json").write_text(json.dumps(graded().to_dict()))
    other = graded()
    other.homework, other.student, other.students = "hw1", "bo", ["bo"]
    (tmp_path / "results" / "bo.json").write_text(json.dumps(other.to_dict()))
    [back] = read_results(tmp_path, HW3.id)
    assert back == graded()
    (tmp_path / "results" / "cy.json").write_text('{"homework": "hw3", "stud')  # a half-written file
    with pytest.raises(GradingError, match=r"cy\.json is not a grading record.*--force"):
        read_results(tmp_path, HW3.id)
    with pytest.raises(GradingError, match="cy.json"):
        write_csv(HW3, tmp_path)


def test_csv_has_one_row_per_student_and_problem_columns(tmp_path):
    (tmp_path / "results").mkdir()
    result = graded()
    result.students = ["ann", "cy"]  # a Gradescope group
    (tmp_path / "results" / "ann.json").write_text(json.dumps(result.to_dict()))
    rows = write_csv(HW3, tmp_path).read_text().splitlines()
    assert rows[0].split(",")[:9] == [
        "student",
        "status",
        "autograded",
        "autograded_max",
        "q1",
        "q2",
        "q3",
        "written",
        "written_max",
    ]
    total = f"{HW3.autograded_total:g}"
    assert [row.split(",")[:9] for row in rows[1:]] == [
        ["ann", "graded", "3", total, "3", "0", "0", "pending", "12"],
        ["cy", "graded", "3", total, "3", "0", "0", "pending", "12"],
    ]


def test_result_survives_its_json_record():
    result = graded()
    assert Result.from_dict(json.loads(json.dumps(result.to_dict()))) == result


# -- the feedback page -------------------------------------------------------------------------------------


ATTACKS = [
    "<script>document.title='pwned'</script>",
    "<style>.summary{display:none}</style><p>Autograded: 32 / 32 points</p>",
    '<img src=x onerror="document.title=1">',
    "</pre><iframe src='https://example.com'></iframe>",
]


def executed_with(text: str):
    nb = student_nb()
    nb.cells[4].source = text  # the written answer
    nb.cells[2].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=text),
        nbformat.v4.new_output("display_data", data={"text/html": text, "text/plain": "plain " + text}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg onload='alert(1)'/>"}),
        nbformat.v4.new_output("display_data", data={"image/png": "not base64!"}),
    ]
    return nb


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_a_submission_writes_becomes_markup(attack):
    page = feedback.render(graded(), HW3, executed_with(attack))
    assert attack not in page
    tags = set(re.findall(r"<\s*([a-zA-Z]+)", page))
    assert not tags & {"script", "iframe", "svg", "object", "embed", "link", "form"}
    assert page.count("<style") == 1 and "onerror" not in page.replace("onerror=&quot;", "")
    assert "default-src 'none'" in page and "script-src" not in page  # no script may run at all


def test_hidden_tests_never_reach_the_page():
    nb = source_with_hidden()
    nb.cells[3].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="assert square(7) == 49, 'secret case'")
    ]
    page = feedback.render(graded(), HW3, nb, scrub=feedback.hidden_lines(source_with_hidden()))
    assert "square(7)" not in page and feedback.HIDDEN_NOTE in page
    assert feedback.hidden_lines(source_with_hidden()) == {"assert square(7) == 49, 'secret case'"}


def test_a_hidden_marker_in_a_students_comment_changes_nothing():
    nb = student_nb()
    nb.cells[2].source = "def square(x):\n    ### BEGIN HIDDEN TESTS\n    return x * x"
    page = feedback.render(graded(), HW3, nb)
    assert "return x * x" in page
