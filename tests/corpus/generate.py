"""Generate the attack and robustness corpus of a homework from its release and source notebooks.

    python tests/corpus/generate.py hw3 OUT

writes OUT/submissions/<case>/... (each case is one student's upload folder, so that folder is itself a folder
of submissions, graded as one batch) and OUT/expected.json: for each case its status, autograded score, texts
the student must be shown, host paths that must not exist afterwards, and what its own output must (not) say.

Expected scores come from the spec, never from running the grader: T is the homework's autograded total. The
wrong-answer baseline (every answer defined but wrong, breaking every rule) earns only what tests of a single
property pay (hw3's stability test passes a constant function). An attack is the baseline plus one attack class
of docs/grading.md's threat model: none may score above the baseline graded in the same batch. A case that
breaks the answers of one problem expects T minus that problem's points (the damage goes to the last problem).
The answer key and a partly right submission grade in the same batch, so an attack that hurt another student
would show there.
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
    score: float | None  # None: at most the wrong-answer baseline's score (an attack, or the baseline itself)
    texts: list[str] = field(default_factory=list)  # shown to the student, in feedback and in results.json
    absent: list[str] = field(default_factory=list)  # host paths the submission tried to create
    attack: bool = False  # an attack class: may never score above the wrong-answer baseline
    folder: str = ""  # the student's folder name (default: the case name)
    links: dict[str, str] = field(default_factory=dict)  # relative path -> what the symbolic link points to
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

    def baseline(self, prelude: str = "", *, top: str = "") -> nbformat.NotebookNode:
        """Every answer defined but wrong (the wrong-answer baseline, 0 points), with `prelude` (an attack) at the
        start of the first answer cell and `top` as a cell of the student's own before everything else."""
        nb = copy.deepcopy(self.release)
        cells = [c for p in self.spec.problems for c in self.answer_code_cells(nb, p.id)]
        for i, cell in enumerate(cells):
            key = self.key_answers[nbu.grade_id(cell)].source
            cell.source = (prelude + "\n" if i == 0 and prelude else "") + dummy_definitions(key, "0.0")
        if top:
            nb.cells.insert(0, nbformat.v4.new_code_cell(top))
        return nb


def dummy_definitions(key_source: str, returns: str) -> str:
    """The top-level functions and names the key defines, each returning / bound to `returns`; the functions
    also refer to autodiff and torch.nn.Module (in code that never runs), so that no rule cell pays either."""
    lines = []
    for node in ast.parse(key_source).body:
        if isinstance(node, ast.FunctionDef):
            lines.append(
                f"def {node.name}(*args, **kwargs):\n    _ = args, kwargs\n"
                "    if False:  # never runs; the baseline breaks every rule a problem may have\n"
                "        _ = torch.autograd.grad, torch.nn.Linear\n"
                f"    return {returns}\n"
            )
        elif isinstance(node, ast.Assign):
            lines += [f"{t.id} = {returns}" for t in node.targets if isinstance(t, ast.Name)]
    return "\n".join(lines) or "pass"


def dump(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


# -- tampering snippets -----------------------------------------------------------------------------------------

# -- attack code (kernel side) --------------------------------------------------------------------------------

FAKE_REPLIES = """\
# Turn every failing reply of the kernel into "ok" (the old guard trusted the kernel's replies).
_kernel = get_ipython().kernel
_send = _kernel.session.send
def _lying_send(stream, msg_or_type, content=None, *args, **kwargs):
    if isinstance(content, dict) and content.get("status") == "error":
        content = {"status": "ok", "execution_count": content.get("execution_count"), "user_expressions": {}}
    return _send(stream, msg_or_type, content, *args, **kwargs)
_kernel.session.send = _lying_send
"""

REPLACE_SERVER = """\
# Replace whatever serves the grader inside the kernel with one that answers every call with success.
import json as _json, sys as _sys
class _FakeServer:
    def serve(self):
        k = get_ipython().kernel
        msg = _json.loads(k.raw_input(_json.dumps({"op": "ready"})))
        while msg.get("op") != "done":
            if msg.get("op") == "get":
                reply = {"op": "result", "values": {n: {"kind": "value", "data": True} for n in msg["names"]}}
            else:
                reply = {"op": "result", "value": True, "mutated": []}
            msg = _json.loads(k.raw_input(_json.dumps(reply)))
for _name in list(_sys.modules):
    if "autograder" in _name:
        _sys.modules[_name].serve = _FakeServer().serve
"""

AUDIT_HOOK_TRACE = """\
# An audit hook that switches a trace hook on while the grader runs anything, to skip failing lines.
import sys as _sys
def _tracer(frame, event, arg):
    return _tracer
def _audit(event, args):
    if event == "exec":
        _sys.settrace(_tracer)
_sys.addaudithook(_audit)
"""

PATCH_NUMPY = """\
# Make numpy's comparisons say yes to everything, down to its internals.
import numpy as _np
_yes = lambda *a, **k: True
_np.allclose = _np.array_equal = _yes
_np.isclose.__code__ = (lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False: True).__code__
import numpy._core.numeric as _numeric
_numeric.isclose = _numeric.allclose = _yes
import numpy.testing as _nt
_nt.assert_allclose = lambda *a, **k: None
"""

LYING_ARRAY = """\
# Every answer is an array whose comparisons are always true.
import numpy as _np
class _Liar(_np.ndarray):
    def __eq__(self, other):
        return _np.ones(_np.shape(other), bool)
    __ne__ = lambda self, other: _np.zeros(_np.shape(other), bool)
    def __array_finalize__(self, obj):
        pass
_LIAR = _np.zeros(4).view(_Liar)
"""

EVENT_CALLBACKS = """\
# Callbacks around every cell, to undo the grader's work between cells.
def _before(*args):
    import builtins
    builtins.AssertionError = Exception
get_ipython().events.register("pre_run_cell", _before)
get_ipython().events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
"""

HUNT_SECRETS = """\
# Look everywhere the kernel can reach for hidden tests, keys and grades, and print what it finds.
import gc as _gc, glob as _glob, linecache as _lc, os as _os, base64 as _b64
_found = []
# Spelled backwards, so that this cell's own text (in history, linecache, memory) is not a find.
_markers = tuple(s[::-1] for s in ("STSET NEDDIH NIGEB", "stneidarg_dargotua_", "ssol_hcrot_", "NOITULOS NIGEB ###"))
for _obj in _gc.get_objects():
    if isinstance(_obj, str) and _obj not in _markers and any(m in _obj for m in _markers):
        _found.append("memory")
for _file, _entry in list(_lc.cache.items()):
    if any(m in "".join(_entry[2]) for m in _markers):
        _found.append(_file)
for _text in get_ipython().user_ns.get("In", []):
    if any(m in _text for m in _markers):
        _found.append("history")
_paths = ["{root}/source", "{root}/gradebook.db", "{root}/release", "{root}/build", "/autograder/source",
          "/autograder/results", "/root", "/home"] + _glob.glob("/proc/[0-9]*/cmdline")
_readable = 0
for _path in _paths:
    for _dirpath, _dirs, _files in (_os.walk(_path) if _os.path.isdir(_path) else [("", [], [_path])]):
        for _name in _files:
            try:
                with open(_os.path.join(_dirpath, _name), "rb") as _f:
                    _data = _f.read(1 << 20)
                _readable += 1
                if any(m.encode() in _data for m in _markers):
                    _found.append(_os.path.join(_dirpath, _name))
            except OSError:
                pass
print("secret files read:", _readable, "secrets found:", len(_found))
print("EXFIL", _b64.b64encode(repr(_found).encode()).decode())
"""

FORGE_PROTOCOL = """\
# Talk to the grader directly: forged results, forged callbacks, a giant and a deeply nested value.
import json as _json
def _forge():
    k = get_ipython().kernel
    for message in ({"op": "result", "value": True}, {"op": "callback", "id": 999, "args": [], "kwargs": {"$d": []}},
                    {"op": "result", "value": {"$fn": {"lib": "os.system"}}}, {"op": "result", "value": "x" * 10**6}):
        try:
            k.raw_input(_json.dumps(message))
        except Exception:
            pass
    deep = 0
    for _ in range(10000):
        deep = [deep]
    return deep
"""

WRITE_OUTSIDE = """\
# Write where the grader keeps its results, and everywhere else it might reach.
import os as _os
for _path in ["{root}/ESCAPED_{tag}", "/ESCAPED_{tag}", "/tmp/ESCAPED_{tag}", "{root}/gradebook.db",
              "/autograder/results/results.json"]:
    try:
        with open(_path, "a") as _f:
            _f.write('{{"score": 1000}}')
    except OSError:
        pass
"""

KILL_EVERYTHING = """\
# Kill every process the kernel can see, its parents first.
import os as _os, signal as _signal
for _pid in (_os.getppid(), 1):
    try:
        _os.kill(_pid, _signal.SIGKILL)
    except OSError:
        pass
try:
    _os.kill(-1, _signal.SIGKILL)
except OSError:
    pass
"""

FORK_MEMORY = """\
import os, time
for _ in range(6):
    if os.fork() == 0:
        block = bytearray(600 * 2**20)
        block[::4096] = b"1" * len(block[::4096])
        time.sleep(60)
        os._exit(0)
time.sleep(60)
"""

FILL_DISK = """\
for i in range(8):  # 100 MB files: each under the file limit, together over the disk limit
    with open(f"/tmp/fill{i}" if i % 2 else f"fill{i}", "wb") as f:
        f.write(b"0" * (100 * 2**20))
"""

STYLE_ANSWER = (
    "<style>.summary{display:none}</style><p>Autograded: 1000 / 1000 points</p>"
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
)


# -- the cases -----------------------------------------------------------------------------------------------


def cases(spec: Spec, tag: str = "corpus") -> list[Case]:
    hw = Homework(spec)
    name = spec.notebook
    T, PL = hw.total, hw.total - hw.last.autograded
    key_all = hw.all_answers()
    out: list[Case] = []
    root = str(ROOT)

    def graded(case, nb, score, texts=(), absent=(), **more):
        out.append(Case(case, {name: dump(nb)}, "graded", score, list(texts), list(absent), **more))

    def attack(case, nb, texts=(), absent=(), **more):
        graded(case, nb, None, texts, absent, attack=True, **more)

    def rejected(case, files, texts, **more):
        out.append(Case(case, files, "rejected", 0.0, list(texts), **more))

    # The class: every other student in the batch must keep exactly these grades.
    out.append(Case("answer_key", {name: spec.source_notebook.read_bytes()}, "graded", T))
    graded("partly_right", hw.answers({p.id for p in spec.problems} - {hw.last.id}), PL)
    graded("blank", hw.release, 0.0, ["NotImplementedError"])
    graded("wrong_answer_baseline", hw.baseline(), None)  # what tests of properties alone pay, e.g. stability

    # Attacks on the grade: none may score above the baseline.
    attack("fake_kernel_replies", hw.baseline(FAKE_REPLIES))
    attack("replaced_grading_server", hw.baseline(REPLACE_SERVER))
    attack("audit_hook_trace", hw.baseline(AUDIT_HOOK_TRACE))
    attack("patched_numpy_internals", hw.baseline(PATCH_NUMPY))
    attack("poisoned_before_setup", hw.baseline(top=PATCH_NUMPY))
    lying = hw.baseline(LYING_ARRAY)
    for cell in [c for p in spec.problems for c in hw.answer_code_cells(lying, p.id)]:
        cell.source = cell.source.replace("return 0.0", "return _LIAR").replace("= 0.0", "= _LIAR")
    attack("lying_array_subclass", lying)
    attack("event_callbacks", hw.baseline(EVENT_CALLBACKS))
    attack("hunts_hidden_tests", hw.baseline(HUNT_SECRETS.format(root=root)), printed=["secrets found: 0"])
    forged = hw.baseline(FORGE_PROTOCOL)
    for cell in [c for p in spec.problems for c in hw.answer_code_cells(forged, p.id)]:
        cell.source = cell.source.replace("return 0.0", "return _forge()")
    attack("forges_the_protocol", forged)
    absent = [f"{root}/ESCAPED_{tag}", f"/ESCAPED_{tag}", f"/tmp/ESCAPED_{tag}", "/autograder/results/results.json"]
    attack("writes_outside_its_files", hw.baseline(WRITE_OUTSIDE.format(root=root, tag=tag)), absent=absent)
    attack("kills_what_it_sees", hw.baseline(KILL_EVERYTHING))
    nb = hw.baseline()
    for cell in nb.cells:
        if nbu.meta(cell).get("solution") and cell.cell_type == "markdown" and nbu.points(cell) > 0:
            cell.source = STYLE_ANSWER
    attack("injects_markup_in_feedback", nb, not_printed=["<script>", "<style>.summary"])

    # Resource attacks in the last problem cost that problem only.
    graded("infinite_loop", hw.damage_last("while True:\n    pass\n"), PL, ["ran longer than its"])
    graded("forked_memory_hog", hw.damage_last(FORK_MEMORY), PL, ["memory"])
    graded("fills_the_disk", hw.damage_last(FILL_DISK), PL, ["No space left on device"])
    graded("os_exit", hw.damage_last("import os\nos._exit(3)\n"), PL, ["exited with status 3"])
    graded("kernel_killed", hw.damage_last("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"), PL)
    graded("syntax_error", hw.damage_last("def broken(:\n    return 1\n"), PL, ["SyntaxError"])
    nb = copy.deepcopy(key_all)
    first_answer = hw.answer_code_cells(nb, hw.first.id)[0]
    first_answer.source = 'print("x" * 10_000_000)\n' + first_answer.source
    graded("ten_mb_output", nb, T, ["output truncated"])
    nb = copy.deepcopy(key_all)
    for cell in [c for p in spec.problems for c in hw.answer_code_cells(nb, p.id)]:
        cell.source = (
            'import sys, warnings\nwarnings.warn("a warning from an answer cell", DeprecationWarning)\n'
            'print("debugging to stderr", file=sys.stderr)\n'
        ) + cell.source
    graded("stderr_and_warnings", nb, T)

    # The provided cells tampered with, the first problem unanswered: nothing may earn points there.
    blank_first = hw.answers({p.id for p in spec.problems} - {hw.first.id})
    PF = T - hw.first.autograded
    nb = copy.deepcopy(blank_first)
    for cell in hw.test_cells(nb, hw.first.id):
        cell.source = "pass  # tests? what tests"
    graded("edited_test_cell", nb, PF, ["was edited"])
    nb = copy.deepcopy(blank_first)
    tests = {id(c) for c in hw.test_cells(nb, hw.first.id)}
    nb.cells = [c for c in nb.cells if id(c) not in tests]
    graded("deleted_test_cell", nb, PF, ["was deleted"])
    nb = copy.deepcopy(blank_first)
    for cell in [c for c in nb.cells if nbu.is_autograded_test(c)]:
        cell.metadata.nbgrader["points"] = 100 * nbu.points(cell)
    graded("points_raised", nb, PF, ["metadata changed"])
    nb = copy.deepcopy(key_all)
    tests = [c for c in nb.cells if nbu.is_autograded_test(c)]
    nb.cells = tests + [c for c in nb.cells if not nbu.is_autograded_test(c)]
    graded("cells_reordered", nb, T, ["re-ordered"])
    nb = copy.deepcopy(key_all)
    first = hw.answer_code_cells(nb, hw.first.id)[0]
    stale = copy.deepcopy(first)
    stale.id = nbformat.v4.new_code_cell().id
    stale.source = "raise NotImplementedError()  # an abandoned copy"
    nb.cells.insert(nb.cells.index(first) + 1, stale)
    graded("duplicated_cell", nb, T, ["appears 2 times"])

    # Malformed but honest notebooks grade normally, each in its own row.
    nb = copy.deepcopy(key_all)
    nb.metadata["kernelspec"] = "python3"
    for cell in nb.cells:
        if nbu.grade_id(cell) == "setup":
            cell.metadata["nbgrader"] = ["setup"]
    graded("malformed_metadata", nb, T)
    nb = copy.deepcopy(key_all)
    answer = hw.answer_code_cells(nb, hw.last.id)[0]
    answer.source = "# ### BEGIN HIDDEN TESTS (a student's comment)\n" + answer.source
    graded("hidden_marker_in_a_comment", nb, T)
    graded("unsafe_folder_name", key_all, T, folder="alice?")
    graded("a_real_alice_2", key_all, T, folder="alice-2")

    # Uploads that cannot be graded: one row each, with the fix.
    text = dump(key_all)
    rejected("invalid_json", {name: text[: len(text) // 2]}, ["not valid JSON"])
    rejected("not_utf8", {name: text.decode("utf-8").encode("utf-16")}, ["not UTF-8"])
    rejected("empty_file", {name: b""}, ["is empty"])
    others = [s for s in all_specs() if s.id != spec.id and s.release_notebook.exists()]
    if others:
        rejected("other_homework", {name: others[0].release_notebook.read_bytes()}, [f"notebook of {others[0].id}"])
    rejected("two_notebooks", {name: text, "copy of " + name: text}, ["2 notebooks were submitted"])
    rejected("no_notebook", {"answers.pdf": b"%PDF-1.4 not a notebook"}, ["no notebook was submitted"])
    rejected("symlinked_notebook", {}, ["symbolic link"], links={name: f"{root}/gradebook.db"})
    nb = copy.deepcopy(key_all)
    big = nbformat.v4.new_code_cell("print('x' * 6_000_000)")
    big.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (6 * 2**20))]
    nb.cells.append(big)
    rejected("oversized_upload", {name: dump(nb)}, ["larger than"])
    nb = copy.deepcopy(key_all)
    nb.cells += [nbformat.v4.new_code_cell("pass") for _ in range(1500)]
    rejected("too_many_cells", {name: dump(nb)}, ["cells, more than"])
    return out


def write(spec: Spec, target: Path, tag: str = "corpus") -> list[Case]:
    """Write every case as <target>/submissions/<folder>/<files> and the expectations as <target>/expected.json."""
    made = cases(spec, tag)
    for case in made:
        folder = target / "submissions" / (case.folder or case.name)
        folder.mkdir(parents=True, exist_ok=True)
        for rel, data in case.files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        for rel, pointed in case.links.items():
            (folder / rel).symlink_to(pointed)
    (target / "expected.json").write_text(json.dumps({c.name: c.expected() for c in made}, indent=1))
    return made


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tests/corpus/generate.py hwN OUT")
    [chosen] = select([sys.argv[1]])
    written = write(chosen, Path(sys.argv[2]))
    print(f"{len(written)} cases for {chosen.id} in {sys.argv[2]}/submissions, expectations in expected.json")
