"""The bad-submission corpus (tests/corpus/generate.py, made from hw3's release and source notebooks), graded
twice: by `grade` locally (one batch, two at a time) and by the Gradescope bundle run in the local emulation
(setup.sh against this environment, then run_autograder per case). For every case: status, score, the message
the student sees, the integrity flags (and none where there is no tampering), files that must not have been
written, and that no hidden-test line reaches the student.

About 6 minutes for each channel on an idle 2-core machine (the cases are graded two at a time).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.course import cells as nbu
from autograder.course.paths import ASSIGNMENTS, BUILD
from autograder.course.policy import Limits
from autograder.course.spec import load
from autograder.gradescope import bundle as gradescope
from autograder.grading import gradebook
from autograder.grading.batch import grade_batch
from autograder.grading.engine import course_id

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import generate  # noqa: E402

pytestmark = pytest.mark.slow

SPEC = load(ASSIGNMENTS / "hw3.toml") if (ASSIGNMENTS / "hw3.toml").exists() else None
CASES = [c.name for c in generate.cases(SPEC)] if SPEC and SPEC.release_notebook.exists() else []
# Short limits keep the infinite loop cheap; the key's slowest hw3 cell takes about a second.
LIMITS = Limits(cell_seconds=30, notebook_seconds=240, memory_mb=2048, output_kb=256)


def hidden_lines(spec) -> set[str]:
    """Hidden-test lines (whitespace removed) that appear nowhere public: none may reach a student."""
    hidden, public = set(), set()
    for cell in nbu.read(spec.source_notebook).cells:
        inside = {
            line.strip() for b in nbu.regions(cell.source, nbu.HIDDEN_BEGIN, nbu.HIDDEN_END) for line in b.splitlines()
        }
        hidden |= inside
        public |= {line.strip() for line in cell.source.splitlines()} - inside
    return {"".join(line.split()) for line in hidden - public if len(line) >= 6}


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_no_hidden_tests(text: str) -> None:
    squashed = "".join(text.split())
    leaked = [line for line in hidden_lines(SPEC) if line in squashed]
    assert not leaked, f"hidden test lines shown to the student: {leaked[:3]}"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    if not CASES:
        pytest.skip("hw3 (spec, source and release) is needed for the corpus")
    target = tmp_path_factory.mktemp("corpus")
    made = generate.write(SPEC, target, tag=uuid.uuid4().hex[:8])
    return target / "submissions", {c.name: c for c in made}


@pytest.fixture(scope="session")
def local(corpus, tmp_path_factory):
    submissions, _ = corpus
    out = tmp_path_factory.mktemp("graded")
    db = f"sqlite:///{out / 'gradebook.db'}"
    summary = grade_batch(
        SPEC,
        submissions,
        out / "out",
        jobs=2,
        force=True,
        db_url=db,
        limits=LIMITS,
        progress=False,
        log=lambda *_: None,
    )
    return summary, {r.student: r for r in summary.results}, out / "out", db


@pytest.fixture(scope="session")
def on_gradescope(corpus):
    submissions, cases = corpus
    area = BUILD / "test-emulation" / uuid.uuid4().hex[:8]  # not /tmp: kernels get a private one
    bundle = gradescope.build(SPEC, area / f"{SPEC.id}.zip", LIMITS)
    roots = [area / "root0", area / "root1"]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda root: gradescope.emulate_setup(bundle, root), roots))
        names = sorted(cases)
        results = list(
            pool.map(
                lambda k: [(n, gradescope.emulate_run(roots[k], submissions / n, slot=k)) for n in names[k::2]],
                range(2),
            )
        )
    yield {name: data for part in results for name, data in part}
    shutil.rmtree(area, ignore_errors=True)


@pytest.mark.parametrize("name", CASES)
def test_case_graded_locally(name, corpus, local):
    case = corpus[1][name]
    result = local[1][name]
    assert (result.status, result.score) == (case.status, pytest.approx(case.score)), result.message or result.notes
    page = visible_text(Path(result.feedback).read_text(encoding="utf-8"))
    for text in case.texts:
        assert text in page, f"{name}: {text!r} not in the feedback"
    for flag in case.flags:
        assert any(flag in f for f in result.flags), f"{name}: no flag {flag!r} in {result.flags}"
    if not case.flags:
        assert result.flags == [], f"{name}: false integrity findings {result.flags}"
    for path in case.absent:
        assert not Path(path).exists(), f"{name} wrote {path} outside its folder"
    for text in case.printed:
        assert text in page, f"{name}: its output {text!r} is not in the feedback"
    for text in case.not_printed:
        assert text not in page, f"{name}: {text!r} in the feedback"
    assert_no_hidden_tests(page)


@pytest.mark.parametrize("name", CASES)
def test_case_graded_on_gradescope(name, corpus, on_gradescope):
    case = corpus[1][name]
    data = on_gradescope[name]
    assert data["score"] == pytest.approx(case.score)
    assert data["extra_data"]["status"] == case.status
    rejected = [t for t in data["tests"] if t["name"] == "Your submission"]
    assert bool(rejected) == (case.status == "rejected")
    shown = data["output"] + "\n".join(t["name"] + "\n" + t.get("output", "") for t in data["tests"])
    for text in case.texts:
        assert text in shown, f"{name}: {text!r} not in results.json"
    flags = data["extra_data"]["flags"]
    for flag in case.flags:
        assert any(flag in f for f in flags), f"{name}: no flag {flag!r} in {flags}"
    if not case.flags:
        assert flags == []
    for path in case.absent:
        assert not Path(path).exists()
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(case.score)
    assert_no_hidden_tests(json.dumps(data))


def test_local_batch_writes_csv_feedback_and_gradebook(corpus, local):
    summary, results, out, db = local
    _, cases = corpus
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(cases) and rows[0].startswith("student,status,autograded,autograded_max,q1,q2,q3")
    assert all((out / "feedback" / name / f"{SPEC.id}.html").exists() for name in cases)
    assert summary.errors == 0 and summary.graded + summary.rejected == len(cases)
    for name, result in results.items():
        scores = gradebook.scores(db, SPEC, name, course_id())
        tests = {t.grade_id: t.score for t in result.tests}
        assert {k: v for k, v in scores.items() if k in tests} == pytest.approx(tests), name
        if result.status == "rejected":
            assert all(v == 0 for v in scores.values()), name
