"""LogME: golden values from the reference implementations, and the cases they get wrong.

Golden values were computed by running the reference code (in /tmp, never copied):

* thuml/LogME @ 56551ca94a3295bcc37e6a01b1291911af985f07, ``LogME(regression=...).fit(F, y)``
* thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
  ``tllib/ranking/logme.py::log_maximum_evidence``. Its fixed point stops after at most 11
  iterations with a 1e-2 tolerance; the "converged" values below come from a /tmp copy with
  the cap raised to 1000 iterations and the tolerance to 1e-12 (nothing else changed).
  tllib keeps all D eigenvalues of F^T F, so it is correct for N < D once converged.

The inputs are built by the ``case_*`` functions below (numpy default_rng seeds 0-4).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError


def case_a():  # classification, N > D
    rng = np.random.default_rng(0)
    n, d, c = 200, 32, 4
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y], y


def case_b():  # regression, two target columns
    rng = np.random.default_rng(1)
    n, d = 150, 20
    f = rng.normal(size=(n, d))
    w = rng.normal(size=(d, 2))
    return f, f @ w + 0.1 * rng.normal(size=(n, 2))


def case_c():  # classification, N < D
    rng = np.random.default_rng(2)
    n, d, c = 40, 100, 3
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.0 * np.eye(c, d)[y], y


def case_d():  # two classes labelled {0, 5}
    rng = np.random.default_rng(3)
    n, d = 120, 16
    y01 = rng.integers(0, 2, n)
    return rng.normal(size=(n, d)) + 2.0 * np.eye(2, d)[y01], np.where(y01 == 1, 5, 0)


def case_e():  # regression, N < D
    rng = np.random.default_rng(4)
    n, d = 30, 60
    f = rng.normal(size=(n, d))
    w = rng.normal(size=(d, 1))
    return f, f @ w + 0.5 * rng.normal(size=(n, 1))


# tllib log_maximum_evidence, converged (see module docstring).
TLLIB_CONVERGED = {
    "a": -0.5956315497070893,
    "b": 0.2681657270293447,
    "c": -0.8640754597447572,
    "d01": -0.6792377835262511,
    "e": -3.1663630118467028,
}
# thuml LogME.fit with its defaults: wrong for N < D (drops (D - N) log(alpha) from
# log det A) and for label gaps (counts 4 empty classes for labels {0, 5}).
THULM_DEFAULT_WRONG = {"c": 3.6204647551022027, "e": -2.9829989961354255, "d05": 4.248969162267872}


@pytest.mark.parametrize(
    ("case", "task", "key"),
    [(case_a, "classification", "a"), (case_b, "regression", "b"), (case_c, "classification", "c"),
     (case_e, "regression", "e")],
)
def test_logme_matches_converged_reference(case, task, key):
    f, y = case()
    assert ts.score("logme", f, y, task=task) == pytest.approx(TLLIB_CONVERGED[key], rel=1e-6)


def test_logme_label_gaps_are_remapped():
    f, y05 = case_d()
    y01 = (y05 == 5).astype(int)
    s05 = ts.score("logme", f, y05)
    assert s05 == pytest.approx(ts.score("logme", f, y01), rel=1e-12)
    assert s05 == pytest.approx(TLLIB_CONVERGED["d01"], rel=1e-6)
    assert s05 != pytest.approx(THULM_DEFAULT_WRONG["d05"], rel=1e-2)


@pytest.mark.parametrize(("case", "task", "key"), [(case_c, "classification", "c"), (case_e, "regression", "e")])
def test_logme_n_smaller_than_d_differs_from_thuml(case, task, key):
    f, y = case()
    value = ts.score("logme", f, y, task=task)
    assert value != pytest.approx(THULM_DEFAULT_WRONG[key], rel=1e-2)


def _shifted_two_class():
    # Column "class 0" is best explained by w = 0 (the alpha -> inf limit): a case
    # where a fixed point that loses track of beta gives a far too low score.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 50)
    return rng.normal(size=(100, 8)) + 3.0 * y[:, None], y


@pytest.mark.parametrize("case", [case_a, case_c, case_d, _shifted_two_class])
def test_logme_equals_brute_force_maximum_of_the_evidence(case):
    # Closed form: the log evidence evaluated with dense D x D linear algebra and
    # maximised numerically over (log alpha, log beta), one class column at a time.
    from scipy.optimize import minimize

    f, y = case()
    n, d = f.shape
    gram, values = f.T @ f, []
    for cls in np.unique(y):
        t = (y == cls).astype(float)

        def neg_evidence(p, t=t):
            alpha, beta = np.exp(p)
            a = alpha * np.eye(d) + beta * gram
            m = beta * np.linalg.solve(a, f.T @ t)
            logdet = np.linalg.slogdet(a)[1]
            return -(d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * np.log(2 * np.pi)
                     - beta / 2 * np.sum((f @ m - t) ** 2) - alpha / 2 * m @ m - logdet / 2) / n

        with np.errstate(all="ignore"):
            best = min((minimize(neg_evidence, x0=x0, method="L-BFGS-B",
                                 options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000})
                        for x0 in ([0.0, 0.0], [10.0, 0.0], [40.0, 0.7])), key=lambda r: r.fun)
        values.append(-best.fun)
    assert ts.score("logme", f, y) == pytest.approx(np.mean(values), rel=1e-6)


def test_logme_regression_signal_beats_noise():
    rng = np.random.default_rng(7)
    f = rng.normal(size=(300, 10))
    y_signal = f @ rng.normal(size=10) + 0.1 * rng.normal(size=300)
    y_noise = rng.normal(size=300)
    assert ts.score("logme", f, y_signal, task="regression") > ts.score("logme", f, y_noise, task="regression")


def test_logme_string_labels_equal_integer_labels():
    f, y = case_a()
    names = np.array(["ant", "bee", "cat", "dog"])[y]
    assert ts.score("logme", f, names) == pytest.approx(ts.score("logme", f, y), rel=1e-12)


def test_logme_rejects_continuous_labels_for_classification():
    f, y = case_b()
    with pytest.raises(InputError, match="task='regression'"):
        ts.score("logme", f, y[:, 0])


def test_logme_constant_features_are_finite():
    y = np.repeat([0, 1], 20)
    assert np.isfinite(ts.score("logme", np.ones((40, 3)), y))
    assert np.isfinite(ts.score("logme", np.zeros((40, 3)), y))
