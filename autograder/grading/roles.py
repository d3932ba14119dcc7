"""Where each cell of a notebook runs when it is graded (docs/authoring.md, "How tests run").

- `test`: autograded test cells: the trusted runner only.
- `trusted`: locked, non-test code cells that read no answer name and nothing a kernel-only cell bound
  (setup, data, constants, helpers): both in the kernel and on the trusted side.
- `kernel`: every other code cell (answers, cells the student added, locked cells that use answers, e.g. a
  training run or a plot of the student's results): the kernel only.

Answer names come from the instructor's key (the names its answer cells bind), never from the submission, and
what the student's cells bind never changes a locked cell's role: a student who rebinds `X` in an answer cell
or a cell of their own changes only the kernel's `X`, and tests keep the trusted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.course import cells as nbu
from autograder.grading.source import bound_names, external_reads

TEST, TRUSTED, KERNEL, MARKDOWN = "test", "trusted", "kernel", "markdown"


def answer_names(key_nb) -> set[str]:
    """Names the key's answer code cells bind at the top level (optional, ungraded cells left out: they are
    scratch space, and no test or locked cell reads them)."""
    return {
        name
        for cell in key_nb.cells
        if cell.cell_type == "code" and nbu.meta(cell).get("solution") and not is_optional(cell)
        for name in bound_names(cell.source)
    }


def is_optional(cell) -> bool:
    return bool(cell.get("metadata", {}).get("course", {}).get("optional"))


@dataclass
class Plan:
    roles: list[str]
    answers: set[str]
    kernel_only: set[str] = field(default_factory=set)  # names bound by kernel cells (answers included)

    def cells(self, nb, role: str) -> list[tuple[str, int, str]]:
        """(label, position, source) of the code cells with `role`."""
        return [(label(c, i), i, c.source) for i, c in enumerate(nb.cells) if self.roles[i] == role]


def label(cell, index: int) -> str:
    return nbu.grade_id(cell) or f"cell {index}"


def plan(nb, answers: set[str]) -> Plan:
    """Each cell's role, in notebook order (a locked cell becomes kernel-only as soon as it reads a name that
    only the kernel has)."""
    kernel_only = set(answers)
    roles = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            roles.append(MARKDOWN)
        elif nbu.is_autograded_test(cell):
            roles.append(TEST)
        elif nbu.meta(cell).get("locked") and not nbu.meta(cell).get("solution"):
            if external_reads(cell.source) & kernel_only:
                roles.append(KERNEL)
                kernel_only |= bound_names(cell.source)
            else:
                roles.append(TRUSTED)
        else:  # answers and cells the student added: what they bind never changes where locked cells run
            roles.append(KERNEL)
    return Plan(roles, set(answers), kernel_only)
