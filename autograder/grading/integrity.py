"""What the grader trusts from a submission, and what the student may see afterwards.

`rebuild` makes the notebook nbgrader grades from the instructor's release notebook: every locked and test
cell, all cell metadata (points, ids, checksums) and the kernel come from the instructor; from the submission
only the answer cells' text (matched by grade_id) and cells the student added (as plain, ungraded code) are
taken. Whatever the submission did to the provided cells (edited, deleted, re-typed, duplicated, re-ordered,
metadata changed) cannot change what is graded; each such change is reported as a note.

`identify` tells a notebook of another homework, or one not made from a release, from a real submission.

"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat

from autograder.course import cells as nbu
from autograder.course import identify as course_identify

MIN_SECRET_LINE = 6  # as in check.py: shorter lines ("pass", "x = 0") are too common to call a leak
REDACTED = "[hidden test text removed]"


@dataclass
class Rebuilt:
    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    answered: int = 0  # answer cells whose text differs from the release stub


def _answer_ids(nb) -> list[str]:
    return [nbu.grade_id(c) for c in nb.cells if nbu.grade_id(c) and nbu.meta(c).get("solution")]


def _all_ids(nb) -> set[str]:
    return {nbu.grade_id(c) for c in nb.cells if nbu.grade_id(c)}


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def identify(student_nb, release_nb, others: dict[str, object]) -> str | None:
    """None if `student_nb` is this homework's notebook; else why it is not (autograder/course/identify.py)."""
    return course_identify.mismatch(student_nb, release_nb, others)


def rebuild(release_nb, student_nb) -> Rebuilt:
    """The release notebook with the student's answers (see the module docstring)."""
    notes: list[str] = []
    release_ids = [nbu.grade_id(c) for c in release_nb.cells]
    by_id = {gid: c for gid, c in zip(release_ids, release_nb.cells, strict=True) if gid}
    answers: dict[str, nbformat.NotebookNode] = {}
    counts: dict[str, int] = {}
    extras: dict[str | None, list] = {}  # anchor grade_id (None: top) -> added code cells
    anchor = None
    seen_order = []
    for cell in student_nb.cells:
        gid = nbu.grade_id(cell)
        if gid in by_id:
            counts[gid] = counts.get(gid, 0) + 1
            if counts[gid] == 1:
                seen_order.append(gid)
            anchor = gid
            ref = by_id[gid]
            if nbu.meta(ref).get("solution"):
                answers.setdefault(gid, cell)
            else:
                _compare_locked(ref, cell, notes)
            if counts[gid] == 1:
                _compare_metadata(ref, cell, notes)
        elif cell.cell_type == "code" and cell.source.strip():
            extras.setdefault(anchor, []).append(cell)
    for gid, n in counts.items():
        if n > 1:
            notes.append(f"cell {gid} appears {n} times: the first copy was graded")
    expected = [g for g in release_ids if g]
    if [g for g in expected if g in counts] != seen_order:
        notes.append("cells were re-ordered: they were run in the homework's order")
    cells, answered = [], 0
    for gid, ref in [(None, None), *zip(release_ids, release_nb.cells, strict=True)]:
        if ref is not None:
            cell = copy.deepcopy(ref)
            if gid in answers:
                given = answers[gid]
                cell.source = given.source
                answered += given.source.strip() != ref.source.strip()
                if given.cell_type != ref.cell_type:
                    notes.append(
                        f"answer cell {gid} was changed to {given.cell_type}: its text was graded as {ref.cell_type}"
                    )
                if ref.cell_type == "markdown" and given.get("attachments"):
                    cell["attachments"] = copy.deepcopy(given["attachments"])
            elif nbu.meta(ref).get("solution"):
                notes.append(f"answer cell {gid} is missing: graded as unanswered")
            elif gid and gid not in counts:
                kind = "test" if nbu.is_autograded_test(ref) else "provided"
                notes.append(f"{kind} cell {gid} was deleted: the instructor's cell was used")
            cells.append(cell)
        for extra in extras.get(gid if ref is not None else None, []):
            cells.append(nbformat.v4.new_code_cell(extra.source))
    added = sum(len(v) for v in extras.values())
    if added:
        notes.append(f"{added} code cell(s) added by the student were run as ungraded code")
    nb = copy.deepcopy(release_nb)
    nb.cells = cells
    kernel = student_nb.metadata.get("kernelspec", {}).get("name")
    expected_kernel = release_nb.metadata.get("kernelspec", {}).get("name")
    if kernel and kernel != expected_kernel:
        notes.append(f"kernel {kernel!r} was replaced by the homework's {expected_kernel!r}")
    return Rebuilt(nb, notes, answered)


def _compare_locked(ref, cell, notes: list[str]) -> None:
    gid = nbu.grade_id(ref)
    kind = "test" if nbu.is_autograded_test(ref) else "provided"
    if cell.cell_type != ref.cell_type:
        notes.append(f"{kind} cell {gid} was changed to {cell.cell_type}: the instructor's cell was used")
    elif cell.source.strip() != ref.source.strip():
        notes.append(f"{kind} cell {gid} was edited: the instructor's version was used")


def _compare_metadata(ref, cell, notes: list[str]) -> None:
    mine, theirs = nbu.meta(ref), nbu.meta(cell)
    changed = sorted(k for k in ("points", "grade", "solution", "locked") if theirs.get(k) != mine.get(k))
    if changed:
        gid = nbu.grade_id(ref)
        notes.append(f"cell {gid}: nbgrader metadata changed ({', '.join(changed)}): the instructor's was used")
