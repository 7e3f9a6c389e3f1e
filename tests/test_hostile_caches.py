"""Hostile caches (issue 10): order, damage, staleness and file modes, one case per test.

Each case says what happened before the fix (traceback / silently wrong / clean). CLI cases run
the real command (typer's CliRunner in this process; one through a subprocess for stderr) on a
tiny random BERT (tests/conftest.py) and a 40-row CSV; the expected output is always that of a
cold run in a fresh cache, compared as text.

Catalogue
---------
Order
  * layers after a partial cache (rank --layers layer_2, then layers)       before: silently wrong
  * extract_features order with cache hits in the middle                     before: silently wrong
Feature cache entries (rank rerun after damaging one entry)
  * features.npy truncated / deleted                                         before: traceback
  * meta.json garbled / deleted / a JSON list / edited fields                before: traceback
  * features.npy values overwritten, same shape                              before: silently wrong
  * one warning line on stderr (subprocess)                                  before: traceback
Partial chunks (resume after an interrupted extraction)
  * chunk truncated (BadZipFile) / values overwritten (CRC) / wrong shape    before: traceback / wrong
Score cache files (rank rerun after writing a payload into every file)
  * {} / [1, 2] / {"value": null} / {"value": "abc"} / Infinity / bad
    warnings / garbled JSON                                                  before: traceback or wrong
  * probe result damaged (layers rerun)                                      before: traceback
Concurrent writers
  * a writer losing the race to a damaged entry replaces it                  before: traceback
  * a writer losing the race to a sound entry keeps it; racing threads agree before: clean
File modes
  * umask 002: cache folders 0775, files 0664 (rank CLI, chunks, memo)       before: 0700 / 0600
Benchmark store
  * another --max-samples recomputes and replaces, never stale               before: silently wrong
  * an added estimator: cells recomputed, only that estimator computed       before: silently wrong
  * a store written before cell keys: migrated, recomputed once              before: (n/a: new column)
  * duplicated candidates refused, naming the duplicate                      before: stored twice
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app
from transferscope.extraction.baselines import TfidfSvdEncoder
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.features import extract_features
from transferscope.workflows.score_cache import result_problem

N_ROWS = 40


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    good, bad = ["good", "great", "fine", "happy", "nice"], ["bad", "awful", "sad", "poor", "ugly"]
    rows = []
    for i in range(N_ROWS):
        label = i % 2
        words = rng.choice(good if label else bad, size=3)
        rows.append({"text": f"{' '.join(words)} item {i}", "label": label})
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def cli(*args: str) -> str:
    """Run the real command in this process; any traceback fails the test. Returns stdout."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def rank_args(data: Path, model: Path, cache: Path, out: Path, *extra: str) -> list[str]:
    return ["rank", "--data", data, "--model", model, "--metric", "logme,knn", "--cache-dir", cache,
            "--output", out, "-q", *extra]


def damage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "transferscope.cache" and "damaged" in r.getMessage()]


@pytest.fixture(scope="module")
def cold_rank(tmp_path_factory: pytest.TempPathFactory, data_csv: Path, tiny_bert_dir: Path) -> dict:
    """A populated cache and the output of the cold run that filled it."""
    root = tmp_path_factory.mktemp("cold")
    out = root / "cold.csv"
    stdout = cli(*rank_args(data_csv, tiny_bert_dir, root / "cache", out))
    return {"cache": root / "cache", "stdout": stdout, "csv": out.read_text()}


def copy_cache(cold: dict, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    shutil.copytree(cold["cache"], cache)
    return cache


def rerun_equals_cold(cold: dict, data: Path, model: Path, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.csv"
    stdout = cli(*rank_args(data, model, cache, out))
    assert out.read_text() == cold["csv"]
    assert stdout == cold["stdout"]


def feature_entries(cache: Path) -> list[Path]:
    return sorted(p.parent for p in (cache / "features").rglob("meta.json"))


def entry_of(cache: Path, layer: str) -> Path:
    return next(e for e in feature_entries(cache)
                if json.loads((e / "meta.json").read_text())["fields"]["layer"] == layer)


# -- order -------------------------------------------------------------------------------------


def test_layers_after_a_partial_cache_equals_a_cold_run(data_csv, tiny_bert_dir, tmp_path):
    """before: silently wrong (layer_2 listed first, cka_prev of the wrong pairs)."""
    cold = cli("layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "cold", "-q",
               "--output", tmp_path / "cold.csv")
    cli(*rank_args(data_csv, tiny_bert_dir, tmp_path / "warm", tmp_path / "r.csv", "--layers", "layer_2"))
    warm = cli("layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "warm", "-q",
               "--output", tmp_path / "warm.csv")
    assert warm == cold
    assert (tmp_path / "warm.csv").read_text() == (tmp_path / "cold.csv").read_text()
    assert list(pd.read_csv(tmp_path / "warm.csv")["layer"]) == ["embeddings", "layer_1", "layer_2"]


class RowEncoder(TfidfSvdEncoder):
    """A chunkable encoder with three layers whose features are known: row i of layer j is (i, j)."""

    chunkable = True
    layers = ("a", "b", "c")

    def __init__(self) -> None:
        super().__init__(n_components=2)
        self.calls = 0
        self.fail_at_call: int | None = None

    def identity(self):
        return {"adapter": "rows"}

    def layer_names(self):
        return list(self.layers)

    def all_layers(self):
        return list(self.layers)

    def output_keys(self, layers, poolings):
        return [(layer, "none") for layer in layers]

    def encode(self, inputs, *, layers, poolings, progress=None):
        self.calls += 1
        if self.fail_at_call is not None and self.calls == self.fail_at_call:
            raise KeyboardInterrupt
        rows = np.array([float(t.split()[-1]) for t in inputs], dtype=np.float32)
        return {(layer, "none"): np.stack([rows, np.full_like(rows, self.layers.index(layer))], axis=1)
                for layer in layers}


TEXTS = [f"text {i}" for i in range(50)]


def expected_rows(layer: str) -> np.ndarray:
    return np.stack([np.arange(50), np.full(50, RowEncoder.layers.index(layer))], axis=1).astype(np.float32)


def test_extract_features_keeps_the_encoder_order_whatever_is_cached(tmp_path):
    """before: silently wrong (cache hits first)."""
    cache = FeatureCache(tmp_path)
    extract_features(RowEncoder(), TEXTS, layers=["b"], poolings=["none"], cache=cache)
    out = extract_features(RowEncoder(), TEXTS, layers=["a", "b", "c"], poolings=["none"], cache=cache)
    assert list(out) == [("a", "none"), ("b", "none"), ("c", "none")]
    cached = extract_features(RowEncoder(), TEXTS, layers=["c", "a", "b"], poolings=["none"], cache=cache)
    assert list(cached) == [("c", "none"), ("a", "none"), ("b", "none")]  # the order asked for, all cached


# -- feature cache entries ---------------------------------------------------------------------


def _truncate(entry: Path) -> None:
    path = entry / "features.npy"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _overwrite_values(entry: Path) -> None:
    values = np.load(entry / "features.npy", mmap_mode="r+")
    values[:] = values[::-1] * 2  # same shape, same dtype, other numbers
    values.flush()


def _edit_fields(entry: Path) -> None:
    meta = json.loads((entry / "meta.json").read_text())
    meta["fields"]["pooling"] = "cls"
    (entry / "meta.json").write_text(json.dumps(meta))


FEATURE_DAMAGE = {
    "truncated features.npy": _truncate,                                        # before: traceback
    "deleted features.npy": lambda e: (e / "features.npy").unlink(),              # before: traceback
    "garbled meta.json": lambda e: (e / "meta.json").write_text('{"fields": [ garbage'),  # before: traceback
    "deleted meta.json": lambda e: (e / "meta.json").unlink(),                    # before: traceback
    "meta.json holding a list": lambda e: (e / "meta.json").write_text("[1, 2]"),  # before: traceback
    "meta.json with edited fields": _edit_fields,                                 # before: traceback
    "values overwritten, same shape": _overwrite_values,                          # before: silently wrong
}


@pytest.mark.parametrize("damage", list(FEATURE_DAMAGE))
def test_damaged_feature_entry_heals(damage, cold_rank, data_csv, tiny_bert_dir, tmp_path, caplog):
    cache = copy_cache(cold_rank, tmp_path)
    entry = entry_of(cache, "layer_1")
    FEATURE_DAMAGE[damage](entry)
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        rerun_equals_cold(cold_rank, data_csv, tiny_bert_dir, cache, tmp_path)
    lines = damage_lines(caplog)
    assert len(lines) == 1 and "feature cache entry" in lines[0] and entry.name in lines[0], lines
    assert len(feature_entries(cache)) == 3  # recomputed and stored again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        rerun_equals_cold(cold_rank, data_csv, tiny_bert_dir, cache, tmp_path)
    assert not damage_lines(caplog)  # healed: the next run is clean


def test_damage_is_one_warning_line_on_stderr(cold_rank, data_csv, tiny_bert_dir, tmp_path):
    """The real console script: exit 0, one stderr line naming the entry; before: a traceback."""
    cache = copy_cache(cold_rank, tmp_path)
    _truncate(entry_of(cache, "layer_2"))
    out = tmp_path / "again.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "transferscope", *map(str, rank_args(data_csv, tiny_bert_dir, cache, out))]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("wrote ")]
    assert len(lines) == 1 and "damaged feature cache entry" in lines[0] and "features.npy has" in lines[0], lines
    assert out.read_text() == cold_rank["csv"]


# -- partial chunks ----------------------------------------------------------------------------


def _interrupted(tmp_path: Path) -> tuple[FeatureCache, list[Path]]:
    """An extraction of layers a, c interrupted at its third chunk: chunks 0 and 1 are on disk."""
    cache = FeatureCache(tmp_path)
    enc = RowEncoder()
    enc.fail_at_call = 3
    with pytest.raises(KeyboardInterrupt):
        extract_features(enc, TEXTS, layers=["a", "c"], poolings=["none"], cache=cache, chunk_size=10)
    chunks = sorted((tmp_path / "partial").rglob("chunk-*.npz"))
    assert len(chunks) == 2
    return cache, chunks


def _wrong_shape(path: Path) -> None:
    np.savez(path.with_suffix(".tmp.npz"), k0=np.zeros((3, 2), np.float32), k1=np.zeros((3, 2), np.float32))
    os.replace(path.with_suffix(".tmp.npz"), path)


def _flip_values(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    magic = raw.index(b"\x93NUMPY")  # the first member (np.savez stores, does not compress)
    start = magic + 10 + int.from_bytes(raw[magic + 8:magic + 10], "little")  # past its .npy header
    raw[start:start + 8] = bytes(8) if raw[start:start + 8] != bytes(8) else b"\x00\x00\x80\x3f" * 2
    path.write_bytes(bytes(raw))


CHUNK_DAMAGE = {
    "truncated chunk (BadZipFile)": lambda p: p.write_bytes(p.read_bytes()[:100]),  # before: traceback
    "values overwritten (CRC-32)": _flip_values,                                    # before: traceback
    "arrays of the wrong shape": _wrong_shape,                                      # before: silently wrong
}


@pytest.mark.parametrize("damage", list(CHUNK_DAMAGE))
def test_damaged_partial_chunk_heals(damage, tmp_path, caplog):
    cache, chunks = _interrupted(tmp_path)
    CHUNK_DAMAGE[damage](chunks[1])
    enc = RowEncoder()
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        out = extract_features(enc, TEXTS, layers=["a", "c"], poolings=["none"], cache=cache, chunk_size=10)
    assert enc.calls == 4  # chunk 1 again, then 2, 3, 4; chunk 0 reused
    for layer in ("a", "c"):
        np.testing.assert_array_equal(out[(layer, "none")], expected_rows(layer))
    lines = damage_lines(caplog)
    assert len(lines) == 1 and "partial extraction chunk" in lines[0] and chunks[1].name in lines[0], lines


# -- score cache files -------------------------------------------------------------------------

SCORE_PAYLOADS = {
    "{}": "{}",                                              # before: traceback (KeyError)
    "[1, 2]": "[1, 2]",                                      # before: traceback (TypeError)
    '{"value": null}': '{"value": null, "warnings": []}',    # before: silently wrong (None as the score)
    '{"value": "abc"}': '{"value": "abc", "warnings": []}',  # before: silently wrong ("abc" printed)
    "Infinity": '{"value": Infinity, "warnings": []}',       # before: silently wrong (inf as the score)
    "warnings not a list": '{"value": 0.5, "warnings": 7}',  # before: traceback
    "garbled": '{"value": 0.5, "warn',                       # before: clean (a miss, rewritten)
}


@pytest.mark.parametrize("payload", list(SCORE_PAYLOADS))
def test_damaged_score_cache_heals(payload, cold_rank, data_csv, tiny_bert_dir, tmp_path, caplog):
    cache = copy_cache(cold_rank, tmp_path)
    files = sorted((cache / "scores").rglob("*.json"))
    assert len(files) == 6  # logme and knn of three layers
    for path in files:
        path.write_text(SCORE_PAYLOADS[payload])
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        rerun_equals_cold(cold_rank, data_csv, tiny_bert_dir, cache, tmp_path)
    lines = damage_lines(caplog)
    assert len(lines) == 6 and all("score cache entry" in line for line in lines), lines
    assert all(result_problem(json.loads(p.read_text()), ["value", "warnings"]) is None for p in files)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        rerun_equals_cold(cold_rank, data_csv, tiny_bert_dir, cache, tmp_path)
    assert not damage_lines(caplog)


def test_damaged_probe_result_heals(data_csv, tiny_bert_dir, tmp_path, caplog):
    """layers (probe on): every score file replaced by {"score": "x"}; before: traceback."""
    args = ["layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "c", "-q"]
    cold = cli(*args)
    for path in (tmp_path / "c" / "scores").rglob("*.json"):
        path.write_text('{"score": "x", "metric": "accuracy", "metrics": {}, "settings": {}}')
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        assert cli(*args) == cold
    assert len(damage_lines(caplog)) == 9  # logme, knn and the probe of three layers


# -- concurrent writers ------------------------------------------------------------------------

FIELDS = {"model": "m", "layer": "l", "pooling": "mean", "dataset": "d"}


def test_losing_writer_replaces_a_damaged_entry(tmp_path, caplog):
    """before: traceback (OSError: could not be read back; 'keeps theirs')."""
    cache = FeatureCache(tmp_path)
    key = cache.key(FIELDS)
    cache.put(key, np.zeros((4, 3)), FIELDS)
    _truncate(cache._entry_dir(key))
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        stored = cache.put(key, np.ones((4, 3)), FIELDS)  # the rename finds the damaged entry in place
    np.testing.assert_array_equal(stored, np.ones((4, 3)))
    np.testing.assert_array_equal(cache.get(key, FIELDS), np.ones((4, 3)))
    assert len(damage_lines(caplog)) == 1


def test_racing_writers_agree_and_a_loser_keeps_a_sound_entry(tmp_path):
    """before: clean; kept clean."""
    cache = FeatureCache(tmp_path)
    key = cache.key(FIELDS)
    data = np.arange(12.0).reshape(4, 3)
    barrier = threading.Barrier(6)
    results: list[np.ndarray] = []

    def write() -> None:
        barrier.wait()
        results.append(np.asarray(cache.put(key, data, FIELDS)))

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(np.array_equal(r, data) for r in results)
    np.testing.assert_array_equal(cache.get(key, FIELDS), data)
    assert len(feature_entries(tmp_path)) == 1 and not any((tmp_path / "tmp").iterdir())


# -- file modes --------------------------------------------------------------------------------


def _modes(root: Path) -> tuple[set[int], set[int]]:
    dirs = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_dir()}
    files = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}
    return dirs, files


def test_cache_files_follow_the_umask(data_csv, tiny_bert_dir, tmp_path):
    """umask 002 (a shared cache): before, entries were 0700 and score files 0600."""
    old = os.umask(0o002)
    try:
        cli(*rank_args(data_csv, tiny_bert_dir, tmp_path / "cache", tmp_path / "r.csv"))
        cache = FeatureCache(tmp_path / "chunks")
        cache.put_chunk("g", 0, {"k0": np.ones((2, 2))})
        from transferscope.extraction.fingerprint import hash_files

        weights = tmp_path / "w.bin"
        weights.write_bytes(b"w")
        os.utime(weights, (1e9, 1e9))  # old enough to be remembered
        hash_files([weights], memo_dir=tmp_path / "memo")
    finally:
        os.umask(old)
    for root in (tmp_path / "cache", tmp_path / "chunks", tmp_path / "memo"):
        dirs, files = _modes(root)
        assert dirs == {0o775} and files == {0o664}, (root, sorted(map(oct, dirs)), sorted(map(oct, files)))
    assert (tmp_path / "cache" / "scores").is_dir() and feature_entries(tmp_path / "cache")
    assert list((tmp_path / "memo").rglob("*.json"))


# -- benchmark store ---------------------------------------------------------------------------

@pytest.fixture()
def builtin_targets() -> None:
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")


def _suite(tmp_path: Path, name: str, estimators: str, candidates: str = "[tfidf, hashing]") -> Path:
    path = tmp_path / name
    path.write_text(f"name: hostile\ncandidates: {candidates}\ntargets: [sentence-polarity]\n"
                    f"estimators: {estimators}\nmax_samples: 60\n")
    return path


def _bench(suite: Path, store: Path, cache: Path, *extra: str) -> tuple[str, pd.DataFrame]:
    export = store.with_suffix(".rows.csv")
    result = CliRunner().invoke(app, ["benchmark", str(suite), "--store", str(store), "--cache-dir", str(cache),
                                      "--export", str(export), "-q", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(export)


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    cells = rows[rows["kind"] != "meta"][["candidate", "kind", "metric", "value"]]
    return cells.sort_values(["candidate", "kind", "metric"]).reset_index(drop=True)


def test_other_max_samples_recomputes_and_replaces(tmp_path, builtin_targets):
    """before: '0 computed, 2 already stored' and the numbers of 60 samples; silently wrong."""
    suite = _suite(tmp_path, "s.yaml", "[logme, knn]")
    _, first = _bench(suite, tmp_path / "r.duckdb", tmp_path / "c")
    output, again = _bench(suite, tmp_path / "r.duckdb", tmp_path / "c", "--max-samples", "80")
    assert "2 cell(s) computed, 0 already stored" in output
    _, fresh = _bench(suite, tmp_path / "fresh.duckdb", tmp_path / "c2", "--max-samples", "80")
    pd.testing.assert_frame_equal(_cells(again), _cells(fresh))  # the 80-sample numbers, nothing stale
    assert not _cells(again)[["candidate", "kind", "metric"]].duplicated().any()
    assert not _cells(first)["value"].equals(_cells(again)["value"])
    meta = again[again["kind"] == "meta"].set_index("metric")["value"].sort_index()
    pd.testing.assert_series_equal(meta, fresh[fresh["kind"] == "meta"].set_index("metric")["value"].sort_index())
    output, _ = _bench(suite, tmp_path / "r.duckdb", tmp_path / "c", "--max-samples", "80")
    assert "0 cell(s) computed, 2 already stored" in output


def test_added_estimator_is_computed_alone(tmp_path, builtin_targets):
    """before: '0 computed, 2 already stored', no knn rows; silently wrong. After: the cells are
    recomputed (rows replaced); logme and the probe come from the score cache: only knn is computed."""
    _, first = _bench(_suite(tmp_path, "a.yaml", "[logme]"), tmp_path / "r.duckdb", tmp_path / "c")
    before = set((tmp_path / "c" / "scores").rglob("*.json"))
    output, rows = _bench(_suite(tmp_path, "b.yaml", "[logme, knn]"), tmp_path / "r.duckdb", tmp_path / "c")
    assert "2 cell(s) computed, 0 already stored" in output
    new = set((tmp_path / "c" / "scores").rglob("*.json")) - before
    assert len(new) == 2 and all(set(json.loads(p.read_text())) == {"value", "warnings"} for p in new)
    est = rows[rows["kind"] == "estimator"]
    assert sorted(est["metric"].value_counts().items()) == [("knn", 2), ("logme", 2)]
    old = first[first["kind"] == "estimator"].set_index("candidate")["value"]
    assert est[est["metric"] == "logme"].set_index("candidate")["value"].reindex(old.index).equals(old)
    assert {"knn:weighted_kendall", "logme:weighted_kendall"} <= set(rows.loc[rows["kind"] == "meta", "metric"])


def test_store_from_before_cell_keys_is_migrated(tmp_path, builtin_targets):
    """A store written without the cell column: opened, its cells recomputed once, never doubled."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE TABLE results (run VARCHAR, suite VARCHAR, target VARCHAR, candidate VARCHAR, "
                "model VARCHAR, layer VARCHAR, pooling VARCHAR, kind VARCHAR, metric VARCHAR, value DOUBLE, "
                "seed INTEGER, settings VARCHAR, versions VARCHAR, timestamp DOUBLE)")
    con.execute("INSERT INTO results VALUES ('r0', 'hostile', 'sentence-polarity', 'tfidf-svd | tfidf-svd | none', "
                "'tfidf', 'tfidf-svd', 'none', 'estimator', 'logme', 123.0, 0, NULL, NULL, 0)")
    con.close()
    output, rows = _bench(_suite(tmp_path, "s.yaml", "[logme]"), tmp_path / "old.duckdb", tmp_path / "c")
    assert "2 cell(s) computed, 0 already stored" in output
    est = rows[rows["kind"] == "estimator"]
    assert len(est) == 2 and 123.0 not in set(est["value"])


@pytest.mark.parametrize("candidates, duplicate", [
    ("[tfidf, hashing, tfidf]", "suite candidates 0 (tfidf) and 2 (tfidf) both give it"),
    ("[tfidf, {model: tfidf, layers: all}]", "suite candidates 0 (tfidf) and 1 (tfidf) both give it"),
])
def test_duplicated_candidates_are_refused(candidates, duplicate, tmp_path, builtin_targets):
    """before: both computed and stored twice (silently wrong meta-evaluation)."""
    suite = _suite(tmp_path, "d.yaml", "[logme]", candidates)
    result = CliRunner().invoke(app, ["benchmark", str(suite), "--store", str(tmp_path / "r.duckdb"),
                                      "--cache-dir", str(tmp_path / "c"), "-q"])
    assert result.exit_code == 2, result.output
    assert "duplicate candidate 'tfidf-svd | tfidf-svd | none'" in result.output
    assert duplicate in " ".join(result.output.split())
    assert not (tmp_path / "c" / "features").exists()  # refused before any work


def test_repeated_pooling_is_refused(tiny_bert_dir, tmp_path, builtin_targets):
    suite = _suite(tmp_path, "p.yaml", "[logme]",
                   f"[{{model: '{tiny_bert_dir}', layers: [layer_1], poolings: [mean, mean]}}]")
    result = CliRunner().invoke(app, ["benchmark", str(suite), "--store", str(tmp_path / "r.duckdb"),
                                      "--cache-dir", str(tmp_path / "c"), "-q"])
    assert result.exit_code == 2, result.output
    assert "gives it twice" in " ".join(result.output.split())
