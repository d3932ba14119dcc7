"""The published answer keys (build/solutions/public/hwN.pdf): what students may get after the due date.

Both editions come from one execution of the key (tests/conftest.py's `solution_keys`, on the short path). The
public one is read back with pdftotext: no line that only the hidden tests have, no solution marker, no
grade_id or points label, every statement, answer and plot; the instructor's edition, read the same way, holds
every one of those hidden-test lines, which shows that the check can see them.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from autograder.course import cells as nbu

pytestmark = pytest.mark.slow

DISTINCT = 12  # characters (whitespace aside): shorter hidden-test lines are too common to tell apart


def squeeze(text: str) -> str:
    """Text without whitespace, and without the marks of a wrapped code line (␣ at the break, ↪ after it)."""
    return re.sub(r"[\s␣↪]+", "", text)


def pdf_text(pdf) -> str:
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def page_texts(pdf) -> list[str]:
    return pdf_text(pdf).split("\f")[:-1]


def body_text(pdf) -> str:
    """The text of every page without its page number (so that a line broken across pages reads whole)."""
    pages = [page.rstrip("\n").rsplit("\n", 1) for page in page_texts(pdf)]
    return "\n".join(page[0] if len(page) == 2 and page[1].strip().isdigit() else "\n".join(page) for page in pages)


def hidden_lines(nb) -> list[str]:
    """Lines of the hidden-test regions that no other cell of the key has (a line such as
    `with torch.no_grad():` also appears in the solutions, so finding it would prove nothing)."""
    elsewhere = squeeze("\n".join(c.source for c in nb.cells if not nbu.is_autograded_test(c)))
    lines = []
    for cell in nb.cells:
        if not nbu.is_autograded_test(cell):
            continue
        for region in nbu.regions(cell.source, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END):
            lines += [line for line in region.splitlines() if len(squeeze(line)) >= DISTINCT]
    return [line for line in lines if squeeze(line) not in elsewhere]


def prose_of(markdown: str) -> str:
    """The letters of the longest run of plain words (math, code and markup aside) in a cell's first 600
    characters: what pdftotext gives back of it whatever the fonts do to formulas."""
    text = re.sub(r"\$\$.*?\$\$|\$.*?\$|`[^`]*`|\\[A-Za-z]+", " | ", markdown[:600], flags=re.S)
    runs = re.findall(r"(?:[A-Za-z]+[,;:.]?\s+){3,}[A-Za-z]+", text)
    return re.sub(r"[^A-Za-z]", "", max(runs, key=len)) if runs else ""


def test_public_key_holds_no_hidden_test_line(homework, solution_keys):
    key = solution_keys(homework)
    lines = hidden_lines(nbu.read(homework.source_notebook))
    assert lines, f"{homework.id} has no hidden-test line to look for"
    public, instructor = squeeze(body_text(key.public_pdf)), squeeze(body_text(key.pdf))
    leaked = [line.strip() for line in lines if squeeze(line) in public]
    assert leaked == [], f"the public {homework.id} key prints hidden tests: {leaked[:3]}"
    unseen = [line.strip() for line in lines if squeeze(line) not in instructor]
    assert unseen == [], f"the instructor's {homework.id} key should print every hidden test: {unseen[:3]}"


def test_public_key_has_no_markers_or_grading_metadata(homework, solution_keys):
    key = solution_keys(homework)
    text = pdf_text(key.public_pdf)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "Answer:"):
        assert marker not in text, f"the public {homework.id} key prints {marker!r}"
    nb = nbu.read(key.notebook)
    graded = [nbu.grade_id(c) for c in nb.cells if nbu.meta(c).get("grade") and nbu.grade_id(c) != "student_name"]
    shown = [gid for gid in graded if gid in text]
    assert shown == [], f"the public {homework.id} key names graded cells: {shown}"
    assert not key.public_pdf.with_suffix(".pages.json").exists(), "no page map (grade_ids, points) beside it"
    assert key.pdf.with_suffix(".pages.json").exists()


def test_public_key_has_statements_answers_and_plots(homework, solution_keys):
    key = solution_keys(homework)
    nb = nbu.read(key.notebook)
    pages = page_texts(key.public_pdf)
    answers = [
        c for c in nb.cells if c.cell_type == "markdown" and nbu.is_manual(c) and nbu.grade_id(c) != "student_name"
    ]
    labels = [line for page in pages for line in page.splitlines() if line.strip() == "Answer"]
    assert len(labels) == len(answers), "one framed, labelled answer per written answer"
    squeezed = squeeze(pdf_text(key.public_pdf))
    letters = re.sub(r"[^A-Za-z]", "", squeezed)
    for cell in answers:  # the answer's own words, not just a label
        assert prose_of(cell.source) in letters, f"{nbu.grade_id(cell)} is missing"
    starts = []
    for section in nbu.sections(nb):  # every problem at the top of its own page, in order
        key_text = re.sub(r"[^a-z0-9]", "", section.heading.split("$")[0].lower())[:40]
        first = [i for i, page in enumerate(pages) if re.sub(r"[^a-z0-9]", "", page.lower()).startswith(key_text)]
        assert first, f"no page starts with {section.heading!r}"
        starts.append(first[0])
    assert starts == sorted(starts)
    figures = sum(
        1
        for c in nb.cells
        if c.cell_type == "code" and not nbu.is_autograded_test(c)
        for o in c.get("outputs", [])
        if {"image/png", "image/jpeg"} & set(o.get("data", {}))
    )
    images = subprocess.run(["pdfimages", "-list", str(key.public_pdf)], capture_output=True, text=True).stdout
    assert sum(1 for row in images.splitlines()[2:] if row.split()[2] == "image") == figures


def test_both_editions_come_from_one_execution(homework, solution_keys):
    """What the key's code printed in its one run shows in both PDFs alike (seeded runs differ between runs
    on other CPUs, so two executions could not be told apart by numbers alone; one run is what make does)."""
    key = solution_keys(homework)
    nb = nbu.read(key.notebook)
    printed = [
        line
        for c in nb.cells
        if c.cell_type == "code" and not nbu.is_autograded_test(c)
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
        for line in o["text"].splitlines()
        if len(squeeze(line)) >= DISTINCT
    ]
    assert printed, f"the {homework.id} key prints nothing to compare"
    public, instructor = squeeze(body_text(key.public_pdf)), squeeze(body_text(key.pdf))
    assert [line for line in printed if squeeze(line) not in public] == []
    assert [line for line in printed if squeeze(line) not in instructor] == []
