"""RSA: golden values from rsatoolbox and ReSi, closed forms, invariances, bad input.

Golden values were computed by running the reference code in /tmp (never copied here) on the
inputs of the ``case_*`` functions below (numpy default_rng seeds 0-2):

* rsatoolbox 0.3.2 (pip, numpy 1.26.4, scipy 1.17.1):
  ``rsatoolbox.rdm.compare(calc_rdm(Dataset(X), method=rdm), calc_rdm(Dataset(Y), method=rdm),
  method=comp)`` for ``rdm`` in {"correlation", "euclidean"} and ``comp`` in {"spearman", "corr",
  "kendall", "cosine"}. rsatoolbox's "euclidean" RDM is the squared Euclidean distance divided
  by the number of columns, so it is compared with ``rdm="sqeuclidean"`` (the constant factor
  cancels in every comparator); "corr" is Pearson's r, "kendall" is tau-b.
* ReSi (mklabunde/resi) @ 24ab9e5055c71527445b0b196f5872f3cbe9a020,
  ``repsim/measures/rsa.py::representational_similarity_analysis(X, Y, "nd", inner=rdm,
  outer="spearman")`` for ``rdm`` in {"correlation", "euclidean"} (Euclidean distances, not
  squared). Its values agree with rsatoolbox's Spearman values to 1e-15.

ReSi's ``RSA`` class declares invariance to translation; with the default correlation RDM
(each sample centred across its features) RSA is not translation invariant, as tested below.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.similarity_cases import PAIRED_CASES, case_a, case_c
from transferscope.errors import InputError
from transferscope.metrics.similarity.rsa import rsa

CASES = PAIRED_CASES
COMPARATOR = {"spearman": "spearman", "corr": "pearson", "kendall": "kendall", "cosine": "cosine"}
RDM = {"correlation": "correlation", "euclidean": "sqeuclidean"}

# (case, rsatoolbox rdm, rsatoolbox comparator) -> value
RSATOOLBOX = {
    ("a", "correlation", "corr"): 0.6070433219073255, ("a", "correlation", "cosine"): 0.9460600042232671,
    ("a", "correlation", "kendall"): 0.4205701211327091, ("a", "correlation", "spearman"): 0.594834912770539,
    ("a", "euclidean", "corr"): 0.650587973912482, ("a", "euclidean", "cosine"): 0.9210319914583547,
    ("a", "euclidean", "kendall"): 0.469641490457243, ("a", "euclidean", "spearman"): 0.6543382651939336,
    ("b", "correlation", "corr"): 0.5740924282388786, ("b", "correlation", "cosine"): 0.9899361291080608,
    ("b", "correlation", "kendall"): 0.38267996445146646, ("b", "correlation", "spearman"): 0.5488351710485542,
    ("b", "euclidean", "corr"): 0.5759460290273262, ("b", "euclidean", "cosine"): 0.9848218574717553,
    ("b", "euclidean", "kendall"): 0.3761364010401238, ("b", "euclidean", "spearman"): 0.5412602331946381,
    ("c", "correlation", "corr"): 0.2734691885584131, ("c", "correlation", "cosine"): 0.7690067474074757,
    ("c", "correlation", "kendall"): 0.19256753353202083, ("c", "correlation", "spearman"): 0.2871209568639271,
    ("c", "euclidean", "corr"): 0.182252613667115, ("c", "euclidean", "cosine"): 0.6434753647703025,
    ("c", "euclidean", "kendall"): 0.1762926800750704, ("c", "euclidean", "spearman"): 0.2585032393257431,
}
# (case, rdm) -> ReSi value (Spearman)
RESI = {
    ("a", "correlation"): 0.5948349127705391, ("a", "euclidean"): 0.6543382651939336,
    ("b", "correlation"): 0.5488351710485541, ("b", "euclidean"): 0.5412602331946381,
    ("c", "correlation"): 0.2871209568639271, ("c", "euclidean"): 0.2585032393257431,
}


@pytest.mark.parametrize(("case", "rdm", "comparator"), sorted(RSATOOLBOX))
def test_matches_rsatoolbox(case, rdm, comparator):
    x, y = CASES[case]()
    value = rsa(x, y, rdm=RDM[rdm], comparator=COMPARATOR[comparator])
    assert value == pytest.approx(RSATOOLBOX[(case, rdm, comparator)], rel=1e-12)


@pytest.mark.parametrize(("case", "rdm"), sorted(RESI))
def test_matches_resi(case, rdm):
    x, y = CASES[case]()
    assert rsa(x, y, rdm=rdm) == pytest.approx(RESI[(case, rdm)], rel=1e-12)


def test_default_is_correlation_rdm_and_spearman():
    x, y = case_a()
    assert rsa(x, y) == rsa(x, y, rdm="correlation", comparator="spearman")


def test_cosine_rdm_of_row_centred_data_is_the_correlation_rdm():
    x, y = case_c()
    centre = lambda a: a - a.mean(axis=1, keepdims=True)  # noqa: E731
    for comparator in ("spearman", "pearson"):
        assert rsa(centre(x), centre(y), rdm="cosine", comparator=comparator) == pytest.approx(
            rsa(x, y, comparator=comparator), rel=1e-10)


def test_squaring_distances_matters_only_to_value_based_comparators():
    x, y = case_a()
    for comparator in ("spearman", "kendall"):
        assert rsa(x, y, rdm="euclidean", comparator=comparator) == pytest.approx(
            rsa(x, y, rdm="sqeuclidean", comparator=comparator), rel=1e-12)
    assert abs(rsa(x, y, rdm="euclidean", comparator="pearson")
               - rsa(x, y, rdm="sqeuclidean", comparator="pearson")) > 1e-3


def test_invariances_depend_on_the_rdm():
    x, y = case_a()
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    shift = 2.0 * rng.normal(size=10)
    base = rsa(x, y)
    assert rsa(x, 3.0 * y) == pytest.approx(base, rel=1e-12)
    assert rsa(x, y[:, ::-1]) == pytest.approx(base, rel=1e-12)
    assert abs(rsa(x, y @ q) - base) > 1e-3
    assert abs(rsa(x, y + shift) - base) > 1e-3
    # Euclidean RDMs do not see rotations or translations.
    euclid = rsa(x, y, rdm="euclidean")
    assert rsa(x, y @ q + shift, rdm="euclidean") == pytest.approx(euclid, rel=1e-10)


def test_unrelated_representations_score_near_zero():
    rng = np.random.default_rng(4)
    assert abs(rsa(rng.normal(size=(200, 10)), rng.normal(size=(200, 10)))) < 0.05


@pytest.mark.parametrize(
    ("x", "y", "options", "match"),
    [
        (np.ones((5, 3)), np.eye(5, 3) + 1, {"rdm": "euclidean"}, "the RDM of X is constant"),
        (np.repeat(np.arange(5.0)[:, None], 2, axis=1), np.eye(5, 3) + 1, {}, "X row 0 is constant across its columns"),
        (np.eye(5, 3) + 1, np.r_[np.zeros((1, 3)), np.eye(4, 3) + 1], {"rdm": "cosine"}, "Y row 0 is all zeros"),
        (np.eye(2, 3), np.eye(2, 3), {}, "at least 3 samples"),
        (np.eye(5, 3), np.eye(5, 3), {"rdm": "manhattan"}, "rdm must be one of"),
        (np.eye(5, 3), np.eye(5, 3), {"comparator": "tau-a"}, "comparator must be one of"),
    ],
)
def test_bad_input_names_the_argument(x, y, options, match):
    with pytest.raises(InputError, match=match):
        rsa(x, y, **options)
