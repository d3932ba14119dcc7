"""`python -m autograder check`: prove each homework is gradable before it is released.

For each homework, in a scratch course: the answer key must earn every autograded point, the blank release
must earn none while every cell still runs, no solution or hidden-test text may reach the release, the
committed release must be what nbgrader generates now, and the notebook's points must equal the spec's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from autograder.authoring.release import is_current
from autograder.course import cells as nbu
from autograder.course import secrets
from autograder.course.config import NbgraderError, ScratchCourse
from autograder.course.spec import Spec

KEY, BLANK = "key", "blank"


@dataclass
class CheckResult:
    homework: str
    auto_max: float = 0.0
    key_auto: float = 0.0
    blank_auto: float = 0.0
    manual_max: float = 0.0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def point_mismatches(spec: Spec, nb) -> list[str]:
    """Compare each problem's autograded and manual points in the notebook with the spec."""
    where = str(spec.source_notebook)
    failures = []
    auto = {p.id: 0.0 for p in spec.problems}
    manual = {p.id: 0.0 for p in spec.problems}
    statements = {p.id: 0 for p in spec.problems}
    for cell in nb.cells:
        gid = nbu.grade_id(cell)
        if not gid:
            continue
        problem = spec.problem_of(gid)
        if nbu.is_statement(cell):
            if problem is None or gid != problem.id + "_statement":
                failures.append(f"{where}: statement cell {gid!r} names no problem of {spec.path.name}")
            else:
                statements[problem.id] += 1
            continue
        if not nbu.meta(cell).get("grade"):
            continue
        if problem is None:
            if nbu.points(cell) > 0:  # 0-point cells such as `student_name` belong to no problem
                failures.append(f"{where}: graded cell {gid!r} belongs to no problem of {spec.path.name}")
        elif nbu.is_autograded_test(cell):
            auto[problem.id] += nbu.points(cell)
        elif nbu.is_manual(cell):
            manual[problem.id] += nbu.points(cell)
    for p in spec.problems:
        if statements[p.id] != 1:
            failures.append(
                f"{where}: problem {p.id} needs exactly one `{p.id}_statement` cell, found {statements[p.id]}"
            )
        if abs(auto[p.id] - p.autograded) > 1e-9 or abs(manual[p.id] - p.manual) > 1e-9:
            failures.append(
                f"{where}: problem {p.id} has {auto[p.id]:g} autograded + {manual[p.id]:g} manual points in the "
                f"notebook, but {spec.path.name} says {p.autograded:g} + {p.manual:g}"
            )
    return failures


def leaks(source_nb, release_nb) -> list[str]:
    """Lines of secret text (solutions, hidden tests) that appear in the release notebook."""
    return secrets.leaks(source_nb, secrets.notebook_text(release_nb))


def auto_scores(db_url: str, spec: Spec, student: str, test_ids: set[str]) -> dict[str, float]:
    """Autograded score of each test cell of `student`'s submission, read from an nbgrader gradebook."""
    from nbgrader.api import Gradebook  # heavy import, only when grading

    with Gradebook(db_url) as gb:
        nb = gb.find_submission_notebook(spec.notebook.removesuffix(".ipynb"), spec.id, student)
        return {g.name: float(g.auto_score or 0.0) for g in nb.grades if g.name in test_ids}


def _unexecuted_cells(path) -> list[str]:
    nb = nbu.read(path)
    return [
        nbu.grade_id(c) or f"cell {i}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None
    ]


def _errored_cells(path) -> list[str]:
    nb = nbu.read(path)
    out = []
    for i, c in enumerate(nb.cells):
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            if o.get("output_type") == "error":
                out.append(f"{nbu.grade_id(c) or f'cell {i}'} ({o.get('ename')}: {o.get('evalue', '')[:120]})")
    return out


def check_homework(spec: Spec, log=print) -> CheckResult:
    """Run every check for one homework; failures are collected, never raised."""
    start = time.monotonic()
    result = CheckResult(spec.id)
    source_nb = nbu.read(spec.source_notebook)
    result.auto_max = sum(nbu.points(c) for c in source_nb.cells if nbu.is_autograded_test(c))
    result.manual_max = sum(nbu.points(c) for c in source_nb.cells if nbu.is_manual(c))
    result.failures += point_mismatches(spec, source_nb)
    if not spec.release_notebook.exists():
        result.failures.append(f"{spec.release_notebook} is missing: run `python -m autograder release {spec.id}`")
        result.seconds = time.monotonic() - start
        return result
    result.failures += [
        f"{spec.release_notebook}: leaks source text {line!r}"
        for line in leaks(source_nb, nbu.read(spec.release_notebook))
    ]
    with ScratchCourse(spec) as course:
        try:
            log(f"[{spec.id}] generating the student version in a scratch course ...")
            course.generate()
            stale = is_current(spec, course)
            if stale:
                result.failures.append(
                    f"release/{spec.id} is out of date with source/{spec.id} ({', '.join(stale)}): "
                    f"run `python -m autograder release {spec.id}`"
                )
            course.submit(KEY, spec.source_notebook)
            course.submit(BLANK, spec.release_notebook)
            log(f"[{spec.id}] autograding the answer key and the blank release ...")
            course.autograde(timeout=4 * spec.quick_seconds + 120)
        except (NbgraderError, OSError) as exc:
            result.failures.append(str(exc))
        except TimeoutError as exc:  # subprocess.TimeoutExpired is not a TimeoutError subclass
            result.failures.append(f"nbgrader autograde of {spec.id} timed out: {exc}")
        else:
            tests = {nbu.grade_id(c) for c in source_nb.cells if nbu.is_autograded_test(c)}
            key = auto_scores(course.db_url, spec, KEY, tests)
            result.key_auto = sum(key.values())
            result.blank_auto = sum(auto_scores(course.db_url, spec, BLANK, tests).values())
            if abs(result.key_auto - result.auto_max) > 1e-9:
                lost = [t for t in sorted(tests) if key.get(t, 0.0) < 1e-12]
                errors = _errored_cells(course.autograded_notebook(KEY))
                result.failures.append(
                    f"answer key earns {result.key_auto:g}/{result.auto_max:g} autograded points; cells without "
                    f"points: {', '.join(lost) or 'none'}; errors: {'; '.join(errors) or 'none'}"
                )
            if result.blank_auto != 0:
                result.failures.append(f"blank release earns {result.blank_auto:g} autograded points (must be 0)")
            skipped = _unexecuted_cells(course.autograded_notebook(BLANK))
            if skipped:
                result.failures.append(f"grading the blank release left cells unexecuted: {', '.join(skipped)}")
    result.seconds = time.monotonic() - start
    return result


def table(results: list[CheckResult]) -> str:
    """The summary table printed by `check`."""
    header = f"{'homework':<9} {'auto key':>9} {'auto blank':>10} {'auto max':>9} {'manual':>7} {'seconds':>8}  result"
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.homework:<9} {r.key_auto:>9g} {r.blank_auto:>10g} {r.auto_max:>9g} {r.manual_max:>7g} "
            f"{r.seconds:>8.1f}  {'ok' if r.ok else 'FAILED'}"
        )
    return "\n".join(rows)
