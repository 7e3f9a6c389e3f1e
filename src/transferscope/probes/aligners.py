"""Post-hoc aligners: maps from a new model's embedding space into an old one's, fitted on pairs.

Given ``n`` items embedded by both models (``source`` = new, ``target`` = old), each aligner
returns a function that maps new vectors into the old space, so that new queries can search an
index of old vectors without re-encoding it:

* ``procrustes``: centred orthogonal Procrustes with one scale, ``y = s (x - mu_x) R + mu_y``
  (:func:`scipy.linalg.orthogonal_procrustes`). Models of different widths are handled by padding
  the narrower side with zero columns, which makes ``R`` a rectangular map with orthonormal
  rows or columns; the output keeps the old width.
* ``ridge``: an affine map by ridge regression, the penalty chosen by efficient leave-one-out
  over a log grid (:class:`sklearn.linear_model.RidgeCV`).
* ``low_rank``: reduced-rank ridge regression: the ridge map projected on the top ``rank``
  principal directions of its fitted values (Izenman's reduced-rank regression), an affine map
  of rank ``rank``.
* ``mlp``: one hidden layer of 256 ReLU units (:class:`sklearn.neural_network.MLPRegressor`,
  Adam, early stopping on 10% of the pairs when there are at least 50, seeded).

Examples
--------
>>> import numpy as np
>>> from transferscope.probes.aligners import fit_aligner
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(50, 4))
>>> rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
>>> y = 3.0 * x @ rotation + 1.0
>>> align = fit_aligner("procrustes", x, y)
>>> bool(np.allclose(align(x), y))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.metrics import check_choice, check_features

__all__ = ["ALIGNERS", "fit_aligner", "fit_aligners", "LOW_RANK", "RIDGE_ALPHAS"]

ALIGNERS = ("procrustes", "ridge", "low_rank", "mlp")
LOW_RANK = 32  # rank of the low-rank affine aligner
RIDGE_ALPHAS = tuple(10.0 ** np.arange(-3, 5))  # the ridge penalties tried (leave-one-out)
_MLP_HIDDEN = 256

Aligner = Callable[[np.ndarray], np.ndarray]


def fit_aligner(name: str, source: Any, target: Any, *, seed: int = 0, rank: int = LOW_RANK) -> Aligner:
    """Fit the aligner ``name`` (module notes) that maps ``source`` rows onto ``target`` rows.

    Parameters
    ----------
    name : {"procrustes", "ridge", "low_rank", "mlp"}
    source : array-like of shape (n_pairs, d_new)
        The new model's embeddings of the paired items.
    target : array-like of shape (n_pairs, d_old)
        The old model's embeddings of the same items, row for row.
    seed : int, default=0
        Seeds the MLP.
    rank : int, default=32
        Rank of ``low_rank`` (capped by the widths and the number of pairs).

    Returns
    -------
    callable
        ``align(new_vectors) -> vectors in the old space`` (float64, ``d_old`` columns).

    Raises
    ------
    InputError
        An unknown ``name``, non-finite or mismatched arrays, or fewer than 2 pairs.
    """
    return fit_aligners([name], source, target, seed=seed, rank=rank)[name]


def fit_aligners(names: Any, source: Any, target: Any, *, seed: int = 0, rank: int = LOW_RANK,
                 ) -> dict[str, Aligner]:
    """:func:`fit_aligner` for each of ``names`` on the same pairs, the arrays checked once and
    the ridge fit shared by ``ridge`` and ``low_rank`` (which projects it).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(40, 3))
    >>> sorted(fit_aligners(["ridge", "low_rank"], x, 2 * x))
    ['low_rank', 'ridge']
    """
    names = [check_choice(name, ALIGNERS, name="aligner") for name in names]
    x = check_features(source, name="source")
    y = check_features(target, name="target")
    if x.shape[0] != y.shape[0]:
        raise InputError(f"source has {x.shape[0]} rows but target has {y.shape[0]}; aligners need pairs")
    if x.shape[0] < 2:
        raise InputError(f"an aligner needs at least 2 pairs, got {x.shape[0]}")
    out: dict[str, Aligner] = {}
    ridge = _ridge(x, y) if {"ridge", "low_rank"} & set(names) else None
    for name in names:
        if name == "procrustes":
            out[name] = _procrustes(x, y)
        elif name == "mlp":
            out[name] = _mlp(x, y, seed)
        elif name == "ridge":
            out[name] = (lambda model: lambda new: model.predict(np.asarray(new, dtype=np.float64)))(ridge)
        else:
            out[name] = _low_rank(ridge, x, y, rank)
    return out


def _procrustes(x: np.ndarray, y: np.ndarray) -> Aligner:
    from scipy.linalg import orthogonal_procrustes

    width, out = max(x.shape[1], y.shape[1]), y.shape[1]
    mu_x, mu_y = x.mean(axis=0), y.mean(axis=0)
    xc, yc = _pad(x - mu_x, width), _pad(y - mu_y, width)
    rotation, singular_sum = orthogonal_procrustes(xc, yc)
    norm = float(np.sum(xc * xc))
    scale = singular_sum / norm if norm > 0 else 1.0

    def align(new: np.ndarray) -> np.ndarray:
        centred = _pad(np.asarray(new, dtype=np.float64) - mu_x, width)
        return scale * (centred @ rotation)[:, :out] + mu_y

    return align


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    return a if a.shape[1] == width else np.hstack([a, np.zeros((a.shape[0], width - a.shape[1]))])


def _ridge(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=RIDGE_ALPHAS).fit(x, y)


def _low_rank(ridge: Any, x: np.ndarray, y: np.ndarray, rank: int) -> Aligner:
    fitted = ridge.predict(x)
    centred = fitted - fitted.mean(axis=0)
    r = max(1, min(int(rank), x.shape[1], y.shape[1], x.shape[0] - 1))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:r].T  # the top principal directions of the fitted values, d_old x r
    coef = ridge.coef_.T @ basis @ basis.T  # d_new x d_old, rank r
    intercept = (ridge.intercept_ - fitted.mean(axis=0)) @ basis @ basis.T + fitted.mean(axis=0)
    return lambda new: np.asarray(new, dtype=np.float64) @ coef + intercept


def _mlp(x: np.ndarray, y: np.ndarray, seed: int) -> Aligner:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = MLPRegressor(hidden_layer_sizes=(_MLP_HIDDEN,), max_iter=500, random_state=seed,
                         early_stopping=x.shape[0] >= 50, n_iter_no_change=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(x), y)

    def align(new: np.ndarray) -> np.ndarray:
        out = model.predict(scaler.transform(np.asarray(new, dtype=np.float64)))
        return out.reshape(out.shape[0], -1)

    return align
