"""Shared fixtures: every homework spec, and the expensive results (check, solution keys) computed once."""

from __future__ import annotations

import pytest

from autograder.course.spec import all_specs

SPECS = all_specs()


def pytest_generate_tests(metafunc):
    """`homework` runs a test once per homework; `@pytest.mark.homeworks(predicate)` keeps only the homeworks the
    test applies to (so that it is not collected, rather than skipped, for the others)."""
    if "homework" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("homeworks")
        specs = [s for s in SPECS if marker is None or marker.args[0](s)]
        metafunc.parametrize("homework", specs, ids=[s.id for s in specs])


@pytest.fixture(scope="session")
def check_results():
    """`check` of every homework, run once per session on demand."""
    from autograder.authoring.check import check_homework

    cache = {}

    def get(spec):
        if spec.id not in cache:
            cache[spec.id] = check_homework(spec, log=lambda *_: None)
        return cache[spec.id]

    return get


@pytest.fixture(scope="session")
def solution_keys(tmp_path_factory):
    """Answer keys executed on their short path and exported to PDF, once per homework."""
    from autograder.authoring.solutions import build

    out = tmp_path_factory.mktemp("solutions")
    cache = {}

    def get(spec):
        if spec.id not in cache:
            cache[spec.id] = build(spec, quick=True, out=out, log=lambda *_: None)
        return cache[spec.id]

    return get
