"""The trusted side of grading: test cells run here, outside the student's kernel (docs/grading.md).

- A **zygote** is a fresh Python process each grading worker starts; it imports numpy, torch and matplotlib
  once, then forks one **runner** per submission (milliseconds, with a clean interpreter state). It is started,
  never forked from the worker: a worker that ran kernels has threads, and a lock one of them held at a fork
  would stay locked in the child for ever (a runner hung that way in torch's MNIST loader).
- The **runner** executes the trusted instructor cells and the test cells in its own namespace. A name a test
  reads that is an answer name, or that the runner does not have, is fetched from the kernel: plain data as a
  value, a function as a `KernelFunction` proxy. It talks to the kernel itself, over its own Jupyter client,
  through the server that `runtime/kernel_server.py` installs there.
- The worker drives the runner with one request per cell (`RunnerHandle.execute`) and enforces the cell's
  time limit: a runner that does not answer in time is killed, and the kernel interrupted.

Nothing the kernel sends is executed: values are decoded strictly (`runtime/wire.py`); a function reference from
the kernel can only be one of its own handles (a proxy) or a callback the runner itself sent.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import KernelError, RunnerError, RunnerTimeout
from autograder.grading.runtime import wire
from autograder.grading.source import external_reads, python_source

SERVER_MODULE = "_autograder_server"
SERVE_CODE = f"__import__('sys').modules[{SERVER_MODULE!r}].serve()"
RUNTIME = Path(__file__).parent / "runtime"
OUTPUT_CHARS = 64 * 1024  # what a test cell may print, kept for the feedback
LIBRARY_MODULES = (
    "builtins",
    "math",
    "cmath",
    "operator",
    "numpy",
    "numpy.linalg",
    "numpy.fft",
    "torch",
    "torch.nn.functional",
    "torch.linalg",
    "torch.special",
    "torch.fft",
)
TRUSTED_PACKAGES = ("numpy", "torch", "torchvision", "scipy", "matplotlib", "IPython", "tqdm")
BUILTIN_EXCEPTIONS = {
    name: obj for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, Exception)
}


def install_code() -> str:
    """Code that installs the wire format and the server in a fresh kernel (run silently before any cell)."""
    wire_src = (RUNTIME / "wire.py").read_text(encoding="utf-8")
    server_src = (RUNTIME / "kernel_server.py").read_text(encoding="utf-8")
    return (
        "def _ag_install():\n"
        "    import sys, types\n"
        "    wire = types.ModuleType('_autograder_wire')\n"
        f"    exec(compile({wire_src!r}, '<autograder-wire>', 'exec'), wire.__dict__)\n"
        "    server = {}\n"
        f"    exec(compile({server_src!r}, '<autograder-server>', 'exec'), server)\n"
        f"    server['install'](wire, {SERVER_MODULE!r})\n"
        "_ag_install()\ndel _ag_install"
    )


# -- framing on the worker <-> runner socket ---------------------------------------------------------------------


def send_message(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    sock.sendall(struct.pack("!Q", len(data)) + data)


def _receive_exactly(sock: socket.socket, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise RunnerError("the connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive_message(sock: socket.socket) -> dict:
    (size,) = struct.unpack("!Q", _receive_exactly(sock, 8))
    return json.loads(_receive_exactly(sock, size))


# -- the zygote ---------------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: this process gets SIGKILL when its parent dies (no runner outlives its worker)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _preload() -> dict[int, str]:
    """Import what tests use, once, and index library functions (id -> dotted path) so they travel by name."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib

    import matplotlib
    import numpy  # noqa: F401
    import torch

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    python_source("x = 1")  # imports IPython's transformer
    import jupyter_client  # noqa: F401

    torch.set_num_threads(1)
    index: dict[int, str] = {}
    for module_name in LIBRARY_MODULES:
        module = importlib.import_module(module_name)
        for attr in dir(module):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr, None)
            if callable(obj) and not isinstance(obj, type(module)):
                index.setdefault(id(obj), f"{module_name}.{attr}")
    return index


class Zygote:
    """A fresh Python process (started, not forked: the grader may already have threads, and a lock one of them
    held at a fork would stay locked in the child for ever) that imports the libraries once and forks runners."""

    def __init__(self, env: dict | None = None) -> None:
        import subprocess

        from autograder.course.paths import ROOT, tool_env

        self.sock, child = socket.socketpair()
        env = dict(env or tool_env())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.trusted", str(child.fileno())],
            pass_fds=[child.fileno()],
            env=env,
            cwd=ROOT,
        )
        self.pid = self.process.pid
        child.close()

    def spawn(self) -> RunnerHandle:
        mine, theirs = socket.socketpair()
        try:
            socket.send_fds(self.sock, [b"spawn"], [theirs.fileno()])
            pid = int(_receive_exactly(self.sock, 16).decode())
        except (OSError, RunnerError, ValueError) as exc:
            raise RunnerError(
                f"the trusted runners' zygote is gone ({exc}; exit status {self.process.poll()})"
            ) from None
        finally:
            theirs.close()
        return RunnerHandle(pid, mine)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()


def _zygote_main(sock: socket.socket) -> None:
    _die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runners are reaped automatically
    index = _preload()
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 16, 1)
        except OSError:
            return
        if not data:
            return
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _die_with_parent()
            try:
                Runner(socket.socket(fileno=fds[0]), index).main()
            finally:
                os._exit(0)
        os.close(fds[0])
        sock.sendall(f"{pid:16d}".encode())


# -- the worker's handle on one runner -------------------------------------------------------------------------


class RunnerHandle:
    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its reply; kill the runner when it takes longer than `timeout`."""
        send_message(self.sock, message)
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            self.kill()
            raise RunnerTimeout(f"no answer in {timeout:.0f} s")
        try:
            return receive_message(self.sock)
        except (RunnerError, OSError, ValueError) as exc:
            self.kill()
            raise RunnerError(f"the trusted runner died ({exc})") from None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.sock.close()


# -- inside the runner ----------------------------------------------------------------------------------------------


class _Capped(io.TextIOBase):
    """stdout/stderr of a cell, kept up to OUTPUT_CHARS."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.size < OUTPUT_CHARS:
            self.parts.append(text[: OUTPUT_CHARS - self.size])
            self.size += len(self.parts[-1])
        return len(text)

    def text(self) -> str:
        out = "".join(self.parts)
        return out + ("\n[output truncated]\n" if self.size >= OUTPUT_CHARS else "")


class _Shell:
    """`get_ipython()` on the trusted side: what instructor cells' magics need, nothing more."""

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1):
        if name in ("matplotlib", "config", "load_ext", "autoreload", "precision"):
            return None
        raise RuntimeError(f"%{name} is not available where tests run")

    def run_cell_magic(self, name: str, line: str, cell: str):
        raise RuntimeError(f"%%{name} is not available where tests run")


class Unreadable:
    """A kernel value that is not plain data: any use says so."""

    def __init__(self, name: str, kind: str) -> None:
        object.__setattr__(self, "_why", f"{name} is a {kind}, which the grader cannot read (not plain data)")

    def __getattr__(self, attr):
        raise TypeError(object.__getattribute__(self, "_why"))

    def __call__(self, *args, **kwargs):
        raise TypeError(object.__getattribute__(self, "_why"))

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_why')}>"


class KernelFunction:
    """A function of the submission: calling it runs it in the kernel, with plain data in and out."""

    def __init__(self, runner: Runner, target: dict, name: str) -> None:
        self._runner = runner
        self._target = target
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._runner.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (in the student's kernel)>"


@dataclass
class Outcome:
    """What a cell did on the trusted side."""

    error: dict | None = None  # {"ename", "evalue", "line"}; None when it finished
    review: bool = False  # a rule could not be decided: a TA looks at it
    stdout: str = ""
    kernel_output: str = ""  # what the student's code printed while the test called it
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class Runner:
    """The trusted interpreter of one submission."""

    def __init__(self, sock: socket.socket, library: dict[int, str]) -> None:
        self.sock = sock
        self.library = library
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _Shell}
        self.answers: set[str] = set()
        self.instructor_functions: dict[int, str] = {}  # functions trusted cells bound -> their names
        self.student: list = []
        self.instructor: list = []
        self.link: _KernelLink | None = None
        self.connection: dict | None = None
        self.callbacks: dict[int, object] = {}

    # -- the request loop ------------------------------------------------------------------------------------

    def main(self) -> None:
        while True:
            try:
                message = receive_message(self.sock)
            except (RunnerError, OSError):
                return
            op = message.get("op")
            if op == "init":
                self.answers = set(message["answers"])
                self.connection = message.get("connection")
                self.student = message.get("student", [])
                self.instructor = message.get("instructor", [])
                reply = {"ok": True}
            elif op == "student":
                self.student = message["student"]
                reply = {"ok": True}
            elif op == "exec":
                reply = self.execute(message).__dict__
            else:
                reply = {"error": f"unknown op {op!r}"}
            send_message(self.sock, reply)

    # -- cells -----------------------------------------------------------------------------------------------------

    def execute(self, message: dict) -> Outcome:
        from autograder.grading.rules import Rules

        started = time.monotonic()
        outcome = Outcome()
        source = python_source(message["source"])
        label = message["label"]
        test = message["kind"] == "test"
        fetched: dict[str, object] = {}
        shadowed: dict[str, object] = {}
        stdout = _Capped()
        try:
            if test:
                self.ns["GRADER"] = Rules(self.student, self.instructor, before=message["position"])
                fetched = self._fetch(sorted(self._kernel_names(source)))
                shadowed = {n: self.ns[n] for n in fetched if n in self.ns}
                self.ns.update(fetched)
            before = {k: id(v) for k, v in self.ns.items()}
            code = compile(source, f"<cell {label}>", "exec")
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stdout):
                exec(code, self.ns)  # noqa: S102 -- instructor code, on the trusted side
            if not test:
                self._remember_functions(before)
        except BaseException as exc:  # noqa: BLE001 -- every failure of a cell is its outcome
            from autograder.grading.rules import NeedsReview

            outcome.error = {
                "ename": type(exc).__name__,
                "evalue": str(exc)[:4000],
                "line": _line_in(exc.__traceback__, f"<cell {label}>"),
            }
            outcome.review = isinstance(exc, NeedsReview)
        finally:
            if self.link is not None and self.link.msg_id is not None:
                outcome.kernel_output = self.link.close()
            for name in fetched:
                self.ns.pop(name, None)
            self.ns.update(shadowed)
            self.ns.pop("GRADER", None)
            self.callbacks.clear()
        outcome.stdout = stdout.text()
        outcome.seconds = time.monotonic() - started
        return outcome

    def _kernel_names(self, source: str) -> set[str]:
        names = external_reads(source) - {"GRADER", "get_ipython"}
        return {n for n in names if n in self.answers or (n not in self.ns and not hasattr(builtins, n))}

    def _remember_functions(self, before: dict[str, int]) -> None:
        """Functions a trusted cell bound exist in the kernel under the same name: they travel as references."""
        for name, value in self.ns.items():
            if before.get(name) != id(value) and callable(value) and getattr(value, "__module__", None) == "__main__":
                self.instructor_functions[id(value)] = name

    def _fetch(self, names: list[str]) -> dict[str, object]:
        if not names:
            return {}
        reply = self._request({"op": "get", "names": names})
        values = reply.get("values")
        if not isinstance(values, dict):
            raise KernelError("the kernel did not list its names")
        out = {}
        for name in names:
            item = values.get(name)
            if not isinstance(item, dict) or item.get("kind") == "missing":
                continue
            kind = item.get("kind")
            if kind == "function":
                out[name] = KernelFunction(self, {"name": name}, name)
            elif kind == "module":
                out[name] = _trusted_module(name, item.get("module"))
            elif kind == "value":
                out[name] = wire.decode(item.get("data"), self._from_kernel)
            else:
                out[name] = Unreadable(name, str(item.get("type", "value of an unknown type"))[:200])
        return out

    # -- calls into the kernel -----------------------------------------------------------------------------------

    def call(self, fn: KernelFunction, args: tuple, kwargs: dict):
        try:
            sent_args = wire.encode(list(args), self._to_kernel)
            sent_kwargs = wire.encode(dict(kwargs), self._to_kernel)
        except wire.NotPlainData as exc:
            raise TypeError(f"the test passes {fn.__name__} a value the grader cannot send: {exc}") from None
        reply = self._request({"op": "call", "target": fn._target, "args": sent_args, "kwargs": sent_kwargs})
        if "error" in reply:
            raise KernelError(f"{fn.__name__} could not be called: {reply['error']}"[:2000])
        if "raised" in reply:
            raise _student_exception(fn.__name__, reply["raised"])
        for where, tree in reply.get("mutated") or []:
            original = args[where] if isinstance(where, int) and where < len(args) else kwargs.get(where)
            _update_in_place(original, wire.decode(tree, self._from_kernel))
        if "unsupported" in reply:
            raise TypeError(f"{fn.__name__} returned a {reply['unsupported']}, not plain data"[:2000])
        return wire.decode(reply.get("value"), self._from_kernel)

    def _request(self, message: dict) -> dict:
        if self.link is None:
            if self.connection is None:
                raise KernelError("no kernel to ask")
            self.link = _KernelLink(self.connection, self)
        if self.link.msg_id is None:
            self.link.open()
        return self.link.request(message)

    def _to_kernel(self, fn) -> dict:
        if isinstance(fn, KernelFunction):
            return dict(fn._target)
        name = self.instructor_functions.get(id(fn))
        if name is not None:
            return {"kernel": name}
        path = self.library.get(id(fn))
        if path is not None:
            return {"lib": path}
        key = len(self.callbacks) + 1
        self.callbacks[key] = fn
        return {"callback": key, "name": str(getattr(fn, "__name__", "callback"))[:100]}

    def _from_kernel(self, ref) -> object:
        """A function reference that came from the kernel: its own handle, or a callback we sent."""
        if isinstance(ref, dict) and type(ref.get("handle")) is int:
            return KernelFunction(self, {"handle": ref["handle"]}, str(ref.get("name", "function"))[:100])
        if isinstance(ref, dict) and ref.get("callback") in self.callbacks:
            return self.callbacks[ref["callback"]]
        raise wire.BadMessage("a function reference the grader did not issue")

    def run_callback(self, message: dict) -> dict:
        """The kernel calls a function the test passed in: run it here, with plain data."""
        fn = self.callbacks.get(message.get("id"))
        if fn is None:
            return {"op": "raise", "type": "LookupError", "message": "unknown callback"}
        try:
            args = wire.decode(message.get("args", []), self._from_kernel)
            kwargs = wire.decode(message.get("kwargs", {"$d": []}), self._from_kernel)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise wire.BadMessage("bad callback arguments")
            value = fn(*args, **kwargs)
            return {"op": "return", "value": wire.encode(value, self._to_kernel)}
        except Exception as exc:  # noqa: BLE001 -- the exception goes back to the student's code
            return {"op": "raise", "type": type(exc).__name__, "message": str(exc)[:2000]}


def _trusted_module(name: str, module) -> object:
    """A module the kernel imported: the trusted side imports its own copy (known libraries only)."""
    import importlib
    import sys as _sys

    root = str(module).split(".")[0] if isinstance(module, str) else ""
    if root in _sys.stdlib_module_names or root in TRUSTED_PACKAGES:
        try:
            return importlib.import_module(module)
        except ImportError:
            pass
    return Unreadable(name, f"module {module!r}")


def _line_in(tb, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _student_exception(name: str, raised: dict) -> Exception:
    kind = str(raised.get("type", "Exception"))[:100]
    message = f"{name} raised {kind}: {str(raised.get('message', ''))[:2000]}"
    cls = BUILTIN_EXCEPTIONS.get(kind, RuntimeError)
    try:
        return cls(message)
    except TypeError:  # exception classes with other signatures (UnicodeDecodeError, ...)
        return RuntimeError(message)


def _update_in_place(old, new) -> bool:
    """Copy `new` into `old` where `old` can change in place (arrays, tensors, lists, dicts, sets)."""
    import numpy as np
    import torch

    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        if old.shape == new.shape and old.flags.writeable:
            old[...] = new
            return True
        return False
    if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor):
        with torch.no_grad():
            if old.shape == new.shape:
                old.copy_(new.to(old.dtype))
            else:
                old.data = new.to(old.dtype)
        if new.grad is not None:
            old.grad = new.grad
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            if key not in old or not _update_in_place(old[key], value):
                old[key] = value
        return True
    if isinstance(old, list) and isinstance(new, list):
        for i, value in enumerate(new[: len(old)]):
            if not _update_in_place(old[i], value):
                old[i] = value
        old[len(new) :] = new[len(old) :]
        return True
    if isinstance(old, torch.Generator) and isinstance(new, torch.Generator):
        old.set_state(new.get_state())
        return True
    if isinstance(old, np.random.Generator) and isinstance(new, np.random.Generator):
        old.bit_generator.state = new.bit_generator.state
        return True
    if isinstance(old, np.random.RandomState) and isinstance(new, np.random.RandomState):
        old.set_state(new.get_state())
        return True
    if isinstance(old, set) and isinstance(new, set):
        old.clear()
        old.update(new)
        return True
    return False


FIRST_PROMPT_SECONDS = 2  # then the runner pings: see _KernelLink.open


class _KernelLink:
    """The runner's own client on the kernel, connected once; `open()` starts a conversation with the kernel's
    server for one cell, `close()` ends it."""

    def __init__(self, connection: dict, runner: Runner) -> None:
        import zmq
        from jupyter_client import BlockingKernelClient

        self.runner = runner
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(connection)
        self.kc.start_channels(shell=True, iopub=True, stdin=True, hb=False, control=False)
        self.poller = zmq.Poller()
        for channel in (self.kc.stdin_channel, self.kc.shell_channel, self.kc.iopub_channel):
            self.poller.register(channel.socket, zmq.POLLIN)
        self.msg_id = None
        self.finished = True
        self.output = _Capped()

    def open(self) -> None:
        """Start the kernel's server for this cell. A kernel's input_request to a client whose stdin socket has
        not finished connecting is dropped by zmq, and both would wait for ever: when the first prompt does not
        come, the runner pings (the kernel, blocked in input(), reads the ping and asks again, and by then the
        route to this client exists)."""
        self.output = _Capped()
        self.msg_id = self.kc.execute(SERVE_CODE, silent=True, store_history=False, allow_stdin=True)
        self.finished = False
        first = self._next_prompt(FIRST_PROMPT_SECONDS)
        if first is None:
            self.kc.input(json.dumps({"op": "ping"}))
            first = self._next_prompt()
        if first.get("op") != "ready":
            raise KernelError("the kernel's grading server did not start")

    def request(self, message: dict) -> dict:
        self.kc.input(json.dumps(message, separators=(",", ":")))
        while True:
            prompt = self._next_prompt()
            op = prompt.get("op")
            if op == "result":
                return prompt
            if op == "ready":  # a second answer to a ping the first prompt overtook
                continue
            if op == "callback":
                self.kc.input(json.dumps(self.runner.run_callback(prompt), separators=(",", ":")))
            else:
                raise KernelError(f"the kernel sent {op!r} where a result was due")

    def _next_prompt(self, seconds: float | None = None) -> dict | None:
        """The next message of our conversation (None after `seconds` without one); prompts that are not ours
        (the student's own `input()`) get an empty answer."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            if self.finished:
                raise KernelError("the kernel's grading server stopped (it raised, or was replaced)")
            if deadline is not None and time.monotonic() > deadline:
                return None
            for sock, _ in self.poller.poll(100 if deadline is not None else 1000):
                if sock is self.kc.iopub_channel.socket:
                    self._iopub(self.kc.iopub_channel.get_msg(timeout=0))
                elif sock is self.kc.shell_channel.socket:
                    reply = self.kc.shell_channel.get_msg(timeout=0)
                    if reply["parent_header"].get("msg_id") == self.msg_id:
                        self.finished = True
                elif sock is self.kc.stdin_channel.socket:
                    msg = self.kc.stdin_channel.get_msg(timeout=0)
                    if msg["parent_header"].get("msg_id") != self.msg_id:
                        continue
                    try:
                        prompt = json.loads(msg["content"].get("prompt", ""))
                    except ValueError:
                        prompt = None
                    if isinstance(prompt, dict):
                        return prompt
                    self.kc.input("")  # the student's own input(): it gets an empty line

    def _iopub(self, msg: dict) -> None:
        if msg["parent_header"].get("msg_id") != self.msg_id:
            return
        content = msg.get("content", {})
        if msg["msg_type"] == "stream":
            self.output.write(str(content.get("text", "")))
        elif msg["msg_type"] == "error":
            self.output.write(f"{content.get('ename')}: {content.get('evalue')}\n")

    def close(self) -> str:
        """End this cell's conversation (the kernel returns to idle); return what the student's code printed."""
        if not self.finished:
            with contextlib.suppress(Exception):
                self.kc.input(json.dumps({"op": "done"}))
                deadline = time.monotonic() + 10
                while not self.finished and time.monotonic() < deadline:
                    for sock, _ in self.poller.poll(200):
                        if sock is self.kc.shell_channel.socket:
                            reply = self.kc.shell_channel.get_msg(timeout=0)
                            self.finished = reply["parent_header"].get("msg_id") == self.msg_id
                        elif sock is self.kc.iopub_channel.socket:
                            self._iopub(self.kc.iopub_channel.get_msg(timeout=0))
                        elif sock is self.kc.stdin_channel.socket:
                            self.kc.stdin_channel.get_msg(timeout=0)
                            self.kc.input(json.dumps({"op": "done"}))
        self.msg_id = None
        return self.output.text()


if __name__ == "__main__":  # the zygote: `python -m autograder.grading.trusted FD` (see Zygote)
    _zygote_main(socket.socket(fileno=int(sys.argv[1])))
