"""Executing a submission inside nbgrader's autograde pipeline: sandboxed kernel, limits, integrity guard.

`GradingExecute` replaces nbgrader's `Execute` preprocessor (it is one, so nbgrader's own scoring,
`SaveAutoGrades`, reads its outputs as usual) and adds what nbgrader lacks:
- the kernel is started through the sandbox launcher (`sandbox.py`) over Unix sockets, so it can run without
  network, as another user, with instructor files hidden;
- a whole-notebook deadline next to the per-cell timeout, and an output cap enforced while output arrives;
- a kernel that dies (os._exit, SIGKILL, out of memory) or stops answering costs the cell it was running and
  the cells after it, not the whole submission: the cells before keep their results;
- the guard (`guard.py`) is installed before the first cell and checked before every test cell: whatever the
  submission patched is put back and reported; hidden-test text is scrubbed from the kernel after its cell.
"""

from __future__ import annotations

import ast
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets import Unicode

from autograder.course import cells as nbu
from autograder.course.policy import Limits
from autograder.grading.runtime.sandbox import launcher_command

GUARD_SOURCE = (Path(__file__).parent / "runtime" / "guard.py").read_text(encoding="utf-8")
GUARD_CALL_SECONDS = 30
KILLED_BY = {signal.SIGKILL: "killed (SIGKILL: out of memory, or killed)", signal.SIGSEGV: "crashed (SIGSEGV)"}


@dataclass
class Run:
    """One submission's execution settings, and what the execution found (filled in while it runs)."""

    limits: Limits
    policy_path: str
    socket_dir: str
    guard_config: dict
    kernel_name: str = "python3"
    flags: list[tuple[str, str]] = field(default_factory=list)  # (cell grade_id, what the guard found)
    notes: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # timeouts, kernel deaths, truncated output
    seconds: float = 0.0

    def __deepcopy__(self, memo):
        return self  # nbconvert deep-copies resources for each preprocessor: findings must reach the caller


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command goes through the sandbox launcher."""

    policy_path = Unicode("")

    def format_kernel_cmd(self, extra_arguments=None):
        return launcher_command(self.policy_path, super().format_kernel_cmd(extra_arguments))


def role(cell) -> str:
    """'test' for autograded test cells, 'instructor' for other locked code, 'student' for the rest."""
    if cell.cell_type != "code":
        return "markdown"
    if nbu.is_autograded_test(cell):
        return "test"
    return "instructor" if nbu.meta(cell).get("locked") else "student"


def bound_names(source: str) -> set[str]:
    """Names a cell binds at module level (assignments, definitions, imports, loop and with targets)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingExecute(Execute):
    """nbgrader's Execute with the sandbox, the deadline, the output cap and the guard."""

    shutdown_kernel = "immediate"  # nothing to save in a graded kernel: do not wait for a graceful exit
    # A cell that floods output and is interrupted may take a while to drain: that is not a dead kernel (the
    # rest of its output is dropped anyway, past the cap).
    raise_on_iopub_timeout = False
    iopub_timeout = 10

    def preprocess(self, nb, resources):
        self.run_info: Run = resources["autograder"]
        self.started = time.monotonic()
        self.deadline = self.started + self.run_info.limits.notebook_seconds
        self.stopped: str | None = None  # why the remaining cells are not run
        self.pending_names: set[str] = set()  # bound by instructor cells since the last guard step
        self.pending_scrub: list[str] = []  # hidden-test cells run since the last guard step
        self.student_ran = False  # until then only instructor code has run: guard steps take new references
        self.checked = False  # a guard check ran right after the previous cell
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
        self.last_code_cell = code[-1] if code else -1
        self.notebook_bytes = 0
        try:
            return super().preprocess(nb, resources)
        except RuntimeError as exc:
            if "Kernel died before replying" in str(exc) or "kernel_info" in str(exc):
                raise RuntimeError(f"the sandboxed kernel did not start:\n{self.kernel_log_tail()}") from exc
            raise
        finally:
            self.run_info.seconds = time.monotonic() - self.started

    # -- the kernel ---------------------------------------------------------------------------------------

    async def async_start_new_kernel(self, **kwargs):
        # The launcher's and the kernel's own stdout/stderr go to a log next to its sockets: when a kernel
        # cannot start, the error says why. The kernel's RLIMIT_FSIZE bounds the file.
        self.kernel_log = Path(self.run_info.socket_dir) / "kernel.log"
        with open(self.kernel_log, "wb") as log:
            kwargs.update(stdout=log, stderr=log)
            await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def kernel_log_tail(self, lines: int = 25) -> str:
        try:
            text = self.kernel_log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def create_kernel_manager(self):
        self.km = SandboxedKernelManager(
            kernel_name=self.run_info.kernel_name,
            transport="ipc",
            ip=str(Path(self.run_info.socket_dir) / "kernel"),
            policy_path=self.run_info.policy_path,
            config=self.config,
        )
        return self.km

    async def kernel_call(self, expression: str = "", code: str = "", seconds: float = GUARD_CALL_SECONDS):
        """Evaluate `expression` in the kernel (silently, outside the notebook's history); None if no answer."""
        msg_id = await ensure_async(
            self.kc.execute(code, silent=True, store_history=False, user_expressions={"r": expression or "0"})
        )
        limit = time.monotonic() + seconds
        while time.monotonic() < limit:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=max(0.1, limit - time.monotonic()))
            except Exception:  # noqa: BLE001 -- queue.Empty: no answer in time
                return None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            result = msg["content"].get("user_expressions", {}).get("r", {})
            if msg["content"].get("status") != "ok" or result.get("status") != "ok":
                return None
            return ast.literal_eval(result["data"]["text/plain"])
        return None

    def guard_expression(self, call: str) -> str:
        return f"__import__('sys').modules[{self.run_info.guard_config['name']!r}].guard.{call}"

    async def on_notebook_start(self, notebook=None, **_):
        # nbclient calls this hook once the kernel is ready, before the first cell: no student code has run.
        self.guard_ok = False
        if not self.run_info.guard_config:  # only tests that show what the guard prevents turn it off
            return
        config = json.dumps(self.run_info.guard_config)
        # Compiled in a function so nothing is left in the student's namespace but the guard's module entry.
        code = (
            "def _ag_install():\n    _g = {}\n"
            f"    exec(compile({GUARD_SOURCE!r}, '<autograder-guard>', 'exec'), _g)\n"
            f"    _g['install'](__import__('json').loads({config!r}))\n_ag_install()\ndel _ag_install"
        )
        limit = max(GUARD_CALL_SECONDS, self.deadline - time.monotonic())  # it imports numpy and torch
        self.guard_ok = await self.kernel_call(code=code, expression="'ready'", seconds=limit) == "ready"
        if not self.guard_ok:  # the grader's problem, not the student's: no student code has run yet
            raise RuntimeError(f"the integrity guard could not be installed in the kernel:\n{self.kernel_log_tail()}")

    async def guard(self, gid: str, check: bool) -> list[str] | None:
        """One guard step (see guard.Guard.step); record and return the new findings. While no student code
        has run, the step takes a new reference instead of checking. None when the guard did not answer: the
        kernel can no longer be trusted."""
        if not self.guard_ok:
            return None
        trusted = not self.student_ran
        call = f"step({sorted(self.pending_names)!r}, {self.pending_scrub!r}, check={check}, trusted={trusted})"
        answer = await self.kernel_call(self.guard_expression(call))
        self.pending_names, self.pending_scrub = set(), []
        if answer is None:
            return None
        report = json.loads(answer)
        self.run_info.flags += [(gid, f) for f in report.get("flags", [])]
        self.run_info.notes += [(gid, n) for n in report.get("notes", [])]
        return report.get("flags", [])

    # -- cells ------------------------------------------------------------------------------------------------

    def _get_timeout(self, cell):
        # Not self.timeout: NotebookClient.__init__ resets it from nbgrader's config (Execute.timeout).
        return max(1, min(self.run_info.limits.cell_seconds, int(self.deadline - time.monotonic()) + 1))

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
            self.run_info.events.append(reason)

    def mark_not_run(self, cell) -> None:
        cell.outputs = [error_output("NotRun", f"not run: {self.stopped}")]

    def death(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "the kernel stopped responding"
        if code < 0:
            return "the kernel was " + KILLED_BY.get(-code, f"killed by signal {-code}")
        return f"the kernel exited with status {code} (os._exit, exit() or a crash)"

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell
        gid = nbu.grade_id(cell) or f"cell {cell_index}"
        kind = role(cell)
        if self.stopped is None and time.monotonic() >= self.deadline:
            self.stop(f"the notebook used up its {self.run_info.limits.notebook_seconds} s limit")
        if self.stopped:
            self.mark_not_run(cell)
            return cell
        guarded = bool(self.run_info.guard_config)
        # Before a test: put back whatever the submission changed (unless a check ran right after the previous
        # cell). Before a student cell: remember what instructor cells set up since the last step.
        if guarded and (kind == "student" or (kind == "test" and not self.checked)):
            if await self.guard(gid, check=kind == "test") is None and kind == "test":
                self.run_info.flags.append((gid, "the integrity guard did not answer before this test"))
                cell.outputs = [error_output("IntegrityError", "the kernel could not be verified before this test")]
                return cell
        self.student_ran |= kind == "student"
        self.checked = False
        self.cell_bytes = 0
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self.stop(f"{self.death()} while running {gid}")
            cell.outputs = [*cell.get("outputs", []), error_output("KernelDied", self.stopped)]
            return cell
        except CellTimeoutError:
            self.stop(f"the kernel stopped responding after {gid} timed out")
            cell.outputs = [*cell.get("outputs", []), error_output("CellTimeoutError", self.stopped)]
            return cell
        self.explain_timeout(cell, gid)
        self.cap_outputs(cell)
        if kind in ("test", "instructor"):
            self.pending_names |= bound_names(cell.source)
        if kind == "test" and nbu.HIDDEN_BEGIN in cell.source:
            self.pending_scrub.append(cell.source)
        if guarded and kind == "test" and self.student_ran:
            await self.void_if_tampered(cell, gid)
        elif guarded and cell_index == self.last_code_cell:
            await self.guard(gid, check=True)  # report what happened after the last test too
        return cell

    async def void_if_tampered(self, cell, gid: str) -> None:
        """Student functions run inside test cells: if one changed what tests rely on while the test ran, the
        test earns nothing (an error output, which nbgrader scores 0), and what it changed is put back."""
        found = await self.guard(gid, check=True)
        self.checked = True
        if found is None:
            found = ["the integrity guard stopped answering"]
            self.run_info.flags.append((gid, found[0]))
        if found:
            evalue = f"while this test ran, the submission changed what tests rely on ({'; '.join(found)})"
            cell.outputs.append(error_output("IntegrityError", evalue[:1000]))

    execute_cell = run_sync(async_execute_cell)

    def explain_timeout(self, cell, gid: str) -> None:
        for out in cell.outputs:
            if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError":
                if time.monotonic() >= self.deadline - 1:
                    out.evalue = f"the notebook reached its {self.run_info.limits.notebook_seconds} s limit"
                    self.stop(f"the notebook reached its {self.run_info.limits.notebook_seconds} s limit in {gid}")
                else:
                    out.evalue = f"the cell ran longer than its {self.run_info.limits.cell_seconds} s limit"
                    self.run_info.events.append(f"{gid} ran longer than {self.run_info.limits.cell_seconds} s")
                out.traceback = [f"CellTimeoutError: {out.evalue}"]

    # -- the output cap ------------------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        cap = self.run_info.limits.output_kb * 1024
        over = self.cell_bytes + size > cap or self.notebook_bytes + size > self.run_info.limits.notebook_output_bytes
        self.cell_bytes += size
        if not over:
            self.notebook_bytes += size  # what is kept counts towards the notebook's budget
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content", {})
        kind = msg.get("msg_type")
        # Keep what scoring reads (errors, stderr) as short placeholders; drop the rest.
        if kind == "error":
            out = error_output(content.get("ename", "Error"), str(content.get("evalue", ""))[:2000])
        elif kind == "stream" and content.get("name") == "stderr":
            out = NotebookNode(output_type="stream", name="stderr", text="[stderr truncated]\n")
        elif not any(o.get("autograder_truncated") for o in outs):
            out = NotebookNode(output_type="stream", name="stdout", text=self.truncation_note())
            out["autograder_truncated"] = True
        else:
            return None
        outs.append(out)
        return out

    def truncation_note(self) -> str:
        return f"\n[output truncated: more than the {self.run_info.limits.output_kb} KB allowed per cell]\n"

    def cap_outputs(self, cell) -> None:
        """After the cell: drop the marker key, shorten single outputs that arrived larger than the cap."""
        cap = self.run_info.limits.output_kb * 1024
        truncated = False
        for out in cell.outputs:
            truncated |= bool(out.pop("autograder_truncated", False))
            if out.get("output_type") == "stream" and len(out.get("text", "")) > cap:
                out.text = out.text[:cap] + self.truncation_note()
                truncated = True
            elif out.get("output_type") == "error":
                out.evalue = str(out.get("evalue", ""))[:2000]
            for mime, value in list(out.get("data", {}).items()):
                if isinstance(value, str) and len(value) > cap:
                    del out.data[mime]
                    out.data["text/plain"] = "[removed: larger than the output limit]"
                    truncated = True
        if truncated:
            limit = self.run_info.limits.output_kb
            self.run_info.events.append(f"{nbu.grade_id(cell) or 'a cell'}: output truncated at the {limit} KB limit")


class NeutralizeResults(NbGraderPreprocessor):
    """A test cell's result value would be read by nbgrader as partial credit. Test cells end with a
    statement (docs/authoring.md), so such a value can only come from the submission: show it, never score it."""

    def preprocess_cell(self, cell, resources, cell_index):
        if role(cell) == "test":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out.output_type = "display_data"
                    out.pop("execution_count", None)
                    resources["autograder"].flags.append(
                        (nbu.grade_id(cell), "a test cell produced a result value (it would have been partial credit)")
                    )
        return cell, resources
