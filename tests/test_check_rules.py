"""The static rules of `check` (points, leaks, specs) on small synthetic notebooks."""

from __future__ import annotations

import nbformat
import pytest

from autograder.authoring.check import leaks, point_mismatches
from autograder.course import cells as nbu
from autograder.course.spec import load
from autograder.errors import SpecError


def cell(kind, source, **nbgrader):
    c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


LOCKED = dict(locked=True, solution=False, grade=False)


def source_nb(test_points=2, manual_points=1):
    return notebook(
        cell("md", "## Problem 1: squares (3 points)", grade_id="p1_statement", **LOCKED),
        cell(
            "md",
            "Because the secret derivative is 2x.",
            grade_id="p1_answer",
            solution=True,
            grade=True,
            points=manual_points,
        ),
        cell(
            "code",
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x  # the secret line\n    ### END SOLUTION",
            grade_id="p1_square",
            solution=True,
            grade=False,
        ),
        cell(
            "code",
            "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(3) == 9  # hidden check\n"
            "### END HIDDEN TESTS",
            grade_id="p1_square_tests",
            locked=True,
            solution=False,
            grade=True,
            points=test_points,
        ),
    )


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "hwt.toml"
    path.write_text(
        'id = "hwt"\ntitle = "t"\nhandout = "h"\norigin = "o"\nnotebook = "hwt.ipynb"\n'
        '[[problems]]\nid = "p1"\ntitle = "squares"\npoints = 3\nautograded = 2\nmanual = 1\n'
    )
    return load(path)


def test_points_match(spec):
    assert point_mismatches(spec, source_nb()) == []


def test_points_mismatch_is_reported(spec):
    failures = point_mismatches(spec, source_nb(test_points=5))
    assert len(failures) == 1 and "problem p1 has 5 autograded" in failures[0]


def test_cell_outside_any_problem_is_reported(spec):
    nb = source_nb()
    nb.cells.append(cell("code", "assert True", grade_id="q9_tests", locked=True, grade=True, solution=False, points=1))
    assert any("'q9_tests' belongs to no problem" in f for f in point_mismatches(spec, nb))


def test_missing_statement_is_reported(spec):
    nb = source_nb()
    del nb.cells[0]
    assert any("exactly one `p1_statement`" in f for f in point_mismatches(spec, nb))


def released(nb):
    out = nbformat.from_dict(nbformat.from_dict(dict(nb)))
    out.cells[1].source = "YOUR ANSWER HERE"
    out.cells[2].source = "def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    out.cells[3].source = "assert square(2) == 4\n"
    return out


def test_clean_release_has_no_leaks():
    assert leaks(source_nb(), released(source_nb())) == []


@pytest.mark.parametrize(
    "index, text",
    [
        (2, "    return x * x  # the secret line"),
        (3, "assert square(3) == 9  # hidden check"),
        (1, "Because the secret derivative is 2x."),
    ],
)
def test_each_kind_of_leak_is_found(index, text):
    rel = released(source_nb())
    rel.cells[index].source += "\n" + text
    assert leaks(source_nb(), rel) == [text.strip()]


def test_a_lone_word_of_a_written_answer_is_not_a_leak():
    # A wrapped answer can end in a line such as "derivative." that the release's own prose also contains.
    src = source_nb()
    src.cells[1].source += "\nderivative."
    rel = released(source_nb())
    rel.cells[0].source += "\nState the derivative."
    assert leaks(src, rel) == []
    rel.cells[0].source += " Because the secret derivative is 2x."
    assert leaks(src, rel) == ["Because the secret derivative is 2x."]


def test_sections_follow_statement_cells():
    nb = source_nb()
    nb.cells.insert(0, cell("md", "# Header", grade_id="header", **LOCKED))
    [section] = nbu.sections(nb)
    assert section.problem_id == "p1" and section.cells == (1, 2, 3, 4)
    assert section.heading == "Problem 1: squares (3 points)"


def test_spec_rejects_inconsistent_points(tmp_path):
    path = tmp_path / "hwt.toml"
    path.write_text(
        'id = "hwt"\ntitle = "t"\nhandout = "h"\norigin = "o"\nnotebook = "hwt.ipynb"\n'
        '[[problems]]\nid = "p1"\ntitle = "x"\npoints = 3\nautograded = 1\nmanual = 1\n'
    )
    with pytest.raises(SpecError, match="must equal points"):
        load(path)


def test_spec_longest_prefix_owns_a_cell(tmp_path):
    path = tmp_path / "hwt.toml"
    path.write_text(
        'id = "hwt"\ntitle = "t"\nhandout = "h"\norigin = "o"\nnotebook = "hwt.ipynb"\n'
        '[[problems]]\nid = "p2"\ntitle = "x"\npoints = 1\nautograded = 1\nmanual = 0\n'
        '[[problems]]\nid = "p2_1"\ntitle = "y"\npoints = 1\nautograded = 1\nmanual = 0\n'
    )
    spec = load(path)
    assert spec.problem_of("p2_1_tests").id == "p2_1"
    assert spec.problem_of("p2_other").id == "p2"
    assert spec.problem_of("p21_x") is None
