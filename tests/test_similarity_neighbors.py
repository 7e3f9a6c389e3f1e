"""Neighbour-based similarity measures: golden values, closed forms, the FAISS search itself.

Golden values were computed by running the reference code in /tmp (never copied here) on
the inputs of the ``case_*`` functions below (numpy default_rng seeds 0-2):

* platonic-rep @ dcd76ba3c950c1b197a2ae8b1c6713535c94ecf9, ``metrics.py``
  ``AlignmentMetrics.mutual_knn(A, B, topk=k)`` and ``AlignmentMetrics.cknna(A, B, topk=k)``
  (torch 2.13 CPU, float64 tensors), with ``A = F.normalize(X)``, ``B = F.normalize(Y)`` as its
  ``measure_alignment.compute_score`` does. Its ``mutual_knn`` averages float32 masks (agreement
  to 1e-7). CKNNA inputs were multiplied by 1e3, which leaves CKNNA unchanged but makes the
  reference's ``+ 1e-6`` in the denominator negligible (at unit scale it shifts values by ~1e-5,
  e.g. case a, k=10: 0.505614537335257 instead of 0.5056312881507573). Also
  ``cknna(B, A)`` (the reference is not symmetric), ``unbiased=False``, and raw ``X, Y`` (our
  ``kernel="linear"``). ``distance_agnostic=True`` crashes there (``.item()`` of a matrix) and
  ``topk=None`` too (compared with 2 before it is replaced).
* ReSi (mklabunde/resi) @ 24ab9e5055c71527445b0b196f5872f3cbe9a020,
  ``repsim/measures/nearest_neighbor.py`` (scikit-learn 1.9.1): ``jaccard_similarity`` and
  ``rank_similarity`` with ``shape="nd", k=k, inner="cosine"``; ``second_order_cosine_similarity``
  with ``sklearn.metrics.pairwise_distances`` replaced by ``1 - pairwise_distances`` during the
  call, so that its second-order vectors hold cosine similarities as in Hamilton et al. (2016);
  unmodified, ReSi compares vectors of cosine *distances* and gives other values (case a, k=10:
  0.8541047027267006; c, k=5: 0.29464278703417013).
* Variants (``GOLDEN_VARIANTS``), the same references unmodified, also on ``case_d`` (N < D,
  float32) and on independent Gaussian data (N = 300, D = 512, ``default_rng(0)``):
  platonic-rep ``AlignmentMetrics.cknna(A, B, topk=k)`` at unit scale with its ``+ 1e-6``
  (float64 tensors; also ``cknna(B, A)``, ``unbiased=False`` and raw ``X, Y`` for
  ``kernel="linear"``) -> ``cknna(..., variant="platonic")``. In float32 tensors, as its
  ``measure_alignment`` runs it, it gave values within 1e-7 relative of these (case a, k=10:
  0.5056145670209164; d, k=10: 0.16937012027515308). ReSi
  ``second_order_cosine_similarity(X, Y, shape="nd", k=k)`` unmodified ->
  ``second_order_cosine(..., variant="resi")``; float32 input (which sklearn keeps in
  float32) within 2e-7 (a, k=10: 0.8541046380996704).
* DADApy 0.3.4 ``MetricComparisons(coordinates=np.hstack([X, Y]), maxk=N - 1)
  .return_inf_imb_two_selected_coords(X columns, Y columns, k=k)`` -> (Delta(X->Y),
  Delta(Y->X)); ``maxk = N - 1`` so that every rank is exact (beyond ``maxk`` DADApy draws
  random ranks).
"""

from __future__ import annotations

import numpy as np
import pytest

import transferscope as ts
from tests.similarity_cases import PAIRED_CASES, case_a, case_b, case_c, case_d
from transferscope.errors import InputError
from transferscope.metrics._neighbors import dense_neighbors, nearest_neighbors, neighbor_recall
from transferscope.metrics.similarity._distance_ranks import distance_ranks
from transferscope.metrics.similarity.cknna import cknna
from transferscope.metrics.similarity.information_imbalance import information_imbalance
from transferscope.metrics.similarity.neighbor_overlap import jaccard, mutual_knn, rank_similarity, second_order_cosine

CASES = PAIRED_CASES

# (measure, case, k) -> reference value
GOLDEN = {
    ("mutual_knn", "a", 5): 0.35499998927116394, ("mutual_knn", "a", 10): 0.48000001907348633,
    ("mutual_knn", "b", 5): 0.3050000071525574, ("mutual_knn", "b", 10): 0.4749999940395355,
    ("mutual_knn", "c", 5): 0.13200001418590546, ("mutual_knn", "c", 10): 0.23533335328102112,
    ("cknna", "a", 5): 0.3565934403795043, ("cknna", "a", 10): 0.5056312881507573,
    ("cknna", "b", 5): 0.3405415626606946, ("cknna", "b", 10): 0.5263955715770742,
    ("cknna", "c", 5): 0.06560920631635109, ("cknna", "c", 10): 0.17364139927976072,
    ("cknna_yx", "a", 5): 0.35672877205833325, ("cknna_yx", "a", 10): 0.5065583500261245,
    ("cknna_yx", "b", 5): 0.3403989584346628, ("cknna_yx", "b", 10): 0.52897070971809,
    ("cknna_yx", "c", 5): 0.06560648165896915, ("cknna_yx", "c", 10): 0.1736739635930996,
    ("cknna_biased", "a", 5): 0.6592372174613936, ("cknna_biased", "a", 10): 0.6417176430534004,
    ("cknna_biased", "b", 5): 0.9185237613324814, ("cknna_biased", "b", 10): 0.9223183869354983,
    ("cknna_biased", "c", 5): 0.38128108914153264, ("cknna_biased", "c", 10): 0.316427613231237,
    ("cknna_linear", "a", 5): 0.348745318975176, ("cknna_linear", "a", 10): 0.5110456650021834,
    ("cknna_linear", "b", 5): 0.3095889319893391, ("cknna_linear", "b", 10): 0.5117754846386012,
    ("cknna_linear", "c", 5): -0.0001922553621344931, ("cknna_linear", "c", 10): 0.025922365547550317,
    ("jaccard", "a", 5): 0.23129960317460316, ("jaccard", "a", 10): 0.3261224682180564,
    ("jaccard", "b", 5): 0.19861111111111113, ("jaccard", "b", 10): 0.3214591673376503,
    ("jaccard", "c", 5): 0.07828042328042327, ("jaccard", "c", 10): 0.14360754828247085,
    ("rank_similarity", "a", 5): 0.3506980519480519, ("rank_similarity", "a", 10): 0.29379207225861875,
    ("rank_similarity", "b", 5): 0.29362301587301587, ("rank_similarity", "b", 10): 0.2598656585499689,
    ("rank_similarity", "c", 5): 0.1437612634279301, ("rank_similarity", "c", 10): 0.1368108807645723,
    ("second_order_cosine", "a", 5): 0.8169268519716235, ("second_order_cosine", "a", 10): 0.7511120241410119,
    ("second_order_cosine", "b", 5): 0.5666321955705262, ("second_order_cosine", "b", 10): 0.46023475631566735,
    ("second_order_cosine", "c", 5): 0.9023757133428958, ("second_order_cosine", "c", 10): 0.8909295452211252,
}
# (measure, case, k) -> reference value with the reference's own convention
GOLDEN_VARIANTS = {
    ("cknna_platonic", "a", 5): 0.35657404584882607, ("cknna_platonic", "a", 10): 0.505614537335257,
    ("cknna_platonic", "b", 5): 0.34047627250844453, ("cknna_platonic", "b", 10): 0.5263158311480595,
    ("cknna_platonic", "c", 5): 0.0656052832826479, ("cknna_platonic", "c", 10): 0.17363636570242183,
    ("cknna_platonic", "d", 5): 0.10577973343585546, ("cknna_platonic", "d", 10): 0.1693701251328178,
    ("cknna_platonic_yx", "a", 10): 0.5065415684984376, ("cknna_platonic_yx", "d", 10): 0.16936691826216435,
    ("cknna_platonic_biased", "a", 10): 0.6417176404551205,
    ("cknna_platonic_biased", "d", 10): 0.9527638650623905,
    ("cknna_platonic_linear", "a", 10): 0.5110456534868804,
    ("cknna_platonic_linear", "c", 5): -0.00019225535857475846,
    ("cknna_platonic_linear", "d", 10): 0.16402343389700777,
    ("second_order_cosine_resi", "a", 5): 0.8373541101394091,
    ("second_order_cosine_resi", "a", 10): 0.8541047027267006,
    ("second_order_cosine_resi", "b", 5): 0.9822021532009545,
    ("second_order_cosine_resi", "b", 10): 0.984535015174416,
    ("second_order_cosine_resi", "c", 5): 0.29464278703417013,
    ("second_order_cosine_resi", "c", 10): 0.2717941378446463,
    ("second_order_cosine_resi", "d", 5): 0.9972193290418966,
    ("second_order_cosine_resi", "d", 10): 0.9974903169282708,
    ("second_order_cosine_resi", "independent", 10): 0.9935362696363279,
}
VARIANT_CASES = {**PAIRED_CASES, "d": case_d,
                 "independent": lambda: tuple(np.random.default_rng(0).normal(size=(2, 300, 512)))}
VARIANT_CALLS = {
    "cknna_platonic": lambda x, y, k: cknna(x, y, k=k, variant="platonic"),
    "cknna_platonic_yx": lambda x, y, k: cknna(y, x, k=k, variant="platonic"),
    "cknna_platonic_biased": lambda x, y, k: cknna(x, y, k=k, unbiased=False, variant="platonic"),
    "cknna_platonic_linear": lambda x, y, k: cknna(x, y, k=k, kernel="linear", variant="platonic"),
    "second_order_cosine_resi": lambda x, y, k: second_order_cosine(x, y, k=k, variant="resi"),
}

# (case, k) -> DADApy (Delta(X -> Y), Delta(Y -> X))
GOLDEN_IMBALANCE = {
    ("a", 1): (0.21125, 0.2740625), ("a", 3): (0.27197916666666666, 0.3283333333333333),
    ("b", 1): (0.36625, 0.475), ("b", 3): (0.4725, 0.51875),
    ("c", 1): (0.24817777777777777, 0.5293333333333333), ("c", 3): (0.32524444444444445, 0.6007407407407408),
}

CALLS = {
    "mutual_knn": lambda x, y, k: mutual_knn(x, y, k=k),
    "cknna": lambda x, y, k: cknna(x, y, k=k),
    "cknna_yx": lambda x, y, k: cknna(y, x, k=k),
    "cknna_biased": lambda x, y, k: cknna(x, y, k=k, unbiased=False),
    "cknna_linear": lambda x, y, k: cknna(x, y, k=k, kernel="linear"),
    "jaccard": lambda x, y, k: jaccard(x, y, k=k),
    "rank_similarity": lambda x, y, k: rank_similarity(x, y, k=k),
    "second_order_cosine": lambda x, y, k: second_order_cosine(x, y, k=k),
}


@pytest.mark.parametrize(("measure", "case", "k"), sorted(GOLDEN))
def test_matches_reference(measure, case, k):
    x, y = CASES[case]()
    rel = 1e-6 if measure == "mutual_knn" else 1e-10  # the reference's float32 mean
    assert CALLS[measure](x, y, k) == pytest.approx(GOLDEN[(measure, case, k)], rel=rel)


@pytest.mark.parametrize(("measure", "case", "k"), sorted(GOLDEN_VARIANTS))
def test_variants_match_reference(measure, case, k):
    x, y = VARIANT_CASES[case]()
    assert VARIANT_CALLS[measure](x, y, k) == pytest.approx(GOLDEN_VARIANTS[(measure, case, k)], rel=1e-10)


@pytest.mark.parametrize(("case", "k"), sorted(GOLDEN_IMBALANCE))
def test_information_imbalance_matches_dadapy_both_ways(case, k):
    x, y = CASES[case]()
    xy, yx = GOLDEN_IMBALANCE[(case, k)]
    assert information_imbalance(x, y, k=k) == pytest.approx(xy, rel=1e-12)
    assert information_imbalance(y, x, k=k) == pytest.approx(yx, rel=1e-12)


# ----------------------------------------------------------------------------- closed forms


def test_hand_computed_lists():
    # k=1, Euclidean. Nearest others in X: 0->1, 1->0, 2->1, 3->2; in Y: 0->1, 1->2, 2->1, 3->2.
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    y = np.array([[0.0], [2.0], [3.0], [10.0]])
    assert mutual_knn(x, y, k=1, metric="euclidean") == 0.75
    assert jaccard(x, y, k=1, metric="euclidean") == 0.75
    assert rank_similarity(x, y, k=1, metric="euclidean") == 0.75
    # Y ranks of X's nearest neighbours: 1, 2 (1->0 is second from 1 in Y), 1, 1.
    assert information_imbalance(x, y) == pytest.approx(2 / 4 * np.mean([1, 2, 1, 1]))


def _lists(points, k):
    return nearest_neighbors(points, k, metric="cosine")[1]


def test_jaccard_and_rank_similarity_follow_their_formulas():
    x, y = case_a()
    k = 7
    a, b = _lists(x, k), _lists(y, k)
    jac, rank = [], []
    for row_a, row_b in zip(a.tolist(), b.tolist()):
        shared = set(row_a) & set(row_b)
        jac.append(len(shared) / len(set(row_a) | set(row_b)))
        score = sum(2 / ((1 + abs(row_a.index(j) - row_b.index(j))) * (row_a.index(j) + row_b.index(j) + 2))
                    for j in shared)
        rank.append(score / sum(1 / t for t in range(1, len(shared) + 1)) if shared else 0.0)
    assert jaccard(x, y, k=k) == pytest.approx(np.mean(jac), rel=1e-12)
    assert rank_similarity(x, y, k=k) == pytest.approx(np.mean(rank), rel=1e-12)


def test_second_order_cosine_follows_its_formula():
    x, y = case_c()
    k = 6
    ux = x / np.linalg.norm(x, axis=1, keepdims=True)
    uy = y / np.linalg.norm(y, axis=1, keepdims=True)
    a, b = _lists(x, k), _lists(y, k)
    expected = []
    for i in range(len(x)):
        union = sorted(set(a[i]) | set(b[i]))
        s, t = ux[union] @ ux[i], uy[union] @ uy[i]
        expected.append(s @ t / (np.linalg.norm(s) * np.linalg.norm(t)))
    assert second_order_cosine(x, y, k=k, batch_size=7) == pytest.approx(np.mean(expected), rel=1e-12)


def test_identical_neighbourhoods_score_one():
    x, _ = case_a()
    q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(12, 12)))
    for measure in (mutual_knn, jaccard, rank_similarity, second_order_cosine, cknna):
        assert measure(x, 2.5 * x @ q) == pytest.approx(1.0, abs=1e-12), measure.__name__


def test_unrelated_representations_score_near_chance():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    # k shared neighbours out of N-1 by chance: k / (N - 1) on average.
    assert mutual_knn(x, y, k=10) < 0.03
    assert abs(cknna(x, y, k=10)) < 0.1
    assert information_imbalance(x, y) == pytest.approx(1.0, abs=0.1)


def test_information_imbalance_identity_and_asymmetry():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 4))
    assert information_imbalance(x, x) == pytest.approx(2 / 300)
    assert information_imbalance(x, x, k=4) == pytest.approx(5 / 300)
    # X holds its first two coordinates; they do not hold X.
    assert information_imbalance(x, x[:, :2]) < 0.3 < information_imbalance(x[:, :2], x)


def test_information_imbalance_ranks_match_a_dense_argsort_with_ties():
    rng = np.random.default_rng(6)
    y = np.repeat(rng.normal(size=(15, 3)), 3, axis=0)  # every row three times: ties
    targets = rng.integers(0, 45, size=(45, 2))
    targets[targets == np.arange(45)[:, None]] = 0
    targets[0] = [1, 5]
    sq = np.sum(y**2, axis=1)
    dist = sq[:, None] + sq[None, :] - 2 * y @ y.T  # the formula the blocks use
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")  # ties keep index order
    expected = np.array([[np.flatnonzero(order[i] == j)[0] + 1 for j in row] for i, row in enumerate(targets)])
    np.testing.assert_array_equal(distance_ranks(y, targets, "euclidean", block_elements=100), expected)


def _dense_cknna_self_term(x, k):
    """HSIC(M ∘ K, M ∘ K) from dense matrices: K the cosine kernel, M its k-NN mask (Song et al. 2012)."""
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    kernel = u @ u.T
    np.fill_diagonal(kernel, -np.inf)
    mask = np.zeros_like(kernel)
    np.put_along_axis(mask, np.argsort(-kernel, axis=1, kind="stable")[:, :k], 1.0, axis=1)
    np.fill_diagonal(kernel, 0.0)
    m, n = mask * kernel, len(x)
    ones = np.ones(n)
    return (np.trace(m @ m) + m.sum() ** 2 / ((n - 1) * (n - 2)) - 2 * ones @ m @ m @ ones / (n - 2)) / (n * (n - 3))


@pytest.mark.parametrize(("case", "shortfall"), [(case_a, 4e-5), (case_d, 5e-3)])
def test_cknna_platonic_self_alignment_is_below_one(case, shortfall):
    # The reference's + 1e-6 makes CKNNA(X, X) = h / (h + 1e-6) with h = HSIC(M∘K, M∘K):
    # on unit-norm rows h is small (k/N times squared cosines), so the value falls short of
    # 1, the more so in high dimension (case_d: D = 768, cosines ~ 1/sqrt(D)).
    x, _ = case()
    h = _dense_cknna_self_term(np.asarray(x, dtype=np.float64), 10)
    assert cknna(x, x, k=10, variant="platonic") == pytest.approx(h / (h + 1e-6), rel=1e-10)
    assert cknna(x, x, k=10, variant="platonic") < 1.0 - shortfall
    assert cknna(x, x, k=10) == pytest.approx(1.0, abs=1e-12)


def test_cknna_platonic_linear_kernel_depends_on_scale():
    # With raw inner products the 1e-6 is not scale-free: shrinking the data lowers the value.
    x, y = case_a()
    default = cknna(x, y, kernel="linear")
    assert cknna(1e-2 * x, 1e-2 * y, kernel="linear") == pytest.approx(default, rel=1e-12)
    assert cknna(1e-2 * x, 1e-2 * y, kernel="linear", variant="platonic") < 0.9 * default


def test_second_order_cosine_resi_scores_independent_high_dimensional_data_near_one():
    # Independent Gaussian points in D = 512 are nearly orthogonal: cosines ~ 0, distances ~ 1.
    # Vectors of distances then all point along (1, ..., 1), and ReSi's convention scores two
    # unrelated representations as near-identical; the paper's similarities score ~0.
    x, y = VARIANT_CASES["independent"]()
    assert second_order_cosine(x, y, variant="resi") > 0.98
    assert abs(second_order_cosine(x, y)) < 0.1
    # Both conventions give 1 for identical neighbourhood profiles.
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(512, 512)))
    assert second_order_cosine(x, 3.0 * x @ q, variant="resi") == pytest.approx(1.0, abs=1e-12)


def test_variant_names_are_checked():
    x, y = case_a()
    with pytest.raises(InputError, match="variant must be one of"):
        cknna(x, y, variant="resi")
    with pytest.raises(InputError, match="variant must be one of"):
        second_order_cosine(x, y, variant="platonic")


def test_cknna_needs_k_of_two_and_four_rows():
    x, y = case_a()
    with pytest.raises(InputError, match="k must be >= 2"):
        cknna(x, y, k=1)
    with pytest.raises(InputError, match="at least 4 samples"):
        cknna(x[:3], y[:3], k=2)
    with pytest.raises(InputError, match="unbiased"):
        cknna(x, y, unbiased="yes")


@pytest.mark.parametrize("name", ["mutual_knn", "jaccard", "rank_similarity", "second_order_cosine", "cknna"])
def test_bad_options_name_the_argument(name):
    x, y = case_b()
    with pytest.raises(InputError, match="k must be at most 39"):
        ts.similarity(name, x, y, k=40)
    with pytest.raises(InputError, match="search must be one of"):
        ts.similarity(name, x, y, search="fast")


def test_information_imbalance_rejects_bad_options():
    x, y = case_b()
    with pytest.raises(InputError, match="metric must be one of"):
        information_imbalance(x, y, metric="manhattan")
    with pytest.raises(InputError, match="k must be"):
        information_imbalance(x, y, k=0)


# ----------------------------------------------------------------------------- the neighbour search


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "inner_product"])
def test_faiss_search_equals_dense_reference_across_blocks(metric):
    x = np.random.default_rng(7).normal(size=(700, 20))
    d_faiss, i_faiss = nearest_neighbors(x, 9, metric=metric, batch_size=300)  # 3 FAISS batches, 256-row re-sorts
    d_dense, i_dense = dense_neighbors(x, 9, metric=metric)
    np.testing.assert_array_equal(i_faiss, i_dense)
    np.testing.assert_allclose(d_faiss, d_dense, rtol=1e-9, atol=1e-9)


def test_ties_go_to_the_lower_index_even_beyond_the_candidate_margin():
    # 20 copies of each of 5 points: each row has 19 neighbours at distance 0, more than
    # the k + 1 + 8 candidates FAISS returns; the lowest indices must win.
    x = np.repeat(np.random.default_rng(8).normal(size=(5, 4)), 20, axis=0)
    _, idx = nearest_neighbors(x, 3, metric="euclidean")
    for i in range(len(x)):
        group = np.arange(i // 20 * 20, i // 20 * 20 + 20)
        assert idx[i].tolist() == [j for j in group if j != i][:3]


def test_approximate_search_is_close_to_exact():
    rng = np.random.default_rng(9)
    centres = rng.normal(size=(20, 16)) * 4
    x = centres[rng.integers(0, 20, 3000)] + rng.normal(size=(3000, 16))
    y = np.tanh(x @ rng.normal(size=(16, 12)) / 4)
    exact = nearest_neighbors(x, 10, metric="cosine")[1]
    approx = nearest_neighbors(x, 10, metric="cosine", search="approximate")[1]
    assert neighbor_recall(approx, exact) > 0.95
    assert mutual_knn(x, y, search="approximate") == pytest.approx(mutual_knn(x, y), abs=0.02)


def test_faiss_blas_uses_this_cpus_vector_kernels():
    # The OpenBLAS in the faiss-cpu wheels falls back to generic kernels on CPUs it does
    # not know (3-4x slower search); faiss_module() names the right kernels while FAISS loads.
    import os

    threadpoolctl = pytest.importorskip("threadpoolctl")
    from transferscope.metrics._neighbors import _openblas_core, faiss_module

    core = _openblas_core()
    if core is None or "OPENBLAS_CORETYPE" in os.environ:
        pytest.skip("no AVX2/AVX-512 here, or OPENBLAS_CORETYPE set by the user")
    faiss_module()
    assert "OPENBLAS_CORETYPE" not in os.environ  # set only for the import
    infos = [i for i in threadpoolctl.threadpool_info()
             if i.get("internal_api") == "openblas" and "faiss" in i["filepath"]]
    if not infos:
        pytest.skip("this FAISS build does not bundle OpenBLAS")
    assert infos[0]["architecture"] == core


def _blocks(faiss):
    return faiss.cvar.distance_compute_blas_query_bs, faiss.cvar.distance_compute_blas_database_bs


def test_faiss_block_sizes_change_only_during_our_searches(monkeypatch):
    # FAISS's BLAS block sizes are process-wide: a search sets larger ones for itself and puts
    # the defaults back (also after an error); sizes someone else chose are left alone.
    from transferscope.metrics import _neighbors

    faiss = _neighbors.faiss_module()
    assert _blocks(faiss) == (4096, 1024)  # loading FAISS through us changes nothing
    seen = []
    real_exact = _neighbors._exact_distances

    def spy(*args):
        seen.append(_blocks(faiss))
        return real_exact(*args)

    monkeypatch.setattr(_neighbors, "_exact_distances", spy)
    x = np.random.default_rng(0).normal(size=(300, 5))
    expected = dense_neighbors(x, 4)[1]
    np.testing.assert_array_equal(nearest_neighbors(x, 4)[1], expected)
    assert set(seen) == {(8192, 8192)} and _blocks(faiss) == (4096, 1024)

    def fail(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(_neighbors, "_exact_distances", fail)
    with pytest.raises(RuntimeError, match="boom"):
        nearest_neighbors(x, 4)
    assert _blocks(faiss) == (4096, 1024)

    monkeypatch.setattr(_neighbors, "_exact_distances", spy)
    seen.clear()
    faiss.cvar.distance_compute_blas_query_bs, faiss.cvar.distance_compute_blas_database_bs = 2048, 512
    try:
        np.testing.assert_array_equal(nearest_neighbors(x, 4)[1], expected)
        assert set(seen) == {(2048, 512)} and _blocks(faiss) == (2048, 512)
    finally:
        faiss.cvar.distance_compute_blas_query_bs, faiss.cvar.distance_compute_blas_database_bs = 4096, 1024
    with _neighbors.flat_search_blocks(), _neighbors.flat_search_blocks():  # nested: restored once, at the end
        assert _blocks(faiss) == (8192, 8192)
    assert _blocks(faiss) == (4096, 1024)
