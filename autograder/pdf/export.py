"""The Gradescope export of a notebook: a PDF through nbconvert's LaTeX route, or the same as standalone HTML.

The notebook is first *prepared* (a copy) for one of three editions:

- `submission` (a student's PDF, the default): statements; each written answer in a frame labelled
  "Answer" with its grade_id and points; the student's own code with its outputs; test cells replaced by one
  line each ("Tests q1_loss_tests (3 points): passed" / "failed: ..." / "not run", from the saved outputs);
  the instructor's locked code (setup, data, helpers, demonstrations) without its source, outputs kept.
- `instructor` (the answer key with its tests): every cell's source, hidden tests and solution markers
  included, answers framed, and the test result lines.
- `public` (the answer key for students after the due date): statements, answers, solution code without
  the solution markers, plots; no test cells, no grade_ids or points in labels, no page map file.

Every problem starts on a new page; where the spec asks for it (`pdf_code_appendix`) a final "Code" section
lists the code cells under the problem they belong to (code then shows only there; tests only in the
instructor edition). The templates under templates/ turn the marks into page breaks and page records; beside
OUT.pdf, OUT.pages.json says which pages each problem and each graded part (written answer, test) occupies,
in notebook order, the order of the Gradescope outline.
"""

from __future__ import annotations

import base64
import copy
import json
import mimetypes
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, LatexExporter
from nbconvert.filters import escape_latex
from nbconvert.utils.pandoc import PandocMissing, pandoc

from autograder.course import cells as nbu
from autograder.course import identify
from autograder.course.spec import Spec, select
from autograder.errors import ExportError, LatexError
from autograder.pdf import latex as pdf
from autograder.pdf.latex import CellLabel, TypesetProblem

__all__ = [
    "EDITIONS",
    "ExportError",
    "ExportResult",
    "TypesetProblem",
    "check_written_answers",
    "export_html",
    "export_pdf",
    "homework_of",
    "student_name",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAME_ID = "student_name"  # grade_id of the cell holding the student's name (docs/authoring.md)
NOT_GIVEN = "not given"
STUBS = ("YOUR ANSWER HERE",)
MARKERS = (nbu.SOLUTION_BEGIN, nbu.SOLUTION_END, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END)
SOLUTION_MARKERS = (nbu.SOLUTION_BEGIN, nbu.SOLUTION_END)
FRONT, CODE = "front", "code"
SUBMISSION, INSTRUCTOR, PUBLIC = "submission", "instructor", "public"
EDITIONS = (SUBMISSION, INSTRUCTOR, PUBLIC)
# Page records of single cells: "cell-<grade_id>" where the cell shows in the body, "listing-<grade_id>" for
# its copy in the Code section. Section records use the problem ids, "front", "code" and "code-<pid>".
CELL, LISTING = "cell-", "listing-"
PASSED, FAILED, NOT_RUN = "passed", "failed", "notrun"
MESSAGE_CHARS = 160  # of a failed test's message in its result line
DISPLAY_MATH = re.compile(r"(?<!\\)\\\[(.*?)(?<!\\)\\\]", re.S)
UNSCALABLE = re.compile(r"\\(tag|label|begin\{(align|equation|gather|multline|eqnarray)\*?\})")
LONG_WORD = 20  # characters: longer words and inline code get break points, so they cannot overrun the margin
BREAK_CHARS = "/_.-=,;:?&"
RUN = 16  # characters without a break character before a forced break point
TABLE_WORD = 8
# Characters below this code point are typeset by the main fonts (Latin, Latin-1, Latin Extended-A); above
# it, the template lets each character fall back to the math font where the text font lacks it.
FALLBACK_FROM = 0x0180
PRIMES = set(range(0x2032, 0x2038)) | {0x2057}  # math-active under unicode-math: left alone
# Dashes, quotes, bullets, ellipsis, per mille: the text fonts have them, and an active character would stop
# the word it is in from being hyphenated.
PUNCTUATION = set(range(0x2010, 0x2028)) | {0x2030, 0x2039, 0x203A}
PANDOC_FIX = "install pandoc (`sudo apt-get install pandoc`; in the course repository, `make setup`)"


@dataclass
class ExportResult:
    pdf: Path
    pages: Path | None  # OUT.pages.json (None for the public edition, which carries no grading metadata)
    page_map: dict
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def default_title(spec: Spec) -> str:
    return f"{spec.id.upper()}: {spec.title}"


def pages_path(out: Path) -> Path:
    """`hw3.pdf` -> `hw3.pages.json`, beside it."""
    return out.with_suffix(".pages.json")


def homework_of(nb, path: Path | None = None, specs: list[Spec] | None = None) -> Spec:
    """The homework a notebook belongs to (autograder/course/identify.py: the cells decide, then the file name)."""
    try:
        return identify.homework_of(nb, path, specs)
    except identify.UnknownHomework as exc:
        raise ExportError(str(exc)) from None


def _drop_markers(text: str, markers: tuple[str, ...] = MARKERS) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() not in markers)


def student_name(nb) -> str | None:
    """The name written in the `student_name` cell, or None when the cell is absent or still blank."""
    for cell in nb.cells:
        if nbu.grade_id(cell) != NAME_ID:
            continue
        text = _drop_markers(cell.source)
        for stub in STUBS:
            text = text.replace(stub, "")
        text = re.sub(r"[*`#>]|(?<!\w)_+|_+(?!\w)", "", text)  # markdown emphasis, not a name's own _
        text = re.sub(r"^\s*name\s*:\s*", "", text.strip(), flags=re.I)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[0] if lines else None
    return None


# ---------------------------------------------------------------------------------------------------------
# Filters of the LaTeX template


def fit_display_math(latex: str) -> str:
    """Wrap each display equation so that one wider than the line is scaled down to it (\\gsfit)."""

    def wrap(found: re.Match) -> str:
        body = found.group(1)
        return found.group(0) if UNSCALABLE.search(body) else "\\[\\gsfit{" + body + "}\\]"

    return DISPLAY_MATH.sub(wrap, latex)


def _pieces(text: str, run: int) -> list[str]:
    """`text` cut after / _ . - = , ; : ? & and after every `run` characters without one of them."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in BREAK_CHARS or len(current) >= run:
            pieces.append(current)
            current = ""
    return pieces + [current] if current else pieces


def _breakable(node, limit: int = LONG_WORD):
    """Pandoc AST walk: words (URLs, identifiers) and inline code longer than `limit` get \\allowbreak
    points; inside tables, whose columns are narrow, the limit is lower."""
    if isinstance(node, list):
        out = []
        for item in node:
            out.extend(_breakable_inline(item, limit) if isinstance(item, dict) else [_breakable(item, limit)])
        return out
    if isinstance(node, dict):
        limit = TABLE_WORD if node.get("t") == "Table" else limit
        return {key: _breakable(value, limit) for key, value in node.items()}
    return node


def _breakable_inline(item: dict, limit: int) -> list:
    kind = item.get("t")
    if kind == "Str" and len(item["c"]) > limit:
        texts = [{"t": "Str", "c": piece} for piece in _pieces(item["c"], min(RUN, limit))]
    elif kind == "Code" and len(item["c"][1]) > limit:
        texts = [{"t": "Code", "c": [item["c"][0], piece]} for piece in _pieces(item["c"][1], min(RUN, limit))]
    else:
        return [_breakable(item, limit)]
    allow = {"t": "RawInline", "c": ["latex", "\\allowbreak{}"]}
    out = []
    for piece in texts:
        out.extend([piece, allow])
    return out[:-1]


def breakable_words(pandoc_json: str) -> str:
    """Filter for the template, between pandoc's markdown reader and its LaTeX writer."""
    return json.dumps(_breakable(json.loads(pandoc_json)))


def breakable_text(text: str) -> str:
    """Plain text (a label, a test's message) as LaTeX, with break points in long words."""
    words = []
    for word in text.split(" "):
        pieces = _pieces(word, RUN) if len(word) > LONG_WORD else [word]
        words.append("\\allowbreak{}".join(escape_latex(piece) for piece in pieces))
    return " ".join(words)


def wrapped_verbatim(latex: str) -> str:
    """pandoc's `verbatim` (a markdown code block without a language) as the template's Verbatim, which
    wraps long lines instead of running them into the margin (Highlighting, with a language, is wrapped by
    the template itself)."""
    # The style's Verbatim needs an option: it passes its optional argument on to fancyvrb (default "1").
    latex = latex.replace("\\begin{verbatim}", "\\begin{Verbatim}[numbers=none]")
    return latex.replace("\\end{verbatim}", "\\end{Verbatim}")


def boxable(latex: str) -> str:
    """A written answer's LaTeX made fit for its frame (a breakable box): pandoc's longtables become
    tabulars and its figures centred images, since neither floats nor longtables can live in a box."""
    latex = re.sub(r"\\begin\{longtable\}(\[[^\]]*\])?", r"\\begin{tabular}", latex)
    latex = latex.replace("\\end{longtable}", "\\end{tabular}")
    latex = re.sub(r"^\s*\\end(first)?head\s*$|^\s*\\end(last)?foot\s*$", "", latex, flags=re.M)
    latex = re.sub(r"\\begin\{figure\}(\[[^\]]*\])?", r"\\begin{center}", latex)
    latex = latex.replace("\\end{figure}", "\\end{center}")
    return latex.replace("\\caption{", "\\captionof{figure}{")


# ---------------------------------------------------------------------------------------------------------
# Preparing the notebook


def _cell_kind(cell) -> str:
    return {"markdown": "written (markdown)", "code": "code", "raw": "raw"}.get(cell.cell_type, cell.cell_type)


def _describe(index: int, cell, heading: str | None) -> str:
    gid = nbu.grade_id(cell)
    place = f", in '{heading}'" if heading else ""
    return f"the {_cell_kind(cell)} cell {index + 1} of the notebook ({gid or 'no grade_id'}{place})"


NAME, ANSWER, TEST, SOLUTION, PROVIDED, STATEMENT, OTHER = (
    "name",
    "answer",
    "test",
    "solution",
    "provided",
    "statement",
    "other",
)


def role(cell) -> str:
    """What a cell is to the export: the name cell, a written answer, a test, answer code (solution), the
    instructor's locked code (provided) or markdown (statement), or a cell the student added (other)."""
    m = nbu.meta(cell)
    if nbu.grade_id(cell) == NAME_ID:
        return NAME
    if nbu.is_autograded_test(cell):
        return TEST
    if m.get("solution"):
        return ANSWER if cell.cell_type == "markdown" else SOLUTION
    if m.get("locked"):
        return PROVIDED if cell.cell_type == "code" else STATEMENT
    return OTHER


def _safe_id(gid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", gid)


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def test_result(cell) -> tuple[str, str]:
    """(state, words) of a test cell from its saved outputs: passed, failed with the error's first line, or
    not run."""
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if error is not None:
        evalue = (str(error.get("evalue", "")).strip().splitlines() or [""])[0]
        message = f"{error.get('ename', 'Error')}: {evalue}".strip().rstrip(":")
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 3] + "..."
        return FAILED, f"failed: {message}"
    if cell.get("execution_count") is None:
        return NOT_RUN, "not run in the saved notebook"
    return PASSED, "passed"


def _prompt_of(cells: list, index: int) -> str | None:
    """The first line of the locked markdown above a written answer (its sub-part's prompt), as plain text;
    None when another answer or test comes first."""
    for cell in reversed(cells[:index]):
        kind = role(cell)
        if kind in (ANSWER, TEST):
            return None
        if kind == STATEMENT and cell.source.strip():
            text = re.sub(r"[*_`#]", "", cell.source.strip().splitlines()[0]).strip()
            return text[:100] or None
    return None


class _Builder:
    """Accumulates the prepared notebook's cells with their marks and their labels for messages."""

    def __init__(self) -> None:
        self.cells: list = []
        self.labels: list[CellLabel] = []
        self.titles: dict[str, str] = {FRONT: "Title page and set-up"}  # section id -> title

    def add(
        self, cell, description: str, *, start: str | None = None, new_page: bool = False, index: int | None = None
    ) -> dict:
        mark = {"position": len(self.cells), "end": []}
        if start:
            mark.update(start=start, new_page=new_page)
            self.titles.setdefault(start, description)
        cell.metadata["gradescope"] = mark  # stored as a copy (a NotebookNode): return that one
        self.cells.append(cell)
        self.labels.append(
            CellLabel(description, cell.source, cell.cell_type == "markdown", index, _outputs_text(cell))
        )
        return cell.metadata["gradescope"]

    def end(self, section: str) -> None:
        self.cells[-1].metadata["gradescope"]["end"].append(section)


def _outputs_text(cell) -> str:
    """The text a code cell's outputs print (where a character the fonts lack may come from)."""
    texts = []
    for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
        texts.append(str(output.get("text", "")))
        texts.append(str(output.get("data", {}).get("text/plain", "")))
        texts.append(str(output.get("evalue", "")))
        texts.extend(str(line) for line in output.get("traceback", []))
    return "\n".join(t for t in texts if t)


def _shape_cell(cell, kind: str, edition: str, appendix: bool, mark: dict) -> None:
    """Mark and trim one cell of the prepared copy for `edition` (the copy is ours to change)."""
    gid = nbu.grade_id(cell) or ""
    m = nbu.meta(cell)
    if cell.cell_type == "markdown":
        cell.source = _drop_markers(cell.source)
    if kind == ANSWER:
        label = "Answer" if edition == PUBLIC or not gid else f"Answer: {gid}"
        if edition != PUBLIC and m.get("grade"):
            label += f" ({_points(nbu.points(cell))})"
        elif edition != PUBLIC:
            label += " (not graded)"
        mark.update(answer=label, track=CELL + _safe_id(gid) if gid else None)
    if cell.cell_type != "code":
        return
    if kind == SOLUTION and edition != INSTRUCTOR:
        cell.source = _drop_markers(cell.source, SOLUTION_MARKERS)
    if kind == TEST:
        state, words = test_result(cell)
        mark.update(result=f"Tests {gid} ({_points(nbu.points(cell))}): {words}", state=state)
        if edition != INSTRUCTOR:
            cell.outputs = []  # the result line says what they showed
    hidden = (kind in (TEST, PROVIDED) and edition != INSTRUCTOR) or appendix
    if hidden:
        cell.metadata.setdefault("transient", {})["remove_source"] = True
    if gid and kind in (SOLUTION, TEST):
        mark["track"] = CELL + _safe_id(gid)


def _parts(nb, spec: Spec, sections: list[nbu.Section], edition: str) -> list[dict]:
    """The graded cells in notebook order (the Gradescope outline's order): written answers and tests, with
    the answer code cell each test judges (the nearest answer code cell above it in its problem)."""
    problem_of = {i: s.problem_id for s in sections for i in s.cells}
    parts, judged = [], None
    for index, cell in enumerate(nb.cells):
        kind, gid = role(cell), nbu.grade_id(cell)
        if problem_of.get(index) is None or not gid:
            continue
        if kind == SOLUTION:
            judged = gid
        graded = bool(nbu.meta(cell).get("grade"))
        if not graded or kind not in (ANSWER, TEST) or (kind == TEST and edition == PUBLIC):
            continue
        problem = spec.problem_of(gid)
        parts.append(
            {
                "id": gid,
                "problem": problem.id if problem else problem_of[index],
                "kind": "written" if kind == ANSWER else "autograded",
                "points": nbu.points(cell),
                "prompt": _prompt_of(nb.cells, index) if kind == ANSWER else None,
                "judges": judged if kind == TEST else None,
            }
        )
    return parts


def prepare(
    nb, spec: Spec, *, title: str, name: str, edition: str = SUBMISSION
) -> tuple[nbformat.NotebookNode, list[CellLabel]]:
    """The notebook as it is exported in `edition`: title data, page marks, answer frames, test result
    lines, the Code appendix where the spec wants it."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, not {edition!r}")
    out = copy.deepcopy(nb)
    sections = nbu.sections(out)
    section_of = {i: s for s in sections for i in s.cells}
    first_problem = sections[0].cells[0] if sections else len(out.cells)
    appendix = spec.pdf_code_appendix
    built = _Builder()
    for index, cell in enumerate(out.cells):
        section = section_of.get(index)
        starts = section is not None and index == section.cells[0]
        kind = role(cell)
        if starts:
            built.titles[section.problem_id] = section.heading
        if kind != TEST or edition != PUBLIC or starts:
            mark = built.add(
                cell,
                _describe(index, cell, section.heading if section else None),
                start=section.problem_id if starts else None,
                new_page=starts,
                index=index,
            )
            _shape_cell(cell, kind, edition, appendix and cell.cell_type == "code", mark)
        if index == first_problem - 1:
            built.end(FRONT)
        if section is not None and index == section.cells[-1]:
            built.end(section.problem_id)
    outline = [{"id": s.problem_id, "title": s.heading} for s in sections]
    if appendix:
        _append_code(built, nb, sections, first_problem, edition)
        outline.append({"id": CODE, "title": "Code"})
    out.cells = built.cells
    out.metadata["title"] = title
    out.metadata["gradescope"] = {
        "title": title,
        "name": name,
        "due": spec.due.isoformat() if spec.due else "",
        "outline": outline,
        "front_empty": first_problem == 0,
        "titles": built.titles,
        "edition": edition,
        "parts": _parts(nb, spec, sections, edition),
    }
    out.metadata["gradescope"]["fallback_chars"] = fallback_chars(out)
    return out, built.labels


def fallback_chars(nb) -> list[str]:
    """Characters of the notebook (sources, outputs, title data) past Latin Extended-A: the template lets
    each fall back to the math font where the text font lacks it (Greek letters, ∎, arrows, ...)."""
    texts = [cell.source for cell in nb.cells] + [_outputs_text(cell) for cell in nb.cells]
    texts.append(json.dumps(nb.metadata.get("gradescope", {}), ensure_ascii=False))
    found = {char for text in texts for char in text if ord(char) >= FALLBACK_FROM}
    return sorted(char for char in found if ord(char) not in PRIMES | PUNCTUATION and char.isprintable())


def _append_code(built: _Builder, nb, sections: list[nbu.Section], first_problem: int, edition: str) -> None:
    """The "Code" section: the code cells in notebook order, under a heading per problem (hw4's handout
    wants all code at the end, labelled by problem, runnable in that order). Test cells are the grader's,
    so only the instructor edition lists them."""
    intro = "The code cells of the notebook, in order, under the problem they belong to."
    if edition != INSTRUCTOR:
        intro += " Test cells are not listed."
    built.titles[CODE] = "Code"
    heading = nbformat.v4.new_markdown_cell(f"# Code\n\n{intro}")
    built.add(heading, "the heading of the Code section", start=CODE, new_page=True)
    groups = [("setup", "Setup (before the first problem)", range(first_problem))]
    groups = [g for g in groups if any(nb.cells[i].cell_type == "code" for i in g[2])]
    groups += [(s.problem_id, s.heading, s.cells) for s in sections]

    def listed(i: int) -> bool:
        cell = nb.cells[i]
        return cell.cell_type == "code" and bool(cell.source.strip()) and (edition == INSTRUCTOR or role(cell) != TEST)

    for gid, heading, indices in groups:
        code = [i for i in indices if listed(i)]
        text = f"## Code for {heading}" + ("" if code else "\n\nNo code cells belong to this problem.")
        built.titles[f"code-{gid}"] = f"Code for {heading}"
        built.add(nbformat.v4.new_markdown_cell(text), f"the Code section's heading for {heading}", start=f"code-{gid}")
        for i in code:
            source, kind = nb.cells[i].source, role(nb.cells[i])
            if edition != INSTRUCTOR:
                source = _drop_markers(source, SOLUTION_MARKERS)
            listing = nbformat.v4.new_code_cell(source)
            listing.metadata["nbgrader"] = copy.deepcopy(nbu.meta(nb.cells[i]))
            where = f"the code cell {i + 1} ({nbu.grade_id(nb.cells[i]) or 'no grade_id'}) as listed under Code"
            mark = built.add(listing, where, index=i)
            if nbu.grade_id(nb.cells[i]) and kind in (SOLUTION, TEST):
                mark["track"] = LISTING + _safe_id(nbu.grade_id(nb.cells[i]))
        built.end(f"code-{gid}")
    built.end(CODE)


def _refuse_svg_only(prepared, labels: list[CellLabel]) -> None:
    """nbconvert turns SVG-only figures into PDF with Inkscape; without it, say which cell and what to do
    rather than let the figure fail deep inside nbconvert."""
    if shutil.which("inkscape"):
        return
    for cell, label in zip(prepared.cells, labels, strict=True):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            kinds = set(output.get("data", {}))
            if "image/svg+xml" in kinds and not kinds & {"image/png", "image/jpeg", "application/pdf"}:
                raise ExportError(
                    f"{label.description} has a figure in SVG only, which the PDF cannot include without "
                    "Inkscape: draw it as PNG (matplotlib's default; remove `InlineBackend.figure_formats = "
                    "['svg']`), run the notebook again, or export HTML with --html"
                )


def _latex_exporter() -> LatexExporter:
    exporter = LatexExporter(template_name="gradescope_latex", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_filter("gs_fit_display_math", fit_display_math)
    exporter.register_filter("gs_breakable_words", breakable_words)
    exporter.register_filter("gs_breakable_text", breakable_text)
    exporter.register_filter("gs_boxable", boxable)
    exporter.register_filter("gs_wrapped_verbatim", wrapped_verbatim)
    exporter.register_filter("gs_codepoint", lambda char: f"{ord(char):04X}")
    return exporter


def _first_breaking_cell(prepared, texinputs: Path) -> int | None:
    """Binary search over prefixes of the prepared notebook for the cell whose LaTeX breaks the build, for
    errors TeX only notices at the end of the file (an unclosed brace). About log2(cells) quick passes."""
    exporter = _latex_exporter()

    def fails(count: int) -> bool:
        part = copy.copy(prepared)
        part.cells = prepared.cells[:count]
        tex, resources = exporter.from_notebook_node(part, resources={"metadata": {"name": "notebook"}})
        return not pdf.compiles(tex, resources.get("outputs", {}), texinputs=texinputs)

    good, bad = 0, len(prepared.cells)
    if fails(good):
        return None  # the title block itself
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (good, middle) if fails(middle) else (middle, bad)
    return bad - 1


# ---------------------------------------------------------------------------------------------------------
# The page map


def _span_pages(span: list[int] | None) -> list[int]:
    return list(range(span[0], span[1] + 1)) if span else []


def page_map(build: pdf.Build, spec: Spec, prepared, out: Path) -> dict:
    """OUT.pages.json: the pages of every section (title page, problems, Code); per problem of the spec, the
    pages to tag in Gradescope (its own section and its part of the Code section); and per graded part, in
    notebook order, the pages of the written answer, or of a test's result line and the answer code it
    judges (`code_pages`: that code's listing in the Code section)."""
    spans: dict[str, list[int]] = {}
    for kind, section, page in build.marks:
        span = spans.setdefault(section, [page, page])
        if kind == "start":
            span[0] = min(span[0], page)
        span[1] = max(span[1], page)
    meta = prepared.metadata["gradescope"]
    titles = meta["titles"]
    ordered = sorted(
        ((sid, span) for sid, span in spans.items() if not sid.startswith((CELL, LISTING))),
        key=lambda item: item[1][0],  # stable: marks come in document order
    )
    sections = [{"id": sid, "title": titles.get(sid, sid), "first": a, "last": b} for sid, (a, b) in ordered]
    problems = []
    for problem in spec.problems:
        problems.append(
            {
                "id": problem.id,
                "title": titles.get(problem.id, problem.title),
                "points": problem.points,
                "extra_credit": problem.extra_credit,
                "pages": _span_pages(spans.get(problem.id)),
                "code_pages": _span_pages(spans.get(f"code-{problem.id}")),
            }
        )
    parts = []
    for part in meta["parts"]:
        pages = set(_span_pages(spans.get(CELL + _safe_id(part["id"]))))
        code_pages: set[int] = set()
        if part["judges"]:
            pages |= set(_span_pages(spans.get(CELL + _safe_id(part["judges"]))))
            code_pages = set(_span_pages(spans.get(LISTING + _safe_id(part["judges"]))))
        parts.append({**part, "pages": sorted(pages), "code_pages": sorted(code_pages)})
    return {
        "homework": spec.id,
        "title": meta["title"],
        "student": meta["name"],
        "edition": meta["edition"],
        "pdf": out.name,
        "page_count": build.page_count,
        "problems": problems,
        "parts": parts,
        "sections": sections,
    }


def _name_for(name: str | None, nb) -> str:
    return name or student_name(nb) or NOT_GIVEN


def _to_latex(exporter: LatexExporter, prepared, workdir: Path) -> tuple[str, dict]:
    try:
        return exporter.from_notebook_node(prepared, resources={"metadata": {"name": "notebook", "path": str(workdir)}})
    except PandocMissing:
        raise ExportError(f"pandoc not found: {PANDOC_FIX}, or export HTML with --html") from None


def export_pdf(
    nb,
    out: Path,
    *,
    spec: Spec,
    workdir: Path,
    title: str | None = None,
    name: str | None = None,
    edition: str = SUBMISSION,
    log: Callable[[str], None] = print,
) -> ExportResult:
    """Write `nb` (executed) as the Gradescope PDF `out`, and OUT.pages.json beside it (not for the public
    edition).

    `workdir` is the notebook's folder (images a markdown cell refers to are found there); `name` overrides
    the notebook's name cell (the answer keys use it); `edition` is one of EDITIONS (module docstring).
    Raises ExportError naming the cell that broke LaTeX. Characters the fonts lack come back as warnings
    that name the cell, the line and the fix.
    """
    started = time.monotonic()
    prepared, labels = prepare(nb, spec, title=title or default_title(spec), name=_name_for(name, nb), edition=edition)
    _refuse_svg_only(prepared, labels)
    log(f"[{spec.id}] converting {len(prepared.cells)} cells to LaTeX (pandoc, {edition} edition) ...")
    tex, resources = _to_latex(_latex_exporter(), prepared, workdir)
    try:
        build = pdf.build(
            tex,
            resources.get("outputs", {}),
            out,
            texinputs=workdir.resolve(),
            cells=labels,
            log=lambda message: log(f"[{spec.id}] {message}"),
        )
    except LatexError as exc:
        if exc.cell is not None or exc.error is None:
            raise
        log(f"[{spec.id}] xelatex's log does not say which cell broke LaTeX: searching for it ...")
        culprit = _first_breaking_cell(prepared, workdir.resolve())
        if culprit is None:
            raise
        raise LatexError(pdf.explain(exc.error, labels[culprit]), exc.error, culprit) from None
    pages = page_map(build, spec, prepared, out)
    written = None
    if edition != PUBLIC:
        written = pages_path(out)
        written.write_text(json.dumps(pages, indent=2) + "\n", encoding="utf-8")
    else:
        pages_path(out).unlink(missing_ok=True)  # a stale map from an earlier export would carry grade_ids
    return ExportResult(out, written, pages, build.warnings, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------------------
# Written answers alone: what preflight asks before a student exports


def check_written_answers(nb, *, workdir: Path | None = None) -> list[TypesetProblem]:
    """Typeset the notebook's written answers (every markdown cell that is not the instructor's: answers,
    the name, cells the student added) with the PDF's template, and return what would go wrong in the PDF:
    LaTeX errors and characters the fonts lack, each with its cell, line and fix. An empty list: fine.

    One xelatex pass that does not stop at errors; where several cells report errors, each is typeset alone
    to keep only the cells that fail by themselves (one unclosed brace can upset the cells after it). Needs
    xelatex and pandoc (raises ExportError naming them when missing). A few seconds.
    """
    pdf.require_tools()
    folder = (workdir or Path.cwd()).resolve()
    chosen = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and role(c) != STATEMENT]
    if not chosen:
        return []
    headings = {i: s.heading for s in nbu.sections(nb) for i in s.cells}
    sub = nbformat.v4.new_notebook()
    built = _Builder()
    for index, cell in chosen:
        copied = copy.deepcopy(cell)
        copied.source = _drop_markers(copied.source)
        built.add(copied, _describe(index, cell, headings.get(index)), index=index)
    sub.cells = built.cells
    name = student_name(nb) or NOT_GIVEN
    sub.metadata["gradescope"] = {"title": "", "name": name, "outline": [], "titles": {}}
    sub.metadata["gradescope"]["fallback_chars"] = fallback_chars(sub)
    exporter = _latex_exporter()
    tex, resources = _to_latex(exporter, sub, folder)
    problems = pdf.typeset_problems(tex, resources.get("outputs", {}), built.labels, texinputs=folder)
    failing = sorted({p.cell for p in problems if p.tex_error and p.cell is not None})
    if len(failing) > 1:
        problems = [p for p in problems if not p.tex_error] + _alone(exporter, sub, built, failing, folder)
    return sorted(problems, key=lambda p: (p.cell if p.cell is not None else -1, p.line or 0))


def _alone(exporter, sub, built: _Builder, failing: list[int], folder: Path) -> list[TypesetProblem]:
    """The LaTeX errors of each cell in `failing` (notebook indices) typeset by itself."""
    found = []
    for position, label in enumerate(built.labels):
        if label.cell not in failing:
            continue
        one = copy.copy(sub)
        one.cells = [copy.deepcopy(sub.cells[position])]
        one.cells[0].metadata["gradescope"]["position"] = 0
        tex, resources = exporter.from_notebook_node(one, resources={"metadata": {"name": "notebook"}})
        errors = pdf.typeset_problems(tex, resources.get("outputs", {}), [label], texinputs=folder)
        found += [p for p in errors if p.tex_error]
    return found


# ---------------------------------------------------------------------------------------------------------
# HTML


def _data_uri(mime: str, payload: str | bytes) -> str:
    data = payload if isinstance(payload, str) else base64.b64encode(payload).decode()
    return f"data:{mime};base64,{data.strip()}"


def _embedded(src: str, attachments: dict, folder: Path) -> str:
    """An image reference made self-contained: an attachment or a file beside the notebook as a data URI."""
    if src.startswith("attachment:"):
        bundle = attachments.get(src.removeprefix("attachment:"), {})
        for mime in ("image/png", "image/jpeg", "image/svg+xml", *bundle):
            if mime in bundle:
                payload = bundle[mime]
                return _data_uri(mime, payload.encode() if mime == "image/svg+xml" else payload)
        return src
    if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("//"):
        return src  # data:, or a remote image the student linked (not ours to fetch)
    path = (folder / src).resolve()
    if path.is_file() and path.is_relative_to(folder):
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return _data_uri(mime, path.read_bytes())
    return src


def markdown_html(source: str, attachments: dict | None = None, folder: Path | None = None) -> str:
    """Markdown as HTML with its math rendered now, as MathML (no MathJax, no network), and its images
    embedded. pandoc does both routes, so math that works in the PDF works here."""
    html = pandoc(source, "markdown+tex_math_double_backslash", "html", extra_args=["--mathml", "--wrap=none"])
    base = (folder or Path.cwd()).resolve()

    def embed(found: re.Match) -> str:
        return f'{found.group(1)}src="{_embedded(found.group(2), attachments or {}, base)}"'

    return re.sub(r'(<img\b[^>]*?)src="([^"]*)"', embed, html)


def export_html(
    nb,
    out: Path,
    *,
    spec: Spec,
    title: str | None = None,
    name: str | None = None,
    edition: str = SUBMISSION,
    workdir: Path | None = None,
) -> Path:
    """The same content as the PDF as one standalone HTML file that needs no network: figures embedded,
    math rendered at export time as MathML, no script. `workdir` is the notebook's folder (images that
    markdown refers to), by default the folder of `out`."""
    prepared, _ = prepare(nb, spec, title=title or default_title(spec), name=_name_for(name, nb), edition=edition)
    folder = workdir or out.parent
    exporter = HTMLExporter(template_name="gradescope_html", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.register_filter(
        "gs_markdown_html", lambda cell: markdown_html(cell.source, cell.get("attachments"), folder)
    )
    exporter.register_filter("gs_math_html", lambda text: markdown_html(text, None, folder))
    try:
        body, _ = exporter.from_notebook_node(prepared, resources={"metadata": {"name": out.stem, "path": str(folder)}})
    except PandocMissing:
        raise ExportError(f"pandoc not found: {PANDOC_FIX}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------------------------------
# The command


def command(notebook: Path, output: Path | None, html: bool, homework: str | None) -> int:
    """`python -m autograder pdf`: export, then say which pages to tag for each problem and graded part."""
    from autograder.student.preflight import load_notebook  # reads any student file with a clear error

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    nb = load_notebook(notebook)
    spec = select([homework])[0] if homework else homework_of(nb, notebook)
    if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        log(f"warning: {notebook} has no outputs (it was not run, or saved before running): the export shows code only")
    if html:
        out = export_html(nb, output or notebook.with_suffix(".html"), spec=spec, workdir=notebook.parent)
        print(f"wrote {out}: open it in a browser and print it to PDF, one problem per page")
        return 0
    result = export_pdf(nb, output or notebook.with_suffix(".pdf"), spec=spec, workdir=notebook.parent, log=log)
    for warning in result.warnings:
        print(f"warning: {warning}")
    pages = result.page_map
    print(f"wrote {result.pdf} ({pages['page_count']} pages) in {result.seconds:.0f}s, and {result.pages}")
    print("\n".join(tagging_lines(pages)))
    return 0


def tagging_lines(pages: dict) -> list[str]:
    """What to tag on Gradescope: each problem's pages, and under it each graded part's, in outline order."""
    lines = ["Pages to tag on Gradescope (problems, and under each its graded parts in the outline's order):"]
    for problem in pages["problems"]:
        lines.append(f"  {problem['title']}: {_page_list(problem['pages'] + problem['code_pages'])}")
        for part in (p for p in pages.get("parts", []) if p["problem"] == problem["id"]):
            what = f"{part['kind']}, {_points(part['points'])}"
            lines.append(f"    {part['id']} ({what}): {_page_list(part['pages'] + part['code_pages'], 'none')}")
    return lines


def _page_list(pages: list[int], empty: str = "none (no statement cell found)") -> str:
    """[2, 3, 4, 9] -> '2-4, 9'."""
    if not pages:
        return empty
    runs: list[list[int]] = []
    for page in sorted(set(pages)):
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
