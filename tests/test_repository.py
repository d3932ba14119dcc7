"""Rules of the tree: notebooks without outputs, a working CLI, valid specs."""

from __future__ import annotations

import json
import subprocess
import sys

from autograder.course.paths import ROOT
from autograder.course.spec import all_specs


def tracked_notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_committed_notebooks_have_no_outputs():
    dirty = []
    for name in tracked_notebooks():
        nb = json.loads((ROOT / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(name)
                break
    assert dirty == [], "commit these notebooks with outputs cleared"


def test_every_spec_has_source_and_release():
    specs = all_specs()
    assert specs, "no assignments/*.toml"
    for spec in specs:
        assert spec.source_notebook.exists(), spec.source_notebook
        assert spec.release_notebook.exists(), spec.release_notebook


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    for command in ("data", "release", "check", "solutions"):
        assert command in out.stdout


def test_cli_unknown_homework_names_the_known_ones():
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "check", "hw99"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 2
    assert "unknown homework hw99" in out.stderr and "known:" in out.stderr


def test_readme_assignment_table_matches_specs():
    from autograder.authoring.readme import README, rendered

    text = README.read_text(encoding="utf-8")
    assert rendered(text, all_specs()) == text, "run `python -m autograder readme`"


def test_cli_gradescope_builds_a_bundle(tmp_path):
    """The command `make` runs: its options must all be registered (a missing one crashed it once)."""
    import zipfile

    out = tmp_path / "hw3.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "gradescope", "hw3", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = zipfile.ZipFile(out).namelist()
    assert "setup.sh" in names and "run_autograder" in names
