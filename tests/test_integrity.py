"""Rebuilding a submission from the release, and recognising the homework it belongs to. No kernels."""

from __future__ import annotations

import copy

import nbformat
from builders import cell, release_nb, student_nb

from autograder.course import cells as nbu
from autograder.grading import integrity


def sources(nb):
    return [(nbu.grade_id(c), c.cell_type, c.source) for c in nb.cells]


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


def test_malformed_cell_metadata_is_no_metadata():
    nb = student_nb()
    nb.cells[0].metadata["nbgrader"] = ["not", "a", "dict"]
    nb.cells[1].metadata = "not a dict either"
    assert nbu.grade_id(nb.cells[0]) is None and nbu.meta(nb.cells[1]) == {}
    rebuilt = integrity.rebuild(release_nb(), nb)  # the unrecognised code cell becomes the student's own cell
    ids = [nbu.grade_id(c) for c in rebuilt.nb.cells]
    assert [g for g in ids if g] == [nbu.grade_id(c) for c in release_nb().cells]
    assert ids[0] is None and "1 code cell(s) added" in " ".join(rebuilt.notes)
