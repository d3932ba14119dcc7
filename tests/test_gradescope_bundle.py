"""The Gradescope bundle: what the zip holds, for every homework. No kernels (the emulation is in test_attacks.py)."""

from __future__ import annotations

import json
import zipfile

from autograder.gradescope import bundle as gradescope


def test_bundle_for_every_homework(homework, tmp_path):
    path = gradescope.build(homework, tmp_path / f"{homework.id}.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        info = json.loads(zf.read("gradescope.json"))
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "autograder/gradescope/container.py",
        "autograder/gradescope/__main__.py",
        "autograder/grading/runtime/sandbox.py",
    } <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert f"source/{homework.id}/{homework.notebook}" in names
    assert not [n for n in names if n.startswith("source/") and not n.startswith(f"source/{homework.id}/")]
    assert info["homework"] == homework.id and info["isolation"] == "full"
    assert not [n for n in names if "__pycache__" in n]
    assert zf_text(path, "setup.sh") == (gradescope.TEMPLATES / "setup.sh").read_text()


def zf_text(path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).decode()
