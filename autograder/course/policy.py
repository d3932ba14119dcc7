"""The grading policy, in one place for the grader, `check` and the students' `preflight`: the limits a
submission runs under, what counts as an unanswered cell, and when a test cell earns its points."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

CODE_STUB = "raise NotImplementedError()"  # nbgrader_config.py: what the release puts in an answer code cell
TEXT_STUBS = ("YOUR ANSWER HERE",)  # ... and in a written answer


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Defaults fit a homework's grading path (see `for_homework`)."""

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_mb: int = 4096  # the whole process tree of the submission
    output_kb: int = 1024  # per cell (figures are drawn inline); a notebook keeps at most 8 times this
    file_mb: int = 256  # everything the submission writes, together
    processes: int = 512  # processes and threads of the submission
    upload_mb: int = 20  # the notebook file as uploaded
    cells: int = 1000  # cells in the uploaded notebook
    # Math-library threads per kernel (OpenMP, MKL, OpenBLAS, torch); 0 leaves the libraries' default (one per
    # core). `grade -j N` gives each kernel its share of the cores: N kernels that each start a thread per core
    # oversubscribe the CPU, and small tensor operations then wait for cores instead of computing.
    threads: int = 0

    @classmethod
    def for_homework(cls, quick_seconds: int, **overrides) -> Limits:
        """Twice the homework's grading budget for the notebook, its budget (at least 60 s) for one cell."""
        base = cls(cell_seconds=max(60, quick_seconds), notebook_seconds=max(120, 2 * quick_seconds))
        return cls(**{**asdict(base), **{k: v for k, v in overrides.items() if v is not None}})

    @property
    def notebook_output_bytes(self) -> int:
        return 8 * self.output_kb * 1024

    def share_cores(self, jobs: int, cores: int | None = None) -> Limits:
        """These limits with `threads` set to this kernel's share of the cores when `jobs` kernels run at once
        (unchanged if `threads` was set explicitly)."""
        if self.threads:
            return self
        return replace(self, threads=max(1, (cores or os.cpu_count() or 1) // max(1, jobs)))

    def describe(self) -> str:
        threads = f", {self.threads} math thread(s)" if self.threads else ""
        return (
            f"{self.cell_seconds} s per cell, {self.notebook_seconds} s for the notebook, "
            f"{self.memory_mb} MB of memory, {self.output_kb} KB of output per cell, files up to {self.file_mb} MB"
            f"{threads}"
        )


def normal(text: str) -> str:
    """Source compared without trailing spaces and blank edges (editors and nbgrader differ there)."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def optional(cell) -> bool:
    """An optional, ungraded answer cell (cell metadata `course.optional`, see nbgrader_config.py): its stub does
    not raise, it earns nothing, and leaving it empty or failing in it never costs points."""
    return bool(cell.get("metadata", {}).get("course", {}).get("optional"))


def placeholder(cell, released: str | None) -> str | None:
    """Why an answer cell still counts as unanswered, or None when it has an answer."""
    source = cell.source
    if cell.cell_type == "code" and CODE_STUB in source:
        return f"still has `{CODE_STUB}`"
    if cell.cell_type == "markdown" and any(stub in source for stub in TEXT_STUBS):
        return f'still says "{TEXT_STUBS[0]}"'
    if not source.strip():
        return "is empty"
    if released is not None and normal(source) == normal(released):
        return "is unchanged from the release"
    return None
