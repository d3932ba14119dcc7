"""Fairness corpus of hw3 (seed: a few answers; the hw3 owner completes it)."""

from fairness import Correct, Wrong, key

VARIANTS = [
    Correct(
        "q3_gd_iterates",
        "a list of floats, converted",
        """
def gd_iterates(x0, eta, n):
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] - 10 * eta * xs[-1])
    return np.array(xs, dtype=float)
""",
    ),
    Wrong(
        "q3_gd_iterates",
        "f'(x) = 5x",
        key("q3_gd_iterates").swap("eta * 10.0 * x[k]", "eta * 5.0 * x[k]"),
        loses=["q3_gd_iterates_tests"],
    ),
]
