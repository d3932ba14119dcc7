"""The vocabulary of a fairness corpus (`tests/fairness/hwN.py`, see docs/authoring.md).

A corpus module imports `Correct`, `Wrong` and `key` from here and defines `VARIANTS`, a list of answers a class
would write for the homework's autograded answer cells. `key(cell)` needs to know which homework it reads:
the loader (`autograder.authoring.fairness.load`) sets it before it imports the corpus module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_KEY_CELLS: dict[str, str] = {}  # grade_id -> the key's source of that answer cell, markers removed


class Source(str):
    """An answer cell's text; `swap` replaces a piece of it and fails loudly when the piece is not there."""

    def swap(self, old: str, new: str, count: int = 1) -> Source:
        found = self.count(old)
        if found < count:
            raise ValueError(f"swap: {old!r} occurs {found} time(s) in the key's cell, expected {count}")
        return Source(self.replace(old, new, count))


def key(cell: str) -> Source:
    """The key's text of answer cell `cell`, without the solution markers."""
    if cell not in _KEY_CELLS:
        known = ", ".join(sorted(_KEY_CELLS)) or "none (the loader did not set the homework)"
        raise KeyError(f"key({cell!r}): no answer code cell with that grade_id; known: {known}")
    return Source(_KEY_CELLS[cell])


@dataclass
class Variant:
    cell: str  # grade_id of the answer code cell it replaces
    label: str
    source: str
    correct: bool
    tests: list[str] | None = None  # the test cells that judge it (default: those after the cell, see the docs)
    loses: list[str] = field(default_factory=list)  # wrong: exactly these judging tests lose points
    fresh: bool = False  # needs a whole run of its own

    @property
    def name(self) -> str:
        return f"{self.cell}: {'correct' if self.correct else 'wrong'}: {self.label}"


def Correct(cell: str, label: str, source: str, *, tests: list[str] | None = None, fresh: bool = False) -> Variant:  # noqa: N802
    return Variant(cell, label, str(source), True, tests=tests, fresh=fresh)


def Wrong(  # noqa: N802
    cell: str,
    label: str,
    source: str,
    *,
    loses: list[str] | None = None,
    tests: list[str] | None = None,
    fresh: bool = False,
) -> Variant:
    return Variant(cell, label, str(source), False, tests=tests, loses=list(loses or []), fresh=fresh)
