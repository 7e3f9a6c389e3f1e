"""NCTI: golden values from the authors' code, the cross-candidate combination, edge cases.

Golden values were computed by running the reference code in /tmp (never copied here):
BUserName/NCTI @ b18d39514a3f2a7a949500b467a38b93de1428e4, ``metrics.py::NCTI_Score``
(numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1), after ``utils.fix_python_seed(1)`` as in
``evaluate_metric_group1_cpu.py``, on copies of the ``case_*`` inputs below.
``NCTI_Score`` returns ``(all_lowfeat_nuc, sfda_score, log(class_pred_nuc))``, which are
our ``seli``, ``ncc`` and ``vc``.

* ``REF_TERMS``: unmodified. Its PCA uses scikit-learn's automatic solver, which is the
  exact ``full`` SVD for cases a-c (at most 500 x 500) and the covariance eigensolver for
  ``case_tall`` (N >= 10 D); both exact, so ours agrees to rounding.
* ``case_randomized`` (800 x 128): the reference's automatic solver is randomized PCA, an
  approximation (ours differs by ~1e-3). ``REF_RANDOMIZED_FULL_PCA`` is the reference with
  ``PCA`` replaced by ``functools.partial(PCA, svd_solver="full")``, the only change.
* ``REF_COMBINED``: ``evaluate_metric_group1_cpu.py``'s ``ncti`` arithmetic
  (``mcscore + mascore - cpscore``, each term min-max normalised over the models) on the
  reference terms ``REF_CANDIDATE_TERMS`` of the three ``candidates()``.

Where the reference is wrong the correct behaviour is tested instead: labels ``{0, 5}``
make it index posterior column 5 of 2 (IndexError); ours depends only on the partition.
It also needs ``min(N, D) >= 64`` for its PCA; ours uses ``min(64, N, D)`` components.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import transferscope as ts
from transferscope.errors import InputError
from transferscope.metrics.transferability.ncti import ncti, ncti_combine, ncti_terms


def case_a():  # 5 classes, unit-scale features: no shrinkage (svd solver)
    rng = np.random.default_rng(20)
    n, d, c = 300, 80, 5
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 1.0 * np.eye(c, d)[y], y


def case_b():  # small-scale features: shrinkage exp(-sum of top-32 variances) (eigen solver)
    rng = np.random.default_rng(21)
    n, d, c = 400, 70, 4
    y = rng.integers(0, c, n)
    return 0.05 * (rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]), y


def case_c():  # two classes, D = 64
    rng = np.random.default_rng(22)
    n, d = 200, 64
    y = rng.integers(0, 2, n)
    return rng.normal(size=(n, d)) + 0.8 * np.eye(2, d)[y], y


def case_tall():  # N >= 10 D: the reference's PCA uses the covariance solver
    rng = np.random.default_rng(23)
    n, d, c = 1500, 100, 6
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 0.7 * np.eye(c, d)[y], y


def case_randomized():  # N > 500, N < 10 D: the reference's PCA is randomized
    rng = np.random.default_rng(24)
    n, d, c = 800, 128, 4
    y = rng.integers(0, c, n)
    return rng.normal(size=(n, d)) + 0.7 * np.eye(c, d)[y], y


def candidates():
    f, y = case_a()
    rng = np.random.default_rng(25)
    return [f, f + 1.5 * rng.normal(size=f.shape), rng.normal(size=f.shape)], y


CASES = {"a": case_a, "b": case_b, "c": case_c, "tall": case_tall}
REF_TERMS = {  # (seli, ncc, vc)
    "a": (85.91094769268389, 0.5813505215356062, 3.9826067841400845),
    "b": (84.82265119460013, 0.7713578977847614, 3.9664727290441264),
    "c": (19.44637068818129, 0.7595057461613015, 3.1002119584636385),
    "tall": (204.0323248365695, 0.26217412279778385, 4.603403504927626),
}
REF_RANDOMIZED_AUTO = (92.34233466654855, 0.3809934287403769, 4.103256853235354)
REF_RANDOMIZED_FULL_PCA = (92.47927571838596, 0.3820927912438848, 4.109859400034341)
REF_CANDIDATE_TERMS = [
    (85.91094769268389, 0.5813505215356062, 3.9826067841400845),
    (80.60885446780635, 0.46896151776022776, 3.9019507134751636),
    (77.45956599016014, 0.40387331189511316, 3.8716597019139307),
]
REF_COMBINED = [1.0, 0.4663549797301067, 0.0]


def _as_tuple(terms):
    return terms["seli"], terms["ncc"], terms["vc"]


@pytest.mark.parametrize("key", sorted(CASES))
def test_terms_match_reference(key):
    f, y = CASES[key]()
    np.testing.assert_allclose(_as_tuple(ncti_terms(f, y)), REF_TERMS[key], rtol=1e-6)


def test_terms_match_reference_with_exact_pca_where_it_is_randomized():
    f, y = case_randomized()
    ours = _as_tuple(ncti_terms(f, y))
    np.testing.assert_allclose(ours, REF_RANDOMIZED_FULL_PCA, rtol=1e-6)
    np.testing.assert_allclose(ours, REF_RANDOMIZED_AUTO, rtol=1e-2)  # the approximation's error
    assert not np.allclose(ours, REF_RANDOMIZED_AUTO, rtol=1e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_registered_score_is_the_unnormalised_sum(key):
    f, y = CASES[key]()
    seli, ncc, vc = REF_TERMS[key]
    assert ts.score("ncti", f, y) == pytest.approx(seli + ncc - vc, rel=1e-6)


def test_combine_reproduces_the_reference_ranking_arithmetic():
    models, y = candidates()
    terms = [_as_tuple(ncti_terms(f, y)) for f in models]
    np.testing.assert_allclose(terms, REF_CANDIDATE_TERMS, rtol=1e-6)
    seli, ncc, vc = np.array(terms).T
    np.testing.assert_allclose(ncti_combine(seli, ncc, vc), REF_COMBINED, rtol=1e-6, atol=1e-12)


def test_combine_constant_terms_and_errors():
    np.testing.assert_allclose(ncti_combine([1.0, 2.0], [0.5, 0.5], [3.0, 3.0]), [0.0, 1.0])
    assert ncti_combine([1.0], [0.5], [2.0]).tolist() == [0.0]
    with pytest.raises(InputError, match="ncc_scores has 1 entries but the first term has 2"):
        ncti_combine([1.0, 2.0], [0.5], [1.0, 2.0])
    with pytest.raises(InputError, match="vc_scores contains NaN"):
        ncti_combine([1.0, 2.0], [0.5, 0.6], [1.0, np.nan])


def test_label_gaps_and_strings_are_remapped():
    f, y = case_c()
    base = ncti_terms(f, y)
    for labels in (np.where(y == 1, 5, 0), np.array(["a", "b"])[y]):
        np.testing.assert_allclose(_as_tuple(ncti_terms(f, labels)), _as_tuple(base), rtol=1e-12)


def test_invariant_to_rotation_and_translation():
    f, y = case_a()
    q, _ = np.linalg.qr(np.random.default_rng(26).normal(size=(80, 80)))
    np.testing.assert_allclose(_as_tuple(ncti_terms(f @ q - 7.0, y)), _as_tuple(ncti_terms(f, y)), rtol=1e-8)


def test_fewer_than_64_dimensions():
    rng = np.random.default_rng(27)
    y = np.arange(120) % 3
    f = rng.normal(size=(120, 10)) + 2.0 * np.eye(3, 10)[y]
    terms = ncti_terms(f, y)
    assert 0.0 < terms["ncc"] <= 1.0 and terms["seli"] > 0.0
    assert ncti(f, y) > ncti(rng.normal(size=(120, 10)), y)


def test_constant_features_give_the_no_information_terms():
    y = np.array([0] * 4 + [1] * 12)
    prior = np.array([0.25, 0.75])
    terms = ncti_terms(np.full((16, 5), 3.0), y)
    assert terms["seli"] == 0.0
    assert terms["ncc"] == pytest.approx(prior @ prior, rel=1e-12)
    # each class's posterior matrix is rank one with rows pi: nuclear norm sqrt(n_c) ||pi||
    assert terms["vc"] == pytest.approx(np.log((2.0 + np.sqrt(12.0)) * np.linalg.norm(prior)), rel=1e-12)


def test_rejects_classes_collapsed_to_single_points():
    with pytest.raises(InputError, match="single point"):
        ncti(np.repeat(np.eye(3), 4, axis=0), np.repeat([0, 1, 2], 4))


def test_warns_when_within_class_scatter_is_singular():
    rng = np.random.default_rng(28)
    y = np.arange(30) % 3
    with pytest.warns(RuntimeWarning, match="unreliable"):
        assert np.isfinite(ncti(rng.normal(size=(30, 100)), y))
    f, y = case_a()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ncti(f, y)


@pytest.mark.parametrize(
    ("options", "match"),
    [({"n_components": 0}, "n_components must be >= 1"), ({"n_shrinkage_components": 1.5}, "integer")],
)
def test_bad_options(options, match):
    f, y = case_c()
    with pytest.raises(InputError, match=match):
        ncti(f, y, **options)


def test_does_not_mutate_input():
    f, y = case_a()
    f0 = f.copy()
    ncti(f, y)
    np.testing.assert_array_equal(f, f0)


def _terms_with_sklearn_pca(f, y, n_components=64, n_shrinkage_components=32):
    """Independent route: scikit-learn's exact PCA (full SVD of all N x D features), its
    LDA, and the nuclear norms of the boolean-masked class blocks, as the reference does."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    n, d = f.shape
    pca = PCA(n_components=min(n_components, n, d), svd_solver="full")
    reduced = pca.fit_transform(f)
    variances = pca.explained_variance_
    keep = variances > variances[0] * max(n, d) * np.finfo(np.float64).eps
    reduced, variances = reduced[:, keep], variances[keep]
    shrinkage = float(np.exp(-variances[:n_shrinkage_components].sum()))
    lda = (LinearDiscriminantAnalysis(solver="svd") if shrinkage <= 1e-10
           else LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        projected = lda.fit_transform(reduced, y)
        posterior = lda.predict_proba(reduced)
    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    return (
        np.linalg.norm(projected - projected.mean(axis=0), ord="nuc"),
        np.mean(posterior[np.arange(n), codes]),
        np.log(sum(np.linalg.norm(posterior[y == c], ord="nuc") for c in classes)),
    )


def _case_wide():  # N < D: the PCA comes from the N x N Gram matrix
    rng = np.random.default_rng(26)
    n, d, c = 120, 300, 4
    y = np.arange(n) % c
    return rng.normal(size=(n, d)) + 1.5 * np.eye(c, d)[y], y


def _case_many_classes():  # C - 1 > k: every PCA axis is a discriminant direction
    rng = np.random.default_rng(27)
    n, d, c = 900, 48, 30
    y = np.arange(n) % c
    return 0.3 * (rng.normal(size=(n, d)) + rng.normal(size=(c, d))[y]) + 2.0, y


@pytest.mark.parametrize(
    ("case", "options"),
    [(case_a, {}), (case_b, {}), (case_c, {}), (case_tall, {}), (_case_wide, {}),
     (_case_many_classes, {}), (case_a, {"n_components": 5, "n_shrinkage_components": 2})],
    ids=["svd-solver", "eigen-solver", "two-classes", "tall", "n-below-d", "many-classes", "k=5"],
)
def test_terms_equal_sklearn_full_svd_pca_route(case, options):
    # Our PCA is the eigendecomposition of the Gram matrix (signs may differ from the SVD's,
    # which no term depends on); the terms must agree with the SVD route to rounding.
    f, y = case()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = _as_tuple(ncti_terms(f, y, **options))
    np.testing.assert_allclose(ours, _terms_with_sklearn_pca(f, y, **options), rtol=1e-9)
