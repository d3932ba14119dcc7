"""The rules of a problem ("no automatic differentiation", "no torch.nn.Module"), decided from source.

A hidden test calls `GRADER.forbid(rule, *function_names)`. The decision is made on the trusted side from the
text of the cells the student wrote, never by asking the kernel (whatever the kernel says can be forged):

1. the student's top-level bindings are collected in notebook order (the last binding above the test wins);
2. from each named function, everything its code can reach is followed: calls to the student's other
   functions and classes, names bound to dicts, lists, lambdas or aliases, default arguments, decorators,
   class bodies and bases;
3. every name and attribute chain in that code is resolved through the imports and aliases of the whole
   notebook (`F` is `torch.nn.functional` when the setup cell says so) and compared with the rule;
4. dynamic access that could reach anything (`eval`/`exec`/`__import__`/`import_module` of a computed string,
   `getattr` with a computed name, `globals()`, `sys.modules`, a subprocess) cannot be decided: `NeedsReview`.

Instructor cells are trusted: a student's function may call the setup's helpers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from autograder.grading.source import parse as _parse
from autograder.grading.source import top_level_bindings as _top_level_bindings

AUTODIFF_MODULES = (
    "torch.autograd",
    "torch.func",
    "functorch",
    "jax",
    "autograd",
    "tensorflow",
    "torch.nn.utils.stateless",
)
AUTODIFF_CALLS = ("torch.enable_grad", "torch.set_grad_enabled", "torch.vmap")
AUTODIFF_ATTRIBUTES = {
    "backward",
    "grad",
    "grad_fn",
    "requires_grad",
    "requires_grad_",
    "retain_grad",
    "register_hook",
    "enable_grad",
    "set_grad_enabled",
    "forward_ad",
    "make_dual",
    "unpack_dual",
    "jacfwd",
    "jacrev",
    "jvp",
    "vjp",
    "jacobian",
    "hessian",
    "autograd",
}
DYNAMIC_CALLS = {"eval", "exec", "compile", "__import__", "globals", "vars", "locals", "breakpoint"}
DYNAMIC_MODULES = ("subprocess", "multiprocessing", "ctypes", "pickle", "marshal", "dill", "os.system", "os.popen")
DYNAMIC_ATTRIBUTES = {"modules", "__dict__", "__globals__", "__builtins__", "__code__", "__getattribute__"}
ALLOWED_NN = ("torch.nn.functional", "torch.nn.init", "torch.nn.Parameter", "torch.nn.parameter")


class NeedsReview(AssertionError):
    """The rule cannot be decided from the source: a TA looks at this cell."""


@dataclass(frozen=True)
class Use:
    """One forbidden (or undecidable) use found in the student's code."""

    what: str
    cell: str
    line: int


@dataclass
class Binding:
    name: str
    node: ast.AST  # the statement that binds it (def, class, assignment, import)
    cell: str  # grade_id or "cell N"
    position: int  # index of the cell in the notebook


@dataclass
class Rules:
    """The rules checker for one submission: `student` and `instructor` are (label, position, source) cells."""

    student: list[tuple[str, int, str]]
    instructor: list[tuple[str, int, str]] = field(default_factory=list)
    before: int | None = None  # only cells above this position count (the test cell's position)

    NeedsReview = NeedsReview

    def forbid(self, rule: str, *names: str, why: str = "") -> None:
        """Raise AssertionError if a named function uses what `rule` forbids; NeedsReview if undecidable."""
        check = RULES.get(rule)
        if check is None:
            raise ValueError(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
        analysis = _Analysis(self.student, self.instructor, self.before)
        for name in names:
            found, unsure = analysis.uses(name, check)
            if found:
                first = found[0]
                raise AssertionError(
                    f"{name} uses {first.what} ({first.cell}, line {first.line})"
                    + (f": {why}" if why else f": the rule '{rule}' of this problem forbids it")
                )
            if unsure:
                first = unsure[0]
                raise NeedsReview(
                    f"{name} reaches {first.what} ({first.cell}, line {first.line}), which the grader cannot "
                    f"check for the rule '{rule}': a TA will review this answer"
                )


# -- what each rule forbids (a qualified name -> a description, or None) -----------------------------------------


def _autodiff(qualified: str) -> str | None:
    if any(qualified == m or qualified.startswith(m + ".") for m in AUTODIFF_MODULES):
        return qualified
    if qualified in AUTODIFF_CALLS:
        return qualified
    last = qualified.rsplit(".", 1)[-1]
    return qualified if last in AUTODIFF_ATTRIBUTES and "." in qualified else None


def _torch(qualified: str) -> str | None:
    if qualified == "torch" or qualified.startswith("torch.") or qualified.split(".")[0] in ("functorch",):
        return qualified
    return _autodiff(qualified)


def _nn_module(qualified: str) -> str | None:
    if not qualified.startswith("torch.nn.") or any(
        qualified == a or qualified.startswith(a + ".") for a in ALLOWED_NN
    ):
        return None
    leaf = qualified.split(".")[2]
    return qualified if leaf[:1].isupper() or leaf == "modules" else None


RULES = {"autodiff": _autodiff, "torch": _torch, "nn.Module": _nn_module}


# -- the analysis -------------------------------------------------------------------------------------------------


class _Analysis:
    def __init__(self, student, instructor, before) -> None:
        self.bindings: dict[str, list[Binding]] = {}
        self.aliases: dict[str, str] = {}  # local name -> qualified name (imports and plain aliases)
        self.trusted: set[str] = set()  # names instructor cells bind (safe unless the student rebinds them)
        self.own_attributes: set[str] = set()  # methods and `self.x` attributes of the student's own classes
        for _label, _position, source in sorted(instructor, key=lambda c: c[1]):
            tree = _parse(source)
            if tree is None:
                continue
            for name, stmt in _top_level_bindings(tree):
                self.trusted.add(name)
                self._alias(name, stmt)
        for label, position, source in sorted(student, key=lambda c: c[1]):
            if before is not None and position >= before:
                continue
            tree = _parse(source)
            if tree is None:  # a cell that does not parse never ran: it binds nothing in the kernel
                continue
            for name, stmt in _top_level_bindings(tree):
                self.bindings.setdefault(name, []).append(Binding(name, stmt, label, position))
                self._alias(name, stmt)
            self.own_attributes |= _defined_attributes(tree)

    def _alias(self, name: str, stmt: ast.AST) -> None:
        """Record `name` as an alias of a module or attribute when the statement makes it one."""
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if (a.asname or a.name).split(".")[0] == name:
                    self.aliases[name] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
            for a in stmt.names:
                if (a.asname or a.name) == name:
                    self.aliases[name] = f"{stmt.module}.{a.name}"
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            qualified = self.qualify(stmt.value)
            if qualified:
                self.aliases[name] = qualified
            else:
                self.aliases.pop(name, None)

    def qualify(self, node: ast.AST) -> str | None:
        """`torch.autograd.grad` for an attribute chain whose root is an imported name, else None."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # torch.autograd.grad(...)(...) or a.b().c: qualify the callee chain
            return None
        if not isinstance(node, ast.Name) or node.id not in self.aliases:
            return None
        return ".".join([self.aliases[node.id], *reversed(parts)])

    def uses(self, name: str, rule) -> tuple[list[Use], list[Use]]:
        """Forbidden and undecidable uses reachable from the student's binding of `name`."""
        found: list[Use] = []
        unsure: list[Use] = []
        self.own_uses: list[Use] = []  # `.backward`/`.grad` where the student's own classes define them
        self.saw_torch = False
        seen: set[int] = set()
        todo = [b for b in self.bindings.get(name, [])[-1:]]
        while todo:
            binding = todo.pop()
            if id(binding.node) in seen:
                continue
            seen.add(id(binding.node))
            switched_off = _switching_autodiff_off(binding.node)
            for node, local in _scoped_walk(binding.node):
                if isinstance(node, ast.Name) and node.id in local:
                    continue  # a parameter or local variable, whatever the top level binds under that name
                if id(node) in switched_off:
                    continue
                self._inspect(node, binding, rule, found, unsure)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in self.bindings:
                    todo += self.bindings[node.id][-1:]
        if self.own_uses and self.saw_torch and not found:
            first = self.own_uses[0]
            unsure.append(Use(f"{first.what}, which may be torch's as well as your class's", first.cell, first.line))
        return found, unsure

    def _inspect(self, node, binding: Binding, rule, found: list[Use], unsure: list[Use]) -> None:
        line = getattr(node, "lineno", 1)

        def hit(what: str) -> None:
            found.append(Use(what, binding.cell, line))

        def doubt(what: str) -> None:
            unsure.append(Use(what, binding.cell, line))

        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for module in modules:
                if rule(module):
                    hit(f"import of {module}")
                elif any(module == m or module.startswith(m + ".") for m in DYNAMIC_MODULES):
                    doubt(f"import of {module}")
        elif isinstance(node, ast.Attribute):
            qualified = self.qualify(node)
            if qualified and qualified.split(".")[0] in ("torch", "functorch", "jax", "autograd", "tensorflow"):
                self.saw_torch = True
            if qualified and rule(qualified):
                hit(qualified)
            elif rule(f"object.{node.attr}") and rule is not _nn_module:
                if node.attr in self.own_attributes:
                    self.own_uses.append(Use(f".{node.attr}", binding.cell, line))
                else:
                    hit(f".{node.attr}")
            elif node.attr in DYNAMIC_ATTRIBUTES:
                doubt(f".{node.attr}")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            qualified = self.aliases.get(node.id)
            if node.id in self.bindings or node.id in self.trusted and qualified is None:
                return
            if qualified and qualified.split(".")[0] in ("torch", "functorch", "jax", "autograd", "tensorflow"):
                self.saw_torch = True
            if qualified and rule(qualified):
                hit(f"{node.id} ({qualified})")
            elif qualified and any(qualified.startswith(m) for m in DYNAMIC_MODULES):
                doubt(qualified)
            elif node.id in DYNAMIC_CALLS - {"eval", "exec", "compile", "__import__"}:  # those: see _inspect_call
                doubt(f"{node.id}()")
        elif isinstance(node, ast.keyword) and node.arg == "requires_grad" and rule("object.requires_grad"):
            hit("requires_grad=")
        elif isinstance(node, ast.Call):
            self._inspect_call(node, binding, rule, found, unsure, hit, doubt)
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                qualified = self.qualify(base) or (self.aliases.get(base.id) if isinstance(base, ast.Name) else None)
                if qualified and rule(qualified):
                    hit(f"a subclass of {qualified}")

    def _inspect_call(self, node: ast.Call, binding, rule, found, unsure, hit, doubt) -> None:
        callee = node.func.id if isinstance(node.func, ast.Name) else None
        strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        computed = [a for a in node.args if not isinstance(a, ast.Constant)]
        if callee in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                base = self.qualify(node.args[0]) or (
                    self.aliases.get(node.args[0].id) if isinstance(node.args[0], ast.Name) else None
                )
                qualified = f"{base or 'object'}.{name.value}"
                if rule(qualified) and (base or rule is not _nn_module):
                    hit(f"getattr(..., {name.value!r})")
            else:
                doubt("getattr with a computed name")
        elif callee in ("eval", "exec", "compile"):
            if strings and not computed:
                for text in strings:
                    tree = _parse(text)
                    if tree is None:
                        doubt(f"{callee}() of code that does not parse")
                        continue
                    for sub in ast.walk(tree):
                        self._inspect(sub, binding, rule, found, unsure)
            else:
                doubt(f"{callee}() of computed code")
        elif callee == "__import__" or (self.qualify(node.func) or "").endswith("import_module"):
            if strings and rule(strings[0]):
                hit(f"import of {strings[0]}")
            elif not strings:
                doubt("an import of a computed module name")


def _defined_attributes(tree: ast.Module) -> set[str]:
    """Method names of the classes a cell defines, and attributes it assigns (`self.grad = ...`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            names |= {n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
            names |= {
                t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
            }
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def _parameters(args: ast.arguments) -> set[str]:
    every = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    return {a.arg for a in every}


def _function_locals(node) -> set[str]:
    """Parameters and names assigned in a function's own body (not in functions nested in it), minus `global`."""
    names = _parameters(node.args)
    declared_global = set()
    todo = list(node.body)
    while todo:
        sub = todo.pop()
        if isinstance(sub, ast.Global):
            declared_global |= set(sub.names)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            names.add(sub.id)
        elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(sub.name)
            continue
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            names.add(sub.name)
        if not isinstance(sub, ast.Lambda):
            todo += list(ast.iter_child_nodes(sub))
    return names - declared_global


def _scoped_walk(node: ast.AST, local: frozenset = frozenset()):
    """Every node under `node` with the names that are local (or closure variables) where it stands."""
    yield node, local
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        for outer in [*node.decorator_list, *node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
            yield from _scoped_walk(outer, local)
        inner = local | _function_locals(node)
        for stmt in node.body:
            yield from _scoped_walk(stmt, inner)
    elif isinstance(node, ast.Lambda):
        for outer in [*node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
            yield from _scoped_walk(outer, local)
        yield from _scoped_walk(node.body, local | _parameters(node.args))
    elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        targets = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for child in ast.iter_child_nodes(node):
            yield from _scoped_walk(child, local | targets)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _scoped_walk(child, local)


def _switching_autodiff_off(tree: ast.AST) -> set[int]:
    """Nodes that turn autodiff off, which no rule forbids: `requires_grad=False`, `.requires_grad_(False)`,
    `set_grad_enabled(False)` (the callee and the keyword)."""
    off = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "requires_grad" and _is_false(node.value):
            off.add(id(node))
        elif isinstance(node, ast.Call) and len(node.args) == 1 and _is_false(node.args[0]):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("set_grad_enabled", "requires_grad_"):
                off |= {id(n) for n in ast.walk(node.func)}
    return off


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
