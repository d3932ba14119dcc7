"""Scratch nbgrader course directories: every nbgrader run of the tools happens in one of these, never in
the instructor's course folder, so the instructor's gradebook and release/ are only touched on purpose."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from autograder.course.paths import NBGRADER_CONFIG, SOURCE, tool_env
from autograder.course.spec import Spec
from autograder.errors import NbgraderError


class ScratchCourse:
    """A temporary course directory holding one homework's source and its own gradebook."""

    def __init__(self, spec: Spec, parent: Path | None = None) -> None:
        self.spec = spec
        self.root = Path(tempfile.mkdtemp(prefix=f"course-{spec.id}-", dir=parent))
        shutil.copy(NBGRADER_CONFIG, self.root / "nbgrader_config.py")
        shutil.copytree(SOURCE / spec.id, self.root / "source" / spec.id)

    def __enter__(self) -> ScratchCourse:
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def nbgrader(self, *args: str, timeout: float | None = None) -> str:
        """Run one nbgrader command in this course; raise NbgraderError with its log when it fails."""
        cmd = ["nbgrader", *args, "--course-dir", str(self.root), f"--db={self.db_url}"]
        proc = subprocess.run(cmd, cwd=self.root, env=tool_env(), capture_output=True, text=True, timeout=timeout)
        log = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise NbgraderError(f"`{' '.join(cmd[:3])}` failed for {self.spec.id} (exit {proc.returncode}):\n{log}")
        return log

    def generate(self) -> Path:
        """Generate the student version; return its notebook."""
        self.nbgrader("generate_assignment", self.spec.id, "--force")
        return self.root / "release" / self.spec.id / self.spec.notebook

    def submit(self, student: str, notebook: Path) -> Path:
        """Place a notebook as `student`'s submission (nbgrader's submitted/ layout)."""
        target = self.root / "submitted" / student / self.spec.id / self.spec.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
        return target

    def autograde(self, *extra: str, timeout: float | None = None) -> str:
        return self.nbgrader("autograde", self.spec.id, "--force", *extra, timeout=timeout)

    def autograded_notebook(self, student: str) -> Path:
        return self.root / "autograded" / student / self.spec.id / self.spec.notebook
