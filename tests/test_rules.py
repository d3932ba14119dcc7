"""The rules checker (`GRADER.forbid`): what it convicts, what it lets pass, what it sends to a TA. No kernels."""

from __future__ import annotations

import pytest

from autograder.grading.rules import NeedsReview, Rules

SETUP = (
    "setup",
    0,
    "%matplotlib inline\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
    "DEVICE = torch.device('cpu')\n",
)

CASES = {
    # name: (source defining f, {rule: expected}) with expected "ok", "no" or "review"
    "numpy only": ("def f(x):\n    return np.exp(x) * 2\n", {"autodiff": "ok", "torch": "ok", "nn.Module": "ok"}),
    "backward": (
        "def f(x):\n    x = torch.tensor(x, requires_grad=True)\n    (x ** 2).sum().backward()\n    return x.grad\n",
        {"autodiff": "no", "torch": "no", "nn.Module": "ok"},
    ),
    "from torch.autograd import grad": (
        "from torch.autograd import grad\ndef f(x):\n    return grad(x, x)\n",
        {"autodiff": "no"},
    ),
    "enable_grad": ("def f(x):\n    with torch.enable_grad():\n        return x\n", {"autodiff": "no"}),
    "torch.func.jacfwd": ("def f(x):\n    return torch.func.jacfwd(torch.sin)(x)\n", {"autodiff": "no"}),
    "forward_ad": (
        "import torch.autograd.forward_ad as fw\ndef f(x):\n    return fw.make_dual(x, x)\n",
        {"autodiff": "no"},
    ),
    "through a class": ("class H:\n    g = torch.autograd.grad\ndef f(x):\n    return H.g(x)\n", {"autodiff": "no"}),
    "through a dict": ("OPS = {'g': torch.autograd.grad}\ndef f(x):\n    return OPS['g'](x)\n", {"autodiff": "no"}),
    "through a default": ("def f(x, g=torch.autograd.grad):\n    return g(x)\n", {"autodiff": "no"}),
    "through a helper": ("def _h(x):\n    return x.backward()\ndef f(x):\n    return _h(x)\n", {"autodiff": "no"}),
    "class attribute then attributes": (
        "class D:\n    lib = torch\n    def j(self, z):\n"
        "        return self.lib.autograd.functional.jacobian(torch.sin, z)\n"
        "def f(z):\n    return D().j(z)\n",
        {"autodiff": "no"},
    ),
    "dict then attributes": (
        "L = {'t': torch}\ndef f(x):\n    return L['t'].func.jvp(torch.sin, (x,), (x,))\n",
        {"autodiff": "no"},
    ),
    "getattr with a constant": ("def f(x):\n    return getattr(x, 'backward')()\n", {"autodiff": "no"}),
    "getattr with a computed name": (
        "def f(x):\n    n = 'back' + 'ward'\n    return getattr(x, n)()\n",
        {"autodiff": "review"},
    ),
    "eval of a constant": (
        "def f(x):\n    return eval('torch.autograd.grad')(x)\n",
        {"autodiff": "no", "nn.Module": "ok"},
    ),
    "import_module": (
        "import importlib\ndef f(x):\n    return importlib.import_module('torch.autograd').grad(x)\n",
        {"autodiff": "no"},
    ),
    "plain torch": ("def f(x):\n    return torch.relu(torch.tensor(x)).numpy()\n", {"autodiff": "ok", "torch": "no"}),
    "F alias": ("def f(x):\n    return F.relu(x)\n", {"torch": "no", "nn.Module": "ok"}),
    "nn.Linear": ("def f(x):\n    return nn.Linear(3, 2)(x)\n", {"nn.Module": "no"}),
    "nn.Module elsewhere": (
        "loss_fn = nn.CrossEntropyLoss()\ndef f(x):\n    return F.cross_entropy(x, x)\n",
        {"nn.Module": "ok"},
    ),
    "nn.Module subclass": ("class M(torch.nn.Module):\n    pass\ndef f(x):\n    return M()(x)\n", {"nn.Module": "no"}),
    "parameter named like a top-level tensor": (
        "x = torch.tensor(1.0, requires_grad=True)\n(x * 2).backward()\ndef f(x):\n    return x * 2\n",
        {"autodiff": "ok"},
    ),
    "autodiff switched off": (
        "def f(x):\n    t = torch.tensor(x, requires_grad=False)\n    with torch.set_grad_enabled(False):\n"
        "        return t.requires_grad_(False) * 2\n",
        {"autodiff": "ok", "torch": "no"},
    ),
    "own class with backward, no torch": (
        "class V:\n    def __init__(self, d):\n        self.d, self.grad = d, 0.0\n    def backward(self):\n"
        "        self.grad = 1.0\ndef f(x):\n    v = V(x)\n    v.backward()\n    return v.grad\n",
        {"autodiff": "ok"},
    ),
    "own class with backward, and torch": (
        "class V:\n    def backward(self):\n        pass\ndef f(x):\n    t = torch.tensor(x)\n    t.backward()\n"
        "    return t\n",
        {"autodiff": "review"},
    ),
}


def verdict(source: str, rule: str) -> str:
    rules = Rules(student=[("answer", 5, source)], instructor=[SETUP], before=6)
    try:
        rules.forbid(rule, "f")
    except NeedsReview:
        return "review"
    except AssertionError:
        return "no"
    return "ok"


@pytest.mark.parametrize(("name", "rule"), [(n, r) for n, (_, rules) in CASES.items() for r in rules])
def test_rule(name, rule):
    source, expected = CASES[name]
    assert verdict(source, rule) == expected[rule]


def test_only_cells_above_the_test_count():
    rules = Rules(
        student=[("early", 1, "def f(x):\n    return x\n"), ("late", 9, "def f(x):\n    return x.backward()\n")]
    )
    rules.before = 5
    rules.forbid("autodiff", "f")  # the late redefinition runs after the test
    rules.before = 10
    with pytest.raises(AssertionError, match="late"):
        rules.forbid("autodiff", "f")


def test_message_names_function_cell_and_line():
    rules = Rules(student=[("q1_code", 3, "import torch\n\ndef g(x):\n    return torch.autograd.grad(x, x)\n")])
    with pytest.raises(AssertionError) as caught:
        rules.forbid("autodiff", "g", why="Question 1 forbids automatic differentiation")
    assert "g uses torch.autograd.grad (q1_code, line 4): Question 1 forbids" in str(caught.value)


def test_unknown_rule_is_an_authoring_error():
    with pytest.raises(ValueError, match="unknown rule"):
        Rules(student=[]).forbid("no-loops", "f")
