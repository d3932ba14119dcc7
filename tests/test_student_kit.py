"""The student kit (`make student`, build/student/): what it holds, what it must never hold, and that it works
on its own: in a fresh virtualenv holding only the kit and its requirements, from an empty folder, `dlhw
preflight` and `dlhw pdf` work on a filled notebook."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest
from test_preflight import fill, quiet, run_all  # the acceptance's helpers: a notebook filled with the key's answers

from autograder.authoring.check import leaks as release_leaks
from autograder.course import cells as nbu
from autograder.course.paths import PACKAGE, ROOT
from autograder.course.spec import all_specs, select
from autograder.student import kit

SPECS = all_specs()
INSTALL_LIMIT = 300  # seconds for the fresh virtualenv's install; uv links from its cache in seconds


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return kit.build(tmp_path_factory.mktemp("kit") / "student", log=quiet)


def kit_files(root: Path, suffix: str) -> list[Path]:
    return sorted(p for p in root.rglob(f"*{suffix}") if p.is_file())


def distribution_of(module: str) -> set[str]:
    """The installed distributions that provide a top-level module, normalised (`jupyter_client`)."""
    names = importlib.metadata.packages_distributions().get(module, [])
    return {name.lower().replace("-", "_") for name in names}


def normal(name: str) -> str:
    return name.lower().replace("-", "_")


# ---------------------------------------------------------------------------------------------------------
# What the kit holds


def test_layout(built):
    top = {p.name for p in built.iterdir()}
    assert top == {"README.md", "requirements.txt", "pyproject.toml", "autograder", *(s.id for s in SPECS)}
    assert (built / "README.md").read_bytes() == (ROOT / "docs" / "students.md").read_bytes()
    for spec in SPECS:
        release = spec.release_notebook.read_bytes()
        assert (built / spec.id / spec.notebook).read_bytes() == release
        assert (built / "autograder" / "homeworks" / "release" / spec.id / spec.notebook).read_bytes() == release
        assert (
            built / "autograder" / "homeworks" / "assignments" / spec.path.name
        ).read_bytes() == spec.path.read_bytes()
    package = {str(p.relative_to(built / "autograder")) for p in kit_files(built / "autograder", ".py")}
    for instructor in ("grading", "gradescope", "authoring/check.py", "authoring/release.py", "course/config.py"):
        assert not any(p == instructor or p.startswith(instructor + "/") for p in package), instructor
    assert not list(built.rglob("nbgrader_config.py")) and not list(built.rglob("source"))


def test_pyproject_and_requirements(built):
    project = tomllib.loads((built / "pyproject.toml").read_text())["project"]
    assert project["name"] == "dlhw" and project["scripts"] == {"dlhw": "autograder.student.cli:main"}
    pins = [line for line in (built / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    repository = {
        normal(line.split("==")[0]): line for line in kit.REQUIREMENTS.read_text().splitlines() if "==" in line
    }
    assert pins == [repository[normal(name)] for name in kit.STUDENT_PACKAGES], "pins must be the repository's"
    assert not {normal(p.split("==")[0]) for p in pins} & {"nbgrader", "pytest", "ruff", "pyyaml", "jsonschema"}
    assert set(map(normal, project["dependencies"])) <= set(map(normal, kit.STUDENT_PACKAGES))


def imports_of(source: str) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, level) of every import statement, at the top or inside functions."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [alias.name for alias in node.names], node.level))
    return found


def module_in(root: Path, module: str) -> bool:
    parts = module.split(".")
    return root.joinpath(*parts).with_suffix(".py").is_file() or root.joinpath(*parts, "__init__.py").is_file()


def test_modules_are_the_repository_modules_and_import_nothing_outside_the_kit(built):
    dependencies = set(map(normal, tomllib.loads((built / "pyproject.toml").read_text())["project"]["dependencies"]))
    for path in kit_files(built, ".py"):
        relative = path.relative_to(built)
        assert path.read_bytes() == (PACKAGE.parent / relative).read_bytes(), f"{relative} is not the repository's"
        for module, names, level in imports_of(path.read_text()):
            assert level == 0, f"{relative}: relative import"
            top = module.split(".")[0]
            if top == "autograder":
                assert module_in(built, module), f"{relative} imports {module}, which the kit lacks"
                for name in names:  # `from autograder.course import cells`: a module the kit must have too
                    if module_in(PACKAGE.parent, f"{module}.{name}"):
                        assert module_in(built, f"{module}.{name}"), f"{relative} imports {module}.{name}"
            elif top not in sys.stdlib_module_names and top != "__future__":
                assert distribution_of(top) & dependencies, f"{relative} imports {top}, not a dependency of the kit"


def test_requirements_cover_every_import_of_the_notebooks(built):
    pinned = {normal(name) for name in kit.STUDENT_PACKAGES}
    for spec in SPECS:
        for cell in nbu.read(built / spec.id / spec.notebook).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for module, _, _ in imports_of(source):
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names:
                    assert distribution_of(top) & pinned, f"{spec.id} imports {top}, which the kit does not pin"


# ---------------------------------------------------------------------------------------------------------
# What the kit must never hold


def test_no_solution_or_hidden_test_line_in_the_kit(built, tmp_path):
    assert kit.leaks(built, SPECS) == {}
    for spec in SPECS:  # the kit's notebooks are the releases (test_layout): none leaks its own key
        assert release_leaks(nbu.read(spec.source_notebook), nbu.read(spec.release_notebook)) == []
    planted = tmp_path / "planted"
    shutil.copytree(built, planted)
    [hw3, hw5] = select(["hw3", "hw5"])
    shutil.copy(hw3.source_notebook, planted / "hw3" / "answers.ipynb")  # an instructor notebook slipped in
    hidden = nbu.regions(
        next(c.source for c in nbu.read(hw5.source_notebook).cells if nbu.HIDDEN_BEGIN in c.source),
        nbu.HIDDEN_BEGIN,
        nbu.HIDDEN_END,
    )[0]
    with (planted / "README.md").open("a") as readme:
        readme.write("\n" + hidden + "\n")  # a hidden test pasted into the guide
    found = kit.leaks(planted, SPECS)
    assert {"hw3", "hw5"} <= set(found), found  # (generic lines of other keys are in hw3's key too)
    assert hidden.splitlines()[0].strip() in found["hw5"] or any(line in hidden for line in found["hw5"])


def test_build_refuses_instructor_text(tmp_path, monkeypatch):
    [hw3] = select(["hw3"])
    cells = nbu.read(hw3.source_notebook).cells
    solution = next(c for c in cells if c.cell_type == "code" and nbu.SOLUTION_BEGIN in c.source)
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n\n" + nbu.regions(solution.source, nbu.SOLUTION_BEGIN, nbu.SOLUTION_END)[0])
    monkeypatch.setattr(kit, "GUIDE", guide)
    with pytest.raises(kit.KitError, match="hw3"):
        kit.build(tmp_path / "student", log=quiet)
    assert not (tmp_path / "student").exists()


# ---------------------------------------------------------------------------------------------------------
# The kit alone, in a fresh virtualenv


def uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    assert found, "uv is missing: it is pinned in requirements.txt (`make setup` installs it)"
    return found


def run(args: list, cwd: Path, env: dict[str, str], timeout: int = 900) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - started


@pytest.mark.slow
def test_fresh_virtualenv_runs_dlhw_preflight_and_pdf(built, tmp_path):
    venv, empty, home = tmp_path / "venv", tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    # Nothing of this checkout or its interpreter: no PYTHONPATH, no COURSE_DATA, the venv's bin and the system's
    # (xelatex, pandoc) on PATH only.
    env = {"HOME": str(home), "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    installer = dict(os.environ)  # the installer keeps its cache, certificates and index settings
    created, venv_seconds = run([uv(), "venv", "--python", sys.executable, venv], tmp_path, installer)
    assert created.returncode == 0, created.stderr
    installed, install_seconds = run(
        [uv(), "pip", "install", "--python", venv / "bin" / "python", "-r", built / "requirements.txt", built],
        tmp_path,
        installer,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert install_seconds < INSTALL_LIMIT, f"the kit's install took {install_seconds:.0f}s"
    probe = (
        "import importlib.metadata as m, json, autograder; "
        "print(json.dumps([autograder.__file__, sorted(d.metadata['Name'].lower() for d in m.distributions())]))"
    )
    where, _ = run([venv / "bin" / "python", "-c", probe], empty, env)
    location, distributions = json.loads(where.stdout)
    assert Path(location).is_relative_to(venv), location  # the kit's copy, not this checkout's
    assert "dlhw" in distributions and "nbgrader" not in distributions and "pytest" not in distributions

    [hw3] = select(["hw3"])
    release = nbu.read(built / "hw3" / hw3.notebook)
    notebook = empty / "my homework.ipynb"  # renamed, with a space, as students do
    nbformat.write(run_all(fill(release, nbu.read(hw3.source_notebook)), tmp_path / "work"), str(notebook))

    checked, preflight_seconds = run(["dlhw", "preflight", notebook.name], empty, env)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-3000:]
    assert "Homework: hw3" in checked.stdout and "Verdict: READY" in checked.stdout
    assert "every written answer typesets" in checked.stdout
    exported, pdf_seconds = run(["dlhw", "pdf", notebook.name], empty, env)
    assert exported.returncode == 0, exported.stdout + exported.stderr[-3000:]
    pdf = notebook.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and "Pages to tag on Gradescope" in exported.stdout
    assert json.loads(notebook.with_suffix(".pages.json").read_text())["homework"] == "hw3"
    blank, _ = run(["dlhw", "preflight", "--no-run", built / "hw3" / hw3.notebook], empty, env)
    assert blank.returncode == 1 and "Verdict: NOT READY" in blank.stdout
    print(
        f"fresh virtualenv: uv venv {venv_seconds:.1f}s, install of the kit and its requirements "
        f"{install_seconds:.1f}s, dlhw preflight {preflight_seconds:.1f}s, dlhw pdf {pdf_seconds:.1f}s"
    )
