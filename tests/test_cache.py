"""FeatureCache: keys, atomic writes, no pickle, interruption and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from transferscope.extraction.baselines import TfidfSvdEncoder
from transferscope.extraction.cache import ENV_VAR, FeatureCache, default_cache_dir
from transferscope.extraction.features import cache_fields, extract_features


def test_put_get_roundtrip_float32_memmap(tmp_path):
    cache = FeatureCache(tmp_path)
    fields = {"model": {"w": "abc"}, "layer": "l1", "pooling": "mean", "dataset": "d"}
    key = cache.key(fields)
    stored = cache.put(key, np.arange(6, dtype=np.float64).reshape(2, 3), fields)
    again = cache.get(key, fields)
    assert isinstance(again, np.memmap) and again.dtype == np.float32
    np.testing.assert_array_equal(stored, again)
    assert not any((tmp_path / "tmp").iterdir())  # nothing left in the work area


def test_key_depends_on_every_field():
    base = {"model": {"w": "abc"}, "layer": "l1", "pooling": "mean", "dataset": "d", "dtype": "float32"}
    keys = {FeatureCache.key(base)}
    for field, other in [("model", {"w": "abd"}), ("layer", "l2"), ("pooling", "cls"), ("dataset", "e"),
                         ("dtype", "float16")]:
        keys.add(FeatureCache.key({**base, field: other}))
    assert len(keys) == 6


def test_meta_mismatch_is_a_miss(tmp_path):
    cache = FeatureCache(tmp_path)
    fields = {"layer": "a"}
    key = cache.key(fields)
    cache.put(key, np.ones((2, 2)), fields)
    assert cache.get(key, {"layer": "b"}) is None  # same key, other fields: never confused


def test_corrupt_entry_is_a_miss(tmp_path):
    cache = FeatureCache(tmp_path)
    fields = {"layer": "a"}
    key = cache.key(fields)
    cache.put(key, np.ones((2, 2)), fields)
    entry = next((tmp_path / "features").rglob("features.npy"))
    entry.write_bytes(b"garbage")
    assert cache.get(key, fields) is None


def test_object_arrays_are_never_unpickled(tmp_path):
    cache = FeatureCache(tmp_path)
    fields = {"layer": "a"}
    key = cache.key(fields)
    cache.put(key, np.ones((2, 2)), fields)
    entry = next((tmp_path / "features").rglob("features.npy"))
    np.save(entry, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    meta = json.loads((entry.parent / "meta.json").read_text())
    meta["shape"] = [1]
    (entry.parent / "meta.json").write_text(json.dumps(meta))
    assert cache.get(key, fields) is None


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert default_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv(ENV_VAR)
    assert "transferscope" in str(default_cache_dir())


class CountingEncoder(TfidfSvdEncoder):
    """A chunkable toy encoder that counts calls and can be told to fail."""

    chunkable = True

    def __init__(self, fail_at_call: int | None = None) -> None:
        super().__init__(n_components=2)
        self.calls = 0
        self.fail_at_call = fail_at_call

    def identity(self):
        return {"adapter": "counting"}

    def encode(self, inputs, *, layers, poolings, progress=None):
        self.calls += 1
        if self.fail_at_call is not None and self.calls == self.fail_at_call:
            raise KeyboardInterrupt
        lengths = np.array([[len(t), t.count("a")] for t in inputs], dtype=np.float32)
        return {("tfidf-svd", "none"): lengths}


TEXTS = [f"text {'a' * (i % 7)} {i}" for i in range(50)]


def test_interrupted_extraction_leaves_no_entry_and_resumes(tmp_path):
    cache = FeatureCache(tmp_path)
    enc = CountingEncoder(fail_at_call=3)
    with pytest.raises(KeyboardInterrupt):
        extract_features(enc, TEXTS, layers=["tfidf-svd"], poolings=["none"], cache=cache, chunk_size=10)
    assert not (tmp_path / "features").exists() or not any((tmp_path / "features").rglob("meta.json"))
    assert len(list((tmp_path / "partial").rglob("chunk-*.npz"))) == 2  # chunks 0 and 1 finished

    resumed = CountingEncoder()
    out = extract_features(resumed, TEXTS, layers=["tfidf-svd"], poolings=["none"], cache=cache, chunk_size=10)
    assert resumed.calls == 3  # chunks 2, 3, 4 only
    np.testing.assert_array_equal(out[("tfidf-svd", "none")][:, 0], [len(t) for t in TEXTS])
    assert not list((tmp_path / "partial").rglob("*.npz"))  # partial chunks cleaned up

    cached = CountingEncoder()
    extract_features(cached, TEXTS, layers=["tfidf-svd"], poolings=["none"], cache=cache, chunk_size=10)
    assert cached.calls == 0


def test_cache_fields_cover_design_key():
    fields = cache_fields(TfidfSvdEncoder(), "tfidf-svd", "none", "seq-abc")
    assert set(fields) >= {"model", "layer", "pooling", "dataset", "preprocessing", "dtype", "versions"}
    assert "transferscope" in fields["versions"]
