"""Where cells run (roles) and what a cell reads: the analysis behind the trusted side. No kernels."""

from __future__ import annotations

import nbformat

from autograder.grading import roles
from autograder.grading.source import bound_names, external_reads


def code(source, gid=None, **meta):
    cell = nbformat.v4.new_code_cell(source)
    if gid:
        cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
    return cell


def test_external_reads_skip_locals_and_own_bindings():
    source = (
        "import numpy as np\n"
        "def f(x, y):\n    z = x + y + np.pi + G\n    return [w for w in z if w > T]\n"
        "for _i in range(3):\n    _got = f(_i)\n    assert _got > A\n"
        "with open(p) as _f:\n    _t = _f.read()\n"
        "class C:\n    a = B\n    def m(self):\n        return H\n"
        "x = x + 1\n"
    )
    assert external_reads(source) == {"G", "T", "range", "A", "open", "p", "B", "H", "x"}


def test_magics_are_python_to_the_analysis():
    assert bound_names("%matplotlib inline\nimport numpy as np\nX = 1") == {"np", "X"}
    assert "get_ipython" in external_reads("%time y = 1")


def test_roles_follow_the_key_not_the_submission():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        code("import numpy as np\nX = np.ones(3)", "setup", locked=True),
        code("def f(x):\n    return x", "answer", solution=True),
        code("X = np.zeros(3)"),  # a cell the student added: rebinds the data in the kernel only
        code("Y = X * 2", "more_data", locked=True),  # reads X: still trusted
        code("Z = f(X)", "uses_answer", locked=True),  # reads an answer: kernel only
        code("W = Z + 1", "downstream", locked=True),  # reads a kernel-only name: kernel only
        code("assert f(Y)[0] == 2", "test", grade=True, locked=True, points=1),
    ]
    plan = roles.plan(nb, answers={"f"})
    assert plan.roles == ["trusted", "kernel", "kernel", "trusted", "kernel", "kernel", "test"]
    assert plan.kernel_only == {"f", "Z", "W"}


def test_answer_names_leave_optional_cells_out():
    nb = nbformat.v4.new_notebook()
    optional = code("scratch = 1", "check", solution=True)
    optional.metadata["course"] = {"optional": True}
    nb.cells = [code("def f(x):\n    return x\nlr = 0.1", "answer", solution=True), optional]
    assert roles.answer_names(nb) == {"f", "lr"}
