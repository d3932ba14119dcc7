"""Running one notebook for grading: kernel cells in the student's kernel, tests on the trusted side.

`NotebookRun` owns a `KernelSession` and a trusted runner for one notebook. `run_all()` goes through the
cells in order (roles.py says where each runs): trusted instructor cells run in both places at once, kernel
cells in the kernel, test cells in the runner once the kernel has run everything above them. Each test cell's
outcome is a `TestResult`: it passes when it finished without raising; printing, stderr and warnings never
matter. `replace()` and `run_tests()` let the fairness corpus swap an answer into the same kernel and rerun
the tests that judge it, without running the notebook again.

A slow cell costs its own time only: it is interrupted at its limit, a kernel that does not come back is
restarted and the cells before the cell's problem are replayed, and a runner that runs over is killed and
replaced. The notebook's own limit bounds all of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from autograder.course import cells as nbu
from autograder.course.policy import Limits
from autograder.grading import roles
from autograder.grading.session import KernelSession, error_output
from autograder.grading.source import python_source
from autograder.grading.trusted import RunnerError, RunnerHandle, Zygote

RESPONSIVE_SECONDS = 10


@dataclass
class TestResult:
    grade_id: str
    points: float
    passed: bool
    review: bool = False  # a rule could not be decided: scored 0 until a TA looks
    ename: str = ""
    evalue: str = ""
    where: str | None = None  # "visible" or "hidden": the part of the test cell that raised
    stdout: str = ""
    kernel_output: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0

    @property
    def message(self) -> str:
        return f"{self.ename}: {self.evalue}" if self.ename else ""


@dataclass
class Execution:
    nb: NotebookNode
    tests: dict[str, TestResult] = field(default_factory=dict)
    cell_errors: list[str] = field(default_factory=list)  # kernel cells that raised: "label: Name: message"
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0


def hidden_line(source: str) -> int | None:
    """Line (1-based, in the cell as run) where the hidden tests begin."""
    for number, line in enumerate(python_source(source).splitlines(), start=1):
        if line.strip() == nbu.HIDDEN_BEGIN:
            return number
    return None


class NotebookRun:
    """One notebook's kernel and trusted runner (use as a context manager)."""

    def __init__(
        self,
        nb,
        answers: set[str],
        limits: Limits,
        zygote: Zygote,
        *,
        workdir: Path,
        socket_dir: Path | None = None,
        policy_path: Path | None = None,
        env: dict | None = None,
        log=None,
        started: float | None = None,
    ) -> None:
        self.nb = nb
        self.plan = roles.plan(nb, answers)
        self.limits = limits
        self.zygote = zygote
        kernel_name = (nb.metadata.get("kernelspec") or {}).get("name", "python3")
        self.session = KernelSession(
            nb,
            limits,
            workdir=workdir,
            socket_dir=socket_dir,
            policy_path=policy_path,
            kernel_name=kernel_name if isinstance(kernel_name, str) else "python3",
            env=env,
            started=started,
        )
        self.runner: RunnerHandle | None = None
        self.execution = Execution(nb)
        self.started = time.monotonic()
        self.log = log or (lambda *_: None)
        self.ran_up_to = -1  # the last cell index the kernel has run

    # -- life cycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> NotebookRun:
        self.session.start()
        self._new_runner()
        return self

    def __exit__(self, *exc) -> None:
        if self.runner is not None:
            self.runner.kill()
        try:
            self.session.stop()
        finally:
            self.execution.seconds = time.monotonic() - self.started
            self.execution.events = self.session.events

    def _new_runner(self) -> None:
        if self.runner is not None:
            self.runner.kill()
        self.runner = self.zygote.spawn()
        self.runner.request(
            {
                "op": "init",
                "answers": sorted(self.plan.answers),
                "connection": self.session.connection(),
                "student": self.student_cells(),
                "instructor": self.plan.cells(self.nb, roles.TRUSTED) + self._kernel_instructor_cells(),
            },
            timeout=60,
        )

    def student_cells(self) -> list:
        """Code the student wrote: answer cells and cells they added (rules read these)."""
        return [
            (roles.label(c, i), i, c.source)
            for i, c in enumerate(self.nb.cells)
            if self.plan.roles[i] == roles.KERNEL and not nbu.meta(c).get("locked")
        ]

    def _kernel_instructor_cells(self) -> list:
        return [
            (roles.label(c, i), i, c.source)
            for i, c in enumerate(self.nb.cells)
            if self.plan.roles[i] == roles.KERNEL and nbu.meta(c).get("locked")
        ]

    # -- running ---------------------------------------------------------------------------------------------

    def run_all(self) -> Execution:
        code = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()]
        for index in range(len(self.nb.cells)):
            self.run_cell(index)
            if index in code:
                label = roles.label(self.nb.cells[index], index)
                elapsed = time.monotonic() - self.started
                self.log(f"{code.index(index) + 1}/{len(code)} {label} ({elapsed:.0f}s)")
        self._number_in_order()
        return self.execution

    def _number_in_order(self) -> None:
        """Execution counts 1, 2, ... down the notebook for every cell that ran, in the kernel or on the trusted
        side (the kernel never numbers the tests): the saved notebook reads as run top to bottom."""
        count = 0
        tests = {nbu.grade_id(c) for c in self.nb.cells if nbu.grade_id(c) in self.execution.tests}
        for cell in self.nb.cells:
            if cell.cell_type != "code":
                continue
            ran = cell.get("execution_count") is not None or nbu.grade_id(cell) in tests
            if not ran:
                continue
            count += 1
            cell.execution_count = count
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count

    def run_cell(self, index: int) -> None:
        cell = self.nb.cells[index]
        role = self.plan.roles[index]
        if role == roles.MARKDOWN or not cell.source.strip():
            return
        label = roles.label(cell, index)
        if self.session.seconds_left() <= 0:
            cell.outputs = [error_output("NotRun", f"not run: the notebook used its {self.limits.notebook_seconds} s")]
            if role == roles.TEST:
                self._record(index, {"error": {"ename": "NotRun", "evalue": "the notebook ran out of time"}})
            return
        if role == roles.TEST:
            self._record(index, self._on_runner(index, "test"))
            return
        if role == roles.TRUSTED:
            self._send(index, "trusted")
        status = self.session.run(cell, index, label)
        self.ran_up_to = index
        if status == "error":
            for out in cell.outputs:
                if out.get("output_type") == "error":
                    self.execution.cell_errors.append(f"{label}: {out.get('ename')}: {str(out.get('evalue'))[:300]}")
                    break
        if role == roles.TRUSTED:
            self._receive(index)
        if status in ("timeout", "died") and not self.session.responsive(RESPONSIVE_SECONDS):
            self._recover(index)

    def replace(self, grade_id: str, source: str) -> str:
        """Run `source` in the kernel as the cell `grade_id` (fairness variants); the notebook keeps it."""
        index = next(i for i, c in enumerate(self.nb.cells) if nbu.grade_id(c) == grade_id)
        cell = self.nb.cells[index]
        cell.source = source
        status = self.session.run(cell, index, grade_id)
        if status in ("timeout", "died") and not self.session.responsive(RESPONSIVE_SECONDS):
            self._recover(index + 1)
        self.runner.request({"op": "student", "student": self.student_cells()}, timeout=30)
        return status

    def run_tests(self, grade_ids: list[str]) -> dict[str, TestResult]:
        positions = {nbu.grade_id(c): i for i, c in enumerate(self.nb.cells)}
        for gid in grade_ids:
            self._record(positions[gid], self._on_runner(positions[gid], "test"))
        return {gid: self.execution.tests[gid] for gid in grade_ids}

    # -- the runner ---------------------------------------------------------------------------------------------

    def _message(self, index: int, kind: str) -> dict:
        cell = self.nb.cells[index]
        return {"op": "exec", "kind": kind, "label": roles.label(cell, index), "source": cell.source, "position": index}

    def _send(self, index: int, kind: str) -> None:
        from autograder.grading.trusted import send_message

        send_message(self.runner.sock, self._message(index, kind))

    def _receive(self, index: int) -> None:
        """The runner's reply for a trusted cell it ran beside the kernel."""
        import select

        from autograder.grading.trusted import receive_message

        ready, _, _ = select.select([self.runner.sock], [], [], max(1.0, self.session.seconds_left()))
        reply = receive_message(self.runner.sock) if ready else None
        if reply is None or reply.get("error"):
            what = (reply or {}).get("error") or {"ename": "Timeout", "evalue": "no answer"}
            label = roles.label(self.nb.cells[index], index)
            raise RunnerError(f"the instructor's cell {label} failed on the trusted side: {what}")

    def _on_runner(self, index: int, kind: str) -> dict:
        timeout = max(1.0, min(self.limits.cell_seconds, self.session.seconds_left()))
        try:
            return self.runner.request(self._message(index, kind), timeout=timeout)
        except RunnerError as exc:
            label = roles.label(self.nb.cells[index], index)
            self.session.events.append(f"{label}: the test did not finish in {timeout:.0f} s ({exc}); stopped")
            self._interrupt()
            if not self.session.responsive(RESPONSIVE_SECONDS):
                self._recover(index)
            else:
                self._new_runner()
                self._replay_trusted(index)
            return {"error": {"ename": "TimeoutError", "evalue": f"the test did not finish in {timeout:.0f} s"}}

    def _interrupt(self) -> None:
        try:
            self.session.interrupt()
        except Exception:  # noqa: BLE001 -- a dead kernel cannot be interrupted; recovery follows
            pass

    def _replay_trusted(self, before: int) -> None:
        for i in range(before):
            if self.plan.roles[i] == roles.TRUSTED:
                self.runner.request(self._message(i, "trusted"), timeout=max(1.0, self.session.seconds_left()))

    def _recover(self, index: int) -> None:
        """The kernel is gone or stuck: a new kernel, the cells of the problems before `index` run again."""
        problem_start = self._problem_start(index)
        self.session.events.append(
            f"the kernel was restarted after {roles.label(self.nb.cells[index], index)}; "
            f"the cells before it were run again"
        )
        self.session.restart()
        self._new_runner()
        for i in range(problem_start):
            role = self.plan.roles[i]
            if role in (roles.KERNEL, roles.TRUSTED) and self.nb.cells[i].source.strip():
                scratch = NotebookNode(dict(self.nb.cells[i]))
                self.session.run(scratch, i, roles.label(scratch, i))
            if role == roles.TRUSTED:
                self.runner.request(self._message(i, "trusted"), timeout=max(1.0, self.session.seconds_left()))
        for i in range(problem_start, index + 1):  # the problem's cells up to here: skipped, they cost their tests
            if self.plan.roles[i] == roles.TRUSTED:
                self.runner.request(self._message(i, "trusted"), timeout=max(1.0, self.session.seconds_left()))

    def _problem_start(self, index: int) -> int:
        for i in range(index, -1, -1):
            if nbu.is_statement(self.nb.cells[i]):
                return i
        return 0

    def _record(self, index: int, reply: dict) -> None:
        cell = self.nb.cells[index]
        error = reply.get("error")
        result = TestResult(
            grade_id=roles.label(cell, index),
            points=nbu.points(cell),
            passed=not error,
            review=bool(reply.get("review")),
            stdout=reply.get("stdout", ""),
            kernel_output=reply.get("kernel_output", ""),
            seconds=reply.get("seconds", 0.0),
        )
        outputs = []
        if result.kernel_output:
            outputs.append(NotebookNode(output_type="stream", name="stdout", text=result.kernel_output))
        if result.stdout:
            outputs.append(NotebookNode(output_type="stream", name="stdout", text=result.stdout))
        if error:
            result.ename, result.evalue = str(error.get("ename", "Error")), str(error.get("evalue", ""))
            begin = hidden_line(cell.source)
            line = error.get("line")
            result.where = "hidden" if begin is not None and (line is None or line > begin) else "visible"
            outputs.append(error_output(result.ename, result.evalue))
        cell.outputs = outputs
        self.execution.tests[result.grade_id] = result
