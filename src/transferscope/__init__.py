"""transferscope: which pretrained representation will transfer best to your data, and why.

``import transferscope`` does no heavy work: the public functions are imported
on first use (PEP 562), so the command line and a cached rerun load only what
they need.

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

from importlib import import_module
from typing import TYPE_CHECKING, Any

from transferscope._version import __version__

if TYPE_CHECKING:
    from transferscope.datasets import Dataset, load_builtin, load_image_folder, load_text_dataset
    from transferscope.metrics import get_metric, rank_correlation, rank_correlation_ci, score
    from transferscope.metrics.calibration import similarity_bootstrap_ci, similarity_permutation_test
    from transferscope.metrics.measures import geometry, similarity
    from transferscope.metrics.mixed_spaces import mixed_space_check
    from transferscope.workflows.compare import compare
    from transferscope.workflows.compat import compat, compat_features
    from transferscope.workflows.drift import drift, drift_features
    from transferscope.workflows.elastic import elastic, elastic_features
    from transferscope.workflows.engine.candidates import extract_candidates
    from transferscope.workflows.engine.options import ExtractionOptions
    from transferscope.workflows.layers import layer_profile as layers
    from transferscope.workflows.meta import meta_evaluate
    from transferscope.workflows.rank import rank
    from transferscope.workflows.select import select
    from transferscope.workflows.sources import rank_sources

__all__ = ["__version__", "score", "similarity", "geometry", "similarity_permutation_test",
           "similarity_bootstrap_ci", "list_metrics", "rank_correlation", "rank_correlation_ci", "rank", "get_metric",
           "ExtractionOptions", "select", "layers", "compare", "compat", "compat_features",
           "mixed_space_check", "elastic", "elastic_features", "drift",
           "drift_features", "rank_sources", "meta_evaluate", "extract_candidates",
           "Dataset", "load_builtin", "load_text_dataset", "load_image_folder"]

# Public name -> the module that defines it ("module:name" where the name differs), imported on
# first access. The research harnesses (source_eval's evaluate_*_sources) stay in their module.
_LAZY = {
    "score": "transferscope.metrics",
    "get_metric": "transferscope.metrics",
    "rank_correlation": "transferscope.metrics",
    "rank_correlation_ci": "transferscope.metrics",
    "similarity_bootstrap_ci": "transferscope.metrics.calibration",
    "similarity_permutation_test": "transferscope.metrics.calibration",
    "geometry": "transferscope.metrics.measures",
    "similarity": "transferscope.metrics.measures",
    "rank": "transferscope.workflows.rank",
    "ExtractionOptions": "transferscope.workflows.engine.options",
    "select": "transferscope.workflows.select",
    "compat": "transferscope.workflows.compat",
    "compat_features": "transferscope.workflows.compat",
    "mixed_space_check": "transferscope.metrics.mixed_spaces",
    "elastic": "transferscope.workflows.elastic",
    "elastic_features": "transferscope.workflows.elastic",
    "drift": "transferscope.workflows.drift",
    "drift_features": "transferscope.workflows.drift",
    "rank_sources": "transferscope.workflows.sources",
    "meta_evaluate": "transferscope.workflows.meta",
    "extract_candidates": "transferscope.workflows.engine.candidates",
    "layers": "transferscope.workflows.layers:layer_profile",
    "compare": "transferscope.workflows.compare",
    "Dataset": "transferscope.datasets",
    "load_builtin": "transferscope.datasets",
    "load_text_dataset": "transferscope.datasets",
    "load_image_folder": "transferscope.datasets",
}


def list_metrics(family: str | None = None) -> list[dict[str, Any]]:
    """Registered metrics of ``family`` ("transferability", "similarity", "geometry")
    as dictionaries of their declared properties.

    Examples
    --------
    >>> import transferscope as ts
    >>> "logme" in [m["name"] for m in ts.list_metrics("transferability")]
    True
    """
    from transferscope.workflows.inputs import metric_rows

    return metric_rows(family)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'transferscope' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    value = getattr(import_module(module), attribute or name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
