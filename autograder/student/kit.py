"""`make student`: build `build/student/`, the student edition, a tree an instructor publishes as it is.

    build/student/
      README.md             the students' guide (docs/students.md)
      hwN/hwN.ipynb         the release notebooks
      requirements.txt      the pinned packages to work on the notebooks (from the repository's requirements.txt)
      pyproject.toml        the `dlhw` package: `pip install .` gives the `dlhw` command
      autograder/           the modules `dlhw` needs, copied from the repository (never kept by hand), and
        homeworks/          the specs and release notebooks, from which it recognises the homework

The modules are the closure of `autograder.student.cli`'s imports (lazy ones included), so the kit holds
preflight, the PDF exporter and what they use, and nothing of the instructor's tools. The build refuses to
write a kit in which any line of a key's solutions or hidden tests appears (course/secrets.py).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
from pathlib import Path

from autograder import __version__
from autograder.course import cells as nbu
from autograder.course import secrets
from autograder.course.paths import BUILD, PACKAGE, ROOT
from autograder.course.spec import Spec, all_specs
from autograder.errors import KitError

KIT = BUILD / "student"
ENTRY = "autograder.student.cli"
GUIDE = ROOT / "docs" / "students.md"
REQUIREMENTS = ROOT / "requirements.txt"
# What a student installs (pinned in the kit's requirements.txt): the notebooks' packages, Jupyter to edit
# them, and what `dlhw` imports. The instructor's tools (nbgrader, test and lint tools) stay out.
STUDENT_PACKAGES = (
    "jupyter",
    "notebook",
    "ipykernel",
    "ipython",
    "jupyter_client",
    "nbformat",
    "nbclient",
    "nbconvert",
    "numpy",
    "matplotlib",
    "scipy",
    "torch",
    "torchvision",
)
# The kit's own dependencies, unpinned so that installing it on Colab keeps Colab's torch: what `dlhw`
# imports, and what it runs the notebooks with.
DEPENDENCIES = (
    "nbformat",
    "nbclient",
    "nbconvert",
    "ipykernel",
    "jupyter_client",
    "numpy",
    "matplotlib",
    "torch",
    "torchvision",
)
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".ipynb", ".json", ".j2", ".tex", ".tplx", ".css", ".html"}


def _module_file(name: str) -> Path | None:
    """The file of module `name` (`autograder.x.y`) in the repository, or None if it is not a module."""
    parts = name.split(".")
    base = PACKAGE.parent.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Every `autograder` module a file imports, at the top or inside functions, with its parent packages (the
    package imports absolutely throughout)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "autograder" and _module_file(name):
                parts = name.split(".")
                found.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return found


def module_closure(entry: str = ENTRY) -> list[Path]:
    """The files of `entry` and of every autograder module it imports, transitively."""
    todo, seen = [entry, *(".".join(entry.split(".")[:k]) for k in range(1, entry.count(".") + 1))], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imported_modules(_module_file(name)) - seen)
    return sorted(_module_file(name) for name in seen)


def data_folders(modules: list[Path]) -> list[Path]:
    """Folders of non-Python files beside the kit's packages (the PDF templates): subfolders that are no package."""
    packages = {m.parent for m in modules if m.name == "__init__.py"}
    return sorted(
        sub
        for package in packages
        for sub in package.iterdir()
        if sub.is_dir() and not (sub / "__init__.py").exists() and sub.name != "__pycache__"
    )


def pinned(names: tuple[str, ...], requirements: Path = REQUIREMENTS) -> list[str]:
    """The lines of `requirements` that pin `names`, in that order; KitError if one is not pinned there."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==", line.strip())
        if found:
            pins[found.group(1).lower().replace("-", "_")] = line.strip()
    missing = [n for n in names if n.lower().replace("-", "_") not in pins]
    if missing:
        raise KitError(f"{requirements.name} pins none of {', '.join(missing)}: the kit's requirements come from it")
    return [pins[n.lower().replace("-", "_")] for n in names]


def pyproject(package_data: dict[str, list[str]]) -> str:
    """The kit's pyproject.toml: the `dlhw` distribution, its console script and its package data."""
    deps = ", ".join(json.dumps(d) for d in DEPENDENCIES)
    data = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(package_data.items()))
    return f"""# Generated by `make student` from the course repository; do not edit.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dlhw"
version = "{__version__}"
description = "Check (preflight) and export (pdf) your deep-learning homework notebooks: the `dlhw` command."
readme = "README.md"
requires-python = ">=3.11"
# Unpinned, so that a machine that has them (Colab) keeps its own versions; requirements.txt pins all.
dependencies = [{deps}]

[project.scripts]
dlhw = "{ENTRY}:main"

[tool.setuptools]
packages = {{find = {{include = ["autograder*"]}}}}

[tool.setuptools.package-data]
{data}
"""


def _copy_release(spec: Spec, target: Path) -> None:
    if not spec.release_notebook.exists():
        raise KitError(f"{spec.release_notebook} is missing: run `python -m autograder release {spec.id}`")
    shutil.copytree(spec.release_notebook.parent, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def _same(path: Path, other: Path) -> bool:
    return other.is_file() and path.read_bytes() == other.read_bytes()


def published_copy(path: Path, out: Path, specs: list[Spec]) -> bool:
    """Whether a file of the kit is a byte-for-byte copy of what the course publishes anyway: a release
    notebook (whether a release leaks its key is `check`'s test) or a module of the package's own code."""
    relative = path.relative_to(out)
    if path.suffix == ".py":
        return _same(path, PACKAGE.parent / relative)
    return path.suffix == ".ipynb" and any(_same(path, spec.release_notebook) for spec in specs)


def kit_text(out: Path, specs: list[Spec]) -> str:
    """Every text of the kit that is not a copy of a release notebook or of the package's code: the guide,
    the specs, the generated files, and anything else that got there (notebooks read as notebooks)."""
    parts = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or published_copy(path, out, specs):
            continue
        if path.suffix == ".ipynb":
            parts.append(secrets.notebook_text(nbu.read(path)))
        parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def leaks(out: Path, specs: list[Spec]) -> dict[str, list[str]]:
    """Per homework, the lines of its key's solutions and hidden tests found in the kit at `out`."""
    text = kit_text(out, specs)
    found = {}
    for spec in specs:
        if spec.source_notebook.exists():
            lines = secrets.leaks(nbu.read(spec.source_notebook), text)
            if lines:
                found[spec.id] = lines
    return found


def build(out: Path = KIT, *, specs: list[Spec] | None = None, log=print) -> Path:
    """Write the kit to `out` (replacing what was there) and check that nothing secret is in it."""
    specs = all_specs() if specs is None else specs
    if out.exists():
        shutil.rmtree(out)
    modules = module_closure()
    package_data: dict[str, list[str]] = {"autograder": ["homeworks/**/*"]}
    for module in modules:
        target = out / module.relative_to(PACKAGE.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(module, target)
    for folder in data_folders(modules):
        shutil.copytree(folder, out / folder.relative_to(PACKAGE.parent), ignore=shutil.ignore_patterns("__pycache__"))
        owner = ".".join(folder.parent.relative_to(PACKAGE.parent).parts)
        package_data.setdefault(owner, []).append(f"{folder.name}/**/*")
    homeworks = out / "autograder" / "homeworks"
    (homeworks / "assignments").mkdir(parents=True)
    for spec in specs:
        shutil.copyfile(spec.path, homeworks / "assignments" / spec.path.name)
        _copy_release(spec, homeworks / "release" / spec.id)
        _copy_release(spec, out / spec.id)
    shutil.copyfile(GUIDE, out / "README.md")
    requirements = "\n".join(pinned(STUDENT_PACKAGES))
    (out / "requirements.txt").write_text(
        "# Pinned packages for the homework notebooks and `dlhw` (generated by `make student`).\n"
        "# On your own machine: pip install -r requirements.txt .\n" + requirements + "\n",
        encoding="utf-8",
    )
    (out / "pyproject.toml").write_text(pyproject(package_data), encoding="utf-8")
    leaked = leaks(out, specs)
    if leaked:
        shutil.rmtree(out)
        detail = "; ".join(f"{hw}: {lines[0]!r} and {len(lines) - 1} more" for hw, lines in leaked.items())
        raise KitError(f"the kit would contain instructor text ({detail}); nothing was written")
    log(f"{out}: {len(modules)} modules, {len(specs)} homeworks; install with `pip install -r requirements.txt {out}`")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        build(Path(args[0]) if args else KIT)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
