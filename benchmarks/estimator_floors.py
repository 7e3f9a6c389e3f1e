"""The floor of each transferability estimator: the operation that bounds it.

``bench_estimators.py`` times every estimator and, in the same run, the floor
named here, and prints ``estimator / floor`` beside the goal. A floor is the
cheapest operation any correct implementation must do (one ``F.T @ F`` plus one
``D x D`` eigendecomposition for the closed-form estimators, one exact FAISS
self-search for the neighbour-based ones, one fit of the model an estimator is
built on for the iterative ones).

Each entry: ``FLOORS[name] = Floor(description, run, goal)`` where
``run(features_float32, labels, options)`` performs the floor operation on the
same data the estimator gets (``options`` are the keyword options the benchmark
passes to the estimator, e.g. ``source_probs``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Floor:
    description: str
    run: Callable[[np.ndarray, np.ndarray, dict[str, Any]], object]
    goal: float


def gram_eigh(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One ``F.T @ F`` in float64 and one symmetric eigendecomposition of it."""
    f = f32.astype(np.float64)
    np.linalg.eigh(f.T @ f)


FLOORS: dict[str, Floor] = {
    "logme": Floor("F^T F + eigh (float64)", gram_eigh, 1.3),
}

# --- closed-form estimators -------------------------------------------------
#
# The closed-form estimators need the second moments of F (a Gram matrix, of the
# smaller side when N < D) and one D x D factorisation; those that work class by
# class need one pass over the samples for the class sums, which costs O(N D) and
# is part of each floor below. Labels are remapped first, as every estimator does.


def _codes(y: np.ndarray) -> tuple[np.ndarray, int]:
    classes, codes = np.unique(y, return_inverse=True)
    return codes, classes.shape[0]


def _gram(f: np.ndarray) -> np.ndarray:
    """The Gram matrix of the smaller side (``F^T F`` or ``F F^T``), one syrk."""
    return f.T @ f if f.shape[0] >= f.shape[1] else f @ f.T


def _class_pass(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Class sums of ``F`` in one pass (a sparse one-hot product): O(N D)."""
    from scipy.sparse import csr_array

    codes, n_classes = _codes(y)
    n = codes.shape[0]
    onehot = csr_array((np.ones(n), (codes, np.arange(n))), shape=(n_classes, n))
    return onehot @ f


def gram_eigh_classes(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Class sums, one Gram matrix (float64) and its symmetric eigendecomposition."""
    f = f32.astype(np.float64)
    _class_pass(f, y)
    np.linalg.eigh(_gram(f))


def gram_cholesky_classes(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Class sums, one Gram matrix (float64) and one Cholesky solve with the C class
    sums as right-hand sides: the shrunk covariance is positive definite, so a
    solve is all its inverse needs."""
    from scipy.linalg import cho_factor, cho_solve

    f = f32.astype(np.float64)
    sums = _class_pass(f, y)
    gram = _gram(f)
    gram.flat[:: gram.shape[0] + 1] += 1.0  # shrinkage towards the identity
    rhs = sums.T if f.shape[0] >= f.shape[1] else f @ sums.T
    cho_solve(cho_factor(gram), rhs)


def gram_eigvalsh_class_grams(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One Gram matrix and its eigenvalues (no vectors), plus the Gram matrix of
    every class (smaller side) and its Cholesky factor: one log-determinant each."""
    f = f32.astype(np.float64)
    np.linalg.eigvalsh(_gram(f))
    codes, n_classes = _codes(y)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_classes))))
    sorted_f = f[order]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        gram = _gram(sorted_f[start:stop])
        gram.flat[:: gram.shape[0] + 1] += 1.0
        np.linalg.cholesky(gram)


def two_gram_eigh_classes(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Twice (class sums, F^T F in float64, eigh): SFDA fits its discriminant on the
    features and again on the mixed features, whose scatter needs its own
    (weighted) Gram matrix."""
    f = f32.astype(np.float64)
    gram_eigh_classes(f, y, options)
    gram_eigh_classes(0.5 * f, y, options)


def log_sum_exp_pass(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One ``exp`` of every entry (in float64) and a row sum: the log-sum-exp of each row."""
    f = f32.astype(np.float64)
    np.log(np.exp(f).sum(axis=1))


def gram_eigh_classes_log_sum_exp(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    log_sum_exp_pass(f32, y, options)
    gram_eigh_classes(f32, y, options)


def class_moments(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """Class sums of ``F`` and of ``F * F`` in one pass each (float64)."""
    f = f32.astype(np.float64)
    _class_pass(f, y)
    return _class_pass(f * f, y)


def class_moments_pair_logs(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Class moments, plus one ``log`` per unordered class pair and dimension: the
    log-determinant of the averaged diagonal covariance of each pair (``C (C-1)/2 x D``)."""
    variances = np.abs(class_moments(f32, y, options)) + 1.0
    for i in range(variances.shape[0] - 1):
        np.log(variances[i] + variances[i + 1:]).sum(axis=1)


def gram_eigh_classes_block_svds(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Class sums, F^T F + eigh (float64), and the singular values of one ``N_c x C``
    block per class (NCTI's class-wise nuclear norms of the posteriors; an exact
    nuclear norm needs an SVD)."""
    gram_eigh_classes(f32, y, options)
    codes, n_classes = _codes(y)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_classes))))
    blocks = f32.astype(np.float64)[order][:, :n_classes]  # any N x C matrix of that shape
    for start, stop in zip(bounds[:-1], bounds[1:]):
        np.linalg.svd(blocks[start:stop], compute_uv=False)


FLOORS["hscore"] = Floor("class sums + F^T F + eigh (float64; the pseudo-inverse needs the spectrum)",
                         gram_eigh_classes, 3.0)
FLOORS["shrinkage_hscore"] = Floor("class sums + F^T F + one Cholesky solve (float64; the shrunk "
                                   "covariance is positive definite)", gram_cholesky_classes, 3.0)
FLOORS["gbc"] = Floor("class sums of F and F*F + C(C-1)/2 x D logs (no Gram matrix needed)",
                      class_moments_pair_logs, 3.0)
FLOORS["gbc_spherical"] = Floor("class sums of F and F*F (no Gram matrix needed)", class_moments, 3.0)
FLOORS["transrate"] = Floor("F^T F + eigvalsh + a Gram matrix and a Cholesky factor per class (float64)",
                            gram_eigvalsh_class_grams, 3.0)
FLOORS["sfda"] = Floor("2 x (class sums + F^T F + eigh) (float64; two Fisher fits)",
                       two_gram_eigh_classes, 3.0)
FLOORS["etran"] = Floor("exp of every entry + class sums + F^T F + eigh (float64)",
                        gram_eigh_classes_log_sum_exp, 3.0)
FLOORS["etran_energy"] = Floor("exp of every entry + row sums (float64)", log_sum_exp_pass, 3.0)
FLOORS["etran_lda"] = Floor("class sums + F^T F + eigh (float64)", gram_eigh_classes, 3.0)
FLOORS["ncti"] = Floor("class sums + F^T F + eigh (float64; PCA through the covariance) + one SVD "
                       "per class of an N_c x C block (the class-wise nuclear norms)",
                       gram_eigh_classes_block_svds, 3.0)
FLOORS["ped"] = Floor("class sums + F^T F + eigh (float64; the default LogME base's floor, "
                      "the dynamics are O(N D) per step)", gram_eigh_classes, 3.0)

# --- neighbour-based and iterative estimators -------------------------------
#
# One exact FAISS self-search for the neighbour-based estimators; for the iterative
# ones, one fit of the model the estimator is built on, run as far as a correct value
# needs. Each floor gets the same float32 features, labels and options as its estimator.


def _faiss_as_transferscope_loads_it():
    """FAISS, imported through transferscope (which picks OpenBLAS kernels for this CPU
    and larger BLAS blocks), so that the floor and the estimator run the same FAISS."""
    import sys

    if "faiss" not in sys.modules:
        import transferscope as ts

        ts.score("knn", np.eye(3), [0, 0, 1], k=1)
    return sys.modules["faiss"]


def faiss_self_search(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One exact FAISS flat self-search of all N rows for their ``k + 1`` nearest (self
    included), float32, on unit rows for the cosine metric (inner product), else L2."""
    faiss = _faiss_as_transferscope_loads_it()
    k = int(options.get("k", 5))
    x = np.ascontiguousarray(f32, dtype=np.float32)
    if options.get("metric", "cosine") == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        index = faiss.IndexFlatIP(x.shape[1])
    else:
        index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    from transferscope.metrics._neighbors import flat_search_blocks

    with flat_search_blocks():  # the BLAS blocks transferscope's own searches use
        index.search(x, k + 1)


def within_class_max_norm_pairs(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """Per class, the max-norm distance of every within-class pair once (scipy ``pdist``,
    float64). In high dimension every exact max-norm k-NN search must look at all of them;
    there is no BLAS path for the max norm (FAISS's flat ``METRIC_Linf`` search is slower)."""
    from scipy.spatial.distance import pdist

    f = f32.astype(np.float64)
    codes, n_classes = _codes(y)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_classes))))
    sorted_f = f[order]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        pdist(sorted_f[start:stop], "chebyshev")


def pca_correlations_sort(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """On the seeded subsample of M = min(N, max_samples) rows: the randomized PCA to
    ``n_dims`` components, the M (M - 1) / 2 row correlations (one M x M x n_dims product)
    and one sort of them (Spearman's correlation needs their ranks)."""
    from sklearn.decomposition import PCA

    f = f32.astype(np.float64)
    n = f.shape[0]
    m = options.get("max_samples", 2000)
    seed = options.get("seed", 0)
    if m is not None and n > m:
        f = f[np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))]
    z = PCA(n_components=min(options.get("n_dims", 32), *f.shape), svd_solver="randomized",
            random_state=seed, iterated_power=1).fit_transform(f)
    z -= z.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    corr = z @ z.T
    m = corr.shape[0]
    np.sort(np.concatenate([corr[i, i + 1 :] for i in range(m - 1)]))


def softmax_head_lbfgs(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One L-BFGS-B fit (scipy, analytic gradient) of PACTran's softmax head: centred
    features, weight decay ``1 / (2 lam N)``, from zero, run until L-BFGS-B stops improving
    the loss (``ftol = 0``, ``gtol = 1e-10`` of the initial gradient): the most accurate
    value L-BFGS-B alone reaches (~2e-9 relative at N = 10,000). scipy's default tolerances
    stop after ~10 iterations with the value 12% off."""
    from scipy.optimize import minimize

    x = f32.astype(np.float64)
    x -= x.mean(axis=0)
    codes, c = _codes(y)
    n, d = x.shape
    reg = float(options.get("lam", 10.0)) * n
    rows = np.arange(n)

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * c].reshape(d, c), theta[d * c :]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        total = p.sum(axis=1)
        loss = (np.log(total).sum() - z[rows, codes].sum()) / n + 0.5 * np.sum(w * w) / reg
        p /= total[:, None]
        p[rows, codes] -= 1.0
        p /= n
        return loss, np.concatenate([(x.T @ p + w / reg).ravel(), p.sum(axis=0)])

    theta0 = np.zeros((d + 1) * c)
    g0 = float(np.max(np.abs(value_and_grad(theta0)[1])))
    minimize(value_and_grad, theta0, jac=True, method="L-BFGS-B",
             options={"maxiter": 5000, "maxfun": 10000, "ftol": 0.0, "gtol": 1e-10 * g0})


def pca_gaussian_mixture(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """PCA keeping 80% of the variance, then one scikit-learn ``GaussianMixture`` fit with
    NLEEP's settings (``5 C`` components, ``covariance_type`` as passed, default "full",
    ``random_state = 0``) on those features, scaled as NLEEP scales them."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    x = f32.astype(np.float64)
    x -= x.mean(axis=0)
    z = PCA(n_components=options.get("variance_kept", 0.8)).fit_transform(x)
    z /= np.sqrt(np.mean(np.var(z, axis=0)))
    _, c = _codes(y)
    GaussianMixture(n_components=options.get("n_components_per_class", 5) * c,
                    covariance_type=options.get("covariance_type", "full"),
                    random_state=options.get("seed", 0)).fit(z)


def source_joint(f32: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> None:
    """One pass over the features (every estimator checks them for NaN/inf) and one over
    the source probabilities: the C x C_s joint of labels and source classes (a sparse
    one-hot product, float64)."""
    from scipy.sparse import csr_array

    np.isfinite(f32).all()
    probs = np.asarray(options["source_probs"], dtype=np.float64)
    codes, n_classes = _codes(y)
    n = codes.shape[0]
    csr_array((np.ones(n), (codes, np.arange(n))), shape=(n_classes, n)) @ probs


FLOORS["knn"] = Floor("one exact FAISS flat self-search, k+1 neighbours", faiss_self_search, 1.5)
FLOORS["tmi"] = Floor("per class: max-norm distance of every pair (pdist)", within_class_max_norm_pairs, 1.5)
FLOORS["parc"] = Floor("subsample PCA + M^2/2 correlations + one sort", pca_correlations_sort, 1.5)
FLOORS["pactran"] = Floor("L-BFGS-B head fit until it stops improving", softmax_head_lbfgs, 2.0)
FLOORS["nleep"] = Floor("PCA 80% + one sklearn GaussianMixture fit", pca_gaussian_mixture, 1.2)
FLOORS["leep"] = Floor("finite check of F + C x C_s joint (source probs)", source_joint, 3.0)
