"""Compressed embeddings (truncation, PCA, float16, int8, binary) and the ``MODEL#COMPRESSION`` spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transferscope.errors import InputError
from transferscope.extraction.baselines import TfidfSvdEncoder
from transferscope.extraction.compressed_encoder import CompressedEncoder
from transferscope.extraction.compression import (
    bytes_per_vector,
    compress,
    compressed_dim,
    decode,
    parse_compression,
)
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


@given(st.integers(2, 40), st.integers(1, 12), st.floats(1e-3, 1e3), st.integers(-20, 20))
@settings(max_examples=40, deadline=None)
def test_int8_codes_are_in_range_order_preserving_and_scale_free(n: int, d: int, scale: float, power: int) -> None:
    x = _x(n, d, seed=n * d)
    codes = compress(x, "int8").astype(int)  # int8 codes: differences taken as ints (int8 would wrap)
    assert codes.min() >= -128 and codes.max() <= 127
    for j in range(d):  # monotone per dimension
        order = np.argsort(x[:, j], kind="stable")
        assert np.all(np.diff(codes[order, j]) >= 0)
    # calibrated ranges: scale does not matter. Exactly for a power of two (the arithmetic scales
    # exactly); for any scale, a value on a bucket edge (the calibration maximum lands on 255 x step)
    # may fall one bucket apart through rounding, as in sentence-transformers' floored buckets
    np.testing.assert_array_equal(compress(x * np.float32(2.0 ** power), "int8"), codes)
    assert np.abs(compress(x * scale, "int8").astype(int) - codes).max() <= 1


def test_int8_of_a_constant_dimension_and_binary_and_float16() -> None:
    x = _x()
    x[:, 3] = 2.5
    assert np.all(compress(x, "int8")[:, 3] == -128)
    packed = compress(x, "binary")
    assert packed.dtype == np.uint8 and packed.shape == (60, 2)  # 16 bits: 2 bytes a row, as an index stores them
    bits = decode(packed, "binary", dim=16)
    assert bits.dtype == np.float32 and set(np.unique(bits)) <= {0.0, 1.0}
    np.testing.assert_array_equal(bits, (x > 0).astype(np.float32))
    assert compress(x, "float16").dtype == np.float16
    np.testing.assert_array_equal(decode(compress(x, "float16"), "float16", dim=16),
                                  x.astype(np.float16).astype(np.float32))


def test_codes_are_stored_at_their_size_and_equal_sentence_transformers() -> None:
    """Issue 27: int8 codes were rounded (half of them one above sentence-transformers' floored
    buckets) and every code was kept as float32 (32x the bits of a binary code). Codes now take
    bytes_per_vector bytes a row and equal quantize_embeddings code for code."""
    quantization = pytest.importorskip("sentence_transformers.util.quantization",
                                       reason="the peer comes with the text extra")
    x = np.random.default_rng(1).normal(size=(500, 77)).astype(np.float32)
    fit = np.arange(200)
    for spec, precision in (("int8", "int8"), ("binary", "ubinary")):
        codes = compress(x, spec, fit=fit)
        assert codes[0].nbytes == bytes_per_vector(77, spec)
        peer = quantization.quantize_embeddings(x, precision=precision, calibration_embeddings=x[fit])
        assert codes.dtype == peer.dtype
        np.testing.assert_array_equal(codes, peer)
    wide = x.astype(np.float64) * 1e3  # float64 input: the peer's arithmetic too
    np.testing.assert_array_equal(compress(wide, "int8"), quantization.quantize_embeddings(
        wide, precision="int8", calibration_embeddings=wide))
    for spec in ("pca10+int8", "prefix9+binary", "pca12", "float16"):
        dim = compressed_dim(77, spec)
        assert compress(x, spec)[0].nbytes == bytes_per_vector(dim, spec), spec
    with pytest.raises(InputError, match="packed uint8"):
        decode(compress(x, "binary"), "binary", dim=60)


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
                    extraction=ts.ExtractionOptions(cache_dir=str(tmp_path), progress=False)).table
    assert set(table["model"]) == {"tfidf-svd", "tfidf-svd#binary", "tfidf-svd#prefix2"}
    assert table.set_index("model").loc["tfidf-svd#prefix2", "dim"] == 2


def test_the_finiteness_check_sums_once_and_decides_an_overflowing_sum_value_by_value():
    """compress (and every measure's check_features) checks finiteness with one sum, no
    temporary (issue 27: the full isfinite pass made binary codes 1.9x the peer): a NaN or inf
    anywhere is still refused, and huge finite values whose sum overflows are still accepted."""
    from transferscope.metrics import all_finite

    x = np.random.default_rng(0).normal(size=(50, 16)).astype(np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        y = x.copy()
        y[7, 3] = bad
        assert not all_finite(y)
        with pytest.raises(InputError, match="finite"):
            compress(y, "binary")
    both = x.copy()
    both[0, 0], both[1, 1] = np.inf, -np.inf  # the sum is NaN: still refused
    assert not all_finite(both)
    huge = np.full((4, 16), 3e38, dtype=np.float32)  # finite; the float32 sum overflows to inf
    assert all_finite(huge) and compress(huge, "binary").shape == (4, 2)
    assert all_finite(x[:, ::3]) and not all_finite(np.array([1.0, np.nan]))  # strided, 1-D
