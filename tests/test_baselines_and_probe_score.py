"""Static prior baseline, cross-validated probe score, LogME multi-label."""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError


def test_static_prior_returns_prior_and_checks_input():
    assert ts.score("static", np.ones((3, 2)), [0, 1, 0], prior=-25e6) == -25e6
    with pytest.raises(InputError, match="prior must be a number"):
        ts.score("static", np.ones((3, 2)), [0, 1, 0], prior="big")
    with pytest.raises(InputError, match="2 entries but features has 3 rows"):
        ts.score("static", np.ones((3, 2)), [0, 1], prior=1.0)
    with pytest.raises(InputError, match="requires the option"):
        ts.score("static", np.ones((3, 2)), [0, 1, 0])


def test_cv_probe_matches_sklearn_directly_and_is_seeded():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    f = rng.normal(size=(120, 6)) + 1.2 * np.eye(3, 6)[y]
    ours = ts.score("cv_probe", f, y, seed=3)
    assert ours == ts.score("cv_probe", f, y, seed=3)
    # Same protocol written out: rows in content order, 5 stratified folds.
    order = np.lexsort(np.c_[f, y].T[::-1])
    direct = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                             f[order], y[order], cv=StratifiedKFold(5, shuffle=True, random_state=3)).mean()
    assert ours == pytest.approx(direct)


def test_cv_probe_regression():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(100, 4))
    assert ts.score("cv_probe", f, f @ [1.0, 2.0, 0.0, 0.0] + 0.1 * rng.normal(size=100), task="regression") > 0.95


def test_logme_multilabel_equals_mean_of_binary_columns():
    rng = np.random.default_rng(2)
    f = rng.normal(size=(80, 5))
    y = (rng.random((80, 3)) < 0.5).astype(int)
    # each indicator column is one target, exactly as each one-hot column of a class
    per_column = [ts.score("logme", f, y[:, j].astype(float), task="regression") for j in range(3)]
    assert ts.score("logme", f, y, task="multilabel") == pytest.approx(np.mean(per_column), rel=1e-12)
    with pytest.raises(InputError, match="only 0 and 1"):
        ts.score("logme", f, y * 2, task="multilabel")
    with pytest.raises(InputError, match="constant"):
        ts.score("logme", f, np.c_[y[:, :2], np.ones(80)], task="multilabel")
