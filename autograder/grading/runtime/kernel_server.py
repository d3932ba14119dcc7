"""The grader's server inside the student's kernel: it runs the calls the trusted runner asks for.

The grader sends this file's text (and wire.py's) into every fresh kernel before the first cell. When a test
cell needs the kernel, the runner executes `serve()` there with stdin allowed; from then on the two talk over
Jupyter's stdin channel, one JSON message per `input_request` (kernel -> runner) and `input_reply` (runner ->
kernel):

    kernel: {"op": "ready"}                      runner: {"op": "get", "names": [...]} / {"op": "call", ...}
    kernel: {"op": "result", ...}                runner: next request, or {"op": "done"}

While a call runs, the student's code may call a function the test passed in: the kernel then asks
{"op": "callback", ...} and the runner answers {"op": "return"/"raise", ...}, or first sends requests of its own
(the callback itself calls the student's functions), which are served the same way.

Nothing here is trusted: the student can replace any of it. Whatever it answers is plain data that the
trusted side decodes strictly and judges. Standard library only at import time.
"""

import importlib
import json
import sys
import traceback

LIBRARY_ROOTS = ("numpy", "torch", "math", "cmath", "builtins", "operator", "scipy", "functools", "statistics")
MESSAGE_CHARS = 2000


class RemoteError(Exception):
    """An exception raised by a function the runner called back (its type is named in the message)."""


class Server:
    def __init__(self, wire, shell) -> None:
        self.wire = wire
        self.shell = shell
        self.handles = {}  # handle id -> a callable the student's code returned
        self.stubs = {}  # id(stub) -> its callback reference, to re-encode arguments unchanged

    # -- the conversation --------------------------------------------------------------------------------------

    def _converse(self, message: dict) -> dict:
        text = self.shell.kernel.raw_input(json.dumps(message, separators=(",", ":")))
        try:
            reply = json.loads(text)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise RuntimeError("the grader sent a message this server does not understand")
        return reply

    def serve(self) -> None:
        message = self._converse({"op": "ready"})
        while message.get("op") == "ping":  # the runner did not get our first prompt (see trusted.py)
            message = self._converse({"op": "ready"})
        while message.get("op") != "done":
            message = self._converse(self.handle(message))

    def handle(self, message: dict) -> dict:
        op = message.get("op")
        if op == "get":
            return {"op": "result", "values": {n: self._describe(n) for n in message.get("names", [])}}
        if op == "call":
            return self._call(message)
        return {"op": "result", "error": f"unknown request {op!r}"}

    # -- names ---------------------------------------------------------------------------------------------------

    def _describe(self, name: str) -> dict:
        ns = self.shell.user_ns
        if name not in ns:
            return {"kind": "missing"}
        value = ns[name]
        if type(value).__name__ == "module" and isinstance(getattr(value, "__name__", None), str):
            return {"kind": "module", "module": value.__name__}
        if callable(value) and not isinstance(value, type):
            return {"kind": "function", "name": getattr(value, "__name__", name)}
        try:
            return {"kind": "value", "data": self.wire.encode(value, self._reference)}
        except self.wire.NotPlainData as exc:
            return {"kind": "unsupported", "type": str(exc)}

    # -- calls ---------------------------------------------------------------------------------------------------

    def _call(self, message: dict) -> dict:
        target = message.get("target") or {}
        try:
            fn = self._resolve(target)
            args = self.wire.decode(message.get("args", []), self._function)
            kwargs = self.wire.decode(message.get("kwargs", {"$d": []}), self._function)
        except Exception as exc:  # noqa: BLE001 -- reported to the runner, which fails the test
            return {"op": "result", "error": f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]}
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 -- the student's exception, reported as data
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return {"op": "result", "raised": _describe_exception(exc)}
        reply = {"op": "result"}
        try:
            reply["value"] = self.wire.encode(value, self._reference)
        except self.wire.NotPlainData as exc:
            reply["unsupported"] = str(exc)
        reply["mutated"] = self._mutations(message, args, kwargs)
        return reply

    def _mutations(self, message: dict, args: list, kwargs: dict) -> list:
        """Arguments the call changed in place (arrays, tensors, lists, dicts), re-encoded."""
        out = []
        sent_args = message.get("args") or []
        sent_kwargs = dict((k, v) for k, v in (message.get("kwargs") or {}).get("$d", []))
        for where, sent, now in [
            *((i, s, args[i]) for i, s in enumerate(sent_args) if i < len(args)),
            *((k, s, kwargs.get(k)) for k, s in sent_kwargs.items() if isinstance(k, str)),
        ]:
            if not isinstance(sent, list | dict) or (isinstance(sent, dict) and "$fn" in sent):
                continue
            try:
                again = self.wire.encode(now, self._reference)
            except self.wire.NotPlainData:
                continue
            if again != sent:
                out.append([where, again])
        return out

    def _resolve(self, target: dict):
        if "name" in target:
            ns = self.shell.user_ns
            if target["name"] not in ns:
                raise NameError(f"name {target['name']!r} is not defined")
            return ns[target["name"]]
        if "handle" in target:
            return self.handles[target["handle"]]
        raise ValueError("bad call target")

    def _reference(self, fn) -> dict:
        """How a callable in a value leaves the kernel: as a handle the runner can call."""
        if id(fn) in self.stubs:
            return self.stubs[id(fn)]
        handle = len(self.handles) + 1
        self.handles[handle] = fn
        return {"handle": handle, "name": str(getattr(fn, "__name__", "function"))}

    def _function(self, ref) -> object:
        """The callable a reference from the runner names."""
        if not isinstance(ref, dict):
            raise ValueError("bad function reference")
        if "lib" in ref:
            return _library(ref["lib"])
        if "kernel" in ref:
            return self.shell.user_ns[ref["kernel"]]
        if "handle" in ref:
            return self.handles[ref["handle"]]
        if "callback" in ref:
            stub = self._stub(ref)
            self.stubs[id(stub)] = ref
            return stub
        raise ValueError("bad function reference")

    def _stub(self, ref: dict):
        server = self

        def callback(*args, **kwargs):
            reply = server._converse(
                {
                    "op": "callback",
                    "id": ref["callback"],
                    "args": server.wire.encode(list(args), server._reference),
                    "kwargs": server.wire.encode(kwargs, server._reference),
                }
            )
            while True:
                op = reply.get("op")
                if op == "return":
                    return server.wire.decode(reply.get("value"), server._function)
                if op == "raise":
                    raise RemoteError(f"{reply.get('type', 'Exception')}: {reply.get('message', '')}")
                reply = server._converse(server.handle(reply))

        callback.__name__ = str(ref.get("name") or "callback")
        return callback


def _library(path: str):
    if not isinstance(path, str) or path.split(".")[0] not in LIBRARY_ROOTS:
        raise ValueError(f"not a library function: {path!r}")
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"cannot find {path!r}")


def _describe_exception(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:MESSAGE_CHARS],
        "traceback": "".join(lines[-12:])[-4 * MESSAGE_CHARS :],
    }


def install(wire, name: str = "_autograder_server") -> None:
    """Register the server as a module the runner reaches with `sys.modules[name].serve()`."""
    import types

    shell = __import__("IPython").get_ipython()
    module = types.ModuleType(name)
    module.server = Server(wire, shell)
    module.serve = module.server.serve
    sys.modules[name] = module
