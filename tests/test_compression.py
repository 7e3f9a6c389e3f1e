"""Compressed embeddings (truncation, PCA, float16, int8, binary) and the ``MODEL#COMPRESSION`` spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transferscope.errors import InputError
from transferscope.extraction.baselines import TfidfSvdEncoder
from transferscope.extraction.compressed_encoder import CompressedEncoder
from transferscope.extraction.compression import bytes_per_vector, compress, compressed_dim, parse_compression
from transferscope.extraction.specs import build_encoder


def _x(n: int = 60, d: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_prefix_is_the_first_dimensions_and_pca_matches_scikit_learn() -> None:
    from sklearn.decomposition import PCA

    x = _x()
    np.testing.assert_array_equal(compress(x, "prefix5"), x[:, :5])
    expected = PCA(n_components=4, random_state=0).fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(compress(x, "pca4"), expected, rtol=1e-5, atol=1e-5)
    assert compress(x, "prefix99").shape == (60, 16)  # more than there is: everything, no error


def test_fitted_steps_use_only_the_fit_rows() -> None:
    x = _x()
    fit = np.arange(40)
    changed = x.copy()
    changed[40:] *= 100.0  # held-out rows, wildly different, must not move the fitted maps
    for spec in ("pca4", "int8", "pca4+int8"):
        a, b = compress(x, spec, fit=fit), compress(changed, spec, fit=fit)
        np.testing.assert_array_equal(a[:40], b[:40])


@given(st.integers(2, 40), st.integers(1, 12), st.floats(1e-3, 1e3))
@settings(max_examples=40, deadline=None)
def test_int8_codes_are_in_range_order_preserving_and_scale_free(n: int, d: int, scale: float) -> None:
    x = _x(n, d, seed=n * d)
    codes = compress(x, "int8")
    assert codes.min() >= -128 and codes.max() <= 127 and np.all(codes == np.round(codes))
    for j in range(d):  # monotone per dimension
        order = np.argsort(x[:, j], kind="stable")
        assert np.all(np.diff(codes[order, j]) >= 0)
    np.testing.assert_array_equal(compress(x * scale, "int8"), codes)  # calibrated ranges: scale does not matter


def test_int8_of_a_constant_dimension_and_binary_and_float16() -> None:
    x = _x()
    x[:, 3] = 2.5
    assert np.all(compress(x, "int8")[:, 3] == -128)
    bits = compress(x, "binary")
    assert set(np.unique(bits)) <= {0.0, 1.0}
    np.testing.assert_array_equal(bits, (x > 0).astype(np.float32))
    np.testing.assert_array_equal(compress(x, "float16"), x.astype(np.float16).astype(np.float32))


def test_bytes_and_dimensions() -> None:
    assert bytes_per_vector(384, None) == 1536
    assert bytes_per_vector(384, "int8") == 384
    assert bytes_per_vector(384, "binary") == 48
    assert bytes_per_vector(384, "pca128+float16") == 256
    assert bytes_per_vector(10, "binary") == 2  # bits pack into whole bytes
    assert compressed_dim(384, "prefix64+binary") == 64


@pytest.mark.parametrize("spec, match", [("", "compression"), ("pca", "not one of"), ("pca0", ">= 1"),
                                         ("int8+pca4", "last step"), ("int8+binary", "last step"),
                                         ("zip", "not one of")])
def test_bad_compressions_are_refused_by_name(spec: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_compression(spec)


def test_compress_refuses_non_finite_or_empty_features() -> None:
    x = _x()
    x[0, 0] = np.nan
    with pytest.raises(InputError, match="finite"):
        compress(x, "int8")
    with pytest.raises(InputError, match="fit"):
        compress(_x(), "pca2", fit=np.zeros(60, dtype=bool))


TEXTS = ["good film", "bad film", "great", "fine acting", "dull plot", "a delight", "awful", "superb"] * 3


def test_compressed_encoder_has_its_own_identity_and_passes_the_spec(tmp_path) -> None:  # type: ignore[no-untyped-def]
    enc = build_encoder("tfidf#pca4+int8", cache_dir=str(tmp_path))
    assert isinstance(enc, CompressedEncoder) and enc.name == "tfidf-svd#pca4+int8"
    assert enc.identity() != build_encoder("tfidf#pca4").identity() != TfidfSvdEncoder().identity()
    out = enc.encode(TEXTS, layers=["tfidf-svd"], poolings=["none"])[("tfidf-svd", "none")]
    assert out.shape == (len(TEXTS), 4) and out.min() >= -128
    with pytest.raises(InputError, match="not one of"):
        build_encoder("tfidf#zip")


def test_compressions_of_one_model_encode_it_once(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    calls = []
    real = TfidfSvdEncoder.encode

    def counting(self, inputs, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(inputs))
        return real(self, inputs, **kwargs)

    monkeypatch.setattr(TfidfSvdEncoder, "encode", counting)
    for spec in ("tfidf#prefix4", "tfidf#binary", "tfidf#pca3"):
        build_encoder(spec, cache_dir=str(tmp_path)).encode(TEXTS, layers=["tfidf-svd"], poolings=["none"])
    assert len(calls) == 1
    nothing = tmp_path / "off"
    build_encoder("tfidf#binary", cache_dir=str(nothing), use_cache=False).encode(
        TEXTS, layers=["tfidf-svd"], poolings=["none"])
    assert not nothing.exists()  # --no-cache writes nothing


def test_rank_accepts_compressed_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import transferscope as ts
    from transferscope.datasets import Dataset

    data = Dataset("tiny", TEXTS, [0, 1, 1, 1, 0, 1, 0, 1] * 3, "classification")
    table = ts.rank(dataset=data, models=["tfidf", "tfidf#binary", "tfidf#prefix2"], metrics=["knn"], n_jobs=1,
                    extraction=ts.ExtractionOptions(cache_dir=str(tmp_path), progress=False))
    assert set(table["model"]) == {"tfidf-svd", "tfidf-svd#binary", "tfidf-svd#prefix2"}
    assert table.set_index("model").loc["tfidf-svd#prefix2", "dim"] == 2
