"""The integrity guard that runs inside the student's kernel.

The grader sends this file's source to each fresh kernel (silently, before the first cell) and calls
`install(config)`; then, through `step()`, it takes references while only the instructor's code has run (the
setup cells), and afterwards checks before every test cell and right after it. A check compares what tests
rely on with the references, puts the originals back, and reports:

- functions and classes of numpy, numpy.testing, math, operator, torch, torch.testing and `builtins` replaced
  by the submission's own code (`np.allclose = lambda *a, **k: True`), a partial, or a non-callable; modules
  replaced in `sys.modules` (a library adjusting another, a lazy import, is accepted as the new reference);
- names that instructor cells bound (`np`, helper functions) and the submission rebound;
- IPython's execution machinery changed: its cell runner, compiler, AST and input transformers (which can
  delete `assert`s), traceback display, custom exception handlers, callbacks from student code;
- trace and profile hooks (which can skip lines), a replaced `sys.stdout`/`sys.stderr`;
- classes defined by the submission whose comparisons are true for anything ("always-equal" objects): their
  comparison methods are neutralised, so such an object equals only itself;
- attempts to open files hidden from the kernel or to write outside the submission's folder (an audit hook,
  which Python code cannot remove); such attempts are also refused.
A finding right after a test means the submission's code changed these while the test ran: the grader then
voids that test.

After a test cell with hidden tests, `scrub(source)` removes that cell's text from IPython's history and
linecache, so later student code cannot read hidden tests back. This is defence in depth: the sandbox around
the kernel is the boundary; the guard makes the usual tricks earn nothing and tells the instructor.

Only the standard library is used here, and nothing runs at import time except definitions.
"""

import builtins
import functools
import json
import linecache
import os
import sys
import types

PROTECTED_MODULES = ("builtins", "math", "operator", "numpy", "numpy.testing", "numpy.linalg", "torch", "torch.testing")
PROTECTED_CLASSES = (("torch", "Tensor"),)
CLASS_ATTRIBUTES = (
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__bool__",
    "__float__",
    "__abs__",
    "__sub__",
    "__len__",
    "allclose",
    "isclose",
    "equal",
    "eq",
    "all",
    "any",
    "item",
    "tolist",
    "numpy",
)
COMPARISONS = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__")
SHELL_METHODS = (
    "run_cell",
    "run_cell_async",
    "_run_cell",
    "should_run_async",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "transform_ast",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "showindentationerror",
    "get_exception_only",
    "user_expressions",
    "ev",
    "ex",
    "set_custom_exc",
)
SHELL_LISTS = ("ast_transformers", "input_transformers_cleanup", "input_transformers_post")
SYS_HOOKS = ("stdout", "stderr")  # IPython swaps excepthook and displayhook around each cell itself
# Builtins tests lean on (the kernel itself swaps `input` around each cell, so it is not here).
BUILTINS = (
    "all",
    "any",
    "abs",
    "isinstance",
    "issubclass",
    "len",
    "float",
    "int",
    "bool",
    "complex",
    "round",
    "min",
    "max",
    "sum",
    "type",
    "callable",
    "hasattr",
    "getattr",
    "repr",
    "str",
    "range",
    "enumerate",
    "zip",
    "map",
    "filter",
    "sorted",
    "reversed",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "iter",
    "next",
    "id",
    "hash",
    "print",
    "open",
    "compile",
    "exec",
    "eval",
    "__import__",
    "__build_class__",
    "object",
    "AssertionError",
    "Exception",
    "BaseException",
    "ValueError",
    "TypeError",
    "NotImplementedError",
)
CELL_FILE_MARKERS = ("<ipython-input-", "ipykernel_", "<string>")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _Sentinel:
    """A fresh object nothing should compare true to."""


def _neutral(self, other):
    return NotImplemented


class Guard:
    def __init__(self, config):
        self.workdir = os.path.realpath(config["workdir"])
        self.secret = tuple(os.path.realpath(p) for p in config.get("secret", ()))
        self.writable = tuple(os.path.realpath(p) for p in config.get("writable", ())) + (self.workdir,)
        self.flags, self.notes, self.reported = [], [], set()
        for name in config.get("preload", ()):
            try:
                __import__(name)
            except ImportError:
                pass
        self.new_classes = []  # classes that class statements in notebook cells created
        self._install_class_hook()
        self.shell = get_ipython()  # noqa: F821 -- defined in every IPython kernel
        self.bindings = {}
        self.baseline()
        sys.addaudithook(self._audit)

    def _install_class_hook(self):
        """Every `class` statement goes through builtins.__build_class__: keep those run by notebook cells, the
        candidates for always-equal objects (scanning all of the interpreter's classes would take too long)."""
        build = builtins.__build_class__
        found = self.new_classes

        def build_class(func, name, *bases, **kwargs):
            cls = build(func, name, *bases, **kwargs)
            if _student_code(func):
                found.append(cls)
            return cls

        builtins.__build_class__ = build_class

    # -- what instructor code set up is the baseline ------------------------------------------------------

    def baseline(self):
        """Take everything as it is now as the reference. Only called while no student code has run (the
        instructor's setup may import libraries that adjust each other, torchvision patching torch say)."""
        self.modules = {name: sys.modules[name] for name in PROTECTED_MODULES if name in sys.modules}
        self.attributes = {
            name: {k: v for k, v in vars(mod).items() if (k in BUILTINS if name == "builtins" else k[:1] != "_")}
            for name, mod in self.modules.items()
        }
        self.classes = {}
        for modname, clsname in PROTECTED_CLASSES:
            cls = getattr(self.modules.get(modname), clsname, None)
            if isinstance(cls, type):
                self.classes[cls] = {a: (a in vars(cls), getattr(cls, a)) for a in CLASS_ATTRIBUTES if hasattr(cls, a)}
        shell = self.shell
        self.shell_own = {name: vars(shell).get(name) for name in SHELL_METHODS}  # ipykernel sets some itself
        self.shell_class_methods = {
            (klass, name): vars(klass)[name]
            for klass in type(shell).__mro__
            for name in SHELL_METHODS
            if name in vars(klass)
        }
        self.compiler = shell.compile
        self.compiler_call = type(self.compiler).__call__
        self.formatter = shell.display_formatter
        self.sys_hooks = {name: getattr(sys, name) for name in SYS_HOOKS}
        self.lists = {name: list(getattr(shell, name)) for name in SHELL_LISTS}
        self.callbacks = {event: list(cbs) for event, cbs in shell.events.callbacks.items()}

    def record(self, names):
        """Remember what instructor cells bound to `names` (modules and callables: tests rely on them).
        Names starting with `_` are the tests' own temporaries, which a student may well reuse."""
        for name in names:
            value = self.shell.user_ns.get(name)
            if name[:1] != "_" and (isinstance(value, types.ModuleType) or callable(value)):
                self.bindings[name] = value

    # -- checks ----------------------------------------------------------------------------------------------

    def _flag(self, text):
        if text not in self.reported:
            self.reported.add(text)
            self.flags.append(text)

    def _note(self, text):
        if text not in self.reported:
            self.reported.add(text)
            self.notes.append(text)

    def _check_modules(self):
        for name, mod in self.modules.items():
            if sys.modules.get(name) is not mod:
                self._flag(f"sys.modules[{name!r}] was replaced")
                sys.modules[name] = mod
            current, saved = vars(mod), self.attributes[name]
            for key, original in list(saved.items()):
                value = current.get(key, original)
                if value is original:
                    continue
                if _tampering(value, original, self.workdir):
                    self._flag(f"{'builtins' if name == 'builtins' else name}.{key} was replaced")
                    setattr(mod, key, original)
                else:  # a library adjusting another (a lazy import): the new value is the reference now
                    saved[key] = value

    def _check_classes(self):
        for cls, attrs in self.classes.items():
            for attr, (own, original) in list(attrs.items()):
                value = vars(cls).get(attr) if own else vars(cls).get(attr, original)
                if value is original:
                    continue
                if not _tampering(value, original, self.workdir):
                    attrs[attr] = (True, value)
                    continue
                self._flag(f"{cls.__module__}.{cls.__name__}.{attr} was replaced")
                if own:
                    setattr(cls, attr, original)
                else:
                    delattr(cls, attr)

    def _check_bindings(self):
        ns = self.shell.user_ns
        for name, value in self.bindings.items():
            if ns.get(name) is not value:
                if isinstance(value, types.ModuleType) or getattr(value, "__module__", "") != "__main__":
                    self._flag(f"`{name}` (set up by the instructor's cells) was rebound")
                else:
                    self._note(f"`{name}`, defined by an instructor cell, was redefined; the instructor's was used")
                ns[name] = value

    def _check_shell(self):
        shell = self.shell
        for name, original in self.shell_own.items():
            if vars(shell).get(name) is not original:
                self._flag(f"IPython's {name} was replaced")
                if original is None:
                    delattr(shell, name)
                else:
                    setattr(shell, name, original)
        for (klass, name), original in self.shell_class_methods.items():
            if vars(klass).get(name) is not original:
                self._flag(f"IPython's {name} was replaced")
                setattr(klass, name, original)
        if shell.compile is not self.compiler or type(shell.compile).__call__ is not self.compiler_call:
            self._flag("IPython's compiler was replaced")
            type(self.compiler).__call__ = self.compiler_call
            shell.compile = self.compiler
        for name, saved in self.lists.items():
            current = getattr(shell, name)
            if len(current) != len(saved) or any(a is not b for a, b in zip(current, saved, strict=True)):
                self._flag(f"IPython's {name} were changed (they can rewrite or delete test code)")
                current[:] = saved
        if shell.custom_exceptions:
            self._flag("a custom exception handler was installed (set_custom_exc)")
            shell.set_custom_exc((), None)
        if shell.display_formatter is not self.formatter:
            self._flag("IPython's display formatter was replaced")
            shell.display_formatter = self.formatter
        for event, callbacks in shell.events.callbacks.items():
            for cb in list(callbacks):
                if cb not in self.callbacks.get(event, []) and _student_code(cb):
                    self._flag(f"a {event} callback from the submission was registered")
                    callbacks.remove(cb)

    def _check_sys(self):
        if sys.gettrace() is not None:
            self._flag("a trace function was set (sys.settrace can skip test lines)")
            sys.settrace(None)
        if sys.getprofile() is not None:
            self._flag("a profile function was set (sys.setprofile)")
            sys.setprofile(None)
        threading = sys.modules.get("threading")
        if threading is not None and (
            getattr(threading, "_trace_hook", None) or getattr(threading, "_profile_hook", None)
        ):
            self._flag("a thread trace function was set")
            threading.settrace(None)
            threading.setprofile(None)
        for name, original in self.sys_hooks.items():
            if getattr(sys, name) is not original:
                self._flag(f"sys.{name} was replaced")
                setattr(sys, name, original)

    def _check_always_equal(self):
        candidates = {id(c): c for c in self.new_classes}
        for value in list(self.shell.user_ns.values()):
            items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            if isinstance(value, dict):
                items = list(value.values())
            for item in list(items)[:1000]:
                cls = item if isinstance(item, type) else type(item)
                candidates[id(cls)] = cls
        candidates = [c for c in candidates.values() if _defined_by_submission(c, self.workdir)]
        for cls in candidates:
            bad = [op for op in COMPARISONS if _always_true(cls, op)]
            if bad:
                self._flag(f"objects of class {cls.__qualname__} compare true to anything ({', '.join(bad)})")
                for op in COMPARISONS:
                    try:
                        setattr(cls, op, _neutral)
                    except (TypeError, AttributeError):
                        pass

    def check(self):
        """Restore what the submission changed since the instructor's code last ran; record findings."""
        for step in (
            self._check_sys,
            self._check_shell,
            self._check_modules,
            self._check_classes,
            self._check_bindings,
            self._check_always_equal,
        ):
            step()

    def step(self, record=(), scrub=(), check=False, trusted=False):
        """One call from the grader: forget the hidden tests that ran, remember the instructor cells' names,
        then take a new reference (`trusted`: no student code has run yet) or check. Returns the new findings
        as JSON."""
        for source in scrub:
            self.scrub(source)
        self.record(record)
        if trusted:
            self.baseline()
        elif check:
            self.check()
        return self.report()

    def report(self):
        out = json.dumps({"flags": self.flags, "notes": self.notes})
        self.flags, self.notes = [], []
        return out

    # -- hidden tests leave no text behind ---------------------------------------------------------------------

    def scrub(self, source):
        """Forget a just-run test cell's text: IPython's input history, `In`, `_i*` and linecache."""
        ns = self.shell.user_ns
        for key in ("In", "_ih"):
            hist = ns.get(key)
            if isinstance(hist, list):
                for i, text in enumerate(hist):
                    if text.strip() == source.strip():
                        hist[i] = ""
        for key in [k for k in ns if k.startswith("_i") and isinstance(ns[k], str)]:
            if ns[key].strip() == source.strip():
                ns[key] = ""
        hm = getattr(self.shell, "history_manager", None)
        for name in ("input_hist_parsed", "input_hist_raw"):
            hist = getattr(hm, name, None)
            if isinstance(hist, list):
                for i, text in enumerate(hist):
                    if text.strip() == source.strip():
                        hist[i] = ""
        for filename, entry in list(linecache.cache.items()):
            if len(entry) >= 3 and "".join(entry[2]).strip() == source.strip():
                del linecache.cache[filename]
        return "ok"

    # -- files --------------------------------------------------------------------------------------------------

    def _audit(self, event, args):
        if event != "open" or not args or isinstance(args[0], int):
            return
        path, mode, flags = (list(args) + [None, None])[:3]
        try:
            path = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        writing = bool(mode and any(c in mode for c in "wax+")) or bool(flags and flags & WRITE_FLAGS)
        if any(path == s or path.startswith(s + os.sep) for s in self.secret):
            self._flag(f"tried to open a file it may not read: {path}")
            raise PermissionError(13, "Permission denied (autograder sandbox)", path)
        if writing and path != os.devnull and not any(path == w or path.startswith(w + os.sep) for w in self.writable):
            self._flag(f"tried to write outside its folder: {path}")
            raise PermissionError(13, "Permission denied (autograder sandbox)", path)


def _tampering(value, original, workdir):
    """Whether a replaced attribute was replaced by the submission: with its own code, a wrapped or partial
    version of a function, or something that is not callable in place of something that was. Libraries
    replacing their own functions (lazy imports) are not."""
    if callable(original) and not callable(value):
        return True
    if isinstance(value, functools.partial):
        return True
    fn = getattr(value, "__func__", value)
    code = getattr(fn, "__code__", None)
    if code is not None and (_student_code(fn) or code.co_filename.startswith(workdir)):
        return True
    return getattr(fn, "__module__", None) == "__main__"


def _student_code(fn):
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__func__", None), "__code__", None)
    return code is not None and any(marker in code.co_filename for marker in CELL_FILE_MARKERS)


def _defined_by_submission(cls, workdir):
    if cls.__module__ == "__main__":
        return True
    for op in COMPARISONS:
        fn = vars(cls).get(op)
        code = getattr(fn, "__code__", None)
        if code is not None and (_student_code(fn) or code.co_filename.startswith(workdir)):
            return True
    return False


def _always_true(cls, op):
    fn = getattr(cls, op, None)
    if fn is None or fn is _neutral or getattr(fn, "__code__", None) is None:
        return False  # inherited from a builtin type: honest
    try:
        instance = cls.__new__(cls)
    except Exception:  # noqa: BLE001 -- any failure: try without an instance
        instance = None
    try:
        result = fn(instance, _Sentinel())
        if result is NotImplemented:
            return False
        return not bool(result) if op == "__ne__" else bool(result)
    except Exception:  # noqa: BLE001 -- raising for an unrelated object is honest
        return False


def install(config):
    """Create the guard and register it under `config["name"]` in sys.modules."""
    guard = Guard(config)
    module = types.ModuleType(config["name"])
    module.guard = guard
    sys.modules[config["name"]] = module
    return "installed"
