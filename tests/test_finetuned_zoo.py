"""``finetuned:TARGET:zoo:NAME`` (issue 14): digit-zoo CNNs fine-tuned here on a digit target, saved
with the chosen epoch's weights, read back as encoders, and their drift from the base."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch", reason="the digit zoo needs torch (the vision-zoo extra)")

import transferscope as ts  # noqa: E402
from transferscope.datasets import load_builtin  # noqa: E402
from transferscope.errors import InputError  # noqa: E402
from transferscope.extraction.finetuned import finetuned_entry, leaks_into  # noqa: E402
from transferscope.extraction.specs import build_encoder  # noqa: E402
from transferscope.workflows.engine.finetuned_sources import ensure_finetuned  # noqa: E402

SPEC = "finetuned:digits-loops:zoo:s-small"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    ensure_finetuned(SPEC, cache_dir=root)
    return root


def test_the_saved_weights_are_the_chosen_epoch(cache):
    import torch

    entry = ensure_finetuned(SPEC, cache_dir=cache)
    meta = json.loads((entry / "meta.json").read_text())
    encoder = build_encoder(SPEC, cache_dir=str(cache))
    assert encoder.name == SPEC and meta["classes"] == ["loop", "no-loop"]
    assert encoder.identity()["weights"] != build_encoder("zoo:s-small", cache_dir=str(cache)).identity()["weights"]
    data = load_builtin("digits-loops")
    split = data.split(seed=0)
    with torch.no_grad():
        logits = encoder.module(torch.from_numpy(np.asarray(data.inputs[split.test], dtype=np.float32)))
    predicted = np.asarray(meta["classes"])[logits.argmax(dim=1).numpy()]
    assert np.mean(predicted == data.labels[split.test]) == pytest.approx(meta["test_accuracy"])  # reproduces it
    assert meta["test_accuracy"] > 0.8


def test_a_trained_model_is_reused_and_the_key_follows_the_base(cache, monkeypatch):
    import transferscope.probes.finetune as finetune

    monkeypatch.setattr(finetune, "finetune_probe", lambda *a, **k: pytest.fail("retrained a cached model"))
    assert ensure_finetuned(SPEC, cache_dir=cache) == finetuned_entry(SPEC, cache_dir=cache)[0]
    assert finetuned_entry(SPEC, cache_dir=cache)[0] != finetuned_entry("finetuned:digits10:zoo:s-small",
                                                                        cache_dir=cache)[0]


def test_leaks_and_bad_targets():
    assert leaks_into(SPEC, "digits10")  # the same UCI images, other labels
    assert not leaks_into(SPEC, "mnist-heldout-rot180")
    with pytest.raises(InputError, match="image target"):
        finetuned_entry("finetuned:sentence-polarity:zoo:s-small")


def test_drift_of_a_fine_tuned_cnn_grows_towards_the_top(cache):
    from transferscope.workflows.engine.candidates import ExtractionOptions

    result = ts.drift(base="zoo:s-small", tuned=[SPEC, "finetuned:mnist-heldout-rot180:zoo:s-small"],
                      dataset=load_builtin("digits10"), max_samples=300,
                      extraction=ExtractionOptions(cache_dir=str(cache)))
    table = result.table.set_index(["tuned", "layer"])
    assert list(result.table["layer"].unique()) == ["block1", "block2", "penultimate"]
    for name in (SPEC, "finetuned:mnist-heldout-rot180:zoo:s-small"):
        assert table.loc[(name, "penultimate"), "drift"] > table.loc[(name, "block1"), "drift"] >= 0
    assert result.distances is not None and result.settings["generic_inputs"] == 500


def test_drift_against_a_re_seeded_twin(cache):
    """Issue 25: the null of a fine-tune's drift is the same fine-tune trained with another seed
    (``finetuned:digits-loops@1:zoo:s-small``, the same split): trained and cached as its own model,
    compared layer by layer, and said in the answer."""
    from transferscope.workflows.engine.candidates import ExtractionOptions

    result = ts.drift(base="zoo:s-small", tuned=[SPEC], dataset=load_builtin("digits10"), max_samples=300,
                      fingerprint=False, null="reseed", extraction=ExtractionOptions(cache_dir=str(cache)))
    twin = "finetuned:digits-loops@1:zoo:s-small"
    assert result.settings["null"] == {SPEC: twin} and result.summary.iloc[0]["null_twin"] == twin
    assert json.loads((ensure_finetuned(twin, cache_dir=cache) / "meta.json").read_text())["settings"]["seed"] == 1
    table = result.table.set_index("layer")
    assert (table["null_drift"] > 0).all()  # another seed trains another model
    assert (table["beyond_null"] == (table["drift"] > table["null_drift"])).all()
    line = result.answer()[0]
    assert line.startswith(SPEC) and ("a re-seeded twin differs by" in line or "no drift beyond a re-seed" in line)
