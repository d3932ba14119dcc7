"""The sandbox the student's kernel runs in, tried from inside: what it can see, reach and use. Needs a root
grader with mount, network and PID namespaces (CI has them); elsewhere the reason is given as the skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest

from autograder.course.paths import ROOT, data_root
from autograder.course.policy import Limits
from autograder.grading.runtime import sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the kernel's user switch and namespaces need a root grader")

EXPOSE = sorted({os.path.realpath(sys.executable), sys.base_prefix, sys.prefix, str(data_root())})


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    """A slot folder owned by a claimed kernel uid, a secret beside it, and a file in the host's /tmp."""
    root = tmp_path_factory.mktemp("sandbox")
    os.chmod(root, 0o711)
    uid, lock = sandbox.claim_uid()
    work, secret = root / "slot" / "work", root / "secret"
    work.mkdir(parents=True)
    secret.mkdir()
    (secret / "hidden_tests.txt").write_text("### BEGIN HIDDEN TESTS")
    os.chmod(secret / "hidden_tests.txt", 0o644)  # readable by anyone: only the sandbox keeps it away
    for d in (root / "slot", work):
        os.chown(d, uid, uid)
    host_tmp = Path(tempfile.mkstemp(prefix="host-secret-", dir="/tmp")[1])
    os.chmod(host_tmp, 0o644)
    caps = sandbox.probe(str(root / "slot" / "probe"), EXPOSE, uid)
    if not caps.supports("full"):
        pytest.skip(f"this machine cannot isolate fully: {caps.why_not('full')}")
    yield {"root": root, "work": work, "secret": secret, "uid": uid, "host_tmp": host_tmp}
    sandbox.kill_user(uid)
    lock.close()
    host_tmp.unlink(missing_ok=True)


def run(area, code: str, *, limits=None, env=None, expose=None, timeout=120):
    policy = sandbox.Policy(
        asdict(limits or Limits()), str(area["work"]), uid=area["uid"], isolation="full", expose=expose or EXPOSE
    )
    path = area["root"] / f"policy-{uuid.uuid4().hex[:6]}.json"
    path.write_text(policy.to_json())
    cmd = sandbox.launcher_command(str(path), [sys.executable, "-c", code])
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def test_probe_finds_full_isolation_here(area):
    caps = sandbox.probe(str(area["root"] / "probe2"), EXPOSE, area["uid"])
    assert caps.root and caps.namespaces and caps.switch_user


def test_kernel_runs_as_another_user_in_its_folder(area):
    proc = run(area, "import os; print(os.getuid(), os.getgid(), os.getcwd(), os.environ['HOME'])")
    assert proc.returncode == 0, proc.stderr
    uid = area["uid"]
    assert proc.stdout.split() == [str(uid), str(uid), str(area["work"]), str(area["work"])]


def test_only_the_allowlist_exists(area):
    code = (
        "import os\n"
        f"for p in [{str(area['secret'])!r}, {str(ROOT / 'source')!r}, {str(ROOT / 'assignments')!r}, "
        f"{str(area['host_tmp'])!r}, '/root/.ssh', '/home']:\n"
        "    print(p, os.path.exists(p))\n"
        "print('tmp', sorted(os.listdir('/tmp')))\n"
        "print('procs', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        "import numpy; print('numpy ok')"
    )
    proc = run(area, code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(line.endswith("False") for line in lines[:6]), lines
    # Only the ways to its own folder and to the exposed paths (a checkout under /tmp: its .venv and data/), never
    # the host's files.
    ways = sorted({Path(p).parts[2] for p in [area["work"], *EXPOSE] if Path(p).parts[1:2] == ("tmp",)})
    assert lines[6] == f"tmp {ways}"
    assert lines[7] == "procs [1, 2]" and lines[8] == "numpy ok"


def test_no_network(area):
    code = (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('CONNECTED')\n"
        "except OSError as e:\n    print('refused', e.errno)"
    )
    assert "refused" in run(area, code).stdout


def test_memory_is_a_total_over_every_process(area):
    code = (
        "import os, time\nkids = []\nfor i in range(5):\n    pid = os.fork()\n    if pid == 0:\n"
        "        b = bytearray(400 * 2**20)\n        b[::4096] = b'1' * len(b[::4096])\n        time.sleep(30)\n"
        "        os._exit(0)\n    kids.append(pid)\nfor k in kids:\n    os.waitpid(k, 0)\nprint('SURVIVED')"
    )
    started = time.monotonic()
    proc = run(area, code, limits=Limits(memory_mb=1024), timeout=90)
    assert proc.returncode == sandbox.OUT_OF_MEMORY and "SURVIVED" not in proc.stdout
    assert time.monotonic() - started < 30


def test_disk_is_a_total_over_every_file(area):
    code = (
        "import os\nwritten = 0\ntry:\n    for i in range(20):\n"
        "        with open(f'/tmp/f{i}' if i % 2 else f'f{i}', 'wb') as f:\n            f.write(b'0' * 2**20)\n"
        "        written += 1\nexcept OSError as e:\n    print('stopped', e.errno)\nprint('files', written)"
    )
    proc = run(area, code, limits=Limits(file_mb=4))
    assert "stopped 28" in proc.stdout, proc.stdout + proc.stderr  # ENOSPC: 4 MB (+ slack) in all, not per file
    assert int(proc.stdout.split("files")[1]) <= 8


def test_environment_is_scrubbed(area, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_TOKEN", "do-not-leak")
    proc = run(
        area,
        "import os; print('AUTOGRADER_TEST_TOKEN' in os.environ, os.environ.get('PYTHONNOUSERSITE'))",
        env=dict(os.environ),
    )
    assert proc.stdout.split() == ["False", "1"]


def test_what_a_kernel_leaves_behind_ends_with_it(area):
    code = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\nprint('left')"
    )
    proc = run(area, code)
    assert proc.returncode == 0 and "left" in proc.stdout
    left = ["?"]
    for _ in range(50):  # the namespace's processes are killed as its init ends: give the kernel a moment
        left = subprocess.run(["pgrep", "-u", str(area["uid"])], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert left == []


def test_symlinked_interpreter_and_paths_with_spaces(area, tmp_path):
    """A virtualenv reached through a symbolic link, in a folder whose name has spaces, still starts."""
    spaced = tmp_path / "a folder with spaces"
    spaced.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(spaced, 0o755)
    link = spaced / "venv link"
    link.symlink_to(sys.prefix)
    python = link / "bin" / "python"
    policy = sandbox.Policy(
        asdict(Limits()), str(area["work"]), uid=area["uid"], isolation="full", expose=[*EXPOSE, str(link)]
    )
    path = area["root"] / f"policy-{uuid.uuid4().hex[:6]}.json"
    path.write_text(policy.to_json())
    proc = subprocess.run(
        sandbox.launcher_command(str(path), [str(python), "-c", "import numpy, sys; print(sys.prefix)"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_each_grader_claims_its_own_uid():
    first, lock1 = sandbox.claim_uid()
    second, lock2 = sandbox.claim_uid()
    assert first != second
    lock1.close()
    third, lock3 = sandbox.claim_uid()
    assert third == first
    lock2.close()
    lock3.close()


def test_a_grader_without_isolation_refuses_with_the_fix(tmp_path, monkeypatch):
    from autograder.grading import engine

    setup = engine.Setup(spec_path="", template="", scratch=str(tmp_path), limits=Limits(), isolation="full")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(engine.GradingError, match="--isolation none"):
        engine.check_isolation(setup)
    shutil.rmtree(tmp_path, ignore_errors=True)
