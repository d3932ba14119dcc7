"""`python -m autograder gradescope hwN [-o build/gradescope/hwN.zip]`: the Gradescope autograder bundle.

The zip follows Gradescope's documented contract (https://gradescope-autograders.readthedocs.io/en/latest/
specs/): `setup.sh` and `run_autograder` at its root (templates/), plus what they need: this package, the
homework's spec and instructor notebook, every homework's release notebook (to recognise another homework's
notebook), requirements.txt, nbgrader_config.py, and gradescope.json (the homework, its limits and the isolation
it grades with). Gradescope unpacks it into /autograder/source, runs setup.sh once per image, then
run_autograder for each submission (container.py).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

from autograder.course.paths import ASSIGNMENTS, BUILD, NBGRADER_CONFIG, RELEASE, ROOT, SOURCE
from autograder.course.policy import Limits
from autograder.course.spec import Spec, select
from autograder.gradescope.container import BUNDLE_INFO, GradescopeError

TEMPLATES = Path(__file__).parent / "templates"
SCRIPTS = ("setup.sh", "run_autograder")


def _bundle_files(spec: Spec) -> dict[str, Path]:
    """Archive name -> file on disk: everything setup.sh and run_autograder need, nothing else."""
    files = {}
    for p in sorted((ROOT / "autograder").rglob("*")):  # the package and its data, never caches
        if p.is_file() and "__pycache__" not in p.parts:
            files[str(p.relative_to(ROOT))] = p
    files.update({f"assignments/{p.name}": p for p in sorted(ASSIGNMENTS.glob("*.toml"))})
    for p in sorted((SOURCE / spec.id).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            files[str(p.relative_to(ROOT))] = p
    for p in sorted(RELEASE.glob("*/*.ipynb")):
        files[str(p.relative_to(ROOT))] = p
    files["requirements.txt"] = ROOT / "requirements.txt"
    files["nbgrader_config.py"] = NBGRADER_CONFIG
    return files


def build(spec: Spec, out: Path | None = None, limits: Limits | None = None, isolation: str = "full") -> Path:
    """Write the autograder zip for one homework; return its path. `limits` default to the homework's grading
    budget; Gradescope's own timeout must be longer than the notebook limit."""
    limits = limits or Limits.for_homework(spec.quick_seconds)
    out = out or BUILD / "gradescope" / f"{spec.id}.zip"
    if not spec.source_notebook.exists():
        raise GradescopeError(f"{spec.source_notebook} is missing: the bundle needs the instructor notebook")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in SCRIPTS:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (TEMPLATES / name).read_text(encoding="utf-8"))
        info = {"homework": spec.id, "notebook": spec.notebook, "limits": asdict(limits), "isolation": isolation}
        zf.writestr(BUNDLE_INFO, json.dumps(info, indent=1))
        for name, path in _bundle_files(spec).items():
            zf.write(path, name)
    tmp.replace(out)
    return out


def add_arguments(p) -> None:
    p.add_argument("homeworks", nargs="*", metavar="hwN", help="homework ids (default: every assignments/*.toml)")
    p.add_argument(
        "-o", "--output", type=Path, help="zip to write (one homework only; default build/gradescope/hwN.zip)"
    )
    from autograder.grading.batch import add_limit_arguments

    add_limit_arguments(p)  # the bundle carries the limits and the isolation it grades with


def command(args) -> int:
    specs = select(args.homeworks)
    if args.output and len(specs) != 1:
        raise GradescopeError("-o names one zip: give exactly one homework with it")
    from autograder.grading.batch import limits_from

    for spec in specs:
        path = build(spec, args.output, limits_from(args, spec), args.isolation)
        print(f"{path}: Gradescope autograder for {spec.id} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
