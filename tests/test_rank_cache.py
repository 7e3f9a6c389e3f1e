"""A rerun served from the caches does no heavy work, and never serves a stale result.

Speed itself is measured in ``benchmarks/bench_rank_cache.py``; these tests pin
what makes it fast without timing anything: which libraries a process imports
(``sys.modules`` of a real ``transferscope`` process), whether worker processes
start, and when the remembered hash of a model's weights is served.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferscope.extraction.hf import HFEncoder
from transferscope.hashing import hash_files

#: Libraries a cached rerun or ``--help`` must not load.
HEAVY = ("torch", "transformers", "sentence_transformers", "duckdb", "ray", "matplotlib", "faiss", "sklearn")
#: ``transferscope --help`` and ``import transferscope`` load none of these either.
HEAVY_FOR_HELP = HEAVY + ("numpy", "pandas", "scipy", "pyarrow", "yaml")

RUNNER = """
import json, multiprocessing, sys
watch = json.loads(sys.argv[2])
sys.argv = ["transferscope", *json.loads(sys.argv[1])]
from transferscope.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
report = {"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in watch),
          "children": len(multiprocessing.active_children()),
          "pool": "joblib.externals.loky.reusable_executor" in sys.modules}
print("RUNNER-REPORT " + json.dumps(report), file=sys.stderr)
"""


def run_cli(*args: str, watch: tuple[str, ...] = HEAVY) -> tuple[dict, str]:
    """Run ``transferscope ARGS`` in a fresh interpreter; report the watched modules it loaded."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(args), json.dumps(watch)],
                          capture_output=True, text=True, env=env, timeout=600)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("RUNNER-REPORT ")]
    assert line, proc.stderr[-3000:]
    report = json.loads(line[-1].removeprefix("RUNNER-REPORT "))
    return report, proc.stdout


def _age(folder: Path, seconds: float = 3600.0) -> None:
    """Date every file of ``folder`` back, as weights downloaded a while ago are."""
    past = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def _memo_entries(cache: Path) -> list[Path]:
    return sorted((cache / "hashes").rglob("*.json"))


# -- imports -------------------------------------------------------------------


def test_import_and_help_do_no_heavy_work():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    code = ("import sys, transferscope; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_FOR_HELP!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
    for args in ([], ["rank"]):
        report, stdout = run_cli(*args, "--help", watch=HEAVY_FOR_HELP)
        assert report["code"] == 0 and "Usage" in stdout
        assert report["modules"] == [], f"--help imported {report['modules']}"


def test_cached_rerun_imports_no_torch_and_starts_no_workers(tiny_bert_dir, tmp_path):
    model = tmp_path / "tiny-bert"
    shutil.copytree(tiny_bert_dir, model)
    _age(model)
    data = tmp_path / "reviews.csv"
    rng = np.random.default_rng(0)
    words = ["lovely", "dull", "great", "awful", "fine", "poor"]
    pd.DataFrame({"text": [" ".join(rng.choice(words, 4)) for _ in range(40)],
                  "label": ["pos", "neg"] * 20}).to_csv(data, index=False)
    cache = tmp_path / "cache"
    args = ("rank", "--data", str(data), "--model", str(model), "--layers", "all", "--pooling", "mean,cls",
            "--metric", "logme,knn", "--cache-dir", str(cache), "-q")
    first, first_out = run_cli(*args, "--output", str(tmp_path / "first.csv"))
    assert first["code"] == 0 and "torch" in first["modules"]  # the control: this run did extract
    assert first["pool"]  # six candidates to score: a process pool ...
    assert first["children"] == 0  # ... closed when the command ended (issue 27: no stray worker)
    assert len(_memo_entries(cache)) == 1  # the weights' hash is remembered

    again, again_out = run_cli(*args, "--output", str(tmp_path / "again.csv"))
    assert again["code"] == 0
    assert again["modules"] == [], f"a cached rerun imported {again['modules']}"
    assert not again["pool"] and again["children"] == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "first.csv"), pd.read_csv(tmp_path / "again.csv"))
    assert again_out == first_out

    # New weights (same size, new mtime): never the old features or scores.
    entries = sorted((cache / "features").glob("*/*"))
    assert len(entries) == 6
    _flip_last_byte(model / "model.safetensors")
    changed, _ = run_cli(*args)
    assert changed["code"] == 0 and "torch" in changed["modules"]  # extracted again
    assert len(sorted((cache / "features").glob("*/*"))) == 12  # under a new model identity


def test_layer_names_come_from_config_json_without_transformers(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "bert", "num_hidden_layers": 3,
                                                   "architectures": ["BertForSequenceClassification"]}))
    (model / "model.safetensors").write_bytes(b"\0" * 64)
    code = (f"import sys; from transferscope.extraction.hf import HFEncoder; e = HFEncoder({str(model)!r}, "
            f"cache_dir={str(tmp_path / 'c')!r}); print(e.all_layers(), bool(e.identity()), "
            "[m for m in ('torch', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['embeddings', 'layer_1', 'layer_2', 'layer_3', 'layers-mean', 'head'] True []"


def test_config_json_layer_count_agrees_with_transformers(tiny_bert_dir, tiny_classifier_dir, minilm_path):
    transformers = pytest.importorskip("transformers")
    for path in (tiny_bert_dir, tiny_classifier_dir, minilm_path):
        enc = HFEncoder(str(path))
        config = transformers.AutoConfig.from_pretrained(path)
        assert enc.layer_names() == ["embeddings"] + [f"layer_{i}" for i in range(1, config.num_hidden_layers + 1)]
        heads = any(a.endswith("ForSequenceClassification") for a in config.architectures or [])
        assert enc.has_classification_head() is heads


# -- the remembered hash of weights -------------------------------------------------


@pytest.fixture()
def weights(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"num_hidden_layers": 2}')
    (folder / "model.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    _age(folder)
    return folder


def _plant(cache: Path, value: str) -> None:
    """Overwrite the remembered digest: whatever is returned afterwards shows whether the memo was served."""
    (entry,) = _memo_entries(cache)
    stored = json.loads(entry.read_text())
    entry.write_text(json.dumps({**stored, "sha256": value}))


def test_memo_is_served_while_files_are_unchanged(weights, tmp_path):
    cache = tmp_path / "cache"
    files = sorted(weights.iterdir())
    truth = hash_files(files)
    assert hash_files(files, memo_dir=cache) == truth
    assert len(_memo_entries(cache)) == 1
    _plant(cache, "planted")
    assert hash_files(files, memo_dir=cache) == "planted"  # nothing changed: the memo answers


@pytest.mark.parametrize("change", ["same size, new mtime", "same size, mtime restored", "size", "added", "removed",
                                    "replaced by a copy with the old mtime"])
def test_memo_rehashes_on_any_change(weights, tmp_path, change):
    cache = tmp_path / "cache"
    blob = weights / "model.safetensors"
    hash_files(sorted(weights.iterdir()), memo_dir=cache)
    _plant(cache, "planted")
    old = blob.stat()
    if change == "same size, new mtime":
        _flip_last_byte(blob)
    elif change == "same size, mtime restored":  # what `touch -r` or an archive tool leaves
        _flip_last_byte(blob)
        os.utime(blob, ns=(old.st_atime_ns, old.st_mtime_ns))
    elif change == "size":
        blob.write_bytes(blob.read_bytes() + b"\0")
    elif change == "added":
        (weights / "extra.bin").write_bytes(b"x")
    elif change == "removed":
        (weights / "config.json").unlink()
    else:
        other = tmp_path / "other.bin"
        other.write_bytes(blob.read_bytes()[::-1])
        os.utime(other, ns=(old.st_atime_ns, old.st_mtime_ns))
        os.replace(other, blob)
    files = sorted(weights.iterdir())
    if change.startswith(("same size", "replaced")):
        assert blob.stat().st_size == old.st_size
    got = hash_files(files, memo_dir=cache)
    assert got != "planted"
    assert got == hash_files(files)


def test_freshly_written_files_are_not_remembered(tmp_path):
    blob = tmp_path / "w.bin"
    blob.write_bytes(b"just written")
    cache = tmp_path / "cache"
    assert hash_files([blob], memo_dir=cache) == hash_files([blob])
    assert _memo_entries(cache) == []  # a second write this instant could keep size and mtime


def test_unreadable_memo_is_ignored(weights, tmp_path):
    cache = tmp_path / "cache"
    files = sorted(weights.iterdir())
    truth = hash_files(files, memo_dir=cache)
    (entry,) = _memo_entries(cache)
    entry.write_text("{not json")
    assert hash_files(files, memo_dir=cache) == truth
    entry.write_text('["a list"]')
    assert hash_files(files, memo_dir=cache) == truth


def test_changed_weights_give_a_new_identity(weights, tmp_path):
    cache = str(tmp_path / "cache")
    a = HFEncoder(str(weights), cache_dir=cache).identity()
    assert HFEncoder(str(weights), cache_dir=cache).identity() == a  # served from the memo
    _flip_last_byte(weights / "model.safetensors")  # same size, new mtime
    b = HFEncoder(str(weights), cache_dir=cache).identity()
    assert b != a
    assert b["weights"] == hash_files(sorted(weights.iterdir()))


# -- no process pool for cached cells ---------------------------------------------------


def test_cached_cells_start_no_workers(tmp_path, monkeypatch):
    import joblib

    from transferscope.workflows.engine.candidates import feature_candidates
    from transferscope.workflows.engine.score_cache import ScoreCache
    from transferscope.workflows.engine.scoring import Scorer

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    arrays = {f"c{i}": rng.normal(size=(60, 5)) + i * y[:, None] for i in range(5)}
    cache = ScoreCache(tmp_path)

    def score(arrays, **options):
        return Scorer(["logme", "knn"], task="classification", **options).score(feature_candidates(arrays), y).to_frame()

    first = score(arrays, cache=cache, n_jobs=2)

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started for cached cells")

    monkeypatch.setattr(joblib, "Parallel", no_pool)
    again = score(arrays, cache=cache, n_jobs=2)
    pd.testing.assert_frame_equal(first, again)
    # One new candidate: only it is computed (in this process: one cell needs no pool).
    arrays["new"] = rng.normal(size=(60, 5))
    more = score(arrays, cache=cache)
    pd.testing.assert_frame_equal(more.iloc[:5], first)
    fresh = score({"new": arrays["new"]})
    assert more.loc[5, "logme"] == fresh.loc[0, "logme"] and more.loc[5, "knn"] == fresh.loc[0, "knn"]
