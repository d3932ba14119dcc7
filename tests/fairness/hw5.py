"""Fairness corpus of hw5: answers a class would write, for every autograded answer cell.

Wrong answers name the one test cell they must lose (`loses`); where a function is used by a later one (the
backward pass by the training loop, `grad_f` by `gd_step_f`), its wrong answers are also judged by the later
function's tests, to prove that one mistake costs points once. Each way around the rule "gradients by hand"
is judged by the problem's rule cell.
"""

from fairness import Correct, Wrong, key

P1_MLP = ["p1_forward_tests", "p1_mlp_tests"]
P1_MLP_AND_TRAIN = [*P1_MLP, "p1_symmetry_tests"]
P1_RULE = "p1_no_autodiff_tests"
P2_RULE = "p2_no_autodiff_tests"

# -- Problem 1: mlp_forward and mlp_backward ----------------------------------------------------------------------

MLP_LOOPS = """
import math


def sig(s):
    return 1.0 / (1.0 + math.exp(-s))


def mlp_forward(W1, b1, W2, b2, X):
    N, d0 = X.shape
    d1, d2 = W2.shape
    X1 = np.zeros((N, d1))
    X2 = np.zeros((N, d2))
    for n in range(N):
        for j in range(d1):
            X1[n, j] = sig(sum(W1[i, j] * X[n, i] for i in range(d0)) + b1[j])
        for k in range(d2):
            X2[n, k] = sig(sum(W2[j, k] * X1[n, j] for j in range(d1)) + b2[k])
    return (X1, X2)


def mlp_backward(W1, b1, W2, b2, X, Y):
    N, d0 = X.shape
    d1, d2 = W2.shape
    X1, X2 = mlp_forward(W1, b1, W2, b2, X)
    g = {"W1": np.zeros((d0, d1)), "b1": np.zeros(d1), "W2": np.zeros((d1, d2)), "b2": np.zeros(d2)}
    delta1, delta2 = np.zeros((N, d1)), np.zeros((N, d2))
    for n in range(N):
        for k in range(d2):
            delta2[n, k] = (X2[n, k] - Y[n, k]) * X2[n, k] * (1 - X2[n, k])
        for j in range(d1):
            back = sum(W2[j, k] * delta2[n, k] for k in range(d2))
            delta1[n, j] = back * X1[n, j] * (1 - X1[n, j])
        g["W1"] += np.outer(X[n], delta1[n]) / N
        g["b1"] += delta1[n] / N
        g["W2"] += np.outer(X1[n], delta2[n]) / N
        g["b2"] += delta2[n] / N
    g["delta1"], g["delta2"] = delta1, delta2
    return g
"""

MLP_FLOAT32 = """
def mlp_forward(W1, b1, W2, b2, X):
    f = np.float32
    S1 = X.astype(f) @ W1.astype(f) + b1.astype(f)
    X1 = (1 / (1 + np.exp(-S1))).astype(f)
    X2 = (1 / (1 + np.exp(-(X1 @ W2.astype(f) + b2.astype(f))))).astype(f)
    return X1, X2


def mlp_backward(W1, b1, W2, b2, X, Y):
    f = np.float32
    X, Y, W2 = X.astype(f), Y.astype(f), W2.astype(f)
    X1, X2 = mlp_forward(W1, b1, W2, b2, X)
    d2 = (X2 - Y) * X2 * (1 - X2)
    d1 = (d2 @ W2.T) * X1 * (1 - X1)
    n = f(len(X))
    return {"W1": X.T @ d1 / n, "b1": d1.sum(0) / n, "W2": X1.T @ d2 / n,
            "b2": d2.sum(0) / n, "delta1": d1, "delta2": d2}
"""

MLP_TORCH = """
def mlp_forward(W1, b1, W2, b2, X):
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)
    H = torch.sigmoid(t(X) @ t(W1) + t(b1))
    return H, torch.sigmoid(H @ t(W2) + t(b2))


def mlp_backward(W1, b1, W2, b2, X, Y):
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)
    H, O = mlp_forward(W1, b1, W2, b2, X)
    d2 = (O - t(Y)) * O * (1 - O)
    d1 = (d2 @ t(W2).T) * H * (1 - H)
    return {
        "W1": t(X).T @ d1 / len(X),
        "b1": d1.mean(0),
        "W2": H.T @ d2 / len(X),
        "b2": d2.mean(0),
        "delta1": d1,
        "delta2": d2,
    }
"""

MLP_LISTS_EXTRA_KEYS = """
import sys
import warnings


def mlp_forward(W1, b1, W2, b2, X):
    hidden = sigmoid(X @ W1 + b1)
    return [hidden, sigmoid(hidden @ W2 + b2)]


def sigmoid_prime(S):
    return sigmoid(S) * (1 - sigmoid(S))


def mlp_backward(W1, b1, W2, b2, X, Y):
    warnings.warn("this helper is old", DeprecationWarning)
    print("shapes:", X.shape, Y.shape, file=sys.stderr)
    S1 = X @ W1 + b1
    X1 = sigmoid(S1)
    S2 = X1 @ W2 + b2
    delta2 = (sigmoid(S2) - Y) * sigmoid_prime(S2)
    delta1 = np.einsum("nk,jk->nj", delta2, W2) * sigmoid_prime(S1)
    N = len(X)
    return {
        "W1": np.einsum("ni,nj->ij", X, delta1) / N,
        "b1": delta1.sum(axis=0, keepdims=True) / N,  # shape (1, d1)
        "W2": np.einsum("nj,nk->jk", X1, delta2) / N,
        "b2": list(delta2.mean(axis=0)),
        "delta1": delta1,
        "delta2": delta2,
        "loss": 0.5 * np.mean(np.sum((sigmoid(S2) - Y) ** 2, axis=1)),
    }
"""

MLP_AUTOGRAD = """
from torch.autograd import grad


def mlp_forward(W1, b1, W2, b2, X):
    X1 = sigmoid(X @ W1 + b1)
    return X1, sigmoid(X1 @ W2 + b2)


def mlp_backward(W1, b1, W2, b2, X, Y):
    P = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    S1 = torch.tensor(X) @ P[0] + P[1]
    S2 = torch.sigmoid(S1) @ P[2] + P[3]
    per_sample = 0.5 * ((torch.sigmoid(S2) - torch.tensor(Y)) ** 2).sum(dim=1)
    g = grad(per_sample.mean(), P, retain_graph=True)
    d1, d2 = grad(per_sample.sum(), [S1, S2])
    names = ["W1", "b1", "W2", "b2", "delta1", "delta2"]
    return dict(zip(names, [v.numpy() for v in (*g, d1, d2)]))
"""

MLP_DEFAULT_ARG = key("p1_mlp").swap(
    "def mlp_backward(W1, b1, W2, b2, X, Y):",
    "def mlp_backward(W1, b1, W2, b2, X, Y, _check=torch.func.grad):",
)

MLP = [
    Correct("p1_mlp", "loops over samples and units, math.exp", MLP_LOOPS),
    Correct("p1_mlp", "float32 throughout", MLP_FLOAT32, tests=P1_MLP_AND_TRAIN),
    Correct("p1_mlp", "PyTorch tensors by hand", MLP_TORCH),
    Correct(
        "p1_mlp",
        "a list, einsum, keepdims bias, extra key, DeprecationWarning and stderr",
        MLP_LISTS_EXTRA_KEYS,
    ),
    Wrong(
        "p1_mlp",
        "forward forgets b2",
        key("p1_mlp").swap("X2 = sigmoid(X1 @ W2 + b2)", "X2 = sigmoid(X1 @ W2)"),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_forward_tests"],
    ),
    Wrong(
        "p1_mlp",
        "forward: tanh in the hidden layer (backward reuses the forward)",
        key("p1_mlp").swap("X1 = sigmoid(X @ W1 + b1)", "X1 = np.tanh(X @ W1 + b1)"),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_forward_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: gradients of the sum, not the mean (no 1/N)",
        key("p1_mlp")
        .swap('"W1": X.T @ delta1 / N', '"W1": X.T @ delta1')
        .swap('"b1": delta1.mean(axis=0)', '"b1": delta1.sum(axis=0)')
        .swap('"W2": X1.T @ delta2 / N', '"W2": X1.T @ delta2')
        .swap('"b2": delta2.mean(axis=0)', '"b2": delta2.sum(axis=0)'),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: only W1 lacks 1/N",
        key("p1_mlp").swap('"W1": X.T @ delta1 / N', '"W1": X.T @ delta1'),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: sign, y - x2",
        key("p1_mlp").swap("delta2 = (X2 - Y)", "delta2 = (Y - X2)"),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: factor 2 (the 1/2 of the loss forgotten)",
        key("p1_mlp").swap("delta2 = (X2 - Y)", "delta2 = 2 * (X2 - Y)"),
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: deltas of L (divided by N), not of the per-sample loss",
        key("p1_mlp")
        .swap('"delta1": delta1,', '"delta1": delta1 / N,')
        .swap('"delta2": delta2,', '"delta2": delta2 / N,'),
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: g'(S1) forgotten in delta1",
        key("p1_mlp").swap("(delta2 @ W2.T) * X1 * (1.0 - X1)", "(delta2 @ W2.T)"),
        tests=P1_MLP_AND_TRAIN,
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "backward: b1 averaged over the wrong axis",
        key("p1_mlp").swap('"b1": delta1.mean(axis=0)', '"b1": delta1.mean(axis=1)'),
        loses=["p1_mlp_tests"],
    ),
    Wrong(
        "p1_mlp",
        "rule: torch.autograd.grad imported by name",
        MLP_AUTOGRAD,
        tests=[*P1_MLP, P1_RULE],
        loses=[P1_RULE],
    ),
    Wrong(
        "p1_mlp",
        "rule: torch.func in a default argument",
        MLP_DEFAULT_ARG,
        tests=[*P1_MLP, P1_RULE],
        loses=[P1_RULE],
    ),
]

# -- Problem 1: train_mlp -----------------------------------------------------------------------------------------

TRAIN_IN_PLACE = """
def train_mlp(params, X, Y, lr, steps):
    def L():
        out = mlp_forward(params["W1"], params["b1"], params["W2"], params["b2"], X)[1]
        return float(np.mean(np.sum((out - Y) ** 2, axis=1)) / 2)

    losses = []
    for step in range(steps):
        losses.append(L())
        g = mlp_backward(params["W1"], params["b1"], params["W2"], params["b2"], X, Y)
        for name in ["W1", "b1", "W2", "b2"]:
            params[name] -= lr * g[name]
    losses.append(L())
    return params, losses
"""

TRAIN_INLINE = """
def train_mlp(params, X, Y, lr, steps):
    W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    N = len(X)
    losses = np.zeros(steps + 1)
    for t in range(steps + 1):
        H = 1 / (1 + np.exp(-(X @ W1 + b1)))
        O = 1 / (1 + np.exp(-(H @ W2 + b2)))
        losses[t] = ((O - Y) ** 2).sum() / (2 * N)
        if t == steps:
            break
        d2 = (O - Y) * O * (1 - O) / N
        d1 = d2 @ W2.T * H * (1 - H)
        W1, b1, W2, b2 = W1 - lr * X.T @ d1, b1 - lr * d1.sum(0), W2 - lr * H.T @ d2, b2 - lr * d2.sum(0)
        if t % 10 == 0:
            print(f"step {t}: loss {losses[t]:.4f}")
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, losses
"""

TRAIN_FLOAT32 = """
def train_mlp(params, X, Y, lr, steps):
    f = np.float32
    p = {k: np.asarray(v, dtype=f) for k, v in params.items()}
    X, Y = X.astype(f), Y.astype(f)

    def sig(z):
        return (1 / (1 + np.exp(-z))).astype(f)

    def loss_and_grads(p):
        H = sig(X @ p["W1"] + p["b1"])
        O = sig(H @ p["W2"] + p["b2"])
        d2 = (O - Y) * O * (1 - O) / f(len(X))
        d1 = d2 @ p["W2"].T * H * (1 - H)
        grads = {"W1": X.T @ d1, "b1": d1.sum(0), "W2": H.T @ d2, "b2": d2.sum(0)}
        return f(0.5) * np.mean(np.sum((O - Y) ** 2, axis=1)), grads

    losses = []
    for _ in range(steps):
        L, g = loss_and_grads(p)
        losses.append(L)
        p = {k: (p[k] - f(lr) * g[k]).astype(f) for k in p}
    losses.append(loss_and_grads(p)[0])
    return p, np.array(losses, dtype=f)
"""

TRAIN_HELPER_WARNING = """
import warnings


def gd_step(p, X, Y, lr):
    g = mlp_backward(p["W1"], p["b1"], p["W2"], p["b2"], X, Y)
    return {k: v - lr * np.asarray(g[k]).reshape(v.shape) for k, v in p.items()}


def batch_loss(p, X, Y):
    X2 = mlp_forward(p["W1"], p["b1"], p["W2"], p["b2"], X)[1]
    return 0.5 * ((X2 - Y) ** 2).sum(axis=1).mean()


def train_mlp(params, X, Y, lr, steps):
    warnings.warn("np.float is deprecated", DeprecationWarning)
    path = [dict(params)]
    for _ in range(steps):
        path.append(gd_step(path[-1], X, Y, lr))
    return path[-1], np.array([batch_loss(p, X, Y) for p in path])
"""

TRAIN_AUTOGRAD = """
def train_mlp(params, X, Y, lr, steps):
    names = ("W1", "b1", "W2", "b2")
    P = [torch.tensor(params[k], requires_grad=True) for k in names]
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    losses = []
    for t in range(steps + 1):
        out = torch.sigmoid(torch.sigmoid(Xt @ P[0] + P[1]) @ P[2] + P[3])
        L = 0.5 * ((out - Yt) ** 2).sum(dim=1).mean()
        losses.append(L.item())
        if t < steps:
            L.backward()
            with torch.no_grad():
                for q in P:
                    q -= lr * q.grad
                    q.grad.zero_()
    return {k: q.detach().numpy() for k, q in zip(names, P)}, losses
"""

TRAIN = [
    Correct("p1_train", "updates params in place, losses as a list of floats", TRAIN_IN_PLACE),
    Correct("p1_train", "backpropagation inline, prints progress", TRAIN_INLINE),
    Correct("p1_train", "float32 throughout", TRAIN_FLOAT32),
    Correct("p1_train", "helper functions, DeprecationWarning", TRAIN_HELPER_WARNING),
    Wrong(
        "p1_train",
        "one step too many",
        key("p1_train").swap("for _ in range(steps):", "for _ in range(steps + 1):"),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "losses lack the starting value",
        key("p1_train").swap("losses = [loss(p)]", "losses = []"),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "gradient ascent",
        key("p1_train").swap("p[k] - lr * grads[k]", "p[k] + lr * grads[k]"),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "the gradient divided by N a second time",
        key("p1_train").swap("p[k] - lr * grads[k]", "p[k] - lr * grads[k] / len(X)"),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "one parameter at a time, each gradient after the previous update",
        key("p1_train").swap(
            """        grads = mlp_backward(*(p[k] for k in names), X, Y)
        p = {k: p[k] - lr * grads[k] for k in names}""",
            """        for k in names:
            grads = mlp_backward(*(p[n] for n in names), X, Y)
            p[k] = p[k] - lr * grads[k]""",
        ),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "losses summed over the samples",
        key("p1_train").swap("return 0.5 * np.mean(", "return 0.5 * np.sum("),
        loses=["p1_symmetry_tests"],
    ),
    Wrong(
        "p1_train",
        "rule: autograd and .backward()",
        TRAIN_AUTOGRAD,
        tests=["p1_symmetry_tests", P1_RULE],
        loses=[P1_RULE],
    ),
    Wrong(
        "p1_train",
        "rule: gradients of mlp_backward replaced by torch.autograd reached through a class",
        """
class Tools:
    ag = torch.autograd


def train_mlp(params, X, Y, lr, steps):
    names = ("W1", "b1", "W2", "b2")
    P = [torch.tensor(params[k], requires_grad=True) for k in names]
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    def L(P):
        out = torch.sigmoid(torch.sigmoid(Xt @ P[0] + P[1]) @ P[2] + P[3])
        return 0.5 * ((out - Yt) ** 2).sum(dim=1).mean()

    losses = [L(P).item()]
    for _ in range(steps):
        g = Tools.ag.grad(L(P), P)
        P = [(q - lr * gq).detach().requires_grad_(True) for q, gq in zip(P, g)]
        losses.append(L(P).item())
    return {k: q.detach().numpy() for k, q in zip(names, P)}, np.array(losses)
""",
        tests=["p1_symmetry_tests", P1_RULE],
        loses=[P1_RULE],
    ),
]

# -- Problem 1: train_logreg --------------------------------------------------------------------------------------

LOGREG_NAIVE_LOOPS = """
def train_logreg(X, y, lr, steps, w0=None, b0=None):
    N, d = X.shape
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=float)
    b = 0.0 if b0 is None else b0

    def loss(w, b):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    losses = [loss(w, b)]
    for _ in range(steps):
        gw, gb = np.zeros(d), 0.0
        for n in range(N):
            err = 1 / (1 + np.exp(-(X[n] @ w + b))) - y[n]
            gw += err * X[n] / N
            gb += err / N
        w = w - lr * gw
        b = b - lr * gb
        losses.append(loss(w, b))
    return w, b, losses
"""

LOGREG_COLUMN = """
def train_logreg(X, y, lr, steps, w0=None, b0=None):
    N, d = X.shape
    w = np.zeros((d, 1)) if w0 is None else np.reshape(w0, (d, 1)).astype(float)
    b = np.zeros(1) if b0 is None else np.array([b0], dtype=float)
    yc = y.reshape(-1, 1)
    losses = []
    for t in range(steps + 1):
        z = X @ w + b
        losses.append(float(np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - yc * z)))
        if t < steps:
            r = sigmoid(z) - yc
            w -= lr * (X.T @ r) / N
            b -= lr * r.mean(axis=0)
    return w.ravel(), b, np.array(losses)
"""

LOGREG_FLOAT32 = """
def train_logreg(X, y, lr, steps, w0=None, b0=None):
    f = np.float32
    X, y = X.astype(f), y.astype(f)
    w = np.zeros(X.shape[1], dtype=f) if w0 is None else np.asarray(w0, dtype=f)
    b = f(0) if b0 is None else f(b0)
    losses = []
    for t in range(steps + 1):
        z = X @ w + b
        losses.append(np.mean(np.logaddexp(f(0), z) - y * z).astype(f))
        if t == steps:
            break
        r = (1 / (1 + np.exp(-z))).astype(f) - y
        w = (w - f(lr) * (X.T @ r) / f(len(y))).astype(f)
        b = f(b - f(lr) * r.mean())
    return w, b, np.array(losses, dtype=f)
"""

LOGREG_TORCH = """
def train_logreg(X, y, lr, steps, w0=None, b0=None):
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64) if w0 is None else torch.tensor(w0, dtype=torch.float64)
    b = torch.tensor(0.0 if b0 is None else b0, dtype=torch.float64)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    losses = [bce(X @ w + b, y).item()]
    for _ in range(steps):
        r = torch.sigmoid(X @ w + b) - y
        w, b = w - lr * X.T @ r / len(y), b - lr * r.mean()
        losses.append(bce(X @ w + b, y).item())
    print("final loss", losses[-1])
    return w, b, torch.tensor(losses)
"""

LOGREG = [
    Correct("p1_logreg", "naive log-loss, a loop over samples, losses as a list", LOGREG_NAIVE_LOOPS),
    Correct("p1_logreg", "w as a column, b as an array of one value, in-place updates", LOGREG_COLUMN),
    Correct("p1_logreg", "float32 throughout", LOGREG_FLOAT32),
    Correct("p1_logreg", "PyTorch tensors by hand, prints the final loss", LOGREG_TORCH),
    Wrong(
        "p1_logreg",
        "gradient of the summed loss (N times too large)",
        key("p1_logreg").swap("w - lr * X.T @ r / N, b - lr * r.mean()", "w - lr * X.T @ r, b - lr * r.sum()"),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "the bias is never updated",
        key("p1_logreg").swap("b - lr * r.mean()", "b"),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "ignores w0 and b0",
        key("p1_logreg")
        .swap("w = np.zeros(d) if w0 is None else np.array(w0, dtype=float, copy=True)", "w = np.zeros(d)")
        .swap("b = 0.0 if b0 is None else float(b0)", "b = 0.0"),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "sign: y - p",
        key("p1_logreg").swap("r = sigmoid(X @ w + b) - y", "r = y - sigmoid(X @ w + b)"),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "gradient of the squared error instead of the cross-entropy",
        key("p1_logreg").swap(
            "r = sigmoid(X @ w + b) - y",
            "p = sigmoid(X @ w + b)\n        r = (p - y) * p * (1 - p)",
        ),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "losses lack the starting value",
        key("p1_logreg").swap("losses = [loss(w, b)]", "losses = []"),
        loses=["p1_logreg_tests"],
    ),
    Wrong(
        "p1_logreg",
        "rule: requires_grad and .backward() under torch.enable_grad()",
        """
def train_logreg(X, y, lr, steps, w0=None, b0=None):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    theta = torch.zeros(X.shape[1] + 1, dtype=torch.float64)
    if w0 is not None:
        theta = torch.tensor(np.append(w0, b0), dtype=torch.float64)
    losses = []
    with torch.enable_grad():
        for t in range(steps + 1):
            theta.requires_grad_(True)
            L = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ theta[:-1] + theta[-1], yt)
            losses.append(L.item())
            if t < steps:
                L.backward()
                theta = (theta - lr * theta.grad).detach()
    theta = theta.detach().numpy()
    return theta[:-1], theta[-1], np.array(losses)
""",
        loses=[P1_RULE],
    ),
    Wrong(
        "p1_logreg",
        "rule: torch.func.grad kept in a dict",
        """
TOOLS = {"grad": torch.func.grad}


def train_logreg(X, y, lr, steps, w0=None, b0=None):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    if w0 is None:
        theta = torch.zeros(X.shape[1] + 1, dtype=torch.float64)
    else:
        theta = torch.tensor(np.append(w0, b0), dtype=torch.float64)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    loss = lambda th: bce(Xt @ th[:-1] + th[-1], yt)
    dloss = TOOLS["grad"](loss)
    losses = [loss(theta).item()]
    for _ in range(steps):
        theta = theta - lr * dloss(theta)
        losses.append(loss(theta).item())
    theta = theta.numpy()
    return theta[:-1], theta[-1], np.array(losses)
""",
        loses=[P1_RULE],
    ),
]

# -- Problem 2: grad_f --------------------------------------------------------------------------------------------

GRAD_F_ROWS = """
def grad_f(W, b, x, y):
    n, d = W.shape
    a = [torch.sigmoid(W[i] @ x + b[i]) for i in range(n)]
    r = y - sum(a)
    dW = torch.zeros(n, d, dtype=torch.float64)
    db = torch.zeros(n, dtype=torch.float64)
    for i in range(n):
        db[i] = -2 * r * a[i] * (1 - a[i])
        dW[i] = db[i] * x
    return dW, db
"""

GRAD_F_NUMPY_LIST = """
def grad_f(W, b, x, y):
    W, b, x = W.numpy(), b.numpy(), x.numpy()
    y = float(y)
    s = 1.0 / (1.0 + np.exp(-(W @ x + b)))
    delta = 2.0 * (s.sum() - y) * s * (1.0 - s)
    return [np.einsum("i,j->ij", delta, x), delta]
"""

GRAD_F_FLOAT32 = """
import sys


def grad_f(W, b, x, y):
    print("grad_f called", file=sys.stderr)
    W, b, x = W.float(), b.float(), x.float()
    y = torch.as_tensor(y, dtype=torch.float32)
    s = torch.sigmoid(W @ x + b)
    db = 2 * (s.sum() - y) * s * (1 - s)
    return db[:, None] * x[None, :], db
"""

GRAD_F_WARNING = """
import warnings


def sigma(z):
    return 1 / (1 + torch.exp(-z))


def grad_f(W, b, x, y):
    warnings.warn("torch.ger is deprecated", DeprecationWarning)
    z = W @ x + b
    residual = y - sigma(z).sum()
    dfdz = -2 * residual * sigma(z) * sigma(-z)  # sigma' = sigma(z) sigma(-z)
    print("residual", float(residual))
    return (dfdz.unsqueeze(1) @ x.unsqueeze(0), dfdz)
"""

GRAD_F = [
    Correct("p2_grad_f", "a loop over the rows", GRAD_F_ROWS),
    Correct("p2_grad_f", "NumPy arrays in a list, einsum", GRAD_F_NUMPY_LIST),
    Correct("p2_grad_f", "float32 results, stderr", GRAD_F_FLOAT32),
    Correct("p2_grad_f", "sigma(z) sigma(-z), a tuple built by matmul, DeprecationWarning", GRAD_F_WARNING),
    Wrong(
        "p2_grad_f",
        "factor 2 of the square forgotten",
        key("p2_grad_f").swap("delta = -2.0 * r", "delta = -r"),
        tests=["p2_grad_f_tests", "p2_gd_step_f_tests"],
        loses=["p2_grad_f_tests"],
    ),
    Wrong(
        "p2_grad_f",
        "sign: +2 r",
        key("p2_grad_f").swap("delta = -2.0 * r", "delta = 2.0 * r"),
        tests=["p2_grad_f_tests", "p2_gd_step_f_tests"],
        loses=["p2_grad_f_tests"],
    ),
    Wrong(
        "p2_grad_f",
        "dW transposed",
        key("p2_grad_f").swap("torch.outer(delta, x)", "torch.outer(x, delta)"),
        loses=["p2_grad_f_tests"],
    ),
    Wrong(
        "p2_grad_f",
        "the residual uses the mean of the sigmoids",
        key("p2_grad_f").swap("r = y - s.sum()", "r = y - s.mean()"),
        loses=["p2_grad_f_tests"],
    ),
    Wrong(
        "p2_grad_f",
        "sigma'(z) taken as sigma(z)",
        key("p2_grad_f").swap("delta = -2.0 * r * s * (1.0 - s)", "delta = -2.0 * r * s"),
        loses=["p2_grad_f_tests"],
    ),
    Wrong(
        "p2_grad_f",
        "rule: torch.func.jacfwd kept in a dict",
        """
OPS = {"jac": torch.func.jacfwd}


def grad_f(W, b, x, y):
    f = lambda W, b: (y - torch.sigmoid(W @ x + b).sum()) ** 2
    return OPS["jac"](f, argnums=(0, 1))(W, b)
""",
        tests=["p2_grad_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_grad_f",
        "rule: torch.autograd.grad as a default argument",
        """
def grad_f(W, b, x, y, _grad=torch.autograd.grad):
    W, b = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    f = (y - torch.sigmoid(W @ x + b).sum()) ** 2
    return _grad(f, [W, b])
""",
        tests=["p2_grad_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_grad_f",
        "rule: torch.autograd reached by getattr",
        """
def grad_f(W, b, x, y):
    ag = getattr(torch, "autograd")
    W, b = W.clone(), b.clone()
    W.requires_grad = True
    b.requires_grad = True
    return tuple(ag.grad((y - torch.sigmoid(W @ x + b).sum()) ** 2, [W, b]))
""",
        tests=["p2_grad_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_grad_f",
        "rule: torch.func.jvp, one direction per entry",
        """
from torch.func import jvp


def grad_f(W, b, x, y):
    f = lambda W, b: (y - torch.sigmoid(W @ x + b).sum()) ** 2
    dW = torch.zeros_like(W)
    db = torch.zeros_like(b)
    for idx in np.ndindex(*W.shape):
        E = torch.zeros_like(W)
        E[idx] = 1.0
        dW[idx] = jvp(lambda W: f(W, b), (W,), (E,))[1]
    for i in range(b.shape[0]):
        e = torch.zeros_like(b)
        e[i] = 1.0
        db[i] = jvp(lambda b: f(W, b), (b,), (e,))[1]
    return dW, db
""",
        tests=["p2_grad_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
]

# -- Problem 2: gd_step_f -----------------------------------------------------------------------------------------

GD_STEP_F = [
    Correct(
        "p2_gd_step_f",
        "the derivative inline, a list",
        """
def gd_step_f(W, b, x, y, eta):
    s = torch.sigmoid(W @ x + b)
    g = 2 * (y - s.sum()) * s * (1 - s)
    return [W + eta * torch.outer(g, x), b + eta * g]
""",
    ),
    Correct(
        "p2_gd_step_f",
        "in place on the inputs",
        """
def gd_step_f(W, b, x, y, eta):
    dW, db = grad_f(W, b, x, y)
    W -= eta * dW
    b -= eta * db
    return W, b
""",
    ),
    Correct(
        "p2_gd_step_f",
        "NumPy arrays",
        """
def gd_step_f(W, b, x, y, eta):
    dW, db = grad_f(W, b, x, y)
    return W.numpy() - eta * np.asarray(dW), b.numpy() - eta * np.asarray(db)
""",
    ),
    Correct(
        "p2_gd_step_f",
        "float32 results, prints",
        """
def gd_step_f(W, b, x, y, eta):
    dW, db = grad_f(W, b, x, y)
    print("step size", eta)
    return (W - eta * dW).float(), (b - eta * db).float()
""",
    ),
    Wrong(
        "p2_gd_step_f",
        "gradient ascent",
        key("p2_gd_step_f").swap("return W - eta * dW, b - eta * db", "return W + eta * dW, b + eta * db"),
        loses=["p2_gd_step_f_tests"],
    ),
    Wrong(
        "p2_gd_step_f",
        "half a step",
        key("p2_gd_step_f").swap("return W - eta * dW, b - eta * db", "return W - eta / 2 * dW, b - eta / 2 * db"),
        loses=["p2_gd_step_f_tests"],
    ),
    Wrong(
        "p2_gd_step_f",
        "the bias is not updated",
        key("p2_gd_step_f").swap("return W - eta * dW, b - eta * db", "return W - eta * dW, b"),
        loses=["p2_gd_step_f_tests"],
    ),
    Wrong(
        "p2_gd_step_f",
        "b's gradient taken after W moved",
        """
def gd_step_f(W, b, x, y, eta):
    dW, _ = grad_f(W, b, x, y)
    W_next = W - eta * dW
    _, db = grad_f(W_next, b, x, y)
    return W_next, b - eta * db
""",
        loses=["p2_gd_step_f_tests"],
    ),
    Wrong(
        "p2_gd_step_f",
        "rule: .backward() under torch.enable_grad()",
        """
def gd_step_f(W, b, x, y, eta):
    with torch.enable_grad():
        W, b = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
        ((y - torch.sigmoid(W @ x + b).sum()) ** 2).backward()
    return (W - eta * W.grad).detach(), (b - eta * b.grad).detach()
""",
        tests=["p2_gd_step_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_gd_step_f",
        "rule: getattr with a computed name (undecidable: flagged for a TA, 0 points until then)",
        """
def gd_step_f(W, b, x, y, eta):
    module = getattr(torch, "fu" + "nc")
    derivative = getattr(module, "gr" + "ad")
    f = lambda W, b: (y - torch.sigmoid(W @ x + b).sum()) ** 2
    gW, gb = derivative(f, argnums=(0, 1))(W, b)
    return W - eta * gW, b - eta * gb
""",
        tests=["p2_gd_step_f_tests", P2_RULE],
        loses=[P2_RULE],
    ),
]

# -- Problem 2: two_layer_grads -----------------------------------------------------------------------------------

TWO_LAYER_LOOPS = """
def two_layer_grads(W1, W2, b, x, y, Phi, dPhi):
    d = x.shape[0]
    z = W1 @ x + b
    h = Phi(z)
    J = dPhi(z)
    r = W2 @ h - y
    gW2 = torch.zeros(d, d)  # float32, the default dtype
    g_h = torch.zeros(d)
    for p in range(d):
        for q in range(d):
            gW2[p, q] = r[p] * h[q]
            g_h[q] += W2[p, q] * r[p]
    delta = torch.zeros(d)
    for k in range(d):
        for i in range(d):
            delta[k] += g_h[i] * J[i, k]
    gW1 = torch.zeros(d, d)
    gx = torch.zeros(d)
    for i in range(d):
        for j in range(d):
            gW1[i, j] = delta[i] * x[j]
            gx[j] += W1[i, j] * delta[i]
    return {"x": gx, "W1": gW1, "W2": gW2, "b": delta}
"""

TWO_LAYER_ROW_VECTOR = """
def two_layer_grads(W1, W2, b, x, y, Phi, dPhi):
    z = W1 @ x + b
    r = W2 @ Phi(z) - y
    delta = (r @ W2) @ dPhi(z)  # the row vector r^T W2 J
    grads = {"W2": r[:, None] * Phi(z)[None, :], "b": delta, "W1": delta[:, None] * x[None, :]}
    grads["x"] = delta @ W1
    grads["loss"] = 0.5 * (r**2).sum()
    print({k: tuple(v.shape) for k, v in grads.items()})
    return grads
"""

TWO_LAYER_NUMPY = """
import warnings


def two_layer_grads(W1, W2, b, x, y, Phi, dPhi):
    warnings.warn("returning NumPy arrays", DeprecationWarning)
    z = W1 @ x + b
    h, J = Phi(z).numpy(), dPhi(z).numpy()
    W1, W2, x, y = W1.numpy(), W2.numpy(), x.numpy(), y.numpy()
    r = W2 @ h - y
    delta = np.einsum("ik,i->k", J, W2.T @ r)
    return {"x": W1.T @ delta, "W1": np.outer(delta, x), "W2": np.outer(r, h), "b": delta}
"""

TWO_LAYER_W2_AUTOGRAD = """
def two_layer_grads(W1, W2, b, x, y, Phi, dPhi):
    z = W1 @ x + b
    h = Phi(z)
    V = W2.clone().requires_grad_(True)
    r = V @ h - y
    (gW2,) = torch.autograd.grad(0.5 * (r**2).sum(), [V])  # autograd for W2 only
    r = r.detach()
    delta = dPhi(z).T @ (W2.T @ r)
    return {"x": W1.T @ delta, "W1": torch.outer(delta, x), "W2": gW2, "b": delta}
"""

TWO_LAYER_FORWARD_AD = """
import torch.autograd.forward_ad as fwAD


def two_layer_grads(W1, W2, b, x, y, Phi, dPhi):
    z = W1 @ x + b
    h = Phi(z)
    gW2 = torch.zeros_like(W2)
    for idx in np.ndindex(*W2.shape):
        E = torch.zeros_like(W2)
        E[idx] = 1.0
        with fwAD.dual_level():
            V = fwAD.make_dual(W2, E)
            loss = 0.5 * ((V @ h - y) ** 2).sum()
            gW2[idx] = fwAD.unpack_dual(loss).tangent
    r = W2 @ h - y
    delta = dPhi(z).T @ (W2.T @ r)
    return {"x": W1.T @ delta, "W1": torch.outer(delta, x), "W2": gW2, "b": delta}
"""

TWO_LAYER = [
    Correct("p2_two_layer", "loops over the entries, float32 buffers", TWO_LAYER_LOOPS),
    Correct("p2_two_layer", "row vectors r^T W2 J, extra key, prints", TWO_LAYER_ROW_VECTOR),
    Correct("p2_two_layer", "NumPy arrays, einsum, DeprecationWarning", TWO_LAYER_NUMPY),
    Wrong(
        "p2_two_layer",
        "J instead of its transpose",
        key("p2_two_layer").swap("delta = dPhi(z).T @ (W2.T @ r)", "delta = dPhi(z) @ (W2.T @ r)"),
        loses=["p2_two_layer_tests"],
    ),
    Wrong(
        "p2_two_layer",
        "dl/dW2 transposed",
        key("p2_two_layer").swap('"W2": torch.outer(r, h)', '"W2": torch.outer(h, r)'),
        loses=["p2_two_layer_tests"],
    ),
    Wrong(
        "p2_two_layer",
        "factor 2 (the 1/2 forgotten)",
        key("p2_two_layer").swap("r = W2 @ h - y  # dl/dr", "r = 2 * (W2 @ h - y)"),
        tests=["p2_two_layer_tests", "p2_gd_linear_tests"],
        loses=["p2_two_layer_tests"],
    ),
    Wrong(
        "p2_two_layer",
        "dl/dx with W1 instead of its transpose",
        key("p2_two_layer").swap('"x": W1.T @ delta', '"x": W1 @ delta'),
        loses=["p2_two_layer_tests"],
    ),
    Wrong(
        "p2_two_layer",
        "the Jacobian left out of delta",
        key("p2_two_layer").swap("delta = dPhi(z).T @ (W2.T @ r)", "delta = W2.T @ r"),
        loses=["p2_two_layer_tests"],
    ),
    Wrong(
        "p2_two_layer",
        "rule: autograd for the W2 gradient only",
        TWO_LAYER_W2_AUTOGRAD,
        tests=["p2_two_layer_tests", P2_RULE],
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_two_layer",
        "rule: forward-mode AD for the W2 gradient",
        TWO_LAYER_FORWARD_AD,
        tests=["p2_two_layer_tests", P2_RULE],
        loses=[P2_RULE],
    ),
]

# -- Problem 2: gd_step_linear ------------------------------------------------------------------------------------

GD_LINEAR = [
    Correct(
        "p2_gd_linear",
        "through two_layer_grads with Phi the identity",
        """
def gd_step_linear(W1, W2, b, x, y, eta):
    G = two_layer_grads(W1, W2, b, x, y, lambda z: z, lambda z: torch.eye(len(z), dtype=z.dtype))
    return (W1 - eta * G["W1"], W2 - eta * G["W2"])
""",
    ),
    Correct(
        "p2_gd_linear",
        "a list of NumPy arrays, the product expanded",
        """
def gd_step_linear(W1, W2, b, x, y, eta):
    A, B, b, x, y = (t.numpy() for t in (W1, W2, b, x, y))
    r = B @ A @ x + B @ b - y
    return [A - eta * np.outer(B.T @ r, x), B - eta * np.outer(r, A @ x + b)]
""",
    ),
    Correct(
        "p2_gd_linear",
        "in place, both gradients first; float32; prints",
        """
def gd_step_linear(W1, W2, b, x, y, eta):
    h = W1 @ x + b
    r = W2 @ h - y
    g1, g2 = torch.outer(W2.T @ r, x), torch.outer(r, h)
    W1 -= eta * g1
    W2 -= eta * g2
    print("cost before the step:", 0.5 * float(r @ r))
    return W1.float(), W2.float()
""",
    ),
    Correct(
        "p2_gd_linear",
        "einsum",
        """
def gd_step_linear(W1, W2, b, x, y, eta):
    h = torch.einsum("ij,j->i", W1, x) + b
    r = torch.einsum("ij,j->i", W2, h) - y
    g1 = torch.einsum("pi,p,j->ij", W2, r, x)
    g2 = torch.einsum("p,q->pq", r, h)
    return W1 - eta * g1, W2 - eta * g2
""",
    ),
    Wrong(
        "p2_gd_linear",
        "W2 updated with the new W1",
        """
def gd_step_linear(W1, W2, b, x, y, eta):
    r = W2 @ (W1 @ x + b) - y
    W1 = W1 - eta * torch.outer(W2.T @ r, x)
    h = W1 @ x + b
    r = W2 @ h - y
    return W1, W2 - eta * torch.outer(r, h)
""",
        loses=["p2_gd_linear_tests"],
    ),
    Wrong(
        "p2_gd_linear",
        "W2 not transposed in dl/dW1",
        key("p2_gd_linear").swap("torch.outer(W2.T @ r, x)", "torch.outer(W2 @ r, x)"),
        loses=["p2_gd_linear_tests"],
    ),
    Wrong(
        "p2_gd_linear",
        "gradient ascent",
        key("p2_gd_linear").swap(
            "return W1 - eta * torch.outer(W2.T @ r, x), W2 - eta * torch.outer(r, h)",
            "return W1 + eta * torch.outer(W2.T @ r, x), W2 + eta * torch.outer(r, h)",
        ),
        loses=["p2_gd_linear_tests"],
    ),
    Wrong(
        "p2_gd_linear",
        "factor 2",
        key("p2_gd_linear").swap("r = W2 @ h - y", "r = 2 * (W2 @ h - y)"),
        loses=["p2_gd_linear_tests"],
    ),
    Wrong(
        "p2_gd_linear",
        "the bias left out of h",
        key("p2_gd_linear").swap("h = W1 @ x + b", "h = W1 @ x"),
        loses=["p2_gd_linear_tests"],
    ),
    Wrong(
        "p2_gd_linear",
        "rule: torch.autograd reached through a class attribute",
        """
class Helpers:
    grad = staticmethod(torch.autograd.grad)


def gd_step_linear(W1, W2, b, x, y, eta):
    A, B = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    gA, gB = Helpers.grad(0.5 * ((B @ (A @ x + b) - y) ** 2).sum(), [A, B])
    return W1 - eta * gA, W2 - eta * gB
""",
        loses=[P2_RULE],
    ),
    Wrong(
        "p2_gd_linear",
        "rule: torch.func.grad through an alias and eval",
        """
tf = eval("torch.func")


def gd_step_linear(W1, W2, b, x, y, eta):
    loss = lambda A, B: 0.5 * ((B @ (A @ x + b) - y) ** 2).sum()
    gA, gB = tf.grad(loss, argnums=(0, 1))(W1, W2)
    return W1 - eta * gA, W2 - eta * gB
""",
        loses=[P2_RULE],
    ),
]

VARIANTS = [*MLP, *TRAIN, *LOGREG, *GRAD_F, *GD_STEP_F, *TWO_LAYER, *GD_LINEAR]
