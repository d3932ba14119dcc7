"""The Gradescope export of a notebook: a PDF through nbconvert's LaTeX route, or the same as standalone HTML.

The notebook is first *prepared* (a copy): nbgrader's marker lines are dropped from written answers, a title
block carries the homework and the student's name, every problem is marked to start on a new page, and where
the spec asks for it (`pdf_code_appendix`) a final "Code" section lists every code cell under the problem it
belongs to (code then shows only there). The templates under autograder/templates turn those marks into page
breaks and page records; beside OUT.pdf, OUT.pages.json says which pages each problem occupies.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, LatexExporter
from nbconvert.utils.pandoc import PandocMissing

from autograder.course import cells as nbu
from autograder.course import identify
from autograder.course.spec import Spec, select
from autograder.pdf import latex as pdf
from autograder.pdf.latex import CellLabel, ExportError

__all__ = ["ExportError", "ExportResult", "export_html", "export_pdf", "homework_of", "student_name"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAME_ID = "student_name"  # grade_id of the cell holding the student's name (docs/authoring.md)
NOT_GIVEN = "not given"
STUBS = ("YOUR ANSWER HERE",)
MARKERS = (nbu.SOLUTION_BEGIN, nbu.SOLUTION_END, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END)
FRONT, CODE = "front", "code"
DISPLAY_MATH = re.compile(r"(?<!\\)\\\[(.*?)(?<!\\)\\\]", re.S)
UNSCALABLE = re.compile(r"\\(tag|label|begin\{(align|equation|gather|multline|eqnarray)\*?\})")
LONG_WORD = 20  # characters: longer words and inline code get break points, so they cannot overrun the margin
BREAK_CHARS = "/_.-=,;:?&"
RUN = 16  # characters without a break character before a forced break point
TABLE_WORD = 8


@dataclass
class ExportResult:
    pdf: Path
    pages: Path  # OUT.pages.json
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


def _drop_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() not in MARKERS)


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


def _cell_kind(cell) -> str:
    return {"markdown": "written (markdown)", "code": "code", "raw": "raw"}.get(cell.cell_type, cell.cell_type)


def _describe(index: int, cell, heading: str | None) -> str:
    gid = nbu.grade_id(cell)
    place = f", in '{heading}'" if heading else ""
    return f"the {_cell_kind(cell)} cell {index + 1} of the notebook ({gid or 'no grade_id'}{place})"


class _Builder:
    """Accumulates the prepared notebook's cells with their marks and their labels for messages."""

    def __init__(self) -> None:
        self.cells: list = []
        self.labels: list[CellLabel] = []
        self.titles: dict[str, str] = {FRONT: "Title page and set-up"}  # section id -> title

    def add(self, cell, description: str, *, start: str | None = None, new_page: bool = False) -> dict:
        mark = {"position": len(self.cells), "end": []}
        if start:
            mark.update(start=start, new_page=new_page)
            self.titles.setdefault(start, description)
        cell.metadata["gradescope"] = mark
        self.cells.append(cell)
        self.labels.append(CellLabel(description, cell.source, cell.cell_type == "markdown"))
        return mark

    def end(self, section: str) -> None:
        self.cells[-1].metadata["gradescope"]["end"].append(section)


def prepare(nb, spec: Spec, *, title: str, name: str) -> tuple[nbformat.NotebookNode, list[CellLabel]]:
    """The notebook as it is exported: title data, page marks, the Code appendix where the spec wants it."""
    out = copy.deepcopy(nb)
    sections = nbu.sections(out)
    section_of = {i: s for s in sections for i in s.cells}
    first_problem = sections[0].cells[0] if sections else len(out.cells)
    appendix = spec.pdf_code_appendix
    built = _Builder()
    for index, cell in enumerate(out.cells):
        section = section_of.get(index)
        if cell.cell_type == "markdown":
            cell.source = _drop_markers(cell.source)
        if appendix and cell.cell_type == "code":
            cell.metadata.setdefault("transient", {})["remove_source"] = True  # its code goes to the appendix
        starts = section is not None and index == section.cells[0]
        if starts:
            built.titles[section.problem_id] = section.heading
        built.add(
            cell,
            _describe(index, cell, section.heading if section else None),
            start=section.problem_id if starts else None,
            new_page=starts,
        )
        if index == first_problem - 1:
            built.end(FRONT)
        if section is not None and index == section.cells[-1]:
            built.end(section.problem_id)
    outline = [{"id": s.problem_id, "title": s.heading} for s in sections]
    if appendix:
        _append_code(built, nb, sections, first_problem)
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
    }
    return out, built.labels


def _append_code(built: _Builder, nb, sections: list[nbu.Section], first_problem: int) -> None:
    """The "Code" section: every code cell in notebook order, under a heading per problem (hw4's handout
    wants all code at the end, labelled by problem, runnable in that order)."""
    intro = "Every code cell of the notebook, in order, under the problem it belongs to."
    built.titles[CODE] = "Code"
    heading = nbformat.v4.new_markdown_cell(f"# Code\n\n{intro}")
    built.add(heading, "the heading of the Code section", start=CODE, new_page=True)
    groups = [("setup", "Setup (before the first problem)", range(first_problem))]
    groups = [g for g in groups if any(nb.cells[i].cell_type == "code" for i in g[2])]
    groups += [(s.problem_id, s.heading, s.cells) for s in sections]
    for gid, heading, indices in groups:
        code = [i for i in indices if nb.cells[i].cell_type == "code" and nb.cells[i].source.strip()]
        text = f"## Code for {heading}" + ("" if code else "\n\nNo code cells belong to this problem.")
        built.titles[f"code-{gid}"] = f"Code for {heading}"
        built.add(nbformat.v4.new_markdown_cell(text), f"the Code section's heading for {heading}", start=f"code-{gid}")
        for i in code:
            listed = nbformat.v4.new_code_cell(nb.cells[i].source)
            listed.metadata["nbgrader"] = copy.deepcopy(nbu.meta(nb.cells[i]))
            where = f"the code cell {i + 1} ({nbu.grade_id(nb.cells[i]) or 'no grade_id'}) as listed under Code"
            built.add(listed, where)
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


def page_map(build: pdf.Build, spec: Spec, prepared, out: Path) -> dict:
    """OUT.pages.json: the pages of every section (title page, problems, Code) and, per problem of the spec,
    the pages to tag in Gradescope: its own section and its part of the Code section."""
    spans: dict[str, list[int]] = {}
    for kind, section, page in build.marks:
        span = spans.setdefault(section, [page, page])
        if kind == "start":
            span[0] = min(span[0], page)
        span[1] = max(span[1], page)
    titles = prepared.metadata["gradescope"]["titles"]
    ordered = sorted(spans.items(), key=lambda item: item[1][0])  # stable: marks come in document order
    sections = [{"id": sid, "title": titles.get(sid, sid), "first": a, "last": b} for sid, (a, b) in ordered]
    problems = []
    for problem in spec.problems:
        body, code = spans.get(problem.id), spans.get(f"code-{problem.id}")
        problems.append(
            {
                "id": problem.id,
                "title": titles.get(problem.id, problem.title),
                "points": problem.points,
                "extra_credit": problem.extra_credit,
                "pages": list(range(body[0], body[1] + 1)) if body else [],
                "code_pages": list(range(code[0], code[1] + 1)) if code else [],
            }
        )
    meta = prepared.metadata["gradescope"]
    return {
        "homework": spec.id,
        "title": meta["title"],
        "student": meta["name"],
        "pdf": out.name,
        "page_count": build.page_count,
        "problems": problems,
        "sections": sections,
    }


def _name_for(name: str | None, nb) -> str:
    return name or student_name(nb) or NOT_GIVEN


def export_pdf(
    nb,
    out: Path,
    *,
    spec: Spec,
    workdir: Path,
    title: str | None = None,
    name: str | None = None,
    log: Callable[[str], None] = print,
) -> ExportResult:
    """Write `nb` (executed) as the Gradescope PDF `out`, and OUT.pages.json beside it.

    `workdir` is the notebook's folder (images a markdown cell refers to are found there); `name` overrides
    the notebook's name cell (the answer keys use it). Raises ExportError naming the cell that broke LaTeX.
    """
    started = time.monotonic()
    prepared, labels = prepare(nb, spec, title=title or default_title(spec), name=_name_for(name, nb))
    _refuse_svg_only(prepared, labels)
    log(f"[{spec.id}] converting {len(prepared.cells)} cells to LaTeX (pandoc) ...")
    try:
        tex, resources = _latex_exporter().from_notebook_node(
            prepared, resources={"metadata": {"name": "notebook", "path": str(workdir)}}
        )
    except PandocMissing:
        raise ExportError("pandoc not found: run `make setup`, or export HTML with --html") from None
    try:
        build = pdf.build(
            tex,
            resources.get("outputs", {}),
            out,
            texinputs=workdir.resolve(),
            cells=labels,
            log=lambda message: log(f"[{spec.id}] {message}"),
        )
    except pdf.LatexError as exc:
        if exc.cell is not None or exc.error is None:
            raise
        log(f"[{spec.id}] xelatex's log does not say which cell broke LaTeX: searching for it ...")
        culprit = _first_breaking_cell(prepared, workdir.resolve())
        if culprit is None:
            raise
        raise pdf.LatexError(pdf.explain(exc.error, labels[culprit]), exc.error, culprit) from None
    pages = page_map(build, spec, prepared, out)
    pages_path(out).write_text(json.dumps(pages, indent=2) + "\n", encoding="utf-8")
    return ExportResult(out, pages_path(out), pages, build.warnings, time.monotonic() - started)


def export_html(nb, out: Path, *, spec: Spec, title: str | None = None, name: str | None = None) -> Path:
    """The same content as the PDF as one standalone HTML file (figures embedded), for students without LaTeX."""
    prepared, _ = prepare(nb, spec, title=title or default_title(spec), name=_name_for(name, nb))
    exporter = HTMLExporter(template_name="gradescope_html", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    try:
        body, _ = exporter.from_notebook_node(prepared, resources={"metadata": {"name": out.stem}})
    except PandocMissing:
        raise ExportError("pandoc not found: run `make setup`") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def command(notebook: Path, output: Path | None, html: bool, homework: str | None) -> int:
    """`python -m autograder pdf`: export, then say which pages to tag for each problem."""
    from autograder.student.preflight import load_notebook  # reads any student file with a clear error

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    nb = load_notebook(notebook)
    spec = select([homework])[0] if homework else homework_of(nb, notebook)
    if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        log(f"warning: {notebook} has no outputs (it was not run, or saved before running): the export shows code only")
    if html:
        out = export_html(nb, output or notebook.with_suffix(".html"), spec=spec)
        print(f"wrote {out}: open it in a browser and print it to PDF, one problem per page")
        return 0
    result = export_pdf(nb, output or notebook.with_suffix(".pdf"), spec=spec, workdir=notebook.parent, log=log)
    for warning in result.warnings:
        print(f"warning: {warning}")
    pages = result.page_map
    print(f"wrote {result.pdf} ({pages['page_count']} pages) in {result.seconds:.0f}s, and {result.pages}")
    print("Pages to tag on Gradescope:")
    for problem in pages["problems"]:
        print(f"  {problem['title']}: {_page_list(problem['pages'] + problem['code_pages'])}")
    return 0


def _page_list(pages: list[int]) -> str:
    """[2, 3, 4, 9] -> '2-4, 9'."""
    if not pages:
        return "none (no statement cell found)"
    runs: list[list[int]] = []
    for page in sorted(set(pages)):
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
