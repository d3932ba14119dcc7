"""Every homework, on real nbgrader, real kernels and real xelatex."""

from __future__ import annotations

import subprocess

import pytest

from autograder.authoring.check import leaks, point_mismatches
from autograder.authoring.release import is_current
from autograder.course import cells as nbu
from autograder.course.config import ScratchCourse

pytestmark = pytest.mark.slow


def test_release_is_what_nbgrader_generates(homework):
    with ScratchCourse(homework) as course:
        course.generate()
        assert is_current(homework, course.root) == [], f"run `python -m autograder release {homework.id}`"


def test_points_match_spec(homework):
    assert point_mismatches(homework, nbu.read(homework.source_notebook)) == []


def test_spec_total_matches_notebook(homework):
    nb = nbu.read(homework.source_notebook)
    graded = sum(nbu.points(c) for c in nb.cells if nbu.meta(c).get("grade"))
    assert graded == pytest.approx(homework.autograded_total + homework.manual_total)


def test_release_leaks_nothing(homework):
    assert leaks(nbu.read(homework.source_notebook), nbu.read(homework.release_notebook)) == []


def test_key_full_marks_blank_zero(homework, check_results):
    result = check_results(homework)
    assert result.failures == []
    assert result.auto_max > 0
    assert result.key_auto == pytest.approx(result.auto_max)
    assert result.blank_auto == 0


def test_solution_pdf_has_every_problem(homework, solution_keys):
    key = solution_keys(homework)
    info = subprocess.run(["pdfinfo", str(key.pdf)], capture_output=True, text=True, check=True).stdout
    assert int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))) >= 1
    text = " ".join(subprocess.run(["pdftotext", str(key.pdf), "-"], capture_output=True, text=True).stdout.split())
    nb = nbu.read(homework.source_notebook)
    for section in nbu.sections(nb):
        heading = " ".join(section.heading.replace("$", "").split())
        assert heading[:30] in text, f"{homework.id}: heading {heading!r} missing from the solution PDF"


@pytest.mark.homeworks(lambda spec: spec.id == "hw4")
def test_hw4_key_reports_every_model(homework, solution_keys):
    """The hw4 key's summary (printed by `solutions hw4`) names all six models; on the short path the extra-credit
    and main models are trained on subsets, so every one has an error and a training time."""
    summary = "\n".join(solution_keys(homework).summary)
    line = next(row for row in summary.splitlines() if row.startswith("reported_test_errors ="))
    for model in ("softmax_regression", "mlp_sigmoid", "mlp_relu", "wide_mlp", "deep_mlp", "cnn"):
        assert f"'{model}': " in line and f"'{model}': None" not in line, summary
