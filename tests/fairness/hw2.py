"""Fairness corpus of hw2: answers a class would write, correct ones in other styles and plausible wrong ones.

Each wrong answer names the test cells it must lose (`loses`). Where a function is used by others (the batched
backprop by SGD, the rates by the quadratic's plots), the wrong answers are also judged by the tests of those
others (`tests=[...]`), to prove that one mistake costs points once, in the part that has it.
"""

from fairness import Correct, Wrong, key

# -- Problem 3(a): loss_and_grads, the rule "no autodiff" -----------------------------------------------------

P1 = "p1_loss_and_grads"
P1_VALUES, P1_RULE = "p3_loss_and_grads_tests", "p3_loss_and_grads_rule_tests"
BATCH_TESTS = ["p3_batch_backprop_tests", "p3_batch_rule_tests"]
P1_JUDGES = [P1_VALUES, P1_RULE, *BATCH_TESTS]  # the batched backprop does not depend on (a)

# The forward pass as autograd sees it; the rule variants differentiate it.
P1_TORCH_LOSS = """
def _p1_loss(W1, W2, x, y):
    return ((W2 @ torch.sigmoid(W1 @ x) - y) ** 2).sum()
"""


def p1_autodiff(label: str, body: str, extra: str = "") -> object:
    """An answer whose gradients come from autodiff: right values, against the rule."""
    return Wrong(P1, f"rule: {label}", P1_TORCH_LOSS + extra + "\n" + body, tests=P1_JUDGES, loses=[P1_RULE])


p1_variants = [
    Correct(
        P1,
        "numpy inside, numpy arrays and a Python float out",
        """
def loss_and_grads(W1, W2, x, y):
    W1, W2, x, y = (t.numpy() for t in (W1, W2, x, y))
    h = 1 / (1 + np.exp(-W1 @ x))
    r = W2 @ h - y
    dz = (W2.T @ (2 * r)) * h * (1 - h)
    return float(r @ r), np.outer(dz, x), np.outer(2 * r, h)
""",
        tests=P1_JUDGES,
    ),
    Correct(
        P1,
        "broadcasting instead of outer, a list for the tuple, L.item()",
        """
def loss_and_grads(W1, W2, x, y):
    z = torch.matmul(W1, x)
    h = 1.0 / (1.0 + torch.exp(-z))
    y_hat = torch.matmul(W2, h)
    g = 2 * (y_hat - y)
    dW2 = g[:, None] * h[None, :]
    dz = (W2.t() @ g) * h * (1 - h)
    return [torch.sum((y_hat - y) ** 2).item(), dz.unsqueeze(1) * x.unsqueeze(0), dW2]
""",
    ),
    Correct(
        P1,
        "explicit loops over the entries",
        """
def loss_and_grads(W1, W2, x, y):
    m, d = W1.shape
    k = W2.shape[0]
    h = [torch.sigmoid(sum(W1[i, j] * x[j] for j in range(d))) for i in range(m)]
    y_hat = [sum(W2[a, i] * h[i] for i in range(m)) for a in range(k)]
    r = [y_hat[a] - y[a] for a in range(k)]
    L = sum(v * v for v in r)
    dW2 = torch.zeros_like(W2)
    dW1 = torch.zeros_like(W1)
    for a in range(k):
        for i in range(m):
            dW2[a, i] = 2 * r[a] * h[i]
    for i in range(m):
        back = sum(2 * r[a] * W2[a, i] for a in range(k)) * h[i] * (1 - h[i])
        for j in range(d):
            dW1[i, j] = back * x[j]
    return L, dW1, dW2
""",
    ),
    Correct(
        P1,
        "helper functions, printing, a DeprecationWarning and stderr",
        """
import sys
import warnings


def sigmoid(z):
    return torch.sigmoid(z)


def forward(W1, W2, x):
    h = sigmoid(W1 @ x)
    return h, W2 @ h


def loss_and_grads(W1, W2, x, y):
    h, y_hat = forward(W1, W2, x)
    delta = 2 * (y_hat - y)
    print("loss", float(((y_hat - y) ** 2).sum()))
    print("backward pass", file=sys.stderr)
    warnings.warn("old style", DeprecationWarning)
    d_z = (W2.T @ delta) * h * (1 - h)
    return ((y_hat - y) ** 2).sum(), torch.outer(d_z, x), torch.outer(delta, h)
""",
    ),
    Correct(
        P1,
        "float32 arithmetic inside",
        """
def loss_and_grads(W1, W2, x, y):
    W1, W2, x, y = W1.float(), W2.float(), x.float(), y.float()
    h = torch.sigmoid(W1 @ x)
    r = W2 @ h - y
    d_z = (W2.T @ (2 * r)) * h * (1 - h)
    return float(r @ r), torch.outer(d_z, x), torch.outer(2 * r, h)
""",
    ),
    Correct(
        P1,
        "checked against autograd in the same cell, inside a function",
        key(P1)
        + """


def _check_against_autograd():
    A1 = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    A2 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    v, w = torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    ((A2 @ torch.sigmoid(A1 @ v) - w) ** 2).sum().backward()
    _, g1, g2 = loss_and_grads(A1.detach(), A2.detach(), v, w)
    print(torch.allclose(g1, A1.grad), torch.allclose(g2, A2.grad))


_check_against_autograd()
""",
    ),
    Wrong(
        P1,
        "dL/dy_hat without the factor 2",
        key(P1).swap("d_yhat = 2.0 * r", "d_yhat = r"),
        tests=P1_JUDGES,
        loses=[P1_VALUES],
    ),
    Wrong(
        P1,
        "sigmoid derivative forgotten",
        key(P1).swap("d_z = d_h * h * (1.0 - h)", "d_z = d_h"),
        tests=P1_JUDGES,
        loses=[P1_VALUES],
    ),
    Wrong(
        P1,
        "sigmoid derivative sigma(1 - sigma) taken at z, not at h",
        key(P1).swap("d_z = d_h * h * (1.0 - h)", "d_z = d_h * z * (1.0 - z)"),
        loses=[P1_VALUES],
    ),
    Wrong(
        P1,
        "dW1 transposed, (d, m)",
        key(P1).swap("dW1 = torch.outer(d_z, x)", "dW1 = torch.outer(x, d_z)"),
        loses=[P1_VALUES],
    ),
    Wrong(P1, "loss with a factor 1/2", key(P1).swap("L = r @ r", "L = 0.5 * (r @ r)"), loses=[P1_VALUES]),
    Wrong(
        P1, "dW2 from the residual sign y - y_hat", key(P1).swap("r = y_hat - y", "r = y - y_hat"), loses=[P1_VALUES]
    ),
    Wrong(
        P1,
        "not implemented (raises)",
        key(P1).swap("    z = W1 @ x\n", "    raise NotImplementedError()\n"),
        tests=P1_JUDGES,
        loses=[P1_VALUES, P1_RULE],
    ),
    p1_autodiff(
        "requires_grad_ and backward",
        """
def loss_and_grads(W1, W2, x, y):
    A1, A2 = W1.clone().requires_grad_(), W2.clone().requires_grad_()
    L = _p1_loss(A1, A2, x, y)
    L.backward()
    return L.item(), A1.grad, A2.grad
""",
    ),
    p1_autodiff(
        "torch.enable_grad and torch.autograd.grad",
        """
def loss_and_grads(W1, W2, x, y):
    with torch.enable_grad():
        A1, A2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
        L = _p1_loss(A1, A2, x, y)
        g1, g2 = torch.autograd.grad(L, [A1, A2])
    return L.detach(), g1, g2
""",
    ),
    p1_autodiff(
        "from torch.autograd import grad (aliased)",
        """
def loss_and_grads(W1, W2, x, y):
    A1 = W1.detach().clone()
    A1.requires_grad = True
    A2 = W2.detach().clone()
    A2.requires_grad = True
    L = _p1_loss(A1, A2, x, y)
    return (L.item(), *autograd_grad(L, (A1, A2)))
""",
        "\nfrom torch.autograd import grad as autograd_grad\n",
    ),
    p1_autodiff(
        "torch.func.grad",
        """
def loss_and_grads(W1, W2, x, y):
    g1, g2 = torch.func.grad(_p1_loss, argnums=(0, 1))(W1, W2, x, y)
    return _p1_loss(W1, W2, x, y), g1, g2
""",
    ),
    p1_autodiff(
        "torch.func.jacrev through an alias",
        """
def loss_and_grads(W1, W2, x, y):
    g1, g2 = jr(_p1_loss, argnums=(0, 1))(W1, W2, x, y)
    return _p1_loss(W1, W2, x, y), g1, g2
""",
        "\nfrom torch.func import jacrev as jr\n",
    ),
    p1_autodiff(
        "forward-mode AD (torch.autograd.forward_ad), one entry at a time",
        """
def loss_and_grads(W1, W2, x, y):
    grads = []
    for which, W in enumerate((W1, W2)):
        g = torch.zeros_like(W)
        for idx in np.ndindex(*W.shape):
            tangent = torch.zeros_like(W)
            tangent[idx] = 1.0
            with fwAD.dual_level():
                dual = fwAD.make_dual(W, tangent)
                args = (dual, W2) if which == 0 else (W1, dual)
                g[idx] = fwAD.unpack_dual(_p1_loss(*args, x, y)).tangent
        grads.append(g)
    return _p1_loss(W1, W2, x, y), grads[0], grads[1]
""",
        "\nimport torch.autograd.forward_ad as fwAD\n",
    ),
    p1_autodiff(
        "autograd reached through a dict",
        """
def loss_and_grads(W1, W2, x, y):
    A1, A2 = W1.clone(), W2.clone()
    A1.requires_grad_()
    A2.requires_grad_()
    L = _p1_loss(A1, A2, x, y)
    return (L.item(), *TOOLS["grad"](L, (A1, A2)))
""",
        "\nTOOLS = {'grad': torch.autograd.grad}\n",
    ),
    p1_autodiff(
        "autograd reached through a class",
        """
def loss_and_grads(W1, W2, x, y):
    A1, A2 = W1.clone(), W2.clone()
    A1.requires_grad_()
    A2.requires_grad_()
    L = _p1_loss(A1, A2, x, y)
    return (L.item(), *Differentiator.grad(L, (A1, A2)))
""",
        "\nclass Differentiator:\n    grad = staticmethod(torch.autograd.grad)\n",
    ),
    p1_autodiff(
        "autograd reached through a default argument",
        """
def loss_and_grads(W1, W2, x, y, differentiate=torch.autograd.grad):
    A1, A2 = W1.clone(), W2.clone()
    A1.requires_grad_()
    A2.requires_grad_()
    L = _p1_loss(A1, A2, x, y)
    return (L.item(), *differentiate(L, (A1, A2)))
""",
    ),
]

# -- Problem 3(b): forward_batch, backward_batch --------------------------------------------------------------

BATCH = "p3_backprop_batch"
BATCH_VALUES, BATCH_RULE = BATCH_TESTS
# SGD and the gradient check are graded with their own reference gradients: a wrong (b) must not cost there.
BATCH_JUDGES = [*BATCH_TESTS, "p3_gradient_check_tests", "p3_sgd_tests"]

GIVEN = '''

def loss_and_grads_batch(W1, W2, X, Y):
    """Given: (L, dW1, dW2) for a batch, forward_batch then backward_batch."""
    L, cache = forward_batch(W1, W2, X, Y)
    dW1, dW2 = backward_batch(W1, W2, cache)
    return L, dW1, dW2
'''

batch_variants = [
    Correct(
        BATCH,
        "a dict cache, einsum, manual sigmoid",
        """
def forward_batch(W1, W2, X, Y):
    H = 1 / (1 + torch.exp(-torch.einsum("nd,md->nm", X, W1)))
    R = torch.einsum("nm,km->nk", H, W2) - Y
    return (R**2).sum(dim=1).mean(), {"X": X, "H": H, "R": R}


def backward_batch(W1, W2, cache):
    X, H, R = cache["X"], cache["H"], cache["R"]
    G = 2 * R / X.shape[0]
    dZ = torch.einsum("nk,km->nm", G, W2) * H * (1 - H)
    return torch.einsum("nm,nd->md", dZ, X), torch.einsum("nk,nm->km", G, H)
"""
        + GIVEN,
        tests=BATCH_JUDGES,
    ),
    Correct(
        BATCH,
        "a class instance as the cache, float64 inside",
        """
class Cache:
    def __init__(self, X, H, R):
        self.X, self.H, self.R, self.n = X, H, R, len(X)


def forward_batch(W1, W2, X, Y):
    X, W1, W2, Y = X.double(), W1.double(), W2.double(), Y.double()
    H = torch.sigmoid(X @ W1.T)
    R = H @ W2.T - Y
    return torch.mean(torch.sum(R * R, dim=1)), Cache(X, H, R)


def backward_batch(W1, W2, cache):
    G = 2.0 * cache.R / cache.n
    dW2 = G.T @ cache.H
    dW1 = ((G @ W2.double()) * cache.H * (1 - cache.H)).T @ cache.X
    return dW1, dW2
"""
        + GIVEN,
    ),
    Correct(
        BATCH,
        "a loop over the rows of the batch, printing and stderr",
        """
import sys


def forward_batch(W1, W2, X, Y):
    rows = []
    for x, y in zip(X, Y):
        h = torch.sigmoid(W1 @ x)
        rows.append((x, h, W2 @ h - y))
    print(f"batch of {len(rows)}", file=sys.stderr)
    return sum((r @ r) for _, _, r in rows) / len(rows), rows


def backward_batch(W1, W2, cache):
    dW1, dW2 = torch.zeros_like(W1), torch.zeros_like(W2)
    for x, h, r in cache:
        g = 2 * r / len(cache)
        dW2 += torch.outer(g, h)
        dW1 += torch.outer((W2.T @ g) * h * (1 - h), x)
    print("backward done")
    return dW1, dW2
"""
        + GIVEN,
    ),
    Correct(
        BATCH,
        "numpy inside, numpy arrays out",
        """
def forward_batch(W1, W2, X, Y):
    W1, W2, X, Y = (np.asarray(t) for t in (W1, W2, X, Y))
    H = 1.0 / (1.0 + np.exp(-X @ W1.T))
    R = H @ W2.T - Y
    return np.sum(R**2) / X.shape[0], (X, H, R)


def backward_batch(W1, W2, cache):
    X, H, R = cache
    G = 2.0 * R / X.shape[0]
    return ((G @ np.asarray(W2)) * H * (1 - H)).T @ X, G.T @ H
"""
        + GIVEN,
    ),
    Correct(
        BATCH,
        "float32 inside whatever the input (MNIST is float32)",
        """
def forward_batch(W1, W2, X, Y):
    X, W1, W2, Y = X.float(), W1.float(), W2.float(), Y.float()
    H = torch.sigmoid(X @ W1.T)
    R = H @ W2.T - Y
    return (R * R).sum(dim=1).mean(), (X, H, R, W2)


def backward_batch(W1, W2, cache):
    X, H, R, W2 = cache
    G = 2 * R / X.shape[0]
    return ((G @ W2) * H * (1 - H)).T @ X, G.T @ H
"""
        + GIVEN,
    ),
    Wrong(
        BATCH,
        "sum over the batch instead of the mean",
        key(BATCH)
        .swap("L = (R * R).sum() / X.shape[0]", "L = (R * R).sum()")
        .swap("G = (2.0 / X.shape[0]) * R", "G = 2.0 * R"),
        tests=BATCH_JUDGES,
        loses=[BATCH_VALUES],
    ),
    Wrong(
        BATCH,
        "mean over every entry (divides by n k)",
        key(BATCH)
        .swap("L = (R * R).sum() / X.shape[0]", "L = (R * R).mean()")
        .swap("G = (2.0 / X.shape[0]) * R", "G = 2.0 * R / R.numel()"),
        tests=BATCH_JUDGES,
        loses=[BATCH_VALUES],
    ),
    Wrong(
        BATCH,
        "sigmoid derivative forgotten",
        key(BATCH).swap("GZ = (G @ W2) * H * (1.0 - H)", "GZ = G @ W2"),
        tests=BATCH_JUDGES,
        loses=[BATCH_VALUES],
    ),
    Wrong(
        BATCH,
        "factor 2 forgotten",
        key(BATCH).swap("G = (2.0 / X.shape[0]) * R", "G = R / X.shape[0]"),
        loses=[BATCH_VALUES],
    ),
    Wrong(BATCH, "dW1 transposed, (d, m)", key(BATCH).swap("dW1 = GZ.T @ X", "dW1 = X.T @ GZ"), loses=[BATCH_VALUES]),
    Wrong(
        BATCH,
        "not implemented (raises)",
        key(BATCH).swap("    H = torch.sigmoid(X @ W1.T)  # (n, m)\n", "    raise NotImplementedError()\n"),
        tests=BATCH_JUDGES,
        loses=BATCH_TESTS,
    ),
    Wrong(
        BATCH,
        "rule: backward_batch replays the forward pass under autograd",
        key(BATCH).swap(
            """    X, H, R = cache
    G = (2.0 / X.shape[0]) * R  # dL/dY_hat, (n, k)
    dW2 = G.T @ H  # (k, m)
    GZ = (G @ W2) * H * (1.0 - H)  # dL/dZ, (n, m)
    dW1 = GZ.T @ X  # (m, d)
    return dW1, dW2""",
            """    X, H, R = cache
    Y = H @ W2.T - R
    A1, A2 = W1.clone().requires_grad_(), W2.clone().requires_grad_()
    with torch.enable_grad():
        L = ((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2).sum() / X.shape[0]
        return torch.autograd.grad(L, (A1, A2))""",
        ),
        tests=BATCH_JUDGES,
        loses=[BATCH_RULE],
    ),
    Wrong(
        BATCH,
        "rule: torch.func.vjp in a helper",
        key(BATCH).swap(
            """    X, H, R = cache
    G = (2.0 / X.shape[0]) * R  # dL/dY_hat, (n, k)
    dW2 = G.T @ H  # (k, m)
    GZ = (G @ W2) * H * (1.0 - H)  # dL/dZ, (n, m)
    dW1 = GZ.T @ X  # (m, d)
    return dW1, dW2""",
            """    X, H, R = cache
    return _pullback(W1, W2, X, H @ W2.T - R)


def _pullback(W1, W2, X, Y):
    def loss(A1, A2):
        return ((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2).sum() / X.shape[0]

    _, pull = torch.func.vjp(loss, W1, W2)
    return pull(torch.tensor(1.0, dtype=W1.dtype))""",
        ),
        loses=[BATCH_RULE],
    ),
]

# -- Problem 3(c): gradient_check -----------------------------------------------------------------------------

CHECK = "p3_gradient_check"
CHECK_TESTS = "p3_gradient_check_tests"

check_variants = [
    Correct(
        CHECK,
        "backward() on clones, numpy norms, a numpy float",
        """
def gradient_check(fn, W1, W2, X, Y):
    _, dW1, dW2 = fn(W1, W2, X, Y)
    A1 = W1.clone().detach().requires_grad_(True)
    A2 = W2.clone().detach().requires_grad_(True)
    loss = torch.mean(torch.sum((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2, dim=1))
    loss.backward()
    errors = []
    for mine, true in [(dW1, A1.grad), (dW2, A2.grad)]:
        diff = np.asarray(mine) - true.numpy()
        errors.append(np.linalg.norm(diff) / np.linalg.norm(true.numpy()))
    return max(errors)
""",
    ),
    Correct(
        CHECK,
        "torch.func.grad, a 0-d tensor returned",
        """
def gradient_check(fn, W1, W2, X, Y):
    def batch_loss(A1, A2):
        return ((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2).sum() / X.shape[0]

    true = torch.func.grad(batch_loss, argnums=(0, 1))(W1, W2)
    mine = fn(W1, W2, X, Y)[1:]
    return torch.stack([torch.norm(m - t) / torch.norm(t) for m, t in zip(mine, true)]).max()
""",
    ),
    Correct(
        CHECK,
        "torch.autograd.grad, Frobenius by hand, printing",
        """
def frobenius(A):
    return torch.sqrt((A**2).sum())


def gradient_check(fn, W1, W2, X, Y):
    L, dW1, dW2 = fn(W1, W2, X, Y)
    P = [W.detach().clone().requires_grad_() for W in (W1, W2)]
    with torch.enable_grad():
        n = X.shape[0]
        ref = (((torch.sigmoid(X @ P[0].T) @ P[1].T) - Y) ** 2).sum() / n
        g1, g2 = torch.autograd.grad(ref, P)
    e1 = (frobenius(torch.as_tensor(dW1) - g1) / frobenius(g1)).item()
    e2 = (frobenius(torch.as_tensor(dW2) - g2) / frobenius(g2)).item()
    print(f"relative errors {e1:.2e} {e2:.2e}")
    return max(e1, e2)
""",
    ),
    Wrong(
        CHECK,
        "divides by the norm of fn's gradient",
        key(CHECK).swap(
            "torch.linalg.norm(dW - g) / torch.linalg.norm(g)", "torch.linalg.norm(dW - g) / torch.linalg.norm(dW)"
        ),
        loses=[CHECK_TESTS],
    ),
    Wrong(
        CHECK,
        "the mean of the two errors, not the max",
        key(CHECK).swap("return max(float(e) for e in errors)", "return sum(float(e) for e in errors) / 2"),
        loses=[CHECK_TESTS],
    ),
    Wrong(
        CHECK,
        "the largest entry instead of the Frobenius norm",
        key(CHECK).swap("torch.linalg.norm(dW - g) / torch.linalg.norm(g)", "(dW - g).abs().max() / g.abs().max()"),
        loses=[CHECK_TESTS],
    ),
    Wrong(
        CHECK,
        "reference loss summed over the batch (no 1/n)",
        key(CHECK).swap(
            "L = ((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2).sum() / X.shape[0]",
            "L = ((torch.sigmoid(X @ A1.T) @ A2.T - Y) ** 2).sum()",
        ),
        loses=[CHECK_TESTS],
    ),
    Wrong(
        CHECK,
        "differentiates fn's own L (it carries no graph)",
        """
def gradient_check(fn, W1, W2, X, Y):
    A1 = W1.detach().clone().requires_grad_()
    A2 = W2.detach().clone().requires_grad_()
    L, dW1, dW2 = fn(A1, A2, X, Y)
    g1, g2 = torch.autograd.grad(L, (A1, A2))
    return max(float(torch.norm(dW1 - g1) / torch.norm(g1)), float(torch.norm(dW2 - g2) / torch.norm(g2)))
""",
        loses=[CHECK_TESTS],
    ),
]

# -- Problem 3(e): sgd_epoch ----------------------------------------------------------------------------------

SGD = "p3_sgd"
SGD_TESTS = "p3_sgd_tests"
SGD_HEAD = """
def sgd_epoch(W1, W2, X, Y, lr1, lr2, batch_size, generator=None, grads=None):
    if grads is None:
        grads = loss_and_grads_batch
"""

sgd_variants = [
    Correct(
        SGD,
        "in-place updates, L.item()",
        SGD_HEAD
        + """    order = torch.randperm(X.shape[0], generator=generator)
    W1, W2, losses = W1.clone(), W2.clone(), []
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        L, dW1, dW2 = grads(W1, W2, X[rows], Y[rows])
        losses.append(L.item())
        W1 -= lr1 * dW1
        W2 -= lr2 * dW2
    return W1, W2, losses
""",
    ),
    Correct(
        SGD,
        "shuffled copies, torch.split, the losses as a tensor",
        SGD_HEAD
        + """    perm = torch.randperm(len(X), generator=generator)
    Xs, Ys = X[perm], Y[perm]
    losses = []
    for Xb, Yb in zip(torch.split(Xs, batch_size), torch.split(Ys, batch_size)):
        L, dW1, dW2 = grads(W1, W2, Xb, Yb)
        losses.append(torch.as_tensor(L, dtype=torch.float64))
        W1, W2 = W1 - lr1 * dW1, W2 - lr2 * dW2
    return W1, W2, torch.stack(losses)
""",
    ),
    Correct(
        SGD,
        "a while loop, the loss and the gradients from two calls, printing",
        SGD_HEAD
        + """    N = X.shape[0]
    idx = torch.randperm(N, generator=generator)
    losses, start, step = [], 0, 0
    while start < N:
        b = idx[start:start + batch_size]
        losses.append(float(grads(W1, W2, X[b], Y[b])[0]))
        _, dW1, dW2 = grads(W1, W2, X[b], Y[b])
        W1 = W1 - lr1 * dW1
        W2 = W2 - lr2 * dW2
        start += batch_size
        step += 1
        if step % 100 == 0:
            print(step, losses[-1])
    return W1, W2, losses
""",
    ),
    Correct(
        SGD,
        "numpy indices from the torch permutation, a tuple returned",
        SGD_HEAD
        + """    perm = torch.randperm(X.shape[0], generator=generator).numpy()
    batches = [perm[i:i + batch_size] for i in range(0, len(perm), batch_size)]
    losses = []
    for b in batches:
        L, g1, g2 = grads(W1, W2, X[b], Y[b])
        losses.append(float(L))
        W1, W2 = W1 - lr1 * g1, W2 - lr2 * g2
    return (W1, W2, losses)
""",
    ),
    Wrong(
        SGD,
        "no shuffle",
        key(SGD).swap("perm = torch.randperm(N, generator=generator).to(X.device)", "perm = torch.arange(N)"),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "a fixed seed inside (the same order every epoch)",
        key(SGD).swap(
            "torch.randperm(N, generator=generator)", "torch.randperm(N, generator=torch.Generator().manual_seed(0))"
        ),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "learning rates swapped",
        key(SGD).swap("W1 = W1 - lr1 * dW1", "W1 = W1 - lr2 * dW1").swap("W2 = W2 - lr2 * dW2", "W2 = W2 - lr1 * dW2"),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "the last, smaller batch dropped",
        key(SGD).swap(
            "for start in range(0, N, batch_size):", "for start in range(0, N - batch_size + 1, batch_size):"
        ),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "one update at the end with the summed gradients",
        key(SGD)
        .swap(
            "        W1 = W1 - lr1 * dW1\n        W2 = W2 - lr2 * dW2\n",
            "        total = (dW1, dW2) if start == 0 else (total[0] + dW1, total[1] + dW2)\n",
        )
        .swap("    return W1, W2, losses", "    return W1 - lr1 * total[0], W2 - lr2 * total[1], losses"),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "the loss recorded after the update",
        key(SGD)
        .swap("        losses.append(float(L))\n", "")
        .swap(
            "        W2 = W2 - lr2 * dW2\n",
            "        W2 = W2 - lr2 * dW2\n        losses.append(float(grads(W1, W2, X[idx], Y[idx])[0]))\n",
        ),
        loses=[SGD_TESTS],
    ),
    Wrong(
        SGD,
        "ignores grads (calls loss_and_grads_batch itself)",
        key(SGD).swap(
            "L, dW1, dW2 = grads(W1, W2, X[idx], Y[idx])", "L, dW1, dW2 = loss_and_grads_batch(W1, W2, X[idx], Y[idx])"
        ),
        loses=[SGD_TESTS],
    ),
]

# -- Problem 3(f): gd_rates, max_stable_lr ---------------------------------------------------------------------

RATES = "p2_rates"
RATES_TESTS, MAX_TESTS = "p3_gd_rates_tests", "p3_max_stable_lr_tests"
RATES_JUDGES = [RATES_TESTS, MAX_TESTS, "p3_gd_quadratic_tests"]  # (g) does not depend on (f)


def rates(gd_rates_body: str, max_body: str) -> str:
    return f"def gd_rates(a, b, lr):\n{gd_rates_body}\n\n\ndef max_stable_lr(a, b):\n{max_body}\n"


rates_variants = [
    Correct(
        RATES,
        "numpy floats, min(2/a, 2/b)",
        rates("    return np.float64(1 - lr * a), np.float64(1 - lr * b)", "    return min(2 / a, 2 / b)"),
    ),
    Correct(
        RATES,
        "a list, and an array of one number",
        rates("    return [1 - a * lr, 1 - b * lr]", "    return np.array([2.0 / max(a, b)])"),
    ),
    Correct(
        RATES,
        "0-d tensors, the Hessian's largest eigenvalue",
        rates(
            "    return torch.tensor(1.0 - lr * a), torch.tensor(1.0 - lr * b)",
            "    curvature = np.linalg.eigvalsh(np.diag([a, b])).max()\n    return 2 / curvature",
        ),
        tests=RATES_JUDGES,
    ),
    Correct(
        RATES,
        "a numpy array from the update matrix, printing",
        rates(
            "    rho = np.diag(np.eye(2) - lr * np.diag([a, b]))\n    print('rates', rho)\n    return rho",
            "    return 2.0 / float(np.max([a, b]))",
        ),
    ),
    Wrong(
        RATES,
        "rho = 1 + lr a (sign)",
        rates("    return 1 + lr * a, 1 + lr * b", "    return 2.0 / max(a, b)"),
        tests=RATES_JUDGES,
        loses=[RATES_TESTS],
    ),
    Wrong(
        RATES,
        "rho = 1 - lr a / 2",
        rates("    return 1 - lr * a / 2, 1 - lr * b / 2", "    return 2.0 / max(a, b)"),
        loses=[RATES_TESTS],
    ),
    Wrong(
        RATES,
        "rates swapped",
        rates("    return 1 - lr * b, 1 - lr * a", "    return 2.0 / max(a, b)"),
        loses=[RATES_TESTS],
    ),
    Wrong(
        RATES,
        "largest stable rate 2/min(a, b)",
        rates("    return 1 - lr * a, 1 - lr * b", "    return 2.0 / min(a, b)"),
        tests=RATES_JUDGES,
        loses=[MAX_TESTS],
    ),
    Wrong(
        RATES,
        "largest stable rate 1/max(a, b)",
        rates("    return 1 - lr * a, 1 - lr * b", "    return 1.0 / max(a, b)"),
        loses=[MAX_TESTS],
    ),
    Wrong(
        RATES,
        "the best rate 2/(a + b) instead",
        rates("    return 1 - lr * a, 1 - lr * b", "    return 2.0 / (a + b)"),
        loses=[MAX_TESTS],
    ),
]

# -- Problem 3(g): gd_quadratic -------------------------------------------------------------------------------

QUAD = "p3_gd_quadratic"
QUAD_TESTS = "p3_gd_quadratic_tests"

quad_variants = [
    Correct(
        QUAD,
        "closed form in numpy",
        """
def gd_quadratic(a, b, lr, w0, steps):
    t = np.arange(steps + 1)[:, None]
    return np.array(w0, dtype=float) * np.array([1 - lr * a, 1 - lr * b]) ** t
""",
    ),
    Correct(
        QUAD,
        "a list of lists of Python floats",
        """
def gd_quadratic(a, b, lr, w0, steps):
    w1, w2 = w0
    out = [[w1, w2]]
    for _ in range(steps):
        w1, w2 = w1 - lr * a * w1, w2 - lr * b * w2
        out.append([w1, w2])
    return out
""",
    ),
    Correct(
        QUAD,
        "a list of tensors, the gradient as a helper",
        """
def grad_L(w, a, b):
    return torch.stack([a * w[0], b * w[1]])


def gd_quadratic(a, b, lr, w0, steps):
    w = torch.tensor(w0, dtype=torch.float64)
    path = [w]
    for _ in range(steps):
        w = w - lr * grad_L(w, a, b)
        path.append(w)
    return path
""",
    ),
    Correct(
        QUAD,
        "float32 tensor",
        """
def gd_quadratic(a, b, lr, w0, steps):
    P = torch.zeros(steps + 1, 2)
    P[0] = torch.tensor(w0, dtype=torch.float32)
    for t in range(steps):
        P[t + 1] = P[t] * torch.tensor([1 - lr * a, 1 - lr * b])
    return P
""",
    ),
    Wrong(
        QUAD,
        "steps rows (w(steps) missing)",
        key(QUAD).swap("for _ in range(steps):", "for _ in range(steps - 1):"),
        loses=[QUAD_TESTS],
    ),
    Wrong(QUAD, "a and b swapped", key(QUAD).swap("torch.tensor([a, b]", "torch.tensor([b, a]"), loses=[QUAD_TESTS]),
    Wrong(
        QUAD, "gradient ascent", key(QUAD).swap("w = w - lr * scale * w", "w = w + lr * scale * w"), loses=[QUAD_TESTS]
    ),
    Wrong(
        QUAD,
        "gradient of a w^2 without the 1/2",
        key(QUAD).swap("w = w - lr * scale * w", "w = w - 2 * lr * scale * w"),
        loses=[QUAD_TESTS],
    ),
    Wrong(
        QUAD,
        "row 0 left out (w(1) .. w(steps + 1))",
        key(QUAD)
        .swap("path = [w.clone()]", "path = []")
        .swap("    return torch.stack(path)", "    path.append(w - lr * scale * w)\n    return torch.stack(path)"),
        loses=[QUAD_TESTS],
    ),
]

# Correct answers that look like rule violations to a name-based checker: a top-level autograd check that
# reuses a parameter's name, a class with a `backward` method.
rules_look_alikes = [
    Correct(
        P1,
        "correct numpy answer, checked against autograd at top level (W1 shares the parameter's name)",
        key(P1)
        + """


W1 = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
W2 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
x, y = torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
((W2 @ torch.sigmoid(W1 @ x) - y) ** 2).sum().backward()
print(torch.allclose(loss_and_grads(W1.detach(), W2.detach(), x, y)[1], W1.grad))
""",
        tests=P1_JUDGES,
    ),
    Correct(
        BATCH,
        "correct answer written as a class with a backward method",
        """
class Layer:
    def forward(self, W1, W2, X, Y):
        self.X, self.H = X, torch.sigmoid(X @ W1.T)
        self.R = self.H @ W2.T - Y
        return (self.R**2).sum() / len(X)

    def backward(self, W2):
        G = 2 * self.R / len(self.X)
        return ((G @ W2) * self.H * (1 - self.H)).T @ self.X, G.T @ self.H


def forward_batch(W1, W2, X, Y):
    layer = Layer()
    return layer.forward(W1, W2, X, Y), layer


def backward_batch(W1, W2, cache):
    return cache.backward(W2)
"""
        + GIVEN,
        tests=BATCH_TESTS,
    ),
]

# A correct answer whose function has a local `G` while another cell imports `grad as G`: the rules checker
# resolves names by scope, so `G.T` inside the function is the local matrix, not torch.
LOCAL_SHADOWS_AN_ALIAS = [
    Correct(
        BATCH,
        "correct answer, while another cell imports `grad as G` and backward_batch has a local G",
        key(BATCH) + "\n\nfrom torch.autograd import grad as G  # used by a check elsewhere\n",
        tests=BATCH_TESTS,
    ),
]

VARIANTS = (
    p1_variants
    + batch_variants
    + check_variants
    + sgd_variants
    + rates_variants
    + quad_variants
    + rules_look_alikes
    + LOCAL_SHADOWS_AN_ALIAS
)
