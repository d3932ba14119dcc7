"""Gradescope: the autograder bundle, the grading run inside Gradescope's container, and a local emulation.

`python -m autograder gradescope hwN [-o build/gradescope/hwN.zip]` builds the zip Gradescope's documented
contract asks for (https://gradescope-autograders.readthedocs.io/en/latest/specs/): `setup.sh` and
`run_autograder` at its root, plus what they need (this package, the homework's spec and instructor notebook,
every homework's release notebook, requirements.txt, nbgrader_config.py). Gradescope unpacks it into
/autograder/source, runs setup.sh once per image, then for each submission runs run_autograder with the
student's files in /autograder/submission; we write /autograder/results/results.json.

The grading is the same as `python -m autograder grade` (autograde.Grader, one submission, the sandbox,
the guard). Every outcome a student can cause (no notebook, several, the wrong homework, a file that is not a
notebook) is a visible result with a message, never a harness failure.

Every path under /autograder comes from `$AUTOGRADER_ROOT` (default /autograder), which is how the emulation
(`emulate_setup`, `emulate_run`, used by the tests) runs the real bundle under a temporary folder, against this
project's own Python environment (`$AUTOGRADER_PYTHON`, nothing downloaded).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import traceback
import zipfile
from dataclasses import asdict
from pathlib import Path

from autograder.course.paths import ASSIGNMENTS, BUILD, NBGRADER_CONFIG, RELEASE, ROOT, SOURCE, data_root, tool_env
from autograder.course.policy import Limits
from autograder.course.spec import Spec, load, select

BUNDLE_INFO = "gradescope.json"
VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
FORMATS = ["text", "html", "simple_format", "md", "ansi"]

# results.json as documented (specs page, "Output format"); additionalProperties false catches misspellings.
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"enum": FORMATS},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"enum": FORMATS},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": VISIBILITIES},
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {"type": "array"},
    },
    # "score" is optional at the top only when every test has one
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
}


class GradescopeError(RuntimeError):
    """The bundle could not be built or run; the message names the file and the fix."""


# -- the bundle ---------------------------------------------------------------------------------------------------

SETUP_SH = r"""#!/usr/bin/env bash
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
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission (cwd: /autograder): grade /autograder/submission into
# /autograder/results/results.json. $AUTOGRADER_ROOT moves /autograder (the local emulation).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export COURSE_DATA="${COURSE_DATA:-$ROOT/data}"
PY="$(cat "$ROOT/source/.python" 2>/dev/null || echo python3)"
cd "$ROOT/source" && exec "$PY" -m autograder.gradescope run --root "$ROOT"
"""


def _bundle_files(spec: Spec) -> dict[str, Path]:
    """Archive name -> file on disk: everything setup.sh and run_autograder need, nothing else."""
    files = {}
    for p in sorted((ROOT / "autograder").rglob("*")):  # the package and its data (templates), never caches
        if p.is_file() and "__pycache__" not in p.parts:
            files[str(p.relative_to(ROOT))] = p
    files.update({f"assignments/{p.name}": p for p in sorted(ASSIGNMENTS.glob("*.toml"))})
    for p in sorted((SOURCE / spec.id).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            files[str(p.relative_to(ROOT))] = p
    for p in sorted(RELEASE.glob("*/*.ipynb")):  # to tell another homework's notebook from this one
        files[str(p.relative_to(ROOT))] = p
    files["requirements.txt"] = ROOT / "requirements.txt"
    files["nbgrader_config.py"] = NBGRADER_CONFIG
    return files


def build(spec: Spec, out: Path | None = None, limits=None) -> Path:
    """Write the autograder zip for one homework; return its path. `limits` (Limits) default to the
    homework's grading budget; Gradescope's own timeout must be longer than the notebook limit."""

    limits = limits or Limits.for_homework(spec.quick_seconds)
    out = out or BUILD / "gradescope" / f"{spec.id}.zip"
    if not spec.source_notebook.exists():
        raise GradescopeError(f"{spec.source_notebook} is missing: the bundle needs the instructor notebook")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        info = {"homework": spec.id, "notebook": spec.notebook, "limits": asdict(limits)}
        zf.writestr(BUNDLE_INFO, json.dumps(info, indent=1))
        for name, path in _bundle_files(spec).items():
            zf.write(path, name)
    tmp.replace(out)
    return out


# -- inside Gradescope's container ----------------------------------------------------------------------------


def _bundle_info() -> dict:
    return json.loads((ROOT / BUNDLE_INFO).read_text())


def _bundle_spec() -> Spec:
    return load(ASSIGNMENTS / f"{_bundle_info()['homework']}.toml")


def _scratch(root: Path) -> Path:
    return root / "work"


def prepare(root: Path) -> Path:
    """setup.sh's last step: generate the assignment once (template course, font cache) under ROOT/work."""
    from autograder.grading import engine as autograde

    spec = _bundle_spec()
    scratch = _scratch(root)
    shutil.rmtree(scratch, ignore_errors=True)
    setup = autograde.prepare(spec, scratch, Limits(**_bundle_info()["limits"]))
    path = scratch / "setup.json"
    path.write_text(json.dumps({**asdict(setup), "limits": asdict(setup.limits)}))
    return path


def _load_setup(root: Path):
    from autograder.grading import engine as autograde

    path = _scratch(root) / "setup.json"
    if not path.exists():
        raise GradescopeError(f"{path} is missing: setup.sh did not finish (see the image build log)")
    data = json.loads(path.read_text())
    return autograde.Setup(**{**data, "limits": Limits(**data["limits"])})


def _student(root: Path) -> tuple[str, str | None]:
    """The submitter's id and the submission time, from Gradescope's submission_metadata.json."""
    from autograder.grading.submissions import safe_id

    path = root / "submission_metadata.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return "student", None
    users = meta.get("users") or [{}]
    first = users[0]
    ident = first.get("email", "").split("@")[0] or first.get("id") or first.get("name") or "student"
    return safe_id(str(ident)), meta.get("created_at")


def _status(ok: bool) -> str:
    return "passed" if ok else "failed"


def results_json(spec: Spec, result, seconds: float) -> dict:
    """Gradescope's results.json from a grading Result (see RESULTS_SCHEMA)."""
    tests = []
    if result.status != "graded":
        message = result.message or "the submission could not be graded"
        tests.append(
            {
                "name": "Your submission",
                "score": 0.0,
                "max_score": spec.autograded_total,
                "status": "failed",
                "output": message,
                "visibility": "visible",
            }
        )
    for number, t in enumerate(result.tests, start=1):
        passed = t.score >= t.max_score
        common = {"number": str(number), "tags": [t.problem] if t.problem else []}
        if t.hidden:  # the visible checks' outcome now; the score and the hidden message once published
            visible_ok = t.failed_in != "visible"
            tests.append(
                {
                    **common,
                    "name": f"{t.grade_id}: visible checks",
                    "score": 0.0,
                    "max_score": 0.0,
                    "status": _status(visible_ok),
                    "visibility": "visible",
                    "output": "passed" if visible_ok else t.message,
                }
            )
            tests.append(
                {
                    **common,
                    "name": t.grade_id,
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": _status(passed),
                    "visibility": "after_published",
                    "output": "passed" if passed else t.message,
                }
            )
        else:
            tests.append(
                {
                    **common,
                    "name": t.grade_id,
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": _status(passed),
                    "visibility": "visible",
                    "output": "passed" if passed else t.message,
                }
            )
    return {
        "score": result.score,
        "execution_time": round(seconds, 1),
        "output": report_text(spec, result),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"homework": spec.id, "student": result.student, "status": result.status, "flags": result.flags},
    }


def report_text(spec: Spec, result) -> str:
    """The visible summary at the top of the Gradescope result."""
    lines = []
    if result.status == "rejected":
        lines.append(f"Your submission could not be graded: {result.message}")
    elif result.status == "error":
        lines.append(f"The autograder failed on its own (not because of your submission): {result.message}")
    lines.append(
        f"Autograded: {result.score:g} / {spec.autograded_total:g} points"
        + (f"; written answers ({spec.manual_total:g} points) are graded by a TA." if spec.manual_total else "")
    )
    if result.status == "graded":
        lines += [f"  {p.id}: {result.problems[p.id][0]:g} / {p.autograded:g}" for p in spec.problems if p.autograded]
    sections = (
        ("Errors in your cells", result.cell_errors),
        ("Notes", result.notes),
        (
            "Integrity findings (the instructor has been told; what was replaced was put back before the tests ran)",
            result.flags,
        ),
    )
    for heading, items in sections:
        if items:
            lines += ["", heading + ":", *(f"- {item}" for item in items)]
    if result.limits:
        lines += ["", f"Limits: {result.limits}.", f"Sandbox: {result.sandbox}."]
    return "\n".join(lines)


def validate(results: dict) -> None:
    """Raise if results.json does not follow the documented format."""
    import jsonschema

    jsonschema.validate(results, RESULTS_SCHEMA)


def run(root: Path) -> int:
    """run_autograder: grade ROOT/submission, write ROOT/results/results.json. Always writes a result."""
    from autograder.grading import engine as autograde
    from autograder.grading import submissions
    from autograder.grading.engine import Result

    start = time.monotonic()
    (root / "results").mkdir(parents=True, exist_ok=True)
    spec = _bundle_spec()
    student, created = _student(root)
    try:
        setup = _load_setup(root)
        grader = autograde.Grader(setup, slot=int(os.environ.get("AUTOGRADER_SLOT", "0")))
        result = grader.grade(submissions.Submission(student, root / "submission", timestamp=created))
    except Exception as exc:  # noqa: BLE001 -- the grader's own failure: reported, never a silent 0
        traceback.print_exc()  # stdout/stderr go to the instructor's view of the run
        result = Result(spec.id, student, [student], "error", message=f"{type(exc).__name__}: {exc}")
    data = results_json(spec, result, time.monotonic() - start)
    validate(data)
    target = root / "results" / "results.json"
    tmp = target.with_suffix(".part")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(target)
    print(report_text(spec, result))
    return 0


# -- the local emulation --------------------------------------------------------------------------------------


def emulate_setup(bundle: Path, root: Path, python: str = sys.executable) -> subprocess.CompletedProcess:
    """Lay out ROOT as Gradescope does (source = the unpacked zip, run_autograder copied next to it) and run
    setup.sh against this project's environment: AUTOGRADER_PYTHON, the data root, and pip without an index,
    so a missing package fails instead of being downloaded."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops permission bits: restore them as Gradescope's unzip keeps them
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    env = _emulation_env(root, AUTOGRADER_PYTHON=python, PIP_NO_INDEX="1")
    proc = subprocess.run(["bash", "setup.sh"], cwd=root / "source", env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GradescopeError(
            f"setup.sh failed (exit {proc.returncode}) in {root}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def emulate_run(root: Path, files: dict[str, bytes] | Path, *, slot: int = 0, user: dict | None = None) -> dict:
    """Run ROOT/run_autograder on one submission (a folder, or file name -> bytes); return results.json,
    validated against the documented format."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    if isinstance(files, Path):
        shutil.copytree(files, root / "submission", dirs_exist_ok=True)
    else:
        for name, data in files.items():
            (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "submission" / name).write_bytes(data)
    meta = {
        "id": 1,
        "created_at": "2023-11-20T10:00:00.000000-08:00",
        "users": [user or {"email": "student@example.edu", "id": 1, "name": "A Student"}],
    }
    (root / "submission_metadata.json").write_text(json.dumps(meta))
    env = _emulation_env(root, AUTOGRADER_SLOT=str(slot))
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True)
    results = root / "results" / "results.json"
    if proc.returncode != 0 or not results.exists():
        raise GradescopeError(
            f"run_autograder failed (exit {proc.returncode}), no results.json in {root}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    data = json.loads(results.read_text())
    validate(data)
    return data


def _emulation_env(root: Path, **extra: str) -> dict[str, str]:
    env = tool_env(AUTOGRADER_ROOT=str(root), COURSE_DATA=str(data_root()), **extra)
    env.pop("PYTHONPATH", None)  # the bundle's own package, not this checkout's
    return env


# -- command line ---------------------------------------------------------------------------------------------


def add_arguments(p) -> None:
    p.add_argument("homeworks", nargs="*", metavar="hwN", help="homework ids (default: every assignments/*.toml)")
    p.add_argument(
        "-o", "--output", type=Path, help="zip to write (one homework only; default build/gradescope/hwN.zip)"
    )
    from autograder.grading.batch import add_limit_arguments

    add_limit_arguments(p)  # the bundle carries the limits it grades with


def command(args) -> int:
    specs = select(args.homeworks)
    if args.output and len(specs) != 1:
        raise GradescopeError("-o names one zip: give exactly one homework with it")
    from autograder.grading.batch import limits_from

    for spec in specs:
        path = build(spec, args.output, limits_from(args, spec))
        print(f"{path}: Gradescope autograder for {spec.id} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def main(argv: list[str]) -> int:
    """`python -m autograder.gradescope prepare|run --root ROOT`: the steps setup.sh and run_autograder run."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("step", choices=["prepare", "run"])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    args = parser.parse_args(argv)
    # jsonschema (through nbformat) imports rfc3987-syntax if present, which builds a parser at import time:
    # about 2 s of CPU in every run_autograder process, for a format no notebook schema uses. Skip it.
    sys.modules.setdefault("rfc3987_syntax", None)
    if args.step == "prepare":
        print(f"prepared: {prepare(args.root)}")
        return 0
    return run(args.root)
