"""Distance correlation and alignment: golden values, closed forms, bad input.

Golden values were computed by running the reference code in /tmp (never copied here) on the
inputs of the ``case_*`` functions below (numpy default_rng seeds 0-3):

* dcor 0.7 (pip, numpy 1.26.4, scipy 1.17.1): ``dcor.distance_correlation(X, Y)`` and
  ``dcor.u_distance_correlation_sqr(X, Y)`` (the bias-corrected squared distance correlation).
* ReSi (mklabunde/resi) @ 24ab9e5055c71527445b0b196f5872f3cbe9a020,
  ``repsim/measures/distance_correlation.py::distance_correlation(X, Y, "nd")``; agrees with
  dcor to 1e-14. ReSi's ``DistanceCorrelation`` class declares no invariance to isotropic
  scaling; distance correlation is scale invariant, as tested below.
* SsnL/align_uniform @ e256d476ddbe04873dc15a8f893d4443d1f81671,
  ``align_uniform.align_loss(F.normalize(X), F.normalize(Y), alpha)`` (torch 2.13 CPU, float64).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from tests.similarity_cases import PAIRED_CASES, case_a
from transferscope.errors import InputError
from transferscope.metrics.similarity.statistics import alignment, distance_correlation


def case_views():  # two noisy views in the same space
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 16))
    return x, x + 0.4 * rng.normal(size=(64, 16))


CASES = PAIRED_CASES
DCOR = {"a": 0.8570234986443772, "b": 0.9583574192747578, "c": 0.632576972918938}
DCOR_U = {"a": 0.6414479687474833, "b": 0.5695377202649914, "c": 0.3778440624527155}
RESI_DCOR = {"a": 0.8570234986443656, "b": 0.9583574192747568, "c": 0.6325769729189374}
ALIGN = {2.0: 0.14707844967748104, 1.0: 0.37204187303499675, 0.5: 0.605057478470668}


@pytest.mark.parametrize("case", sorted(CASES))
def test_distance_correlation_matches_dcor_and_resi(case):
    x, y = CASES[case]()
    assert distance_correlation(x, y) == pytest.approx(DCOR[case], rel=1e-12)
    assert distance_correlation(x, y) == pytest.approx(RESI_DCOR[case], rel=1e-12)
    assert distance_correlation(x, y, bias_corrected=True) == pytest.approx(DCOR_U[case], rel=1e-12)


@pytest.mark.parametrize("alpha", sorted(ALIGN))
def test_alignment_matches_align_uniform(alpha):
    x, y = case_views()
    assert alignment(x, y, alpha=alpha) == pytest.approx(ALIGN[alpha], rel=1e-12)


def test_distance_correlation_closed_forms():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(100, 4))
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    assert distance_correlation(x, 3.0 * x @ q + 1.0) == pytest.approx(1.0, abs=1e-12)
    assert distance_correlation(x, 3.0 * x @ q + 1.0, bias_corrected=True) == pytest.approx(1.0, abs=1e-12)
    assert distance_correlation(np.ones((100, 2)), x) == 0.0  # constant X: defined as 0
    # Dependent but uncorrelated: y = x^2 on a symmetric grid.
    t = np.linspace(-1, 1, 101)[:, None]
    assert np.corrcoef(t[:, 0], t[:, 0] ** 2)[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert distance_correlation(t, t**2) > 0.4


def test_bias_correction_removes_the_high_dimensional_drift():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(200, 300)), rng.normal(size=(200, 300))
    assert distance_correlation(x, y) > 0.8  # independent, yet dCor is large
    assert abs(distance_correlation(x, y, bias_corrected=True)) < 0.02


def test_distance_correlation_invariances():
    x, y = case_a()
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    base = distance_correlation(x, y)
    assert distance_correlation(x, 4.0 * y @ q + rng.normal(size=10)) == pytest.approx(base, rel=1e-10)
    stretch = np.diag(np.geomspace(0.1, 10, 10))
    assert abs(distance_correlation(x, y @ stretch) - base) > 1e-3


def test_alignment_closed_forms():
    x, y = case_views()
    assert alignment(x, 2.0 * x) == pytest.approx(0.0, abs=1e-15)
    assert alignment(x, -x, alpha=3.0) == pytest.approx(8.0)  # antipodal pairs: 2^alpha
    assert alignment(x, y) == pytest.approx(alignment(y, x), rel=1e-15)
    # alpha = 2 on unit vectors: |u - v|^2 = 2 - 2 cos.
    cos = np.sum(x * y, axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    assert alignment(x, y) == pytest.approx(np.mean(2 - 2 * cos), rel=1e-12)


@pytest.mark.parametrize(
    ("func", "x", "y", "options", "match"),
    [
        (alignment, np.eye(4, 3), np.eye(4, 2), {}, "X has 3 columns but Y has 2"),
        (alignment, np.eye(4, 3), np.eye(4, 3), {"alpha": 0}, "alpha must be a finite number > 0"),
        (alignment, np.eye(4, 3), np.eye(4, 3), {}, "X row 3 is all zeros"),
        (distance_correlation, np.eye(3, 2), np.eye(3, 2), {"bias_corrected": True}, "at least 4 samples"),
        (distance_correlation, np.eye(5, 2), np.eye(5, 2), {"bias_corrected": 1}, "bias_corrected must be"),
    ],
)
def test_bad_input_names_the_argument(func, x, y, options, match):
    with pytest.raises(InputError, match=match):
        func(x, y, **options)


def test_pairwise_measures_refuse_what_cannot_fit_in_memory(monkeypatch):
    from transferscope.metrics import _validation

    monkeypatch.setattr(_validation, "physical_memory_bytes", lambda: 2**20)  # a 1 MiB machine
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))  # 400^2 x 8 B = 1.2 MiB per matrix
    for name, options in [("distance_correlation", {}), ("rsa", {}), ("cka", {"kernel": "rbf"})]:
        with pytest.raises(InputError, match=r"N x N matrices: .* GiB for N = 400 rows.*subsample"):
            ts.similarity(name, x, y, **options)
    assert 0 <= ts.similarity("cka", x, y) <= 1  # linear CKA in feature space needs no N x N matrix
    _validation.check_pairwise_memory(400, 3, measure="t", limit=10**7)  # fits: no error
