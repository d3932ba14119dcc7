"""What runs inside Gradescope's container: `setup.sh`'s last step (`prepare`) and `run_autograder` (`run`).

Every path under /autograder comes from `--root` (default `$AUTOGRADER_ROOT` or /autograder), which is how
the local emulation (emulate.py) runs the real bundle under a temporary folder. The grading is the same as
`python -m autograder grade`: the engine, one submission, the sandbox, the tests on the trusted side. Every
outcome a student can cause (no notebook, several, the wrong homework, a file that is not a notebook) is a
visible result with a message, never a harness failure.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from autograder.course.paths import ASSIGNMENTS, ROOT
from autograder.course.policy import Limits
from autograder.course.spec import Spec, load
from autograder.errors import GradescopeError

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


def validate(results: dict) -> None:
    """Raise if results.json does not follow the documented format."""
    import jsonschema

    jsonschema.validate(results, RESULTS_SCHEMA)


def bundle_info() -> dict:
    return json.loads((ROOT / BUNDLE_INFO).read_text())


def bundle_spec() -> Spec:
    return load(ASSIGNMENTS / f"{bundle_info()['homework']}.toml")


def _scratch(root: Path) -> Path:
    return root / "work"


def prepare(root: Path) -> Path:
    """setup.sh's last step: generate the assignment once (template course, font cache) under ROOT/work."""
    from autograder.grading import engine

    info = bundle_info()
    scratch = _scratch(root)
    shutil.rmtree(scratch, ignore_errors=True)
    setup = engine.prepare(bundle_spec(), scratch, Limits(**info["limits"]), isolation=info["isolation"])
    path = scratch / "setup.json"
    path.write_text(json.dumps(setup.to_dict()))
    return path


def _load_setup(root: Path):
    from autograder.grading import engine

    path = _scratch(root) / "setup.json"
    if not path.exists():
        raise GradescopeError(f"{path} is missing: setup.sh did not finish (see the image build log)")
    return engine.Setup.from_dict(json.loads(path.read_text()))


def _student(root: Path) -> tuple[str, str | None]:
    """The submitter's id and the submission time, from Gradescope's submission_metadata.json."""
    from autograder.grading.submissions import safe_id

    try:
        meta = json.loads((root / "submission_metadata.json").read_text())
    except (OSError, json.JSONDecodeError):
        return "student", None
    users = meta.get("users") if isinstance(meta, dict) else None
    first = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else {}
    ident = str(first.get("email", "")).split("@")[0] or first.get("id") or first.get("name") or "student"
    return safe_id(str(ident)), meta.get("created_at") if isinstance(meta, dict) else None


def run(root: Path) -> int:
    """run_autograder: grade ROOT/submission, write ROOT/results/results.json. Always writes a result."""
    from autograder.grading import engine, submissions
    from autograder.grading.results import ERROR, Result

    start = time.monotonic()
    (root / "results").mkdir(parents=True, exist_ok=True)
    spec = bundle_spec()
    student, created = _student(root)
    grader = None
    try:
        grader = engine.Grader(_load_setup(root), slot=int(os.environ.get("AUTOGRADER_SLOT", "0")))
        result = grader.grade(submissions.Submission(student, root / "submission", timestamp=created))
    except Exception as exc:  # noqa: BLE001 -- the grader's own failure: reported, never a silent 0
        traceback.print_exc()  # stdout/stderr go to the instructor's view of the run
        result = Result(spec.id, student, [student], ERROR, message=f"{type(exc).__name__}: {exc}")
    finally:
        if grader is not None:
            grader.close()
    data = result.results_json(spec, time.monotonic() - start)
    validate(data)
    target = root / "results" / "results.json"
    tmp = target.with_suffix(".part")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(target)
    print(result.text(spec))
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
