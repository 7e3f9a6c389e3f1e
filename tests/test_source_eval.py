"""Evaluating source rankings against measured source -> target transfer (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transferscope.errors import InputError
from transferscope.workflows.source_eval import source_ranking_quality


def _bed(truth, distance, samples, seeds=2, noise=0.0, target="t"):
    rng = np.random.default_rng(0)
    names = [f"s{i}" for i in range(len(truth))]
    distances = pd.DataFrame({"target": target, "source": names, "samples": samples, "otdd": distance})
    transfer = pd.DataFrame([{"target": target, "source": n, "seed": k, "value": v + noise * rng.normal()}
                             for k in range(seeds) for n, v in zip(names, truth)])
    return distances, transfer


def test_a_perfect_ranking_scores_one_and_a_reversed_one_minus_one():
    truth = np.linspace(0.5, 0.9, 8)
    d, t = _bed(truth, -truth, samples=np.arange(8))
    q = source_ranking_quality(d, t, measures=["otdd"], n_boot=200).set_index(["ranking", "target"])
    assert q.loc[("otdd", "t"), "tau"] == pytest.approx(1.0) and q.loc[("otdd", "t"), "top1_hit"] == 1.0
    assert q.loc[("largest_source", "t"), "tau"] == pytest.approx(1.0)  # here the largest is the best
    d2, t2 = _bed(truth, truth, samples=np.arange(8)[::-1])
    q2 = source_ranking_quality(d2, t2, measures=["otdd"], n_boot=200).set_index(["ranking", "target"])
    assert q2.loc[("otdd", "t"), "tau"] == pytest.approx(-1.0) and q2.loc[("otdd", "t"), "top1_hit"] == 0.0
    assert q2.loc[("largest_source", "t"), "tau"] == pytest.approx(-1.0)


def test_random_is_centred_on_zero_and_the_intervals_hold_the_point():
    truth = np.linspace(0.5, 0.9, 8)
    d, t = _bed(truth, -truth + np.random.default_rng(3).normal(0, 0.1, 8), samples=np.full(8, 100), noise=0.05)
    q = source_ranking_quality(d, t, measures=["otdd"], n_boot=500)
    random = q[(q["ranking"] == "random") & (q["target"] == "t")].iloc[0]
    assert abs(random["tau"]) < 0.1 and random["low"] < -0.3 and random["high"] > 0.3
    assert random["top1_hit"] == pytest.approx(1 / 8)
    for row in q.itertuples():
        if row.ranking != "largest_source":  # equal sizes: no order at all
            assert row.low <= row.tau <= row.high or np.isnan(row.tau)


def test_the_mean_row_averages_the_targets():
    truth = np.linspace(0.5, 0.9, 6)
    d1, t1 = _bed(truth, -truth, samples=np.arange(6), target="a")
    d2, t2 = _bed(truth, truth, samples=np.arange(6), target="b")
    q = source_ranking_quality(pd.concat([d1, d2]), pd.concat([t1, t2]), measures=["otdd"], n_boot=200)
    mean = q[(q["ranking"] == "otdd") & (q["target"] == "mean")].iloc[0]
    assert mean["tau"] == pytest.approx(0.0, abs=1e-12) and mean["top1_hit"] == 0.5
    assert mean["low"] < 0 < mean["high"]


def test_a_missing_transfer_value_is_refused():
    d, t = _bed(np.linspace(0, 1, 4), np.arange(4.0), samples=np.arange(4))
    with pytest.raises(InputError, match="every source needs a transfer value"):
        source_ranking_quality(d, t.iloc[:-1], measures=["otdd"], n_boot=20)


def test_evaluate_digit_sources_on_tiny_zoo_models(tmp_path):
    pytest.importorskip("torch", reason="the digit zoo needs torch (the vision-zoo extra)")
    pytest.importorskip("ot", reason="OTDD needs POT (the sources extra)")
    from transferscope.datasets.digits import load_task
    from transferscope.extraction.zoo import ZooSpec, zoo_encoder
    from transferscope.probes.finetune import finetune_probe
    from transferscope.workflows.engine.candidates import ExtractionOptions
    from transferscope.workflows.source_eval import evaluate_digit_sources
    from transferscope.workflows.sources import rank_sources

    tasks = ("mnist10-small", "mnist-0to4", "mnist-ge5")
    sources = {task: ZooSpec(f"tiny-{task}", (4,), 1, task, epochs=1) for task in tasks}
    options = ExtractionOptions(cache_dir=str(tmp_path))
    result = evaluate_digit_sources(spaces=["pixels"], sources=sources, targets=["mnist-heldout-fewshot"],
                                    seeds=[0, 1], max_samples=150, n_boot=100, extraction=options)
    assert len(result.transfer) == 3 * 2 and set(result.quality["ranking"]) == {
        "otdd", "mmd_linear", "mmd_rbf", "frechet", "task2vec", "largest_source", "random"}
    # the measured transfer is the fine-tuning of the source's model on the target's split
    data = load_task("mnist-heldout-fewshot")
    split = data.split(seed=1)
    model = zoo_encoder(sources["mnist-ge5"], cache_dir=str(tmp_path)).module
    direct = finetune_probe(lambda: model, data.inputs, data.labels, splits=(split.train, split.val, split.test),
                            seed=1, mode="full", epochs=5, lr=(1e-3, 3e-3)).score
    stored = result.transfer.set_index(["source", "seed"]).loc[("mnist-ge5", 1), "value"]
    assert stored == pytest.approx(direct)
    ranking = rank_sources(target=data, sources=[load_task(t) for t in tasks], model="pixels", max_samples=150,
                           extraction=options)
    got = result.distances.set_index("source").loc[ranking.table["source"], "otdd"].to_numpy()
    np.testing.assert_allclose(got, ranking.table["otdd"].to_numpy())
    summary = result.summary()
    assert list(summary.columns)[-1] == "mean" and len(summary) == 7
    with pytest.raises(InputError, match="source tasks"):
        evaluate_digit_sources(sources={"mnist10": sources["mnist-ge5"], **sources}, extraction=options)
    with pytest.raises(InputError, match="targets"):
        evaluate_digit_sources(targets=["mnist10"], sources=sources, extraction=options)


def test_evaluate_text_sources_on_minilm_fine_tunes(tmp_path):
    pytest.importorskip("ot", reason="OTDD needs POT (the sources extra)")
    pytest.importorskip("gensim", reason="the text tasks need the demo extra (gensim)")
    from transferscope.datasets import load_builtin
    from transferscope.extraction.model_zoo import MODEL_ZOO, missing_packages
    from transferscope.probes.linear import linear_probe
    from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates
    from transferscope.workflows.source_eval import evaluate_text_sources

    if missing_packages(MODEL_ZOO["minilm"]):
        pytest.skip(f"zoo model minilm needs {missing_packages(MODEL_ZOO['minilm'])} (make install installs the zoo)")
    tasks = ["word-form", "word-category", "sentence-polarity", "newsgroups-topic"]
    options = ExtractionOptions(cache_dir=str(tmp_path), progress=False)
    lines: list[str] = []
    result = evaluate_text_sources(bases=["minilm"], tasks=tasks, targets=["word-form"], seeds=[0, 1],
                                   max_samples=150, n_boot=100, extraction=options, progress=lines.append)
    assert len(result.transfer) == 3 * 2 and len(result.baseline) == 2
    assert set(result.transfer["source"]) == set(tasks) - {"word-form"}
    assert set(result.quality["ranking"]) == {"otdd", "mmd_linear", "mmd_rbf", "frechet", "task2vec",
                                              "largest_source", "random"}
    # the measured transfer is the linear probe on the source fine-tune's features of the target's split
    data, model = load_builtin("word-form"), "finetuned:newsgroups-topic:minilm"
    split = data.split(seed=1)
    (cand,) = extract_candidates(data, [model], layers="last", poolings=["mean"], extraction=options)
    direct = linear_probe(cand.features, data.labels, splits=(split.train, split.val, split.test)).score
    stored = result.transfer.set_index(["source", "seed"]).loc[("newsgroups-topic", 1), "value"]
    assert stored == pytest.approx(direct)
    # fingerprints: one row per fine-tune, the nearest task is another task, groups are integers
    prints = result.fingerprints.set_index("task")
    assert sorted(prints.index) == sorted(tasks) and all(prints["nearest"] != prints.index)
    assert len(result.fingerprint_distances) == 6 and result.agreement is None  # one architecture
    assert any("ready" in line for line in lines) and any("fingerprints" in line for line in lines)
    with pytest.raises(InputError, match="at least 4"):
        evaluate_text_sources(tasks=tasks[:3], extraction=options)
    with pytest.raises(InputError, match="text classification"):
        evaluate_text_sources(tasks=[*tasks[:3], "vader-valence"], extraction=options)
    with pytest.raises(InputError, match="targets must be among"):
        evaluate_text_sources(tasks=tasks, targets=["word-language"], extraction=options)
