"""``drift`` / ``ts.drift`` (issue 14, first part): per-layer drift of fine-tuned models from their
base, onset and peak, delta-activation fingerprints and their groups, the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.workflows.drift import cluster_fingerprints, drift_features, fingerprints

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def _perturbed(tiny_bert_dir, target, *, seed, scale):
    """The tiny BERT with seeded noise added to its second transformer block (layer_2) only."""
    import torch
    import transformers

    model = transformers.BertModel.from_pretrained(tiny_bert_dir)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.encoder.layer[1].parameters():
            param.add_(scale * torch.randn(param.shape, generator=generator))
    model.save_pretrained(target)
    for name in TOKENIZER_FILES:
        shutil.copy(tiny_bert_dir / name, target / name)
    return str(target)


def test_drift_starts_at_the_changed_block_and_fingerprints_group_alike_changes(tmp_path, tiny_bert_dir):
    pytest.importorskip("wordfreq", reason="the generic inputs come from wordfreq (demo extra)")
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions

    a = _perturbed(tiny_bert_dir, tmp_path / "a", seed=1, scale=0.3)
    a2 = _perturbed(tiny_bert_dir, tmp_path / "a2", seed=1, scale=0.35)  # the same change, a little larger
    b = _perturbed(tiny_bert_dir, tmp_path / "b", seed=2, scale=0.3)  # another change of the same size
    result = ts.drift(base=str(tiny_bert_dir), tuned=[a, a2, b], dataset=load_builtin("sentence-polarity"),
                      n_groups=2, extraction=ExtractionOptions(cache_dir=str(tmp_path / "c")))
    table = result.table.set_index(["tuned", "layer"])
    for model in (a, a2, b):
        for layer in ("embeddings", "layer_1"):  # before the changed block: the same features
            assert table.loc[(model, layer), "drift"] == pytest.approx(0.0, abs=1e-9)
            assert table.loc[(model, layer), "mutual_knn"] == pytest.approx(1.0)
            assert table.loc[(model, layer), "procrustes"] == pytest.approx(0.0, abs=1e-6)
        assert table.loc[(model, "layer_2"), "drift"] > 0.001
    summary = result.summary.set_index("tuned")
    assert set(summary["onset_layer"]) == {"layer_2"}
    assert summary.loc[a2, "peak_drift"] > summary.loc[a, "peak_drift"]
    d = result.distances
    assert d.loc[a, a2] < d.loc[a, b] and d.loc[a, a2] < d.loc[a2, b]
    assert summary.loc[a, "group"] == summary.loc[a2, "group"] != summary.loc[b, "group"]


def test_onset_is_the_first_layer_reaching_a_tenth_of_the_peak():
    rng = np.random.default_rng(0)
    base = {f"l{i}": rng.normal(size=(80, 6)) for i in range(4)}
    tuned = {"t": {"l0": base["l0"], "l1": base["l1"] + 0.05 * rng.normal(size=(80, 6)),
                   "l2": base["l2"] + 1.0 * rng.normal(size=(80, 6)), "l3": rng.normal(size=(80, 6))}}
    result = drift_features(base, tuned)
    drift = result.table.set_index("layer")["drift"]
    peak = drift.max()
    expected = next(layer for layer in ("l0", "l1", "l2", "l3") if drift[layer] >= 0.1 * peak)
    assert result.summary.iloc[0]["onset_layer"] == expected and result.summary.iloc[0]["peak_layer"] == drift.idxmax()
    assert drift["l0"] == pytest.approx(0.0, abs=1e-12)


def test_fingerprints_are_scale_free_mean_shifts():
    rng = np.random.default_rng(1)
    base = {"l": rng.normal(size=(50, 4))}
    shift = np.array([1.0, 0.0, -2.0, 0.5])
    prints = fingerprints(base, {"t": {"l": base["l"] + shift}})
    scale = np.sqrt(np.mean(np.sum(base["l"] ** 2, axis=1)))
    np.testing.assert_allclose(prints.loc["t"].to_numpy(), shift / scale)
    scaled = fingerprints({"l": 10 * base["l"]}, {"t": {"l": 10 * (base["l"] + shift)}})
    np.testing.assert_allclose(scaled.to_numpy(), prints.to_numpy())
    distances, groups = cluster_fingerprints(prints)
    assert distances.shape == (1, 1) and groups.tolist() == [1]
    with pytest.raises(InputError, match="share no layer"):
        fingerprints(base, {"t": {"other": base["l"]}})


def test_bad_input_names_the_argument():
    rng = np.random.default_rng(2)
    base = {"l": rng.normal(size=(30, 4))}
    with pytest.raises(InputError, match="at least one tuned model"):
        drift_features(base, {})
    with pytest.raises(InputError, match="shares no layer"):
        drift_features(base, {"t": {"x": base["l"]}})
    with pytest.raises(InputError, match="has 10 rows, the base 30"):
        drift_features(base, {"t": {"l": base["l"][:10]}})


def test_cli_drift(tmp_path, tiny_bert_dir):
    from transferscope.workflows.storage.store import ResultStore

    a = _perturbed(tiny_bert_dir, tmp_path / "a", seed=1, scale=0.3)
    runner = CliRunner()
    out = runner.invoke(app, ["drift", "--base", str(tiny_bert_dir), "--tuned", a, "--dataset", "sentence-polarity",
                              "--no-fingerprint", "--plot", str(tmp_path / "d.png"), "--output", str(tmp_path / "d.json"),
                              "--store", str(tmp_path / "r.duckdb"), "--cache-dir", str(tmp_path / "c"), "-q"])
    assert out.exit_code == 0, out.output
    assert "Where the change starts" in out.output
    rows = json.loads((tmp_path / "d.json").read_text())
    assert [r["layer"] for r in rows] == ["embeddings", "layer_1", "layer_2"]
    assert (tmp_path / "d.png").stat().st_size > 1000
    assert set(ResultStore(tmp_path / "r.duckdb").table(suite="drift")["kind"]) == {"drift"}
    bad = runner.invoke(app, ["drift", "--base", str(tiny_bert_dir), "--dataset", "sentence-polarity"])
    assert bad.exit_code == 2 and "--base and --tuned are required" in bad.output
    bad = runner.invoke(app, ["drift", "--base", a, "--tuned", a, "--dataset", "sentence-polarity"])
    assert bad.exit_code == 2 and "none equal to the base" in bad.output


def test_fingerprint_agreement_across_architectures():
    import pandas as pd

    from transferscope.workflows.drift import fingerprint_agreement

    rng = np.random.default_rng(0)
    tasks = [f"task{i}" for i in range(8)]
    # two architectures whose fingerprints (different widths) relate the tasks alike, and one unrelated
    centres = rng.normal(size=(8, 3))

    def frame(points):
        from transferscope.workflows.drift import cluster_fingerprints

        return cluster_fingerprints(pd.DataFrame(points, index=tasks))[0]

    small = frame(centres @ rng.normal(size=(3, 16)) + 0.05 * rng.normal(size=(8, 16)))
    large = frame(centres @ rng.normal(size=(3, 40)) + 0.05 * rng.normal(size=(8, 40)))
    unrelated = frame(rng.normal(size=(8, 24)))
    table = fingerprint_agreement({"small": small, "large": large, "other": unrelated}, permutations=499)
    rows = table.set_index(["a", "b"])
    assert list(rows.index) == [("small", "large"), ("small", "other"), ("large", "other")]
    # random projections of one 3-d structure keep most of its cosine geometry (r 0.79 here), not all of it
    assert rows.loc[("small", "large"), "mantel_r"] > 0.6 and rows.loc[("small", "large"), "p_value"] < 0.01
    assert rows.loc[("small", "large"), "same_nearest"] >= 0.75
    assert rows.loc[("small", "other"), "p_value"] > 0.05
    # the task order of a matrix does not matter, only the names
    shuffled = large.loc[tasks[::-1], tasks[::-1]]
    again = fingerprint_agreement({"small": small, "large": shuffled}, permutations=499).iloc[0]
    assert again["mantel_r"] == pytest.approx(rows.loc[("small", "large"), "mantel_r"])
    with pytest.raises(InputError, match="other tasks"):
        fingerprint_agreement({"small": small, "large": large.iloc[:7, :7]})
    with pytest.raises(InputError, match="at least two"):
        fingerprint_agreement({"small": small})


def test_a_model_equal_to_its_base_reports_no_drift_and_mismatches_are_said():
    """Issue 26: a model identical to its base reported an onset and a peak at layer 0; a tuned
    model with other layers was compared without a word; --groups 5 with 2 tuned models was taken."""
    from transferscope.errors import InputError
    from transferscope.workflows.drift import drift_features

    rng = np.random.default_rng(0)
    base = {f"layer_{i}": rng.normal(size=(60, 8)) for i in range(4)}
    same = {k: v.copy() for k, v in base.items()}
    shallow = {k: v + (0.5 if k != "layer_0" else 0.0) * rng.normal(size=v.shape) for k, v in base.items()
               if k != "layer_3"}
    result = drift_features(base, {"same": same, "shallow": shallow})
    summary = result.summary.set_index("tuned")
    assert pd.isna(summary.loc["same", "onset_layer"]) and pd.isna(summary.loc["same", "peak_layer"])
    assert summary.loc["shallow", "onset_layer"] == "layer_1"
    answer = result.answer()
    assert answer[0].startswith("same: no drift") and "shallow: drift starts at layer_1" in answer[1]
    assert any("differ in their layers" in line and "shallow" in line for line in answer)
    for groups in (5, 0, True):
        with pytest.raises(InputError, match="between 1 and the number of tuned models"):
            drift_features(base, {"same": same, "shallow": shallow}, n_groups=groups)


def test_a_fingerprint_of_a_model_equal_to_its_base_is_its_own_group_not_a_traceback():
    from transferscope.workflows.drift import drift_features

    rng = np.random.default_rng(1)
    base = {f"l{i}": rng.normal(size=(30, 4)) for i in range(3)}
    generic = {f"l{i}": rng.normal(size=(20, 4)) for i in range(3)}
    moved = {k: v + rng.normal(size=v.shape) for k, v in base.items()}
    moved_generic = {k: v + rng.normal(size=v.shape) for k, v in generic.items()}
    result = drift_features(base, {"same": dict(base), "moved": moved},
                            generic_base=generic, generic_tuned={"same": dict(generic), "moved": moved_generic})
    groups = result.summary.set_index("tuned")["group"]
    assert groups["same"] == 0 and groups["moved"] == 1
    assert np.isnan(result.distances.loc["same", "moved"]) and result.distances.loc["same", "same"] == 0.0


def test_a_change_within_the_re_seed_null_is_not_a_finding():
    """Issue 25: drift reported 'starts at layer_3, largest at layer_6 (0.005)' for a change far
    below the fine-tune's own noise. Against a re-seeded twin, a change smaller than the twin's
    difference is 'no drift beyond a re-seed'; a change far above it keeps its onset and peak."""
    rng = np.random.default_rng(0)
    base = {f"l{i}": rng.normal(size=(300, 16)) for i in range(4)}
    small = {k: v + 0.02 * rng.normal(size=v.shape) for k, v in base.items()}  # a tiny change everywhere
    noisy_twin = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in small.items()}  # the seed moves more
    result = drift_features(base, {"t": small}, null={"t": noisy_twin}, null_names={"t": "t@1"})
    row = result.summary.iloc[0]
    assert row["onset_layer"] is None and row["null_twin"] == "t@1" and row["peak_null"] > row["peak_drift"] > 0
    assert not result.table["beyond_null"].any()
    assert result.answer()[0].startswith("t: no drift beyond a re-seed")
    without = drift_features(base, {"t": small})  # the same change without a null: reported, with a note
    assert without.summary.iloc[0]["peak_layer"] is not None
    assert any("not compared with a null" in line for line in without.answer())

    changed = {"l0": base["l0"], "l1": base["l1"], "l2": rng.normal(size=(300, 16)), "l3": rng.normal(size=(300, 16))}
    close_twin = {k: v + 0.01 * rng.normal(size=v.shape) for k, v in changed.items()}
    result = drift_features(base, {"t": changed}, null={"t": close_twin})
    row = result.summary.iloc[0]
    assert row["onset_layer"] == "l2" and row["peak_layer"] in ("l2", "l3") and row["peak_null"] < 0.01
    assert result.table.set_index("layer")["beyond_null"].to_dict() == {"l0": False, "l1": False, "l2": True,
                                                                         "l3": True}
    assert "a re-seeded twin differs by" in result.answer()[0]
    assert not any("not compared with a null" in line for line in result.answer())


def test_a_null_twin_is_checked_before_any_model_runs():
    from transferscope.workflows.drift import null_twins

    assert null_twins(["finetuned:vader-polarity@4:minilm"], "reseed") == {
        "finetuned:vader-polarity@4:minilm": "finetuned:vader-polarity@5:minilm"}
    with pytest.raises(InputError, match="cannot be re-seeded"):
        null_twins(["st:/models/mine"], "reseed")
    with pytest.raises(InputError, match="not one of the tuned models"):
        null_twins(["a"], {"b": "c"})
    with pytest.raises(InputError, match="another model than the tuned ones"):
        null_twins(["a", "b"], {"a": "b"})
    with pytest.raises(InputError, match="'reseed' or a mapping"):
        null_twins(["a"], "re-seed")
    rng = np.random.default_rng(0)
    base = {"l0": rng.normal(size=(40, 3)), "l1": rng.normal(size=(40, 3))}
    with pytest.raises(InputError, match="has no layer 'l1'"):
        drift_features(base, {"t": base}, null={"t": {"l0": base["l0"]}})
    out = CliRunner().invoke(app, ["drift", "--base", "a", "--tuned", "b", "--tuned", "c", "--null", "d",
                                   "--dataset", "vader-polarity"])
    assert out.exit_code == 2 and "one re-seeded twin per --tuned (2), got 1" in out.output


def test_a_re_seeded_fine_tune_has_its_own_cache_entry_and_seed_zero_keeps_the_old_one(tmp_path):
    pytest.importorskip("torch", reason="the digit zoo needs torch (the vision-zoo extra)")
    from transferscope.extraction.finetuned import finetune_seed, finetuned_entry

    cache = str(tmp_path)
    first, need = finetuned_entry("finetuned:digits-loops:zoo:s-small", cache_dir=cache)
    assert finetuned_entry("finetuned:digits-loops@0:zoo:s-small", cache_dir=cache)[0] == first
    again, need_again = finetuned_entry("finetuned:digits-loops@1:zoo:s-small", cache_dir=cache)
    assert again != first and need_again["settings"]["seed"] == 1 and need["settings"]["seed"] == 0
    assert finetune_seed("finetuned:digits-loops@12:zoo:s-small") == 12
    for bad in ("finetuned:digits-loops@:zoo:s-small", "finetuned:digits-loops@-1:zoo:s-small",
                "finetuned:digits-loops@x:zoo:s-small"):
        with pytest.raises(InputError, match="seed after '@'"):
            finetuned_entry(bad, cache_dir=cache)


def test_drift_prints_tables_that_fit_100_columns(tmp_path, tiny_bert_dir):
    """Issue 25: drift printed its 16 measures per layer (324 characters a row): the terminal shows
    the drift per layer and model, the twin's beside it, and the rest is in --output."""
    tuned = [_perturbed(tiny_bert_dir, tmp_path / name, seed=seed, scale=0.3)
             for name, seed in (("a-long-name-of-a-fine-tune", 1), ("b-long-name-of-a-fine-tune", 2),
                                ("c-long-name-of-a-fine-tune", 3))]
    twins = [_perturbed(tiny_bert_dir, tmp_path / f"twin-{seed}", seed=seed, scale=0.3) for seed in (11, 12, 13)]
    out = CliRunner().invoke(app, ["drift", "--base", str(tiny_bert_dir), *[a for t in tuned for a in ("--tuned", t)],
                                   *[a for t in twins for a in ("--null", t)],
                                   "--dataset", "sentence-polarity", "--cache-dir", str(tmp_path / "c"), "-q"])
    assert out.exit_code == 0, out.output
    assert max(len(line.rstrip()) for line in out.output.splitlines() if line[:1] in "┏┃┡│└") <= 100, out.output
    assert "Drift (1 - linear CKA); [a re-seeded twin's], * beyond it" in out.output
