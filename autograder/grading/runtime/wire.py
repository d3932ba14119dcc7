"""Plain data across the boundary between the student's kernel and the grader's trusted runner.

Values travel as JSON trees with explicit types: a list stays a list, a tuple a tuple, a numpy array keeps its
dtype and shape, a torch tensor its dtype, shape, `requires_grad` and the `.grad` of a leaf. Nothing else
crosses: no pickle, no code objects, no custom classes. Functions cross as references that the receiving side
resolves itself (see `encode`'s `function` hook).

Both sides use this one file: the grader imports it, and its text is sent into every kernel (which cannot
import the package). The decoder is the trusted side's boundary, so it is strict: every node is checked,
dtypes come from a fixed list, byte counts must match shapes, and depth and size are bounded. Standard library
only at import time; numpy and torch are imported when a value needs them.
"""

import base64
import json
import math

MAX_DEPTH = 64
MAX_BYTES = 512 * 1024 * 1024  # total decoded array bytes in one message
MAX_ITEMS = 2_000_000  # containers' elements in one message
NUMPY_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)
TORCH_DTYPES = {
    "bool": "bool",
    "uint8": "uint8",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float16": "float16",
    "bfloat16": None,  # no numpy twin: travels as float32 and is cast back
    "float32": "float32",
    "float64": "float64",
    "complex64": "complex64",
    "complex128": "complex128",
}


class NotPlainData(TypeError):
    """A value that is not plain data (a class instance, a generator, a module, ...)."""


class BadMessage(ValueError):
    """A message that does not follow the format (never produced by an honest sender)."""


def _type_name(value) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    return kind.__name__ if module in ("builtins", "__main__") else f"{module}.{kind.__name__}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- encoding -----------------------------------------------------------------------------------------------------


def encode(value, function=None, _depth: int = 0):
    """A JSON-ready tree for `value`; `function(f)` returns the reference for a callable (or raises)."""
    if _depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if type(value) is int:
        return value if -(2**63) <= value < 2**63 else {"$int": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    if module.startswith("numpy"):
        return _encode_numpy(value, function, _depth)
    if module.startswith("torch"):
        return _encode_torch(value, function, _depth)
    if isinstance(value, int):  # subclasses: IntEnum, ...
        return encode(int(value), function, _depth)
    if isinstance(value, float):
        return encode(float(value), function, _depth)
    if isinstance(value, str):
        return str(value)
    if kind is complex:
        return {"$c": [encode(value.real), encode(value.imag)]}
    if kind is bytes or kind is bytearray:
        return {"$b": _b64(bytes(value))}
    if isinstance(value, tuple):  # tuples and namedtuples
        return {"$t": [encode(v, function, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, function, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {"$d": [[encode(k, function, _depth + 1), encode(v, function, _depth + 1)] for k, v in value.items()]}
    if isinstance(value, set | frozenset):
        tag = "$fs" if isinstance(value, frozenset) else "$s"
        return {tag: [encode(v, function, _depth + 1) for v in value]}
    if kind is range:
        return {"$r": [value.start, value.stop, value.step]}
    if kind is slice:
        return {"$sl": [encode(value.start), encode(value.stop), encode(value.step)]}
    if value is Ellipsis:
        return {"$e": 1}
    if callable(value) and function is not None and not isinstance(value, type):
        return {"$fn": function(value)}
    raise NotPlainData(_type_name(value))


def _encode_numpy(value, function, depth):
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.dtype.name not in NUMPY_DTYPES:
            raise NotPlainData(f"numpy array of dtype {value.dtype}")
        data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False)
        return {"$nd": {"dtype": value.dtype.name, "shape": list(value.shape), "data": _b64(data.tobytes())}}
    if isinstance(value, np.generic):
        if value.dtype.name not in NUMPY_DTYPES:
            raise NotPlainData(f"numpy scalar of dtype {value.dtype}")
        data = np.asarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
        return {"$ns": {"dtype": value.dtype.name, "data": _b64(data)}}
    if isinstance(value, np.dtype):
        return {"$ndt": value.name}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        return {"$npgen": encode(state, None, depth + 1)}
    if isinstance(value, np.random.RandomState):
        return {"$nprs": encode(value.get_state(legacy=False), None, depth + 1)}
    if callable(value) and function is not None:  # ufuncs and numpy functions
        return {"$fn": function(value)}
    raise NotPlainData(_type_name(value))


def _encode_torch(value, function, depth):
    import torch

    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor and not isinstance(value, torch.nn.Parameter):
            raise NotPlainData(_type_name(value))
        name = str(value.dtype).removeprefix("torch.")
        if name not in TORCH_DTYPES or value.is_sparse or value.layout != torch.strided:
            raise NotPlainData(f"torch tensor of dtype {value.dtype} ({value.layout})")
        data = value.detach().cpu()
        if name == "bfloat16":
            data = data.float()
        node = {
            "dtype": name,
            "shape": list(value.shape),
            "data": _b64(data.contiguous().numpy().astype(data.numpy().dtype.newbyteorder("<")).tobytes()),
            "requires_grad": bool(value.requires_grad),
        }
        if value.is_leaf and value.grad is not None:
            node["grad"] = _encode_torch(value.grad, function, depth + 1)
        return {"$tt": node}
    if isinstance(value, torch.dtype):
        return {"$tdt": str(value).removeprefix("torch.")}
    if isinstance(value, torch.Size):
        return {"$t": [int(v) for v in value]}
    if isinstance(value, torch.device):
        return {"$tdev": str(value)}
    if isinstance(value, torch.Generator):
        if value.device.type != "cpu":
            raise NotPlainData(f"torch generator on {value.device}")
        return {"$tgen": _b64(value.get_state().numpy().tobytes())}
    if callable(value) and function is not None:
        return {"$fn": function(value)}
    raise NotPlainData(_type_name(value))


def dumps(value, function=None) -> str:
    return json.dumps(encode(value, function), separators=(",", ":"))


# -- decoding -----------------------------------------------------------------------------------------------------


class _Budget:
    def __init__(self) -> None:
        self.bytes = 0
        self.items = 0

    def spend(self, nbytes: int = 0, items: int = 1) -> None:
        self.bytes += nbytes
        self.items += items
        if self.bytes > MAX_BYTES or self.items > MAX_ITEMS:
            raise BadMessage("the value is larger than the grader accepts")


def decode(tree, function=None, _depth: int = 0, _budget: _Budget | None = None):
    """The value a tree from `encode` describes; `function(ref)` turns a callable's reference into a callable."""
    budget = _budget or _Budget()
    budget.spend()
    if _depth > MAX_DEPTH:
        raise BadMessage("nested too deep")
    if tree is None or isinstance(tree, bool | str) or type(tree) is int or type(tree) is float:
        return tree
    if isinstance(tree, list):
        return [decode(v, function, _depth + 1, budget) for v in tree]
    if not isinstance(tree, dict) or len(tree) != 1:
        raise BadMessage(f"unexpected node {type(tree).__name__}")
    ((tag, body),) = tree.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise BadMessage(f"unknown tag {tag!r}")
    return decoder(body, function, _depth, budget)


def _tuple(body, function, depth, budget):
    return tuple(decode(v, function, depth + 1, budget) for v in _list(body))


def _dict(body, function, depth, budget):
    out = {}
    for pair in _list(body):
        if not isinstance(pair, list) or len(pair) != 2:
            raise BadMessage("a dict entry is not a pair")
        key = decode(pair[0], None, depth + 1, budget)
        try:
            hash(key)
        except TypeError:
            raise BadMessage("unhashable dict key") from None
        out[key] = decode(pair[1], function, depth + 1, budget)
    return out


def _set(frozen: bool):
    def decode_set(body, function, depth, budget):
        items = [decode(v, None, depth + 1, budget) for v in _list(body)]
        try:
            return frozenset(items) if frozen else set(items)
        except TypeError:
            raise BadMessage("unhashable set element") from None

    return decode_set


def _big_int(body, function, depth, budget):
    if not isinstance(body, str) or len(body) > 4000:
        raise BadMessage("bad integer")
    try:
        return int(body)
    except ValueError:
        raise BadMessage("bad integer") from None


def _special_float(body, function, depth, budget):
    if body not in ("nan", "inf", "-inf"):
        raise BadMessage("bad float")
    return float(body)


def _complex(body, function, depth, budget):
    parts = _list(body)
    if len(parts) != 2:
        raise BadMessage("bad complex")
    real, imag = (decode(p, None, depth + 1, budget) for p in parts)
    if not all(type(v) in (int, float) for v in (real, imag)):
        raise BadMessage("bad complex")
    return complex(real, imag)


def _raw_bytes(body, function, depth, budget):
    data = _bytes(body)
    budget.spend(len(data))
    return data


def _range(body, function, depth, budget):
    parts = _list(body)
    if len(parts) != 3 or not all(type(v) is int for v in parts):
        raise BadMessage("bad range")
    return range(*parts)


def _slice(body, function, depth, budget):
    parts = [decode(v, None, depth + 1, budget) for v in _list(body)]
    if len(parts) != 3 or not all(v is None or type(v) is int for v in parts):
        raise BadMessage("bad slice")
    return slice(*parts)


def _numpy_scalar(body, function, depth, budget):
    import numpy as np

    dtype = _dtype(_field(body, "dtype", str))
    data = _bytes(_field(body, "data", str))
    if len(data) != np.dtype(dtype).itemsize:
        raise BadMessage("bad numpy scalar")
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))[0].astype(dtype)


def _numpy_dtype(body, function, depth, budget):
    import numpy as np

    return np.dtype(_dtype(body))


def _torch_dtype(body, function, depth, budget):
    import torch

    if body not in TORCH_DTYPES:
        raise BadMessage("bad torch dtype")
    return getattr(torch, body)


def _torch_device(body, function, depth, budget):
    import torch

    if not isinstance(body, str) or len(body) > 20:
        raise BadMessage("bad device")
    return torch.device(body)


def _torch_generator(body, function, depth, budget):
    import torch

    state = _bytes(body)
    budget.spend(len(state))
    generator = torch.Generator()
    try:
        generator.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    except RuntimeError:
        raise BadMessage("bad torch generator state") from None
    return generator


def _numpy_random(tag: str):
    def decode_random(body, function, depth, budget):
        return _decode_numpy_random(tag, decode(body, None, depth + 1, budget))

    return decode_random


def _function(body, function, depth, budget):
    if function is None:
        raise BadMessage("a function where none may be")
    return function(body)


_DECODERS = {
    "$t": _tuple,
    "$d": _dict,
    "$s": _set(frozen=False),
    "$fs": _set(frozen=True),
    "$int": _big_int,
    "$f": _special_float,
    "$c": _complex,
    "$b": _raw_bytes,
    "$r": _range,
    "$sl": _slice,
    "$e": lambda body, function, depth, budget: Ellipsis,
    "$nd": lambda body, function, depth, budget: _decode_ndarray(body, budget),
    "$ns": _numpy_scalar,
    "$ndt": _numpy_dtype,
    "$tt": lambda body, function, depth, budget: _decode_tensor(body, function, depth, budget),
    "$tdt": _torch_dtype,
    "$tdev": _torch_device,
    "$tgen": _torch_generator,
    "$npgen": _numpy_random("$npgen"),
    "$nprs": _numpy_random("$nprs"),
    "$fn": _function,
}


def loads(text: str, function=None):
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    return decode(tree, function)


def _list(body) -> list:
    if not isinstance(body, list):
        raise BadMessage("expected a list")
    return body


def _field(body, name: str, kind):
    if not isinstance(body, dict) or not isinstance(body.get(name), kind):
        raise BadMessage(f"missing or bad field {name!r}")
    return body[name]


def _bytes(text) -> bytes:
    if not isinstance(text, str):
        raise BadMessage("bytes must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise BadMessage("bad base64") from None


def _dtype(name) -> str:
    if name not in NUMPY_DTYPES:
        raise BadMessage(f"dtype {name!r} is not allowed")
    return name


def _shape(body) -> tuple[int, ...]:
    shape = _field(body, "shape", list)
    if len(shape) > 32 or not all(type(n) is int and 0 <= n for n in shape):
        raise BadMessage("bad shape")
    return tuple(shape)


def _decode_ndarray(body, budget: _Budget):
    import numpy as np

    dtype = np.dtype(_dtype(_field(body, "dtype", str)))
    shape = _shape(body)
    data = _bytes(_field(body, "data", str))
    count = math.prod(shape)
    if len(data) != count * dtype.itemsize:
        raise BadMessage("array bytes do not match its shape")
    budget.spend(len(data))
    return np.frombuffer(data, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape).copy()


def _decode_tensor(body, function, depth: int, budget: _Budget):
    import numpy as np
    import torch

    name = _field(body, "dtype", str)
    if name not in TORCH_DTYPES:
        raise BadMessage(f"torch dtype {name!r} is not allowed")
    twin = TORCH_DTYPES[name] or "float32"
    array = _decode_ndarray({"dtype": twin, "shape": body.get("shape"), "data": body.get("data")}, budget)
    tensor = torch.from_numpy(np.ascontiguousarray(array)).to(getattr(torch, name))
    if body.get("requires_grad") is True and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    if "grad" in body:
        grad = decode(body["grad"], None, depth + 1, budget)
        if not isinstance(grad, torch.Tensor) or grad.shape != tensor.shape:
            raise BadMessage("bad gradient")
        tensor.grad = grad.to(tensor.dtype)
    return tensor


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _decode_numpy_random(tag: str, state):
    import numpy as np

    if not isinstance(state, dict):
        raise BadMessage("bad random state")
    try:
        if tag == "$nprs":
            generator = np.random.RandomState()
            generator.set_state(state)
            return generator
        name = state.get("bit_generator")
        if name not in BIT_GENERATORS:
            raise BadMessage(f"bit generator {name!r} is not allowed")
        bits = getattr(np.random, name)()
        bits.state = state
        return np.random.Generator(bits)
    except (TypeError, ValueError, KeyError) as exc:
        raise BadMessage(f"bad random state ({exc})") from None
