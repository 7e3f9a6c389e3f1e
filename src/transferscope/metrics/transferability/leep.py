"""LEEP and NLEEP: how well a source head's outputs predict the target labels.

LEEP (Nguyen, Hassner, Seeger & Archambeau, "LEEP: A New Measure to Evaluate
Transferability of Learned Representations", ICML 2020). With ``theta_i`` the
source classifier's class probabilities for target input ``x_i`` (``C_s``
source classes) and ``y_i`` its target label:

    P(y, z) = 1/N sum_{i: y_i = y} theta_{i z}          (empirical joint)
    P(y | z) = P(y, z) / sum_y' P(y', z)                 (empirical conditional)
    LEEP = 1/N sum_i log( sum_z P(y_i | z) theta_{i z} )

the average log-likelihood of the "expected empirical predictor", a
classifier that maps the source prediction to the target label space without
training. ``LEEP <= 0``; higher is better.

NLEEP (Li, Jia, Sang, Zhu, Green, Wang & Gong, "Ranking Neural Checkpoints",
CVPR 2021) replaces the source head by a Gaussian mixture fitted to the
features: PCA keeping ``variance_kept`` of the variance, a ``K = 5 C``
component mixture (scikit-learn ``GaussianMixture``, full covariances by
default, k-means initialisation seeded by ``seed``), and the component
posteriors ``P(k | x_i)`` used as ``theta_i`` in the LEEP formula.

Correctness notes (where common implementations go wrong):

* NLEEP is a *log*-likelihood. Several copies (the SFDA repository and those
  derived from it) return ``1/N sum_i sum_z P(y_i | z) theta_{i z}`` without
  the log, which can rank checkpoints differently.
* A source class that gets exactly zero probability on every target input
  has no conditional ``P(y | z)``; it is skipped (it contributes nothing to
  any sample) instead of producing ``0 / 0 = NaN``.
* Labels are remapped to ``0..C-1``, so gaps such as ``{0, 5}`` neither add
  empty classes nor index out of range, and ``K = 5 C`` counts real classes.
* The mixture is fitted to the rows in a canonical (lexicographic) order, so
  that for a fixed ``seed`` the score does not depend on the sample order.
* The PCA output is divided by one global constant (its root mean variance)
  before the mixture is fitted. scikit-learn's covariance floor
  ``reg_covar = 1e-6`` is absolute, so without this the score changes when the
  features are multiplied by a constant (tiny features look structureless,
  huge ones make full-covariance fits fail). For features whose kept
  components already have unit mean variance this is the reference pipeline
  (``PCA(n_components=0.8)`` then ``GaussianMixture(5 C, random_state=seed)``).

Cost: the mixture fit is the whole cost (PCA and the LEEP step are O(N D min(N, D))
and O(N K)); the posteriors take one more E-step after the fit (``predict_proba``),
about 1/6 of a fit that converges in 2 EM steps. For many classes the default
full covariances are slow (see ``covariance_type``); ``"diag"`` is the fast option.
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
    check_features_shape,
    check_fraction,
    check_positive_int,
    check_source_probs,
)
from transferscope.metrics.registry import MetricInfo
from transferscope.metrics.transferability._classwise import class_sums, one_hot

__all__ = ["leep", "nleep"]

_COVARIANCE_TYPES = ("diag", "full", "tied", "spherical")


def _leep_from_probs(codes: np.ndarray, n_classes: int, probs: np.ndarray) -> float:
    """LEEP of integer labels ``codes`` (``0..n_classes-1``) given ``(N, C_s)`` probabilities.

    Rows are renormalised to sum to exactly 1, so the score is ``<= 0``.
    """
    probs = probs / probs.sum(axis=1, keepdims=True)
    # N * P(y, z): the class sums of the rows, as a one-hot (sparse) product that adds each
    # class's rows in sample order (as np.add.at did, 40x slower).
    joint = class_sums(one_hot(codes, n_classes), probs)
    marginal = joint.sum(axis=0)  # N * P(z)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    # Every row has an entry >= 1/C_s, so each expected empirical prediction is > 0.
    eep = np.einsum("iz,iz->i", probs, conditional[codes])
    return float(np.mean(np.log(eep)))


def leep(features: Any, labels: Any, *, source_probs: Any) -> float:
    """Log expected empirical prediction of the source head (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Target features; only validated (LEEP uses the source head's outputs).
    labels : array-like of shape (n_samples,)
        Target class labels of any hashable type.
    source_probs : array-like of shape (n_samples, n_source_classes)
        The source classifier's softmax probabilities on the target inputs.

    Returns
    -------
    float
        ``1/N sum_i log sum_z P(y_i | z) theta_{i z}``, in ``[-inf, 0]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.leep import leep
    >>> y = np.array([0, 0, 1, 1])
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
    >>> round(leep(np.zeros((4, 1)), y, source_probs=probs), 4)
    -0.2955
    >>> leep(np.zeros((4, 1)), y, source_probs=probs[[0, 0, 0, 0]])  # uninformative: log(1/2)
    -0.6931471805599453
    """
    n, _ = check_features_shape(features)  # only validated: LEEP/NCE use the source head's outputs
    codes, classes = check_classification_labels(labels, n)
    probs = check_source_probs(source_probs, n)
    return _leep_from_probs(codes, classes.shape[0], probs)


def nleep(
    features: Any,
    labels: Any,
    *,
    n_components_per_class: int = 5,
    variance_kept: float = 0.8,
    covariance_type: Literal["diag", "full", "tied", "spherical"] = "full",
    seed: int = 0,
) -> float:
    """Gaussian-mixture LEEP of features (higher is better).

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Target class labels of any hashable type.
    n_components_per_class : int, default=5
        The mixture has ``n_components_per_class * C`` components (capped at
        ``n_samples``, with a warning).
    variance_kept : float in (0, 1], default=0.8
        Fraction of the variance the PCA keeps before the mixture is fitted;
        ``1.0`` fits the mixture to the raw features (no PCA).
    covariance_type : {"diag", "full", "tied", "spherical"}, default="full"
        Covariance of the mixture components (scikit-learn's options). The
        SFDA and google-research implementations use scikit-learn's default,
        ``"full"``, as the papers' tables did. Its cost grows as ``N K d^2`` per
        EM step (``K = 5 C`` components, ``d`` kept PCA dimensions), which
        dominates for many classes: ``"diag"`` (``N K d`` per step) is the fast
        option for large ``C``. At N = 10,000, D = 512, C = 100 (d = 349) one
        fit took 2.5 s with ``"diag"`` against about 15 minutes with ``"full"``
        on two busy cores; the scores differ (a different model), so compare
        candidates with one setting. ``"spherical"`` is as cheap per step but
        needed 14 EM steps there (15 s).
    seed : int, default=0
        ``random_state`` of scikit-learn's ``GaussianMixture`` (its k-means
        initialisation).

    Returns
    -------
    float
        LEEP with the mixture's posteriors ``P(k | x_i)`` as the source
        probabilities, in ``[-inf, 0]``.

    Examples
    --------
    >>> import numpy as np
    >>> from transferscope.metrics.transferability.leep import nleep
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 60)
    >>> good = rng.normal(size=(120, 5)) + 4.0 * y[:, None]
    >>> nleep(good, y) > nleep(rng.normal(size=(120, 5)), y)
    True
    """
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    feats = check_features(features, scale="rescale")  # scale-invariant
    n = feats.shape[0]
    codes, classes = check_classification_labels(labels, n)
    n_classes = classes.shape[0]
    per_class = check_positive_int(n_components_per_class, name="n_components_per_class")
    variance_kept = check_fraction(variance_kept, name="variance_kept", allow_zero=False)
    covariance_type = check_choice(covariance_type, _COVARIANCE_TYPES, name="covariance_type")
    seed = check_positive_int(seed, name="seed", minimum=0)

    if not np.ptp(feats, axis=0).any():
        # Identical rows: every posterior is the same, and LEEP is sum_c p_c log p_c.
        return _leep_from_probs(codes, n_classes, np.ones((n, 1)))
    n_components = per_class * n_classes
    if n < 2 * n_components:
        capped = f"; the components are capped at {n}" if n_components > n else ""
        warnings.warn(
            f"NLEEP is unreliable with fewer than 2 samples ({n}) per mixture component "
            f"({per_class} x {n_classes} classes = {n_components}){capped}: each component "
            "holds a few samples and the score tends to its maximum 0",
            RuntimeWarning,
            stacklevel=2,
        )
        n_components = min(n_components, n)

    # Canonical row order: the fit (k-means++ draws rows by index) then does not
    # depend on how the caller ordered the samples.
    order = np.lexsort(feats.T[::-1])
    # Centred here: PCA does not change, but its default solver forms X^T X without
    # centring first, which loses all precision when the mean dwarfs the spread.
    reduced = feats[order]
    reduced -= reduced.mean(axis=0)
    if variance_kept < 1.0:
        reduced = PCA(n_components=variance_kept).fit_transform(reduced)
    # One global scale, so that the mixture's absolute covariance floor (reg_covar =
    # 1e-6) means the same for features of any magnitude: NLEEP is invariant to
    # multiplying the features by a constant.
    reduced /= np.sqrt(np.mean(np.var(reduced, axis=0)))
    try:
        gmm = GaussianMixture(
            n_components=n_components, covariance_type=covariance_type, random_state=seed
        ).fit(reduced)
    except ValueError as exc:  # a collapsed component (possible with "full" or "tied")
        raise InputError(
            f"NLEEP could not fit a {n_components}-component Gaussian mixture with "
            f"covariance_type={covariance_type!r} ({exc}); use fewer components "
            "(n_components_per_class) or covariance_type='diag'"
        ) from None
    posteriors = np.empty((n, n_components))
    posteriors[order] = gmm.predict_proba(reduced)
    return _leep_from_probs(codes, n_classes, posteriors)


METRICS = [
    MetricInfo(
        name="leep",
        scale_invariant=True,
        family="transferability",
        func=leep,
        summary="Mean log of sum_z P(y_i|z) theta_z(x_i), with P(y|z) the empirical conditional "
        "of target labels given the source head's soft predictions.",
        citation="Nguyen, Hassner, Seeger & Archambeau, LEEP: A New Measure to Evaluate "
        "Transferability of Learned Representations, ICML 2020",
        task_types=("classification",),
        needs_source_probs=True,
        complexity="O(N C_s + C C_s)",
    ),
    MetricInfo(
        name="nleep",
        scale_invariant=True,
        family="transferability",
        func=nleep,
        summary="LEEP with the posteriors of a 5C-component Gaussian mixture (full "
        "covariance) on PCA-80% features in place of the source head.",
        citation="Li, Jia, Sang, Zhu, Green, Wang & Gong, Ranking Neural Checkpoints, CVPR 2021",
        task_types=("classification",),
        uses_seed=True,
        complexity="O(N D min(N, D)) PCA + O(I N K d^2) for I EM steps with K = 5C full-covariance "
        "components on d kept dims (O(I N K d) with covariance_type='diag')",
        unreliable_when="N < 5 C (components capped at N, score tends to 0); the fit depends on seed",
    ),
]
