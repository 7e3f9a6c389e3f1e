"""Results render in notebooks (``_repr_html_``, issue 15): the answer in words, the table, strings escaped."""

from __future__ import annotations

import numpy as np
import pandas as pd

import transferscope as ts
from transferscope.workflows.layers import LayerProfile
from transferscope.workflows.sources import SourceRanking

HOSTILE = "<script>x</script>"


def test_drift_compat_and_elastic_render_their_answer():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 40)
    x = rng.normal(size=(160, 8)) + 2.0 * np.eye(8)[y]
    drift = ts.drift_features({"l1": x, "l2": x}, {HOSTILE: {"l1": x, "l2": x + rng.normal(size=x.shape)}})
    page = drift._repr_html_()
    assert "drift starts at" in page and "&lt;script&gt;" in page and HOSTILE not in page
    compat = ts.compat_features(x, [x @ np.linalg.qr(rng.normal(size=(8, 8)))[0]], y, aligners=["procrustes"],
                                pair_sizes=["all"])
    assert "compatible" in compat._repr_html_() and "<table" in compat._repr_html_()
    elastic = ts.elastic_features({"l1": x}, y, compressions=["float32", "int8"])
    assert "bytes per vector" in elastic._repr_html_()


def test_profile_and_sources_escape_and_cut_long_tables():
    table = pd.DataFrame({"layer": [f"layer_{i}" for i in range(40)], "logme": np.arange(40.0)})
    profile = LayerProfile(table=table, recommended=HOSTILE, basis="logme", evidence=["because"])
    page = profile._repr_html_()
    assert "Recommended layer: &lt;script&gt;" in page and "10 more rows" in page and HOSTILE not in page
    ranking = SourceRanking(table=pd.DataFrame({"source": [HOSTILE], "rank": [1], "otdd": [0.1]}), measure="otdd")
    assert "Nearest source: &lt;script&gt;" in ranking._repr_html_()
