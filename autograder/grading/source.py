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
    """Names the cell reads from outside itself: module-level reads not preceded (in statement order, into
    loop and `with` bodies) by the cell's own binding, and global reads inside its functions, lambdas,
    comprehensions and classes of names the cell does not bind at its top level. Function parameters and
    locals never count."""
    import symtable

    tree = parse(source)
    if tree is None:
        return set()
    own = {name for name, _ in top_level_bindings(tree)}
    reads: set[str] = set()
    _ordered_reads(tree.body, set(), reads)
    try:
        table = symtable.symtable(python_source(source), "<cell>", "exec")
    except SyntaxError:
        return reads
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        todo += scope.get_children()
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if name in own or not symbol.is_referenced():
                continue
            if symbol.is_global() or (scope.get_type() == "class" and not symbol.is_assigned()):
                reads.add(name)
    return reads


COMPOUND_HEADERS = {
    ast.For: ("iter",),
    ast.AsyncFor: ("iter",),
    ast.While: ("test",),
    ast.If: ("test",),
    ast.With: ("items",),
    ast.AsyncWith: ("items",),
    ast.Try: (),
}


def _ordered_reads(stmts: list[ast.stmt], bound: set[str], reads: set[str]) -> None:
    """Module-scope reads of `stmts`, statement by statement, each checked against what is bound by then."""
    for stmt in stmts:
        headers = COMPOUND_HEADERS.get(type(stmt))
        if headers is None:
            _note_reads(stmt, bound, reads)
            bound |= set(bound_by(stmt))
            continue
        for name in headers:
            value = getattr(stmt, name)
            for node in value if isinstance(value, list) else [value]:
                _note_reads(node, bound, reads)
        if isinstance(stmt, ast.For | ast.AsyncFor):
            bound |= {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            bound |= {
                n.id
                for i in stmt.items
                if i.optional_vars
                for n in ast.walk(i.optional_vars)
                if isinstance(n, ast.Name)
            }
        for block in ("body", "orelse", "finalbody"):
            _ordered_reads(getattr(stmt, block, []), bound, reads)
        for handler in getattr(stmt, "handlers", []):
            if handler.type is not None:
                _note_reads(handler.type, bound, reads)
            if handler.name:
                bound.add(handler.name)
            _ordered_reads(handler.body, bound, reads)


def _note_reads(node: ast.AST, bound: set[str], reads: set[str]) -> None:
    for sub in _module_scope_nodes(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in bound:
            reads.add(sub.id)


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
