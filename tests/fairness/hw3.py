"""Fairness corpus of hw3: answers a class would write, correct ones in other styles and plausible wrong ones.

Each wrong answer names the test cells it must lose (`loses`), so the corpus also proves that one mistake costs
points once. The rule of Question 1 (no torch, no autodiff) is probed with every bypass the graders reported.
"""

from fairness import Correct, Wrong, key

# -- Question 1: two_layer_loss and two_layer_gradients --------------------------------------------------------

Q1 = "q1_network"
Q1_LOSS, Q1_GRADS, Q1_RULE = "q1_loss_tests", "q1_gradients_tests", "q1_no_autodiff_tests"

# The key's loss, reused by the variants that only change the gradients.
LOSS = """
def two_layer_loss(X, t, W1, b1, w2, b2):
    A = np.maximum(X @ W1 + b1, 0.0)
    return float(0.5 * np.sum((A @ w2 + b2 - t) ** 2))
"""

# A correct numpy backward pass, as a helper the rule variants call.
NUMPY_GRADS = """
def _numpy_grads(X, t, W1, b1, w2, b2):
    Z = X @ W1 + b1
    A = np.maximum(Z, 0.0)
    r = A @ w2 + b2 - t
    delta = np.outer(r, w2) * (Z > 0)
    return {"W1": X.T @ delta, "b1": delta.sum(0), "w2": A.T @ r, "b2": r.sum()}
"""

# Torch in float64, no autodiff: the forward pass the autodiff variants differentiate.
TORCH_LOSS = """
def _torch_loss(X, t, W1, b1, w2, b2):
    T = lambda v: torch.as_tensor(np.asarray(v, float))
    y = torch.relu(T(X) @ W1 + b1) @ w2 + b2
    return 0.5 * ((y - T(t)) ** 2).sum()
"""


def q1_torch(body: str, extra: str = "") -> str:
    """A Q1 answer whose gradients come from torch (correct values, forbidden by the rule)."""
    return LOSS + extra + "\n" + body


q1_variants = [
    Correct(
        Q1,
        "one example at a time, loops, numpy scalars",
        """
def two_layer_loss(X, t, W1, b1, w2, b2):
    total = 0.0
    for k in range(X.shape[0]):
        a = np.maximum(X[k] @ W1 + b1, 0)
        total += 0.5 * (a @ w2 + b2 - t[k]) ** 2
    return total


def two_layer_gradients(X, t, W1, b1, w2, b2):
    gW1, gb1, gw2, gb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(w2), 0.0
    for k in range(X.shape[0]):
        z = X[k] @ W1 + b1
        a = np.maximum(z, 0)
        r = a @ w2 + b2 - t[k]
        gb2 += r
        gw2 += r * a
        dz = r * w2 * (z > 0)
        gb1 += dz
        gW1 += np.outer(X[k], dz)
    return {"W1": gW1, "b1": gb1, "w2": gw2, "b2": gb2}
""",
    ),
    Correct(
        Q1,
        "the handout's row vectors: (1, H) gradients, b2 as a 1-element array, a 0-d loss",
        """
def two_layer_loss(X, t, W1, b1, w2, b2):
    y = np.maximum(X @ W1 + b1.reshape(1, -1), 0) @ w2.reshape(1, -1).T + b2
    return 0.5 * np.sum((y - t.reshape(-1, 1)) ** 2, keepdims=False)


def two_layer_gradients(X, t, W1, b1, w2, b2):
    b1, w2, t = b1.reshape(1, -1), w2.reshape(1, -1), t.reshape(-1, 1)
    Z = X @ W1 + b1
    A = np.maximum(Z, 0)
    dy = A @ w2.T + b2 - t               # (N, 1)
    dZ = (dy @ w2) * np.heaviside(Z, 0)  # f'(0) = 0
    return {"W1": X.T @ dZ, "b1": np.ones((1, X.shape[0])) @ dZ,
            "w2": dy.T @ A, "b2": np.sum(dy, axis=0)}
""",
    ),
    Correct(
        Q1,
        "helper functions, an extra key, printing, a DeprecationWarning and stderr",
        """
import sys
import warnings


def relu(z):
    return np.where(z > 0, z, 0.0)


def relu_prime(z):
    return (z > 0).astype(float)


def forward(X, W1, b1, w2, b2):
    Z = X @ W1 + b1
    return Z, relu(Z), relu(Z) @ w2 + b2


def two_layer_loss(X, t, W1, b1, w2, b2):
    _, _, y = forward(X, W1, b1, w2, b2)
    warnings.warn("np.float_ style is deprecated", DeprecationWarning)
    return np.float64(0.5 * np.dot(y - t, y - t))


def two_layer_gradients(X, t, W1, b1, w2, b2):
    Z, A, y = forward(X, W1, b1, w2, b2)
    r = y - t
    print("residuals", r)
    print("checking shapes", file=sys.stderr)
    delta = np.einsum("n,h->nh", r, w2) * relu_prime(Z)
    return {"W1": X.T @ delta, "b1": delta.sum(axis=0), "w2": A.T @ r,
            "b2": r.sum(), "loss": two_layer_loss(X, t, W1, b1, w2, b2)}
""",
    ),
    Correct(
        Q1,
        "a class holding the network, a dict of gradients built by a comprehension",
        """
class TwoLayer:
    def __init__(self, W1, b1, w2, b2):
        self.params = {"W1": W1, "b1": b1, "w2": w2, "b2": b2}

    def forward(self, X):
        p = self.params
        self.X, self.Z = X, X @ p["W1"] + p["b1"]
        self.A = np.maximum(self.Z, 0)
        return self.A @ p["w2"] + p["b2"]

    def backward(self, r):
        delta = r[:, None] * self.params["w2"][None, :] * (self.Z > 0)
        parts = {"W1": self.X.T @ delta, "b1": delta.sum(0), "w2": self.A.T @ r, "b2": r.sum()}
        return {k: np.asarray(v, dtype=float) for k, v in parts.items()}


def two_layer_loss(X, t, W1, b1, w2, b2):
    return 0.5 * ((TwoLayer(W1, b1, w2, b2).forward(X) - t) ** 2).sum()


def two_layer_gradients(X, t, W1, b1, w2, b2):
    net = TwoLayer(W1, b1, w2, b2)
    return net.backward(net.forward(X) - t)
""",
    ),
    Correct(
        Q1,
        "numpy answer checked against torch in the same cell (torch outside the two functions)",
        key(Q1)
        + """


import torch as _torch_check

_P = {k: _torch_check.tensor(np.asarray(v, float), requires_grad=True)
      for k, v in zip(["W1", "b1", "w2", "b2"], [W1, b1, w2, b2])}
_yt = _torch_check.relu(_torch_check.tensor(X) @ _P["W1"] + _P["b1"]) @ _P["w2"] + _P["b2"]
(0.5 * ((_yt - _torch_check.tensor(t)) ** 2).sum()).backward()
for _k, _v in two_layer_gradients(X, t, W1, b1, w2, b2).items():
    print(_k, np.allclose(_v, _P[_k].grad.numpy()))
""",
    ),
    Correct(
        Q1,
        "float32 arithmetic inside",
        """
def two_layer_loss(X, t, W1, b1, w2, b2):
    X, t, W1, b1, w2 = (np.asarray(v, np.float32) for v in (X, t, W1, b1, w2))
    y = np.maximum(X @ W1 + b1, 0) @ w2 + np.float32(b2)
    return float(0.5 * np.sum((y.astype(np.float64) - t) ** 2))


def two_layer_gradients(X, t, W1, b1, w2, b2):
    X, t, W1, b1, w2 = (np.asarray(v, np.float32) for v in (X, t, W1, b1, w2))
    Z = X @ W1 + b1
    A = np.maximum(Z, 0)
    r = A @ w2 + np.float32(b2) - t
    D = np.outer(r, w2) * (Z > 0)
    return {"W1": X.T @ D, "b1": D.sum(0), "w2": A.T @ r, "b2": float(r.sum())}
""",
    ),
    Correct(
        Q1,
        "gradients as nested lists, the loss as a 1-element array",
        key(Q1)
        .swap("return float(0.5 * np.sum((y - t) ** 2))", "return np.array([0.5 * np.sum((y - t) ** 2)])")
        .swap(
            '"W1": X.T @ delta, "b1": delta.sum(axis=0),',
            '"W1": (X.T @ delta).tolist(), "b1": list(delta.sum(axis=0)),',
        ),
    ),
    Correct(
        Q1,
        "central finite differences of the loss (numerical, no autodiff)",
        LOSS
        + """

def two_layer_gradients(X, t, W1, b1, w2, b2, eps=1e-6):
    params = {"W1": W1, "b1": b1, "w2": w2, "b2": np.array(float(b2))}
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value, dtype=float)
        for idx in np.ndindex(value.shape):
            up, down = dict(params), dict(params)
            up[name] = value.astype(float).copy()
            down[name] = value.astype(float).copy()
            up[name][idx] += eps
            down[name][idx] -= eps
            g[idx] = (two_layer_loss(X, t, *up.values()) - two_layer_loss(X, t, *down.values())) / (2 * eps)
        grads[name] = g
    grads["b2"] = float(grads["b2"])
    return grads
""",
    ),
    # wrong values, rule kept
    Wrong(
        Q1,
        "ReLU derivative forgotten",
        key(Q1).swap("delta = np.outer(r, w2) * (Z > 0)", "delta = np.outer(r, w2)"),
        loses=[Q1_GRADS],
    ),
    Wrong(
        Q1,
        "loss without the 1/2",
        key(Q1).swap("return float(0.5 * np.sum((y - t) ** 2))", "return float(np.sum((y - t) ** 2))"),
        loses=[Q1_LOSS],
    ),
    Wrong(
        Q1,
        "gradients twice too large (dL/dy = 2 r)",
        key(Q1).swap("r = A @ w2 + b2 - t ", "r = 2 * (A @ w2 + b2 - t)"),
        loses=[Q1_GRADS],
    ),
    Wrong(
        Q1,
        "dL/db1 averaged over the examples",
        key(Q1).swap('"b1": delta.sum(axis=0)', '"b1": delta.mean(axis=0)'),
        loses=[Q1_GRADS],
    ),
    Wrong(
        Q1,
        "dL/dW1 transposed, (H, D)",
        key(Q1).swap('"W1": X.T @ delta', '"W1": delta.T @ X'),
        loses=[Q1_GRADS],
    ),
    Wrong(
        Q1,
        "dL/dw2 from the pre-activations Z instead of A",
        key(Q1).swap('"w2": A.T @ r', '"w2": Z.T @ r'),
        loses=[Q1_GRADS],
    ),
    Wrong(
        Q1,
        "residual t - y (sign)",
        key(Q1).swap("r = A @ w2 + b2 - t ", "r = t - (A @ w2 + b2)"),
        loses=[Q1_GRADS],
    ),
    # the rule: correct values, torch or autodiff reached one way or another
    Wrong(
        Q1,
        "rule: torch.enable_grad and backward",
        q1_torch(
            """
def two_layer_gradients(X, t, W1, b1, w2, b2):
    P = [torch.tensor(np.asarray(v, float), requires_grad=True) for v in (W1, b1, w2, b2)]
    with torch.enable_grad():
        _torch_loss(X, t, *P).backward()
    g = [p.grad.numpy() for p in P]
    return {"W1": g[0], "b1": g[1], "w2": g[2], "b2": float(g[3])}
""",
            TORCH_LOSS,
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: from torch.autograd import grad",
        q1_torch(
            """
from torch.autograd import grad


def two_layer_gradients(X, t, W1, b1, w2, b2):
    P = [torch.tensor(np.asarray(v, float)).requires_grad_() for v in (W1, b1, w2, b2)]
    g = grad(_torch_loss(X, t, *P), P)
    return dict(zip(["W1", "b1", "w2", "b2"], [v.numpy() for v in g]))
""",
            TORCH_LOSS,
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch.func.jacfwd (forward mode)",
        q1_torch(
            """
def two_layer_gradients(X, t, W1, b1, w2, b2):
    P = [torch.as_tensor(np.asarray(v, float)) for v in (W1, b1, w2, b2)]
    g = torch.func.jacfwd(lambda *p: _torch_loss(X, t, *p), argnums=(0, 1, 2, 3))(*P)
    return dict(zip(["W1", "b1", "w2", "b2"], [v.numpy() for v in g]))
""",
            TORCH_LOSS,
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch.func.jvp, one direction per parameter entry",
        q1_torch(
            """
def two_layer_gradients(X, t, W1, b1, w2, b2):
    P = [torch.as_tensor(np.asarray(v, float)) for v in (W1, b1, w2, b2)]
    out = {}
    for i, name in enumerate(["W1", "b1", "w2", "b2"]):
        flat = []
        for j in range(P[i].numel()):
            e = torch.zeros(P[i].numel(), dtype=torch.float64)
            e[j] = 1.0
            tangents = [torch.zeros_like(p) for p in P]
            tangents[i] = e.reshape(P[i].shape)
            flat.append(torch.func.jvp(lambda *p: _torch_loss(X, t, *p), tuple(P), tuple(tangents))[1].item())
        out[name] = np.array(flat).reshape(P[i].shape)
    return out
""",
            TORCH_LOSS,
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch.autograd.forward_ad",
        q1_torch(
            """
import torch.autograd.forward_ad as fwAD


def two_layer_gradients(X, t, W1, b1, w2, b2):
    P = [torch.as_tensor(np.asarray(v, float)) for v in (W1, b1, w2, b2)]
    out = {}
    for i, name in enumerate(["W1", "b1", "w2", "b2"]):
        flat = []
        for j in range(P[i].numel()):
            e = torch.zeros(P[i].numel(), dtype=torch.float64)
            e[j] = 1.0
            with fwAD.dual_level():
                Q = list(P)
                Q[i] = fwAD.make_dual(P[i], e.reshape(P[i].shape))
                flat.append(fwAD.unpack_dual(_torch_loss(X, t, *Q)).tangent.item())
        out[name] = np.array(flat).reshape(P[i].shape)
    return out
""",
            TORCH_LOSS,
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch reached through a class attribute",
        LOSS
        + """

class Backend:
    lib = torch


def two_layer_gradients(X, t, W1, b1, w2, b2):
    T = Backend.lib
    P = [T.tensor(np.asarray(v, float), requires_grad=True) for v in (W1, b1, w2, b2)]
    y = T.relu(T.tensor(X) @ P[0] + P[1]) @ P[2] + P[3]
    (0.5 * ((y - T.tensor(t)) ** 2).sum()).backward()
    return dict(zip(["W1", "b1", "w2", "b2"], [p.grad.numpy() for p in P]))
""",
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch reached through a dict",
        LOSS
        + """

TOOLS = {"lib": torch, "relu": torch.relu}


def two_layer_gradients(X, t, W1, b1, w2, b2):
    T = TOOLS["lib"]
    P = [T.tensor(np.asarray(v, float), requires_grad=True) for v in (W1, b1, w2, b2)]
    y = TOOLS["relu"](T.tensor(X) @ P[0] + P[1]) @ P[2] + P[3]
    (0.5 * ((y - T.tensor(t)) ** 2).sum()).backward()
    return dict(zip(["W1", "b1", "w2", "b2"], [p.grad.numpy() for p in P]))
""",
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch reached through a default argument",
        LOSS
        + """

def two_layer_gradients(X, t, W1, b1, w2, b2, lib=torch):
    P = [lib.tensor(np.asarray(v, float), requires_grad=True) for v in (W1, b1, w2, b2)]
    y = lib.relu(lib.tensor(X) @ P[0] + P[1]) @ P[2] + P[3]
    (0.5 * ((y - lib.tensor(t)) ** 2).sum()).backward()
    return dict(zip(["W1", "b1", "w2", "b2"], [p.grad.numpy() for p in P]))
""",
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: torch imported by importlib inside a helper",
        LOSS
        + """

import importlib


def _lib():
    return importlib.import_module("torch")


def two_layer_gradients(X, t, W1, b1, w2, b2):
    T = _lib()
    P = [T.tensor(np.asarray(v, float), requires_grad=True) for v in (W1, b1, w2, b2)]
    y = T.relu(T.tensor(X) @ P[0] + P[1]) @ P[2] + P[3]
    (0.5 * ((y - T.tensor(t)) ** 2).sum()).backward()
    return dict(zip(["W1", "b1", "w2", "b2"], [p.grad.numpy() for p in P]))
""",
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: the loss uses torch (forward only, no autodiff)",
        key(Q1).swap(
            "    A = np.maximum(Z, 0.0)   # (N, H) hidden activations f(Z)\n",
            "    A = torch.relu(torch.from_numpy(np.asarray(Z, float))).numpy()\n",
        ),
        loses=[Q1_RULE],
    ),
    Wrong(
        Q1,
        "rule: tries jax first, numpy when jax is missing",
        LOSS
        + NUMPY_GRADS
        + """

def two_layer_gradients(X, t, W1, b1, w2, b2):
    try:
        import jax
        g = jax.grad(lambda p: two_layer_loss(X, t, *p))((W1, b1, w2, b2))
        return dict(zip(["W1", "b1", "w2", "b2"], g))
    except ImportError:
        return _numpy_grads(X, t, W1, b1, w2, b2)
""",
        loses=[Q1_RULE],
    ),
]

# -- Question 2: softmax_ce_grad -------------------------------------------------------------------------------

Q2 = "q2_softmax_ce_grad"
Q2_GRAD, Q2_STABLE = "q2_grad_tests", "q2_stability_tests"

q2_variants = [
    Correct(
        Q2,
        "scipy.special.softmax minus the target",
        """
from scipy.special import softmax


def softmax_ce_grad(y, t):
    return softmax(y, axis=-1) - t
""",
    ),
    Correct(
        Q2,
        "float32 throughout: scipy's softmax of a float32 copy, np.atleast_1d",
        """
from scipy.special import softmax as _sm


def softmax_ce_grad(y, t):
    y = np.atleast_1d(np.asarray(y, dtype=np.float32))
    return _sm(y, axis=-1) - np.asarray(t, dtype=np.float32)
""",
    ),
    Correct(
        Q2,
        "logsumexp, p * sum(t) - t (general targets)",
        """
from scipy.special import logsumexp


def softmax_ce_grad(y, t):
    p = np.exp(y - logsumexp(y, axis=-1, keepdims=True))
    return p * np.sum(t, axis=-1, keepdims=True) - t
""",
    ),
    Correct(
        Q2,
        "a loop over rows, lists, a nested helper",
        """
def softmax_ce_grad(y, t):
    def one(row, target):
        m = max(row)
        e = [np.exp(v - m) for v in row]
        s = sum(e)
        return [ei / s - ti for ei, ti in zip(e, target)]

    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 1:
        return one(list(y), list(t))
    return [one(list(r), list(q)) for r, q in zip(y, t)]
""",
    ),
    Correct(
        Q2,
        "torch.softmax in float64, a tensor returned",
        """
def softmax_ce_grad(y, t):
    return torch.softmax(torch.as_tensor(y, dtype=torch.float64), dim=-1) - torch.as_tensor(t)
""",
    ),
    Correct(
        Q2,
        "in place, 2-D always, printing and warning",
        """
import warnings


def softmax_ce_grad(y, t):
    Y = np.atleast_2d(np.array(y, dtype=np.float64))
    Y -= Y.max(axis=1)[:, None]
    np.exp(Y, out=Y)
    Y /= Y.sum(axis=1)[:, None]
    Y -= np.atleast_2d(t)
    print("gradient rows sum to", Y.sum(axis=1))
    warnings.warn("this is fine", DeprecationWarning)
    return Y.reshape(np.shape(y))
""",
    ),
    Correct(
        Q2,
        "always 2-D: a (1, K) row for a vector",
        """
def softmax_ce_grad(y, t):
    Y, T = np.atleast_2d(y), np.atleast_2d(t)
    E = np.exp(Y - Y.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True) - T
""",
    ),
    Correct(
        Q2,
        "the gradient by torch.autograd (allowed in Question 2), a tensor that requires grad",
        """
def softmax_ce_grad(y, t):
    logits = torch.tensor(np.asarray(y, float), requires_grad=True)
    E = -(torch.as_tensor(np.asarray(t, float)) * torch.log_softmax(logits, dim=-1)).sum()
    E.backward()
    return logits.grad + 0 * logits
""",
    ),
    Wrong(
        Q2,
        "naive exp, no shift (overflows)",
        """
def softmax_ce_grad(y, t):
    e = np.exp(y)
    return e / e.sum(axis=-1, keepdims=True) - t
""",
        loses=[Q2_STABLE],
    ),
    Wrong(
        Q2,
        "sign: t - p",
        key(Q2).swap("return p - t", "return t - p"),
        loses=[Q2_GRAD],
    ),
    Wrong(
        Q2,
        "softmax over the wrong axis (columns of a batch)",
        key(Q2).swap("axis=-1", "axis=0", count=2),
        loses=[Q2_GRAD],
    ),
    Wrong(
        Q2,
        "one global max for the whole batch (unstable across rows)",
        key(Q2).swap("y - y.max(axis=-1, keepdims=True)", "y - y.max()"),
        loses=[Q2_STABLE],
    ),
    Wrong(
        Q2,
        "no softmax: y - t",
        """
def softmax_ce_grad(y, t):
    return np.asarray(y) - np.asarray(t)
""",
        loses=[Q2_GRAD],
    ),
    Wrong(
        Q2,
        "exp without normalisation",
        key(Q2).swap("p = z / z.sum(axis=-1, keepdims=True)", "p = z"),
        loses=[Q2_GRAD],
    ),
    Wrong(
        Q2,
        "divided by the number of rows (mean instead of sum)",
        key(Q2).swap("return p - t", "return (p - t) / len(y)"),
        loses=[Q2_GRAD],
    ),
    Wrong(
        Q2,
        "softmax over every entry of a batch, and unstable (two mistakes)",
        """
def softmax_ce_grad(y, t):
    return np.exp(y) / np.sum(np.exp(y)) - t
""",
        loses=[Q2_GRAD, Q2_STABLE],
    ),
]

# -- Question 3: gd_iterates and lr_range ----------------------------------------------------------------------

Q3 = "q3_gd_iterates"
Q3_RANGE = "q3_lr_range"
Q3_TESTS, Q3_RANGE_TESTS = "q3_gd_iterates_tests", "q3_lr_range_tests"

q3_variants = [
    Correct(
        Q3,
        "a list of floats, converted",
        """
def gd_iterates(x0, eta, n):
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] - 10 * eta * xs[-1])
    return np.array(xs, dtype=float)
""",
    ),
    Correct(
        Q3,
        "a list converted without a dtype (an int array for x0=3, n=0)",
        """
def gd_iterates(x0, eta, n):
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] - eta * 10 * xs[-1])
    return np.array(xs)
""",
    ),
    Correct(
        Q3,
        "closed form x0 (1 - 10 eta)^k",
        """
def gd_iterates(x0, eta, n):
    return x0 * (1 - 10 * eta) ** np.arange(n + 1)
""",
    ),
    Correct(
        Q3,
        "a plain list, a helper for f', printing",
        """
def f_prime(x):
    return 10 * x


def gd_iterates(x0, eta, n):
    x, out = x0, [x0]
    for k in range(n):
        x = x - eta * f_prime(x)
        out.append(x)
    print(f"{n} steps, last iterate {x}")
    return out
""",
    ),
    Correct(
        Q3,
        "a tuple from a while loop",
        """
def gd_iterates(x0, eta, n):
    xs, k = (float(x0),), 0
    while k < n:
        xs += (xs[-1] * (1 - 10 * eta),)
        k += 1
    return xs
""",
    ),
    Wrong(Q3, "f'(x) = 5x", key(Q3).swap("eta * 10.0 * x[k]", "eta * 5.0 * x[k]"), loses=[Q3_TESTS]),
    Wrong(Q3, "gradient ascent (sign)", key(Q3).swap("x[k] - eta", "x[k] + eta"), loses=[Q3_TESTS]),
    Wrong(
        Q3,
        "n iterates, x0 left out",
        """
def gd_iterates(x0, eta, n):
    xs, x = [], x0
    for _ in range(n):
        x = x - eta * 10 * x
        xs.append(x)
    return np.array(xs)
""",
        loses=[Q3_TESTS],
    ),
    Wrong(
        Q3,
        "n + 2 iterates (off by one)",
        """
def gd_iterates(x0, eta, n):
    xs = [float(x0)]
    for _ in range(n + 1):
        xs.append(xs[-1] - eta * 10 * xs[-1])
    return np.array(xs)
""",
        loses=[Q3_TESTS],
    ),
    Wrong(
        Q3,
        "an int array for an int x0 (iterates truncated)",
        """
def gd_iterates(x0, eta, n):
    x = np.full(n + 1, x0)
    for k in range(n):
        x[k + 1] = x[k] - eta * 10 * x[k]
    return x
""",
        loses=[Q3_TESTS],
    ),
    Correct(Q3_RANGE, "ints in a tuple", "lr_range = (0, 0.2)"),
    Correct(Q3_RANGE, "a list from f''", "f_second = 10\nlr_range = [0.0, 2 / f_second]"),
    Correct(Q3_RANGE, "a numpy array, printed", "lr_range = np.array([0, 1 / 5])\nprint(lr_range)"),
    Wrong(Q3_RANGE, "upper end 1/f'' (monotone regime only)", "lr_range = (0.0, 0.1)", loses=[Q3_RANGE_TESTS]),
    Wrong(Q3_RANGE, "upper end 2/5 (f'' taken as 5)", "lr_range = (0.0, 0.4)", loses=[Q3_RANGE_TESTS]),
    Wrong(Q3_RANGE, "symmetric interval", "lr_range = (-0.2, 0.2)", loses=[Q3_RANGE_TESTS]),
    Wrong(Q3_RANGE, "upper end rounded down", "lr_range = (0.0, 0.199)", loses=[Q3_RANGE_TESTS]),
]

VARIANTS = q1_variants + q2_variants + q3_variants
