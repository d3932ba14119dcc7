"""Generate the bad-submission corpus of a homework from its release and source notebooks.

    python tests/corpus/generate.py hw3 OUT

writes OUT/<case>/... (each case is one student's upload folder, so OUT is itself a folder of submissions)
and OUT/expected.json: for each case its status, autograded score, texts the student must be shown, integrity
flags the instructor must get, and host paths that must not exist afterwards.

Expected scores come from the spec, never from running the grader: T is the homework's autograded total; a
case that breaks or tampers with the answers of one problem expects T minus that problem's autograded points
(the damage goes to the last problem, which later problems cannot depend on, or to the first, whose tests run
before anything else). This holds for homeworks whose problems are graded independently, as the course's are.
"""

from __future__ import annotations

import ast
import copy
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.course import cells as nbu  # noqa: E402
from autograder.course.spec import Spec, all_specs, select  # noqa: E402


@dataclass
class Case:
    name: str
    files: dict[str, bytes]  # relative path in the student's upload -> content
    status: str  # "graded" or "rejected"
    score: float
    texts: list[str] = field(default_factory=list)  # shown to the student, in feedback and in results.json
    flags: list[str] = field(default_factory=list)  # integrity findings the instructor gets
    absent: list[str] = field(default_factory=list)  # host paths the submission tried to create
    printed: list[str] = field(default_factory=list)  # its own cells print these (shown in local feedback)
    not_printed: list[str] = field(default_factory=list)  # and never these

    def expected(self) -> dict:
        data = asdict(self)
        data.pop("files")
        return data


# -- notebook surgery -----------------------------------------------------------------------------------------


class Homework:
    """The notebooks and numbers the cases are made from."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.release = nbu.read(spec.release_notebook)
        self.key = nbu.read(spec.source_notebook)
        graded = [p for p in spec.problems if p.autograded > 0]
        self.first, self.last = graded[0], graded[-1]
        self.total = spec.autograded_total
        self.key_answers = {nbu.grade_id(c): c for c in self.key.cells if nbu.meta(c).get("solution")}

    def owner(self, cell) -> str | None:
        problem = self.spec.problem_of(nbu.grade_id(cell) or "")
        return problem.id if problem else None

    def answers(self, problems: set[str]) -> nbformat.NotebookNode:
        """The release with the key's answers for `problems` (others left as released)."""
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            gid = nbu.grade_id(cell)
            if gid in self.key_answers and self.owner(cell) in problems:
                cell.source = self.key_answers[gid].source
        return nb

    def all_answers(self) -> nbformat.NotebookNode:
        return self.answers({p.id for p in self.spec.problems})

    def answer_code_cells(self, nb, problem: str) -> list:
        return [
            c for c in nb.cells if c.cell_type == "code" and nbu.meta(c).get("solution") and self.owner(c) == problem
        ]

    def test_cells(self, nb, problem: str) -> list:
        return [c for c in nb.cells if nbu.is_autograded_test(c) and self.owner(c) == problem]

    def damage_last(self, code: str) -> nbformat.NotebookNode:
        """Key answers, except the last problem: blank answers, and `code` as its last answer cell."""
        nb = self.answers({p.id for p in self.spec.problems} - {self.last.id})
        self.answer_code_cells(nb, self.last.id)[-1].source = code
        return nb

    def dummy_first(self, returns: str, prelude: str) -> nbformat.NotebookNode:
        """Key answers, except the first problem: functions and names of its answers defined, but returning
        `returns` (wrong), after `prelude` (the tampering) in its first answer cell."""
        nb = self.all_answers()
        cells = self.answer_code_cells(nb, self.first.id)
        for i, cell in enumerate(cells):
            key = self.key_answers[nbu.grade_id(cell)].source
            cell.source = (prelude + "\n" if i == 0 else "") + dummy_definitions(key, returns)
        return nb


def dummy_definitions(key_source: str, returns: str) -> str:
    """The top-level functions and names the key defines, each returning / bound to `returns`."""
    lines = []
    for node in ast.parse(key_source).body:
        if isinstance(node, ast.FunctionDef):
            lines.append(f"def {node.name}(*args, **kwargs):\n    return {returns}\n")
        elif isinstance(node, ast.Assign):
            lines += [f"{t.id} = {returns}" for t in node.targets if isinstance(t, ast.Name)]
    return "\n".join(lines) or "pass"


def dump(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


# -- tampering snippets -----------------------------------------------------------------------------------------

MONKEYPATCH = """\
import ast as _ast
import builtins as _builtins
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
_builtins.all = lambda *a, **k: True
try:
    import torch
    torch.allclose = lambda *a, **k: True
except ImportError:
    pass


class _NoAssert(_ast.NodeTransformer):
    def visit_Assert(self, node):
        return _ast.Pass()


get_ipython().ast_transformers.append(_NoAssert())
"""

ALWAYS_EQUAL = """\
class _Anything(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = float.__hash__
"""

TRACEBACK = """\
_ip = get_ipython()
_ip.showtraceback = lambda *a, **k: None
_ip._showtraceback = lambda *a, **k: None
"""

READ_SECRETS = """\
import glob as _glob
import os as _os

# Where the hidden tests and the gradebook live on the grading machine: the repository holds the data.
_root = _os.path.dirname(_os.environ.get("COURSE_DATA", "/nonexistent/data"))
_up = _os.path.join(_os.getcwd(), "..", "..", "..")
_targets = [_os.path.join(_root, "source", "{hw}", "{nb}"), _os.path.join(_root, "gradebook.db"),
            "/autograder/source/source/{hw}/{nb}"]
for _pattern in (_root + "/*/gradebook.db", _root + "/source/*/*.ipynb", _root + "/build/*/*.ipynb",
                 _up + "/courses/*/gradebook.db", _up + "/courses/*/source/*/*.ipynb"):
    _targets += _glob.glob(_pattern)
_leaked = 0
for _path in _targets:
    try:
        with open(_path, "rb") as _f:
            _data = _f.read()
        _leaked += 1
        print("LEAKED", _path, _data[:3000])
    except OSError as _err:
        pass
print("secret files read:", _leaked)
"""

PRINTS_HIDDEN = """\
_seen = set()


def _spy():
    # Called from a test cell: print that cell's source as IPython and linecache hold it (once per cell).
    import linecache
    current = get_ipython().user_ns["In"][-1]
    if current in _seen:
        return
    _seen.add(current)
    print("LAST INPUT:", current)
    for name in list(linecache.cache):
        if len(linecache.cache[name]) > 2 and "".join(linecache.cache[name][2]) == current:
            print("CACHED:", current)


"""

WRITES_OUTSIDE = """\
import os as _os

_targets = [_os.path.join(_os.path.dirname(_os.environ.get("COURSE_DATA", "/nonexistent/x")), "ESCAPED_{tag}"),
            "/ESCAPED_{tag}", _os.path.join(_os.getcwd(), "..", "..", "ESCAPED_{tag}"), "/tmp/ESCAPED_{tag}"]
for _path in _targets:
    try:
        with open(_path, "w") as _f:
            _f.write("written by a submission")
        print("wrote", _path)
    except OSError as _err:
        print("could not write", _path, type(_err).__name__)
"""


# -- the cases --------------------------------------------------------------------------------------------------


def cases(spec: Spec, tag: str = "corpus") -> list[Case]:
    hw = Homework(spec)
    name = spec.notebook
    T, PF, PL = hw.total, hw.first.autograded, hw.total - hw.last.autograded
    key_all = hw.all_answers()
    out: list[Case] = []

    def graded(case, nb, score, texts=(), flags=(), absent=()):
        out.append(Case(case, {name: dump(nb)}, "graded", score, list(texts), list(flags), list(absent)))

    def rejected(case, files, texts):
        out.append(Case(case, files, "rejected", 0.0, list(texts)))

    graded("blank", hw.release, 0.0, ["NotImplementedError"])
    out.append(Case("answer_key", {name: spec.source_notebook.read_bytes()}, "graded", T))
    graded("partly_right", hw.answers({p.id for p in spec.problems} - {hw.last.id}), PL)
    graded("syntax_error", hw.damage_last("def broken(:\n    return 1\n"), PL, ["SyntaxError"])
    graded("import_time_exception", hw.damage_last("import not_a_module_of_this_course\n"), PL, ["ModuleNotFoundError"])
    graded("infinite_loop", hw.damage_last("while True:\n    pass\n"), PL, ["ran longer than its"])
    graded(
        "unbounded_memory",
        hw.damage_last("_hog = []\nwhile True:\n    _hog.append(bytearray(64 * 2**20))\n"),
        PL,
        ["MemoryError"],
    )
    graded("os_exit", hw.damage_last("import os\nos._exit(3)\n"), PL, ["exited with status 3"])
    graded(
        "kernel_killed", hw.damage_last("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"), PL, ["SIGKILL"]
    )

    nb = copy.deepcopy(key_all)
    first_answer = hw.answer_code_cells(nb, hw.first.id)[0]
    first_answer.source = 'print("x" * 10_000_000)\n' + first_answer.source
    graded("ten_mb_output", nb, T, ["output truncated"])

    nb = copy.deepcopy(key_all)
    for cell in [c for p in spec.problems for c in hw.answer_code_cells(nb, p.id)]:
        cell.source = (
            'import sys, warnings\nwarnings.warn("a warning from an answer cell")\n'
            'print("debugging to stderr", file=sys.stderr)\n'
        ) + cell.source
    graded("stderr_warnings", nb, T)

    # The provided cells, tampered with while the first problem is left unanswered: nothing may earn points.
    blank_first = hw.answers({p.id for p in spec.problems} - {hw.first.id})
    nb = copy.deepcopy(blank_first)
    for cell in hw.test_cells(nb, hw.first.id):
        cell.source = "pass  # tests? what tests"
    graded("edited_test_cell", nb, T - PF, ["was edited"])

    nb = copy.deepcopy(blank_first)
    tests = {id(c) for c in hw.test_cells(nb, hw.first.id)}
    nb.cells = [c for c in nb.cells if id(c) not in tests]
    graded("deleted_test_cell", nb, T - PF, ["was deleted"])

    nb = copy.deepcopy(blank_first)
    for cell in hw.test_cells(nb, hw.first.id):
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    graded("cell_type_changed", nbformat.from_dict(nb), T - PF, ["changed to markdown"])

    nb = copy.deepcopy(key_all)
    first = hw.answer_code_cells(nb, hw.first.id)[0]
    stale = copy.deepcopy(first)
    stale.id = nbformat.v4.new_code_cell().id
    stale.source = "raise NotImplementedError()  # an abandoned copy"
    nb.cells.insert(nb.cells.index(first) + 1, stale)
    test_copy = copy.deepcopy(hw.test_cells(nb, hw.first.id)[0])
    test_copy.id = nbformat.v4.new_code_cell().id
    nb.cells.insert(0, test_copy)
    graded("duplicated_cell", nb, T, ["appears 2 times"])

    nb = copy.deepcopy(key_all)
    tests = [c for c in nb.cells if nbu.is_autograded_test(c)]
    nb.cells = tests + [c for c in nb.cells if not nbu.is_autograded_test(c)]  # every test before any answer
    graded("cells_reordered", nb, T, ["re-ordered"])

    nb = copy.deepcopy(blank_first)
    for cell in [c for c in nb.cells if nbu.is_autograded_test(c)]:
        cell.metadata.nbgrader["points"] = 100 * nbu.points(cell)
    bonus = nbformat.v4.new_code_cell("assert True")
    bonus.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "points": 1000,
        "grade_id": f"{hw.first.id}_bonus_tests",
        "schema_version": 3,
    }
    nb.cells.append(bonus)
    graded("points_raised", nb, T - PF, ["metadata changed"])

    nb = copy.deepcopy(key_all)
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    graded("wrong_kernel", nb, T, ["was replaced by the homework's"])

    text = dump(key_all)
    rejected("invalid_json", {name: text[: len(text) // 2]}, ["not valid JSON"])
    rejected("not_utf8", {name: text.decode("utf-8").encode("utf-16")}, ["not UTF-8"])
    rejected("empty_file", {name: b""}, ["is empty"])
    others = [s for s in all_specs() if s.id != spec.id and s.release_notebook.exists()]
    if others:
        rejected("other_homework", {name: others[0].release_notebook.read_bytes()}, [f"notebook of {others[0].id}"])
    rejected("two_notebooks", {name: text, "copy of " + name: text}, ["2 notebooks were submitted"])
    rejected("no_notebook", {"answers.pdf": b"%PDF-1.4 not a notebook"}, ["no notebook was submitted"])

    nb = copy.deepcopy(key_all)
    cell = hw.answer_code_cells(nb, hw.first.id)[0]
    cell.source += "\n\n" + READ_SECRETS.format(hw=spec.id, nb=spec.notebook)
    out.append(
        Case(
            "reads_hidden_tests_and_gradebook",
            {name: dump(nb)},
            "graded",
            T,
            [],
            ["tried to open a file it may not read"],
            printed=["secret files read: 0"],
            not_printed=["LEAKED /"],
        )
    )

    nb = copy.deepcopy(key_all)
    for c in hw.answer_code_cells(nb, hw.first.id):  # every answer function calls the spy first
        body = ast.parse(hw.key_answers[nbu.grade_id(c)].source).body
        names = [n.name for n in body if isinstance(n, ast.FunctionDef)]
        c.source = (
            PRINTS_HIDDEN
            + c.source
            + "".join(
                f"\n\n_orig_{n} = {n}\ndef {n}(*a, **k):\n    _spy()\n    return _orig_{n}(*a, **k)\n" for n in names
            )
        )
    last = hw.answer_code_cells(nb, hw.last.id)[-1]
    last.source += "\n\nprint('ALL INPUTS:', get_ipython().user_ns['In'])\n"
    graded("prints_hidden_tests", nb, T)

    graded(
        "monkeypatches_comparisons",
        hw.dummy_first("0.0", MONKEYPATCH),
        T - PF,
        [],
        ["numpy.allclose was replaced", "ast_transformers were changed"],
    )
    graded(
        "always_equal_objects", hw.dummy_first("_Anything()", ALWAYS_EQUAL), T - PF, [], ["compare true to anything"]
    )
    graded("rewrites_traceback_display", hw.dummy_first("0.0", TRACEBACK), T - PF, [], ["showtraceback was replaced"])

    nb = copy.deepcopy(key_all)
    cell = hw.answer_code_cells(nb, hw.first.id)[0]
    cell.source += "\n\n" + WRITES_OUTSIDE.format(tag=tag)
    graded(
        "writes_outside_its_folder",
        nb,
        T,
        [],
        ["tried to write outside its folder"],
        [str(ROOT / f"ESCAPED_{tag}"), f"/ESCAPED_{tag}", f"/tmp/ESCAPED_{tag}"],
    )
    return out


def write(spec: Spec, target: Path, tag: str = "corpus") -> list[Case]:
    """Write every case as <target>/<case>/<files> and the expectations as <target>/expected.json."""
    made = cases(spec, tag)
    for case in made:
        for rel, data in case.files.items():
            path = target / "submissions" / case.name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    (target / "expected.json").write_text(json.dumps({c.name: c.expected() for c in made}, indent=1))
    return made


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tests/corpus/generate.py hwN OUT")
    [chosen] = select([sys.argv[1]])
    written = write(chosen, Path(sys.argv[2]))
    print(f"{len(written)} cases for {chosen.id} in {sys.argv[2]}/submissions, expectations in expected.json")
