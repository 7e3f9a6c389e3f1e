"""ETran: energy-based transferability estimation.

Gholami, Akbari, Wang, Kamranian & Zhang, "ETran: Energy-Based Transferability
Estimation", ICCV 2023 (reference code: mgholamikn/ETran).

ETran adds up per-model terms:

* **Energy score** (label-free; is the target data in-distribution for the
  model?). The features are read as the logits of an energy-based model, the
  negative free energy of a sample is ``e_i = log sum_k exp(f_ik)``, and

      S_en = mean of e_i over the fraction ``rho`` of samples with the lowest
             e_i  (``rho = 0.5 %`` in the reference's evaluation script).

* **LDA classification score.** ``S_cls = (1/N) sum_i p(y_i | x_i)`` under the
  linear discriminant with the shrunk within-class covariance
  ``(1 - lambda) S_w + lambda tr(S_w)/D I``, ``lambda = max(exp(-5 sigma_max(S_w)),
  1e-10)`` (the first stage of SFDA, see :mod:`.sfda`).

* **SVD regression score** (regression targets): the least-squares fit through
  the SVD of the features, ``S_reg = -(1/(N K)) ||F F^+ Y - Y||_F^2``.

The single-model :func:`etran` is ``S_en + S_cls`` (classification) or
``S_en + S_reg`` (regression), unnormalised. The reference does *not* rank models
by that sum: its ranking script min-max normalises each term over the candidate
models and weights them, ``0.15 * minmax(S_en) + 0.85 * minmax(S_cls)``, which is
a property of the candidate set, not of one model. That step is the separate pure
helper :func:`etran_combine`; to reproduce the reference's ranking, score every
candidate with :func:`etran_energy` and :func:`etran_lda` and combine.

Differences from the reference code (mgholamikn/ETran ``metrics.py``):

* ``LDA_Score`` calls ``np.linalg.eigh`` on the non-symmetric ``inv(S_w) S_b``;
  ``eigh`` reads one triangle only and returns an orthonormal basis ``V``, so
  ``coef = means V V^T = means`` and the covariance drops out: the published
  number is the Euclidean nearest-mean softmax
  ``p(c|x) ~ pi_c exp(-||x - mu_c||^2 / 2)``. The default here is the intended
  shrunk-covariance LDA; ``covariance="identity"`` reproduces the published code.
* ``Energy_Score`` keeps ``floor(5 N / 1000)`` samples, none when ``N < 200``
  (NaN); at least one sample is kept here.
* The regression score is unreachable in the reference (``_solve_eigen2`` uses an
  undefined attribute and float32); it is implemented from its formula.
* ``LDA_Score`` indexes posteriors by the raw label values (labels must be
  ``0..C-1`` without gaps); labels are remapped here.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_classification_labels,
    check_features,
    check_positive_int,
    check_regression_targets,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._candidates import (
    check_candidate_scores,
    check_weight,
    minmax,
)
from transferscope.metrics.transferability._classwise import (
    class_means,
    class_statistics,
    fisher_log_posterior,
)
from transferscope.metrics.transferability._fisher import (
    adaptive_shrinkage,
    check_unit_interval,
    check_within_class_scatter,
)

__all__ = ["etran", "etran_combine", "etran_energy", "etran_lda", "etran_svd"]


def _log_sum_exp_rows(feats: np.ndarray) -> np.ndarray:
    """``log sum_k exp(f_ik)`` of every row, as :func:`scipy.special.logsumexp`
    computes it (the maximal terms taken out of the sum, ``log1p`` of the rest), in
    fewer passes over the data."""
    a_max = feats.max(axis=1, keepdims=True)
    terms = feats - a_max
    is_max = terms == 0.0
    n_max = np.count_nonzero(is_max, axis=1)
    np.exp(terms, out=terms)
    terms[is_max] = 0.0
    rest = terms.sum(axis=1) / n_max
    return np.log1p(rest) + np.log(n_max) + a_max[:, 0]


def _energy(feats: np.ndarray, fraction: float, tail: str) -> float:
    energy = _log_sum_exp_rows(feats)
    n = energy.shape[0]
    # floor(fraction * N), guarded against 0.005 * 1000 = 4.999...; at least one sample.
    keep = max(1, int(np.floor(fraction * n * (1.0 + 1e-12))))
    part = np.partition(energy, keep - 1) if tail == "bottom" else -np.partition(-energy, keep - 1)
    return float(np.mean(part[:keep]))


def _check_fraction(fraction: Any) -> float:
    value = check_unit_interval(fraction, name="fraction")
    if value == 0.0:
        raise InputError("fraction must be in (0, 1], got 0.0")
    return value


def _lda_score(
    feats: np.ndarray, codes: np.ndarray, n_classes: int, shrinkage: float | None,
    power_iterations: int | None, covariance: str,
) -> float:
    n = feats.shape[0]
    if covariance == "identity":
        priors, means = class_means(feats, codes, n_classes)
        log_post = fisher_log_posterior(feats, priors, means, None, None, 0.0)
    else:
        priors, means, s_w = class_statistics(feats, codes, n_classes)
        check_within_class_scatter(s_w, feats, "ETran LDA")
        eigvals, eigvecs = np.linalg.eigh(s_w)
        eigvals = np.maximum(eigvals, 0.0)
        if shrinkage is None:
            shrinkage = adaptive_shrinkage(
                eigvals, s_w, scale=5.0, floor=1e-10, power_iterations=power_iterations
            )
        log_post = fisher_log_posterior(feats, priors, means, eigvals, eigvecs, shrinkage)
    return float(np.mean(np.exp(log_post[np.arange(n), codes])))


def _svd_score(feats: np.ndarray, targets: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(feats, targets, rcond=None)
    return float(-np.mean((feats @ coef - targets) ** 2))


def _check_lda_options(
    shrinkage: Any, power_iterations: Any, covariance: Any
) -> tuple[float | None, int | None, str]:
    shrinkage = check_unit_interval(shrinkage, name="shrinkage", allow_none=True)
    if power_iterations is not None:
        power_iterations = check_positive_int(power_iterations, name="power_iterations")
    covariance = check_choice(covariance, ("shrunk", "identity"), name="covariance")
    return shrinkage, power_iterations, covariance


def _warn_lda(n: int, n_classes: int, d: int, covariance: str) -> None:
    if covariance == "shrunk" and n - n_classes < d:
        warnings.warn(
            f"ETran's LDA score is unreliable when N - C ({n - n_classes}) is below the dimension "
            f"({d}): the within-class scatter is singular and the score saturates at 1",
            RuntimeWarning,
            stacklevel=3,
        )


def _warn_svd(n: int, d: int) -> None:
    if n <= d:
        warnings.warn(
            f"ETran's regression score is unreliable when samples ({n}) do not exceed dimensions "
            f"({d}): the least-squares fit is exact and the score is 0 for any features",
            RuntimeWarning,
            stacklevel=3,
        )


def etran_energy(
    features: Any,
    labels: Any,
    *,
    fraction: float = 0.005,
    tail: Literal["bottom", "top"] = "bottom",
    task: Literal["classification", "regression"] = "classification",
) -> float:
    """ETran energy score: mean negative free energy of the lowest-energy samples.

    ``e_i = log sum_k exp(f_ik)`` (the features read as logits, temperature 1);
    the score is the mean of ``e_i`` over the ``max(1, floor(fraction * N))``
    samples with the smallest (``tail="bottom"``) or largest (``"top"``) ``e_i``.
    Higher means the data look more in-distribution to the model (Gholami et al.,
    ETran, ICCV 2023). The labels are validated but not used.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,) or (n_samples, n_targets)
        Class labels, or regression targets with ``task="regression"``; unused.
    fraction : float in (0, 1], default=0.005
        Share of samples averaged (0.5 % in the reference; 1 averages all).
    tail : {"bottom", "top"}, default="bottom"
    task : {"classification", "regression"}, default="classification"
        Only decides how ``labels`` are validated.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.etran import etran_energy
    >>> f = np.log(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 5.0]]))
    >>> round(etran_energy(f, [0, 1, 0], fraction=1.0), 6)  # (log 2 + log 4 + log 8) / 3
    1.386294
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    feats = check_features(features)
    n = feats.shape[0]
    if task == "classification":
        check_classification_labels(labels, n)
    else:
        check_regression_targets(labels, n)
    fraction = _check_fraction(fraction)
    tail = check_choice(tail, ("bottom", "top"), name="tail")
    return _energy(feats, fraction, tail)


def etran_lda(
    features: Any,
    labels: Any,
    *,
    shrinkage: float | None = None,
    power_iterations: int | None = None,
    covariance: Literal["shrunk", "identity"] = "shrunk",
) -> float:
    """ETran LDA classification score: mean posterior of the true class.

    ``S_cls = (1/N) sum_i p(y_i | x_i)`` with
    ``p(c|x) = softmax_c(x^T S^-1 mu_c - mu_c^T S^-1 mu_c / 2 + log pi_c)``, where
    ``S = (1 - lambda) S_w + lambda tr(S_w)/D I`` and
    ``lambda = max(exp(-5 sigma_max(S_w)), 1e-10)`` (Gholami et al., ETran,
    ICCV 2023, following SFDA's regularised Fisher discriminant).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    shrinkage : float in [0, 1] or None, default=None
        Fixed ``lambda``; ``None`` uses the adaptive value above. Ignored with
        ``covariance="identity"``.
    power_iterations : int or None, default=None
        ``None``: exact ``sigma_max``; an integer: the reference's power-iteration
        estimate (3 in the reference). Ignored with ``covariance="identity"``.
    covariance : {"shrunk", "identity"}, default="shrunk"
        ``"identity"`` reproduces the published code, in which the covariance
        cancels out (see the module docstring): ``p(c|x) ~ pi_c exp(-||x - mu_c||^2/2)``.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.etran import etran_lda
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> good = rng.normal(size=(100, 4)) + 4.0 * y[:, None]
    >>> etran_lda(good, y) > etran_lda(rng.normal(size=(100, 4)), y)
    True
    """
    feats = check_features(features)
    n, d = feats.shape
    codes, classes = check_classification_labels(labels, n)
    shrinkage, power_iterations, covariance = _check_lda_options(shrinkage, power_iterations, covariance)
    _warn_lda(n, classes.shape[0], d, covariance)
    return _lda_score(feats, codes, classes.shape[0], shrinkage, power_iterations, covariance)


def etran_svd(features: Any, targets: Any) -> float:
    """ETran SVD regression score: minus the mean squared least-squares residual.

    ``S_reg = -(1/(N K)) ||F x_hat - Y||_F^2`` with ``x_hat = V S^-1 U^T Y`` from
    the SVD ``F = U S V^T`` (singular values below LAPACK's default cut-off
    dropped). No intercept, as in the reference. Not a registered estimator (the
    registry scores classification labels by default); :func:`etran` uses it for
    ``task="regression"``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.etran import etran_svd
    >>> f = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> round(etran_svd(f, [1.0, 1.0, 0.0]), 6)  # residuals (-2, -2, 2) / 3
    -0.444444
    """
    feats = check_features(features)
    n, d = feats.shape
    targets = check_regression_targets(targets, n, name="targets")
    _warn_svd(n, d)
    return _svd_score(feats, targets)


def etran(
    features: Any,
    labels: Any,
    *,
    task: Literal["classification", "regression"] = "classification",
    fraction: float = 0.005,
    tail: Literal["bottom", "top"] = "bottom",
    shrinkage: float | None = None,
    power_iterations: int | None = None,
    covariance: Literal["shrunk", "identity"] = "shrunk",
) -> float:
    """ETran of one model: ``S_en + S_cls`` (classification) or ``S_en + S_reg``
    (regression), unnormalised.

    The terms are :func:`etran_energy`, :func:`etran_lda` and :func:`etran_svd`
    with the options given here (Gholami et al., ETran, ICCV 2023). This is a
    per-model quantity; the reference instead ranks candidates by
    ``0.15 * minmax(S_en) + 0.85 * minmax(S_cls)`` over the candidate set, which
    :func:`etran_combine` computes from per-candidate terms. The two rankings can
    differ.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.etran import etran, etran_energy, etran_lda
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 40)
    >>> f = rng.normal(size=(120, 5)) + 3.0 * np.eye(3, 5)[y]
    >>> etran(f, y) == etran_energy(f, y) + etran_lda(f, y)
    True
    """
    task = check_choice(task, ("classification", "regression"), name="task")
    feats = check_features(features)
    n, d = feats.shape
    if task == "classification":
        codes, classes = check_classification_labels(labels, n)
    else:
        targets = check_regression_targets(labels, n)
    fraction = _check_fraction(fraction)
    tail = check_choice(tail, ("bottom", "top"), name="tail")
    shrinkage, power_iterations, covariance = _check_lda_options(shrinkage, power_iterations, covariance)
    energy = _energy(feats, fraction, tail)
    if task == "regression":
        _warn_svd(n, d)
        return energy + _svd_score(feats, targets)
    _warn_lda(n, classes.shape[0], d, covariance)
    return energy + _lda_score(feats, codes, classes.shape[0], shrinkage, power_iterations, covariance)


def etran_combine(
    energy_scores: Any,
    lda_scores: Any = None,
    *,
    regression_scores: Any = None,
    energy_weight: float = 0.15,
    lda_weight: float = 0.85,
    regression_weight: float = 0.85,
) -> np.ndarray:
    """Combine per-candidate ETran terms across candidate models, as the reference ranks them.

    Each given term is min-max normalised over the candidates,
    ``m(s) = (s - min s) / (max s - min s)`` (zeros if all equal), and

        T_m = w_en m(S_en)_m + w_cls m(S_cls)_m [+ w_reg m(S_reg)_m].

    The default weights (0.15, 0.85) are those of the reference's ``tw.py`` for
    classification; it has no weight for the regression term, so
    ``regression_weight`` defaults to the classification weight. Not a
    registered estimator: the result depends on which candidates are compared.

    Parameters
    ----------
    energy_scores : array-like of shape (n_models,)
        :func:`etran_energy` of each candidate.
    lda_scores : array-like of shape (n_models,), optional
        :func:`etran_lda` of each candidate.
    regression_scores : array-like of shape (n_models,), optional
        :func:`etran_svd` of each candidate.
    energy_weight, lda_weight, regression_weight : float

    Returns
    -------
    numpy.ndarray of shape (n_models,)
        Higher is better.

    Examples
    --------
    >>> from transferscope.metrics.transferability.etran import etran_combine
    >>> etran_combine([10.0, 12.0, 11.0], [0.9, 0.5, 0.7]).round(3).tolist()
    [0.85, 0.15, 0.5]
    """
    energy = check_candidate_scores(energy_scores, "energy_scores")
    if lda_scores is None and regression_scores is None:
        raise InputError("give lda_scores (classification) and/or regression_scores")
    total = check_weight(energy_weight, "energy_weight") * minmax(energy)
    for values, weight, name in (
        (lda_scores, lda_weight, "lda"),
        (regression_scores, regression_weight, "regression"),
    ):
        if values is not None:
            arr = check_candidate_scores(values, f"{name}_scores", energy.shape[0])
            total = total + check_weight(weight, f"{name}_weight") * minmax(arr)
    return total


METRICS = [
    MetricInfo(
        name="etran",
        family="transferability",
        func=etran,
        summary="Energy score (mean log-sum-exp of the lowest-energy 0.5% of samples) plus "
        "the LDA mean true-class posterior (or minus the least-squares MSE for regression).",
        citation="Gholami, Akbari, Wang, Kamranian & Zhang, ETran: Energy-Based "
        "Transferability Estimation, ICCV 2023",
        task_types=("classification", "regression"),
        complexity="O(N D^2 + D^3)",
        unreliable_when="N - C < D (LDA term saturates) or N <= D (regression term is 0); "
        "the sum is unnormalised: rank candidates with etran_combine",
    ),
    MetricInfo(
        name="etran_energy",
        family="transferability",
        func=etran_energy,
        summary="Mean log-sum-exp of the features over the 0.5% of samples with the lowest "
        "value (negative free energy; label-free).",
        citation="Gholami, Akbari, Wang, Kamranian & Zhang, ETran: Energy-Based "
        "Transferability Estimation, ICCV 2023",
        task_types=("classification", "regression"),
        complexity="O(N D)",
        unreliable_when="the features are not logit-like (the score ignores the labels)",
    ),
    MetricInfo(
        name="etran_lda",
        family="transferability",
        func=etran_lda,
        summary="Mean posterior of the true class under LDA with a shrunk within-class covariance.",
        citation="Gholami, Akbari, Wang, Kamranian & Zhang, ETran: Energy-Based "
        "Transferability Estimation, ICCV 2023",
        task_types=("classification",),
        complexity="O(N D^2 + D^3)",
        unreliable_when="N - C < D (singular within-class scatter: the score saturates at 1)",
    ),
]
