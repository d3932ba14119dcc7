"""Assignment specs: `assignments/hwN.toml` (schema in docs/authoring.md)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.paths import ASSIGNMENTS, RELEASE, SOURCE
from autograder.errors import SpecError


@dataclass(frozen=True)
class Problem:
    id: str
    title: str
    points: float
    autograded: float
    manual: float
    extra_credit: bool = False


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    handout: str
    origin: str
    notebook: str
    problems: tuple[Problem, ...]
    due: dt.date | None = None
    quick_seconds: int = 300
    pdf_code_appendix: bool = False
    path: Path = field(default=Path(), compare=False)

    @property
    def total(self) -> float:
        """Regular points: extra credit is not part of the total."""
        return sum(p.points for p in self.problems if not p.extra_credit)

    @property
    def autograded_total(self) -> float:
        return sum(p.autograded for p in self.problems)

    @property
    def manual_total(self) -> float:
        return sum(p.manual for p in self.problems)

    @property
    def source_notebook(self) -> Path:
        return SOURCE / self.id / self.notebook

    @property
    def release_notebook(self) -> Path:
        return RELEASE / self.id / self.notebook

    def problem_of(self, grade_id: str) -> Problem | None:
        """The problem owning a cell: the longest problem id that prefixes `grade_id` followed by `_`."""
        owners = [p for p in self.problems if grade_id.startswith(p.id + "_")]
        return max(owners, key=lambda p: len(p.id), default=None)


def _require(data: dict, key: str, kind: type, where: str):
    if key not in data:
        raise SpecError(f"{where}: missing required field `{key}`")
    value = data[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise SpecError(f"{where}: `{key}` must be {kind.__name__}, got {value!r}")
    return value


def _problem(data: dict, where: str) -> Problem:
    pid = _require(data, "id", str, where)
    where = f"{where} (problem {pid})"
    problem = Problem(
        id=pid,
        title=_require(data, "title", str, where),
        points=_require(data, "points", float, where),
        autograded=_require(data, "autograded", float, where),
        manual=_require(data, "manual", float, where),
        extra_credit=bool(data.get("extra_credit", False)),
    )
    if abs(problem.autograded + problem.manual - problem.points) > 1e-9:
        raise SpecError(
            f"{where}: autograded ({problem.autograded:g}) + manual ({problem.manual:g}) "
            f"must equal points ({problem.points:g})"
        )
    return problem


def load(path: Path) -> Spec:
    """Parse and validate one spec file."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{where}: {exc}") from exc
    problems = tuple(_problem(p, where) for p in data.get("problems", []))
    if not problems:
        raise SpecError(f"{where}: no [[problems]] table")
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{where}: duplicate problem ids in {ids}")
    due = data.get("due")
    if due is not None and not isinstance(due, dt.date):
        raise SpecError(f"{where}: `due` must be a TOML date like 2023-11-23, got {due!r}")
    spec = Spec(
        id=_require(data, "id", str, where),
        title=_require(data, "title", str, where),
        handout=_require(data, "handout", str, where),
        origin=_require(data, "origin", str, where),
        notebook=_require(data, "notebook", str, where),
        problems=problems,
        due=due,
        quick_seconds=int(data.get("quick_seconds", 300)),
        pdf_code_appendix=bool(data.get("pdf_code_appendix", False)),
        path=path,
    )
    if spec.id != path.stem:
        raise SpecError(f"{where}: id {spec.id!r} must match the file name {path.stem!r}")
    return spec


def all_specs() -> list[Spec]:
    """Every spec under assignments/, sorted by id."""
    return [load(p) for p in sorted(ASSIGNMENTS.glob("*.toml"))]


def select(ids: list[str] | None) -> list[Spec]:
    """The specs named (all when none); an unknown id is an error that lists the known ones."""
    specs = {s.id: s for s in all_specs()}
    if not ids:
        return list(specs.values())
    unknown = [i for i in ids if i not in specs]
    if unknown:
        raise SpecError(
            f"unknown homework {', '.join(unknown)}; known: {', '.join(specs) or 'none'} (assignments/*.toml)"
        )
    return [specs[i] for i in ids]
