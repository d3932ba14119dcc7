"""The README's assignment table, generated from assignments/*.toml so it never drifts from the specs."""

from __future__ import annotations

from autograder.course.paths import ROOT
from autograder.course.spec import Spec, all_specs

START, END = "<!-- assignments:start -->", "<!-- assignments:end -->"
README = ROOT / "README.md"


def _points(spec: Spec) -> str:
    extra = sum(p.points for p in spec.problems if p.extra_credit)
    return f"{spec.total:g}" + (f" + {extra:g} extra credit" if extra else "")


def assignment_table(specs: list[Spec]) -> str:
    rows = [
        "| id | title | origin handout | due | points | autograded / manual | problems |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in specs:
        problems = ", ".join(f"{p.id} {p.points:g}{'*' if p.extra_credit else ''}" for p in s.problems)
        rows.append(
            f"| `{s.id}` | {s.title} | {s.origin} (`{s.handout}`) | {s.due or 'not given'} | {_points(s)} | "
            f"{s.autograded_total:g} / {s.manual_total:g} | {problems} |"
        )
    return "\n".join(rows)


def rendered(text: str, specs: list[Spec]) -> str:
    """`text` with the block between the markers replaced by the current table."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{assignment_table(specs)}\n{END}{tail}"


def update() -> bool:
    """Rewrite README.md's table; return whether it changed."""
    text = README.read_text(encoding="utf-8")
    new = rendered(text, all_specs())
    if new != text:
        README.write_text(new, encoding="utf-8")
    return new != text
