"""Hostile inputs and caches (issue 10): the whole catalogue, one case per test.

Every bad input gets exit code 2 and ONE line ``Error: ...`` on stderr naming the argument (the
suite field, the file, the column), no traceback and nothing on stdout, before the work starts;
unusual but valid inputs (``NA`` as a text, ``estimators: logme``, a header-less feature CSV)
give the right result; a damaged cache entry is reported in one warning line, removed and
recomputed, and the rerun's output equals a cold run's. CLI cases run the real command
(typer's CliRunner in this process, a subprocess where stderr or the user matters) on a tiny
random BERT (tests/conftest.py) and small CSVs. Read-only folders are tried as ``nobody`` when
the tests run as root, since root writes anywhere.

Before the fix: each case was run against commit 142cc83 (the tree before issues 9-10) with this
file; of 130 cases, 51 gave a traceback, 44 a silently wrong result (a wrong number, a stale or
duplicated cell, a bad input accepted), 20 a one-line message that was wrong or vague (or a
valid input refused), 11 click's multi-line usage box, and 4 were already right. Now all 130 pass.

Catalogue (before -> now)
-------------------------
Order
  layers after a partial cache; extract_features with hits in the middle     wrong -> cold-run order
Feature cache entries (rank rerun after damaging one entry)
  features.npy truncated / deleted; meta.json garbled / deleted / a list /
  edited fields; one warning line on stderr                                   traceback -> heals
  features.npy values overwritten, same shape                                 wrong -> heals (sha256)
Partial chunks: truncated (BadZipFile), values overwritten (CRC), wrong shape  traceback/wrong -> heals
Score cache files: {} / [1, 2] / "warnings" not a list                          traceback -> heals
  {"value": null} / "abc" / Infinity / garbled JSON                           wrong -> heals
  probe result damaged (layers rerun)                                          traceback -> heals
Concurrent writers: a loser replaces a damaged entry                           traceback -> heals
  racing threads agree, a loser keeps a sound entry                            clean -> clean
File modes: cache and output files follow the umask                            0600/0700 -> 0664/0775
Benchmark store: another --max-samples, an added estimator, a store from
  before cell keys, duplicated candidates or poolings                          stale/duplicated -> right
Outputs and caches: --output/--heatmap/--export into a read-only folder or
  onto a folder, a read-only --cache-dir, a --cache-dir that is a file        traceback -> one line
Suites: a schema check names the field (unknown estimator/target, string or
  negative seeds/max_samples/priors, unknown keys, poolings, 'estimators:
  logme' as one estimator), non-UTF-8 file                                     traceback/wrong -> one line
  --store not DuckDB / a folder / a foreign table / read-only; one writer per
  store told plainly, a reader never kills a run, two drivers never duplicate  traceback/wrong -> one line
Models and devices: truncated safetensors (rank and suites), --device tpu /
  cuda without CUDA (also when cached), --max-length beyond the positions     traceback -> one line
Data files: non-UTF-8 labels/data, a two-row dataset in layers, several .npz
  arrays (--features-key), several label columns (--label-column)             traceback/vague -> one line
Feature tables: id / label / text / index columns refused, --feature-columns,
  header-less CSVs keep their first row                                        wrong/vague -> right
NA is a value: "NA"/"null" texts and labels kept; empty cells named by row     vague/wrong -> right
Python API: rank_correlation on strings/dicts/matrices, rank() argument types,
  a dataset name, a cache folder that is a file                                traceback/wrong -> InputError
Option values: --batch-size 0 / abc, --max-length 0, negative --permutations
  or --max-samples, an unknown option or command, a missing argument           usage box -> one line
Silently wrong numbers: features containing the label (exact fit, N > rank),
  the tiny exact fit [[1,0],[0,1],[0,0]]                                       LogME ~-1e10 -> finite, first
  duplicated or whitespace-only texts (TF-IDF features)                        clean -> clean
  features times 1e-170 / 1e300 in rank and compare (scale-invariant
  measures rescale exactly; the others refuse, naming the estimator)           wrong/refused -> equal values
  complex features in ts.score                                                 imaginary part dropped -> InputError
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.datasets import Dataset
from transferscope.errors import InputError
from transferscope.extraction.baselines import TfidfSvdEncoder
from transferscope.extraction.cache import FeatureCache
from transferscope.extraction.features import extract_features

runner = CliRunner()
NOBODY = 65534


def has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


# -- helpers ---------------------------------------------------------------------------------

def cli(*args: object):
    """The command in this process (exceptions are caught, so a traceback shows as one)."""
    return runner.invoke(app, [str(a) for a in args])


def assert_rejected(result, *needles: str) -> str:
    """Exit 2, one line ``Error: ...`` naming each needle, no traceback, no table on stdout."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.stdout.strip() == "", result.stdout
    return lines[0]


def assert_process_rejected(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert proc.stdout.strip() == ""
    return lines[0]


def cli_process(args: list[object], *, cwd: Path, unprivileged: bool = False, timeout: float = 300,
                popen: bool = False):
    """The installed command in a fresh process (as ``nobody`` with ``unprivileged`` under root)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFERSCOPE_CACHE_DIR": str(cwd / "env-cache"),
           "HOME": str(cwd), "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "transferscope", *map(str, args)]
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a read-only folder cannot be tried")
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        if not _unprivileged_can_import(tuple(drop)):
            pytest.skip("the checkout is not readable by an unprivileged user (e.g. a clone inside a 0700 "
                        "mktemp folder): a read-only folder cannot be tried as another user")
        cmd = [*drop, *cmd]
    if popen:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@functools.cache
def _unprivileged_can_import(drop: tuple[str, ...]) -> bool:
    """Whether the user ``drop`` switches to can import transferscope from this checkout at all."""
    done = subprocess.run([*drop, sys.executable, "-c", "import transferscope"], capture_output=True, timeout=120)
    return done.returncode == 0


@pytest.fixture()
def public(tmp_path):
    """A folder every user may use (pytest's tmp_path is private to root), with a read-only
    sub-folder ``ro`` and the usual inputs."""
    root = Path(tempfile.mkdtemp(prefix="ts-hostile-"))
    root.chmod(0o777)
    make_inputs(root)
    (root / "ro").mkdir()
    (root / "ro").chmod(0o555)
    yield root
    (root / "ro").chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)


def make_inputs(folder: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    np.save(folder / "a.npy", rng.normal(size=(60, 8)) + 2 * y[:, None])
    np.save(folder / "b.npy", rng.normal(size=(60, 8)))
    np.save(folder / "y.npy", y)
    texts = [f"{w} number {i}" for i, w in enumerate(["lovely film", "dull movie", "great plot", "awful acting"] * 8)]
    pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 16}).to_csv(folder / "reviews.csv", index=False)


@pytest.fixture()
def work(tmp_path):
    make_inputs(tmp_path)
    return tmp_path


BASE_SUITE = {"name": "hostile", "candidates": ["tfidf", "hashing"], "targets": ["sentence-polarity"],
              "estimators": ["logme"], "max_samples": 40}


def suite_file(folder: Path, **changes: object) -> Path:
    spec = {**BASE_SUITE, **changes}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def needs_builtin_targets() -> None:
    pytest.importorskip("gensim", reason="the built-in targets need the demo extra")



# == hostile caches ==========================================================================

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


def cli_ok(*args: object) -> str:
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
    stdout = cli_ok(*rank_args(data_csv, tiny_bert_dir, root / "cache", out))
    return {"cache": root / "cache", "stdout": stdout, "csv": out.read_text()}


def copy_cache(cold: dict, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    shutil.copytree(cold["cache"], cache)
    return cache


def rerun_equals_cold(cold: dict, data: Path, model: Path, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.csv"
    stdout = cli_ok(*rank_args(data, model, cache, out))
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
    cold = cli_ok("layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "cold", "-q",
               "--output", tmp_path / "cold.csv")
    cli_ok(*rank_args(data_csv, tiny_bert_dir, tmp_path / "warm", tmp_path / "r.csv", "--layers", "layer_2"))
    warm = cli_ok("layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "warm", "-q",
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
    from transferscope.workflows.engine.score_cache import result_problem

    assert all(result_problem(json.loads(p.read_text()), ["value", "warnings"]) is None for p in files)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        rerun_equals_cold(cold_rank, data_csv, tiny_bert_dir, cache, tmp_path)
    assert not damage_lines(caplog)


def test_damaged_probe_result_heals(data_csv, tiny_bert_dir, tmp_path, caplog):
    """layers (probe on): every score file replaced by {"score": "x"}; before: traceback."""
    args = ["layers", "--data", data_csv, "--model", tiny_bert_dir, "--cache-dir", tmp_path / "c", "-q"]
    cold = cli_ok(*args)
    for path in (tmp_path / "c" / "scores").rglob("*.json"):
        path.write_text('{"score": "x", "metric": "accuracy", "metrics": {}, "settings": {}}')
    with caplog.at_level(logging.WARNING, logger="transferscope.cache"):
        assert cli_ok(*args) == cold
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


# -- a full disk -------------------------------------------------------------------------------

def test_a_full_disk_during_cache_writes_leaves_the_run_whole(work, data_csv, monkeypatch, caplog):
    """Issue 26: a disk that filled while a cache entry was written ended the run with an OSError
    traceback. A cache that cannot grow must slow the next run, not fail this one: every write
    (feature entries, resumable chunks, score entries) fails with ENOSPC here, the ranking is the
    one a cache-less run gives, each failure is one warning, and nothing half-written stays."""
    import errno

    import transferscope.extraction.cache as feature_cache
    import transferscope.hashing as hashing

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    cache = work / "cache"
    args = ["rank", "--data", data_csv, "--model", "tfidf", "--model", "hashing", "--metric", "logme,knn", "-q"]
    expected = cli_ok(*args, "--no-cache")
    monkeypatch.setattr(feature_cache.np, "save", full)  # the feature entries
    monkeypatch.setattr(hashing, "write_atomic", full)  # the score entries and chunks (as imported below)
    import transferscope.workflows.engine.score_cache as score_cache
    monkeypatch.setattr(score_cache, "write_atomic", full)
    monkeypatch.setattr(feature_cache, "write_atomic", full)
    with caplog.at_level("WARNING", logger="transferscope.cache"):
        got = cli_ok(*args, "--cache-dir", cache)
    assert got == expected
    warnings = [r.getMessage() for r in caplog.records if r.name == "transferscope.cache"]
    assert warnings and all("No space left on device" in w for w in warnings), warnings
    leftovers = [p for p in cache.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


# -- file modes --------------------------------------------------------------------------------


def _modes(root: Path) -> tuple[set[int], set[int]]:
    dirs = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_dir()}
    files = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}
    return dirs, files


def test_cache_files_follow_the_umask(data_csv, tiny_bert_dir, tmp_path):
    """umask 002 (a shared cache): before, entries were 0700 and score files 0600."""
    old = os.umask(0o002)
    try:
        cli_ok(*rank_args(data_csv, tiny_bert_dir, tmp_path / "cache", tmp_path / "r.csv"))
        cache = FeatureCache(tmp_path / "chunks")
        cache.put_chunk("g", 0, {"k0": np.ones((2, 2))})
        from transferscope.hashing import hash_files

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


# == hostile inputs ==========================================================================

# -- outputs and caches ----------------------------------------------------------------------

def test_output_into_a_read_only_folder(public):
    proc = cli_process(["rank", "--features", "a.npy", "--labels", "y.npy", "--output", "ro/out.csv", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "--output", "not writable")


def test_output_onto_an_existing_folder(work):
    (work / "out.csv").mkdir()
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "y.npy", "--output", work / "out.csv")
    assert_rejected(result, "--output", "existing folder")


def test_heatmap_onto_an_existing_folder(work):
    (work / "map.png").mkdir()
    result = cli("compare", "--features", work / "a.npy", "--features", work / "b.npy", "--heatmap", work / "map.png")
    assert_rejected(result, "--heatmap", "existing folder")


def test_export_onto_an_existing_folder(work):
    needs_builtin_targets()
    (work / "rows.parquet").mkdir()
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c",
                 "--export", work / "rows.parquet", "-q")
    assert_rejected(result, "--export", "existing folder")
    assert not (work / "r.duckdb").exists()  # rejected before the store was even opened


def test_read_only_cache_dir(public):
    proc = cli_process(["rank", "--data", "reviews.csv", "--model", "tfidf", "--cache-dir", "ro/cache", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "--cache-dir", "not writable")


def test_cache_dir_that_is_a_file(work):
    (work / "cachefile").write_text("x")
    result = cli("rank", "--data", work / "reviews.csv", "--model", "tfidf", "--cache-dir", work / "cachefile", "-q")
    assert_rejected(result, "--cache-dir", "not a folder")


def test_output_file_follows_the_umask(work):
    old = os.umask(0o022)
    try:
        result = cli("rank", "--features", work / "a.npy", "--labels", work / "y.npy", "--output", work / "r.csv")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (work / "r.csv").stat().st_mode & 0o777 == 0o644  # mkstemp made it 0600 whatever the umask


# -- suites ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "needles"), [
    pytest.param({"estimators": ["nosuch"]}, ["'estimators'", "nosuch"], id="unknown-estimator"),
    pytest.param({"exclude": ["nosuch"]}, ["'exclude'", "nosuch"], id="unknown-excluded-estimator"),
    pytest.param({"seeds": ["a"]}, ["'seeds'"], id="string-seed"),
    pytest.param({"seeds": [1.5]}, ["'seeds'"], id="fractional-seed"),
    pytest.param({"seeds": [-1]}, ["'seeds'"], id="negative-seed"),
    pytest.param({"max_samples": "abc"}, ["'max_samples'"], id="string-max-samples"),
    pytest.param({"max_samples": -5}, ["'max_samples'"], id="negative-max-samples"),
    pytest.param({"max_samples": 5}, ["'max_samples'", "at least 20"], id="tiny-max-samples"),
    pytest.param({"priors": {"tfidf": "abc"}}, ["'priors.tfidf'"], id="string-prior"),
    pytest.param({"priors": [1, 2]}, ["'priors'"], id="priors-not-a-mapping"),
    pytest.param({"priors": {"tfidf": 1, "bert": 2}}, ["'priors'", "bert"], id="prior-of-no-candidate"),
    pytest.param({"targets": ["no-such-target"]}, ["'targets'", "no-such-target"], id="unknown-target"),
    pytest.param({"candidates": [{"model": "tfidf", "layer": "last"}]}, ["'candidates[0]'", "layer"],
                 id="candidate-unknown-key"),
    pytest.param({"candidates": [{"model": "tfidf", "layers": {"a": 1}}]}, ["'candidates[0].layers'"],
                 id="candidate-layers-mapping"),
    pytest.param({"candidates": [{"model": "tfidf", "poolings": ["avg"]}]}, ["'candidates[0].poolings'", "avg"],
                 id="candidate-unknown-pooling"),
    pytest.param({"candidates": [{"model": 5}]}, ["'candidates[0].model'"], id="candidate-model-number"),
    pytest.param({"finetune": "fast"}, ["'finetune'"], id="finetune-not-a-mapping"),
    pytest.param({"name": ["a", "b"]}, ["'name'"], id="name-a-list"),
    # issue 26: a 2 MB name was printed whole on the terminal and stored in every row
    pytest.param({"name": "s" * 2_000_000}, ["'name'", "at most 200", "(2000002 characters)"], id="name-2-mb"),
])
def test_suite_field_is_checked_before_any_work(work, change, needles):
    needs_builtin_targets()
    result = cli("benchmark", suite_file(work, **change), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "suite field", *needles)
    assert not (work / "r.duckdb").exists()


def test_suite_estimators_as_one_string_is_one_estimator(work):
    """``estimators: logme`` was iterated letter by letter (a StopIteration traceback on 'l')."""
    needs_builtin_targets()
    store = work / "r.duckdb"
    result = cli("benchmark", suite_file(work, estimators="logme"), "--store", store, "--cache-dir", work / "c",
                 "--export", work / "rows.csv", "-q")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(work / "rows.csv")
    assert set(rows.loc[rows["kind"] == "estimator", "metric"]) == {"logme"}


def test_suite_one_item_shorthands():
    needs_builtin_targets()
    from transferscope.workflows.suite import load_suite

    suite = load_suite({**BASE_SUITE, "seeds": 0, "targets": "sentence-polarity", "candidates": "tfidf",
                        "estimators": "logme, knn", "max_samples": 0})
    assert suite.seeds == [0] and suite.targets == ["sentence-polarity"]  # not ['s', 'e', 'n', ...]
    assert [c.model for c in suite.candidates] == ["tfidf"] and suite.estimators == ["logme", "knn"]
    assert suite.max_samples is None


def test_store_that_is_not_a_duckdb_file(work):
    needs_builtin_targets()
    (work / "r.duckdb").write_text("hello")
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "r.duckdb", "not a transferscope results file")


def test_store_that_is_a_folder(work):
    needs_builtin_targets()
    (work / "r.duckdb").mkdir()
    result = cli("benchmark", suite_file(work), "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "r.duckdb", "is a folder")


def test_store_with_a_foreign_results_table(work):
    needs_builtin_targets()
    import duckdb

    with duckdb.connect(str(work / "other.duckdb")) as con:
        con.execute("CREATE TABLE results (x INTEGER)")
    result = cli("benchmark", suite_file(work), "--store", work / "other.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "other.duckdb", "not a transferscope results file", "suite")


def test_store_in_a_read_only_folder(public):
    needs_builtin_targets()
    suite_file(public)
    proc = cli_process(["benchmark", "suite.yaml", "--store", "ro/r.duckdb", "--cache-dir", "cache", "-q"],
                       cwd=public, unprivileged=True)
    assert_process_rejected(proc, "store folder", "not writable")


def test_suite_file_that_is_not_utf8(work):
    path = work / "suite.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert_rejected(cli("benchmark", path, "--store", work / "r.duckdb", "-q"), "suite.yaml", "UTF-8")


# -- models and devices ----------------------------------------------------------------------

@pytest.fixture()
def truncated_model(tiny_bert_dir, tmp_path):
    copy = tmp_path / "truncated-bert"
    shutil.copytree(tiny_bert_dir, copy)
    weights = copy / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return copy


def test_truncated_safetensors(work, truncated_model):
    result = cli("rank", "--data", work / "reviews.csv", "--model", truncated_model, "--cache-dir", work / "c", "-q")
    assert_rejected(result, "model.safetensors", "damaged", "truncated")


def test_truncated_safetensors_in_a_suite(work, truncated_model):
    needs_builtin_targets()
    path = suite_file(work, candidates=["tfidf", {"model": str(truncated_model), "layers": ["layer_1"]}])
    result = cli("benchmark", path, "--store", work / "r.duckdb", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "model.safetensors", "damaged", "truncated")
    assert not (work / "c" / "features").exists() or not any((work / "c" / "features").iterdir())  # before any cell


def test_device_tpu(work, tiny_bert_dir):
    result = cli("rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "tpu",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'tpu'")


@pytest.mark.skipif(has_cuda(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_cuda(work, tiny_bert_dir):
    result = cli("rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "cuda",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'cuda'", "no CUDA GPU")


def test_bad_device_is_rejected_when_everything_is_cached(work, tiny_bert_dir):
    args = ["rank", "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--cache-dir", work / "c", "-q"]
    assert cli(*args).exit_code == 0
    assert_rejected(cli(*args, "--device", "cuda:7"), "--device", "'cuda:7'")


@pytest.mark.parametrize("command", ["layers", "compare"])
def test_device_tpu_in_layers_and_compare(work, tiny_bert_dir, command):
    result = cli(command, "--data", work / "reviews.csv", "--model", tiny_bert_dir, "--device", "tpu",
                 "--cache-dir", work / "c", "-q")
    assert_rejected(result, "--device", "'tpu'")


def test_max_length_beyond_the_model_positions(tmp_path, tiny_bert_dir):
    """The tiny BERT has 128 positions: long texts at --max-length 1000 were an IndexError."""
    words = " ".join(["lovely film with a long plot"] * 60)
    pd.DataFrame({"text": [f"{words} {i}" for i in range(20)], "label": [0, 1] * 10}).to_csv(tmp_path / "long.csv",
                                                                                         index=False)
    result = cli("rank", "--data", tmp_path / "long.csv", "--model", tiny_bert_dir, "--max-length", "1000",
                 "--cache-dir", tmp_path / "c", "-q")
    assert_rejected(result, "--max-length", "1000", "128 token positions")


# -- data files ------------------------------------------------------------------------------

def test_labels_txt_that_is_not_utf8(work):
    (work / "labels.txt").write_bytes("caf\xe9\nna\xefve\n".encode("latin-1") * 30)
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "labels.txt")
    assert_rejected(result, "labels.txt", "UTF-8")


def test_data_csv_that_is_not_utf8(work):
    (work / "latin.csv").write_bytes(("text,label\n" + "caf\xe9,a\nna\xefve,b\n" * 10).encode("latin-1"))
    result = cli("rank", "--data", work / "latin.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "latin.csv", "UTF-8")


def test_two_row_dataset_in_layers(work):
    pd.DataFrame({"text": ["good film", "bad film"], "label": ["pos", "neg"]}).to_csv(work / "two.csv", index=False)
    result = cli("layers", "--data", work / "two.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "2 samples", "--no-probe")


def test_npz_with_several_arrays_names_features_key(work):
    rng = np.random.default_rng(1)
    np.savez(work / "two.npz", ids=np.arange(60.0)[:, None], emb=np.load(work / "a.npy"),
             noise=rng.normal(size=(60, 8)))
    args = ["rank", "--features", work / "two.npz", "--labels", work / "y.npy"]
    assert_rejected(cli(*args), "two.npz", "ids, emb, noise", "--features-key")
    result = cli(*args, "--features-key", "emb", "--output", work / "r.json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads((work / "r.json").read_text())
    assert row["dim"] == 8
    assert_rejected(cli(*args, "--features-key", "embedding"), "'embedding'", "--features-key")


def test_compare_npz_features_key(work):
    np.savez(work / "p.npz", emb=np.load(work / "a.npy"), other=np.load(work / "b.npy"))
    np.savez(work / "q.npz", emb=np.load(work / "b.npy"), other=np.load(work / "a.npy"))
    args = ["compare", "--features", work / "p.npz", "--features", work / "q.npz"]
    assert_rejected(cli(*args), "--features-key")
    assert cli(*args, "--features-key", "emb").exit_code == 0


def test_labels_csv_with_several_columns_honours_label_column(work):
    y = np.load(work / "y.npy")
    pd.DataFrame({"id": np.arange(60), "truth": y, "other": 1 - y}).to_csv(work / "labels.csv", index=False)
    args = ["rank", "--features", work / "a.npy", "--labels", work / "labels.csv", "--metric", "knn"]
    assert_rejected(cli(*args), "labels.csv", "id, truth, other", "--label-column")
    good = cli(*args, "--label-column", "truth", "--output", work / "good.json")
    bad = cli(*args, "--label-column", "other", "--output", work / "bad.json")
    assert good.exit_code == 0 and bad.exit_code == 0, (good.output, bad.output)
    # The column named is the column used: kNN accuracy is a property of the labels.
    assert json.loads((work / "good.json").read_text())[0]["knn"] == pytest.approx(
        json.loads((work / "bad.json").read_text())[0]["knn"])
    assert_rejected(cli(*args, "--label-column", "nope"), "'nope'", "--label-column")


def test_labels_csv_with_a_label_column_among_several(work):
    y = np.load(work / "y.npy")
    pd.DataFrame({"id": np.arange(60), "label": y}).to_csv(work / "labels.csv", index=False)
    result = cli("rank", "--features", work / "a.npy", "--labels", work / "labels.csv", "--output", work / "r.json")
    assert result.exit_code == 0, result.output


# -- feature tables (CSV / Parquet) ----------------------------------------------------------

def feature_table(work: Path) -> pd.DataFrame:
    x = np.load(work / "a.npy")
    table = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
    table.insert(0, "id", np.arange(60))
    table["label"] = np.load(work / "y.npy")
    return table


def test_feature_csv_with_id_and_label_columns_is_refused(work):
    """They were used as features: dim 10, and the label column made every estimator look perfect."""
    feature_table(work).to_csv(work / "f.csv", index=False)
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy")
    assert_rejected(result, "f.csv", "id, label", "--feature-columns")


def test_feature_csv_feature_columns_by_pattern(work):
    feature_table(work).to_csv(work / "f.csv", index=False)
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--feature-columns", "f*",
                 "--output", work / "r.json")
    assert result.exit_code == 0, result.output
    assert json.loads((work / "r.json").read_text())[0]["dim"] == 8
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--feature-columns", "g*"),
                    "'g*'", "--feature-columns")


def test_feature_parquet_with_a_label_column_is_refused(work):
    feature_table(work).drop(columns="id").to_parquet(work / "f.parquet")
    assert_rejected(cli("rank", "--features", work / "f.parquet", "--labels", work / "y.npy"), "label", "--feature-columns")


def test_feature_csv_with_a_text_column_is_refused(work):
    feature_table(work).drop(columns=["id", "label"]).assign(text="some words").to_csv(work / "f.csv", index=False)
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy"), "non-numeric", "text")


def test_feature_csv_written_with_the_pandas_index_is_refused(work):
    pd.DataFrame(np.load(work / "a.npy")).to_csv(work / "f.csv")  # index=True: an 'Unnamed: 0' column 0..59
    assert_rejected(cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy"), "Unnamed: 0")


def test_headerless_feature_csv_keeps_its_first_row(work):
    np.savetxt(work / "f.csv", np.load(work / "a.npy"), delimiter=",")
    result = cli("rank", "--features", work / "f.csv", "--labels", work / "y.npy", "--output", work / "r.json")
    assert result.exit_code == 0, result.output  # was "labels has 60 entries but features has 59 rows"
    assert json.loads((work / "r.json").read_text())[0]["dim"] == 8


# -- NA is a value ---------------------------------------------------------------------------

def test_na_and_null_texts_are_values(work):
    table = pd.read_csv(work / "reviews.csv")
    table.loc[:3, "text"] = ["NA", "null", "None", "nan"]
    table.to_csv(work / "na.csv", index=False)
    result = cli("rank", "--data", work / "na.csv", "--model", "tfidf", "--cache-dir", work / "c")
    assert result.exit_code == 0, result.output
    assert "na: 32 samples" in result.stderr


def test_na_label_is_a_class(work):
    pd.DataFrame({"text": [f"text {i}" for i in range(30)], "label": ["EU", "NA", "AS"] * 10}).to_csv(
        work / "regions.csv", index=False)
    result = cli("rank", "--data", work / "regions.csv", "--model", "tfidf", "--cache-dir", work / "c",
                 "--metric", "knn")
    assert result.exit_code == 0, result.output
    assert "regions: 30 samples" in result.stderr


def test_empty_text_cell_is_named(work):
    (work / "gap.csv").write_text("text,label\ngood,pos\nbad,neg\n,pos\nfine,neg\n")
    result = cli("rank", "--data", work / "gap.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "'text'", "missing value", "data row 3")


def test_numeric_labels_with_na_are_refused(work):
    values = [str(v) for v in np.round(np.linspace(0.5, 3.0, 20), 3)]
    values[4] = "NA"
    pd.DataFrame({"text": [f"text {i}" for i in range(20)], "label": values}).to_csv(work / "r.csv", index=False)
    result = cli("rank", "--data", work / "r.csv", "--model", "tfidf", "--cache-dir", work / "c", "-q")
    assert_rejected(result, "'label'", "'NA'", "data row 5")


def test_labels_txt_numbers_with_na_are_refused(work):
    (work / "y.txt").write_text("\n".join(["0", "1"] * 29 + ["NA", "1"]) + "\n")
    assert_rejected(cli("rank", "--features", work / "a.npy", "--labels", work / "y.txt"), "y.txt", "'NA'")


def test_labels_txt_empty_line_is_named(work):
    (work / "y.txt").write_text("\n".join(["a", "b"] * 15 + [""] + ["a", "b"] * 15) + "\n\n")
    assert_rejected(cli("rank", "--features", work / "a.npy", "--labels", work / "y.txt"), "y.txt", "empty line 31")


# -- the Python API --------------------------------------------------------------------------

@pytest.mark.parametrize(("scores", "truth", "needle"), [
    pytest.param("abc", "def", "scores", id="strings"),
    pytest.param({"a": 1, "b": 2}, {"a": 2, "b": 1}, "scores", id="dicts"),
    pytest.param([0.1, 0.2], ["a", "b"], "truth", id="string-truth"),
    pytest.param([[0.1, 0.2], [0.3, 0.4]], [1, 2, 3, 4], "scores", id="matrix"),
])
def test_rank_correlation_bad_input(scores, truth, needle):
    for fn in (ts.rank_correlation, ts.rank_correlation_ci):
        with pytest.raises(InputError, match=needle):
            fn(scores, truth)


@pytest.fixture()
def xy():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    return rng.normal(size=(40, 4)) + y[:, None], y


@pytest.mark.parametrize(("change", "needle"), [
    pytest.param({"features": "list"}, "features must be a mapping", id="features-list"),
    pytest.param({"labels": {"a": 1}}, "labels must be an array", id="labels-dict"),
    pytest.param({"labels": "ab"}, "labels must be an array", id="labels-string"),
    pytest.param({"metrics": 5}, "metrics must be", id="metrics-number"),
    pytest.param({"metrics": ["logme", 3]}, "metrics must be", id="metrics-list-of-number"),
    pytest.param({"source_probs": {"zzz": np.ones((40, 2)) / 2}}, "source_probs has key", id="source-probs-unknown-key"),
    pytest.param({"source_probs": [1]}, "source_probs must be a mapping", id="source-probs-list"),
    pytest.param({"metric_options": [1]}, "metric_options must", id="metric-options-list"),
    pytest.param({"task": "ranking"}, "task must be one of", id="unknown-task"),
    pytest.param({"seed": "a"}, "seed must be an integer", id="string-seed"),
    pytest.param({"extraction": {"device": "cpu"}}, "extraction must be an ExtractionOptions", id="extraction-dict"),
])
def test_rank_api_bad_arguments(xy, change, needle):
    x, y = xy
    kwargs = {"features": {"a": x}, "labels": y, "metrics": ["knn"], **change}
    if kwargs["features"] == "list":
        kwargs["features"] = [x]
    with pytest.raises(InputError, match=needle):
        ts.rank(**kwargs)


@pytest.mark.parametrize(("change", "needle"), [
    pytest.param({"device": "tpu"}, "device must be", id="device-tpu"),
    pytest.param({"batch_size": 0}, "batch_size must be >= 1", id="batch-size-0"),
    pytest.param({"max_length": "128"}, "max_length must be an integer", id="max-length-string"),
    pytest.param({"cache_dir": 5}, "cache_dir must be a folder path", id="cache-dir-number"),
])
def test_extraction_options_bad_arguments(change, needle):
    with pytest.raises(InputError, match=needle):
        ts.ExtractionOptions(**change)


def test_rank_api_dataset_that_is_a_name():
    with pytest.raises(InputError, match="dataset must be a transferscope Dataset"):
        ts.rank(dataset="sentence-polarity", models=["tfidf"])


def test_rank_api_models_as_one_string_and_layers_as_an_index(tmp_path):
    texts = [f"{w} {i}" for i, w in enumerate(["good film", "bad movie"] * 15)]
    ds = Dataset("toy", texts, ["pos", "neg"] * 15, "classification")
    options = ts.ExtractionOptions(cache_dir=str(tmp_path))
    one = ts.rank(dataset=ds, models="tfidf", layers=0, metrics=["knn"], extraction=options, n_jobs=1).table
    assert list(one["model"]) == ["tfidf-svd"]  # was build_encoder('t'): "model path 't' does not exist"
    with pytest.raises(InputError, match="pooling must be"):
        ts.rank(dataset=ds, models="tfidf", poolings=5, extraction=options)


# -- one store, one writer -------------------------------------------------------------------

HOLD = ("import sys\nfrom transferscope.workflows.storage.store import ResultStore\n"
        "store = ResultStore(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()\n")


def concurrency_suite(folder: Path) -> Path:
    return suite_file(folder, candidates=["tfidf", "hashing"], targets=["sentence-polarity", "word-language"],
                      estimators=["logme", "knn"], max_samples=200)


def stored_cells(store: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT target, candidate, seed, metric, count(*) AS n FROM results "
                           "WHERE kind = 'estimator' GROUP BY ALL").fetchdf()


def test_second_writer_is_told_plainly(work):
    needs_builtin_targets()
    store = work / "r.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = cli("benchmark", suite_file(work), "--store", store, "--cache-dir", work / "c", "-q")
        assert_rejected(result, "r.duckdb", "in use by another process", "--store")
        from transferscope.workflows.storage.store import ResultStore

        with pytest.raises(InputError, match="in use by another process"):
            ResultStore(store)
    finally:
        holder.communicate("", timeout=60)


def test_a_reader_that_looks_in_as_a_run_opens_the_store_does_not_end_the_run(work):
    """The run's writer opened the store once; a reader that held it at that moment (the store
    just created, a report between two runs) ended the run with "in use" (seen in a full run on a
    slow machine). The writer now waits up to LOCK_WAIT_SECONDS for a lock that is let go."""
    from transferscope.workflows.storage import store as store_module
    from transferscope.workflows.storage.store import ResultStore

    path = work / "r.duckdb"
    ResultStore(path).close()
    reader = subprocess.Popen([sys.executable, "-c", "import sys, time, duckdb\n"
                               "con = duckdb.connect(sys.argv[1], read_only=True)\n"
                               "print('ready', flush=True)\ntime.sleep(1.0)\ncon.close()\n", str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        start = time.monotonic()
        with ResultStore(path) as opened:  # waits for the reader, then holds the store
            assert opened.table().empty
        assert time.monotonic() - start < store_module.LOCK_WAIT_SECONDS + 1.0
    finally:
        reader.communicate(timeout=60)


def test_reader_during_a_run_does_not_kill_it(work):
    """A reader that opens the store while a run writes to it: the run goes on (the reader is
    refused); before, the run's next per-operation connection failed on the reader's lock."""
    needs_builtin_targets()
    import duckdb

    concurrency_suite(work)
    store = work / "r.duckdb"
    proc = cli_process(["benchmark", "suite.yaml", "--store", "r.duckdb", "--cache-dir", "c", "-q"],
                       cwd=work, popen=True)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            con = duckdb.connect(str(store), read_only=True)
        except duckdb.Error:
            time.sleep(0.02)
            continue
        time.sleep(0.3)  # a reader that stays a while
        con.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert (stored_cells(store)["n"] == 1).all()


def test_two_drivers_on_one_store(work):
    """Two runs at once on one store: one runs, the other is told in one line (or, if it starts
    after the first finished, finds every cell stored); never a crash, never a duplicated row."""
    needs_builtin_targets()
    concurrency_suite(work)
    args = ["benchmark", "suite.yaml", "--store", "r.duckdb", "--cache-dir", "c", "-q"]
    procs = [cli_process(args, cwd=work, popen=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes and set(codes) <= {0, 2}, [e[-2000:] for _, e in outputs]
    for code, (_out, err) in zip(codes, outputs):
        assert "Traceback" not in err
        if code == 2:
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1 and "in use by another process" in lines[0], lines
    cells = stored_cells(work / "r.duckdb")
    assert len(cells) == 2 * 2 * 2 and (cells["n"] == 1).all(), cells


def test_api_rank_with_a_cache_folder_that_is_a_file(tmp_path):
    # The API checks its cache folder before any extraction, as the CLI does.
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from transferscope.datasets.dataset import Dataset

    data = Dataset("d", ["a b", "b c", "c d", "d e"], [0, 1, 0, 1], "classification", "text")
    with pytest.raises(InputError, match=r"cache_dir '.*file/cache' is not a folder"):
        ts.rank(dataset=data, models=["tfidf"], metrics="logme",
                extraction=ts.ExtractionOptions(cache_dir=str(blocker / "cache")))


# == option values (typer's own checks) =========================================================

@pytest.mark.parametrize(("args", "needles"), [
    pytest.param(["rank", "--batch-size", "0"], ["--batch-size", "greater than or equal to 1"], id="batch-size-0"),
    pytest.param(["rank", "--batch-size", "abc"], ["--batch-size", "integer"], id="batch-size-abc"),
    pytest.param(["layers", "--max-length", "0"], ["--max-length"], id="max-length-0"),
    pytest.param(["compare", "--permutations", "-1"], ["--permutations"], id="permutations-negative"),
    pytest.param(["compare", "--max-samples", "1"], ["--max-samples"], id="compare-max-samples-1"),
    pytest.param(["benchmark", "text", "--max-samples", "-1"], ["--max-samples"], id="benchmark-max-samples-negative"),
    pytest.param(["demo", "--max-samples", "5"], ["--max-samples"], id="demo-max-samples-5"),
    pytest.param(["rank", "--no-such-option"], ["--no-such-option"], id="unknown-option"),
    pytest.param(["rnk"], ["rnk", "rank"], id="unknown-command"),
    pytest.param(["benchmark"], ["suite"], id="missing-argument"),
])
def test_bad_option_value_is_one_line(args, needles):
    """Before: click's usage box (usage line, hint line, a framed panel) on stderr, exit 2."""
    line = assert_rejected(cli(*args), *needles)
    assert "--help" in line  # where to look next, on the same line


def test_bad_option_value_is_one_line_in_a_process(tmp_path):
    assert_process_rejected(cli_process(["rank", "--batch-size", "0"], cwd=tmp_path), "--batch-size")


def test_no_arguments_still_print_the_help(tmp_path):
    proc = cli_process([], cwd=tmp_path)
    assert proc.returncode == 2 and "Usage" in proc.stdout and "rank" in proc.stdout


# == silently wrong numbers ======================================================================

@pytest.fixture()
def scaled(work):
    """a.npy times 1e-170 and 1e300, a.npy with the label as a ninth column, a duplicated-text CSV."""
    a, y = np.load(work / "a.npy"), np.load(work / "y.npy")
    np.save(work / "tiny.npy", a * 1e-170)
    np.save(work / "huge.npy", a * 1e300)
    np.save(work / "fit.npy", np.c_[a, y])
    return work


def ranked(args: list[object], out: Path) -> pd.DataFrame:
    result = cli(*args, "--output", out, "-q")
    assert result.exit_code == 0, result.output
    return pd.read_csv(out).set_index("candidate")


def test_features_that_contain_the_label_rank_first_with_a_finite_logme(scaled):
    """Before: LogME -1e9 to -1e11 on an exact fit with N > rank, ranking it last."""
    table = ranked(["rank", "--features", scaled / "a.npy", "--features", scaled / "fit.npy",
                    "--labels", scaled / "y.npy", "--metric", "logme"], scaled / "o.csv")
    assert list(table.index) == ["fit", "a"]
    assert np.isfinite(table.loc["fit", "logme"]) and table.loc["fit", "logme"] > table.loc["a", "logme"] + 1


def test_logme_on_a_tiny_exact_fit_is_finite_and_above_noise():
    """[[1,0],[0,1],[0,0]] with labels [0,1,0]; before: about -1e10."""
    exact = ts.score("logme", np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.array([0, 1, 0]))
    noise = ts.score("logme", np.random.default_rng(0).normal(size=(3, 2)), np.array([0, 1, 0]))
    assert np.isfinite(exact) and exact > noise


@pytest.mark.parametrize("texts", [
    pytest.param(["same words here"] * 6 + ["other words", "more text", "and again", "last one"], id="duplicated-text"),
    pytest.param(["   "] * 5 + ["good film", "bad film", "great plot", "awful plot", "nice"], id="whitespace-texts"),
])
def test_duplicated_and_blank_texts_give_finite_logme(work, texts):
    """Identical rows fit their labels exactly within each duplicate group; before: -1e9 or below."""
    pd.DataFrame({"text": texts * 2, "label": [0, 1] * 10}).to_csv(work / "d.csv", index=False)
    table = ranked(["rank", "--data", work / "d.csv", "--model", "tfidf", "--metric", "logme",
                    "--cache-dir", work / "c"], work / "o.csv")
    assert np.isfinite(table["logme"]).all() and (table["logme"] > -1e3).all(), table


def test_extreme_magnitudes_through_rank(scaled):
    """Before: kNN 0.5 and H-score 0 at 1e-170 (both scale-invariant), LogME NaN at 1e100,
    a LinAlgError traceback at 1e300. Now every scale-invariant estimator equals its value on
    the unscaled features."""
    table = ranked(["rank", *[x for n in ("a", "tiny", "huge") for x in ("--features", scaled / f"{n}.npy")],
                    "--labels", scaled / "y.npy", "--metric", "logme,knn,hscore,shrinkage_hscore,parc,nleep"],
                   scaled / "o.csv")
    for name in ("tiny", "huge"):
        for metric in ("logme", "knn", "hscore", "shrinkage_hscore", "parc", "nleep"):
            assert table.loc[name, metric] == pytest.approx(table.loc["a", metric], rel=1e-9), (name, metric)


def test_extreme_magnitudes_refused_by_a_scale_dependent_estimator(scaled):
    """An estimator whose value depends on the scale names itself and the problem."""
    result = cli("rank", "--features", scaled / "tiny.npy", "--labels", scaled / "y.npy", "--metric", "logme,transrate")
    assert_rejected(result, "transrate", "largest magnitude")


def test_extreme_magnitudes_through_compare(scaled):
    """Before: refused (or NaN); CKA of a copy scaled by 1e-170 or 1e300 is 1."""
    result = cli("compare", *[x for n in ("a", "tiny", "huge") for x in ("--features", scaled / f"{n}.npy")],
                 "--output", scaled / "c.csv", "-q")
    assert result.exit_code == 0, result.output
    values = pd.read_csv(scaled / "c.csv")["value"]
    assert np.allclose(values, 1.0, atol=1e-12)


def test_score_on_complex_features_is_refused():
    """Before: the imaginary part dropped with a numpy ComplexWarning, a score printed."""
    x = np.random.default_rng(0).normal(size=(20, 3)) + 1j
    with pytest.raises(InputError, match="features is complex"):
        ts.score("logme", x, np.repeat([0, 1], 10))


def test_a_model_of_the_other_modality_is_refused_before_any_work():
    """Issue 26: a text model given image data tokenised str(array) and was ranked (rank --dataset
    digits10 --model <a text model>; sources then named a nearest source); the reverse was a
    traceback. Every encoder of the zoo declares what it reads; the mismatch is one line, exit 2."""
    from transferscope.cli.app import app
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates

    options = ExtractionOptions(use_cache=False)
    for spec, dataset, reads in (("tfidf", "digits10", "text"), ("hashing#int8", "digits10", "text"),
                                 ("pixels", "sentence-polarity", "image")):
        with pytest.raises(InputError, match=f"reads {reads} and dataset '{dataset}' holds"):
            extract_candidates(load_builtin(dataset), [spec], layers="last", extraction=options)
    result = CliRunner().invoke(app, ["rank", "--dataset", "digits10", "--model", "tfidf", "--no-cache", "-q"])
    assert result.exit_code == 2 and "give an image model" in result.output
    (ok,) = extract_candidates(load_builtin("digits10").subsample(60, seed=0), ["pixels"], layers="last",
                               extraction=options)
    assert ok.features.shape[0] == 60


def test_a_folder_where_a_cache_file_belongs_is_named_and_left_alone(tmp_path):
    """Issue 26: a score file of the cache replaced by a folder was a traceback (IsADirectoryError
    from the atomic rename). It is one line naming the path, exit 2, and the folder is untouched."""
    from transferscope.cli.app import app

    args = ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--metric", "knn",
            "--cache-dir", str(tmp_path), "-q"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (entry,) = (tmp_path / "scores").rglob("*.json")
    entry.unlink()
    entry.mkdir()
    (entry / "mine.txt").write_text("not yours")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and f"'{entry}' is a folder where transferscope writes a file" in result.output
    assert "Traceback" not in result.output and (entry / "mine.txt").read_text() == "not yours"
