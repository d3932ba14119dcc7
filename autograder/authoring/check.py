"""`python -m autograder check`: prove each homework is gradable before it is released.

For each homework, in a scratch course: the answer key must earn every autograded point, the blank release
must earn none while every cell still runs, no solution or hidden-test text may reach the release, the
committed release must be what nbgrader generates now, and the notebook's points must equal the spec's.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.authoring import fairness
from autograder.authoring.release import is_current
from autograder.course import cells as nbu
from autograder.course import secrets
from autograder.course.policy import Limits
from autograder.course.spec import Spec
from autograder.errors import NbgraderError
from autograder.grading import engine
from autograder.grading.submissions import Submission

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
    corpus: list = field(default_factory=list)  # fairness.Outcome of every variant

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


def check_homework(spec: Spec, log=print) -> CheckResult:
    """Run every check for one homework; failures are collected, never raised."""
    start = time.monotonic()
    result = CheckResult(spec.id)
    source_nb = nbu.read(spec.source_notebook)
    result.auto_max = sum(nbu.points(c) for c in source_nb.cells if nbu.is_autograded_test(c))
    result.manual_max = sum(nbu.points(c) for c in source_nb.cells if nbu.is_manual(c))
    result.failures += point_mismatches(spec, source_nb)
    result.failures += test_cell_rules(spec, source_nb)
    if not spec.release_notebook.exists():
        result.failures.append(f"{spec.release_notebook} is missing: run `python -m autograder release {spec.id}`")
        result.seconds = time.monotonic() - start
        return result
    result.failures += [
        f"{spec.release_notebook}: leaks source text {line!r}"
        for line in leaks(source_nb, nbu.read(spec.release_notebook))
    ]
    try:
        variants = fairness.load(spec)
    except fairness.CorpusError as exc:
        result.failures.append(str(exc))
        variants = []
    scratch = Path(tempfile.mkdtemp(prefix=f"check-{spec.id}-"))
    try:
        log(f"[{spec.id}] generating the student version in a scratch course ...")
        setup = engine.prepare(spec, scratch, Limits.for_homework(spec.quick_seconds), isolation="none")
        setup.isolation = engine.strongest_isolation(setup)
        if setup.isolation != "full":
            log(f"[{spec.id}] this machine cannot isolate kernels: graded without the sandbox")
        stale = is_current(spec, Path(setup.template))
        if stale:
            result.failures.append(
                f"release/{spec.id} is out of date with source/{spec.id} ({', '.join(stale)}): "
                f"run `python -m autograder release {spec.id}`"
            )
        grader = engine.Grader(setup)
        try:
            _grade_key_and_blank(spec, grader, result, log)
            if variants:
                log(f"[{spec.id}] grading the fairness corpus ({len(variants)} answers) ...")
                result.corpus = fairness.grade(spec, variants, grader, log=lambda line: log(f"[{spec.id}] {line}"))
                result.failures += [f"fairness corpus: {o.line()}" for o in result.corpus if not o.ok]
        finally:
            grader.close()
    except (NbgraderError, engine.GradingError, fairness.CorpusError, OSError) as exc:
        result.failures.append(str(exc))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.seconds = time.monotonic() - start
    return result


def _grade_key_and_blank(spec: Spec, grader, result: CheckResult, log) -> None:
    """The key must earn every autograded point through the engine, the blank release none, and every cell of
    the blank release must still run."""
    log(f"[{spec.id}] grading the answer key and the blank release ...")
    key = grader.grade(Submission(KEY, spec.source_notebook.parent, notebook=spec.source_notebook))
    blank = grader.grade(Submission(BLANK, spec.release_notebook.parent, notebook=spec.release_notebook))
    result.key_auto, result.blank_auto = key.score, blank.score
    for which, graded in ((KEY, key), (BLANK, blank)):
        if graded.status != "graded":
            result.failures.append(f"the {which} was not graded: {graded.status}: {graded.message}")
    if abs(result.key_auto - result.auto_max) > 1e-9:
        lost = [f"{t.grade_id} ({t.message})" for t in key.tests if t.score < t.max_score]
        result.failures.append(
            f"answer key earns {result.key_auto:g}/{result.auto_max:g} autograded points; lost in: "
            f"{'; '.join(lost) or 'none'}; cell errors: {'; '.join(key.cell_errors) or 'none'}"
        )
    if key.cell_errors:
        result.failures.append(f"cells of the answer key raise: {'; '.join(key.cell_errors)}")
    if result.blank_auto != 0:
        earned = [t.grade_id for t in blank.tests if t.score > 0]
        result.failures.append(f"blank release earns {result.blank_auto:g} autograded points (must be 0): {earned}")
    stopped = [n for n in blank.notes if "not run" in n or "limit" in n or "restarted" in n]
    if stopped:
        result.failures.append(f"grading the blank release did not run every cell: {'; '.join(stopped)}")


def test_cell_rules(spec: Spec, nb) -> list[str]:
    """The trusted-side contract (docs/authoring.md): a test cell binds only `_` names (or names nothing else
    reads), and reads nothing another test cell bound."""
    from autograder.grading.source import bound_names, external_reads

    where = str(spec.source_notebook)
    failures = []
    test_bound: dict[str, str] = {}
    others_read: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and not nbu.is_autograded_test(cell):
            others_read |= external_reads(cell.source)
    for cell in nb.cells:
        if not nbu.is_autograded_test(cell):
            continue
        gid = nbu.grade_id(cell)
        borrowed = sorted(n for n in external_reads(cell.source) if n in test_bound and not n.startswith("_"))
        borrowed += sorted(n for n in external_reads(cell.source) if n.startswith("_") and n in test_bound)
        if borrowed:
            failures.append(
                f"{where}: test cell {gid} reads {', '.join(borrowed)}, bound by test cell "
                f"{test_bound[borrowed[0]]}: test cells are self-contained"
            )
        public = sorted(n for n in bound_names(cell.source) if not n.startswith("_") and n in others_read)
        if public:
            failures.append(
                f"{where}: test cell {gid} binds {', '.join(public)}, which other cells read: the kernel never "
                "sees what a test binds; use names that start with _"
            )
        for name in bound_names(cell.source):
            test_bound.setdefault(name, gid)
    return failures


def table(results: list[CheckResult]) -> str:
    """The summary table printed by `check`: key and blank scores, and the fairness corpus."""
    header = (
        f"{'homework':<9} {'auto key':>9} {'auto blank':>10} {'auto max':>9} {'manual':>7} "
        f"{'correct full':>13} {'wrong caught':>13} {'seconds':>8}  result"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        right = [o for o in r.corpus if o.variant.correct]
        wrong = [o for o in r.corpus if not o.variant.correct]
        rows.append(
            f"{r.homework:<9} {r.key_auto:>9g} {r.blank_auto:>10g} {r.auto_max:>9g} {r.manual_max:>7g} "
            f"{f'{sum(o.ok for o in right)}/{len(right)}':>13} {f'{sum(o.ok for o in wrong)}/{len(wrong)}':>13} "
            f"{r.seconds:>8.1f}  {'ok' if r.ok else 'FAILED'}"
        )
    return "\n".join(rows)
