"""The student's kernel for one submission: started through the sandbox, run cell by cell, never trusted.

`KernelSession` is nbclient's `NotebookClient` driven one cell at a time by the engine, with what grading
needs and nbclient lacks:
- the kernel command goes through the sandbox launcher (`runtime/sandbox.py`), over Unix sockets;
- each cell's time limit is the smaller of the cell limit and what is left of the notebook's; a cell that
  runs over is interrupted, and a kernel that does not come back is restarted (`responsive`, `restart`);
- output is capped while it arrives (per cell and per notebook): a flood never reaches memory;
- a kernel that dies (os._exit, a signal, out of memory) is reported with the reason.
The kernel gets the grading server (`trusted.install_code`) before any cell runs.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from traitlets import Unicode

from autograder.course.policy import Limits
from autograder.errors import KernelStartError
from autograder.grading.runtime.sandbox import OUT_OF_MEMORY, launcher_command
from autograder.grading.trusted import install_code

KILLED_BY = {signal.SIGKILL: "killed (SIGKILL: out of memory, or killed)", signal.SIGSEGV: "crashed (SIGSEGV)"}
CALL_SECONDS = 60  # installing the server imports nothing heavy; a generous bound for a loaded machine


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command goes through the sandbox launcher (none: run as is)."""

    policy_path = Unicode("")

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        return launcher_command(self.policy_path, cmd) if self.policy_path else cmd


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class KernelSession(NotebookClient):
    """One kernel, run cell by cell (see the module docstring)."""

    shutdown_kernel = "immediate"
    raise_on_iopub_timeout = False
    iopub_timeout = 10
    interrupt_on_timeout = True

    def __init__(
        self,
        nb,
        limits: Limits,
        *,
        workdir: Path,
        socket_dir: Path | None = None,
        policy_path: Path | None = None,
        kernel_name: str = "python3",
        env: dict | None = None,
    ) -> None:
        super().__init__(
            nb,
            timeout=limits.cell_seconds,
            kernel_name=kernel_name,
            allow_errors=True,
            resources={"metadata": {"path": str(workdir)}},
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "time limit"},
        )
        self.limits = limits
        self.socket_dir = socket_dir
        self.policy_path = policy_path
        self.env = env
        self.deadline = time.monotonic() + limits.notebook_seconds
        self.notebook_bytes = 0
        self.cell_bytes = 0
        self.events: list[str] = []  # timeouts, deaths, truncations: notes for the student and the instructor
        self.kernel_log: Path | None = None

    # -- the kernel --------------------------------------------------------------------------------------------

    def create_kernel_manager(self):
        kwargs = {"kernel_name": self.kernel_name, "config": self.config}
        if self.socket_dir is not None:
            kwargs.update(transport="ipc", ip=str(self.socket_dir / "kernel"))
        self.km = SandboxedKernelManager(policy_path=str(self.policy_path or ""), **kwargs)
        return self.km

    async def async_start(self) -> None:
        """Start the kernel and install the grading server (no student code has run yet)."""
        self.create_kernel_manager()
        self.kernel_log = (self.socket_dir or Path(self.resources["metadata"]["path"])) / "kernel.log"
        try:
            with open(self.kernel_log, "wb") as log:
                await self.async_start_new_kernel(env=self.env, stdout=log, stderr=log)
            await self.async_start_new_kernel_client()
        except Exception as exc:  # noqa: BLE001 -- re-raised with the launcher's own words
            raise KernelStartError(f"the kernel did not start ({exc}):\n{self.log_tail()}") from None
        if not await self.async_call(install_code()):
            raise KernelStartError(f"the grading server could not be installed:\n{self.log_tail()}")

    start = run_sync(async_start)

    async def async_stop(self) -> None:
        await self._async_cleanup_kernel()

    stop = run_sync(async_stop)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.kernel_log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def connection(self) -> dict:
        """What the trusted runner needs to open its own client on this kernel."""
        info = dict(self.km.get_connection_info(session=False))  # with the key: messages must be signed
        info = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}
        return json.loads(json.dumps(info))

    async def async_call(self, code: str, seconds: float = CALL_SECONDS) -> bool:
        """Run `code` silently (outside the notebook's history); whether it finished without error in time."""
        msg_id = await ensure_async(self.kc.execute(code, silent=True, store_history=False))
        limit = time.monotonic() + seconds
        while time.monotonic() < limit:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=max(0.1, limit - time.monotonic()))
            except Exception:  # noqa: BLE001 -- queue.Empty: no answer in time
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"].get("status") == "ok"
        return False

    call = run_sync(async_call)

    def responsive(self, seconds: float = 10) -> bool:
        """Whether the kernel answers an empty request in time (after an interrupted cell)."""
        try:
            return self.call("", seconds)
        except Exception:  # noqa: BLE001 -- a dead kernel's channels raise anything
            return False

    async def async_interrupt(self) -> None:
        await ensure_async(self.km.interrupt_kernel())

    interrupt = run_sync(async_interrupt)

    async def async_restart(self) -> None:
        await self._async_cleanup_kernel()
        await self.async_start()

    restart = run_sync(async_restart)

    def death(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "the kernel stopped responding"
        if code < 0:
            return "the kernel was " + KILLED_BY.get(-code, f"killed by signal {-code}")
        if code == OUT_OF_MEMORY and self.policy_path:
            return (
                f"the submission's processes together used more than its {self.limits.memory_mb} MB of memory "
                "and were stopped"
            )
        return f"the kernel exited with status {code} (os._exit, exit() or a crash)"

    # -- cells ------------------------------------------------------------------------------------------------

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True  # nbclient interrupts the kernel and stands in an error reply
        return await super()._async_handle_timeout(timeout, cell)

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def _get_timeout(self, cell):
        return max(1, min(self.limits.cell_seconds, int(self.seconds_left()) + 1))

    async def async_run(self, cell, index: int, label: str) -> str:
        """Run one cell in the kernel; outputs go into `cell`. Returns "ok", "error", "timeout" or "died"."""
        self.cell_bytes = 0
        self.timed_out = False
        try:
            await self.async_execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            cell.outputs = [*cell.get("outputs", []), error_output("KernelDied", f"{self.death()} in {label}")]
            self.events.append(f"{self.death()} while running {label}")
            return "died"
        except CellTimeoutError:
            cell.outputs = [*cell.get("outputs", []), error_output("CellTimeoutError", "no answer after the limit")]
            return "timeout"
        self._cap_outputs(cell, label)
        if self.timed_out:
            if self.seconds_left() <= 1:
                why = f"the notebook reached its {self.limits.notebook_seconds} s limit"
            else:
                why = f"the cell ran longer than its {self.limits.cell_seconds} s limit"
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cell.outputs.append(error_output("CellTimeoutError", why))
            self.events.append(f"{label}: {why}; it was interrupted")
            return "timeout"
        return "error" if any(o.get("output_type") == "error" for o in cell.outputs) else "ok"

    run = run_sync(async_run)

    # -- the output cap ------------------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        cap = self.limits.output_kb * 1024
        over = self.cell_bytes + size > cap or self.notebook_bytes + size > self.limits.notebook_output_bytes
        self.cell_bytes += size
        if not over:
            self.notebook_bytes += size
            return super().output(outs, msg, display_id, cell_index)
        content, kind = msg.get("content", {}), msg.get("msg_type")
        if kind == "error":  # keep what says the cell failed
            out = error_output(content.get("ename", "Error"), str(content.get("evalue", ""))[:2000])
        elif not any(o.get("autograder_truncated") for o in outs):
            out = NotebookNode(output_type="stream", name="stdout", text=self._truncation_note())
            out["autograder_truncated"] = True
        else:
            return None
        outs.append(out)
        return out

    def _truncation_note(self) -> str:
        return f"\n[output truncated: more than the {self.limits.output_kb} KB allowed per cell]\n"

    def _cap_outputs(self, cell, label: str) -> None:
        cap = self.limits.output_kb * 1024
        truncated = False
        for out in cell.outputs:
            truncated |= bool(out.pop("autograder_truncated", False))
            if out.get("output_type") == "stream" and len(out.get("text", "")) > cap:
                out.text = out.text[:cap] + self._truncation_note()
                truncated = True
            elif out.get("output_type") == "error":
                out.evalue = str(out.get("evalue", ""))[:2000]
                out.traceback = [str(t)[:4000] for t in out.get("traceback", [])[-20:]]
            for mime, value in list(out.get("data", {}).items()):
                if isinstance(value, str) and len(value) > cap:
                    del out.data[mime]
                    out.data["text/plain"] = "[removed: larger than the output limit]"
                    truncated = True
        if truncated:
            self.events.append(f"{label}: output truncated at the {self.limits.output_kb} KB limit")
