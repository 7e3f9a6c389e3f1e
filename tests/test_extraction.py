"""Encoders: layers, mask-aware poolings, identities, the generic torch adapter."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transferscope.errors import InputError  # noqa: E402
from transferscope.extraction import FeatureCache, extract_features  # noqa: E402
from transferscope.extraction.hf import HFEncoder, SentenceTransformerEncoder  # noqa: E402
from transferscope.extraction.pooling import pool_tokens  # noqa: E402
from transferscope.extraction.specs import build_encoder  # noqa: E402
from transferscope.extraction.torch_hooks import TorchModuleEncoder  # noqa: E402

TEXTS = ["a short one", "a considerably longer input sentence with many more tokens in it", "mid length text"]


def test_pooling_ignores_padding():
    hidden = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    np.testing.assert_allclose(pool_tokens(hidden, mask, "mean")[0], hidden[0, :2].mean(0))
    np.testing.assert_allclose(pool_tokens(hidden, mask, "max")[0], hidden[0, 1])
    np.testing.assert_allclose(pool_tokens(hidden, mask, "last")[0], hidden[0, 1])
    np.testing.assert_allclose(pool_tokens(hidden, mask, "cls")[1], hidden[1, 0])
    left = torch.tensor([[0, 1, 1], [1, 1, 1]])  # left padding
    np.testing.assert_allclose(pool_tokens(hidden, left, "last")[0], hidden[0, 2])


def test_hf_encoder_layers_and_shapes(tiny_bert_dir):
    enc = HFEncoder(str(tiny_bert_dir), batch_size=2)
    assert enc.layer_names() == ["embeddings", "layer_1", "layer_2"]
    out = enc.encode(TEXTS, layers=enc.layer_names(), poolings=["mean", "cls", "max", "last"])
    assert len(out) == 12
    for array in out.values():
        assert array.shape == (3, 32) and array.dtype == np.float32


@pytest.mark.parametrize("pooling", ["mean", "cls", "max", "last"])
def test_batching_and_padding_do_not_change_features(tiny_bert_dir, pooling):
    alone = HFEncoder(str(tiny_bert_dir), batch_size=1).encode(TEXTS, layers=["layer_2"], poolings=[pooling])
    batched = HFEncoder(str(tiny_bert_dir), batch_size=3).encode(TEXTS, layers=["layer_2"], poolings=[pooling])
    np.testing.assert_allclose(alone[("layer_2", pooling)], batched[("layer_2", pooling)], atol=1e-5)


def test_identity_depends_on_weights_and_seed(tiny_bert_dir, tmp_path):
    a = HFEncoder(str(tiny_bert_dir)).identity()
    assert a == HFEncoder(str(tiny_bert_dir)).identity()
    r0 = HFEncoder(str(tiny_bert_dir), random_init=True, seed=0).identity()
    r1 = HFEncoder(str(tiny_bert_dir), random_init=True, seed=1).identity()
    assert len({str(a), str(r0), str(r1)}) == 3
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_bert_dir, copy)
    assert HFEncoder(str(copy)).identity() == a  # same files, other place: same identity
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert HFEncoder(str(copy)).identity() != a


def test_random_init_is_seeded(tiny_bert_dir):
    a = HFEncoder(str(tiny_bert_dir), random_init=True, seed=3).encode(TEXTS, layers=["layer_1"], poolings=["mean"])
    b = HFEncoder(str(tiny_bert_dir), random_init=True, seed=3).encode(TEXTS, layers=["layer_1"], poolings=["mean"])
    c = HFEncoder(str(tiny_bert_dir)).encode(TEXTS, layers=["layer_1"], poolings=["mean"])
    np.testing.assert_array_equal(a[("layer_1", "mean")], b[("layer_1", "mean")])
    assert not np.allclose(a[("layer_1", "mean")], c[("layer_1", "mean")])


def test_unknown_model_and_layer(tiny_bert_dir, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_encoder(str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="no config.json"):
        build_encoder(str(tmp_path))
    enc = HFEncoder(str(tiny_bert_dir))
    with pytest.raises(InputError, match="unknown layer"):
        enc.encode(TEXTS, layers=["layer_9"], poolings=["mean"])


def test_sentence_transformer_output_matches_library(minilm_path):
    from sentence_transformers import SentenceTransformer

    enc = build_encoder(minilm_path)
    assert isinstance(enc, SentenceTransformerEncoder)
    assert enc.all_layers()[-1] == "output" and len(enc.layer_names()) == 7
    out = extract_features(enc, TEXTS, layers=["layer_6", "output"], poolings=["mean"])
    reference = SentenceTransformer(minilm_path, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(out[("output", "native")], reference, atol=1e-5)
    mean6 = out[("layer_6", "mean")]
    np.testing.assert_allclose(mean6 / np.linalg.norm(mean6, axis=1, keepdims=True), reference, atol=1e-5)


def test_torch_module_encoder_hooks_and_cache(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5))
    x = np.random.default_rng(0).normal(size=(10, 1, 8, 8)).astype(np.float32)
    enc = TorchModuleEncoder(net, layers=["0", "3"], name="cnn", batch_size=4)
    out = extract_features(enc, x, layers=["0", "3"], poolings=["mean", "max"], cache=FeatureCache(tmp_path))
    assert out[("0", "mean")].shape == (10, 4) and out[("3", "mean")].shape == (10, 5)
    with torch.no_grad():
        expected = net(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(out[("3", "mean")], expected, atol=1e-5)
    with pytest.raises(InputError, match="unknown layer"):
        TorchModuleEncoder(net, layers=["9"], name="cnn")


def test_loading_a_model_draws_none_of_transformers_own_bars(tiny_bert_dir, capfd):
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()
    HFEncoder(str(tiny_bert_dir), max_length=16).encode(["a b c"], layers=["layer_1"], poolings=["mean"])
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "it/s]" not in err, err
    assert hf_logging.is_progress_bar_enabled()  # restored: no lasting change to the library's settings


def test_progress_in_a_log_is_plain_lines_with_an_estimate(monkeypatch):
    import io

    from transferscope.extraction import progress

    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)
    log = io.StringIO()
    with progress.progress_bar("fine-tuning", total=4, enabled=True, stream=log) as advance:
        for _ in range(4):
            advance(1)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("fine-tuning: 1/4 (") and "s left)" in lines[0]
    assert lines[-1].startswith("fine-tuning: 4/4 done in ") and len(lines) == 4  # 1/4, 2/4, 3/4, done
    assert "\x1b" not in log.getvalue() and "" not in lines  # no terminal codes, no blank lines
    quiet = io.StringIO()
    with progress.progress_bar("x", total=1, enabled=False, stream=quiet) as advance:
        advance(1)
    assert quiet.getvalue() == ""


def test_one_long_step_in_a_log_still_shows_the_run_is_alive(monkeypatch):
    """Issue 26: one estimator on one candidate with 10,000 classes ran for minutes with nothing
    in the log (a bar of one cell advances only at its end). A timer writes "still working" with
    the elapsed time while nothing advances, and stops with the bar."""
    import io
    import threading
    import time

    from transferscope.extraction import progress

    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.4)
    monkeypatch.setattr(progress, "_HEARTBEAT_FLOOR", 0.4)
    log = io.StringIO()
    with progress.progress_bar("scoring (nleep)", total=1, enabled=True, stream=log) as advance:
        time.sleep(1.5)  # one long step
        advance(1)
    lines = log.getvalue().splitlines()
    alive = [line for line in lines if "still working" in line]
    assert len(alive) >= 2 and alive[0].startswith("scoring (nleep): 0/1, still working (")
    assert lines[-1].startswith("scoring (nleep): 1/1 done in ")
    assert not any(t.name == "transferscope-progress" for t in threading.enumerate())  # the timer stopped


def test_slow_steps_in_a_log_give_the_time_left_not_still_working(monkeypatch):
    """Issue 25: fine-tuning in a log printed "74/180, still working (10 s)": the timer's line came
    before the step's and said nothing of the time left. A line after steps that moved gives the
    estimate; "still working" is kept for a step that advances nothing."""
    import io
    import time

    from transferscope.extraction import progress

    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.3)
    monkeypatch.setattr(progress, "_HEARTBEAT_FLOOR", 0.3)
    log = io.StringIO()
    with progress.progress_bar("fine-tuning", total=40, enabled=True, stream=log) as advance:
        for _ in range(20):  # steps that each take less than the line interval
            time.sleep(0.05)
            advance(1)
        time.sleep(0.8)  # then one step that advances nothing for a while
        advance(20)
    lines = log.getvalue().splitlines()
    moving = [line for line in lines if "s left)" in line]
    assert moving and all("still working" not in line for line in moving)
    assert any(line.startswith("fine-tuning: 20/40, still working (") for line in lines)
    assert lines[-1].startswith("fine-tuning: 40/40 done in ")


def test_a_config_that_disagrees_with_its_weights_is_refused(tiny_bert_dir, tiny_classifier_dir, tmp_path):
    import json
    import shutil

    from transferscope.errors import InputError

    def variant(source, name, **changes):
        folder = tmp_path / name
        shutil.copytree(source, folder)
        config = json.loads((folder / "config.json").read_text())
        config.update(changes)
        (folder / "config.json").write_text(json.dumps(config))
        return folder

    # more layers claimed than the weights hold: the extra blocks would be random, and ranked as pretrained
    with pytest.raises(InputError, match=r"lacks \d+ tensor\(s\) its config declares.*encoder\.layer\.2"):
        HFEncoder(str(variant(tiny_bert_dir, "seven", num_hidden_layers=7))).encode(["a b"], layers=["layer_1"],
                                                                                   poolings=["mean"])
    # fewer layers claimed than the weights hold
    with pytest.raises(InputError, match="layers its config does not declare"):
        HFEncoder(str(variant(tiny_bert_dir, "one", num_hidden_layers=1))).encode(["a b"], layers=["layer_1"],
                                                                                 poolings=["mean"])
    # a classification head claimed by the config but absent from the weights would feed LEEP / NCE a random one
    headless = variant(tiny_bert_dir, "head", architectures=["BertForSequenceClassification"],
                       id2label={"0": "a", "1": "b", "2": "c"}, label2id={"a": 0, "b": 1, "c": 2})
    with pytest.raises(InputError, match="classifier"):
        HFEncoder(str(headless)).encode(["a b"], layers=["layer_1"], poolings=["mean"])
    with pytest.raises(InputError, match="says num_hidden_layers: -1"):
        HFEncoder(str(variant(tiny_bert_dir, "negative", num_hidden_layers=-1))).layer_names()
    # a folder without its tokenizer files: every word would be [UNK], and the model still ranked
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_bert_dir / name, bare / name)
    with pytest.raises(InputError, match=r"turns every word into \[UNK\]"):
        HFEncoder(str(bare)).encode(["a b"], layers=["layer_1"], poolings=["mean"])
    # weights only as a pickle: never loaded (not even by torch.load(weights_only=True)), whatever it holds
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_bert_dir, pickled)
    (pickled / "model.safetensors").unlink()
    (pickled / "pytorch_model.bin").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # a malicious pickle
    for spec in (str(pickled), f"st:{pickled}"):
        with pytest.raises(InputError, match=r"only as pickles \(pytorch_model.bin\)"):
            from transferscope.extraction.specs import build_encoder

            build_encoder(spec).encode(["a b"], layers=["layer_1"], poolings=["mean"])
    # the real checkpoints load as before
    HFEncoder(str(tiny_classifier_dir)).encode(["a b"], layers=["layer_1"], poolings=["mean"])


def test_a_hub_id_absent_from_the_cache_never_reaches_the_network_unless_asked(monkeypatch):
    import huggingface_hub

    from transferscope.errors import InputError
    from transferscope.extraction.hf import ALLOW_DOWNLOAD_VAR, resolve_model_dir

    calls = []

    def fake_download(repo_id, revision=None, local_files_only=False):
        calls.append(local_files_only)
        raise OSError("not cached" if local_files_only else "offline")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    monkeypatch.delenv(ALLOW_DOWNLOAD_VAR, raising=False)
    with pytest.raises(InputError, match=r"never contacts the network unless asked: did you mean 'minilm'\?"):
        resolve_model_dir("minlm")
    assert calls == [True]  # the local cache was looked at, the hub was not
    monkeypatch.setenv(ALLOW_DOWNLOAD_VAR, "1")
    with pytest.raises(InputError, match="could not be loaded from the Hugging Face hub"):
        resolve_model_dir("someone/some-model")
    assert calls == [True, True, False]  # asked: the hub is tried
