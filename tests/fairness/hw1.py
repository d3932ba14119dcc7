"""Fairness corpus of hw1: answers a class would write for every autograded answer cell (docs/authoring.md).

Correct answers come in other styles (loops, lists, float32, torch arithmetic, helpers, printing, warnings);
wrong ones are the mistakes a class makes (sign, factor 2, a missing term, the forbidden shortcut and every
way around the "no automatic differentiation" rule). `loses` lists the one test each mistake must cost.
"""

from fairness import Correct, Wrong, key

JAC = ["p1_jacobian_tests"]
P1_RULE = ["p1_no_autodiff_tests"]
WD, L2 = ["p3_weight_decay_tests"], ["p3_l2_update_tests"]
REV, P9_RULE = ["p9_reverse_mode_tests"], ["p9_no_autodiff_tests"]
FWD, P10_RULE = ["p10_forward_mode_tests"], ["p10_no_autodiff_tests"]

# ---------------------------------------------------------------------------------------------- problem 1
P1_KEY = key("p1_softmax")
P1 = [
    Correct(
        "p1_softmax",
        "double loop over i and j, own softmax, nested lists",
        """
def softmax_jacobian(z):
    e = [math.exp(v - max(z)) for v in z]
    s = [v / sum(e) for v in e]
    n = len(s)
    J = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                J[i][j] = s[i] * (1 - s[i])
            else:
                J[i][j] = -s[i] * s[j]
    return J
""",
    ),
    Correct(
        "p1_softmax",
        "plain torch arithmetic in float32, returns a tensor",
        """
def softmax_jacobian(z):
    s = torch.softmax(torch.tensor(z, dtype=torch.float32), dim=0)
    return torch.diag(s) - torch.outer(s, s)
""",
    ),
    Correct(
        "p1_softmax",
        "s_i (delta_ij - s_j) by broadcasting, unstable exp (fine for these logits)",
        """
def softmax_jacobian(z):
    e = np.exp(z)
    s = e / np.sum(e)
    return s[:, None] * (np.eye(len(s)) - s[None, :])
""",
    ),
    Correct(
        "p1_softmax",
        "helper function, einsum, prints, DeprecationWarning and stderr",
        """
import sys
import warnings


def _outer(a, b):
    return np.einsum("i,j->ij", a, b)


def softmax_jacobian(z):
    warnings.warn("np.outer is old-fashioned", DeprecationWarning)
    s = softmax(z)
    print("softmax:", s)
    print("computing the Jacobian", file=sys.stderr)
    return np.diagflat(s) - _outer(s, s)
""",
    ),
    Correct(
        "p1_softmax",
        "scipy's softmax",
        """
from scipy.special import softmax as sp_softmax


def softmax_jacobian(z):
    s = sp_softmax(z)
    return np.diag(s) - s[:, None] * s[None, :]
""",
    ),
    Correct(
        "p1_softmax",
        "a check against autograd in the same cell (other names)",
        P1_KEY
        + """


z_check = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
J_auto = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), z_check)
print("max difference to autograd:", np.abs(softmax_jacobian(z_check.numpy()) - J_auto.numpy()).max())
""",
    ),
    Wrong(
        "p1_softmax",
        "sign: s s^T - diag(s)",
        P1_KEY.swap("np.diag(s) - np.outer(s, s)", "np.outer(s, s) - np.diag(s)"),
        loses=JAC,
    ),
    Wrong(
        "p1_softmax",
        "diagonal only, s_i (1 - s_i)",
        P1_KEY.swap("np.diag(s) - np.outer(s, s)", "np.diag(s * (1 - s))"),
        loses=JAC,
    ),
    Wrong(
        "p1_softmax",
        "plus instead of minus",
        P1_KEY.swap("np.diag(s) - np.outer(s, s)", "np.diag(s) + np.outer(s, s)"),
        loses=JAC,
    ),
    Wrong(
        "p1_softmax",
        "off-diagonal only, -s s^T",
        P1_KEY.swap("np.diag(s) - np.outer(s, s)", "-np.outer(s, s)"),
        loses=JAC,
    ),
    Wrong(
        "p1_softmax",
        "exp(z) instead of s on the diagonal",
        P1_KEY.swap("np.diag(s) - np.outer(s, s)", "np.diag(np.exp(z)) - np.outer(s, s)"),
        loses=JAC,
    ),
    Wrong(
        "p1_softmax",
        "the forbidden shortcut: torch.autograd.functional.jacobian",
        """
def softmax_jacobian(z):
    return torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "torch.func.jacrev",
        """
def softmax_jacobian(z):
    return torch.func.jacrev(lambda t: torch.softmax(t, dim=0))(torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "forward mode: torch.func.jacfwd",
        """
from torch.func import jacfwd


def softmax_jacobian(z):
    return jacfwd(lambda t: torch.softmax(t, dim=0))(torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "rows by backward() under enable_grad",
        """
def softmax_jacobian(z):
    rows = []
    with torch.enable_grad():
        for i in range(len(z)):
            t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
            torch.softmax(t, dim=0)[i].backward()
            rows.append(t.grad.numpy())
    return np.array(rows)
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "from torch.autograd.functional import jacobian, renamed",
        """
from torch.autograd.functional import jacobian as J_of


def softmax_jacobian(z):
    return J_of(lambda t: torch.softmax(t, dim=0), torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "autograd reached through a dict",
        """
TOOLS = {"jac": torch.autograd.functional.jacobian}


def softmax_jacobian(z):
    return TOOLS["jac"](lambda t: torch.softmax(t, dim=0), torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "autograd as a default argument",
        """
def softmax_jacobian(z, jac=torch.autograd.functional.jacobian):
    return jac(lambda t: torch.softmax(t, dim=0), torch.tensor(z)).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p1_softmax",
        "autograd's jacobian kept in a class",
        """
class Differentiator:
    jac = staticmethod(torch.autograd.functional.jacobian)

    def jacobian(self, z):
        return self.jac(lambda t: torch.softmax(t, dim=0), torch.tensor(z))


def softmax_jacobian(z):
    return Differentiator().jacobian(z).numpy()
""",
        loses=P1_RULE,
    ),
]

# ---------------------------------------------------------------------------------------------- problem 2
P2_KEY = key("p2_neg_log_prior")
P2 = [
    Correct(
        "p2_neg_log_prior",
        "a loop with math, Python float",
        """
def neg_log_gaussian_prior(phi, sigma):
    total = 0.0
    for p, s in zip(phi, sigma):
        total += p * p / (2 * s * s)
    return total
""",
    ),
    Correct(
        "p2_neg_log_prior",
        "float32 numpy, returns a numpy float32",
        """
def neg_log_gaussian_prior(phi, sigma):
    phi, sigma = np.float32(phi), np.float32(sigma)
    return np.sum(0.5 * (phi / sigma) ** 2)
""",
    ),
    Correct(
        "p2_neg_log_prior",
        "torch, returns a 0-d tensor",
        """
def neg_log_gaussian_prior(phi, sigma):
    phi, sigma = torch.as_tensor(phi), torch.as_tensor(sigma)
    return (phi.pow(2) / sigma.pow(2)).sum() / 2
""",
    ),
    Correct(
        "p2_neg_log_prior",
        "dot product, a one-element array, prints",
        """
def neg_log_gaussian_prior(phi, sigma):
    r = np.asarray(phi) / np.asarray(sigma)
    print("scaled parameters:", r)
    return np.array([r @ r / 2])
""",
    ),
    Correct(
        "p2_neg_log_prior",
        "log-density difference -log N(phi) + log N(0)",
        """
def log_normal(v, s):
    return -0.5 * np.log(2 * np.pi * s ** 2) - v ** 2 / (2 * s ** 2)


def neg_log_gaussian_prior(phi, sigma):
    return float(np.sum(log_normal(0.0, sigma) - log_normal(phi, sigma)))
""",
    ),
    Wrong(
        "p2_neg_log_prior",
        "factor 2: no 1/2",
        P2_KEY.swap("(2.0 * sigma ** 2)", "(sigma ** 2)"),
        loses=["p2_neg_log_prior_tests"],
    ),
    Wrong(
        "p2_neg_log_prior",
        "sigma not squared",
        P2_KEY.swap("(2.0 * sigma ** 2)", "(2.0 * sigma)"),
        loses=["p2_neg_log_prior_tests"],
    ),
    Wrong(
        "p2_neg_log_prior",
        "keeps the normalising constant",
        P2_KEY.swap(
            "return float(np.sum(phi ** 2 / (2.0 * sigma ** 2)))",
            "return float(np.sum(phi ** 2 / (2.0 * sigma ** 2) + 0.5 * np.log(2 * np.pi * sigma ** 2)))",
        ),
        loses=["p2_neg_log_prior_tests"],
    ),
    Wrong("p2_neg_log_prior", "mean for sum", P2_KEY.swap("np.sum(", "np.mean("), loses=["p2_neg_log_prior_tests"]),
    Wrong(
        "p2_neg_log_prior",
        "multiplies by sigma^2",
        P2_KEY.swap("phi ** 2 / (2.0 * sigma ** 2)", "phi ** 2 * sigma ** 2 / 2.0"),
        loses=["p2_neg_log_prior_tests"],
    ),
]

# ---------------------------------------------------------------------------------------------- problem 3
P3_KEY = key("p3_updates")
P3 = [
    Correct(
        "p3_updates",
        "in place, returns phi",
        """
def weight_decay_update(phi, grad, alpha, lam):
    phi *= 1 - lam
    phi -= alpha * grad
    return phi


def l2_regularized_update(phi, grad, alpha, lam):
    phi -= alpha * (grad + lam / alpha * phi)
    return phi
""",
    ),
    Correct(
        "p3_updates",
        "float32, the L2 step written as phi - alpha grad - lam phi",
        """
def weight_decay_update(phi, grad, alpha, lam):
    phi, grad = np.float32(phi), np.float32(grad)
    return np.float32(1 - lam) * phi - np.float32(alpha) * grad


def l2_regularized_update(phi, grad, alpha, lam):
    phi, grad = np.float32(phi), np.float32(grad)
    return phi - alpha * grad - lam * phi
""",
    ),
    Correct(
        "p3_updates",
        "torch tensors, gradient of the penalty as a helper",
        """
def penalty_gradient(phi, alpha, lam):
    return lam / (2 * alpha) * 2 * phi


def weight_decay_update(phi, grad, alpha, lam):
    return (1 - lam) * torch.as_tensor(phi) - alpha * torch.as_tensor(grad)


def l2_regularized_update(phi, grad, alpha, lam):
    phi = torch.as_tensor(phi)
    return phi - alpha * (torch.as_tensor(grad) + penalty_gradient(phi, alpha, lam))
""",
    ),
    Correct(
        "p3_updates",
        "the L2 step calls the weight-decay step, prints, warns",
        """
import warnings


def weight_decay_update(phi, grad, alpha, lam):
    new = phi - lam * phi - alpha * grad
    print("weight decay step, mean |change| =", np.abs(new - phi).mean())
    return new


def l2_regularized_update(phi, grad, alpha, lam):
    warnings.warn("same as weight decay", UserWarning)
    return weight_decay_update(phi, grad, alpha, lam)
""",
    ),
    Wrong(
        "p3_updates",
        "weight decay scaled by the learning rate, (1 - alpha lam)",
        P3_KEY.swap("(1.0 - lam) * np.asarray", "(1.0 - alpha * lam) * np.asarray"),
        loses=WD,
    ),
    Wrong(
        "p3_updates",
        "weight decay with the wrong sign, (1 + lam)",
        P3_KEY.swap("(1.0 - lam) * np.asarray", "(1.0 + lam) * np.asarray"),
        loses=WD,
    ),
    Wrong(
        "p3_updates", "weight decay forgets the decay", P3_KEY.swap("(1.0 - lam) * np.asarray", "np.asarray"), loses=WD
    ),
    Wrong(
        "p3_updates",
        "L2 gradient without 1/alpha, grad + lam phi",
        P3_KEY.swap("(lam / alpha) * phi", "lam * phi"),
        loses=L2,
    ),
    Wrong(
        "p3_updates",
        "L2 gradient missing the 2, lam / (2 alpha) phi",
        P3_KEY.swap("(lam / alpha) * phi", "(lam / (2 * alpha)) * phi"),
        loses=L2,
    ),
    Wrong(
        "p3_updates",
        "L2 step adds the penalty instead of its gradient",
        P3_KEY.swap("(lam / alpha) * phi", "(lam / (2 * alpha)) * phi ** 2"),
        loses=L2,
    ),
    Wrong(
        "p3_updates",
        "L2 step returns the gradient, not the new parameters",
        P3_KEY.swap("return phi - alpha * grad_tilde", "return grad_tilde"),
        loses=L2,
    ),
]

# ---------------------------------------------------------------------------------------------- problems 4-6
P456 = [
    Correct("p4_answer", "an int", "rf_problem4 = 7\nprint(rf_problem4)\n"),
    Correct("p4_answer", "a float", "rf_problem4 = 7.0\n"),
    Correct(
        "p4_answer",
        "computed with a loop, numpy integer",
        """
r = np.int64(1)
for k in (3, 3, 3):
    r += k - 1
rf_problem4 = r
""",
    ),
    Correct("p4_answer", "a one-element array", "rf_problem4 = np.array([7])\n"),
    Wrong("p4_answer", "kernel sizes multiplied, 3 * 3", "rf_problem4 = 9\n", loses=["p4_answer_tests"]),
    Wrong("p4_answer", "off by one, 3 * 2", "rf_problem4 = 6\n", loses=["p4_answer_tests"]),
    Wrong("p4_answer", "two layers' worth, 5", "rf_problem4 = 5\n", loses=["p4_answer_tests"]),
    Wrong("p4_answer", "3 ** 3", "rf_problem4 = 27\n", loses=["p4_answer_tests"]),
    Correct("p5_answer", "an int", "rf_problem5 = 19\n"),
    Correct("p5_answer", "the formula 1 + K (k - 1)", "K, k = 3, 7\nrf_problem5 = 1 + K * (k - 1)\n"),
    Correct("p5_answer", "a 0-d torch tensor", "rf_problem5 = torch.tensor(19)\n"),
    Correct(
        "p5_answer",
        "a helper function, a float",
        """
def stacked_rf(kernel_sizes):
    return 1.0 + sum(k - 1 for k in kernel_sizes)


rf_problem5 = stacked_rf([7, 7, 7])
print("rf_problem5 =", rf_problem5)
""",
    ),
    Wrong("p5_answer", "3 * 7", "rf_problem5 = 21\n", loses=["p5_answer_tests"]),
    Wrong("p5_answer", "off by one, 3 * 6", "rf_problem5 = 18\n", loses=["p5_answer_tests"]),
    Wrong("p5_answer", "second layer's, 13", "rf_problem5 = 13\n", loses=["p5_answer_tests"]),
    Wrong("p5_answer", "7 ** 3", "rf_problem5 = 343\n", loses=["p5_answer_tests"]),
    Correct("p6_answer", "a list", "rf_problem6 = [5, 9, 25]\n"),
    Correct("p6_answer", "a tuple of floats", "rf_problem6 = (5.0, 9.0, 25.0)\n"),
    Correct(
        "p6_answer",
        "a numpy array from the general rule",
        """
def receptive_field_sizes(ks, ss, ds):
    out, r, jump = [], 1, 1
    for k, s, d in zip(ks, ss, ds):
        r = r + (k - 1) * d * jump
        jump = jump * s
        out.append(r)
    return out


rf_problem6 = np.array(receptive_field_sizes([5, 3, 5], [2, 1, 1], [1, 1, 2]))
""",
    ),
    Correct("p6_answer", "a list of numpy integers", "rf_problem6 = list(np.array([5, 9, 25]))\n"),
    Wrong("p6_answer", "ignores stride and dilation", "rf_problem6 = [5, 7, 11]\n", loses=["p6_answer_tests"]),
    Wrong("p6_answer", "ignores the dilation", "rf_problem6 = [5, 9, 17]\n", loses=["p6_answer_tests"]),
    Wrong("p6_answer", "ignores the stride", "rf_problem6 = [5, 7, 15]\n", loses=["p6_answer_tests"]),
    Wrong(
        "p6_answer",
        "each layer's own stride in its jump (j_l for j_(l-1))",
        "rf_problem6 = [9, 13, 29]\n",
        loses=["p6_answer_tests"],
    ),
    Wrong("p6_answer", "H3 only", "rf_problem6 = [25]\n", loses=["p6_answer_tests"]),
]

# ---------------------------------------------------------------------------------------------- problem 7
P7_KEY = key("p7_linreg_hessian")
HESS = ["p7_hessian_tests"]
P7 = [
    Correct(
        "p7_linreg_hessian",
        "loops that add up the second derivatives, nested list",
        """
def linreg_hessian(x):
    h00 = h01 = h11 = 0.0
    for xi in x:
        h00 += 2
        h01 += 2 * xi
        h11 += 2 * xi * xi
    return [[h00, h01], [h01, h11]]
""",
    ),
    Correct(
        "p7_linreg_hessian",
        "2 A^T A with the design matrix",
        """
def linreg_hessian(x):
    A = np.column_stack([np.ones(len(x)), x])
    return 2 * A.T @ A
""",
    ),
    Correct(
        "p7_linreg_hessian",
        "torch float32",
        """
def linreg_hessian(x):
    x = torch.tensor(x, dtype=torch.float32)
    n = torch.tensor(float(len(x)))
    return 2 * torch.stack([torch.stack([n, x.sum()]), torch.stack([x.sum(), (x * x).sum()])])
""",
    ),
    Correct(
        "p7_linreg_hessian",
        "sum of outer products in a helper, prints",
        """
def feature(xi):
    return np.array([1.0, xi])


def linreg_hessian(x):
    H = sum(2 * np.outer(feature(xi), feature(xi)) for xi in x)
    print("trace", np.trace(H), "det", np.linalg.det(H))
    return H
""",
    ),
    Wrong("p7_linreg_hessian", "no factor 2", P7_KEY.swap("return 2.0 * np.array", "return np.array"), loses=HESS),
    Wrong(
        "p7_linreg_hessian",
        "mean instead of sum",
        P7_KEY.swap("return 2.0 * np.array", "return 2.0 / x.size * np.array"),
        loses=HESS,
    ),
    Wrong(
        "p7_linreg_hessian",
        "phi1 first: rows and columns swapped",
        P7_KEY.swap("[[x.size, x.sum()], [x.sum(), np.sum(x ** 2)]]", "[[np.sum(x ** 2), x.sum()], [x.sum(), x.size]]"),
        loses=HESS,
    ),
    Wrong("p7_linreg_hessian", "(sum x)^2 for sum x^2", P7_KEY.swap("np.sum(x ** 2)", "x.sum() ** 2"), loses=HESS),
    Wrong(
        "p7_linreg_hessian",
        "mixed partials left out",
        P7_KEY.swap("[[x.size, x.sum()], [x.sum(),", "[[x.size, 0.0], [0.0,"),
        loses=HESS,
    ),
]

# ---------------------------------------------------------------------------------------------- problem 8
LOSS_KEY = key("p8_logistic_loss")
LOSS = ["p8_loss_tests"]
GRAD_KEY = key("p8_logistic_loss_grad")
GRAD = ["p8_grad_tests"]
P8 = [
    Correct(
        "p8_logistic_loss",
        "the textbook formula with the sigmoid",
        """
def logistic_loss(phi0, phi1, x, y):
    s = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    return -np.sum(y * np.log(s) + (1 - y) * np.log(1 - s))
""",
    ),
    Correct(
        "p8_logistic_loss",
        "clipped probabilities, a loop",
        """
def logistic_loss(phi0, phi1, x, y):
    total = 0.0
    for xi, yi in zip(x, y):
        p = 1.0 / (1.0 + math.exp(-(phi0 + phi1 * xi)))
        p = min(max(p, 1e-12), 1 - 1e-12)
        total -= math.log(p) if yi == 1 else math.log(1 - p)
    return total
""",
    ),
    Correct(
        "p8_logistic_loss",
        "torch binary cross-entropy in float32",
        """
def logistic_loss(phi0, phi1, x, y):
    z = torch.tensor(phi0 + phi1 * x, dtype=torch.float32)
    return F.binary_cross_entropy(torch.sigmoid(z), torch.tensor(y, dtype=torch.float32), reduction="sum")
""",
    ),
    Correct(
        "p8_logistic_loss",
        "float32 numpy with log1p, a helper, prints to stderr",
        """
import sys


def sigmoid32(z):
    return np.float32(1) / (np.float32(1) + np.exp(-np.float32(z)))


def logistic_loss(phi0, phi1, x, y):
    s = sigmoid32(phi0 + phi1 * x)
    print("predictions", s, file=sys.stderr)
    return -np.sum(y * np.log(s) + (1 - y) * np.log1p(-s))
""",
    ),
    Correct(
        "p8_logistic_loss",
        "1e-7 added inside the logarithms",
        """
def logistic_loss(phi0, phi1, x, y):
    p = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    return -np.sum(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7))
""",
    ),
    Correct(
        "p8_logistic_loss",
        "scipy's expit and xlogy, probabilities clipped in float32",
        """
from scipy.special import expit, xlogy


def logistic_loss(phi0, phi1, x, y):
    p = np.clip(expit(np.float32(phi0 + phi1 * x)), 1e-7, 1 - 1e-7)
    return -(xlogy(y, p) + xlogy(1 - y, 1 - p)).sum()
""",
    ),
    Wrong("p8_logistic_loss", "mean for sum", LOSS_KEY.swap("np.sum(", "np.mean("), loses=LOSS),
    Wrong(
        "p8_logistic_loss",
        "log10",
        """
def logistic_loss(phi0, phi1, x, y):
    s = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    return -np.sum(y * np.log10(s) + (1 - y) * np.log10(1 - s))
""",
        loses=LOSS,
    ),
    Wrong(
        "p8_logistic_loss",
        "sign: the log-likelihood",
        LOSS_KEY.swap("return float(np.sum(", "return -float(np.sum("),
        loses=LOSS,
    ),
    Wrong(
        "p8_logistic_loss",
        "only the y = 1 term",
        """
def logistic_loss(phi0, phi1, x, y):
    s = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    return -np.sum(y * np.log(s))
""",
        loses=LOSS,
    ),
    Wrong(
        "p8_logistic_loss",
        "labels swapped: y log(1 - s) + (1 - y) log s",
        """
def logistic_loss(phi0, phi1, x, y):
    s = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    return -np.sum(y * np.log(1 - s) + (1 - y) * np.log(s))
""",
        loses=LOSS,
    ),
    Correct(
        "p8_logistic_loss_grad",
        "the textbook sigmoid, returns a list",
        """
def logistic_loss_grad(phi0, phi1, x, y):
    err = 1 / (1 + np.exp(-(phi0 + phi1 * x))) - y
    return [err.sum(), (err * x).sum()]
""",
    ),
    Correct(
        "p8_logistic_loss_grad",
        "a loop, returns a numpy array",
        """
def logistic_loss_grad(phi0, phi1, x, y):
    g = np.zeros(2)
    for xi, yi in zip(x, y):
        e = 1.0 / (1.0 + math.exp(-phi0 - phi1 * xi)) - yi
        g += e * np.array([1.0, xi])
    return g
""",
    ),
    Correct(
        "p8_logistic_loss_grad",
        "torch float32 arithmetic, a tuple of tensors",
        """
def logistic_loss_grad(phi0, phi1, x, y):
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    err = torch.sigmoid(phi0 + phi1 * x) - y
    return err.sum(), (err * x).sum()
""",
    ),
    Correct(
        "p8_logistic_loss_grad",
        "the design matrix, a DeprecationWarning",
        """
import warnings


def logistic_loss_grad(phi0, phi1, x, y):
    warnings.warn("use the matrix form", DeprecationWarning)
    A = np.stack([np.ones_like(x), x], axis=1)
    p = 1 / (1 + np.exp(-(A @ np.array([phi0, phi1]))))
    return tuple(A.T @ (p - y))
""",
    ),
    Wrong(
        "p8_logistic_loss_grad",
        "sign: y - sig(z)",
        GRAD_KEY.swap(
            "return float(np.sum(err)), float(np.sum(err * x))", "return -float(np.sum(err)), -float(np.sum(err * x))"
        ),
        loses=GRAD,
    ),
    Wrong(
        "p8_logistic_loss_grad",
        "dL/dphi1 without the factor x",
        GRAD_KEY.swap("float(np.sum(err * x))", "float(np.sum(err))"),
        loses=GRAD,
    ),
    Wrong(
        "p8_logistic_loss_grad",
        "order swapped",
        GRAD_KEY.swap(
            "return float(np.sum(err)), float(np.sum(err * x))", "return float(np.sum(err * x)), float(np.sum(err))"
        ),
        loses=GRAD,
    ),
    Wrong(
        "p8_logistic_loss_grad",
        "mean for sum",
        GRAD_KEY.swap("float(np.sum(err)), float(np.sum(err * x))", "float(np.mean(err)), float(np.mean(err * x))"),
        loses=GRAD,
    ),
    Wrong(
        "p8_logistic_loss_grad",
        "sig'(z) in place of sig(z) - y",
        """
def logistic_loss_grad(phi0, phi1, x, y):
    s = 1 / (1 + np.exp(-(phi0 + phi1 * x)))
    d = s * (1 - s)
    return d.sum(), (d * x).sum()
""",
        loses=GRAD,
    ),
]

DATA = ["p8_data_tests"]
P8_DATA = [
    Correct(
        "p8_data",
        "np.random.seed and randn",
        """
np.random.seed(42)
x_logistic = np.concatenate([np.random.randn(10) - 1, np.random.randn(10) + 1])
y_logistic = np.concatenate([np.zeros(10), np.ones(10)])
""",
    ),
    Correct(
        "p8_data",
        "lists, integer labels, classes interleaved",
        """
rng = np.random.default_rng(7)
x_logistic, y_logistic = [], []
for i in range(10):
    x_logistic += [float(rng.normal(-1, 1)), float(rng.normal(1, 1))]
    y_logistic += [0, 1]
""",
    ),
    Correct(
        "p8_data",
        "torch.randn, float32 tensors",
        """
torch.manual_seed(3)
x_logistic = torch.cat([torch.randn(10) - 1, torch.randn(10) + 1])
y_logistic = torch.cat([torch.zeros(10), torch.ones(10)])
""",
    ),
    Correct(
        "p8_data",
        "shuffled, boolean labels, printed",
        """
rng = np.random.default_rng(11)
x_all = np.concatenate([rng.normal(-1, 1, 10), rng.normal(1, 1, 10)])
labels = np.array([False] * 10 + [True] * 10)
order = rng.permutation(20)
x_logistic, y_logistic = x_all[order], labels[order]
print(x_logistic, y_logistic)
""",
    ),
    Wrong(
        "p8_data",
        "np.random.rand for randn",
        """
np.random.seed(42)
x_logistic = np.concatenate([np.random.rand(10) - 1, np.random.rand(10) + 1])
y_logistic = np.concatenate([np.zeros(10), np.ones(10)])
""",
        loses=DATA,
    ),
    Wrong(
        "p8_data",
        "np.random.rand for randn, other seed",
        """
np.random.seed(0)
x_logistic = np.concatenate([np.random.rand(10) - 1, np.random.rand(10) + 1])
y_logistic = np.concatenate([np.zeros(10), np.ones(10)])
""",
        loses=DATA,
    ),
    Wrong(
        "p8_data",
        "labels swapped",
        key("p8_data").swap(
            "np.concatenate([np.zeros(10), np.ones(10)])", "np.concatenate([np.ones(10), np.zeros(10)])"
        ),
        loses=DATA,
    ),
    Wrong(
        "p8_data",
        "both classes drawn around -1 (copy and paste)",
        key("p8_data").swap("rng_data.normal(1.0, 1.0, size=10)", "rng_data.normal(-1.0, 1.0, size=10)"),
        loses=DATA,
    ),
    Wrong(
        "p8_data",
        "one draw repeated ten times",
        """
x_logistic = np.array([np.random.normal(-1, 1)] * 10 + [np.random.normal(1, 1)] * 10)
y_logistic = np.array([0] * 10 + [1] * 10)
""",
        loses=DATA,
    ),
    Wrong(
        "p8_data",
        "ten points in all",
        """
rng = np.random.default_rng(1)
x_logistic = np.concatenate([rng.normal(-1, 1, 5), rng.normal(1, 1, 5)])
y_logistic = np.concatenate([np.zeros(5), np.ones(5)])
""",
        loses=DATA,
    ),
]

# ---------------------------------------------------------------------------------------------- problem 9
REV_KEY = key("p9_reverse_mode")
P9 = [
    Correct(
        "p9_reverse_mode",
        "numpy, closed-form backward values",
        """
def reverse_mode(x):
    f1 = np.exp(x)
    f2 = f1 ** 2
    f3 = f1 + f2
    d3 = np.exp(f3) + np.cos(f3)
    return {"f5": 1, "f4": 1, "f3": d3, "f2": d3, "f1": d3 * (1 + 2 * f1), "x": d3 * (1 + 2 * f1) * f1}
""",
    ),
    Correct(
        "p9_reverse_mode",
        "plain torch arithmetic in float32, tensors as values, extra keys",
        """
def reverse_mode(x):
    xt = torch.tensor(x, dtype=torch.float32)
    f1 = torch.exp(xt)
    f2 = f1 ** 2
    f3 = f1 + f2
    f4, f5 = torch.exp(f3), torch.sin(f3)
    g = {"f5": torch.tensor(1.0), "f4": torch.tensor(1.0)}
    g["f3"] = g["f4"] * f4 + g["f5"] * torch.cos(f3)
    g["f2"] = g["f3"]
    g["f1"] = g["f3"] + 2 * f1 * g["f2"]
    g["x"] = g["f1"] * f1
    g["y"] = f4 + f5
    return g
""",
    ),
    Correct(
        "p9_reverse_mode",
        "local derivatives in helpers, a loop over the graph, prints",
        """
def forward_values(x):
    f = {"f1": math.exp(x)}
    f["f2"] = f["f1"] ** 2
    f["f3"] = f["f1"] + f["f2"]
    f["f4"] = math.exp(f["f3"])
    f["f5"] = math.sin(f["f3"])
    return f


def reverse_mode(x):
    f = forward_values(x)
    # (child, parent, d child / d parent), children first
    edges = [("y", "f5", 1.0), ("y", "f4", 1.0), ("f5", "f3", math.cos(f["f3"])), ("f4", "f3", f["f4"]),
             ("f3", "f2", 1.0), ("f3", "f1", 1.0), ("f2", "f1", 2 * f["f1"]), ("f1", "x", f["f1"])]
    adj = {"y": 1.0}
    for child, parent, local in edges:
        adj[parent] = adj.get(parent, 0.0) + adj[child] * local
    print("adjoints:", adj)
    return {k: adj[k] for k in ("f5", "f4", "f3", "f2", "f1", "x")}
""",
    ),
    Correct(
        "p9_reverse_mode",
        "numpy scalars, DeprecationWarning and stderr",
        """
import sys
import warnings


def reverse_mode(x):
    warnings.warn("np.float_ style", DeprecationWarning)
    print("x =", x, file=sys.stderr)
    f1 = np.float64(np.exp(x))
    f3 = f1 + f1 * f1
    dy_df3 = np.exp(f3) + np.cos(f3)
    dy_df1 = dy_df3 + 2 * f1 * dy_df3
    return dict(f5=np.float64(1), f4=np.float64(1), f3=dy_df3, f2=dy_df3, f1=dy_df1, x=dy_df1 * f1)
""",
    ),
    Wrong("p9_reverse_mode", "dy/df3 forgets the sin branch", REV_KEY.swap(" + dy_df5 * math.cos(f3)", ""), loses=REV),
    Wrong("p9_reverse_mode", "sin for cos", REV_KEY.swap("dy_df5 * math.cos(f3)", "dy_df5 * math.sin(f3)"), loses=REV),
    Wrong(
        "p9_reverse_mode",
        "derivative of sin taken as -cos",
        REV_KEY.swap("dy_df5 * math.cos(f3)", "dy_df5 * -math.cos(f3)"),
        loses=REV,
    ),
    Wrong(
        "p9_reverse_mode",
        "dy/df1 misses the direct path f1 -> f3",
        REV_KEY.swap("dy_df3 * 1.0 + dy_df2", "dy_df2"),
        loses=REV,
    ),
    Wrong(
        "p9_reverse_mode",
        "dy/dx forgets the factor df1/dx",
        REV_KEY.swap("dy_dx = dy_df1 * f1", "dy_dx = dy_df1"),
        loses=REV,
    ),
    Wrong(
        "p9_reverse_mode", "df2/df1 taken as f1, not 2 f1", REV_KEY.swap("dy_df2 * 2.0 * f1", "dy_df2 * f1"), loses=REV
    ),
    Wrong(
        "p9_reverse_mode",
        "the forbidden shortcut: backward() with retain_grad",
        """
def reverse_mode(x):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f1 = torch.exp(xt)
    f2 = f1 ** 2
    f3 = f1 + f2
    f4, f5 = torch.exp(f3), torch.sin(f3)
    for t in (f1, f2, f3, f4, f5):
        t.retain_grad()
    (f4 + f5).backward()
    return {"f5": f5.grad.item(), "f4": f4.grad.item(), "f3": f3.grad.item(), "f2": f2.grad.item(),
            "f1": f1.grad.item(), "x": xt.grad.item()}
""",
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "from torch.autograd import grad, under enable_grad",
        """
from torch.autograd import grad


def reverse_mode(x):
    with torch.enable_grad():
        xt = torch.tensor(x, dtype=torch.float64).requires_grad_()
        f = {"f1": torch.exp(xt)}
        f["f2"] = f["f1"] ** 2
        f["f3"] = f["f1"] + f["f2"]
        f["f4"] = torch.exp(f["f3"])
        f["f5"] = torch.sin(f["f3"])
        y = f["f4"] + f["f5"]
        out = {k: grad(y, t, retain_graph=True)[0].item() for k, t in f.items()}
        out["x"] = grad(y, xt)[0].item()
    return out
""",
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "torch.func.grad for dy/dx, the rest by hand",
        REV_KEY.swap(
            "dy_dx = dy_df1 * f1",
            "dy_dx = torch.func.grad(lambda t: torch.exp(torch.exp(t) + torch.exp(t) ** 2)"
            " + torch.sin(torch.exp(t) + torch.exp(t) ** 2))(torch.tensor(x, dtype=torch.float64)).item()",
        ),
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "torch.func.grad reached through a dict",
        REV_KEY.swap("def reverse_mode(x):", 'AD = {"d": torch.func.grad}\n\n\ndef reverse_mode(x):').swap(
            "dy_dx = dy_df1 * f1",
            'dy_dx = AD["d"](lambda t: torch.exp(torch.exp(t) + torch.exp(2 * t))'
            " + torch.sin(torch.exp(t) + torch.exp(2 * t)))(torch.tensor(x, dtype=torch.float64)).item()",
        ),
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "autograd as a default argument",
        REV_KEY.swap("def reverse_mode(x):", "def reverse_mode(x, d=torch.autograd.grad):").swap(
            "dy_dx = dy_df1 * f1",
            "xt = torch.tensor(x, dtype=torch.float64)\n    xt.requires_grad_(True)\n"
            "    u = torch.exp(xt) + torch.exp(2 * xt)\n"
            "    dy_dx = d(torch.exp(u) + torch.sin(u), xt)[0].item()",
        ),
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "torch kept as a class attribute, .func.grad",
        """
class Engine:
    backend = torch

    def dydx(self, x):
        t = self.backend.tensor(x, dtype=self.backend.float64)
        return self.backend.func.grad(lambda u: self.backend.exp(self.backend.exp(u) + self.backend.exp(u) ** 2)
                                      + self.backend.sin(self.backend.exp(u) + self.backend.exp(u) ** 2))(t).item()


def reverse_mode(x):
    f1 = math.exp(x)
    f3 = f1 + f1 ** 2
    d3 = math.exp(f3) + math.cos(f3)
    return {"f5": 1.0, "f4": 1.0, "f3": d3, "f2": d3, "f1": d3 * (1 + 2 * f1), "x": Engine().dydx(x)}
""",
        loses=P9_RULE,
    ),
    Wrong(
        "p9_reverse_mode",
        "autograd through getattr with a computed name",
        REV_KEY.swap(
            "dy_dx = dy_df1 * f1",
            "ag = getattr(torch, 'auto' + 'grad')\n    dy_dx = dy_df1 * f1 if ag is not None else 0.0",
        ),
        loses=P9_RULE,
    ),
]

# ---------------------------------------------------------------------------------------------- problem 10
FWD_KEY = key("p10_forward_mode")
P10 = [
    Correct(
        "p10_forward_mode",
        "numpy",
        """
def forward_mode(x):
    f1 = np.exp(x)
    d1 = f1
    d2 = 2 * f1 * d1
    f3 = f1 + f1 ** 2
    d3 = d1 + d2
    d4 = np.exp(f3) * d3
    d5 = np.cos(f3) * d3
    return {"f1": d1, "f2": d2, "f3": d3, "f4": d4, "f5": d5, "y": d4 + d5}
""",
    ),
    Correct(
        "p10_forward_mode",
        "a dual-number class (value, tangent), extra keys",
        """
class Dual:
    def __init__(self, val, tan):
        self.val, self.tan = val, tan

    def __add__(self, other):
        return Dual(self.val + other.val, self.tan + other.tan)

    def __mul__(self, other):
        return Dual(self.val * other.val, self.val * other.tan + self.tan * other.val)


def d_exp(u):
    return Dual(math.exp(u.val), math.exp(u.val) * u.tan)


def d_sin(u):
    return Dual(math.sin(u.val), math.cos(u.val) * u.tan)


def forward_mode(x):
    f1 = d_exp(Dual(x, 1.0))
    f2 = f1 * f1
    f3 = f1 + f2
    f4, f5 = d_exp(f3), d_sin(f3)
    y = f4 + f5
    out = {k: v.tan for k, v in zip(("f1", "f2", "f3", "f4", "f5", "y"), (f1, f2, f3, f4, f5, y))}
    out["values"] = [v.val for v in (f1, f2, f3, f4, f5, y)]
    return out
""",
    ),
    Correct(
        "p10_forward_mode",
        "plain torch arithmetic in float32, tensors as values",
        """
def forward_mode(x):
    x = torch.tensor(x, dtype=torch.float32)
    f1 = torch.exp(x)
    out = {"f1": f1}
    out["f2"] = 2 * f1 * out["f1"]
    f3 = f1 + f1 ** 2
    out["f3"] = out["f1"] + out["f2"]
    out["f4"] = torch.exp(f3) * out["f3"]
    out["f5"] = torch.cos(f3) * out["f3"]
    out["y"] = out["f4"] + out["f5"]
    return out
""",
    ),
    Correct(
        "p10_forward_mode",
        "prints each step and warns",
        """
import warnings


def forward_mode(x):
    warnings.warn("forward mode", DeprecationWarning)
    vals, ders = {}, {}
    vals["f1"] = math.exp(x)
    ders["f1"] = vals["f1"]
    vals["f2"] = vals["f1"] ** 2
    ders["f2"] = 2 * vals["f1"] * ders["f1"]
    vals["f3"] = vals["f1"] + vals["f2"]
    ders["f3"] = ders["f1"] + ders["f2"]
    ders["f4"] = math.exp(vals["f3"]) * ders["f3"]
    ders["f5"] = math.cos(vals["f3"]) * ders["f3"]
    ders["y"] = ders["f4"] + ders["f5"]
    for k, v in ders.items():
        print(f"d{k}/dx = {v:.6g}")
    return ders
""",
    ),
    Wrong(
        "p10_forward_mode",
        "df2/dx = 2 f1 (no df1/dx)",
        FWD_KEY.swap("df2 = 2.0 * f1 * df1", "df2 = 2.0 * f1"),
        loses=FWD,
    ),
    Wrong(
        "p10_forward_mode",
        "df5/dx with -sin",
        FWD_KEY.swap("df5 = math.cos(f3) * df3", "df5 = -math.sin(f3) * df3"),
        loses=FWD,
    ),
    Wrong("p10_forward_mode", "df4/dx forgets df3/dx", FWD_KEY.swap("df4 = f4 * df3", "df4 = f4"), loses=FWD),
    Wrong("p10_forward_mode", "dy/dx as a product", FWD_KEY.swap("dy = df4 + df5", "dy = df4 * df5"), loses=FWD),
    Wrong("p10_forward_mode", "df3/dx = df2/dx only", FWD_KEY.swap("df3 = df1 + df2", "df3 = df2"), loses=FWD),
    Wrong(
        "p10_forward_mode",
        "the forbidden shortcut: torch.autograd.forward_ad dual tensors",
        """
import torch.autograd.forward_ad as fwAD


def forward_mode(x):
    with fwAD.dual_level():
        xt = fwAD.make_dual(torch.tensor(x, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
        f = {"f1": torch.exp(xt)}
        f["f2"] = f["f1"] ** 2
        f["f3"] = f["f1"] + f["f2"]
        f["f4"] = torch.exp(f["f3"])
        f["f5"] = torch.sin(f["f3"])
        f["y"] = f["f4"] + f["f5"]
        return {k: fwAD.unpack_dual(t).tangent.item() for k, t in f.items()}
""",
        loses=P10_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "torch.func.jvp per intermediate value",
        """
def chain(t):
    f1 = torch.exp(t)
    f2 = f1 ** 2
    f3 = f1 + f2
    f4, f5 = torch.exp(f3), torch.sin(f3)
    return f1, f2, f3, f4, f5, f4 + f5


def forward_mode(x):
    t = torch.tensor(x, dtype=torch.float64)
    _, tangents = torch.func.jvp(chain, (t,), (torch.ones_like(t),))
    return {k: v.item() for k, v in zip(("f1", "f2", "f3", "f4", "f5", "y"), tangents)}
""",
        loses=P10_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "torch.func.jacfwd, imported under another name",
        """
from torch.func import jacfwd as derivative


def forward_mode(x):
    def chain(t):
        f1 = torch.exp(t)
        f2 = f1 ** 2
        f3 = f1 + f2
        f4, f5 = torch.exp(f3), torch.sin(f3)
        return torch.stack([f1, f2, f3, f4, f5, f4 + f5])

    d = derivative(chain)(torch.tensor(x, dtype=torch.float64))
    return dict(zip(("f1", "f2", "f3", "f4", "f5", "y"), d.tolist()))
""",
        loses=P10_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "torch kept in a dict, .func.jacfwd",
        """
LIBS = {"t": torch}


def forward_mode(x):
    t = LIBS["t"].tensor(x, dtype=LIBS["t"].float64)
    def y_of(u):
        v = LIBS["t"].exp(u) + LIBS["t"].exp(u) ** 2
        return LIBS["t"].exp(v) + LIBS["t"].sin(v)

    dy = LIBS["t"].func.jacfwd(y_of)(t).item()
    f1 = math.exp(x)
    d3 = f1 + 2 * f1 * f1
    f3 = f1 + f1 * f1
    return {"f1": f1, "f2": 2 * f1 * f1, "f3": d3, "f4": math.exp(f3) * d3, "f5": math.cos(f3) * d3, "y": dy}
""",
        loses=P10_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "autograd as a default argument, enable_grad",
        FWD_KEY.swap("def forward_mode(x):", "def forward_mode(x, g=torch.autograd.grad):").swap(
            "dy = df4 + df5",
            "with torch.enable_grad():\n"
            "        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)\n"
            "        u = torch.exp(xt) + torch.exp(xt) ** 2\n"
            "        dy = g(torch.exp(u) + torch.sin(u), xt)[0].item()",
        ),
        loses=P10_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "autograd inside eval",
        FWD_KEY.swap("dy = df4 + df5", "dy = df4 + df5\n    eval('torch.autograd')"),
        loses=P10_RULE,
    ),
]


# Wrong answers that reach torch's autodiff through a class attribute or a dict, then attributes.
RULE_BYPASSES = [
    Wrong(
        "p1_softmax",
        "torch kept as a class attribute, .autograd.functional.jacobian",
        """
class Differentiator:
    lib = torch

    def jacobian(self, z):
        return self.lib.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(z))


def softmax_jacobian(z):
    return Differentiator().jacobian(z).numpy()
""",
        loses=P1_RULE,
    ),
    Wrong(
        "p10_forward_mode",
        "torch kept in a dict, .func.jvp",
        FWD_KEY.swap("def forward_mode(x):", 'LIBS = {"t": torch}\n\n\ndef forward_mode(x):').swap(
            "dy = df4 + df5",
            't = LIBS["t"]\n'
            "    dy = t.func.jvp(lambda u: t.exp(t.exp(u) + t.exp(2 * u)) + t.sin(t.exp(u) + t.exp(2 * u)),\n"
            "                    (t.tensor(x, dtype=t.float64),), (t.tensor(1.0, dtype=t.float64),))[1].item()",
        ),
        loses=P10_RULE,
    ),
]

# Correct answers a scope-blind rules checker would flag: a self-check that reuses the parameter's name at
# the top level, and a hand-written reverse mode whose own class has .grad and .backward.
RULE_LOOKALIKES = [
    Correct(
        "p9_reverse_mode",
        "by hand, with a self-check in the same cell that reuses the name x",
        REV_KEY
        + """


x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
y = torch.exp(torch.exp(x) + torch.exp(x) ** 2) + torch.sin(torch.exp(x) + torch.exp(x) ** 2)
y.backward()
print("autograd:", x.grad.item(), "mine:", reverse_mode(0.3)["x"])
""",
    ),
    Correct(
        "p9_reverse_mode",
        "a hand-written micrograd-style Value class with .grad and .backward",
        """
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = data, 0.0, parents

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for parent, _ in v.parents:
                    visit(parent)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for parent, local in v.parents:
                parent.grad += v.grad * local


def reverse_mode(x):
    xv = Value(x)
    f1 = Value(math.exp(x), [(xv, math.exp(x))])
    f2 = Value(f1.data ** 2, [(f1, 2 * f1.data)])
    f3 = Value(f1.data + f2.data, [(f1, 1.0), (f2, 1.0)])
    f4 = Value(math.exp(f3.data), [(f3, math.exp(f3.data))])
    f5 = Value(math.sin(f3.data), [(f3, math.cos(f3.data))])
    y = Value(f4.data + f5.data, [(f4, 1.0), (f5, 1.0)])
    y.backward()
    return {"f5": f5.grad, "f4": f4.grad, "f3": f3.grad, "f2": f2.grad, "f1": f1.grad, "x": xv.grad}
""",
    ),
]

VARIANTS = P1 + P2 + P3 + P456 + P7 + P8 + P8_DATA + P9 + P10 + RULE_BYPASSES + RULE_LOOKALIKES
