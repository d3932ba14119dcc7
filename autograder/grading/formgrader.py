"""nbgrader's formgrader on the course gradebook, where TAs grade the written answers by hand.

The formgrader is a Jupyter server extension. It needs the course layout nbgrader knows: a course folder holding
`nbgrader_config.py`, the gradebook and `autograded/<student>/<hw>/<notebook>` (written by `grade`), and a
server whose root folder contains the course folder. `command` is that server's command line (docs/grading.md
shows it to TAs); `serve` runs it for tests, on a free local port with a random token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.course.paths import tool_env


def command(course_dir: Path, db_url: str, course_id: str, port: int, token: str) -> list[str]:
    """The Jupyter server with the formgrader on `course_dir` (its root folder: the course folder itself)."""
    return [
        sys.executable,
        "-m",
        "jupyter",
        "server",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={course_dir}",
        f"--IdentityProvider.token={token}",
        f"--CourseDirectory.root={course_dir}",
        f"--CourseDirectory.db_url={db_url}",
        f"--CourseDirectory.course_id={course_id}",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # graders often run in a root container
    ]


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    token: str
    log: Path

    def page(self, path: str) -> str:
        """The address of a page, through the login page: the token sets the login cookie for the whole server
        (a token on the page's own address would set it for that page's folder only, and the formgrader's
        scripts, which save the scores, would then be sent to the login page)."""
        return f"{self.url}/login?" + urllib.parse.urlencode({"token": self.token, "next": "/" + path.lstrip("/")})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(course_dir: Path, db_url: str, course_id: str, *, timeout: float = 120.0) -> Iterator[Server]:
    """Run the formgrader until the block ends; raise RuntimeError with the server's log if it does not start."""
    port, token = _free_port(), secrets.token_hex(16)
    log = Path(tempfile.mkstemp(prefix="formgrader-", suffix=".log")[1])  # not in the course folder
    with log.open("w") as out:
        proc = subprocess.Popen(
            command(course_dir, db_url, course_id, port, token),
            cwd=course_dir,  # nbgrader reads nbgrader_config.py from here
            env=tool_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", token, log)
    try:
        _wait_until_up(server, proc, timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


def _wait_until_up(server: Server, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the formgrader's server exited ({proc.returncode}):\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the formgrader's server did not answer in {timeout:g} s:\n{server.log.read_text()[-3000:]}")
