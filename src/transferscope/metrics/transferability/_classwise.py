"""Per-class statistics in one pass over the samples, and the Fisher posterior.

Private module (not scanned for ``METRICS``). Everything here takes already
validated float64 arrays and integer codes ``0..C-1``.

Class sums are one product with the sparse ``C x N`` one-hot matrix of the
labels, in CSR form with the samples of each class in increasing order. Each
class sum is then accumulated sample by sample in the order of the rows, the
same additions as a Python loop or ``np.add.at`` (so the sums are bit for bit
those), but in one pass over the data and without a loop over the classes.

:func:`fisher_log_posterior` is the posterior of the shared-covariance Gaussian
model of :mod:`._fisher` (``lda_log_posterior``), evaluated through the
``D x C`` matrix ``S^-1 (M - c)^T`` instead of whitening all ``N`` samples: the
large product is ``N x D x C`` instead of ``N x D x D``.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.special import log_softmax


def one_hot(codes: np.ndarray, n_classes: int) -> csr_array:
    """The ``(C, N)`` 0/1 matrix of class membership; row ``c`` lists the samples
    of class ``c`` in increasing order."""
    n = codes.shape[0]
    order = np.argsort(codes, kind="stable")
    indptr = np.zeros(n_classes + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_classes), out=indptr[1:])
    return csr_array((np.ones(n), order.astype(np.int64), indptr), shape=(n_classes, n))


def class_sums(onehot: csr_array, x: np.ndarray) -> np.ndarray:
    """``(C, ...)`` sums of the rows of ``x`` (1-D or 2-D) over each class."""
    return np.asarray(onehot @ x)


def class_means(
    feats: np.ndarray, codes: np.ndarray, n_classes: int, onehot: csr_array | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(priors, means)``: class frequencies and class means. Constant
    columns get their value exactly (where the division may round)."""
    n = feats.shape[0]
    if onehot is None:
        onehot = one_hot(codes, n_classes)
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = class_sums(onehot, feats) / counts[:, None]
    constant = np.ptp(feats, axis=0) == 0
    means[:, constant] = feats[0, constant]
    return counts / n, means


def class_statistics(
    feats: np.ndarray, codes: np.ndarray, n_classes: int, onehot: csr_array | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(priors, means, s_w)``: class frequencies, class means and the pooled
    within-class covariance ``sum_c pi_c cov_c`` (population covariances).

    Constant columns get exactly zero scatter. The scatter is one symmetric
    product of the deviations from the class means (``dev.T @ dev``).
    """
    priors, means = class_means(feats, codes, n_classes, onehot)
    dev = means[codes]
    np.subtract(feats, dev, out=dev)
    s_w = dev.T @ dev / feats.shape[0]
    return priors, means, (s_w + s_w.T) / 2.0


def fisher_log_posterior(
    feats: np.ndarray,
    priors: np.ndarray,
    means: np.ndarray,
    eigvals: np.ndarray | None,
    eigvecs: np.ndarray | None,
    shrinkage: float,
) -> np.ndarray:
    """``(N, C)`` log posteriors of the shared-covariance Gaussian model whose
    covariance is ``S_w(lambda) = (1 - lambda) S_w + lambda tr(S_w)/D I``, given the
    eigendecomposition ``(eigvals, eigvecs)`` of ``S_w``; ``None`` for both means
    the identity covariance.

    Eigenvalues of ``S_w`` at rounding level are taken as exact zeros, so those
    directions get exactly ``lambda tr(S_w)/D``. Directions where ``S_w(lambda)``
    is then zero carry no evidence and are dropped (pseudo-inverse).
    """
    # The posterior is invariant to a common translation; centring keeps the
    # linear form below free of large cancellations.
    centre = priors @ means
    centred_means = means - centre
    if eigvecs is None:
        m = centred_means
        weights = m.T
    else:
        d = feats.shape[1]
        mu = float(eigvals.sum()) / d
        top = float(eigvals.max()) if eigvals.size else 0.0
        clean = np.where(eigvals > top * max(feats.shape) * np.finfo(np.float64).eps, eigvals, 0.0)
        shrunk = (1.0 - shrinkage) * clean + shrinkage * mu
        keep = shrunk > 0.0
        whiten = eigvecs[:, keep] / np.sqrt(shrunk[keep])
        m = centred_means @ whiten  # class means in the whitened space, (C, k)
        weights = whiten @ m.T  # S_w(lambda)^+ (means - centre)^T, (D, C)
    logits = (feats - centre) @ weights - 0.5 * np.einsum("ij,ij->i", m, m)[None, :] + np.log(priors)[None, :]
    return log_softmax(logits, axis=1)
