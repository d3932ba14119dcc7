"""The numbers in an executed answer key's prose are the numbers its run measured (issue 14).

A key opts in with the notebook metadata `{"course": {"run_results": true}}` and then keeps two rules:

- **Results are rendered, never typed.** A code cell measures, then calls `report(section, text, **values)` (the
  setup cell's helper): it shows `text` as Markdown, its placeholders filled from `values`, in an output whose
  metadata is `{"course": {"run_results": true}}`, and records every number of `values` in `RUN`, which the key's
  last code cell prints as one line `RUN = {json}`.
- **Written answers hold no run results.** A number typed in a markdown answer cell must be declared by the
  notebook itself: written in a locked markdown cell (header, statements, prompts: the handout's numbers) or a
  numeric literal of a code cell (hyper-parameters, candidate grids, cited constants). A percentage or a duration
  counts as declared only where a locked markdown cell writes that number with the same unit.

So a number in a rendered result must be a recorded value (as rounded in the text) or a declared one, and a typed
number must be declared. Checked: numbers with a decimal point, a percent sign or a time unit, and integers from
100 up; small integers (sizes, counts, epochs, sub-part numbers) are not. The key is the executed notebook of
`python -m autograder solutions hwN` (build/solutions/hwN.ipynb) when it matches the source, else the key
executed on its short path: both runs must pass, with their own numbers.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass

import pytest

from autograder.course import cells as nbu
from autograder.course.paths import BUILD

pytestmark = pytest.mark.slow

RESULTS_FLAG = "run_results"
RUN_LINE = "RUN = "
SMALL = 100  # integers below this, without a unit, are not checked
DURATION = r"(?:ms|s|sec|seconds?|min|minutes?|h|hours?)\b"
LABEL = re.compile(r"\d+(?:\.\d+){2,}")  # sub-part labels such as 2.1.3 are not numbers
NUMBER = re.compile(
    r"(?<![\w.])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?![\w])"
    r"(?:(?P<percent>\s?\\?%)|(?P<duration>\s" + DURATION + r"))?"
)


@dataclass(frozen=True)
class Number:
    text: str
    value: float
    decimals: int
    unit: str  # "", "%" or "s"

    @property
    def checked(self) -> bool:
        return bool(self.decimals or self.unit) or self.value >= SMALL

    def rounds(self, value: float) -> bool:
        """Whether `value`, rounded as this number is written, gives this number."""
        return abs(value - self.value) <= 0.5 * 10.0 ** (-self.decimals) + 1e-9 * max(1.0, abs(value))


def numbers_in(text: str) -> list[Number]:
    """The numbers of a markdown or LaTeX text, with their units (LaTeX thousands separators understood)."""
    text = re.sub(r"(?<=\d)(?:\{,\}|\\,)(?=\d{3})", ",", text)
    text = LABEL.sub(" ", text)
    found = []
    for m in NUMBER.finditer(text):
        frac = m.group("frac") or ""
        unit = "%" if m.group("percent") else "s" if m.group("duration") else ""
        value = float(m.group("int").replace(",", "") + frac)
        found.append(Number(m.group(0).strip(), value, max(0, len(frac) - 1), unit))
    return found


def code_literals(source: str) -> set[float]:
    """The numeric literals of a code cell (IPython magics and shell lines skipped)."""
    lines = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    values = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(lines).readline):
            if tok.type == tokenize.NUMBER:
                try:
                    values.add(float(tok.string.replace("_", "")))
                except ValueError:  # complex literals
                    continue
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return values


@dataclass
class Declared:
    values: set[float]  # numbers of locked markdown cells and code literals
    percents: set[float]  # percentages written in locked markdown cells
    durations: set[float]  # durations written in locked markdown cells

    def covers(self, n: Number) -> bool:
        pool = {"%": self.percents, "s": self.durations}.get(n.unit, self.values)
        return any(n.rounds(v) for v in pool)


def declared(nb) -> Declared:
    out = Declared(set(), set(), set())
    for cell in nb.cells:
        if cell.cell_type == "code":
            out.values |= code_literals(cell.source)
        elif nbu.meta(cell).get("locked"):
            for n in numbers_in(cell.source):
                {"%": out.percents, "s": out.durations}.get(n.unit, out.values).add(n.value)
                out.values.add(n.value)
    return out


def recorded(nb) -> dict[str, float]:
    """The RUN line the key's last code cell printed."""
    for cell in reversed(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                for line in output.get("text", "").splitlines():
                    if line.startswith(RUN_LINE):
                        return json.loads(line[len(RUN_LINE) :])
    raise AssertionError(f"the executed key printed no `{RUN_LINE}...` line: its last cell must print RUN as JSON")


def rendered(nb) -> list[tuple[str, str]]:
    """(cell label, markdown) of every rendered result."""
    out = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            flag = output.get("metadata", {}).get("course", {}).get(RESULTS_FLAG)
            if output.get("output_type") == "display_data" and flag and "text/markdown" in output.get("data", {}):
                out.append((nbu.grade_id(cell) or f"cell {i}", output["data"]["text/markdown"]))
    return out


def errors(nb) -> list[str]:
    return [
        f"{nbu.grade_id(c) or i}: {o.get('ename')}: {o.get('evalue', '')[:200]}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def prose_problems(nb) -> list[str]:
    """Every number of the key's prose that its run did not record and the notebook does not declare."""
    decl = declared(nb)
    run = recorded(nb)
    problems = []
    for where, text in rendered(nb):
        for n in numbers_in(text):
            if n.checked and not decl.covers(n) and not any(n.rounds(v) for v in run.values()):
                problems.append(f"{where}: rendered {n.text!r} is not a value the run recorded in RUN")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and nbu.is_manual(cell):
            for n in numbers_in(cell.source):
                if n.checked and not decl.covers(n):
                    problems.append(
                        f"{nbu.grade_id(cell)}: typed {n.text!r} is neither in the statements nor a literal of the "
                        "code: render it from the run with report(...), or declare it"
                    )
    return problems


def uses_rendered_results(spec) -> bool:
    return bool(nbu.read(spec.source_notebook).metadata.get("course", {}).get(RESULTS_FLAG))


def executed_key(spec, solution_keys):
    """build/solutions/<id>.ipynb when it is the source executed, else the key executed on its short path."""
    built = BUILD / "solutions" / f"{spec.id}.ipynb"
    source = nbu.read(spec.source_notebook)
    if built.exists():
        nb = nbu.read(built)
        if [c.source for c in nb.cells] == [c.source for c in source.cells]:
            return nb
    return nbu.read(solution_keys(spec).notebook)


# -- the number reader itself ----------------------------------------------------------------------------------


def test_numbers_in_reads_units_and_skips_labels():
    found = numbers_in(r"In 2.1.3 the error is **1.79%** (dev 1.66\%), trained in 54 s; $T=20{,}000$, w2, 3 epochs")
    assert [(n.text, n.value, n.decimals, n.unit) for n in found] == [
        ("1.79%", 1.79, 2, "%"),
        (r"1.66\%", 1.66, 2, "%"),
        ("54 s", 54.0, 0, "s"),
        ("20,000", 20000.0, 0, ""),
        ("3", 3.0, 0, ""),
    ]
    assert [n.checked for n in found] == [True, True, True, True, False]


def test_a_typed_result_is_caught_and_a_rendered_one_is_not():
    import nbformat

    nb = nbformat.v4.new_notebook()
    locked = {"nbgrader": {"locked": True, "grade_id": "p1_statement"}}
    answer = {"nbgrader": {"solution": True, "grade": True, "points": 1, "grade_id": "p1_answer"}}
    nb.cells = [
        nbformat.v4.new_markdown_cell("Report the error below 20%.", metadata=locked),
        nbformat.v4.new_code_cell("lr = 0.5", metadata={}),
        nbformat.v4.new_markdown_cell("With lr 0.5 the test error is 1.80% after 110 s.", metadata=answer),
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/markdown": "Test error **1.79%**, below 20%, in 54 s."},
            metadata={"course": {RESULTS_FLAG: True}},
        ),
        nbformat.v4.new_output("stream", name="stdout", text='RUN = {"p1.err": 1.7931, "p1.seconds": 53.8}\n'),
    ]
    assert prose_problems(nb) == [
        "p1_answer: typed '1.80%' is neither in the statements nor a literal of the code: render it from the run "
        "with report(...), or declare it",
        "p1_answer: typed '110 s' is neither in the statements nor a literal of the code: render it from the run "
        "with report(...), or declare it",
    ]
    nb.cells[1].outputs[0]["data"]["text/markdown"] = "Test error **1.80%**."
    assert prose_problems(nb)[0] == "cell 1: rendered '1.80%' is not a value the run recorded in RUN"


# -- the keys --------------------------------------------------------------------------------------------------


@pytest.mark.homeworks(
    lambda spec: uses_rendered_results(spec)
)  # a lambda: pytest would take a named function for the test
def test_key_prose_numbers_come_from_its_run(homework, solution_keys):
    nb = executed_key(homework, solution_keys)
    assert errors(nb) == [], "the executed key has errors"
    assert rendered(nb), f"{homework.id}: the key renders no results (report(...)), yet opts in to this test"
    problems = prose_problems(nb)
    assert problems == [], f"{homework.id}: numbers in the key's prose that its run did not produce:\n" + "\n".join(
        problems
    )
