"""The trusted-test engine with real kernels (no sandbox: test_sandbox.py covers it): how tests see the
submission (proxies, plain data, callbacks, in-place changes), and how a notebook's time is spent (slow cells,
stuck kernels, dead kernels, floods). Small synthetic notebooks; one zygote for the module."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.course.paths import tool_env
from autograder.course.policy import Limits
from autograder.grading.execute import NotebookRun
from autograder.grading.trusted import Zygote

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def code(source, gid=None, *, kind="answer", points=1):
    cell = nbformat.v4.new_code_cell(source)
    if kind == "setup":
        meta = {"locked": True, "solution": False, "grade": False}
    elif kind == "test":
        meta = {"locked": True, "solution": False, "grade": True, "points": points}
    elif kind == "statement":
        cell = nbformat.v4.new_markdown_cell(source)
        meta = {"locked": True, "solution": False, "grade": False}
    else:
        meta = {"solution": True, "grade": False}
    cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
    return cell


def run(zygote, cells, answers, limits=None, tmp=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "work").mkdir()
    (folder / "sock").mkdir()
    limits = limits or Limits(cell_seconds=60, notebook_seconds=300)
    with NotebookRun(
        nb, answers, limits, zygote, workdir=folder / "work", socket_dir=folder / "sock", env=tool_env()
    ) as r:
        return r.run_all()


SETUP = code("import numpy as np\nimport torch\nX = np.arange(6.0).reshape(2, 3)", "setup", kind="setup")


def test_tests_call_the_submission_with_plain_data(zygote, tmp_path):
    execution = run(
        zygote,
        [
            SETUP,
            code(
                "def scale(a, k=2):\n    return a * k\n"
                "def stats(a):\n    return {'mean': float(a.mean()), 'shape': a.shape, 'rows': [r for r in a]}\n"
                "def make_adder(c):\n    return lambda x: x + c\n"
                "lr_range = (0.0, 0.2)\nX = np.zeros((2, 3))  # the student's copy only",
                "answer",
            ),
            code(
                "_s = stats(X)\n"
                "assert _s['mean'] == 2.5 and _s['shape'] == (2, 3) and isinstance(_s['rows'][0], np.ndarray)\n"
                "assert np.array_equal(scale(X, k=3), 3 * X) and scale(np.float32(2)).dtype == np.float32\n"
                "assert make_adder(5)(1) == 6\n"
                "assert lr_range == (0.0, 0.2) and isinstance(lr_range, tuple)\n"
                "assert X.sum() == 15, 'the test sees the instructor X, not the student\\'s zeros'",
                "values_tests",
                kind="test",
            ),
        ],
        {"scale", "stats", "make_adder", "lr_range"},
        tmp=tmp_path,
    )
    assert execution.tests["values_tests"].passed, execution.tests["values_tests"].message


def test_callbacks_in_place_updates_and_generators(zygote, tmp_path):
    execution = run(
        zygote,
        [
            SETUP,
            code(
                "def apply(f, x):\n    return f(x) + f(2 * x)\n"
                "def step(params, lr):\n    params['w'] -= lr * params['w']\n    params['n'] = params.get('n', 0) + 1\n"
                "def shuffle(n, g):\n    return torch.randperm(n, generator=g)\n"
                "def twice(f):\n    return f(f(1.0))",
                "answer",
            ),
            code(
                "_calls = []\n"
                "def _f(v):\n    _calls.append(v)\n    return v * 10\n"
                "assert apply(_f, 1.0) == 30.0 and _calls == [1.0, 2.0]\n"
                "assert apply(np.square, 3.0) == 45.0\n"
                "assert twice(lambda v: apply(lambda u: u + 1, v)) == 17.0  # f(v) = 3v + 2, twice\n"
                "_p = {'w': np.ones(3)}\n_w = _p['w']\nstep(_p, 0.5)\n"
                "assert _p['n'] == 1 and np.allclose(_w, 0.5), 'in-place changes reach the test'\n"
                "_g = torch.Generator().manual_seed(0)\n_a = shuffle(5, _g)\n_b = shuffle(5, _g)\n"
                "assert not torch.equal(_a, _b), 'the generator advanced in the kernel and here'",
                "calls_tests",
                kind="test",
            ),
        ],
        {"apply", "step", "shuffle", "twice"},
        tmp=tmp_path,
    )
    assert execution.tests["calls_tests"].passed, execution.tests["calls_tests"].message


def test_what_a_submission_returns_or_raises(zygote, tmp_path):
    execution = run(
        zygote,
        [
            SETUP,
            code(
                "class Box:\n    pass\n"
                "def box():\n    return Box()\n"
                "def bad(x):\n    raise ValueError('negative input')\n"
                "def noisy(x):\n    import warnings, sys\n    warnings.warn('deprecated', DeprecationWarning)\n"
                "    print('hello from the kernel'); print('to stderr', file=sys.stderr)\n    return x",
                "answer",
            ),
            code("box()", "unsupported_tests", kind="test"),
            code(
                "try:\n    bad(1)\nexcept ValueError as _e:\n    assert 'negative input' in str(_e)",
                "raises_tests",
                kind="test",
            ),
            code(
                "import sys, warnings\nwarnings.warn('a warning in a test')\nprint('stderr', file=sys.stderr)\n"
                "assert noisy(3) == 3",
                "noise_tests",
                kind="test",
            ),
            code("undefined_answer(1)", "missing_tests", kind="test"),
        ],
        {"box", "bad", "noisy", "undefined_answer"},
        tmp=tmp_path,
    )
    tests = execution.tests
    assert (
        not tests["unsupported_tests"].passed and "returned a Box, not plain data" in tests["unsupported_tests"].evalue
    )
    assert tests["raises_tests"].passed, tests["raises_tests"].message
    assert tests["noise_tests"].passed and "hello from the kernel" in tests["noise_tests"].kernel_output
    assert not tests["missing_tests"].passed and tests["missing_tests"].ename == "NameError"


def test_a_slow_cell_costs_only_its_own_problem(zygote, tmp_path):
    limits = Limits(cell_seconds=3, notebook_seconds=120)
    execution = run(
        zygote,
        [
            SETUP,
            code("## Problem 1", "p1_statement", kind="statement"),
            code("import time\nwhile True:\n    time.sleep(0.1)", "p1_train"),
            code("def f(x):\n    return x + 1", "p1_answer"),
            code("assert f(1) == 2", "p1_tests", kind="test"),
            code("## Problem 2", "p2_statement", kind="statement"),
            code("def g(x):\n    return 2 * x", "p2_answer"),
            code("assert g(2) == 4", "p2_tests", kind="test"),
        ],
        {"f", "g"},
        limits,
        tmp=tmp_path,
    )
    assert execution.tests["p1_tests"].passed and execution.tests["p2_tests"].passed
    assert any("longer than its 3 s limit" in e for e in execution.events)


def test_a_kernel_that_ignores_interrupts_is_restarted(zygote, tmp_path):
    limits = Limits(cell_seconds=3, notebook_seconds=200)
    execution = run(
        zygote,
        [
            SETUP,
            code("## Problem 1", "p1_statement", kind="statement"),
            code("def f(x):\n    return x + 1", "p1_answer"),
            code("assert f(1) == 2", "p1_tests", kind="test"),
            code("## Problem 2", "p2_statement", kind="statement"),
            code(
                "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
                "    except KeyboardInterrupt:\n        pass",
                "p2_stubborn",
            ),
            code("def g(x):\n    return 2 * x", "p2_answer"),
            code("assert g(2) == 4", "p2_tests", kind="test"),
            code("## Problem 3", "p3_statement", kind="statement"),
            code("def h(x):\n    return f(x) * 3", "p3_answer"),
            code("assert h(1) == 6", "p3_tests", kind="test"),
        ],
        {"f", "g", "h"},
        limits,
        tmp=tmp_path,
    )
    assert execution.tests["p1_tests"].passed and execution.tests["p3_tests"].passed
    assert any("restarted" in e for e in execution.events)


def test_a_dead_kernel_and_a_runaway_test(zygote, tmp_path):
    limits = Limits(cell_seconds=4, notebook_seconds=200)
    execution = run(
        zygote,
        [
            SETUP,
            code("## Problem 1", "p1_statement", kind="statement"),
            code("def spin(x):\n    while True:\n        pass", "p1_answer"),
            code("spin(1)", "p1_tests", kind="test"),
            code("## Problem 2", "p2_statement", kind="statement"),
            code("import os\nos._exit(3)", "p2_crash"),
            code("def g(x):\n    return 2 * x", "p2_answer"),
            code("## Problem 3", "p3_statement", kind="statement"),
            code("def h(x):\n    return x - 1", "p3_answer"),
            code("assert h(1) == 0", "p3_tests", kind="test"),
        ],
        {"spin", "g", "h"},
        limits,
        tmp=tmp_path,
    )
    assert not execution.tests["p1_tests"].passed and "did not finish" in execution.tests["p1_tests"].evalue
    assert execution.tests["p3_tests"].passed
    assert any("exited with status 3" in e for e in execution.events)


def test_output_is_capped_while_it_arrives(zygote, tmp_path):
    limits = Limits(cell_seconds=30, notebook_seconds=120, output_kb=8)
    execution = run(
        zygote,
        [SETUP, code("for _ in range(10000):\n    print('x' * 100)", "flood")],
        set(),
        limits,
        tmp=tmp_path,
    )
    text = "".join(o.get("text", "") for o in execution.nb.cells[1].outputs)
    assert len(text) < 16 * 1024 and "output truncated" in text
    assert any("truncated" in e for e in execution.events)
