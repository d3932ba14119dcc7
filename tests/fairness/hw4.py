"""Fairness corpus of hw4: answers a class would write for every autograded answer cell (docs/authoring.md).

Correct answers in other styles must keep every point; each wrong answer names the one test cell that must catch
it (`loses`), so the corpus also proves that one mistake costs points once. The rule bypasses (autodiff in
Problem 5, torch.nn.Module in Problem 4) compute the right values and lose only the rule's own small test.
"""

from fairness import Correct, Wrong, key

# -- Problem 2.1: forward_pass, forward_pass_batch, square_loss_batch --------------------------------------------

P21 = "p2_1_code"
P21_FORWARD, P21_BATCH = "p2_1_forward_tests", "p2_1_batch_tests"
P21_VECTORISED, P21_LOSS = "p2_1_batch_vectorised_tests", "p2_1_loss_tests"

P21_VARIANTS = [
    Correct(
        P21,
        "torch.matmul, .t() and .mT, mean of the row sums",
        """
def forward_pass(x, weights, h):
    a = x
    for l in range(len(weights) - 1):
        a = h(torch.matmul(weights[l], a))
    return torch.matmul(weights[len(weights) - 1], a)


def forward_pass_batch(X, weights, h):
    A = X
    for W in weights[:-1]:
        A = h(A @ W.t())
    return A @ weights[-1].mT


def square_loss_batch(Yhat, Y):
    return torch.mean(torch.sum((Yhat - Y) ** 2, dim=1))
""",
    ),
    Correct(
        P21,
        "columns convention, forward_pass reuses the batch pass, loss as a printed Python float",
        """
def forward_pass_batch(X, weights, h):
    out = X.T                      # one column per sample: (d, m)
    for w in weights[:-1]:
        out = h(w @ out)
    return (weights[-1] @ out).T


def forward_pass(x, weights, h):
    return forward_pass_batch(x.reshape(1, -1), weights, h)[0]


def square_loss_batch(Yhat, Y):
    m = Yhat.shape[0]
    loss = float(((Yhat - Y) ** 2).sum()) / m
    print("loss", loss)
    return loss
""",
    ),
    Correct(
        P21,
        "functools.reduce with torch.mv, einsum, squared Frobenius norm, x.T on a vector (PyTorch warns)",
        """
import functools


def forward_pass(x, weights, h):
    z = x.T                        # .T of a vector: a deprecation warning, the same vector
    z = functools.reduce(lambda z, w: h(torch.mv(w, z)), weights[:-1], z)
    return torch.mv(weights[-1], z)


def forward_pass_batch(X, weights, h):
    Z = X
    for w in weights[:-1]:
        Z = h(torch.einsum("mi,ji->mj", Z, w))
    return torch.einsum("mi,ji->mj", Z, weights[-1])


def square_loss_batch(Yhat, Y):
    return torch.linalg.norm(Yhat - Y) ** 2 / len(Y)
""",
    ),
    Correct(
        P21,
        "float32 arithmetic",
        """
def forward_pass(x, weights, h):
    z = x.float()
    for w in weights[:-1]:
        z = h(w.float() @ z)
    return weights[-1].float() @ z


def forward_pass_batch(X, weights, h):
    Z = X.to(torch.float32)
    for w in weights[:-1]:
        Z = h(Z @ w.to(torch.float32).T)
    return Z @ weights[-1].to(torch.float32).T


def square_loss_batch(Yhat, Y):
    return ((Yhat.float() - Y.float()) ** 2).sum(dim=1).mean()
""",
    ),
    Correct(
        P21,
        "one helper for both passes, a progress line on stderr",
        """
import sys


def layer(z, w, h=None):
    a = z @ w.T
    return a if h is None else h(a)


def forward_pass(x, weights, h):
    for w in weights[:-1]:
        x = layer(x, w, h)
    return layer(x, weights[-1])


def forward_pass_batch(X, weights, h):
    print("batch of", X.shape[0], file=sys.stderr)
    for w in weights[:-1]:
        X = layer(X, w, h)
    return layer(X, weights[-1])


def square_loss_batch(Yhat, Y):
    diff = Yhat - Y
    return (diff * diff).sum() / diff.shape[0]
""",
    ),
    Wrong(
        P21,
        "forward_pass applies h at the output too",
        key(P21).swap("return weights[-1] @ z ", "return h(weights[-1] @ z) "),
        loses=[P21_FORWARD],
    ),
    Wrong(P21, "forward_pass multiplies by w^T", key(P21).swap("z = h(w @ z)", "z = h(z @ w)"), loses=[P21_FORWARD]),
    Wrong(
        P21,
        "forward_pass_batch multiplies by w, not w^T",
        key(P21).swap("Z = h(Z @ w.T)", "Z = h(Z @ w)"),
        loses=[P21_BATCH],
    ),
    Wrong(
        P21,
        "forward_pass_batch applies h at the output too",
        key(P21).swap("return Z @ weights[-1].T ", "return h(Z @ weights[-1].T) "),
        loses=[P21_BATCH],
    ),
    Wrong(
        P21,
        "forward_pass_batch loops over the samples (right values, h called once per sample)",
        key(P21).swap(
            "    Z = X                          # Z^(0) = X, shape (m, d_0)",
            "    return torch.stack([forward_pass(x, weights, h) for x in X])\n    Z = X",
        ),
        loses=[P21_VECTORISED],
    ),
    Wrong(
        P21,
        "square_loss_batch averages over the m k entries",
        key(P21).swap("return ((Yhat - Y) ** 2).sum() / Yhat.shape[0]", "return ((Yhat - Y) ** 2).mean()"),
        loses=[P21_LOSS],
    ),
    Wrong(
        P21,
        "square_loss_batch forgets 1/m",
        key(P21).swap("return ((Yhat - Y) ** 2).sum() / Yhat.shape[0]", "return ((Yhat - Y) ** 2).sum()"),
        loses=[P21_LOSS],
    ),
    Wrong(
        P21,
        "square_loss_batch averages the norms, not their squares",
        key(P21).swap(
            "return ((Yhat - Y) ** 2).sum() / Yhat.shape[0]", "return torch.linalg.norm(Yhat - Y, dim=1).mean()"
        ),
        loses=[P21_LOSS],
    ),
]

# -- Problem 2.3: the XOR feature map and the two-unit tanh network ----------------------------------------------

XF, XF_TESTS = "p2_3_xor_code", "p2_3_xor_features_tests"
XN, XN_TESTS = "p2_3_xor_net_code", "p2_3_xor_network_tests"

XOR_VARIANTS = [
    Correct(
        XF,
        "squares and the product, weights as a list of ints",
        """
def xor_feature_map(x):
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack((x1 ** 2, x2 ** 2, x1 * x2), 1)


xor_linear_w = [0, 0, 1]
""",
    ),
    Correct(
        XF,
        "NumPy: every monomial of degree <= 2, np.row_stack (deprecated: NumPy warns)",
        """
def xor_feature_map(x):
    x = np.asarray(x)
    one = np.ones(len(x))
    return np.row_stack([one, x[:, 0], x[:, 1], x[:, 0] * x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2]).T


xor_linear_w = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
""",
    ),
    Correct(
        XF,
        "(x1 + x2)^2 and a constant, float32, weights as a tuple",
        """
def xor_feature_map(x):
    s = (x[:, 0] + x[:, 1]).float()
    return torch.stack([torch.ones_like(s), s ** 2], dim=1)


xor_linear_w = (-1.0, 1.0)
""",
    ),
    Correct(
        XF,
        "a loop over the rows returning a list of lists",
        """
def xor_feature_map(x):
    rows = []
    for a, b in x.tolist():
        rows.append([a, b, a * b, a * a - b * b])
    return rows


xor_linear_w = torch.tensor([0.0, 0.0, 2.0, 0.0])
""",
    ),
    Wrong(
        XF,
        "linear features only",
        """
def xor_feature_map(x):
    return x.clone()


xor_linear_w = torch.tensor([1.0, 1.0], dtype=torch.float64)
""",
        loses=[XF_TESTS],
    ),
    Wrong(XF, "the sign of w flipped", key(XF).swap("[0.0, 0.0, 1.0]", "[0.0, 0.0, -1.0]"), loses=[XF_TESTS]),
    Wrong(XF, "a tie on (-1, -1)", key(XF).swap("[0.0, 0.0, 1.0]", "[1.0, 0.0, 1.0]"), loses=[XF_TESTS]),
    Wrong(
        XF,
        "a cubic feature (it classifies, but degree 3)",
        """
def xor_feature_map(x):
    return torch.stack([x[:, 0] * x[:, 1], x[:, 0] ** 2 * x[:, 1]], dim=1)


xor_linear_w = torch.tensor([1.0, 0.0], dtype=torch.float64)
""",
        loses=[XF_TESTS],
    ),
    Wrong(
        XF,
        "|x1 - x2| (it classifies, but is not a polynomial)",
        """
def xor_feature_map(x):
    return torch.stack([torch.ones(len(x), dtype=x.dtype), (x[:, 0] - x[:, 1]).abs()], dim=1)


xor_linear_w = torch.tensor([1.0, -1.0], dtype=torch.float64)
""",
        loses=[XF_TESTS],
    ),
    Wrong(
        XF,
        "a 1-d feature vector instead of an (n, 1) matrix",
        """
def xor_feature_map(x):
    return x[:, 0] * x[:, 1]


xor_linear_w = torch.tensor([1.0], dtype=torch.float64)
""",
        loses=[XF_TESTS],
    ),
    Correct(
        XN,
        "plain lists and a Python float",
        """
xor_tanh_net = {"W1": [[2.0, 2.0], [2.0, 2.0]], "b1": [2.0, -2.0], "w2": [-1.0, 1.0], "b2": 1.0}
""",
    ),
    Correct(
        XN,
        "NumPy arrays, thresholds at s = -1 and 1 with slope 1, an extra key",
        """
xor_tanh_net = {
    "W1": np.ones((2, 2)),
    "b1": np.array([1.0, -1.0]),
    "w2": np.array([-1.0, 1.0]),
    "b2": np.float64(1.0),
    "H": 2,
}
""",
    ),
    Correct(
        XN,
        "float32 tensors, b2 of shape (1,), w2 a tuple",
        """
xor_tanh_net = dict(
    W1=torch.full((2, 2), 3.0),
    b1=torch.tensor([3.0, -3.0]),
    w2=(-1.0, 1.0),
    b2=torch.tensor([1.0]),
)
""",
    ),
    Correct(
        XN,
        "units on x1 - x2, built by a helper that prints the outputs",
        """
def make_xor_net():
    net = {"W1": torch.tensor([[2.0, -2.0], [2.0, -2.0]], dtype=torch.float64),
           "b1": torch.tensor([2.0, -2.0], dtype=torch.float64),
           "w2": torch.tensor([1.0, -1.0], dtype=torch.float64),
           "b2": torch.tensor(-1.0, dtype=torch.float64)}
    X = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]], dtype=torch.float64)
    print(torch.tanh(X @ net["W1"].T + net["b1"]) @ net["w2"] + net["b2"])
    return net


xor_tanh_net = make_xor_net()
""",
    ),
    Wrong(
        XN,
        "every sign flipped",
        key(XN).swap("[-1.0, 1.0]", "[1.0, -1.0]").swap("torch.tensor(1.0,", "torch.tensor(-1.0,"),
        loses=[XN_TESTS],
    ),
    Wrong(XN, "no output bias", key(XN).swap("torch.tensor(1.0,", "torch.tensor(0.0,"), loses=[XN_TESTS]),
    Wrong(
        XN,
        "three hidden units",
        """
xor_tanh_net = {"W1": [[2.0, 2.0], [2.0, 2.0], [1.0, 1.0]], "b1": [2.0, -2.0, 0.0], "w2": [-1.0, 1.0, 0.0], "b2": 1.0}
""",
        loses=[XN_TESTS],
    ),
    Wrong(
        XN,
        "W1 stored as (2, H)",
        """
xor_tanh_net = {"W1": [[2.0], [2.0]], "b1": [2.0], "w2": [-1.0], "b2": 1.0}
""",
        loses=[XN_TESTS],
    ),
    Wrong(
        XN,
        "outputs exactly 0 (ties)",
        """
xor_tanh_net = {"W1": [[1.0, 1.0], [1.0, 1.0]], "b1": [0.0, 0.0], "w2": [1.0, -1.0], "b2": 0.0}
""",
        loses=[XN_TESTS],
    ),
    Wrong(
        XN,
        "the output bias under another name",
        """
xor_tanh_net = {"W1": [[2.0, 2.0], [2.0, 2.0]], "b1": [2.0, -2.0], "w2": [-1.0, 1.0], "bias": 1.0}
""",
        loses=[XN_TESTS],
    ),
]

# -- Problem 3: softmax_regression_loss ---------------------------------------------------------------------------

P3, P3_VALUE, P3_STABLE = "p3_loss_code", "p3_loss_tests", "p3_loss_stable_tests"
P3_KEY_LINE = "return F.cross_entropy(X @ W, y) + 0.5 * lam * (W * W).sum()"

P3_VARIANTS = [
    Correct(
        P3,
        "log-sum-exp by hand, gather",
        """
def softmax_regression_loss(W, X, y, lam):
    S = X @ W
    nll = torch.logsumexp(S, dim=1) - S.gather(1, y[:, None]).squeeze(1)
    return nll.mean() + lam / 2 * torch.sum(W ** 2)
""",
    ),
    Correct(
        P3,
        "torch.nn.CrossEntropyLoss and torch.norm",
        """
def softmax_regression_loss(W, X, y, lam):
    return torch.nn.CrossEntropyLoss()(X @ W, y) + 0.5 * lam * torch.norm(W) ** 2
""",
    ),
    Correct(
        P3,
        "F.log_softmax without dim (PyTorch warns) and F.nll_loss",
        """
def softmax_regression_loss(W, X, y, lam):
    logp = F.log_softmax(torch.mm(X, W))
    return F.nll_loss(logp, y) + lam * (W * W).sum() / 2
""",
    ),
    Correct(
        P3,
        "one-hot targets, float32 scores",
        """
def softmax_regression_loss(W, X, y, lam):
    S = (X @ W).float()
    T = F.one_hot(y, W.shape[1]).float()
    return -(T * torch.log_softmax(S, dim=1)).sum(dim=1).mean() + 0.5 * lam * (W.float() ** 2).sum()
""",
    ),
    Correct(
        P3,
        "a loop over the samples with the max subtracted, printing the loss",
        """
def softmax_regression_loss(W, X, y, lam):
    total = 0.0
    for x_n, y_n in zip(X, y):
        s = x_n @ W
        s = s - s.max()
        total = total - (s[y_n] - torch.log(torch.exp(s).sum()))
    loss = total / len(y) + lam / 2 * (W ** 2).sum()
    print("loss", loss.item())
    return loss
""",
    ),
    Correct(
        P3,
        "one-hot targets for ten classes written into the code",
        """
def softmax_regression_loss(W, X, y, lam):
    targets = F.one_hot(y, num_classes=10).to(X.dtype)
    log_probs = torch.log_softmax(X @ W, dim=1)
    return -(targets * log_probs).sum() / len(y) + lam / 2 * (W**2).sum()
""",
    ),
    Wrong(
        P3,
        "lam instead of lam / 2",
        key(P3).swap(P3_KEY_LINE, "return F.cross_entropy(X @ W, y) + lam * (W * W).sum()"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "sum over the samples, not the mean",
        key(P3).swap(P3_KEY_LINE, "return F.cross_entropy(X @ W, y, reduction='sum') + 0.5 * lam * (W * W).sum()"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "cross_entropy of the probabilities",
        key(P3).swap(P3_KEY_LINE, "return F.cross_entropy(torch.softmax(X @ W, dim=1), y) + 0.5 * lam * (W * W).sum()"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "no penalty",
        key(P3).swap(P3_KEY_LINE, "return F.cross_entropy(X @ W, y)"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "the value as a Python float (autograd cannot differentiate it)",
        key(P3).swap(P3_KEY_LINE, "return (F.cross_entropy(X @ W, y) + 0.5 * lam * (W * W).sum()).item()"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "X^T W: the wrong product (it raises)",
        key(P3).swap(P3_KEY_LINE, "return F.cross_entropy(X.T @ W, y) + 0.5 * lam * (W * W).sum()"),
        loses=[P3_VALUE],
    ),
    Wrong(
        P3,
        "the softmax computed literally (it overflows for large scores)",
        """
def softmax_regression_loss(W, X, y, lam):
    E = torch.exp(X @ W)
    P = E / E.sum(dim=1, keepdim=True)
    return -torch.log(P[torch.arange(len(y)), y]).mean() + 0.5 * lam * (W ** 2).sum()
""",
        loses=[P3_STABLE],
    ),
]

# -- Problem 4.1: mlp_sigmoid_forward, cross_entropy_loss, sgd_step ------------------------------------------------

P41 = "p4_1_code"
P41_FORWARD, P41_LOSS, P41_STEP, P41_RULE = (
    "p4_1_forward_tests",
    "p4_1_loss_tests",
    "p4_1_sgd_step_tests",
    "p4_1_no_module_tests",
)
P41_FORWARD_LINES = (
    '    Z1 = torch.sigmoid(X @ params["W1"].T + params["b1"])        # (m, d1)\n'
    '    return Z1 @ params["W2"].T + params["b2"]                    # (m, k)'
)


def p41_forward(body: str):
    """The key's cell with another body for mlp_sigmoid_forward."""
    return key(P41).swap(P41_FORWARD_LINES, body)


P41_VARIANTS = [
    Correct(
        P41,
        "F.linear, log-sum-exp by hand, .backward() with zeroed grads and .data updates",
        """
def mlp_sigmoid_forward(X, params):
    hidden = torch.sigmoid(F.linear(X, params["W1"], params["b1"]))
    return F.linear(hidden, params["W2"], params["b2"])


def cross_entropy_loss(scores, y):
    return (torch.logsumexp(scores, dim=1) - scores[torch.arange(len(y)), y]).mean()


def sgd_step(params, velocity, loss_fn, X, y, lr, lam=0.0, momentum=0.0, nesterov=False):
    for p in params.values():
        p.grad = None
    loss = loss_fn(params, X, y)
    for p in params.values():
        if p.dim() > 1:
            loss = loss + lam / 2 * (p * p).sum()
    loss.backward()
    for name, p in params.items():
        velocity[name] = momentum * velocity[name] + p.grad
        step = p.grad + momentum * velocity[name] if nesterov else velocity[name]
        p.data -= lr * step
    return loss.item()
""",
    ),
    Correct(
        P41,
        "sigmoid written out, torch.nn.CrossEntropyLoss (a loss, allowed), new leaf tensors, a tensor returned",
        """
ce = torch.nn.CrossEntropyLoss()


def mlp_sigmoid_forward(X, params):
    A = X @ params["W1"].T + params["b1"]
    return (1 / (1 + torch.exp(-A))) @ params["W2"].T + params["b2"]


def cross_entropy_loss(scores, y):
    return ce(scores, y)


def sgd_step(params, velocity, loss_fn, X, y, lr, lam=0.0, momentum=0.0, nesterov=False):
    names = sorted(params)
    penalty = sum(params[n].pow(2).sum() for n in names if len(params[n].shape) >= 2)
    objective = loss_fn(params, X, y) + lam / 2 * penalty
    grads = torch.autograd.grad(objective, [params[n] for n in names])
    for n, g in zip(names, grads):
        velocity[n] = momentum * velocity[n] + g
        update = g + momentum * velocity[n] if nesterov else velocity[n]
        params[n] = (params[n] - lr * update).detach().requires_grad_(True)
    return objective.detach()
""",
    ),
    Correct(
        P41,
        "torch.addmm, F.log_softmax without dim (PyTorch warns), copy_ into the velocity, printing",
        """
def mlp_sigmoid_forward(X, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = torch.sigmoid(torch.addmm(b1, X, W1.t()))
    return torch.addmm(b2, H, W2.t())


def cross_entropy_loss(scores, y):
    logp = F.log_softmax(scores)
    return -logp.gather(1, y.view(-1, 1)).mean()


def sgd_step(params, velocity, loss_fn, X, y, lr, lam=0.0, momentum=0.0, nesterov=False):
    loss = loss_fn(params, X, y)
    reg = 0.0
    for name, P in params.items():
        if P.ndim >= 2:
            reg = reg + (P ** 2).sum()
    total = loss + 0.5 * lam * reg
    grads = torch.autograd.grad(total, list(params.values()))
    with torch.no_grad():
        for (name, P), g in zip(params.items(), grads):
            velocity[name].copy_(momentum * velocity[name] + g)
            if nesterov:
                P -= lr * (g + momentum * velocity[name])
            else:
                P -= lr * velocity[name]
    print(f"objective {total.item():.4f}")
    return total.item()
""",
    ),
    Correct(
        P41,
        "torch.optim.SGD with the velocities as its momentum buffers and weight decay on the matrices",
        key(P41).swap(
            key(P41)[key(P41).index("def sgd_step") :],
            """def sgd_step(params, velocity, loss_fn, X, y, lr, lam=0.0, momentum=0.0, nesterov=False):
    mats = [p for p in params.values() if p.ndim >= 2]
    vecs = [p for p in params.values() if p.ndim < 2]
    groups = [{"params": mats, "weight_decay": lam}] + ([{"params": vecs, "weight_decay": 0.0}] if vecs else [])
    opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
    if momentum:
        for name, p in params.items():
            opt.state[p]["momentum_buffer"] = velocity[name]
    opt.zero_grad()
    data_loss = loss_fn(params, X, y)
    data_loss.backward()
    with torch.no_grad():
        objective = data_loss + lam / 2 * sum((p ** 2).sum() for p in mats)
    opt.step()
    return objective.item()
""",
        ),
    ),
    Correct(
        P41,
        "float32 forward pass, NLL of log-softmax, a helper for the penalty",
        """
def mlp_sigmoid_forward(X, params):
    p = {k: v.float() for k, v in params.items()}
    return torch.sigmoid(X.float() @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]


def cross_entropy_loss(scores, y):
    return F.nll_loss(F.log_softmax(scores, dim=1), y)


def l2_penalty(params):
    return sum((P * P).sum() for P in params.values() if P.ndim > 1)


def sgd_step(params, velocity, loss_fn, X, y, lr, lam=0.0, momentum=0.0, nesterov=False):
    objective = loss_fn(params, X, y) + 0.5 * lam * l2_penalty(params)
    grads = dict(zip(params, torch.autograd.grad(objective, tuple(params.values()))))
    with torch.no_grad():
        for n in params:
            velocity[n].mul_(momentum).add_(grads[n])
            direction = torch.add(grads[n], velocity[n], alpha=momentum) if nesterov else velocity[n]
            params[n].add_(direction, alpha=-lr)
    return float(objective)
""",
    ),
    Wrong(
        P41,
        "X @ W1 without the transpose (it raises)",
        key(P41).swap('torch.sigmoid(X @ params["W1"].T', 'torch.sigmoid(X @ params["W1"]'),
        loses=[P41_FORWARD],
    ),
    Wrong(
        P41,
        "a sigmoid on the output scores too",
        p41_forward(
            '    Z1 = torch.sigmoid(X @ params["W1"].T + params["b1"])\n'
            '    return torch.sigmoid(Z1 @ params["W2"].T + params["b2"])'
        ),
        loses=[P41_FORWARD],
    ),
    Wrong(
        P41,
        "cross_entropy of the probabilities",
        key(P41).swap("return F.cross_entropy(scores, y)", "return F.cross_entropy(torch.softmax(scores, dim=1), y)"),
        loses=[P41_LOSS],
    ),
    Wrong(
        P41,
        "the loss as a Python float",
        key(P41).swap("return F.cross_entropy(scores, y)", "return F.cross_entropy(scores, y).item()"),
        loses=[P41_LOSS],
    ),
    Wrong(
        P41,
        "the biases penalized too",
        key(P41).swap(" for n in names if params[n].ndim >= 2)", " for n in names)"),
        loses=[P41_STEP],
    ),
    Wrong(
        P41,
        "lam instead of lam / 2 in the objective",
        key(P41).swap("objective = objective + 0.5 * lam * sum(", "objective = objective + lam * sum("),
        loses=[P41_STEP],
    ),
    Wrong(
        P41,
        "nesterov ignored",
        key(P41).swap("params[n].sub_(lr * (g + momentum * v if nesterov else v))", "params[n].sub_(lr * v)"),
        loses=[P41_STEP],
    ),
    Wrong(
        P41,
        "gradients accumulate from one call to the next (.backward() without zeroing)",
        key(P41).swap(
            "    grads = torch.autograd.grad(objective, [params[n] for n in names])",
            "    objective.backward()\n    grads = [params[n].grad for n in names]",
        ),
        loses=[P41_STEP],
    ),
    Wrong(
        P41,
        "returns the objective after the step",
        key(P41).swap(
            "    return objective.item()",
            "    after = loss_fn(params, X, y)\n"
            "    return (after + 0.5 * lam * sum((params[n] ** 2).sum() for n in names if params[n].ndim >= 2)).item()",
        ),
        loses=[P41_STEP],
    ),
    Wrong(
        P41,
        "torch.nn.Sigmoid() in the forward pass (a Module)",
        p41_forward(
            '    Z1 = torch.nn.Sigmoid()(X @ params["W1"].T + params["b1"])\n'
            '    return Z1 @ params["W2"].T + params["b2"]'
        ),
        loses=[P41_RULE],
    ),
    Wrong(
        P41,
        "a Module as a default argument",
        key(P41)
        .swap("def mlp_sigmoid_forward(X, params):", "def mlp_sigmoid_forward(X, params, act=torch.nn.Sigmoid()):")
        .swap('Z1 = torch.sigmoid(X @ params["W1"].T', 'Z1 = act(X @ params["W1"].T'),
        loses=[P41_RULE],
    ),
    Wrong(
        P41,
        "a Module reached through a dict",
        ("LAYERS = {'act': torch.nn.Sigmoid()}\n\n\n" + key(P41)).replace(
            'Z1 = torch.sigmoid(X @ params["W1"].T', 'Z1 = LAYERS["act"](X @ params["W1"].T'
        ),
        loses=[P41_RULE],
    ),
    Wrong(
        P41,
        "a subclass of torch.nn.Module that holds the forward pass",
        (
            "class Net(torch.nn.Module):\n"
            "    @staticmethod\n"
            "    def scores(X, params):\n"
            '        return torch.sigmoid(X @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"]\n\n\n'
            + key(P41)
        ).replace(P41_FORWARD_LINES, "    return Net.scores(X, params)"),
        loses=[P41_RULE],
    ),
    Wrong(
        P41,
        "torch.nn.Linear layers loaded with the parameters",
        p41_forward(
            '    lin1 = torch.nn.Linear(params["W1"].shape[1], params["W1"].shape[0]).to(X.dtype)\n'
            '    lin2 = torch.nn.Linear(params["W2"].shape[1], params["W2"].shape[0]).to(X.dtype)\n'
            "    with torch.no_grad():\n"
            '        lin1.weight.copy_(params["W1"]); lin1.bias.copy_(params["b1"])\n'
            '        lin2.weight.copy_(params["W2"]); lin2.bias.copy_(params["b2"])\n'
            "    return lin2(torch.sigmoid(lin1(X)))"
        ),
        loses=[P41_RULE],
    ),
]

# -- Problem 4.2: mlp_relu_forward, squared_error_loss -------------------------------------------------------------

P42, P42_FORWARD, P42_LOSS, P42_RULE = "p4_2_code", "p4_2_forward_tests", "p4_2_loss_tests", "p4_2_no_module_tests"
P42_LOSS_LINE = "return ((Yhat - F.one_hot(y, Yhat.shape[1]).to(Yhat.dtype)) ** 2).mean()"

P42_VARIANTS = [
    Correct(
        P42,
        "clamp and rows of the identity matrix",
        """
def mlp_relu_forward(X, params):
    H = (X @ params["W1"].T + params["b1"]).clamp(min=0)
    return (H @ params["W2"].T + params["b2"]).clamp(min=0)


def squared_error_loss(Yhat, y):
    T = torch.eye(Yhat.shape[1], dtype=Yhat.dtype)[y]
    return ((Yhat - T) ** 2).mean()
""",
    ),
    Correct(
        P42,
        "F.relu, scatter_ and F.mse_loss",
        """
def mlp_relu_forward(X, params):
    return F.relu(F.relu(X @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"])


def squared_error_loss(Yhat, y):
    target = torch.zeros_like(Yhat).scatter_(1, y.unsqueeze(1), 1.0)
    return F.mse_loss(Yhat, target)
""",
    ),
    Correct(
        P42,
        "torch.maximum, torch.nn.MSELoss (a loss, allowed), F.one_hot with num_classes",
        """
mse = torch.nn.MSELoss()


def mlp_relu_forward(X, params):
    A1 = X @ params["W1"].T + params["b1"]
    Z1 = torch.maximum(A1, torch.zeros_like(A1))
    A2 = Z1 @ params["W2"].T + params["b2"]
    return torch.maximum(A2, torch.zeros_like(A2))


def squared_error_loss(Yhat, y):
    return mse(Yhat, F.one_hot(y, num_classes=Yhat.shape[1]).double().to(Yhat.dtype))
""",
    ),
    Correct(
        P42,
        "float32 forward pass, targets built in a loop, printing",
        """
def mlp_relu_forward(X, params):
    X = X.float()
    Z = torch.relu(X @ params["W1"].float().T + params["b1"].float())
    return torch.relu(Z @ params["W2"].float().T + params["b2"].float())


def squared_error_loss(Yhat, y):
    m, k = Yhat.shape
    rows = [[1.0 if j == int(label) else 0.0 for j in range(k)] for label in y]
    T = torch.tensor(rows, dtype=Yhat.dtype)
    loss = ((Yhat - T) ** 2).sum() / (m * k)
    print("squared error", float(loss))
    return loss
""",
    ),
    Correct(
        P42,
        "from torch import nn, then nn.functional (allowed)",
        """
from torch import nn


def mlp_relu_forward(X, params):
    hidden = nn.functional.relu(nn.functional.linear(X, params["W1"], params["b1"]))
    return nn.functional.relu(nn.functional.linear(hidden, params["W2"], params["b2"]))


def squared_error_loss(Yhat, y):
    return nn.functional.mse_loss(Yhat, nn.functional.one_hot(y, Yhat.shape[1]).to(Yhat.dtype))
""",
    ),
    Correct(
        P42,
        "ten classes written into the code (k = 10 in this homework)",
        key(P42).swap(P42_LOSS_LINE, "return ((Yhat - F.one_hot(y, 10).to(Yhat.dtype)) ** 2).mean()"),
    ),
    Wrong(
        P42,
        "no ReLU on the output layer",
        key(P42).swap(
            'return torch.relu(Z1 @ params["W2"].T + params["b2"])', 'return Z1 @ params["W2"].T + params["b2"]'
        ),
        loses=[P42_FORWARD],
    ),
    Wrong(
        P42,
        "the output bias added after the ReLU",
        key(P42).swap(
            'return torch.relu(Z1 @ params["W2"].T + params["b2"])',
            'return torch.relu(Z1 @ params["W2"].T) + params["b2"]',
        ),
        loses=[P42_FORWARD],
    ),
    Wrong(
        P42,
        "F.one_hot without num_classes (wrong on batches without the last classes)",
        key(P42).swap(P42_LOSS_LINE, "return ((Yhat - F.one_hot(y).to(Yhat.dtype)) ** 2).mean()"),
        loses=[P42_LOSS],
    ),
    Wrong(
        P42,
        "summed over the classes, averaged over the samples only",
        key(P42).swap(P42_LOSS_LINE, "return ((Yhat - F.one_hot(y, Yhat.shape[1]).to(Yhat.dtype)) ** 2).sum(1).mean()"),
        loses=[P42_LOSS],
    ),
    Wrong(
        P42,
        "the loss through NumPy (autograd cannot differentiate it)",
        key(P42).swap(
            P42_LOSS_LINE,
            "T = np.eye(Yhat.shape[1])[y.numpy()]\n    return torch.tensor(((Yhat.detach().numpy() - T) ** 2).mean())",
        ),
        loses=[P42_LOSS],
    ),
    Wrong(
        P42,
        "torch.nn.ReLU() in the forward pass (a Module)",
        key(P42).swap("Z1 = torch.relu(X @", "Z1 = torch.nn.ReLU()(X @"),
        loses=[P42_RULE],
    ),
    Wrong(
        P42,
        "a Module class under another name",
        ("Rectifier = torch.nn.ReLU\n\n\n" + key(P42)).replace(
            'return torch.relu(Z1 @ params["W2"].T', 'return Rectifier()(Z1 @ params["W2"].T'
        ),
        loses=[P42_RULE],
    ),
]

# -- Problems 5.1 and 5.2: the reverse and forward modes by hand ---------------------------------------------------

R, R_TESTS, R_RULE = "p5_1_code", "p5_1_tests", "p5_1_no_autodiff_tests"
D, D_TESTS, D_RULE = "p5_2_code", "p5_2_tests", "p5_2_no_autodiff_tests"

F_TORCH = """
def f_torch(w1, w2):
    r = w1 / w2
    return (torch.sin(2 * math.pi * r) + 3 * r - torch.exp(2 * w2)) * (3 * r - torch.exp(2 * w2))

"""


def autodiff_grad(body: str) -> str:
    """A reverse_mode_grad whose values come from autodiff (`body` computes g1, g2 from the tensors a, b)."""
    return (
        F_TORCH
        + "\ndef reverse_mode_grad(w1, w2):\n"
        + "    a = torch.tensor(float(w1), dtype=torch.float64, requires_grad=True)\n"
        + "    b = torch.tensor(float(w2), dtype=torch.float64, requires_grad=True)\n"
        + body
        + "    return float(g1), float(g2)\n"
    )


def autodiff_dw1(body: str) -> str:
    """A forward_mode_grad_w1 whose value comes from autodiff (`body` computes d from the floats w1, w2)."""
    return F_TORCH + "\ndef forward_mode_grad_w1(w1, w2):\n" + body + "    return float(d)\n"


P5_VARIANTS = [
    Correct(
        R,
        "NumPy functions, an array returned",
        """
def reverse_mode_grad(w1, w2):
    z1 = w1 / w2
    z2 = np.sin(2 * np.pi * z1)
    z3 = np.exp(2 * w2)
    z4 = 3 * z1 - z3
    z5 = z2 + z4
    z6 = z4 * z5
    g6 = 1.0
    g5 = g6 * z4
    g4 = g6 * z5 + g5
    g3 = -g4
    g2 = g5
    g1 = 3 * g4 + g2 * 2 * np.pi * np.cos(2 * np.pi * z1)
    return np.array([g1 / w2, -g1 * w1 / w2 ** 2 + 2 * g3 * z3])
""",
    ),
    Correct(
        R,
        "PyTorch float64 tensors without autograd, a tensor returned",
        """
def reverse_mode_grad(w1, w2):
    w1, w2 = torch.tensor(w1, dtype=torch.float64), torch.tensor(w2, dtype=torch.float64)
    z1 = w1 / w2
    z2 = torch.sin(2 * torch.pi * z1)
    z3 = torch.exp(2 * w2)
    z4 = 3 * z1 - z3
    z5 = z2 + z4
    a5 = z4
    a4 = z5 + a5
    a3 = -a4
    a1 = 3 * a4 + 2 * torch.pi * torch.cos(2 * torch.pi * z1) * a5
    return torch.stack([a1 / w2, -a1 * z1 / w2 + 2 * z3 * a3])
""",
    ),
    Correct(
        R,
        "PyTorch float32 scalars (the default dtype), a list returned",
        """
def reverse_mode_grad(w1, w2):
    w1, w2 = torch.tensor(w1), torch.tensor(w2)
    z1 = w1 / w2
    z3 = torch.exp(2 * w2)
    z4 = 3 * z1 - z3
    z5 = torch.sin(2 * math.pi * z1) + z4
    zb5 = z4
    zb4 = z5 + zb5
    zb1 = 3 * zb4 + 2 * math.pi * torch.cos(2 * math.pi * z1) * zb5
    return [zb1 / w2, -zb1 * z1 / w2 - 2 * z3 * zb4]
""",
    ),
    Correct(
        R,
        "a tape of local derivatives swept backwards, printing to stderr",
        """
import sys


def reverse_mode_grad(w1, w2):
    vals, tape = {"w1": w1, "w2": w2}, []

    def op(name, value, parents):
        vals[name] = value
        tape.append((name, parents))

    op("z1", w1 / w2, [("w1", 1 / w2), ("w2", -w1 / w2 ** 2)])
    op("z2", math.sin(2 * math.pi * vals["z1"]), [("z1", 2 * math.pi * math.cos(2 * math.pi * vals["z1"]))])
    op("z3", math.exp(2 * w2), [("w2", 2 * math.exp(2 * w2))])
    op("z4", 3 * vals["z1"] - vals["z3"], [("z1", 3.0), ("z3", -1.0)])
    op("z5", vals["z2"] + vals["z4"], [("z2", 1.0), ("z4", 1.0)])
    op("z6", vals["z4"] * vals["z5"], [("z4", vals["z5"]), ("z5", vals["z4"])])
    adj = dict.fromkeys(vals, 0.0)
    adj["z6"] = 1.0
    for name, parents in reversed(tape):
        for parent, local in parents:
            adj[parent] += adj[name] * local
    print("f =", vals["z6"], file=sys.stderr)
    return adj["w1"], adj["w2"]
""",
    ),
    Wrong(R, "the sign of zb3", key(R).swap("zb3 = -zb4", "zb3 = zb4"), loses=[R_TESTS]),
    Wrong(
        R,
        "2 pi missing in the derivative of line 2",
        key(R).swap("zb1 = 3 * zb4 + 2 * math.pi * math.cos(", "zb1 = 3 * zb4 + math.cos("),
        loses=[R_TESTS],
    ),
    Wrong(R, "zb4 forgets line 5", key(R).swap("zb4 = zb6 * z5 + zb5", "zb4 = zb6 * z5"), loses=[R_TESTS]),
    Wrong(
        R,
        "dz1/dw2 with the wrong sign",
        key(R).swap("dw2 = zb1 * (-z1 / w2)", "dw2 = zb1 * (z1 / w2)"),
        loses=[R_TESTS],
    ),
    Wrong(
        R,
        "torch.autograd.grad",
        autodiff_grad("    g1, g2 = torch.autograd.grad(f_torch(a, b), (a, b))\n"),
        loses=[R_RULE],
    ),
    Wrong(
        R, ".backward()", autodiff_grad("    f_torch(a, b).backward()\n    g1, g2 = a.grad, b.grad\n"), loses=[R_RULE]
    ),
    Wrong(
        R,
        "from torch.autograd import grad",
        "from torch.autograd import grad as derivative\n"
        + autodiff_grad("    g1, g2 = derivative(f_torch(a, b), [a, b])\n"),
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "torch.enable_grad() around autograd",
        autodiff_grad("    with torch.enable_grad():\n        g1, g2 = torch.autograd.grad(f_torch(a, b), (a, b))\n"),
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "torch.func.grad",
        autodiff_grad("    g1, g2 = torch.func.grad(f_torch, argnums=(0, 1))(a.detach(), b.detach())\n"),
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "torch.func.jacfwd",
        autodiff_grad("    g1, g2 = torch.func.jacfwd(f_torch, argnums=(0, 1))(a.detach(), b.detach())\n"),
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "forward-mode AD with dual numbers (torch.autograd.forward_ad)",
        F_TORCH
        + """
import torch.autograd.forward_ad as fwAD


def reverse_mode_grad(w1, w2):
    out = []
    for t1, t2 in ((1.0, 0.0), (0.0, 1.0)):
        with fwAD.dual_level():
            a = fwAD.make_dual(torch.tensor(w1, dtype=torch.float64), torch.tensor(t1, dtype=torch.float64))
            b = fwAD.make_dual(torch.tensor(w2, dtype=torch.float64), torch.tensor(t2, dtype=torch.float64))
            out.append(float(fwAD.unpack_dual(f_torch(a, b)).tangent))
    return tuple(out)
""",
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "autograd inside a helper class",
        F_TORCH
        + """
class Differentiator:
    @staticmethod
    def gradient(w1, w2):
        w = torch.tensor([w1, w2], dtype=torch.float64, requires_grad=True)
        return torch.autograd.grad(f_torch(w[0], w[1]), w)[0]


def reverse_mode_grad(w1, w2):
    g = Differentiator.gradient(w1, w2)
    return float(g[0]), float(g[1])
""",
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "autograd reached through a dict",
        F_TORCH
        + """
TOOLS = {"d": torch.autograd.grad}


def reverse_mode_grad(w1, w2):
    w = torch.tensor([w1, w2], dtype=torch.float64, requires_grad=True)
    g = TOOLS["d"](f_torch(w[0], w[1]), w)[0]
    return float(g[0]), float(g[1])
""",
        loses=[R_RULE],
    ),
    Wrong(
        R,
        "autograd as a default argument",
        F_TORCH
        + """
def reverse_mode_grad(w1, w2, d=torch.autograd.grad, make=torch.tensor):
    w = make([w1, w2], dtype=torch.float64, requires_grad=True)
    g = d(f_torch(w[0], w[1]), w)[0]
    return float(g[0]), float(g[1])
""",
        loses=[R_RULE],
    ),
    Correct(
        D,
        "NumPy functions",
        """
def forward_mode_grad_w1(w1, w2):
    z1, d1 = w1 / w2, 1 / w2
    z2, d2 = np.sin(2 * np.pi * z1), 2 * np.pi * np.cos(2 * np.pi * z1) * d1
    z3, d3 = np.exp(2 * w2), 0.0
    z4, d4 = 3 * z1 - z3, 3 * d1 - d3
    z5, d5 = z2 + z4, d2 + d4
    return d4 * z5 + z4 * d5
""",
    ),
    Correct(
        D,
        "a dual-number class written by hand",
        """
class Dual:
    def __init__(self, value, dot):
        self.value, self.dot = value, dot

    def __add__(self, other):
        return Dual(self.value + other.value, self.dot + other.dot)

    def __sub__(self, other):
        return Dual(self.value - other.value, self.dot - other.dot)

    def __mul__(self, other):
        return Dual(self.value * other.value, self.dot * other.value + self.value * other.dot)

    def __truediv__(self, other):
        return Dual(self.value / other.value, (self.dot * other.value - self.value * other.dot) / other.value ** 2)


def scale(c, u):
    return Dual(c * u.value, c * u.dot)


def dsin(u):
    return Dual(math.sin(u.value), math.cos(u.value) * u.dot)


def dexp(u):
    return Dual(math.exp(u.value), math.exp(u.value) * u.dot)


def forward_mode_grad_w1(w1, w2):
    a, b = Dual(w1, 1.0), Dual(w2, 0.0)
    z1 = a / b
    z2 = dsin(scale(2 * math.pi, z1))
    z3 = dexp(scale(2.0, b))
    z4 = scale(3.0, z1) - z3
    z5 = z2 + z4
    return (z4 * z5).dot
""",
    ),
    Correct(
        D,
        "PyTorch tensors without autograd (float32 by default), a 1-element tensor returned",
        """
def forward_mode_grad_w1(w1, w2):
    w1, w2 = torch.tensor([w1]), torch.tensor([w2])
    z1, dz1 = w1 / w2, 1 / w2
    z2, dz2 = torch.sin(2 * math.pi * z1), 2 * math.pi * torch.cos(2 * math.pi * z1) * dz1
    z3 = torch.exp(2 * w2)
    z4, dz4 = 3 * z1 - z3, 3 * dz1
    z5, dz5 = z2 + z4, dz2 + dz4
    return dz4 * z5 + z4 * dz5
""",
    ),
    Correct(
        D,
        "one helper per line of the trace, printing",
        """
def line1(w1, w2, d1, d2):
    return w1 / w2, d1 / w2 - w1 * d2 / w2 ** 2


def line2(z1, dz1):
    return math.sin(2 * math.pi * z1), 2 * math.pi * math.cos(2 * math.pi * z1) * dz1


def forward_mode_grad_w1(w1, w2):
    z1, dz1 = line1(w1, w2, 1.0, 0.0)
    z2, dz2 = line2(z1, dz1)
    z3, dz3 = math.exp(2 * w2), 0.0
    z4, dz4 = 3 * z1 - z3, 3 * dz1 - dz3
    z5, dz5 = z2 + z4, dz2 + dz4
    dz6 = dz4 * z5 + z4 * dz5
    print("df/dw1 =", dz6)
    return dz6
""",
    ),
    Wrong(
        D, "dz1 = 1 (forgets 1/w2)", key(D).swap("dz1 = dw1 / w2 - w1 * dw2 / w2 ** 2", "dz1 = dw1"), loses=[D_TESTS]
    ),
    Wrong(
        D,
        "dz3 as if w2 were the variable",
        key(D).swap("dz3 = 2 * math.exp(2 * w2) * dw2", "dz3 = 2 * math.exp(2 * w2)"),
        loses=[D_TESTS],
    ),
    Wrong(
        D, "the product rule half done", key(D).swap("dz6 = dz4 * z5 + z4 * dz5", "dz6 = dz4 * dz5"), loses=[D_TESTS]
    ),
    Wrong(
        D,
        "2 pi missing in dz2",
        key(D).swap("dz2 = 2 * math.pi * math.cos(2 * math.pi * z1) * dz1", "dz2 = math.cos(2 * math.pi * z1) * dz1"),
        loses=[D_TESTS],
    ),
    Wrong(
        D,
        "torch.func.jvp",
        autodiff_dw1(
            "    t = lambda v: torch.tensor(v, dtype=torch.float64)\n"
            "    _, d = torch.func.jvp(f_torch, (t(w1), t(w2)), (t(1.0), t(0.0)))\n"
        ),
        loses=[D_RULE],
    ),
    Wrong(
        D,
        "forward_ad dual numbers",
        autodiff_dw1(
            "    import torch.autograd.forward_ad as fwAD\n"
            "    with fwAD.dual_level():\n"
            "        one = torch.tensor(1.0, dtype=torch.float64)\n"
            "        a = fwAD.make_dual(torch.tensor(w1, dtype=torch.float64), one)\n"
            "        d = fwAD.unpack_dual(f_torch(a, torch.tensor(w2, dtype=torch.float64))).tangent\n"
        ),
        loses=[D_RULE],
    ),
    Wrong(
        D,
        "torch.func.jacfwd",
        autodiff_dw1(
            "    t = lambda v: torch.tensor(v, dtype=torch.float64)\n    d = torch.func.jacfwd(f_torch)(t(w1), t(w2))\n"
        ),
        loses=[D_RULE],
    ),
    Wrong(
        D,
        "requires_grad and .backward() under torch.enable_grad()",
        autodiff_dw1(
            "    with torch.enable_grad():\n"
            "        a = torch.tensor(w1, dtype=torch.float64, requires_grad=True)\n"
            "        f_torch(a, torch.tensor(w2, dtype=torch.float64)).backward()\n"
            "    d = a.grad\n"
        ),
        loses=[D_RULE],
    ),
    Wrong(
        D,
        "autograd through a dict and a default argument",
        F_TORCH
        + """
OPS = {"grad": torch.autograd.grad}


def forward_mode_grad_w1(w1, w2, ops=OPS):
    a = torch.tensor(w1, dtype=torch.float64).requires_grad_()
    return float(ops["grad"](f_torch(a, torch.tensor(w2, dtype=torch.float64)), a)[0])
""",
        loses=[D_RULE],
    ),
    Wrong(
        D,
        "autograd inside a helper class",
        F_TORCH
        + """
class Slope:
    @staticmethod
    def of(w1, w2):
        a = torch.tensor(w1, dtype=torch.float64, requires_grad=True)
        (d,) = torch.autograd.grad(f_torch(a, torch.tensor(w2, dtype=torch.float64)), a)
        return float(d)


def forward_mode_grad_w1(w1, w2):
    return Slope.of(w1, w2)
""",
        loses=[D_RULE],
    ),
]

VARIANTS = P21_VARIANTS + XOR_VARIANTS + P3_VARIANTS + P41_VARIANTS + P42_VARIANTS + P5_VARIANTS
