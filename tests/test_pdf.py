"""The Gradescope PDF: on a synthetic homework built to stress the layout, and on every homework's answer key.

Everything is checked on the real PDF with poppler: headings at the top of their own page (pdftotext -f N -l N),
the page map against the PDF (problems and each graded part), every figure present (pdfimages -list), no word
past the right margin (pdftotext -bbox), answers framed and labelled, test cells reduced to a result line and
the instructor's code left out, the Code appendix where the spec asks for it, LaTeX errors and characters the
fonts lack traced to their cell, and an HTML export that loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import matplotlib
import nbformat
import pytest

from autograder.course import cells as nbu
from autograder.course.paths import ROOT
from autograder.course.spec import load
from autograder.pdf.export import (
    INSTRUCTOR,
    PUBLIC,
    ExportError,
    _first_breaking_cell,
    breakable_words,
    check_written_answers,
    export_html,
    export_pdf,
    fit_display_math,
    homework_of,
    prepare,
    student_name,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 -- after choosing the backend

MARGIN = 72.0  # points: the template's 1-inch margins
SLACK = 1.0  # points: rounding in poppler's boxes

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------------------------------------
# Reading a PDF with poppler


def poppler(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def page_count(pdf) -> int:
    info = poppler("pdfinfo", str(pdf))
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_text(pdf, page: int) -> str:
    """The text of one page in the order it was typeset (-raw: wide word gaps do not reorder lines)."""
    return poppler("pdftotext", "-raw", "-f", str(page), "-l", str(page), str(pdf), "-")


def pdf_text(pdf) -> str:
    return poppler("pdftotext", "-raw", str(pdf), "-")


def pages_text(pdf, pages) -> str:
    return " ".join(page_text(pdf, p) for p in pages)


def plain(text: str) -> str:
    """Letters and digits only, lower case: pdftotext's math letters and line breaks do not matter."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def heading_key(heading: str) -> str:
    """The part of a heading that reads the same in the PDF: up to its first formula, at most 40 characters."""
    return plain(heading.split("$")[0])[:40]


def starts_page(pdf, page: int, heading: str) -> bool:
    return plain(page_text(pdf, page)).startswith(heading_key(heading))


def image_count(pdf) -> int:
    """Raster images drawn in the PDF (soft masks of transparent PNGs are not counted twice)."""
    rows = poppler("pdfimages", "-list", str(pdf)).splitlines()[2:]
    return sum(1 for row in rows if row.split()[2] == "image")


def words_past_margin(pdf) -> list[tuple[int, float, str]]:
    """(page, right edge, word) for each word that ends inside the right margin."""
    out, page, width = [], 0, 0.0
    for line in poppler("pdftotext", "-bbox", str(pdf), "-").splitlines():
        found = re.search(r'<page width="([\d.]+)"', line)
        if found:
            page, width = page + 1, float(found.group(1))
            continue
        found = re.search(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>', line)
        if found and float(found.group(1)) > width - MARGIN + SLACK:
            out.append((page, float(found.group(1)), html.unescape(found.group(2))))
    return out


def figures_in(nb) -> int:
    """Figures of an executed notebook: image outputs and images in markdown cells."""
    outputs = sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if {"image/png", "image/jpeg"} & set(o.get("data", {}))
    )
    markdown = sum(c.source.count("![") for c in nb.cells if c.cell_type == "markdown")
    return outputs + markdown


def assert_layout(pdf, pages: dict, nb) -> None:
    """The page map agrees with the PDF, and every problem starts at the top of its own page."""
    total = page_count(pdf)
    assert pages["page_count"] == total
    sections = pages["sections"]
    assert sections[0]["id"] == "front" and sections[0]["first"] == 1
    assert max(s["last"] for s in sections) == total
    top = [s for s in sections if not s["id"].startswith("code-")]
    for before, after in zip(top, top[1:], strict=False):
        assert after["first"] == before["last"] + 1, f"{after['id']} must start on the page after {before['id']}"
    headings = {s.problem_id: s.heading for s in nbu.sections(nb)}
    for problem in pages["problems"]:
        assert problem["pages"], f"{problem['id']} has no pages in the map"
        first = problem["pages"][0]
        heading = headings[problem["id"]]
        assert starts_page(pdf, first, heading), f"page {first} must start with {heading!r}"
        for page in range(2, first):  # page 1 lists every heading in its outline
            assert heading_key(heading) not in plain(page_text(pdf, page)), f"{heading!r} already on page {page}"


def graded_ids(nb) -> list[str]:
    """grade_ids of the graded cells in notebook order (written answers and tests), the name cell aside."""
    return [
        nbu.grade_id(c)
        for c in nb.cells
        if nbu.meta(c).get("grade")
        and nbu.grade_id(c) != "student_name"
        and (nbu.is_manual(c) or nbu.is_autograded_test(c))
    ]


def assert_parts(pdf, pages: dict, nb) -> None:
    """One page-map entry per graded cell, in notebook order, each pointing at pages that really hold it: the
    first page of a written answer holds its frame's label, some page of a test holds its result line."""
    assert [p["id"] for p in pages["parts"]] == graded_ids(nb)
    for part in pages["parts"]:
        assert part["pages"], f"{part['id']} has no pages in the map"
        if part["kind"] == "written":
            assert plain(f"Answer: {part['id']}") in plain(page_text(pdf, part["pages"][0])), part
        else:
            assert plain(f"Tests {part['id']}") in plain(pages_text(pdf, part["pages"])), part
        problem = next(p for p in pages["problems"] if p["id"] == part["problem"])
        assert set(part["pages"]) <= set(problem["pages"]), f"{part['id']} lies outside {problem['id']}'s pages"
        assert set(part["code_pages"]) <= set(problem["code_pages"]), part["id"]


# ---------------------------------------------------------------------------------------------------------
# A synthetic homework: every construct that used to overrun margins, two problems, a Code appendix


SPEC = """id = "hwt"
title = "Synthetic layout test"
handout = "none"
origin = "none"
notebook = "hwt.ipynb"
due = 2024-01-15
pdf_code_appendix = {appendix}
[[problems]]
id = "p1"
title = "squares"
points = 3
autograded = 2
manual = 1
[[problems]]
id = "p2"
title = "words"
points = 1
autograded = 0
manual = 1
"""
LOCKED = dict(locked=True, solution=False, grade=False)
TERMS = (f"\\frac{{\\partial L}}{{\\partial w_{{{i}}}}} x_{{{i}}}^2" for i in range(14))
LONG_EQUATION = "$$ " + " + ".join(TERMS) + " $$"
CODE_BLOCK_LINE = (
    'pip install "<the kit: its folder or the URL on the course page>"    # once, then run it on every notebook'
)


def cell(kind, source, outputs=(), **nbgrader):
    c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    if kind == "code":
        c.outputs = list(outputs)
    if nbgrader:
        c.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return c


def figure_output(width: float, height: float):
    fig = plt.figure(figsize=(width, height))
    plt.plot([0, 1, 2], [0, 1, 4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    plt.close(fig)
    data = {"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": "<Figure>"}
    return nbformat.v4.new_output("display_data", data=data)


def stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def error_output(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def synthetic_notebook(name: str | None = "Ada Lovelace"):
    """An executed-looking notebook (outputs made here, no kernel) with everything hard to lay out."""
    cells = [cell("md", "# Synthetic homework\n\nA test.", grade_id="header", **LOCKED)]
    if name is not None:
        cells.append(
            cell(
                "md",
                f"**Name:**\n### BEGIN SOLUTION\n{name}\n### END SOLUTION",
                grade_id="student_name",
                solution=True,
                grade=True,
                points=0,
            )
        )
    cells += [
        cell("code", "import numpy as np", [stream("ready\n")], grade_id="setup", **LOCKED),
        cell(
            "md",
            "## Problem 1: squares (3 points)\n\nA long equation:\n\n" + LONG_EQUATION + "\n\nInline code "
            "`a_very_long_identifier_name_that_does_not_fit_anywhere_in_the_line_at_all` and a link "
            "https://example.com/a/very/long/path/that/keeps/going/and/going/and/going/for/ever.html, "
            "and Unicode arrows → and ≤.",
            grade_id="p1_statement",
            **LOCKED,
        ),
        cell(
            "md",
            "Because $x^2$ grows.\n\n| a | b | c | d | e | f | g | h |\n|---|---|---|---|---|---|---|---|\n| "
            + " | ".join(f"longcellcontent_without_spaces_{i}" for i in range(8))
            + " |",
            grade_id="p1_answer",
            solution=True,
            grade=True,
            points=1,
        ),
        cell(
            "code",
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x  # a comment long enough to wrap in the PDF, "
            "long enough indeed, really\n    ### END SOLUTION",
            [stream("x" * 300 + "\n" + " ".join(str(1000.5 * i) for i in range(60)) + "\n")],
            grade_id="p1_square",
            solution=True,
            grade=False,
        ),
        cell(
            "code",
            "assert square(2) == 4\nprint('checked square on 2')\n### BEGIN HIDDEN TESTS\n"
            "assert square(-3) == 9, 'square is wrong for negative numbers'\n### END HIDDEN TESTS",
            [stream("checked square on 2\n")],
            grade_id="p1_square_tests",
            grade=True,
            solution=False,
            locked=True,
            points=2,
        ),
        cell("code", "plot()", [figure_output(14, 3), figure_output(3, 12)], grade_id="p1_plot", **LOCKED),
        cell(
            "code",
            "assert square(0.5) == 0.25, 'square(0.5) must be 0.25'",
            [error_output("AssertionError", "square(0.5) must be 0.25")],
            grade_id="p1_fraction_tests",
            grade=True,
            solution=False,
            locked=True,
            points=0,
        ),
        cell(
            "md",
            "## Problem 2: words (1 point)\n\nExplain. Code blocks wrap like code cells:\n\n```\n"
            + CODE_BLOCK_LINE
            + "\n```\n\n```python\n"
            + CODE_BLOCK_LINE
            + "\n```",
            grade_id="p2_statement",
            **LOCKED,
        ),
        cell(
            "md",
            "It is so: $$\\begin{aligned} a &= b + c + d + e + f + g + h + i + j + k + l + m + n + o + p + q + r + "
            "s + t + u + v + w + x + y + z + \\alpha + \\beta + \\gamma + \\delta \\\\ &= 1 \\end{aligned}$$",
            grade_id="p2_answer",
            solution=True,
            grade=True,
            points=1,
        ),
    ]
    for count, code in enumerate((c for c in cells if c.cell_type == "code"), start=1):
        code.execution_count = count  # run top to bottom, as saved by Jupyter
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def synthetic_spec(tmp_path, appendix: bool = True):
    path = tmp_path / "hwt.toml"
    path.write_text(SPEC.format(appendix=str(appendix).lower()))
    return load(path)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The synthetic homework exported once: (spec, notebook, export result)."""
    folder = tmp_path_factory.mktemp("synthetic")
    spec = synthetic_spec(folder)
    nb = synthetic_notebook()
    result = export_pdf(nb, folder / "hwt.pdf", spec=spec, workdir=folder, log=lambda *_: None)
    return spec, nb, result


def test_synthetic_problems_start_their_own_pages(synthetic):
    spec, nb, result = synthetic
    assert_layout(result.pdf, result.page_map, nb)
    assert [p["id"] for p in result.page_map["problems"]] == ["p1", "p2"]


def test_synthetic_page_map_has_every_graded_part_in_notebook_order(synthetic):
    _, nb, result = synthetic
    parts = result.page_map["parts"]
    assert [(p["id"], p["kind"], p["points"]) for p in parts] == [
        ("p1_answer", "written", 1.0),
        ("p1_square_tests", "autograded", 2.0),
        ("p1_fraction_tests", "autograded", 0.0),
        ("p2_answer", "written", 1.0),
    ]
    assert_parts(result.pdf, result.page_map, nb)
    square = next(p for p in parts if p["id"] == "p1_square_tests")
    assert square["judges"] == "p1_square" and square["code_pages"], "a test points at the code it judges"
    assert "def square(x):" in pages_text(result.pdf, square["code_pages"])


def test_synthetic_page_map_is_written_beside_the_pdf(synthetic):
    _, _, result = synthetic
    assert result.pages == result.pdf.with_suffix(".pages.json")
    assert json.loads(result.pages.read_text()) == result.page_map


def test_synthetic_title_block_has_homework_name_and_outline(synthetic):
    _, _, result = synthetic
    first = " ".join(page_text(result.pdf, 1).split())
    assert "HWT: Synthetic layout test" in first
    assert "Name: Ada Lovelace" in first
    assert "Due 2024-01-15" in first
    for problem in result.page_map["problems"]:
        assert re.search(rf"{re.escape(problem['title'][:20])}.*page {problem['pages'][0]}", first)


def test_synthetic_every_figure_is_in_the_pdf(synthetic):
    _, nb, result = synthetic
    assert figures_in(nb) == 2
    assert image_count(result.pdf) == 2


def test_synthetic_nothing_runs_past_the_right_margin(synthetic):
    _, _, result = synthetic
    assert words_past_margin(result.pdf) == []
    p2 = pages_text(result.pdf, result.page_map["problems"][1]["pages"])
    assert re.sub(r"[\s␣↪]+", "", p2).count(re.sub(r"\s+", "", CODE_BLOCK_LINE)) == 2  # wrapped, not cut


def test_synthetic_code_section_comes_last_with_a_label_per_problem(synthetic):
    _, nb, result = synthetic
    last = result.page_map["sections"][-1]
    top_level = [s for s in result.page_map["sections"] if not s["id"].startswith("code-")]
    assert top_level[-1]["id"] == "code" and top_level[-1]["title"] == "Code"
    code_first = top_level[-1]["first"]
    assert plain(page_text(result.pdf, code_first)).startswith("code")
    text = pages_text(result.pdf, range(code_first, result.page_map["page_count"] + 1))
    for section in nbu.sections(nb):
        assert plain(f"Code for {section.heading}") in plain(text)
    assert "def square(x):" in text and "import numpy as np" in text and "plot()" in text
    assert "assert square(2) == 4" not in text and "Test cells are not listed." in " ".join(text.split())
    assert "BEGIN SOLUTION" not in text
    assert "No code cells belong to this problem." in text  # Problem 2 has no code
    assert last["id"] == "code-p2"
    for problem in result.page_map["problems"]:
        assert problem["code_pages"], f"{problem['id']} has no pages in the Code section"


def test_synthetic_body_shows_outputs_and_test_results_but_code_only_in_the_appendix(synthetic):
    _, _, result = synthetic
    body = pages_text(result.pdf, result.page_map["problems"][0]["pages"])
    assert "xxxxxxxx" in body  # the output of the answer code
    assert "def square" not in body
    assert "Tests p1_square_tests (2 points): passed" in body
    assert "checked square on 2" not in body  # what a test printed: its result line says it
    assert "Tests p1_fraction_tests (0 points): failed: AssertionError: square(0.5) must be 0.25" in " ".join(
        body.split()
    )


def test_synthetic_written_answers_are_framed_and_labelled(synthetic):
    _, _, result = synthetic
    for part in (p for p in result.page_map["parts"] if p["kind"] == "written"):
        page = page_text(result.pdf, part["pages"][0])
        assert f"Answer: {part['id']} (1 point)" in page
    # the frame's title bar, in the answer colour (nothing else uses it), on each answer's first page
    for part in (p for p in result.page_map["parts"] if p["kind"] == "written"):
        assert answer_colour_paths(result.pdf, part["pages"][0]) >= 1, part["id"]
    assert answer_colour_paths(result.pdf, 1) == 0


ANSWER_RGB = (0x1F, 0x4E, 0x79)  # \definecolor{gsanswer} in the template


def answer_colour_paths(pdf, page: int) -> int:
    """Paths drawn in the answer frames' colour on a page (pdftocairo -svg writes each fill as rgb(r%, g%, b%))."""
    svg = poppler("pdftocairo", "-svg", "-f", str(page), "-l", str(page), str(pdf), "-")
    count = 0
    for found in re.finditer(r"rgb\(([\d.]+)%,\s*([\d.]+)%,\s*([\d.]+)%\)", svg):
        rgb = [float(v) * 255 / 100 for v in found.groups()]
        count += all(abs(a - b) < 1.5 for a, b in zip(rgb, ANSWER_RGB, strict=True))
    return count


def test_without_appendix_code_stays_in_place(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    result = export_pdf(nb, tmp_path / "plain.pdf", spec=spec, workdir=tmp_path, log=lambda *_: None)
    assert [s["id"] for s in result.page_map["sections"]] == ["front", "p1", "p2"]
    p1 = pages_text(result.pdf, result.page_map["problems"][0]["pages"])
    assert "def square(x):" in p1 and "return x * x" in p1  # the student's code
    assert "BEGIN SOLUTION" not in p1
    assert "assert square(2) == 4" not in p1 and "plot()" not in p1  # tests and the instructor's code
    assert "Tests p1_square_tests (2 points): passed" in p1
    assert "import numpy" not in pdf_text(result.pdf)  # the set-up cell's code
    assert_layout(result.pdf, result.page_map, nb)
    assert_parts(result.pdf, result.page_map, nb)
    assert all(not p["code_pages"] for p in result.page_map["parts"])


def test_instructor_edition_shows_every_test_and_marker(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    result = export_pdf(nb, tmp_path / "key.pdf", spec=spec, workdir=tmp_path, edition=INSTRUCTOR, log=lambda *_: None)
    text = pdf_text(result.pdf)
    for line in ("assert square(2) == 4", "### BEGIN HIDDEN TESTS", "square is wrong for negative numbers"):
        assert line in text
    assert "### BEGIN SOLUTION" in text and "import numpy as np" in text and "plot()" in text
    assert "Tests p1_square_tests (2 points): passed" in text
    assert result.page_map["edition"] == INSTRUCTOR
    assert_parts(result.pdf, result.page_map, nb)


def test_public_edition_has_no_tests_markers_or_grading_metadata(tmp_path):
    spec = synthetic_spec(tmp_path)
    nb = synthetic_notebook()
    out = tmp_path / "public.pdf"
    out.with_suffix(".pages.json").write_text("{}")  # a stale map must not survive beside the public PDF
    result = export_pdf(nb, out, spec=spec, workdir=tmp_path, edition=PUBLIC, log=lambda *_: None)
    text = pdf_text(result.pdf)
    for absent in ("square(2) == 4", "negative numbers", "BEGIN", "END SOLUTION", "_tests", "p1_answer", "Answer:"):
        assert absent not in text, absent
    assert "def square(x):" in text and "return x * x" in text and "Answer" in text
    assert image_count(result.pdf) == 2
    assert result.pages is None and not out.with_suffix(".pages.json").exists()


def test_missing_name_cell_says_not_given(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook(name=None)
    result = export_pdf(nb, tmp_path / "anon.pdf", spec=spec, workdir=tmp_path, log=lambda *_: None)
    assert "Name: not given" in page_text(result.pdf, 1)
    assert result.page_map["student"] == "not given"


@pytest.mark.parametrize(
    "source, name",
    [
        ("**Name:**\n### BEGIN SOLUTION\nAda Lovelace\n### END SOLUTION", "Ada Lovelace"),
        ("Name: Grace Hopper", "Grace Hopper"),
        ("*Alan Turing*", "Alan Turing"),
        ("**Name:** jane_doe", "jane_doe"),
        ("**Name:**\nYOUR ANSWER HERE", None),
        ("", None),
    ],
)
def test_student_name_is_read_from_the_name_cell(source, name):
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell("md", source, grade_id="student_name", solution=True, grade=True, points=0)]
    assert student_name(nb) == name


# ---------------------------------------------------------------------------------------------------------
# HTML: the same content, and nothing to fetch from the network

LOADING = {"src", "href", "srcset", "data", "poster", "xlink:href", "background"}


class _Resources(HTMLParser):
    """What a browser would fetch from elsewhere: src/href/... attributes (links a reader clicks, <a href>,
    aside), and url(...) / @import / import in style and script text, when they are not data: or local."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.inside: str | None = None

    def handle_starttag(self, tag, attrs):
        self.inside = tag if tag in ("style", "script") else None
        for name, value in attrs:
            if name in LOADING and not (tag == "a" and name == "href") and value and not _local(value):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self.inside in ("style", "script"):
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)|\bfrom\s+['\"]([^'\"]+)", data):
                target = next(r for r in ref if r)
                if not _local(target):
                    self.found.append(f"{self.inside}: {target}")


def _local(value: str) -> bool:
    return not re.match(r"\s*([a-z][a-z0-9+.-]*:)?//", value, re.I) or value.strip().startswith("data:")


def external_resources(text: str) -> list[str]:
    parser = _Resources()
    parser.feed(text)
    return parser.found


def test_external_resources_finds_what_a_browser_would_fetch():
    page = (
        '<script src="https://cdn.example/mathjax.js"></script><a href="https://example.com">a link</a>'
        '<img src="data:image/png;base64,AAAA"><style>@import "https://fonts.example/x.css"; '
        'a { background: url(//cdn.example/i.png) }</style><math xmlns="http://www.w3.org/1998/Math/MathML"></math>'
    )
    assert external_resources(page) == [
        "<script src=https://cdn.example/mathjax.js>",
        "style: https://fonts.example/x.css",
        "style: //cdn.example/i.png",
    ]


def test_html_has_the_same_content_and_works_offline(tmp_path, synthetic):
    spec, nb, _ = synthetic
    out = export_html(nb, tmp_path / "hwt.html", spec=spec)
    text = out.read_text()
    assert "Name: Ada Lovelace" in text and "HWT: Synthetic layout test" in text
    assert text.count('class="gs-new-page"') == 3  # two problems and the Code section
    assert text.count('src="data:image/png;base64') == 2
    assert "Code for Problem 2: words (1 point)" in text
    assert "BEGIN SOLUTION" not in text.split("Code for")[0]  # markers dropped from written answers
    assert text.count('class="gs-answer"') == 2 and "Answer: p1_answer (1 point)" in text
    assert "Tests p1_square_tests (2 points): passed" in text and "assert square(2)" not in text
    assert external_resources(text) == [] and "<script" not in text
    assert (
        "<math" in text
        and "$x^2$" not in text
        and "\\begin{aligned}" not in text.replace('encoding="application/x-tex"', "").split("<annotation")[0]
    )


def test_html_embeds_images_that_markdown_refers_to(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    fig = plt.figure(figsize=(1, 1))
    fig.savefig(tmp_path / "diagram.png", dpi=20)
    plt.close(fig)
    attachment = base64.b64encode((tmp_path / "diagram.png").read_bytes()).decode()
    target = next(i for i, c in enumerate(nb.cells) if nbu.grade_id(c) == "p2_answer")
    nb.cells[target].source = "My diagram: ![drawn](diagram.png) and pasted: ![pasted](attachment:d.png)"
    nb.cells[target]["attachments"] = {"d.png": {"image/png": attachment}}
    text = export_html(nb, tmp_path / "img.html", spec=spec, workdir=tmp_path).read_text()
    assert text.count('src="data:image/png;base64') == 4  # two figures, two images of the answer
    assert external_resources(text) == []


# ---------------------------------------------------------------------------------------------------------
# LaTeX errors: the message names the cell and the construct, not a TeX log


@pytest.mark.parametrize(
    "bad, construct",
    [
        (r"Then $\notacommand{x} + 1$ holds.", r"\notacommand"),
        (r"$$ a & b $$", "&"),
        (r"$$\begin{foo} x \end{foo}$$", r"\begin{foo}"),
        (r"$x^a^b$", "^"),
        (r"$\frac{1}{2$ and more text", r"\frac"),
        (r"![a figure](no-such-file.png)", "no-such-file.png"),
    ],
)
def test_latex_error_names_the_cell_and_construct(tmp_path, bad, construct):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    target = next(i for i, c in enumerate(nb.cells) if nbu.grade_id(c) == "p2_answer")
    nb.cells[target].source = "It is so.\n\n" + bad
    with pytest.raises(ExportError) as err:
        export_pdf(nb, tmp_path / "bad.pdf", spec=spec, workdir=tmp_path, log=lambda *_: None)
    message = str(err.value)
    assert f"cell {target + 1} of the notebook (p2_answer" in message
    assert f"`{construct}`" in message
    assert f"line 3 of the cell: {bad}" in message
    assert "fix:" in message
    assert "Transcript written" not in message and "! " not in message  # no raw TeX log
    assert not (tmp_path / "bad.pdf").exists()


def test_search_finds_a_cell_the_log_cannot_name(tmp_path):
    """Errors TeX reports at the end of the file are traced by compiling prefixes of the notebook."""
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    nb.cells[4].source = r"An unclosed group: $\frac{1}{2$ here."
    prepared, _ = prepare(nb, spec, title="t", name="n")
    assert _first_breaking_cell(prepared, tmp_path) == 4


def test_svg_only_figure_names_its_cell(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5"><rect width="10" height="5"/></svg>'
    nb.cells[7].outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": svg})]
    with pytest.raises(ExportError, match=r"code cell 8 of the notebook \(p1_plot.*SVG only.*--html"):
        export_pdf(nb, tmp_path / "svg.pdf", spec=spec, workdir=tmp_path, log=lambda *_: None)


# ---------------------------------------------------------------------------------------------------------
# Characters the fonts lack: never left out silently

GLYPHS = "It is so, with step size η and x → 0.\n\nQ.E.D. ∎\n\n答案是对的\n\nDone 🧠"  # 🧠: in no font here


def answer_index(nb, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if nbu.grade_id(c) == gid)


def test_fonts_fall_back_and_missing_characters_name_cell_line_and_fix(tmp_path):
    spec = synthetic_spec(tmp_path, appendix=False)
    nb = synthetic_notebook()
    target = answer_index(nb, "p2_answer")
    nb.cells[target].source = GLYPHS
    result = export_pdf(nb, tmp_path / "glyphs.pdf", spec=spec, workdir=tmp_path, log=lambda *_: None)
    text = pdf_text(result.pdf)
    assert "η" in text and "∎" in text and "→" in text  # typeset from the fallback font
    where = f"the written (markdown) cell {target + 1} of the notebook (p2_answer"
    cjk = next(w for w in result.warnings if "答" in w)  # no font has them: the export says where and what to do
    assert cjk.startswith(where) and ", line 5:" in cjk and "fix:" in cjk and "English" in cjk
    emoji = next(w for w in result.warnings if "🧠" in w)
    assert emoji.startswith(where) and ", line 7:" in emoji and "emoji" in emoji.split("fix:")[1]
    assert not any("η" in w or "∎" in w for w in result.warnings)


def test_check_written_answers_returns_cell_line_and_fix(tmp_path):
    nb = synthetic_notebook()
    first, second = answer_index(nb, "p1_answer"), answer_index(nb, "p2_answer")
    nb.cells[first].source = "Fine so far.\n\nThen $\\notacommand{x} + 1$ holds."
    nb.cells[second].source = GLYPHS
    problems = check_written_answers(nb, workdir=tmp_path)
    assert [(p.cell, p.line, p.tex_error) for p in problems] == [
        (first, 3, True),
        (second, 5, False),
        (second, 7, False),
    ]
    bad = problems[0]
    assert "\\notacommand" in bad.message and "LaTeX does not know this command" in bad.fix
    assert "(p1_answer" in bad.where and "(p1_answer" in str(bad) and "line 3" in str(bad)
    assert "English" in problems[1].fix and "emoji" in problems[2].fix


def test_check_written_answers_blames_only_the_cell_at_fault(tmp_path):
    """An unclosed brace upsets the LaTeX after it; each failing cell is checked alone before it is blamed."""
    nb = synthetic_notebook()
    first = answer_index(nb, "p1_answer")
    nb.cells[first].source = "Because $\\frac{1}{2$ and more text."
    problems = check_written_answers(nb, workdir=tmp_path)
    assert [(p.cell, p.tex_error) for p in problems] == [(first, True)]
    assert check_written_answers(synthetic_notebook(), workdir=tmp_path) == []


# ---------------------------------------------------------------------------------------------------------
# Pieces of the exporter


def test_display_math_is_wrapped_unless_it_cannot_be():
    assert fit_display_math(r"\[a+b\]") == r"\[\gsfit{a+b}\]"
    aligned = r"\[\begin{aligned} a \\[2pt] b \end{aligned}\]"
    assert fit_display_math(aligned) == r"\[\gsfit{\begin{aligned} a \\[2pt] b \end{aligned}}\]"
    for untouched in (r"\[\begin{align*} a \end{align*}\]", r"\[a \tag{1}\]", r"\[a \label{x}\]"):
        assert fit_display_math(untouched) == untouched


def test_long_words_and_inline_code_get_break_points():
    doc = {
        "pandoc-api-version": [1, 22],
        "meta": {},
        "blocks": [{"t": "Para", "c": [{"t": "Str", "c": "short"}, {"t": "Code", "c": [["", [], []], "a_" * 20]}]}],
    }
    out = json.loads(breakable_words(json.dumps(doc)))["blocks"][0]["c"]
    assert out[0] == {"t": "Str", "c": "short"}
    assert "".join(i["c"][1] for i in out if i["t"] == "Code") == "a_" * 20
    assert sum(i["t"] == "RawInline" for i in out) == 19


def test_homework_is_recognised_from_its_cells(tmp_path, homework):
    student = homework.release_notebook if homework.release_notebook.exists() else homework.source_notebook
    renamed = tmp_path / "my_submission.ipynb"
    renamed.write_text(student.read_text())
    assert homework_of(nbu.read(renamed), renamed).id == homework.id


def test_unknown_notebook_says_how_to_name_the_homework(tmp_path):
    nb = synthetic_notebook()
    with pytest.raises(ExportError, match="--homework hwN"):
        homework_of(nb, tmp_path / "mystery.ipynb")


# ---------------------------------------------------------------------------------------------------------
# Every homework's answer key (tests/conftest.py builds them once, on the short path)


def test_key_pdf_problems_start_their_own_pages(homework, solution_keys):
    key = solution_keys(homework)
    pages = json.loads(key.pdf.with_suffix(".pages.json").read_text())
    assert [p["id"] for p in pages["problems"]] == [p.id for p in homework.problems]
    assert_layout(key.pdf, pages, nbu.read(key.notebook))
    assert_parts(key.pdf, pages, nbu.read(key.notebook))


def test_key_pdf_has_every_figure(homework, solution_keys):
    key = solution_keys(homework)
    nb = nbu.read(key.notebook)
    expected = figures_in(nb)
    if "plt.show()" in "".join(c.source for c in nb.cells if c.cell_type == "code"):
        assert expected > 0, "the key shows plots, but its executed notebook holds no figure (matplotlib backend?)"
    assert image_count(key.pdf) == expected


def test_key_pdf_stays_inside_the_right_margin(homework, solution_keys):
    assert words_past_margin(solution_keys(homework).pdf) == []


@pytest.mark.homeworks(lambda spec: spec.pdf_code_appendix)
def test_key_pdf_code_section(homework, solution_keys):
    key = solution_keys(homework)
    pages = json.loads(key.pdf.with_suffix(".pages.json").read_text())
    top_level = [s for s in pages["sections"] if not s["id"].startswith("code-")]
    assert top_level[-1]["id"] == "code"
    first = top_level[-1]["first"]
    assert plain(page_text(key.pdf, first)).startswith("code")
    text = plain(" ".join(page_text(key.pdf, p) for p in range(first, pages["page_count"] + 1)))
    for section in nbu.sections(nbu.read(key.notebook)):
        assert heading_key(f"Code for {section.heading}") in text, f"no Code label for {section.problem_id}"


def test_cli_pdf_names_the_broken_cell(tmp_path):
    """The student's command on a hw3 notebook with a bad formula: exit 1, the cell and the construct."""
    nb = nbu.read(ROOT / "release" / "hw3" / "hw3.ipynb")
    target = next(i for i, c in enumerate(nb.cells) if nbu.grade_id(c) == "q2_derivation")
    nb.cells[target].source = "My derivation: $E = \\badmacro{y}$."
    path = tmp_path / "hw3.ipynb"
    nbformat.write(nb, str(path))
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "pdf", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 1
    assert "q2_derivation" in proc.stderr and "`\\badmacro`" in proc.stderr
    assert f"cell {target + 1} of the notebook" in proc.stderr


def test_cli_html_export(tmp_path):
    path = tmp_path / "hw3.ipynb"
    path.write_text((ROOT / "release" / "hw3" / "hw3.ipynb").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "pdf", str(path), "--html", "-o", str(tmp_path / "out.html")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "out.html").read_text()
    assert "Name: not given" in text and text.count('class="gs-new-page"') == 3
    assert "Tests q1_loss_tests (3 points): not run in the saved notebook" in text  # a blank release
    assert text.count('class="gs-answer"') == 4  # q1_process, q2_derivation, q2_one_hot, q3_explanation
    assert external_resources(text) == [] and "<script" not in text and "<math" in text
