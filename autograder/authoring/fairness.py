"""The fairness corpus: answers a class would write, graded to prove the tests fair (docs/authoring.md).

`load(spec)` reads `tests/fairness/<hw>.py`; `grade(spec, variants, run)` runs the key once, then swaps each
variant into its answer cell, runs the tests that judge it, and puts the key back; `Outcome.ok` says whether
a correct answer kept every point and a wrong one lost some (where `loses` says: exactly there).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from autograder.course import cells as nbu
from autograder.course.paths import ROOT
from autograder.course.spec import Spec
from autograder.errors import CorpusError

CORPUS = ROOT / "tests" / "fairness"


@dataclass
class Outcome:
    variant: object  # tests/fairness/fairness.py Variant
    scores: dict[str, tuple[float, float]]  # judging test grade_id -> (score, max)
    messages: dict[str, str] = field(default_factory=dict)  # judging test -> why it failed
    error: str = ""  # the variant's own cell raised (shown; a correct answer must not)

    @property
    def lost(self) -> list[str]:
        return [gid for gid, (score, top) in self.scores.items() if score < top]

    @property
    def ok(self) -> bool:
        v = self.variant
        if v.correct:
            return not self.lost and not self.error
        if not self.lost:
            return False
        return not v.loses or sorted(self.lost) == sorted(v.loses)

    def line(self) -> str:
        got = sum(s for s, _ in self.scores.values())
        top = sum(m for _, m in self.scores.values())
        status = "ok  " if self.ok else "MISS"
        text = f"{status} {self.variant.name} ({got:g}/{top:g})"
        if not self.ok:
            if self.variant.correct:
                text += "".join(f"\n       {g}: {self.messages.get(g, '')}" for g in self.lost)
                text += f"\n       its cell raised: {self.error}" if self.error else ""
            elif self.lost:
                text += f"\n       lost in {', '.join(self.lost)}, expected exactly {', '.join(self.variant.loses)}"
            else:
                text += "\n       kept every point: the tests do not catch it"
        return text


def key_cells(nb) -> dict[str, str]:
    """grade_id -> source of every answer code cell, solution markers removed (the key's own text)."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and nbu.meta(cell).get("solution") and nbu.grade_id(cell):
            lines = [ln for ln in cell.source.splitlines() if ln.strip() not in (nbu.SOLUTION_BEGIN, nbu.SOLUTION_END)]
            out[nbu.grade_id(cell)] = "\n".join(lines)
    return out


def judging_tests(nb, cell: str) -> list[str]:
    """The test cells after answer cell `cell`, up to the next answer code cell."""
    ids = [nbu.grade_id(c) for c in nb.cells]
    if cell not in ids:
        raise CorpusError(f"no cell with grade_id {cell!r}")
    found = []
    for c in nb.cells[ids.index(cell) + 1 :]:
        if c.cell_type == "code" and nbu.meta(c).get("solution"):
            break
        if nbu.is_autograded_test(c):
            found.append(nbu.grade_id(c))
    return found


def load(spec: Spec) -> list:
    """The variants of `tests/fairness/<id>.py` (empty when the homework has no corpus yet)."""
    path = CORPUS / f"{spec.id}.py"
    if not path.exists():
        return []
    if str(CORPUS) not in sys.path:
        sys.path.insert(0, str(CORPUS))
    import fairness  # tests/fairness/fairness.py

    nb = nbu.read(spec.source_notebook)
    fairness._KEY_CELLS.clear()
    fairness._KEY_CELLS.update(key_cells(nb))
    module_spec = importlib.util.spec_from_file_location(f"fairness_{spec.id}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise CorpusError(f"{path}: {type(exc).__name__}: {exc}") from exc
    variants = list(getattr(module, "VARIANTS", []))
    for v in variants:
        if v.cell not in fairness._KEY_CELLS:
            raise CorpusError(f"{path}: variant {v.name!r} names {v.cell!r}, which is not an answer code cell")
        v.tests = v.tests or judging_tests(nb, v.cell)
        if not v.tests:
            raise CorpusError(f"{path}: no test cell judges {v.cell!r}; give the variant tests=[...]")
        unknown = set(v.loses) - set(v.tests)
        if unknown:
            raise CorpusError(f"{path}: {v.name!r}: loses={sorted(unknown)} are not among its tests {v.tests}")
    return variants


def select(variants: list, cells: Iterable[str] = (), label: str = "") -> list:
    wanted = set(cells)
    return [v for v in variants if (not wanted or v.cell in wanted) and label.lower() in v.label.lower()]


def summary(outcomes: list[Outcome]) -> list[str]:
    """One line per answer cell: correct answers with full marks, wrong answers caught."""
    cells: dict[str, list[Outcome]] = {}
    for o in outcomes:
        cells.setdefault(o.variant.cell, []).append(o)
    lines = []
    for cell, group in cells.items():
        right = [o for o in group if o.variant.correct]
        wrong = [o for o in group if not o.variant.correct]
        lines.append(
            f"{cell}: correct with full marks {sum(o.ok for o in right)}/{len(right)}, "
            f"wrong caught {sum(o.ok for o in wrong)}/{len(wrong)}"
        )
    return lines


Runner = Callable[[Spec, list], list[Outcome]]


# -- grading the corpus through the engine ------------------------------------------------------------------------


def grade(spec: Spec, variants: list, grader, log=print) -> list[Outcome]:
    """Run the key once through the grading engine, then each variant in its answer cell of the same kernel,
    the tests that judge it on the trusted side, and the key's cell again. `fresh` variants get a run of their
    own."""
    key = nbu.read(spec.source_notebook)
    outcomes = []
    shared = [v for v in variants if not v.fresh]
    if shared:
        nb = grader.rebuild(key).nb
        with grader.session(nb) as run:
            execution = run.run_all()
            failed = [f"{g}: {t.message}" for g, t in execution.tests.items() if not t.passed]
            if failed:
                raise CorpusError(f"the key fails its own tests in the shared run: {'; '.join(failed)}")
            for n, v in enumerate(shared, 1):
                error = run.replace(v.cell, v.source)
                outcomes.append(_outcome(v, run.run_tests(v.tests), error))
                run.replace(v.cell, _as_submitted(key, v.cell))
                log(f"{n}/{len(variants)} {outcomes[-1].line()}")
    for v in (v for v in variants if v.fresh):
        nb = grader.rebuild(_with_answer(key, v.cell, v.source)).nb
        execution = grader.run(nb)
        outcomes.append(_outcome(v, {g: execution.tests[g] for g in v.tests}, ""))
        log(f"{len(outcomes)}/{len(variants)} {outcomes[-1].line()} (own run)")
    return outcomes


def grade_alone(spec: Spec, variants: list, log=print) -> list[Outcome]:
    """`grade` with a grader of its own (the command `fairness`): a scratch assignment, the strongest
    isolation this machine allows, removed afterwards."""
    import shutil
    import tempfile
    from pathlib import Path

    from autograder.course.policy import Limits
    from autograder.grading import engine

    scratch = Path(tempfile.mkdtemp(prefix=f"fairness-{spec.id}-"))
    try:
        setup = engine.prepare(spec, scratch, Limits.for_homework(spec.quick_seconds), isolation="none")
        setup.isolation = engine.strongest_isolation(setup)
        grader = engine.Grader(setup)
        try:
            return grade(spec, variants, grader, log=log)
        finally:
            grader.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _as_submitted(nb, cell: str) -> str:
    """The key's text of an answer cell as a submission holds it (markers included: they are comments)."""
    return next(c.source for c in nb.cells if nbu.grade_id(c) == cell)


def _with_answer(nb, cell: str, source: str):
    import copy

    out = copy.deepcopy(nb)
    for c in out.cells:
        if nbu.grade_id(c) == cell:
            c.source = source
    return out


def _outcome(variant, tests: dict, status: str) -> Outcome:
    outcome = Outcome(variant, {}, error="" if status in ("ok", "") else f"its cell ended with {status}")
    for gid, test in tests.items():
        outcome.scores[gid] = (test.score, test.points)
        if not test.passed:
            outcome.messages[gid] = test.message
    return outcome
