"""``select`` / ``ts.select`` (issue 12, part 3): a budgeted choice by successive halving."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.datasets import Dataset
from transferscope.errors import InputError
from transferscope.probes.linear import linear_probe
from transferscope.workflows.select import Budget, parse_budget


class ArrayEncoder:
    """Fixed feature arrays as the 'layers' of one model (a known ground truth, no extraction)."""

    adapter = "arrays"
    chunkable = True

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.name = "arrays"

    def all_layers(self) -> list[str]:
        return list(self.arrays)

    def layer_names(self) -> list[str]:
        return list(self.arrays)

    def output_keys(self, layers, poolings):
        return [(layer, "none") for layer in layers]

    def identity(self) -> str:
        from transferscope.hashing import hash_array

        return "arrays-" + "-".join(hash_array(a) for a in self.arrays.values())

    def preprocessing(self) -> dict:
        return {}

    def encode(self, inputs, *, layers, poolings, progress=None):
        idx = np.asarray(inputs, dtype=int)
        if progress is not None:
            progress(len(idx))
        return {(layer, "none"): self.arrays[layer][idx].astype(np.float32) for layer in layers}


def graded(n: int = 400, seed: int = 0) -> tuple[Dataset, ArrayEncoder]:
    """Eight representations of increasing signal; 's7' is clearly the best (about 84% against 74%)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    shifts = [0.1 * k for k in range(7)] + [1.0]
    arrays = {f"s{k}": rng.normal(size=(n, 4)) + shift * y[:, None] for k, shift in enumerate(shifts)}
    return Dataset("graded", np.arange(n), y, "classification", "tabular"), ArrayEncoder(arrays)


def test_select_finds_the_strong_representation_cheaper_than_exhaustive():
    data, encoder = graded()
    choice = ts.select(dataset=data, models=[encoder], metrics=["knn"], n_jobs=1,
                       extraction=ts.ExtractionOptions(use_cache=False))
    assert choice.pick == "arrays | s7 | none"
    assert choice.fits < choice.exhaustive_fits == 8 * 10
    assert choice.low < choice.accuracy < choice.high < 1.0
    # The pick's accuracy is the mean of the linear probe over the ten repeated splits.
    splits = data.repeated_splits(seed=0)
    singles = [linear_probe(encoder.arrays["s7"].astype(np.float32), data.labels,
                            splits=(s.train, s.val, s.test)).score for s in splits]
    assert choice.accuracy == pytest.approx(np.mean(singles), abs=1e-12)
    row = choice.table.set_index("candidate").loc["arrays | s7 | none"]
    assert row["status"] == "pick" and row["splits"] == 10
    assert set(choice.table["status"]) >= {"pick", "left out by the estimators"}
    assert 0.0 <= choice.p_other_better <= 0.5


def test_select_stops_at_a_budget_of_fits():
    data, encoder = graded()
    choice = ts.select(dataset=data, models=[encoder], metrics=["knn"], budget=9, n_jobs=1,
                       extraction=ts.ExtractionOptions(use_cache=False))
    assert choice.fits <= 9 and choice.stopped_by_budget
    none = ts.select(dataset=data, models=[encoder], metrics=["knn"], budget=1, n_jobs=1,
                     extraction=ts.ExtractionOptions(use_cache=False))
    assert none.fits == 0 and np.isnan(none.accuracy)  # round 1 needs 8 fits: the estimators' pick


def test_select_reuses_cached_split_results(tmp_path):
    data, encoder = graded()
    options = ts.ExtractionOptions(cache_dir=str(tmp_path))
    first = ts.select(dataset=data, models=[encoder], metrics=["knn"], n_jobs=1, extraction=options)
    again = ts.select(dataset=data, models=[encoder], metrics=["knn"], n_jobs=1, extraction=options)
    assert (again.pick, again.accuracy, again.fits) == (first.pick, first.accuracy, first.fits)
    assert again.seconds < first.seconds


@pytest.mark.parametrize(("text", "expected"), [
    ("10m", Budget(seconds=600.0)), ("90s", Budget(seconds=90.0)), ("1.5h", Budget(seconds=5400.0)),
    ("40", Budget(fits=40)), ("12 fits", Budget(fits=12)), (7, Budget(fits=7)), (None, Budget()),
])
def test_parse_budget(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["ten minutes", "0", "-3", "2.5", "0s", True])
def test_parse_budget_rejects(text):
    with pytest.raises(InputError, match="budget"):
        parse_budget(text)


def test_select_cli(tmp_path):
    result = CliRunner().invoke(app, ["select", "--dataset", "sentence-polarity", "--model", "tfidf",
                                      "--model", "hashing", "--metric", "knn", "--cache-dir", str(tmp_path),
                                      "--output", str(tmp_path / "s.csv"), "-q"])
    assert result.exit_code == 0, result.output
    assert "Pick: " in result.stdout and "95% interval" in result.stdout and "probe fits of 20" in result.stdout
    assert (tmp_path / "s.csv").read_text().startswith("candidate,")


def test_select_cli_bad_budget_is_one_line():
    result = CliRunner().invoke(app, ["select", "--dataset", "sentence-polarity", "--model", "tfidf",
                                      "--budget", "soon"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--budget" in lines[0]


def test_select_cli_says_when_the_budget_measured_nothing(tmp_path):
    result = CliRunner().invoke(app, ["select", "--dataset", "sentence-polarity", "--model", "tfidf",
                                      "--model", "hashing", "--metric", "knn", "--budget", "3",
                                      "--cache-dir", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert "not measured" in result.stdout and "nan" not in result.stdout.split("Pick:")[1]


def test_select_fine_tunes_the_best_models_and_skips_fixed_extractors(tmp_path, tiny_bert_dir):
    from transferscope.datasets import load_builtin
    from transferscope.extraction.specs import build_encoder
    from transferscope.workflows.engine.candidates import ExtractionOptions
    from transferscope.workflows.engine.finetuning import finetune_transfer

    data = load_builtin("sentence-polarity").subsample(60, seed=0)
    options = {"epochs": 1, "lr": [1e-3]}
    choice = ts.select(dataset=data, models=[str(tiny_bert_dir), "tfidf"], layers="last", finetune=2,
                       finetune_options=options, extraction=ExtractionOptions(cache_dir=str(tmp_path)), n_jobs=1)
    assert any("fixed extractor" in line for line in choice.log)  # tfidf has no weights
    (tuned,) = choice.finetuned
    assert "tfidf" not in tuned and choice.finetune_pick == tuned
    split = data.repeated_splits(seed=0)[0]
    alone = finetune_transfer(build_encoder(str(tiny_bert_dir)), data, (split.train, split.val, split.test),
                              seed=0, options=options, cache=None)  # no cache: computed again, same seed
    assert choice.finetuned[tuned] == pytest.approx(alone["value"], abs=1e-12)
    row = choice.table.set_index("candidate").loc[tuned]
    assert row["finetune_score"] == choice.finetuned[tuned] and np.isfinite(row["probe_split1"])
    assert np.isnan(choice.table.set_index("candidate").loc["tfidf-svd | tfidf-svd | none", "finetune_score"])
    with pytest.raises(InputError, match="finetune must be"):
        ts.select(dataset=data, models=["tfidf", "hashing"], finetune=-1)


def test_cli_select_finetune_names_the_whole_model(tmp_path, tiny_bert_dir):
    out = CliRunner().invoke(app, ["select", "--dataset", "sentence-polarity", "--model", str(tiny_bert_dir),
                                   "--model", "tfidf", "--layers", "last", "--finetune", "1",
                                   "--cache-dir", str(tmp_path), "-q"])
    assert out.exit_code == 0, out.output
    assert "fine-tuned: the whole model" in out.output and "fine-tuned 1 model(s)" in out.output
    bad = CliRunner().invoke(app, ["select", "--dataset", "sentence-polarity", "--model", "tfidf", "--finetune", "-1"])
    assert bad.exit_code == 2


def test_a_candidate_dropped_after_two_splits_is_not_ruled_out_with_certainty(tmp_path):
    """tfidf leaves in round 1 after 2 splits below hashing on both: two paired differences of one
    sign say little; a bootstrap of them said P(tfidf is better) = 0.00, Student's t does not."""
    from transferscope.datasets import load_builtin

    choice = ts.select(dataset=load_builtin("sentence-polarity"), models=["tfidf", "hashing"], metrics=["logme"],
                       n_jobs=1, extraction=ts.ExtractionOptions(cache_dir=str(tmp_path)))
    table = choice.table.set_index("status")
    if table.loc["pick", "splits"] <= 2 or min(table["splits"]) > 2:
        pytest.skip("this split draw does not drop a candidate after two splits")
    assert 0.0 < choice.p_other_better < 0.5


def test_select_on_precomputed_features_equals_select_on_the_same_arrays_as_a_model(tmp_path):
    """Bring-your-own embeddings: select(features=..., labels=...) probes the same arrays the same
    way as when an encoder serves them, and the CLI takes --features / --labels as rank does."""
    data, encoder = graded()
    via_model = ts.select(dataset=data, models=[encoder], metrics=["logme"], budget=12,
                          extraction=ts.ExtractionOptions(use_cache=False), n_jobs=1)
    arrays = {name: array.astype(np.float32) for name, array in encoder.arrays.items()}  # as the encoder serves them
    via_features = ts.select(features=arrays, labels=data.labels, metrics=["logme"], budget=12, n_jobs=1)
    assert via_features.pick == via_model.pick.split(" | ")[1] and via_features.fits == via_model.fits
    assert via_features.accuracy == pytest.approx(via_model.accuracy, abs=1e-12)
    for bad, message in (({"dataset": data}, "not both"), ({"labels": None}, "labels are required"),
                         ({"finetune": 1}, "fine-tune")):
        with pytest.raises(InputError, match=message):
            ts.select(**{"features": encoder.arrays, "labels": data.labels, **bad})
    for name in ("s0", "s7"):
        np.save(tmp_path / f"{name}.npy", encoder.arrays[name])
    np.save(tmp_path / "y.npy", data.labels)
    args = ["select", "--features", str(tmp_path / "s0.npy"), "--features", str(tmp_path / "s7.npy"),
            "--labels", str(tmp_path / "y.npy"), "--metric", "logme", "--output", str(tmp_path / "s.csv"), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Pick: s7" in result.stdout
    assert (tmp_path / "s.csv").read_text().startswith("candidate,")
    for extra, message in ((["--model", "tfidf"], "cannot be combined"), (["--finetune", "1"], "fine-tune")):
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 2 and message in result.output
    result = CliRunner().invoke(app, ["select", "--features", str(tmp_path / "s0.npy"), "-q"])
    assert result.exit_code == 2 and "--labels is required" in result.output


def test_a_time_budget_is_kept_split_by_split_not_round_by_round():
    """Issue 26: a tiny time budget still ran a whole first round (every kept candidate on two
    splits) because a round's cost is unknown before it runs. The budget is now checked before
    each split: past it, select stops with the candidates measured so far on equal splits."""
    data, encoder = graded()
    options = ts.ExtractionOptions(use_cache=False)
    tiny = ts.select(dataset=data, models=[encoder], metrics=["knn"], n_jobs=1, extraction=options,
                     budget="0.001s")
    rounds = ts.select(dataset=data, models=[encoder], metrics=["knn"], n_jobs=1, extraction=options, budget=8)
    kept = 4  # the estimators keep half of the 8 candidates
    assert rounds.fits == 2 * kept  # the first round: every kept candidate on two splits
    assert tiny.fits == kept  # one split, then the clock was checked
    assert any("time budget ends after 1 of 2 split(s)" in line for line in tiny.log)
    probed = tiny.table[tiny.table["splits"] > 0]
    assert len(probed) == kept and (probed["splits"] == 1).all() and np.isfinite(tiny.accuracy)
    # one split has no spread: no interval is made up ([0, 1] was shown), and the answer says so
    assert np.isnan(tiny.low) and np.isnan(tiny.high)
    assert "on one split: no interval" in tiny.answer()[1]


def test_one_sample_per_class_is_refused_not_scored_zero():
    """Issue 26: one sample per class gave 'accuracy 0.0000 (95% interval 0.0000 to 0.0000)': a
    probe cannot learn a class it sees once. select and rank's probe refuse such labels, naming
    a class; two samples per class are accepted."""
    rng = np.random.default_rng(0)
    features = {"a": rng.normal(size=(10, 4)), "b": rng.normal(size=(10, 4))}
    with pytest.raises(InputError, match="10 of 10 classes have a single sample"):
        ts.select(features=features, labels=np.arange(10), n_jobs=1)
    with pytest.raises(InputError, match="single sample"):
        ts.rank(features=features, labels=np.arange(10), metrics=["knn"], probe=True)
    choice = ts.select(features=features, labels=np.repeat(np.arange(5), 2), n_jobs=1)
    assert choice.fits > 0
