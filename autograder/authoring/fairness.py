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

CORPUS = ROOT / "tests" / "fairness"


class CorpusError(RuntimeError):
    """A corpus module is missing or wrong; the message names the file and the fix."""


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


# -- interim runner: everything in one plain kernel (replaced by the trusted grading engine) -------------------


def run_in_kernel(spec: Spec, variants: list, log=print) -> list[Outcome]:
    """Run the key once in a plain kernel (short path), then each variant and its judging tests there."""
    import copy
    import json
    import shutil
    import tempfile
    from pathlib import Path

    from nbclient import NotebookClient

    from autograder.course.paths import tool_env

    nb = nbu.read(spec.source_notebook)
    by_id = {nbu.grade_id(c): c for c in nb.cells if nbu.grade_id(c)}
    student = {g: s for g, s in key_cells(nb).items()}
    instructor = [
        (nbu.grade_id(c) or f"cell {i}", i, c.source)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and nbu.meta(c).get("locked") and not nbu.is_autograded_test(c)
    ]
    position = {nbu.grade_id(c): i for i, c in enumerate(nb.cells)}
    work = Path(tempfile.mkdtemp(prefix=f"fairness-{spec.id}-"))
    shutil.copytree(spec.source_notebook.parent, work, dirs_exist_ok=True)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(work)}}
    )
    outcomes = []

    def grader_cell() -> nbu.nbformat.NotebookNode:
        cells = [(g, position[g], s) for g, s in student.items()]
        code = (
            f"import sys as _s; _s.path.insert(0, {str(ROOT)!r})\n"
            "from autograder.grading.rules import Rules as _Rules\n"
            f"GRADER = _Rules(student={json.dumps(cells)}, instructor={json.dumps(instructor)})"
        )
        return nbu.nbformat.v4.new_code_cell(code)

    def run(cell) -> str:
        cell.outputs = []
        client.execute_cell(cell, 0)
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        return f"{errors[0].ename}: {errors[0].evalue}"[:300] if errors else ""

    env = tool_env(COURSE_QUICK="1")
    env.pop("NBGRADER_EXECUTION", None)
    try:
        with client.setup_kernel(env=env):
            log(f"[{spec.id}] running the key (short path) ...")
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                if nbu.is_autograded_test(cell):
                    run(grader_cell())
                error = run(cell)
                if error and nbu.is_autograded_test(cell):
                    raise CorpusError(f"the key fails {nbu.grade_id(cell)}: {error}")
            for n, v in enumerate(variants, 1):
                variant_cell = copy.deepcopy(by_id[v.cell])
                variant_cell.source = v.source
                outcome = Outcome(v, {}, error=run(variant_cell))
                student[v.cell] = v.source
                run(grader_cell())
                for gid in v.tests:
                    message = run(copy.deepcopy(by_id[gid]))
                    top = nbu.points(by_id[gid])
                    outcome.scores[gid] = (0.0 if message else top, top)
                    if message:
                        outcome.messages[gid] = message
                student[v.cell] = key_cells(nb)[v.cell]
                run(copy.deepcopy(by_id[v.cell]))
                outcomes.append(outcome)
                log(f"[{spec.id}] {n}/{len(variants)} {outcome.line()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return outcomes
