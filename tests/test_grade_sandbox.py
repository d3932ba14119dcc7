"""The kernel sandbox for real: the launcher switches user, hides files, cuts the network, limits memory and
cleans the environment; kill_user ends what a submission left behind. Needs root (the grader's user switch);
each check runs a short python through the launcher (about a second each)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict

import pytest

from autograder.course.paths import BUILD, data_root
from autograder.course.policy import Limits
from autograder.grading.runtime import sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the kernel's user switch needs a root grader")

EXPOSE = sorted({os.path.realpath(sys.executable), sys.base_prefix, sys.prefix, str(data_root())})


@pytest.fixture(scope="module")
def area():
    """A slot folder owned by a claimed kernel uid, and a secret folder, outside /tmp (kernels get their own)."""
    root = BUILD / f"test-sandbox-{uuid.uuid4().hex[:8]}"
    uid, lock = sandbox.claim_uid()
    work, secret = root / "slot" / "work", root / "secret"
    work.mkdir(parents=True)
    secret.mkdir()
    (secret / "hidden_tests.txt").write_text("### BEGIN HIDDEN TESTS")
    os.chmod(secret / "hidden_tests.txt", 0o644)  # readable by anyone: only the sandbox keeps it away
    os.chmod(root, 0o711)
    for d in (root / "slot", work):
        os.chown(d, uid, uid)
    caps = sandbox.probe(str(root / "slot" / "probe"), EXPOSE, uid)
    yield {"root": root, "work": work, "secret": secret, "uid": uid, "caps": caps}
    sandbox.kill_user(uid)
    lock.close()
    shutil.rmtree(root, ignore_errors=True)


def run(area, code: str, *, limits=None, env=None, background=False):
    caps = area["caps"]
    policy = sandbox.Policy(
        asdict(limits or Limits()),
        str(area["work"]),
        uid=area["uid"],
        isolate_network=caps.network_namespace,
        hide=[str(area["secret"])] if caps.mount_namespace else [],
        expose=EXPOSE if caps.mount_namespace else [],
    )
    path = area["root"] / f"policy-{uuid.uuid4().hex[:6]}.json"
    path.write_text(policy.to_json())
    cmd = sandbox.launcher_command(str(path), [sys.executable, "-c", code])
    if background:
        return subprocess.Popen(cmd, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_probe_finds_what_this_machine_allows(area):
    caps = area["caps"]
    assert caps.root and caps.switch_user, caps
    print(caps.describe())


def test_kernel_runs_as_another_user_in_its_folder(area):
    proc = run(area, "import os; print(os.getuid(), os.getgid(), os.getcwd(), os.environ['HOME'])")
    assert proc.returncode == 0, proc.stderr
    uid = area["uid"]
    assert proc.stdout.split() == [str(uid), str(uid), str(area["work"]), str(area["work"])]


def test_instructor_files_are_out_of_reach(area):
    target = area["secret"] / "hidden_tests.txt"
    proc = run(area, f"open({str(target)!r}).read()")
    assert proc.returncode != 0 and ("PermissionError" in proc.stderr or "FileNotFoundError" in proc.stderr)
    proc = run(area, "import os; print(sorted(os.listdir('/root')) if os.path.isdir('/root') else 'none')")
    assert ".ssh" not in proc.stdout and ".bash_history" not in proc.stdout


def test_no_network(area):
    if not area["caps"].network_namespace:
        pytest.skip("this platform refuses network namespaces")
    code = (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('CONNECTED')\n"
        "except OSError as e:\n    print('refused', e.errno)"
    )
    proc = run(area, code)
    assert "refused" in proc.stdout and "CONNECTED" not in proc.stdout


def test_memory_and_file_limits(area):
    code = (
        "try:\n    blocks = [bytearray(100 * 2**20) for _ in range(20)]\n    print('ALLOCATED')\n"
        "except MemoryError:\n    print('MemoryError')\n"
        "try:\n    open('big', 'wb').write(b'0' * (3 * 2**20))\n    print('WROTE')\nexcept OSError as e:\n"
        "    print('file limit', e.errno)"
    )
    proc = run(area, code, limits=Limits(memory_mb=1024, file_mb=2))
    assert proc.stdout.split("\n")[:2] == ["MemoryError", "file limit 27"], proc.stdout + proc.stderr  # EFBIG


def test_environment_is_scrubbed(area, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_TOKEN", "do-not-leak")
    env = {**os.environ}
    proc = run(
        area, "import os; print('AUTOGRADER_TEST_TOKEN' in os.environ, os.environ.get('PYTHONNOUSERSITE'))", env=env
    )
    assert proc.stdout.split() == ["False", "1"]


def test_kill_user_ends_what_a_submission_left_running(area):
    child = run(area, "import time; time.sleep(120)", background=True)
    time.sleep(3)
    assert child.poll() is None
    sandbox.kill_user(area["uid"])
    assert child.wait(timeout=30) == -9


def test_each_grader_claims_its_own_uid():
    first, lock1 = sandbox.claim_uid()
    second, lock2 = sandbox.claim_uid()
    assert first != second
    lock1.close()
    third, lock3 = sandbox.claim_uid()
    assert third == first
    lock2.close()
    lock3.close()
