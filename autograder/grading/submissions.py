"""Finding submissions and reading them: a folder of `<student>/hwN.ipynb`, nbgrader's `submitted/` layout, a
Gradescope "export submissions" zip, or one Gradescope submission folder (`/autograder/submission`).

Reading never raises for a bad file: it returns a `Rejection` whose message tells the student what is wrong
and what to do, which the grader shows as the result (score 0) instead of failing the batch.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.errors import SubmissionsError

IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Submission:
    """One student's upload: where its files are, and who submitted it."""

    student: str
    folder: Path  # the files the student uploaded (searched for notebooks)
    notebook: Path | None = None  # set when the layout names the notebook exactly
    submitters: list[str] = field(default_factory=list)  # Gradescope group members (ids), student first
    timestamp: str | None = None

    @property
    def students(self) -> list[str]:
        return self.submitters or [self.student]


@dataclass
class Rejection:
    """Why a submission cannot be graded: shown to the student, scored 0."""

    message: str


def safe_id(text: str) -> str:
    """A student id usable as a folder name and an nbgrader student id. A name that had to be changed gets a
    short digest of the original, so it can never become another student's id (`alice?` is not `alice_`)."""
    raw = str(text).strip()
    cleaned = re.sub(r"[^A-Za-z0-9_.@-]+", "_", raw)
    if cleaned == raw and raw and not raw.startswith("."):
        return raw
    return f"{cleaned.strip('._-') or 'unknown'}-{hashlib.sha256(raw.encode()).hexdigest()[:6]}"


def unique_students(subs: list[Submission]) -> None:
    """Two submissions never share an id: the later ones of a repeated id get a digest of their folder (two
    students called "Bob Smith" in an export without ids stay two students)."""
    taken = {s.student for s in subs}
    seen: set[str] = set()
    for sub in subs:
        if sub.student in seen:
            base = f"{sub.student}-{hashlib.sha256(str(sub.folder).encode()).hexdigest()[:6]}"
            candidate, n = base, 2
            while candidate in taken:
                candidate, n = f"{base}-{n}", n + 1
            sub.student = candidate
            taken.add(candidate)
        seen.add(sub.student)


def _visible(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p.startswith(".") or p in IGNORED_PARTS for p in parts)


def notebooks_in(folder: Path) -> list[Path]:
    """The .ipynb files under `folder`, ignoring hidden folders, checkpoints and macOS zip debris."""
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and _visible(p, folder))


# -- discovering a batch ------------------------------------------------------------------------------------


def discover(source: Path, homework: str, notebook_name: str, workdir: Path) -> list[Submission]:
    """Every submission in `source`; a zip is unpacked under `workdir` first."""
    if not source.exists():
        raise SubmissionsError(
            f"{source} does not exist: give a folder of <student>/{notebook_name}, "
            f"nbgrader's submitted/ folder, or a Gradescope export zip"
        )
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise SubmissionsError(f"{source} is a file but not a zip: give a folder or a Gradescope export zip")
        target = workdir / "export"
        _unzip(source, target)
        source = target
    metadata = next(iter(sorted(source.rglob("submission_metadata.yml"))), None)
    if metadata is not None:
        return _gradescope_export(metadata)
    subs = []
    for student_dir in sorted(p for p in source.iterdir() if p.is_dir() and not p.is_symlink() and _visible(p, source)):
        nbgrader_dir = student_dir / homework
        if nbgrader_dir.is_dir():  # nbgrader's submitted/<student>/<assignment>/ layout
            stamp = nbgrader_dir / "timestamp.txt"
            subs.append(
                Submission(
                    safe_id(student_dir.name),
                    nbgrader_dir,
                    timestamp=stamp.read_text().strip() if stamp.exists() else None,
                )
            )
        else:
            subs.append(Submission(safe_id(student_dir.name), student_dir))
    if not subs:
        raise SubmissionsError(
            f"{source} holds no student folders: expected <student>/{notebook_name}, "
            f"<student>/{homework}/{notebook_name} (nbgrader) or a Gradescope export"
        )
    return subs


def _unzip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            dest = (target / member.filename).resolve()
            if not str(dest).startswith(str(target.resolve())):  # "../" in a member name: refuse to escape
                raise SubmissionsError(f"{archive}: member {member.filename!r} points outside the archive")
        zf.extractall(target)


def _gradescope_export(metadata: Path) -> list[Submission]:
    """Gradescope's export: submission_metadata.yml maps `submission_<id>` folders to their submitters."""
    import yaml  # only needed for this layout

    data = yaml.safe_load(metadata.read_text(encoding="utf-8")) or {}
    subs = []
    for folder, info in sorted(data.items()):
        info = info or {}
        people = info.get(":submitters") or info.get("submitters") or []
        ids = [safe_id(p.get(":sid") or p.get(":email", "").split("@")[0] or p.get(":name") or folder) for p in people]
        created = info.get(":created_at")
        subs.append(
            Submission(
                ids[0] if ids else safe_id(folder),
                metadata.parent / str(folder),
                submitters=ids,
                timestamp=str(created) if created else None,
            )
        )
    return subs


# -- reading one submission ---------------------------------------------------------------------------------


def pick_notebook(sub: Submission, notebook_name: str) -> Path | Rejection:
    """The submission's one notebook, or why there is none to grade. Symbolic links are never followed: the
    grader runs as root, and a link could point at any file of the machine."""
    if sub.notebook is not None:
        return Rejection(_LINK) if sub.notebook.is_symlink() else sub.notebook
    if sub.folder.is_symlink() or not sub.folder.is_dir():
        return Rejection(_LINK if sub.folder.is_symlink() else f"nothing was submitted: upload {notebook_name}")
    linked = [p for p in sub.folder.rglob("*") if p.is_symlink()]
    if any(p.suffix == ".ipynb" for p in linked):
        return Rejection(_LINK)
    found = [p for p in notebooks_in(sub.folder) if not p.is_symlink()]
    if not found:
        others = sorted(p.name for p in sub.folder.rglob("*") if p.is_file() and _visible(p, sub.folder))
        listing = f" (found: {', '.join(others[:5])})" if others else ""
        return Rejection(f"no notebook was submitted{listing}: upload {notebook_name}")
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(sub.folder)) for p in found)
        return Rejection(f"{len(found)} notebooks were submitted ({names}): upload exactly one, {notebook_name}")
    return found[0]


_LINK = "the upload is a symbolic link, not a notebook file: upload the .ipynb file itself"


def _read_bytes(path: Path, limit: int) -> bytes | Rejection:
    """The file's bytes, read without following a symbolic link and never more than `limit` + 1 of them."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        return Rejection(_LINK if exc.errno == errno.ELOOP else f"{path.name} cannot be read ({exc.strerror})")
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return Rejection(f"{path.name} is not a regular file: upload the .ipynb file itself")
        return f.read(limit + 1)


def read_notebook(path: Path, limits=None) -> nbformat.NotebookNode | Rejection:
    """Parse a submitted notebook; a Rejection says what is wrong with the file in plain words."""
    from autograder.course.policy import Limits

    limits = limits or Limits()
    name = path.name
    raw = _read_bytes(path, limits.upload_mb * 1024 * 1024)
    if isinstance(raw, Rejection):
        return raw
    if len(raw) > limits.upload_mb * 1024 * 1024:
        return Rejection(
            f"{name} is larger than {limits.upload_mb} MB: clear large outputs (Edit > Clear Outputs of All "
            "Cells, then Run All once) and upload it again"
        )
    if not raw.strip():
        return Rejection(f"{name} is empty: save the notebook in Jupyter (File > Save) and upload it again")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            f"{name} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}): it is not a saved "
            f"notebook; upload the .ipynb file Jupyter saves"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): the file is damaged; "
            f"re-download it or save it again from Jupyter"
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return Rejection(f"{name} is JSON but not a Jupyter notebook (no list of cells): upload the .ipynb file")
    if len(data["cells"]) > limits.cells:
        return Rejection(f"{name} has {len(data['cells'])} cells, more than the {limits.cells} allowed")
    _sanitize(data)
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # noqa: BLE001 -- nbformat raises many kinds; all mean "not a notebook"
        return Rejection(f"{name} cannot be read as a notebook ({type(exc).__name__}: {str(exc)[:200]})")
    return nb


def _sanitize(data: dict) -> None:
    """Malformed metadata (a string kernelspec, a list where nbgrader's dict goes) is dropped, not fatal: the
    grader takes all metadata from the release anyway."""
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    for key in ("kernelspec", "language_info"):
        if key in data["metadata"] and not isinstance(data["metadata"][key], dict):
            del data["metadata"][key]
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            continue
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if "nbgrader" in cell["metadata"] and not isinstance(cell["metadata"]["nbgrader"], dict):
            del cell["metadata"]["nbgrader"]


def digest(sub: Submission) -> str:
    """One digest of what was submitted (to know whether it changed since it was graded)."""
    return folder_digest(sub.folder) if sub.notebook is None else sha256(sub.notebook)


def sha256(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() and not path.is_symlink() else ""


def folder_digest(folder: Path) -> str:
    """One digest over every file of a submission folder (to know whether it changed since it was graded)."""
    digest = hashlib.sha256()
    if folder.is_dir():
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink() and _visible(p, folder):
                digest.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return digest.hexdigest()


def copy_submission(notebook: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, target)
    return target
