"""The kernel session's rules, fed messages the way nbclient feeds them, without a kernel: the output cap per
cell and per notebook, the time left to a cell, and how a kernel's death is told."""

from __future__ import annotations

import signal
from pathlib import Path

import nbformat

from autograder.course.policy import Limits
from autograder.grading.runtime.sandbox import OUT_OF_MEMORY
from autograder.grading.session import KernelSession


def session(tmp_path: Path, **limits) -> KernelSession:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    return KernelSession(nb, Limits(**limits), workdir=tmp_path, policy_path=tmp_path / "policy.json")


def stream(text: str, name: str = "stdout") -> dict:
    header = {"msg_type": "stream"}
    return {"msg_type": "stream", "content": {"name": name, "text": text}, "header": header, "parent_header": {}}


def error(ename: str = "ValueError", evalue: str = "bad") -> dict:
    content = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
    return {"msg_type": "error", "content": content, "header": {"msg_type": "error"}, "parent_header": {}}


def feed(s: KernelSession, messages: list[dict]) -> list:
    outs: list = []
    s.cell_bytes = 0
    s.clear_before_next_output = False  # as nbclient sets it when a cell starts
    for msg in messages:
        s.output(outs, msg, None, 0)
    return outs


def test_output_is_cut_at_the_cell_cap_with_one_note(tmp_path):
    s = session(tmp_path, output_kb=1)
    outs = feed(s, [stream("x" * 300) for _ in range(20)])
    kept = "".join(o.get("text", "") for o in outs if not o.get("autograder_truncated"))
    notes = [o for o in outs if o.get("autograder_truncated")]
    assert len(kept) < 1024 and len(notes) == 1 and "1 KB allowed per cell" in notes[0]["text"]


def test_an_error_after_the_cap_is_still_kept(tmp_path):
    s = session(tmp_path, output_kb=1)
    outs = feed(s, [stream("x" * 2000), error("ZeroDivisionError", "division by zero")])
    assert outs[-1]["output_type"] == "error" and outs[-1]["ename"] == "ZeroDivisionError"


def test_the_notebook_cap_spans_cells(tmp_path):
    s = session(tmp_path, output_kb=1)  # 8 KB for the whole notebook
    for _ in range(12):
        outs = feed(s, [stream("y" * 900)])
    assert outs and outs[0].get("autograder_truncated"), "the ninth KB of the notebook is cut, whatever the cell"


def test_cap_outputs_shortens_single_large_outputs(tmp_path):
    s = session(tmp_path, output_kb=1)
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<b>" * 1000, "text/plain": "ok"})]
    s._cap_outputs(cell, "c1")
    assert "text/html" not in cell.outputs[0].data and any("truncated" in e for e in s.events)


def test_a_cell_never_gets_more_than_the_notebook_has_left(tmp_path):
    s = session(tmp_path, cell_seconds=60, notebook_seconds=100)
    assert s._get_timeout(None) == 60
    s.deadline -= 80  # 20 s left for the notebook
    assert 19 <= s._get_timeout(None) <= 21
    s.deadline -= 100
    assert s._get_timeout(None) == 1


class _Process:
    def __init__(self, code):
        self.code = code

    def poll(self):
        return self.code


class _KernelManager:
    def __init__(self, code):
        self.provisioner = type("P", (), {"process": _Process(code)})()


def test_a_kernels_death_is_told_plainly(tmp_path):
    s = session(tmp_path, memory_mb=2048)
    for code, words in [
        (None, "stopped responding"),
        (-signal.SIGKILL, "SIGKILL"),
        (-signal.SIGSEGV, "crashed"),
        (3, "exited with status 3"),
        (OUT_OF_MEMORY, "more than its 2048 MB of memory"),
    ]:
        s.km = _KernelManager(code)
        assert words in s.death(), code
