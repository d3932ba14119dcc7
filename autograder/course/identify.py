"""Which homework a notebook is: one rule for `preflight`, `pdf` and the grader.

Students rename their files, so the cells decide: a notebook is the homework whose release notebook shares
the most cell ids (`grade_id`s) with it, measured as |common| / |either| (ids such as `header` or `setup` are
in every homework, so the closest match decides, not any match).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from autograder.course import cells as nbu
from autograder.course.spec import Spec, all_specs
from autograder.errors import UnknownHomework

MIN_SIMILARITY = 0.5  # below this a notebook is recognised by its file name only


def cell_ids(nb) -> set[str]:
    return {gid for gid in (nbu.grade_id(c) for c in nb.cells) if gid}


def similarity(nb, reference) -> float:
    """Shared cell ids over all cell ids of the two notebooks (0 when neither has any)."""
    mine, theirs = cell_ids(nb), cell_ids(reference)
    return len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0


def closest(nb, references: Mapping[str, object]) -> tuple[str | None, float]:
    """The key of the reference notebook most similar to `nb`, and its similarity (None, 0.0 when none)."""
    scored = [(key, similarity(nb, ref)) for key, ref in references.items()]
    return max(scored, key=lambda item: item[1], default=(None, 0.0))


def reference_notebooks(specs: list[Spec]) -> dict[str, object]:
    """Each homework's release notebook (its source where no release exists yet), by homework id."""
    out = {}
    for spec in specs:
        path = spec.release_notebook if spec.release_notebook.exists() else spec.source_notebook
        if path.exists():
            out[spec.id] = nbu.read(path)
    return out


def homework_of(nb, path: Path | None = None, specs: list[Spec] | None = None) -> Spec:
    """The homework `nb` (read from `path`) belongs to: the closest by cells, else the one whose notebook file
    name it has. Raises UnknownHomework saying how to name it."""
    specs = all_specs() if specs is None else specs
    best, score = closest(nb, reference_notebooks(specs))
    if best is not None and score >= MIN_SIMILARITY:
        return next(s for s in specs if s.id == best)
    by_name = [s for s in specs if path is not None and path.name == s.notebook]
    if len(by_name) == 1:
        return by_name[0]
    known = ", ".join(s.id for s in specs) or "none"
    raise UnknownHomework(
        f"{path or 'the notebook'}: cannot tell which homework this is (its cells match none of {known}); "
        "start from the homework's released notebook, or name the homework with --homework hwN"
    )


def mismatch(student_nb, release_nb, others: Mapping[str, object]) -> str | None:
    """None if `student_nb` is the notebook of the homework released as `release_nb`; else why it is not, for
    the student. `others` are the other homeworks' release notebooks by id."""
    if not cell_ids(student_nb):
        return (
            "the notebook has none of the homework's cell ids (it was not made from the released notebook, "
            "or its cell metadata was removed): fill in the released notebook and upload that"
        )
    mine = similarity(student_nb, release_nb)
    best, score = closest(student_nb, others)
    if best is not None and score > mine:
        return f"this is the notebook of {best}, not of this homework: upload this homework's notebook"
    if mine == 0.0:
        return "the notebook's cells belong to no homework of this course: upload this homework's notebook"
    return None
