"""The attack and robustness corpus (tests/corpus/generate.py, made from hw3), graded twice: as one class by
`grade` (two at a time, full isolation) and case by case through the Gradescope bundle in the local emulation
(the real setup.sh and run_autograder). For every case: status and score (an attack never above the
wrong-answer baseline), what the student is shown, files it must not have written, what its own output says,
and that no hidden-test line reaches the student in any form. The honest students of the batch keep their
grades whatever the others did. Needs root and namespaces (CI has them)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus import generate

from autograder.course import cells as nbu
from autograder.course.paths import ASSIGNMENTS
from autograder.course.policy import Limits
from autograder.course.spec import load
from autograder.gradescope import bundle, emulate
from autograder.grading import feedback, gradebook, submissions
from autograder.grading.batch import grade_batch
from autograder.grading.engine import course_id

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="grading with isolation needs a root grader with namespaces"),
]

SPEC = load(ASSIGNMENTS / "hw3.toml")
CASES = [c.name for c in generate.cases(SPEC)]
# Short limits keep the infinite loop cheap; the key's slowest hw3 cell takes about a second.
LIMITS = Limits(cell_seconds=20, notebook_seconds=240, memory_mb=2048, output_kb=256, upload_mb=5)
HIDDEN = {"".join(line.split()) for line in feedback.hidden_lines(nbu.read(SPEC.source_notebook))}


def shown(text: str) -> str:
    """Everything a student can read in a page or a results.json: its text, and any base64 it printed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for blob in re.findall(r"[A-Za-z0-9+/]{40,}={0,2}", text):
        try:
            text += "\n" + base64.b64decode(blob).decode("utf-8", "replace")
        except ValueError:
            pass
    return text


def assert_no_hidden_tests(text: str) -> None:
    squashed = "".join(shown(text).split())
    leaked = [line for line in HIDDEN if line in squashed]
    assert not leaked, f"hidden test lines shown to the student: {leaked[:3]}"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    target = tmp_path_factory.mktemp("corpus")
    made = generate.write(SPEC, target, tag=target.name)
    return target / "submissions", {c.name: c for c in made}


def student_of(case) -> str:
    return submissions.safe_id(case.folder or case.name)


@pytest.fixture(scope="session")
def local(corpus, tmp_path_factory):
    folder, _ = corpus
    out = tmp_path_factory.mktemp("graded")
    db = f"sqlite:///{out / 'gradebook.db'}"
    summary = grade_batch(
        SPEC, folder, out / "out", jobs=2, force=True, db_url=db, limits=LIMITS, progress=False, log=lambda *_: None
    )
    return summary, {r.student: r for r in summary.results}, out / "out", db


@pytest.fixture(scope="session")
def on_gradescope(corpus, tmp_path_factory):
    folder, cases = corpus
    area = tmp_path_factory.mktemp("gradescope")
    zip_path = bundle.build(SPEC, area / f"{SPEC.id}.zip", LIMITS)
    roots = [area / "root0", area / "root1"]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda root: emulate.emulate_setup(zip_path, root), roots))
        names = sorted(cases)

        def grade_share(k):
            return [(n, emulate.emulate_run(roots[k], folder / (cases[n].folder or n), slot=k)) for n in names[k::2]]

        results = list(pool.map(grade_share, range(2)))
    return {name: data for part in results for name, data in part}


@pytest.mark.parametrize("name", CASES)
def test_case_graded_locally(name, corpus, local):
    case = corpus[1][name]
    result = local[1][student_of(case)]
    expected = local[1]["wrong_answer_baseline"].score if case.score is None else case.score
    why = result.message or result.notes or [t.message for t in result.tests if t.score < t.max_score]
    assert result.status == case.status, why
    assert result.score <= expected if case.score is None else result.score == pytest.approx(expected), why
    page = Path(result.feedback).read_text(encoding="utf-8")
    text = shown(page)
    for expected in case.texts:
        assert expected in text, f"{name}: {expected!r} not in the feedback"
    for path in case.absent:
        assert not Path(path).exists(), f"{name} wrote {path} outside its folder"
    for expected in case.printed:
        assert expected in text, f"{name}: its output {expected!r} is not in the feedback"
    for unexpected in case.not_printed:
        assert unexpected not in page, f"{name}: {unexpected!r} in the feedback page's markup"
    assert_no_hidden_tests(page)


@pytest.mark.parametrize("name", CASES)
def test_case_graded_on_gradescope(name, corpus, on_gradescope):
    case = corpus[1][name]
    data = on_gradescope[name]
    assert data["extra_data"]["status"] == case.status
    if case.score is None:  # an attack: never above the baseline graded the same way
        assert data["score"] <= on_gradescope["wrong_answer_baseline"]["score"]
    else:
        assert data["score"] == pytest.approx(case.score)
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])
    rejected = [t for t in data["tests"] if t["name"] == "Your submission"]
    assert bool(rejected) == (case.status == "rejected")
    text = data["output"] + "\n".join(t["name"] + "\n" + t.get("output", "") for t in data["tests"])
    for expected in case.texts:
        assert expected in text, f"{name}: {expected!r} not in results.json"
    for path in case.absent:
        assert not Path(path).exists()
    assert_no_hidden_tests(json.dumps(data))


def test_attacks_never_beat_the_wrong_answer_baseline(corpus, local):
    baseline = local[1]["wrong_answer_baseline"].score
    assert baseline <= 0.05 * SPEC.autograded_total, "the baseline must be nearly worthless, or attacks prove little"
    attacks = {name: local[1][student_of(c)].score for name, c in corpus[1].items() if c.attack}
    assert len(attacks) >= 10 and all(score <= baseline for score in attacks.values()), attacks


def test_the_batch_keeps_every_student_apart(corpus, local):
    summary, results, out, db = local
    _, cases = corpus
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(cases)
    assert summary.errors == 0 and summary.graded + summary.rejected == len(cases)
    assert results["answer_key"].score == SPEC.autograded_total
    assert results["alice-2"].score == results[submissions.safe_id("alice?")].score == SPEC.autograded_total
    for name, result in results.items():
        scores = gradebook.scores(db, SPEC, name, course_id())
        tests = {t.grade_id: t.score for t in result.tests}
        assert {k: v for k, v in scores.items() if k in tests} == pytest.approx(tests), name
        if result.status == "rejected":
            assert all(v in (0, None) for v in scores.values()), name
