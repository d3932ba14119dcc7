"""Finding and reading submissions: layouts, bad files, limits, links, and ids that never collide. No kernels."""

from __future__ import annotations

import os
import zipfile

import nbformat
import pytest
from builders import student_nb, write_nb

from autograder.course.policy import Limits
from autograder.grading import submissions


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


def test_oversized_upload_and_too_many_cells_are_rejected(tmp_path):
    path = write_nb(tmp_path / "hw3.ipynb")
    rejection = submissions.read_notebook(path, Limits(upload_mb=0))
    assert isinstance(rejection, submissions.Rejection) and "larger than 0 MB" in rejection.message
    nb = student_nb()
    nb.cells = [nbformat.from_dict({**cell, "id": f"copy-{i}"}) for i, cell in enumerate(nb.cells * 300)]
    rejection = submissions.read_notebook(write_nb(tmp_path / "big.ipynb", nb), Limits(cells=1000))
    assert isinstance(rejection, submissions.Rejection) and "1500 cells" in rejection.message


def test_malformed_metadata_is_dropped_not_fatal(tmp_path):
    nb = student_nb()
    nb.metadata["kernelspec"] = "python3"
    nb.cells[2].metadata["nbgrader"] = ["p1_square"]
    path = tmp_path / "hw3.ipynb"
    path.write_text(nbformat.writes(nb, version=4).replace('"cells"', '"cells"'), encoding="utf-8")
    read = submissions.read_notebook(path)
    assert not isinstance(read, submissions.Rejection)
    assert "kernelspec" not in read.metadata and "nbgrader" not in read.cells[2].metadata


def test_symbolic_links_are_never_followed(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades of everyone")
    folder = tmp_path / "subs" / "mallory"
    folder.mkdir(parents=True)
    (folder / "hw3.ipynb").symlink_to(secret)
    [sub] = submissions.discover(tmp_path / "subs", "hw3", "hw3.ipynb", tmp_path / "w")
    picked = submissions.pick_notebook(sub, "hw3.ipynb")
    assert isinstance(picked, submissions.Rejection) and "symbolic link" in picked.message
    direct = submissions.read_notebook(folder / "hw3.ipynb")
    assert isinstance(direct, submissions.Rejection) and "symbolic link" in direct.message
    (tmp_path / "subs" / "eve").symlink_to(tmp_path / "subs" / "mallory")  # a linked student folder: skipped
    assert [s.student for s in submissions.discover(tmp_path / "subs", "hw3", "hw3.ipynb", tmp_path / "w")] == [
        "mallory"
    ]


def test_student_ids_never_collide(tmp_path):
    for name in ("alice?", "alice_", "alice-2", "alice"):
        write_nb(tmp_path / "subs" / name / "hw3.ipynb")
    subs = submissions.discover(tmp_path / "subs", "hw3", "hw3.ipynb", tmp_path / "w")
    submissions.unique_students(subs)
    ids = [s.student for s in subs]
    assert len(set(ids)) == 4 and {"alice", "alice_", "alice-2"} <= set(ids)
    assert [i for i in ids if i not in ("alice", "alice_", "alice-2")][0].startswith("alice-")


def test_same_name_in_an_export_stays_two_students(tmp_path):
    text = nbformat.writes(student_nb())
    meta = "submission_1:\n  :submitters:\n  - :name: Bob Smith\nsubmission_2:\n  :submitters:\n  - :name: Bob Smith\n"
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("e/submission_metadata.yml", meta)
        zf.writestr("e/submission_1/hw3.ipynb", text)
        zf.writestr("e/submission_2/hw3.ipynb", text)
    subs = submissions.discover(archive, "hw3", "hw3.ipynb", tmp_path / "w")
    submissions.unique_students(subs)
    assert len({s.student for s in subs}) == 2


def test_digest_changes_with_the_upload(tmp_path):
    path = write_nb(tmp_path / "s" / "hw3.ipynb")
    sub = submissions.Submission("s", tmp_path / "s")
    before = submissions.digest(sub)
    os.utime(path)
    assert submissions.digest(sub) == before
    write_nb(path, nbformat.v4.new_notebook())
    assert submissions.digest(sub) != before
