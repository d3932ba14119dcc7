"""The feedback page a student gets: safe HTML, whatever the submission wrote or printed.

- Nothing from the submission becomes markup: its written answers, code and outputs are escaped text; images
  are PNG or JPEG data checked as base64; any other rich output (HTML, SVG, JavaScript, LaTeX) is shown by its
  plain-text form or not at all.
- The page's Content-Security-Policy allows no script at all, images only from the page itself, and only the
  page's own style sheet (by nonce): a `<style>` or `<script>` that slipped into a string could not act.
- Test cells are shown without their hidden part, and no line of a hidden test appears anywhere on the page.
Only the statements and prompts (the instructor's locked Markdown) are rendered as Markdown.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
from pathlib import Path

from autograder.course import cells as nbu
from autograder.course.spec import Spec
from autograder.grading.results import Result

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
IMAGE_TYPES = ("image/png", "image/jpeg")
HIDDEN_NOTE = "[hidden tests: run by the grader, not shown]"
STYLE = """
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .5rem; border-radius: 4px; }
.summary { border: 2px solid #444; padding: .5rem 1rem; border-radius: 6px; }
.cell { margin: 1rem 0; } .answer { border-left: 4px solid #2a6; padding-left: .6rem; }
.output { border-left: 4px solid #aaa; padding-left: .6rem; } .error { border-left-color: #c33; }
.passed { color: #176a2a; } .failed { color: #b3261e; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
img { max-width: 100%; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _pre(text: str, css: str = "") -> str:
    return f'<pre class="{css}">{_e(ANSI.sub("", text))}</pre>' if text else ""


def _markdown(text: str) -> str:
    """The instructor's Markdown (trusted) as HTML."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


def visible_part(source: str) -> str:
    """A test cell without its hidden tests (markers included), as the release has it."""
    out, hidden = [], False
    for line in source.splitlines():
        if line.strip() == nbu.HIDDEN_BEGIN:
            hidden = True
            out.append(f"# {HIDDEN_NOTE}")
        elif line.strip() == nbu.HIDDEN_END and hidden:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def hidden_lines(nb) -> set[str]:
    """Lines of hidden tests that appear nowhere public in the notebook (long enough to be specific)."""
    hidden, public = set(), set()
    for cell in nb.cells:
        inside = {
            ln.strip()
            for block in nbu.regions(cell.source, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END)
            for ln in block.splitlines()
        }
        hidden |= inside
        public |= {ln.strip() for ln in cell.source.splitlines()} - inside
    return {line for line in hidden - public if len(line) >= 6}


def _image(mime: str, data) -> str:
    text = "".join(data) if isinstance(data, list) else str(data)
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "<p>[an image that is not valid data was left out]</p>"
    return f'<img alt="figure" src="data:{mime};base64,{text.strip()}">'


def _output(out) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return _pre(str(out.get("text", "")), "output")
    if kind == "error":
        trace = "\n".join(str(t) for t in out.get("traceback", [])) or f"{out.get('ename')}: {out.get('evalue')}"
        return _pre(trace, "output error")
    data = out.get("data", {}) if isinstance(out.get("data"), dict) else {}
    for mime in IMAGE_TYPES:
        if mime in data:
            return _image(mime, data[mime])
    if "text/plain" in data:
        text = data["text/plain"]
        return _pre("".join(text) if isinstance(text, list) else str(text), "output")
    if data:
        return f"<p>[output of type {_e(', '.join(sorted(data)))} not shown]</p>"
    return ""


def _cell(cell, tests: dict) -> str:
    gid = nbu.grade_id(cell)
    if cell.cell_type == "markdown":
        if nbu.meta(cell).get("locked") and not nbu.meta(cell).get("solution"):
            return f'<div class="cell">{_markdown(cell.source)}</div>'
        label = f"<p><b>Your answer</b> ({_e(gid)})</p>" if gid else ""
        return f'<div class="cell answer">{label}{_pre(cell.source)}</div>'
    if cell.cell_type != "code":
        return ""
    test = tests.get(gid)
    source = visible_part(cell.source) if nbu.is_autograded_test(cell) else cell.source
    head = ""
    if test is not None:
        css = "passed" if test.score >= test.max_score else "failed"
        verdict = "passed" if css == "passed" else f"failed: {test.message or 'see below'}"
        head = f'<p class="{css}"><b>Test {_e(gid)}</b>: {test.score:g} / {test.max_score:g}, {_e(verdict)}</p>'
    outputs = "".join(_output(o) for o in cell.get("outputs", []))
    return f'<div class="cell">{head}{_pre(source)}{outputs}</div>'


def render(result: Result, spec: Spec, nb=None, *, scrub: set[str] = frozenset(), final: tuple[str, ...] = ()) -> str:
    """The whole page. `nb`: the executed notebook (None for a rejected submission); `scrub`: hidden-test lines
    that must not appear (a last line of defence; none should reach the page)."""
    nonce = secrets.token_urlsafe(16)
    title = f"{spec.id}: {spec.title}"
    tests = {t.grade_id: t for t in result.tests}
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        f"style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'\">",
        f"<title>{_e(title)}: feedback for {_e(result.student)}</title>",
        f"<style nonce='{nonce}'>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1><p>Feedback for <b>{_e(result.student)}</b></p>",
        '<div class="summary">'
        + "".join(f"<p>{_e(line)}</p>" for line in [*result.summary_lines(spec), *final])  # final: `grades`' lines
        + "</div>",
    ]
    for heading, items in result.sections():
        parts.append(f"<h2>{_e(heading)}</h2><ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
    if result.tests:
        rows = "".join(
            f"<tr><td>{_e(t.grade_id)}</td><td>{t.score:g} / {t.max_score:g}</td>"
            f'<td class="{"passed" if t.score >= t.max_score else "failed"}">'
            f"{_e('passed' if t.score >= t.max_score else (t.message or 'failed'))}</td></tr>"
            for t in result.tests
        )
        parts.append(f"<h2>Tests</h2><table><tr><th>test</th><th>points</th><th>result</th></tr>{rows}</table>")
    settings = [s for s in result.settings_lines() if s]
    if settings:
        parts.append("<p>" + "<br>".join(_e(s) for s in settings) + "</p>")
    if nb is not None:
        parts.append("<h2>Your notebook, as graded</h2>")
        parts += [_cell(cell, tests) for cell in nb.cells]
    parts.append("</body></html>")
    page = "\n".join(parts)
    for line in sorted(scrub, key=len, reverse=True):
        page = page.replace(_e(line), "[removed]")
    return page


def write(
    result: Result, spec: Spec, target: Path, nb=None, *, scrub: set[str] = frozenset(), final: tuple[str, ...] = ()
) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(result, spec, nb, scrub=scrub, final=final), encoding="utf-8")
    return target
