"""Reading a cell's Python: IPython syntax made plain, the names it binds at the top level, the names it reads.

Used to decide where cells run (roles.py), which kernel names a test needs (trusted.py) and what a rule
reaches (rules.py). Standard library and IPython's transformer only; nothing is executed.
"""

from __future__ import annotations

import ast
import functools


@functools.lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


@functools.lru_cache(maxsize=4096)
def python_source(source: str) -> str:
    """The cell as plain Python: `%magic` lines become `get_ipython().run_line_magic(...)` calls, as IPython
    runs them (line numbers unchanged)."""
    try:
        return _transformer().transform_cell(source)
    except Exception:  # noqa: BLE001 -- IPython gives up on some malformed input: leave it to the compiler
        return source


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return None


def bound_by(stmt: ast.AST) -> list[str]:
    """Names a top-level statement binds (definitions, imports, assignments, loop and with targets, and the
    same inside if/for/while/with/try blocks, which run at the top level too)."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [stmt.name]
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        targets = [stmt.target]
    elif isinstance(stmt, ast.For | ast.AsyncFor):
        targets = [stmt.target]
    elif isinstance(stmt, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    elif isinstance(stmt, ast.Expr | ast.Return):
        targets = [n.target for n in ast.walk(stmt) if isinstance(n, ast.NamedExpr)]
    names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try | ast.AsyncFor | ast.AsyncWith):
        blocks = [getattr(stmt, a, []) for a in ("body", "orelse", "finalbody")]
        blocks += [h.body for h in getattr(stmt, "handlers", [])]
        names += [n for block in blocks for child in block for n in bound_by(child)]
    return names


def top_level_bindings(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    return [(name, stmt) for stmt in tree.body for name in bound_by(stmt)]


def bound_names(source: str) -> set[str]:
    tree = parse(source)
    return {name for name, _ in top_level_bindings(tree)} if tree else set()


def loaded_names(source: str) -> set[str]:
    """Every name the cell reads anywhere, nested functions included (a superset of its free names)."""
    tree = parse(source)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def external_reads(source: str) -> set[str]:
    """Names the cell reads from outside itself: module-level reads not preceded by the cell's own binding,
    and global reads inside its functions, lambdas, comprehensions and classes of names the cell does not bind
    at its top level. Function parameters and locals never count."""
    import symtable

    code = python_source(source)
    tree = parse(source)
    if tree is None:
        return set()
    own = {name for name, _ in top_level_bindings(tree)}
    reads: set[str] = set()
    bound: set[str] = set()
    for stmt in tree.body:
        for node in _module_scope_nodes(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
                reads.add(node.id)
        bound |= set(bound_by(stmt))
    try:
        table = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:
        return reads
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        todo += scope.get_children()
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in own:
                reads.add(symbol.get_name())
            elif scope.get_type() == "class" and symbol.is_referenced() and not symbol.is_assigned():
                if symbol.get_name() not in own:
                    reads.add(symbol.get_name())
    return reads


def _module_scope_nodes(stmt: ast.AST):
    """The nodes of a top-level statement that run in module scope (not inside functions, lambdas,
    comprehensions or class bodies, which symtable covers), decorators and defaults included."""
    todo = [stmt]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo += node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]
        elif isinstance(node, ast.ClassDef):
            todo += node.decorator_list + node.bases + [k.value for k in node.keywords]
        elif isinstance(node, ast.Lambda):
            todo += node.args.defaults + [d for d in node.args.kw_defaults if d]
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            todo.append(node.generators[0].iter)  # the first iterable is evaluated in the enclosing scope
        else:
            todo += list(ast.iter_child_nodes(node))
