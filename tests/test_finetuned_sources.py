"""Encoders fine-tuned here on a built-in target (``finetuned:TARGET:BASE``): trained once, cached,
and never evaluated on the target whose labels they have seen."""

from __future__ import annotations

import json

import pytest

from transferscope.errors import InputError
from transferscope.extraction import finetuned
from transferscope.extraction.finetuned import leaks_into, parse_finetuned_spec
from transferscope.extraction.specs import build_encoder

pytest.importorskip("torch", reason="fine-tuning needs the text extra (torch)")
pytest.importorskip("gensim", reason="the built-in targets need the demo extra")


@pytest.fixture()
def fast_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(finetuned, "FINETUNE_SETTINGS", {**finetuned.FINETUNE_SETTINGS, "epochs": 1,
                                                         "max_length": 16, "batch_size": 32})


def test_finetuned_encoder_is_trained_once_and_differs_from_its_base(tmp_path, tiny_bert_dir, fast_settings,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from transferscope.workflows.engine.candidates import ExtractionOptions

    spec = f"finetuned:sentence-polarity:{tiny_bert_dir}"
    with pytest.raises(InputError, match="not fine-tuned yet"):  # the extraction layer never trains
        build_encoder(spec, cache_dir=str(tmp_path))
    enc = ExtractionOptions(cache_dir=str(tmp_path)).encoder(spec)
    entry = next((tmp_path / "finetuned").iterdir())
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["target"] == "sentence-polarity" and 0 <= meta["test_accuracy"] <= 1
    assert enc.name == spec and enc.identity() != build_encoder(f"hf:{tiny_bert_dir}").identity()
    texts = ["a good film", "a bad film"]
    tuned = enc.encode(texts, layers=enc.layer_names()[-1:], poolings=["mean"])
    base_enc = build_encoder(f"hf:{tiny_bert_dir}")
    base = base_enc.encode(texts, layers=base_enc.layer_names()[-1:], poolings=["mean"])
    assert not np.allclose(next(iter(tuned.values())), next(iter(base.values())))

    def no_training(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("trained again")

    monkeypatch.setattr("transferscope.probes.finetune_text.finetune_text_probe", no_training)
    assert ExtractionOptions(cache_dir=str(tmp_path)).encoder(spec).path == enc.path  # read from the cache
    assert build_encoder(spec + "#int8", cache_dir=str(tmp_path)).inner.path == enc.path
    assert not [p for p in (tmp_path / "finetuned").iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("spec, match", [("finetuned:", "TARGET:BASE"), ("finetuned:nope:st:x", "not a built-in"),
                                         ("finetuned:vader-polarity", "TARGET:BASE")])
def test_bad_finetuned_specs_are_refused(spec: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_finetuned_spec(spec)


def test_a_regression_target_is_not_a_fine_tuning_source(tmp_path, tiny_bert_dir) -> None:
    with pytest.raises(InputError, match="classification"):
        build_encoder(f"finetuned:vader-valence:{tiny_bert_dir}", cache_dir=str(tmp_path))


def test_leakage_rule() -> None:
    assert leaks_into("finetuned:sentence-polarity:st:x", "sentence-polarity")
    assert leaks_into("finetuned:vader-polarity:st:x", "vader-valence")  # the same words, labels from one rating
    assert not leaks_into("finetuned:sentence-polarity:st:x", "vader-valence")
    assert not leaks_into("st:x", "sentence-polarity")


def test_benchmark_never_scores_a_source_on_its_own_target(tmp_path, tiny_bert_dir, fast_settings) -> None:
    from transferscope.workflows.benchmark import run_benchmark
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    spec = f"finetuned:sentence-polarity:{tiny_bert_dir}"
    suite = load_suite({"name": "ft", "candidates": ["tfidf", {"model": spec, "layers": "last"}],
                        "targets": ["sentence-polarity", "vader-polarity"], "estimators": ["logme"],
                        "max_samples": 60})
    logged: list[str] = []
    with ResultStore(tmp_path / "r.duckdb") as store:
        run_benchmark(suite, store=store, cache_dir=str(tmp_path / "c"), n_jobs=1, progress=logged.append)
        rows = store.table(suite="ft", kind="estimator")
    tuned = rows[rows["model"] == spec]
    assert set(tuned["target"]) == {"vader-polarity"}
    assert set(rows[rows["model"] == "tfidf"]["target"]) == {"sentence-polarity", "vader-polarity"}
    assert any("fine-tuned on this target" in line for line in logged)
