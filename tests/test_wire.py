"""The plain-data format between the kernel and the trusted runner: what crosses, exactly, and what never does."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from autograder.grading.runtime import wire


def roundtrip(value):
    return wire.loads(wire.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        float("inf"),
        "ünïcode",
        b"\x00\xff",
        2 + 3j,
        range(1, 9, 2),
        slice(1, None, 2),
        ...,
    ],
)
def test_scalars_keep_their_type_and_value(value):
    back = roundtrip(value)
    assert type(back) is type(value) and back == value


def test_containers_keep_their_kind():
    value = {"a": [1, (2, 3)], (1, "k"): {4, 5}, 7: frozenset({"x"})}
    back = roundtrip(value)
    assert back == value
    assert isinstance(back["a"], list) and isinstance(back["a"][1], tuple) and isinstance(back[(1, "k")], set)


def test_nan_survives():
    assert math.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool", "complex128", "float16"])
def test_numpy_arrays_keep_dtype_shape_and_values(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)
    back[0, 0, 0] = 1  # a writable copy, not a view of the message
    assert roundtrip(np.float32(2.5)).dtype == np.float32 and roundtrip(np.int64(3)) == 3


def test_torch_tensors_keep_dtype_shape_grad_and_requires_grad():
    leaf = torch.arange(6, dtype=torch.float64).reshape(2, 3).requires_grad_()
    (leaf**2).sum().backward()
    back = roundtrip(leaf)
    assert back.dtype == torch.float64 and back.shape == (2, 3) and back.requires_grad
    assert torch.equal(back.detach(), leaf.detach()) and torch.equal(back.grad, 2 * leaf.detach())
    half = roundtrip(torch.ones(3, dtype=torch.bfloat16))
    assert half.dtype == torch.bfloat16 and roundtrip(torch.float32) is torch.float32


def test_generators_keep_their_state():
    g = torch.Generator().manual_seed(3)
    copy = roundtrip(g)
    assert torch.equal(torch.rand(4, generator=g), torch.rand(4, generator=copy))
    rng = np.random.default_rng(5)
    other = roundtrip(rng)
    assert np.array_equal(rng.normal(size=3), other.normal(size=3))


@pytest.mark.parametrize(
    "value",
    [object(), iter([1]), np.array([object()]), np.array(["text"]), torch.nn.Linear(2, 2), type("C", (), {})()],
)
def test_what_is_not_plain_data_is_refused(value):
    with pytest.raises(wire.NotPlainData):
        wire.dumps(value)


def test_functions_need_a_reference_hook():
    with pytest.raises(wire.NotPlainData):
        wire.dumps(lambda x: x)
    tree = wire.encode([abs], function=lambda f: {"lib": "builtins.abs"})
    assert tree == [{"$fn": {"lib": "builtins.abs"}}]
    with pytest.raises(wire.BadMessage):
        wire.decode(tree)  # no resolver: a function cannot appear


@pytest.mark.parametrize(
    "tree",
    [
        {"$nd": {"dtype": "object", "shape": [1], "data": ""}},
        {"$nd": {"dtype": "float64", "shape": [3], "data": "AAAA"}},  # bytes do not match the shape
        {"$nd": {"dtype": "float64", "shape": [-1], "data": ""}},
        {"$tt": {"dtype": "float64", "shape": [2], "data": "!!"}},
        {"$pickle": "gASV"},
        {"$d": [[[1, 2], 3]]},  # an unhashable key
        {"$int": "1" * 5000},
        {"a": 1, "b": 2},
        {"$tdt": "object"},
    ],
)
def test_malformed_messages_are_refused(tree):
    with pytest.raises(wire.BadMessage):
        wire.decode(tree)


def test_depth_and_size_are_bounded():
    deep = 1
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.BadMessage):
        wire.loads(json.dumps(deep))
    with pytest.raises(wire.BadMessage):
        wire.decode([0] * (wire.MAX_ITEMS + 1))
