"""`make test` runs two xdist workers with `--dist loadgroup`; tests sharing an expensive fixture must land on one
worker (tests/conftest.py). A pytest or xdist upgrade has broken that silently before: the groups vanish and each
worker builds every fixture again, which only shows as a slower suite. This catches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a pytest run with two workers


def test_tests_sharing_a_fixture_run_as_one_group(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "base"),
            "tests/test_data.py",
            "-k",
            "notebook_downloads_into_the_user_cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    passed = [line for line in run.stdout.splitlines() if line.startswith("PASSED")]
    assert len(passed) >= 2, run.stdout  # one per homework that reads MNIST
    assert all(line.endswith("@mirror") for line in passed), run.stdout
