"""Progress over scoring (issue 15): every backend reports each finished cell, results stay in order."""

from __future__ import annotations

import numpy as np

from transferscope.workflows.engine.candidates import feature_candidates
from transferscope.workflows.engine.scoring import LocalBackend, Scorer


def test_local_backends_report_every_item_and_keep_the_order():
    items = [-5, 3, -1, 8, -2]
    for jobs in (1, 2):
        seen: list[int] = []
        assert LocalBackend(jobs).map(abs, items, on_done=seen.append) == [5, 3, 1, 8, 2]
        assert sum(seen) == len(items)


def test_a_scorer_with_progress_scores_the_same():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    cands = feature_candidates({f"c{i}": rng.normal(size=(60, 3)) + i * y[:, None] for i in range(5)}, n_samples=60)
    quiet = Scorer(["knn", "logme"], task="classification", n_jobs=2).score(cands, y).to_frame()
    shown = Scorer(["knn", "logme"], task="classification", n_jobs=2, progress=True).score(cands, y).to_frame()
    assert quiet.equals(shown)
