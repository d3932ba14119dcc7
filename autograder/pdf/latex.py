"""LaTeX to PDF with xelatex, and what its log means for the notebook the LaTeX came from.

The Gradescope template (templates/gradescope_latex) writes a `% gs-cell K` comment before the LaTeX of
every cell K of the prepared notebook, and page records (`start ID PAGE`, `end ID PAGE`) to `JOB.gspages`.
From those, a failed build is explained as "this cell, this construct, this fix" instead of a TeX log, and a
successful one reports lines that run into the margin and characters the fonts lack, by cell and line.
`typeset_problems` typesets without stopping at the first error, for preflight's check of written answers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.paths import tool_env
from autograder.errors import LatexError

CELL_MARK = re.compile(r"^% gs-cell (\d+)\s*$")
PASS_TIMEOUT = 600  # seconds for one xelatex pass; a notebook with hundreds of figures takes about a minute
OVERFULL_PT = 3.0  # narrower overflows stay inside the 1-inch margin's first millimetre: not worth a warning

# What a student should do about the TeX errors markdown most often causes.
HINTS = {
    "Undefined control sequence": "LaTeX does not know this command (MathJax in Jupyter accepts more than "
    "LaTeX does): use a standard LaTeX command or write it out",
    "Missing $ inserted": "a math symbol (_ ^ \\frac ...) stands outside $...$, or a $ is unbalanced; wrap the "
    "formula in $...$ and check that every $ has its partner",
    "Display math should end with $$": "a $$ is unbalanced; check that every $$ has its partner",
    "Extra }, or forgotten $": "a } or $ is unbalanced in this formula",
    "Missing } inserted": "a { or } is unbalanced in this formula",
    "Extra alignment tab": "a row has more & than its environment has columns",
    "Misplaced alignment tab character &": "& only works inside aligned, matrix or cases environments; "
    "use \\& for a literal ampersand",
    "Double superscript": "write x^{a^b} or {x^a}^b: two ^ in a row need braces",
    "Double subscript": "write x_{a_b} or {x_a}_b: two _ in a row need braces",
    "Environment": "LaTeX does not know this environment: use aligned, cases, bmatrix, pmatrix or array",
    "File `": "a file this cell refers to was not found next to the notebook",
    "Unable to load picture": "an image this cell refers to was not found next to the notebook (or is not "
    "a PNG, JPEG or PDF file)",
    "File ended while scanning": "a { or a command's argument is not closed in this cell",
    "Paragraph ended before": "a blank line inside a formula: remove it",
    "Missing \\right": "each \\left needs a matching \\right (use \\right. for an invisible one)",
    "Missing number": "a length or number is missing, e.g. after \\\\[ or \\hspace",
    "Illegal unit of measure": "a length needs a unit, e.g. 2pt or 1em",
    "Bad math environment delimiter": "\\[ or \\( inside math: remove the inner delimiter",
    "Erroneous nesting of equation structures": "align, equation, gather and multline make a display of their "
    "own, so LaTeX refuses them inside $$...$$ (MathJax in Jupyter accepts it): inside $$ use "
    "\\begin{aligned}...\\end{aligned}, or write \\begin{align}...\\end{align} without the $$",
    "Argument of": "a command is missing its argument or a } is unbalanced",
}


@dataclass(frozen=True)
class TexError:
    message: str
    line: int | None
    before: str  # the offending line up to the point where TeX stopped
    after: str


@dataclass(frozen=True)
class CellLabel:
    """How messages name a cell of the prepared notebook, its source to quote from, the index of the
    notebook cell it comes from (None for cells the exporter added) and the text its outputs print."""

    description: str
    source: str
    markdown: bool
    cell: int | None = None
    outputs: str = ""


@dataclass(frozen=True)
class TypesetProblem:
    """Something in a cell that the PDF cannot show as written: where (the notebook's cell index, its
    description, the 1-based line of its source when known), what, and what to do."""

    cell: int | None
    where: str
    line: int | None
    message: str
    fix: str
    tex_error: bool = False  # a LaTeX error (the PDF cannot be made) rather than a missing character

    def __str__(self) -> str:
        line = f", line {self.line}" if self.line else ""
        return f"{self.where}{line}: {self.message}; fix: {self.fix}"


@dataclass
class Build:
    """A successful xelatex build."""

    pdf: Path
    page_count: int
    marks: list[tuple[str, str, int]]  # (start|end, section id, page)
    warnings: list[str] = field(default_factory=list)


def require_tools() -> None:
    """xelatex and pandoc are needed for the PDF; say how to get them when they are missing."""
    missing = [tool for tool in ("xelatex", "pandoc") if shutil.which(tool, path=tool_env()["PATH"]) is None]
    if missing:
        raise LatexError(
            f"{' and '.join(missing)} not found: install them (Debian/Ubuntu: `sudo apt-get install texlive-xetex "
            "texlive-fonts-recommended texlive-plain-generic pandoc`; in the course repository `make setup` does it), "
            "or export HTML instead with --html"
        )


def build(
    tex: str,
    files: dict[str, bytes],
    out: Path,
    *,
    texinputs: Path,
    cells: Sequence[CellLabel],
    log: Callable[[str], None] = print,
) -> Build:
    """Typeset `tex` (plus its figure `files`) in a scratch folder and copy the PDF to `out`.

    Two passes: the first (no PDF output, fast) records the pages that the title page's outline refers to,
    the second writes the PDF. Raises LatexError naming the cell that broke LaTeX.
    """
    require_tools()
    job = "notebook"
    tex_lines = tex.splitlines()
    with tempfile.TemporaryDirectory(prefix="gradescope-pdf-") as scratch:
        folder = Path(scratch)
        _write_sources(folder, job, tex, files)
        for number, extra in ((1, ["-no-pdf"]), (2, [])):
            ok, log_text = _xelatex(folder, job, extra, texinputs)
            if not ok:
                raise _failure(log_text, tex, cells)
            log(f"xelatex pass {number}/2 done")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / f"{job}.pdf", out)
        glyphs = glyph_problems(missing_characters(log_text), cells)
        return Build(
            pdf=out,
            page_count=page_count(log_text),
            marks=read_marks(folder / f"{job}.gspages"),
            warnings=overfull_warnings(log_text, tex_lines, cells) + [str(problem) for problem in glyphs],
        )


def _xelatex(folder: Path, job: str, extra: list[str], texinputs: Path, *, halt: bool = True) -> tuple[bool, str]:
    """One xelatex pass in `folder`: whether it succeeded, and its log. `halt=False` lets TeX go on after
    an error, so that one pass reports the errors of every cell."""
    env = tool_env(
        TEXINPUTS=f"{texinputs}{os.pathsep}",  # the trailing separator keeps TeX's own search path
        max_print_line="10000",  # one log line per message, so that messages can be parsed
        error_line="254",
        half_error_line="238",
    )
    stop = ["-halt-on-error"] if halt else []
    cmd = ["xelatex", "-interaction=nonstopmode", *stop, "-file-line-error", *extra, f"{job}.tex"]
    try:
        proc = subprocess.run(
            cmd, cwd=folder, env=env, capture_output=True, text=True, errors="replace", timeout=PASS_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise LatexError(f"xelatex ran over {PASS_TIMEOUT}s on one pass and was stopped") from None
    log_text = _read_log(folder / f"{job}.log") or proc.stdout
    made = "-no-pdf" in extra or (folder / f"{job}.pdf").exists()
    return proc.returncode == 0 and made, log_text


def _failure(log_text: str, tex: str, cells: Sequence[CellLabel]) -> LatexError:
    """The error to raise for a failed pass; the LaTeX and the log are kept for whoever wants the details."""
    error = first_error(log_text)
    cell = locate(error, log_text, tex.splitlines()) if error else None
    label = cells[cell] if cell is not None and cell < len(cells) else None
    message = explain(error, label) if error else _no_message(log_text)
    kept = Path(tempfile.mkdtemp(prefix="gradescope-latex-"))
    (kept / "notebook.tex").write_text(tex, encoding="utf-8")
    (kept / "notebook.log").write_text(log_text, encoding="utf-8")
    return LatexError(f"{message}\n(For experts: the LaTeX and xelatex's log are in {kept})", error, cell)


def compiles(tex: str, files: dict[str, bytes], *, texinputs: Path) -> bool:
    """Whether one quick xelatex pass (no PDF) gets through `tex`: the probe of the search for a bad cell."""
    with tempfile.TemporaryDirectory(prefix="gradescope-probe-") as scratch:
        _write_sources(Path(scratch), "probe", tex, files)
        return _xelatex(Path(scratch), "probe", ["-no-pdf"], texinputs)[0]


def _write_sources(folder: Path, job: str, tex: str, files: dict[str, bytes]) -> None:
    (folder / f"{job}.tex").write_text(tex, encoding="utf-8")
    for name, blob in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(blob)


def _read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def page_count(log_text: str) -> int:
    found = re.search(r"Output written on .*?\((\d+) pages?", log_text)
    if not found:
        raise LatexError("xelatex finished but its log does not say how many pages it wrote")
    return int(found.group(1))


def read_marks(path: Path) -> list[tuple[str, str, int]]:
    """The page records written by the template, in the order the pages were shipped out."""
    marks = []
    for line in _read_log(path).splitlines():
        kind, section, page = line.split()
        marks.append((kind, section, int(page)))
    return marks


def cell_at(tex_lines: Sequence[str], line: int) -> int | None:
    """The prepared-notebook cell whose LaTeX contains 1-based `line` (the last `% gs-cell` mark above it)."""
    for number in range(min(line, len(tex_lines)), 0, -1):
        found = CELL_MARK.match(tex_lines[number - 1])
        if found:
            return int(found.group(1))
    return None


def tex_errors(log_text: str) -> list[TexError]:
    """Every error of a -file-line-error log, in order: its message, line, and the text around the stop."""
    lines = log_text.splitlines()
    found_errors = []
    for i, text in enumerate(lines):
        found = re.match(r"^(?:.*?\.tex):(\d+): (.*)$", text) or re.match(r"^! (.*)$", text)
        if not found:
            continue
        line = int(found.group(1)) if found.lastindex == 2 else None
        message = found.group(found.lastindex).strip()
        before = after = ""
        for j in range(i + 1, min(i + 40, len(lines))):
            context = re.match(r"^l\.(\d+) ?(.*)$", lines[j])
            if context:
                line = int(context.group(1))
                before = context.group(2)
                after = lines[j + 1].strip() if j + 1 < len(lines) else ""
                break
        found_errors.append(TexError(message, line, before, after))
    return found_errors


def first_error(log_text: str) -> TexError | None:
    """The first error of a -file-line-error log."""
    return next(iter(tex_errors(log_text)), None)


def locate(error: TexError, log_text: str, tex_lines: Sequence[str]) -> int | None:
    """The cell an error comes from: by its line, or for a runaway argument (an unclosed brace, reported at
    the end of the file) by where the argument's text starts."""
    if error.line is not None:
        return cell_at(tex_lines, error.line)
    runaway = re.search(r"^Runaway argument\?\n(.*)$", log_text, re.M)
    if runaway:
        probe = re.sub(r"\s+", "", runaway.group(1).split(" \\par")[0])[:30]
        for number, text in enumerate(tex_lines, start=1):
            if probe and probe in re.sub(r"\s+", "", text):
                return cell_at(tex_lines, number)
    return None


SINGLE_CHARACTER = {"Misplaced alignment tab": "&", "Double superscript": "^", "Double subscript": "_"}


def construct_of(error: TexError) -> str:
    """The piece of LaTeX that broke: an unknown command or environment, a file, else the text at the stop."""
    message = error.message
    for pattern, template in (
        (r"Environment (\S+) undefined", "\\begin{{{}}}"),
        (r"File `([^']+)' not found", "{}"),
        (r"picture or PDF file '([^']+)'", "{}"),
        (r"use of (\\[A-Za-z@]+)", "{}"),
    ):
        found = re.search(pattern, message)
        if found:
            return template.format(found.group(1))
    commands = re.findall(r"\\[A-Za-z@]+\*?|\\.", error.before)
    if "Undefined control sequence" in message and commands:
        return commands[-1]
    single = next((char for key, char in SINGLE_CHARACTER.items() if key in message), None)
    if single:
        return single
    text = re.sub(r"\\gsfit\{|\\[\[\]()]", " ", error.before)  # our wrappers are not the student's
    return " ".join(text.split())[-40:] or error.after[:40]


def _hint(message: str) -> str:
    return next((hint for key, hint in HINTS.items() if key in message), "check the LaTeX of this cell")


def _source_line(label: CellLabel, construct: str) -> tuple[int, str] | None:
    """(1-based number, text) of the first line of the cell's own source that holds `construct`."""
    probe = construct.strip()
    if not probe:
        return None
    for number, text in enumerate(label.source.splitlines(), start=1):
        if probe in text:
            return number, text
    return None


def _quote_source(label: CellLabel, construct: str) -> str:
    """The line of the cell's own source that holds `construct`, when it can be found there."""
    found = _source_line(label, construct)
    if found is None:
        return ""
    number, text = found
    shown = text.strip()
    shown = shown if len(shown) <= 160 else shown[:157] + "..."
    return f"\n  line {number} of the cell: {shown}"


def explain(error: TexError, label: CellLabel | None) -> str:
    """Which cell, which construct, what to do, in words (the first error of the log only)."""
    construct = construct_of(error)
    message = error.message.removeprefix("LaTeX Error: ").rstrip(". ")
    where = label.description if label else "the PDF (the error could not be traced to a cell)"
    quote = _quote_source(label, construct) if label else ""
    return (
        f"LaTeX cannot typeset {where}:\n"
        f"  {message}, at `{construct}`{quote}\n"
        f"  fix: {_hint(message)}; then export again (or use --html, which needs no LaTeX)."
    )


def _no_message(log_text: str) -> str:
    tail = [line for line in log_text.splitlines() if line.strip()][-3:]
    return "xelatex stopped without an error message; the end of its log:\n  " + "\n  ".join(tail)


def overfull_warnings(log_text: str, tex_lines: Sequence[str], cells: Sequence[CellLabel]) -> list[str]:
    """Cells with lines wider than the text (they may run into or past the margin), widest first."""
    widest: dict[int | None, float] = {}
    for found in re.finditer(r"Overfull \\hbox \(([\d.]+)pt too wide\)[^\n]*?lines? (\d+)", log_text):
        points, line = float(found.group(1)), int(found.group(2))
        if points < OVERFULL_PT:
            continue
        index = cell_at(tex_lines, line)
        widest[index] = max(points, widest.get(index, 0.0))
    out = []
    for index, points in sorted(widest.items(), key=lambda item: -item[1]):
        where = cells[index].description if index is not None and index < len(cells) else "the title block"
        out.append(f"{where}: a line is {points:.0f}pt wider than the text and may run into the margin")
    return out


def missing_characters(log_text: str) -> list[str]:
    """Characters the fonts lack, in code point order: xelatex leaves them out of the PDF and only says so
    in its log."""
    found = set()
    for match in re.finditer(r"Missing character: There is no (.+?) (?:\(U\+([0-9A-F]+)\) )?in font", log_text):
        found.add(chr(int(match.group(2), 16)) if match.group(2) else match.group(1))
    return sorted(found)


CJK = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FFFF))
EMOJI = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0xFE00, 0xFE0F), (0x200D, 0x200D), (0xE0020, 0xE007F))


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= ord(char) <= high for low, high in ranges)


def glyph_fix(char: str) -> str:
    """What a student should write instead of a character no font of the PDF has."""
    if _within(char, CJK):
        return (
            "the PDF's fonts have no Chinese, Japanese or Korean characters: write this in English, or export "
            "HTML with --html and print that to PDF"
        )
    if _within(char, EMOJI):
        return "emoji cannot be printed in the PDF: delete it, or say it in words"
    return (
        "write it as LaTeX instead, e.g. a symbol as its math command inside $...$ ($\\blacksquare$, "
        "$\\checkmark$, $\\heartsuit$), or in words"
    )


def _describe_char(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"{char} (U+{ord(char):04X}{' ' + name if name else ''})"


def glyph_problems(chars: Sequence[str], cells: Sequence[CellLabel]) -> list[TypesetProblem]:
    """Where each missing character is: one problem per cell line (or cell output) holding some of them; a
    character found in no cell comes from the title block (the name or the title)."""
    problems, placed = [], set()
    for label in cells:
        for where, text, numbered in (
            (label.description, label.source, True),
            (f"{label.description}, in its output", label.outputs, False),
        ):
            for number, line in enumerate(text.splitlines(), start=1):
                here = [char for char in chars if char in line]
                if not here:
                    continue
                placed.update(here)
                problems.append(_glyph_problem(here, label.cell, where, number if numbered else None))
                if not numbered:
                    break  # one line of output is enough to find it
    rest = [char for char in chars if char not in placed]
    if rest:
        problems.append(_glyph_problem(rest, None, "the title page (the name or the title)", None))
    return problems


def _glyph_problem(chars: list[str], cell: int | None, where: str, line: int | None) -> TypesetProblem:
    shown = ", ".join(_describe_char(char) for char in chars)
    pronoun = "it" if len(chars) == 1 else "they"
    message = f"the PDF's fonts have no {shown}: {pronoun} would be left out of the PDF or print as empty boxes"
    fixes = list(dict.fromkeys(glyph_fix(char) for char in chars))  # one fix per kind of character, in order
    return TypesetProblem(cell, where, line, message, "; ".join(fixes))


def typeset_problems(
    tex: str, files: dict[str, bytes], cells: Sequence[CellLabel], *, texinputs: Path
) -> list[TypesetProblem]:
    """Typeset `tex` once without stopping at errors and say what went wrong, by cell: the first LaTeX error
    of each cell (with the line of its source and the fix) and the characters the fonts lack."""
    require_tools()
    with tempfile.TemporaryDirectory(prefix="gradescope-check-") as scratch:
        _write_sources(Path(scratch), "check", tex, files)
        ok, log_text = _xelatex(Path(scratch), "check", ["-no-pdf"], texinputs, halt=False)
    tex_lines = tex.splitlines()
    problems, seen = [], set()
    for error in tex_errors(log_text):
        index = locate(error, log_text, tex_lines)
        if index in seen:
            continue
        seen.add(index)
        problems.append(_error_problem(error, cells[index] if index is not None and index < len(cells) else None))
    problems += glyph_problems(missing_characters(log_text), cells)
    if not ok and not any(p.tex_error for p in problems):
        problems.append(TypesetProblem(None, "the PDF", None, _no_message(log_text), "export again", tex_error=True))
    return problems


def _error_problem(error: TexError, label: CellLabel | None) -> TypesetProblem:
    construct = construct_of(error)
    message = error.message.removeprefix("LaTeX Error: ").rstrip(". ")
    found = _source_line(label, construct) if label else None
    return TypesetProblem(
        cell=label.cell if label else None,
        where=label.description if label else "the title block (the error could not be traced to a cell)",
        line=found[0] if found else None,
        message=f"LaTeX cannot typeset this: {message}, at `{construct}`",
        fix=_hint(message),
        tex_error=True,
    )
