"""`python -m autograder release`: regenerate release/ from source/ with nbgrader."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from autograder.course.config import ScratchCourse
from autograder.course.paths import RELEASE
from autograder.course.spec import Spec


def generate(spec: Spec) -> list[str]:
    """Regenerate `release/<id>/` from `source/<id>/`; return the files that changed."""
    with ScratchCourse(spec) as course:
        course.generate()
        fresh = course.root / "release" / spec.id
        target = RELEASE / spec.id
        changed = _differences(fresh, target)
        if changed:
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(fresh, target)
    return changed


def is_current(spec: Spec, course_root: Path) -> list[str]:
    """Files of release/<id> that differ from what the course at `course_root` generated (empty when current)."""
    return _differences(course_root / "release" / spec.id, RELEASE / spec.id)


def _differences(fresh, committed) -> list[str]:
    if not committed.exists():
        return [str(committed)]
    names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    names |= {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
    return sorted(
        str(committed / n)
        for n in names
        if not (fresh / n).exists()
        or not (committed / n).exists()
        or not filecmp.cmp(fresh / n, committed / n, shallow=False)
    )
