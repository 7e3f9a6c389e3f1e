"""Canonical correlation analysis: mean CCA, SVCCA and projection-weighted CCA.

All three start from the canonical correlations between two representations:
with ``U_x`` an orthonormal basis of the centred columns of ``X`` (``N x r_x``)
and ``U_y`` the same for ``Y``, the canonical correlations
``rho_1 >= ... >= rho_k`` (``k = min(r_x, r_y)``) are the singular values of
``U_x^T U_y``, the cosines of the principal angles between the two column
spaces. Bases come from the principal directions of the centred data, with
directions of negligible variance dropped (see ``_linalg``), so constant,
duplicated or collinear columns and ``N < D`` are handled exactly; ``r`` is the
numerical rank, not the column count.

CCA only sees the column spaces, so it ignores any invertible linear map of
either representation. That is also its weakness: once ``N - 1 <= min(r_x,
r_y)`` the centred column spaces can fill the whole sample space and every
correlation is 1 whatever the data. Use ``N`` well above the dimensions, or
SVCCA, which first drops low-variance directions.

PWCCA against google/svcca and ReSi
-----------------------------------
``pwcca.compute_pwcca`` of google/svcca (the code released with Morcos et al.
2018) and its verbatim copy in ReSi (``repsim.measures.cca.pwcca``) weight the
correlations differently from the paper's definition, for three reasons:

* Its "directions" are ``coef_x @ (acts - mean)``, the centred neurons rotated
  by the left singular vectors ``u`` of the *whitened* cross-covariance, but
  without the whitening ``invsqrt_xx``: ``X_c u = U_x diag(s_x) L`` instead of
  the canonical variates ``U_x L`` (``X_c = U_x diag(s_x) V^T``, ``u = V L``,
  ``L`` the left singular vectors of ``U_x^T U_y``). They are orthonormalised
  by a QR in the order of the correlations, and the neurons are projected on
  that basis. This is a definite, if different, weighting: ``variant="resi"``.
* It adds each neuron's mean back to the row of the same index of the rotated
  directions and projects the *uncentred* neurons. Rotated directions and
  means do not match, so for uncentred ``X`` the value depends on the
  arbitrary sign LAPACK gives each singular vector (flipping one changes the
  value, 0.921 -> 0.909..0.941 on the first golden case of ``test_cca``) and
  on a translation of ``X``, to which ReSi declares PWCCA invariant. That is a
  bug; on column-centred ``X`` it vanishes, so ``variant="resi"`` centres
  ``X`` first and equals the reference on centred ``X`` (to ~1e-11).
* It weights whichever input has fewer neurons and raises ``IndexError`` when
  that is the second; its covariance inverse square roots fail ("SVD did not
  converge") when ``d_y >= N``. ``variant="resi"`` requires ``d_x <= d_y`` and
  computes the ``d_y >= N`` case exactly.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics._validation import (
    check_choice,
    check_fraction,
    check_paired_features,
    check_positive_int,
)
from transferscope.metrics.registry import Invariances, MeasureProperties, MetricInfo
from transferscope.metrics.similarity._linalg import (
    Spectrum,
    canonical_correlations,
    centred_spectrum,
)

__all__ = ["cca", "svcca", "pwcca"]

STATISTICS = ("mean_rho", "mean_rho2")


def _summarise(rho: np.ndarray, statistic: str) -> float:
    return float(np.mean(rho**2) if statistic == "mean_rho2" else np.mean(rho))


def cca(X: Any, Y: Any, *, statistic: Literal["mean_rho", "mean_rho2"] = "mean_rho") -> float:
    """Mean canonical correlation between two representations.

    ``mean_rho = (1/k) sum_i rho_i`` (the summary of Raghu et al. 2017) or
    ``mean_rho2 = (1/k) sum_i rho_i^2`` (``R^2_CCA`` of Kornblith et al. 2019,
    Yanai's generalised coefficient of determination), where
    ``rho_1..rho_k`` are the canonical correlations and ``k = min(r_x, r_y)``
    the smaller numerical rank of the centred representations.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
        Two representations of the same inputs, row for row.
    statistic : {"mean_rho", "mean_rho2"}, default="mean_rho"
        Average the correlations or their squares.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when one column space contains the other (e.g. ``Y = X A``
        for invertible ``A``).

    Notes
    -----
    Matches ``np.mean(get_cca_similarity(X.T, Y.T, epsilon=0)["cca_coef1"])``
    of google/svcca for full-rank inputs with ``N > d_x + d_y``. Dividing by the
    numerical rank rather than the column count keeps ``cca(X, X) == 1`` for
    rank-deficient ``X``. With ``N - 1 <= min(r_x, r_y)`` every correlation is 1.

    References
    ----------
    Hotelling, Relations between two sets of variates, Biometrika 1936.
    Raghu, Gilmer, Yosinski & Sohl-Dickstein, SVCCA, NeurIPS 2017.
    Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network
    Representations Revisited, ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cca import cca
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 5))
    >>> round(cca(X, X @ rng.normal(size=(5, 5)) + 3.0), 6)
    1.0
    >>> 0.0 < cca(X, rng.normal(size=(100, 4))) < 0.3
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    statistic = check_choice(statistic, STATISTICS, name="statistic")
    rho = canonical_correlations(centred_spectrum(x, name="X").u, centred_spectrum(y, name="Y").u)
    return _summarise(rho, statistic)


def _leading_directions(spec: Spectrum, keep_variance: float, n_components: int | None) -> np.ndarray:
    """Orthonormal basis of the top singular directions SVCCA keeps."""
    if n_components is not None:
        return spec.u[:, : min(n_components, spec.s.size)]
    explained = np.cumsum(spec.s**2) / np.sum(spec.s**2)
    # First k whose cumulative share reaches keep_variance (with slack for rounding at 1.0).
    k = int(np.searchsorted(explained, keep_variance - 1e-12, side="left")) + 1
    return spec.u[:, : min(k, spec.s.size)]


def svcca(
    X: Any,
    Y: Any,
    *,
    keep_variance: float = 0.99,
    n_components: int | None = None,
) -> float:
    """SVCCA: mean canonical correlation after keeping each representation's top SVD directions.

    Each centred representation ``X - mean = U diag(s) V^T`` is reduced to its
    leading ``k_x`` directions ``U[:, :k_x] diag(s[:k_x])``, the smallest
    ``k_x`` with ``sum_{i<=k_x} s_i^2 >= keep_variance * sum_i s_i^2`` (the share
    of variance, as in Raghu et al. 2017). The score is the mean of the
    ``min(k_x, k_y)`` canonical correlations between the two reduced representations.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples, d_y)
    keep_variance : float, default=0.99
        Share of each representation's variance kept, in ``(0, 1]``; 1 keeps
        every direction above the rank tolerance (then ``svcca == cca``).
    n_components : int or None, default=None
        Keep exactly this many directions of each (capped at its numerical
        rank) instead of a share of variance, as in the google/svcca tutorials.

    Returns
    -------
    float
        In ``[0, 1]``.

    Notes
    -----
    Matches the google/svcca tutorial recipe (centre, ``np.linalg.svd``, keep
    the top directions, ``get_cca_similarity``, mean of ``cca_coef1``). Their
    tutorial prints the share of *singular values* ``sum s_i / sum s`` when
    choosing ``k``; here the share of variance ``s_i^2`` is used, as the paper
    describes. Invariant to orthogonal maps and rescaling but not to general
    invertible maps, which change which directions carry the variance.

    References
    ----------
    Raghu, Gilmer, Yosinski & Sohl-Dickstein, SVCCA: Singular Vector Canonical
    Correlation Analysis for Deep Learning Dynamics and Interpretability, NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cca import svcca
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8)) * [10, 8, 6, 4, 0.1, 0.1, 0.1, 0.1]
    >>> Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> round(svcca(X, X @ Q), 6)
    1.0
    >>> round(svcca(X, X @ Q, n_components=4), 6)
    1.0
    >>> svcca(X, X[:, :4] @ Q[:4, :4] + rng.normal(size=(200, 4))) > 0.9
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    keep_variance = check_fraction(keep_variance, name="keep_variance", allow_zero=False)
    if n_components is not None:
        n_components = check_positive_int(n_components, name="n_components")
    ux = _leading_directions(centred_spectrum(x, name="X"), keep_variance, n_components)
    uy = _leading_directions(centred_spectrum(y, name="Y"), keep_variance, n_components)
    return float(np.mean(canonical_correlations(ux, uy)))


def _resi_alpha(x: np.ndarray, y: np.ndarray, sx: Spectrum, sy: Spectrum, left: np.ndarray) -> np.ndarray:
    """Projection weights of google/svcca ``compute_pwcca`` (ReSi), for column-centred ``x``."""
    d_x = x.shape[1]
    if d_x > y.shape[1]:
        raise InputError(
            f"pwcca with variant='resi' needs X to have at most as many columns as Y, got {d_x} > "
            f"{y.shape[1]}: the reference weights the input with fewer neurons and fails "
            "(IndexError) when that is the second one"
        )
    if sx.s.size < d_x or sy.s.size < d_x:
        name, rank = ("X", sx.s.size) if sx.s.size < d_x else ("Y", sy.s.size)
        raise InputError(
            f"pwcca with variant='resi' needs the centred {name} to have rank >= {d_x} (the columns "
            f"of X), got {rank}: the reference's weights are then not determined by the data"
        )
    # The unwhitened rotations X_c u = U_x diag(s_x) L (u = V L) orthonormalised in order.
    basis = np.linalg.qr((sx.u * sx.s) @ left)[0]
    return np.abs(basis.T @ (x - x.mean(axis=0))).sum(axis=1)


def pwcca(X: Any, Y: Any, *, variant: Literal["default", "resi"] = "default") -> float:
    """Projection-weighted CCA: canonical correlations weighted by how much of ``X`` they carry.

    With ``h_1..h_k`` the unit-norm canonical variates of ``X`` paired with
    correlations ``rho_1..rho_k`` (``k = min(r_x, r_y)``) and ``x_j`` the
    centred columns (neurons) of ``X``,

    ``alpha_i = sum_j |<h_i, x_j>|``,  ``PWCCA = sum_i alpha_i rho_i / sum_i alpha_i``.

    Directions of ``X`` that account for more of its activity count more, so
    noise directions that happen to correlate weakly count less than in mean CCA.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
        The representation whose canonical variates are weighted.
    Y : array-like of shape (n_samples, d_y)
    variant : {"default", "resi"}, default="default"
        ``"default"``: the weights above (Morcos et al. 2018, Section 2.3).
        ``"resi"``: google/svcca's ``compute_pwcca``, copied verbatim into ReSi
        (``repsim.measures.PWCCA``), on column-centred ``X``: the weights of the
        QR basis of the unwhitened rotations ``X_c u`` (see the module notes).
        That code was released with Morcos et al. 2018 and ran the ReSi
        benchmark (Klabunde et al. 2025). On uncentred ``X`` the reference's
        own value also depends on singular-vector signs (a bug), so only its
        value on centred ``X`` is reproducible; this variant gives that value
        for any ``X``. Needs ``d_x <= d_y`` and centred ``X`` and ``Y`` of rank
        at least ``d_x`` (the reference fails or is undetermined otherwise).

    Returns
    -------
    float
        In ``[0, 1]``. Asymmetric: ``pwcca(X, Y) != pwcca(Y, X)`` in general.

    Notes
    -----
    Follows the definition of Morcos et al. 2018 (their Section 2.3), as does
    ``1 - pwcca_dist`` of the GULP repository (sgstepaniants/GULP) for
    ``d_x <= d_y``. google/svcca ``compute_pwcca`` differs (``variant="resi"``
    reproduces it): it orthonormalises the *unwhitened* rotations
    ``u^T (X - mean)`` of the activations (it omits ``invsqrt_xx``), so its
    weights are not those of the canonical variates; it adds the neuron means
    back, which makes its value on uncentred ``X`` depend on the signs LAPACK
    picks for singular vectors (a bug, avoided by centring); it also weights by
    whichever input has fewer neurons and raises an ``IndexError`` when that is
    the second one. The default keeps the paper's definition because its
    weights are those of the variates whose correlations they weight, and it is
    defined for every input.
    Here ``X`` is always the weighted side; when ``r_x > r_y`` only the ``k``
    correlated variates of ``X`` are weighted (the others are not unique).
    Changing ``Y`` by any invertible linear map leaves the value unchanged
    (only ``Y``'s column space enters); changing ``X`` by one does not, except
    permutations and rescaling of its columns (for ``variant="resi"`` only
    rescaling all columns by one factor).

    References
    ----------
    Morcos, Raghu & Bengio, Insights on representational similarity in neural
    networks with canonical correlation, NeurIPS 2018.
    Klabunde et al., ReSi: A Comprehensive Benchmark for Representational
    Similarity Measures, ICLR 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.similarity.cca import pwcca
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6))
    >>> round(pwcca(X, X @ rng.normal(size=(6, 6))), 6)
    1.0
    >>> Y = X[:, :3] + 0.5 * rng.normal(size=(200, 3))
    >>> pwcca(X, Y) != pwcca(Y, X)
    True
    >>> Z = X @ rng.normal(size=(6, 8)) + rng.normal(size=(200, 8))
    >>> pwcca(X, Z, variant="resi") != pwcca(X, Z)
    True
    """
    x, y = check_paired_features(X, Y, scale="rescale")  # scale-invariant in X and Y
    variant = check_choice(variant, ("default", "resi"), name="variant")
    sx = centred_spectrum(x, name="X")
    sy = centred_spectrum(y, name="Y")
    left, rho, _ = np.linalg.svd(sx.u.T @ sy.u, full_matrices=False)
    rho = np.clip(rho, 0.0, 1.0)
    if variant == "resi":
        alpha = _resi_alpha(x, y, sx, sy, left)
    else:
        # <h_i, x_j> for the unit-norm canonical variates h_i = U_x left[:, i] and the
        # centred columns x_j of X.
        loadings = (sx.u @ left).T @ (x - x.mean(axis=0))
        alpha = np.abs(loadings).sum(axis=1)
    return float(np.dot(alpha, rho) / np.sum(alpha))


_CCA_CITATION = ("Raghu, Gilmer, Yosinski & Sohl-Dickstein, SVCCA, NeurIPS 2017; "
                 "Kornblith, Norouzi, Lee & Hinton, Similarity of Neural Network "
                 "Representations Revisited, ICML 2019")

METRICS = [
    MetricInfo(
        name="cca",
        family="similarity",
        func=cca,
        summary="Mean canonical correlation between the centred column spaces (or mean squared, R^2_CCA).",
        citation=_CCA_CITATION,
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="N is not well above the dimensions: with N - 1 <= rank every correlation is 1",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            range=(0.0, 1.0),
            identity=1.0,
            invariant=Invariances.all_except(),
        ),
    ),
    MetricInfo(
        name="svcca",
        family="similarity",
        func=svcca,
        summary="SVCCA: mean CCA after keeping the SVD directions holding 99% of each variance.",
        citation="Raghu, Gilmer, Yosinski & Sohl-Dickstein, SVCCA: Singular Vector Canonical "
        "Correlation Analysis for Deep Learning Dynamics and Interpretability, NeurIPS 2017",
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="N is not well above the kept dimensions; spectra with no clear cut",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=True,
            is_metric=False,
            range=(0.0, 1.0),
            identity=1.0,
            invariant=Invariances.all_except("invertible_linear"),
        ),
    ),
    MetricInfo(
        name="pwcca",
        family="similarity",
        func=pwcca,
        summary="Projection-weighted CCA: canonical correlations weighted by X's loading on each variate.",
        citation="Morcos, Raghu & Bengio, Insights on representational similarity in neural "
        "networks with canonical correlation, NeurIPS 2018",
        complexity="O(N D min(N, D)): two Gram matrices and their eigendecompositions",
        unreliable_when="N is not well above the dimensions; tied canonical correlations "
        "(the weights of tied variates are not unique)",
        measure=MeasureProperties(
            kind="similarity",
            symmetric=False,
            is_metric=False,
            range=(0.0, 1.0),
            identity=1.0,
            # Transforms of Y alone: only Y's column space enters.
            invariant=Invariances.all_except(),
        ),
    ),
]
