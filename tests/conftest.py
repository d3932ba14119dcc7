"""Shared fixtures: every homework spec, and the expensive results (check, solution keys) computed once."""

from __future__ import annotations

from pathlib import Path

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `pytest -n` (`make test` runs two workers) tests that share an expensive fixture of ours go to one
    worker, which computes it once; the rest are dealt out one by one (`--dist loadgroup`)."""
    for item in items:
        group = shared_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


# Shared fixtures cheap enough to build once per worker, so that the slow tests using them can spread.
PER_WORKER = {"kit_notebook"}


def shared_group(item) -> str | None:
    """The group of a test: the session or module fixtures of tests/ it uses that no other such fixture of its
    uses (a test of `local(corpus)` joins "local"), with the homework for the per-homework caches below."""
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return None
    here = Path(__file__).parent
    shared = {
        name: fixtures[-1]
        for name, fixtures in definitions.name2fixturedefs.items()
        if fixtures[-1].scope in ("session", "module")
        and name not in PER_WORKER
        and here in Path(fixtures[-1].func.__code__.co_filename).parents
    }
    inner = {arg for fixture in shared.values() for arg in fixture.argnames}
    outer = sorted(set(shared) - inner)
    if not outer:
        return None
    homework = getattr(item, "callspec", None) and item.callspec.params.get("homework")
    per_homework = homework is not None and set(outer) & {"check_results", "solution_keys"}
    return "+".join(outer) + (f"[{homework.id}]" if per_homework else "")


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
