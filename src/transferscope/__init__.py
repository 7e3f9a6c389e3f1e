"""transferscope: which pretrained representation will transfer best to your data, and why.

Examples
--------
>>> import numpy as np, transferscope as ts
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 3, 90)
>>> ts.score("logme", rng.normal(size=(90, 16)) + np.eye(3, 16)[y], y) > ts.score(
...     "logme", rng.normal(size=(90, 16)), y)
True
"""

from __future__ import annotations

from typing import Any

from transferscope._version import __version__
from transferscope.metrics import get_metric, rank_correlation, rank_correlation_ci, score
from transferscope.metrics import list_metrics as _list_metrics
from transferscope.metrics.calibration import similarity_bootstrap_ci, similarity_permutation_test
from transferscope.metrics.measures import geometry, similarity

__all__ = ["__version__", "score", "similarity", "geometry", "similarity_permutation_test",
           "similarity_bootstrap_ci", "list_metrics", "rank_correlation", "rank_correlation_ci", "rank", "get_metric"]


def list_metrics(family: str | None = None) -> list[dict[str, Any]]:
    """Registered metrics of ``family`` ("transferability", "similarity", "geometry")
    as dictionaries of their declared properties.

    Examples
    --------
    >>> import transferscope as ts
    >>> "logme" in [m["name"] for m in ts.list_metrics("transferability")]
    True
    """
    return [info.as_row() for info in _list_metrics(family)]


def __getattr__(name: str) -> Any:
    # ``rank`` pulls in pandas and the extraction layer: import it lazily.
    if name == "rank":
        from transferscope.workflows.rank import rank

        return rank
    raise AttributeError(f"module 'transferscope' has no attribute {name!r}")
