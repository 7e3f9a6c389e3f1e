"""PED: golden values from the reference implementation, the wrapper contract, edge cases.

Golden values were computed by running the reference code in /tmp (never copied here):
lixiaotong97/PED @ e5af6e79779cbbf16c3c1b4e1961fa74c9a282d2, ``metrics.py::PED_Score(X, y,
general_X, exit_ratio=0.5, time_step, type="LOGME", nsigma, constant=1.0)`` (imports of
torch, tqdm and the repository's ``utils`` stubbed; nothing used from them), with the
module's ``LogME_Score`` wrapped to record the moved features it receives. ``general_X``
is the target features themselves (``ped``'s default) or ``case_ped_reference()``.

* ``MOVED``: statistics of the moved features, unmodified reference.
* ``SCORE``: the final score from a /tmp copy whose LogME fixed point is run to
  convergence: 11 -> 1000 iterations, tolerance 1e-3 -> 1e-12, and the ``+ 1e-5`` added
  to both denominators of the alpha/beta updates removed (that regulariser moves the
  score by up to 4e-4 relative, e.g. case d at nsigma 0.3: -0.5567871810268471 with the
  unmodified code, -0.5554322508776979 converged). Nothing else changed.

Inputs are built by the ``case_*`` functions below (numpy default_rng seeds 10, 13, 15, 16).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.registry import get_metric
from transferscope.metrics.transferability.ped import ped, ped_dynamics


def case_a():
    rng = np.random.default_rng(10)
    n, d, c = 200, 16, 4
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y], y


def case_d():
    rng = np.random.default_rng(13)
    n, d, c = 300, 48, 5
    y = rng.integers(0, c, n)
    scale = np.exp(rng.normal(size=d) * 0.5)
    return (rng.normal(size=(n, d)) + 1.2 * np.eye(c, d)[y]) * scale, y


def case_ped():  # overlapping classes on different scales, so the dynamics move them
    rng = np.random.default_rng(15)
    n, d, c = 240, 12, 4
    y = rng.integers(0, c, n)
    scale = np.exp(rng.normal(size=d))
    return (rng.normal(size=(n, d)) + 0.6 * np.eye(c, d)[y]) * scale + 3.0, y


def case_ped_reference():  # separate features for the standardisation
    rng = np.random.default_rng(16)
    return rng.normal(size=(500, 12)) * 2.0 + 1.0


CASES = {"ped": case_ped, "ped_with_ref": case_ped, "a": case_a, "d": case_d}
# (case, nsigma, time_step) -> (sum, sum of squares, sum |moved - original|, steps taken)
MOVED = {
    ("ped", 0.6, 0.1): (8843.618350135537, 31461.906339991205, 137.36953835244378, 6),
    ("ped", 2.0, 0.1): (8840.61386165819, 31933.721341623517, 579.8989933116878, 6),
    ("ped", 0.6, 1.0): (8828.23550378165, 36668.326603749876, 2407.069632189645, 1),
    ("ped_with_ref", 0.6, 0.1): (8843.524126221015, 31468.321056927685, 157.82200842501996, 6),
    ("ped_with_ref", 2.0, 1.5): (8696.733128313008, 359369.2356035367, 22590.306455684957, 1),
    ("a", 0.3, 0.1): (183.9553096625038, 3693.561339399408, 13.957398766597128, 6),
    ("a", 2.0, 1.5): (110.98342754352447, 338505.0174220338, 18896.103854144305, 1),
    ("d", 0.3, 0.1): (458.75919215188117, 36824.7960739469, 385.3397625016345, 6),
    ("d", 0.6, 1.0): (580.5371015674859, 138535.71958609254, 19038.90606089856, 1),
}
# Converged reference PED_Score with type="LOGME".
SCORE = {
    ("ped", 0.6, 0.1): -0.5494431012871597, ("ped", 0.3, 0.1): -0.5697069373356568,
    ("ped", 2.0, 0.1): -0.4080394417778018, ("ped", 0.6, 1.0): 0.21552237568174104,
    ("ped", 2.0, 1.5): 1.9349080403856125,
    ("ped_with_ref", 0.6, 0.1): -0.5431596027221799, ("ped_with_ref", 2.0, 1.5): 2.062600294920421,
    ("a", 0.6, 0.1): -0.5416527157205661, ("a", 2.0, 1.5): 0.012378444248173076,
    ("d", 0.3, 0.1): -0.5554322508776979, ("d", 2.0, 0.1): -0.236612911551832,
    ("d", 2.0, 1.5): 0.17316821710251187,
}


def _options(key, nsigma, time_step):
    reference = case_ped_reference() if key == "ped_with_ref" else None
    return {"nsigma": nsigma, "time_step": time_step, "reference_features": reference}


@pytest.mark.parametrize(("key", "nsigma", "time_step"), sorted(MOVED))
def test_ped_dynamics_match_reference(key, nsigma, time_step):
    f, y = CASES[key]()
    moved = ped_dynamics(f, y, **_options(key, nsigma, time_step))
    total, squares, change, steps = MOVED[(key, nsigma, time_step)]
    assert moved.sum() == pytest.approx(total, rel=1e-12)
    assert (moved**2).sum() == pytest.approx(squares, rel=1e-12)
    assert np.abs(moved - f).sum() == pytest.approx(change, rel=1e-10)
    # The reference accepted ``steps`` steps: capping there changes nothing, one fewer does.
    capped = ped_dynamics(f, y, steps=steps, **_options(key, nsigma, time_step))
    fewer = ped_dynamics(f, y, steps=steps - 1, **_options(key, nsigma, time_step))
    np.testing.assert_array_equal(capped, moved)
    assert np.abs(fewer - moved).max() > 1e-6


@pytest.mark.parametrize(("key", "nsigma", "time_step"), sorted(SCORE))
def test_ped_logme_matches_converged_reference(key, nsigma, time_step):
    f, y = CASES[key]()
    assert ped(f, y, **_options(key, nsigma, time_step)) == pytest.approx(
        SCORE[(key, nsigma, time_step)], rel=1e-6
    )


@pytest.mark.parametrize("base", ["logme", "hscore", "knn", "pactran", "tmi"])
def test_ped_is_the_base_estimator_on_moved_features(base):
    f, y = case_ped()
    moved = ped_dynamics(f, y)
    assert ped(f, y, base=base) == get_metric(base).func(moved, y)


def test_ped_passes_base_options():
    f, y = case_ped()
    moved = ped_dynamics(f, y)
    assert ped(f, y, base="knn", base_options={"k": 3, "metric": "euclidean"}) == ts.score(
        "knn", moved, y, k=3, metric="euclidean"
    )


def test_ped_separated_classes_do_not_move():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    f = 0.1 * rng.normal(size=(90, 4)) + 10.0 * np.eye(3, 4)[y]
    np.testing.assert_array_equal(ped_dynamics(f, y), f)
    assert ped(f, y) == ts.score("logme", f, y)


def test_ped_pushes_overlapping_class_means_apart():
    f, y = case_ped()
    moved = ped_dynamics(f, y)
    before = np.array([f[y == c].mean(axis=0) for c in range(4)])
    after = np.array([moved[y == c].mean(axis=0) for c in range(4)])
    gaps = [(np.linalg.norm(after[i] - after[j]), np.linalg.norm(before[i] - before[j]))
            for i in range(4) for j in range(i + 1, 4)]
    assert sum(a for a, _ in gaps) > sum(b for _, b in gaps)
    # Within a class every sample moves by the same vector.
    shift = moved - f
    for c in range(4):
        np.testing.assert_allclose(shift[y == c], np.broadcast_to(shift[y == c][0], shift[y == c].shape),
                                   atol=1e-12)


def test_ped_two_classes_closed_form_single_step():
    # One dimension, two classes: shift = -/+ min(dt^2 F / 2, F), F = nsigma (R0 + R1) - |m1 - m0|.
    x = np.array([[0.0], [2.0], [0.5], [2.5]])
    y = np.array([0, 0, 1, 1])
    z = (x - x.mean()) / x.std()
    m0, m1 = z[:2].mean(), z[2:].mean()
    r0, r1 = z[:2].std(), z[2:].std()
    force = 0.6 * (r0 + r1) - abs(m1 - m0)
    step = min(0.5 * 0.1**2 * force, force) * x.std()
    moved = ped_dynamics(x, y, steps=1)
    np.testing.assert_allclose(moved[:, 0], x[:, 0] + np.array([-step, -step, step, step]), rtol=1e-12)


def test_ped_identical_class_means_and_constant_features_do_not_move():
    f = np.ones((20, 3))
    y = np.arange(20) % 2
    np.testing.assert_array_equal(ped_dynamics(f, y), f)
    sym = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    np.testing.assert_allclose(ped_dynamics(sym, [0, 0, 1, 1]), sym, atol=1e-15)


def test_ped_steps_zero_and_exit_ratio_one_leave_features():
    f, y = case_ped()
    np.testing.assert_allclose(ped_dynamics(f, y, steps=0), f, rtol=1e-14)
    np.testing.assert_allclose(ped_dynamics(f, y, exit_ratio=1.0), f, rtol=1e-14)


def test_ped_invariances():
    f, y = case_ped()
    base = ped(f, y)
    perm = np.random.default_rng(0).permutation(len(y))
    assert ped(f[perm], y[perm]) == pytest.approx(base, rel=1e-9)
    assert ped(f, np.array(list("wxyz"))[y]) == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: (rng.normal(size=(12, 40)), np.arange(12) % 2),
        lambda rng: (rng.normal(size=(8, 3)), np.array([0, 1, 2, 3, 4, 5, 6, 6])),
        lambda rng: (np.repeat(rng.normal(size=(10, 3)), 3, axis=0), np.repeat(np.arange(10) % 2, 3)),
    ],
    ids=["n<d", "one-per-class", "duplicated-rows"],
)
def test_ped_edge_cases_are_finite_without_warning(make):
    f, y = make(np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(ped_dynamics(f, y)))
        assert np.isfinite(ped(f, y))


@pytest.mark.parametrize(
    ("options", "match"),
    [({"base": "nope"}, "unknown metric 'nope'"), ({"base": "ped"}, "another estimator"),
     ({"base": 3}, "base must be the name"), ({"base_options": {"k": 3}}, "unknown option"),
     ({"base": "logme", "base_options": {"task": "regression"}}, "unknown option"),
     ({"steps": -1}, "steps must be >= 0"), ({"time_step": 0.0}, "time_step must be a finite number > 0"),
     ({"nsigma": -0.5}, "nsigma must be a finite number >= 0"), ({"constant": np.inf}, "constant"),
     ({"reference_features": np.ones((5, 2))}, "reference_features has 2 columns but features has 12")],
)
def test_ped_rejects_bad_options(options, match):
    f, y = case_ped()
    with pytest.raises(InputError, match=match):
        ped(f, y, **options)


def test_ped_validates_before_calling_the_base():
    with pytest.raises(InputError, match="3 entries but features has 5 rows"):
        ped(np.ones((5, 2)), [0, 1, 0])
