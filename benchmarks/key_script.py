"""A homework's answer key as one plain Python script, for a machine without Jupyter (the lent GPU machine).

    python benchmarks/key_script.py hw4 OUT.py

The script holds the key's own code cells in order (the instructor's setup and every solution; test cells are left
out: they belong to the grader), each preceded by a `# cell N` line. `display(Markdown(...))` prints its text and
`plt.show()` closes the figure, so the run prints what the executed key shows in prose. It times each cell and
ends by printing the per-cell times; any exception stops it with a non-zero exit, naming the cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import cells as nbu  # noqa: E402
from autograder.course.spec import select  # noqa: E402

# The prelude defines these two; the machine may have no IPython.
IPYTHON_IMPORT = "from IPython.display import Markdown, display\n"

PRELUDE = """\
import os
from time import perf_counter as __clock  # names a key cell will not reuse
os.environ.setdefault("MPLBACKEND", "Agg")


class Markdown:
    def __init__(self, data):
        self.data = data


def display(*objects, **_):
    for o in objects:
        print(o.data if isinstance(o, Markdown) else o)


import matplotlib.pyplot as _plt
_plt.show = lambda *a, **k: _plt.close("all")
__cell_times = []
"""


def key_cells(homework: str) -> list[tuple[int, str]]:
    """(index, source) of the key's code cells that are not tests."""
    [spec] = select([homework])
    nb = nbu.read(spec.source_notebook)
    return [
        (index, cell.source.replace(IPYTHON_IMPORT, ""))
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and not nbu.is_autograded_test(cell)
    ]


def script(homework: str) -> str:
    parts = [PRELUDE]
    for index, source in key_cells(homework):
        parts.append(f"# cell {index}\n__cell_start = __clock()\n")
        parts.append(f"exec(compile({source!r}, 'cell {index}', 'exec'), globals())\n")
        parts.append(f"__cell_times.append(({index}, __clock() - __cell_start))\n")
    parts.append("print('cell times (s):', ', '.join(f'{i}: {t:.1f}' for i, t in __cell_times))\n")
    parts.append("print(f'all cells: {sum(t for _, t in __cell_times):.1f} s')\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homework")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.write_text(script(args.homework))
    print(f"wrote {args.out} ({len(key_cells(args.homework))} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
