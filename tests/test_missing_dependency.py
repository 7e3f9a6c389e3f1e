"""A missing core dependency is named as a broken installation, not as an optional extra."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from transferscope.errors import MissingExtraError
from transferscope.workflows.suite import load_suite


def test_missing_pyyaml_names_the_core_dependency(tmp_path, monkeypatch):
    path = tmp_path / "suite.yaml"
    path.write_text("name: x\ncandidates: [tfidf]\ntargets: [sentence-polarity]\nestimators: [logme]\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` raise ImportError
    with pytest.raises(MissingExtraError, match=r"core dependency .*pip install pyyaml$") as info:
        load_suite(str(path))
    assert info.value.extra is None and "transferscope[" not in str(info.value)


def test_missing_faiss_names_the_core_dependency(monkeypatch):
    import transferscope as ts

    monkeypatch.setitem(sys.modules, "faiss", None)
    rng = np.random.default_rng(0)
    with pytest.raises(MissingExtraError, match=r"core dependency .*pip install faiss-cpu$"):
        ts.score("knn", rng.normal(size=(30, 3)), np.arange(30) % 2)
