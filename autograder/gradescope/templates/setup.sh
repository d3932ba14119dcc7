#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (cwd: /autograder/source).
# It installs Python 3.11+ and the course's pinned requirements into /autograder/venv, fetches MNIST into
# /autograder/data (verified by sha256), and prepares the assignment with nbgrader.
# The local emulation sets AUTOGRADER_PYTHON to the course's own interpreter (and PIP_NO_INDEX=1): then
# nothing is installed or downloaded, and every step below still runs.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
export COURSE_DATA="${COURSE_DATA:-$ROOT/data}"
if [ -n "${AUTOGRADER_PYTHON:-}" ]; then
  PY="$AUTOGRADER_PYTHON"
else
  BASE=""
  for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then BASE="$candidate"; break; fi
  done
  if [ -z "$BASE" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    BASE=python3.11
  fi
  "$BASE" -m venv "$ROOT/venv"
  PY="$ROOT/venv/bin/python"
  "$PY" -m pip install --quiet --upgrade pip
fi
echo "installing requirements.txt with $PY"
"$PY" -m pip install --quiet -r "$SRC/requirements.txt"
echo "$PY" > "$SRC/.python"
cd "$SRC"
"$PY" -m autograder data
"$PY" -m autograder.gradescope prepare --root "$ROOT"
chmod 700 "$SRC"  # hidden tests: never readable by the student's kernel, which runs as another user
echo "setup done"
