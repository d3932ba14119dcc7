"""What of an instructor notebook must never reach students: solution code, written solutions, hidden tests.

One implementation for `check` (nothing of the key leaks into the release) and the student kit (nothing of it
is in the kit): a secret line is found in a text when it appears there verbatim, unless it is too short to
mean anything or is public anyway (the same line outside every secret region of the notebook).
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.course import cells as nbu

MIN_SECRET_LINE = 6  # shorter lines ("pass", "x = 0") are too common to call a leak
# A written answer wraps into lines; its last line can be one word ("points.") that any prose contains.
MIN_PROSE_WORDS = 3


@dataclass(frozen=True)
class Secrets:
    """The secret regions of one notebook, each with the fewest words a line of it needs to count as a leak,
    and the lines that are public anyway."""

    blocks: tuple[tuple[str, int], ...]
    public: frozenset[str]

    def lines(self) -> list[str]:
        """Every line long enough to count as a leak when found elsewhere."""
        out = []
        for block, min_words in self.blocks:
            for line in block.splitlines():
                text = line.strip()
                if len(text) >= MIN_SECRET_LINE and len(text.split()) >= min_words and text not in self.public:
                    out.append(text)
        return sorted(set(out))


def secrets_of(nb) -> Secrets:
    """Solution code, written solutions and hidden tests of an instructor notebook."""
    blocks, public = [], set()
    for cell in nb.cells:
        m = nbu.meta(cell)
        src = cell.source
        if m.get("solution") and cell.cell_type == "markdown":
            inner = nbu.regions(src, nbu.SOLUTION_BEGIN, nbu.SOLUTION_END)
            blocks.extend((block, MIN_PROSE_WORDS) for block in inner or [src])
        else:
            hidden = nbu.regions(src, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END)
            solution = nbu.regions(src, nbu.SOLUTION_BEGIN, nbu.SOLUTION_END) if m.get("solution") else []
            blocks.extend((block, 1) for block in hidden + solution)
            secret_lines = {line.strip() for block in hidden + solution for line in block.splitlines()}
            public |= {line.strip() for line in src.splitlines()} - secret_lines
    return Secrets(tuple(blocks), frozenset(public))


def notebook_text(nb) -> str:
    """Everything of a notebook a reader could see: cell sources, outputs' text, and the metadata."""
    parts = [cell.source for cell in nb.cells]
    parts += [str(cell.get("outputs", "")) for cell in nb.cells if cell.cell_type == "code"]
    parts += [str(cell.metadata) for cell in nb.cells] + [str(nb.metadata)]
    return "\n".join(parts)


def leaks(source_nb, text: str) -> list[str]:
    """The secret lines of `source_nb` that appear in `text`."""
    return [line for line in secrets_of(source_nb).lines() if line in text]
