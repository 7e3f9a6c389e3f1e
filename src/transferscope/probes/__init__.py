"""Ground-truth protocols: fit on frozen features, report measured transfer.

Every protocol returns a :class:`ProbeResult` with the headline score, all
metrics, and every setting that changes a number.

The protocols are imported on first use (they load scikit-learn, ~0.5 s), so that
checking a probe's name, or a rerun whose probe results are all cached, costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Protocols on frozen features with the signature ``probe(features, labels, *, splits, [task])``,
#: selectable as a suite's ground truth, with the tasks each supports: a probe that supports more
#: than one takes ``task=`` (``FEATURE_PROBES`` maps the names to the functions). ``splits`` is one
#: (train, val, test) triple, or for the probes in ``REPEATED_SPLIT_PROBES`` a sequence of them.
FEATURE_PROBE_TASKS: dict[str, tuple[str, ...]] = {
    "linear": ("classification", "regression"),
    "linear_cv": ("classification", "regression"),
    "knn": ("classification", "regression"),
    "ncm": ("classification",),
    "mlp": ("classification", "regression"),
}
FEATURE_PROBE_NAMES = tuple(FEATURE_PROBE_TASKS)
REPEATED_SPLIT_PROBES = ("linear_cv",)

_HOMES = {
    "fewshot_probe": "fewshot",
    "finetune_text_probe": "finetune_text",
    "knn_probe": "knn",
    "ProbeResult": "result",
    "linear_probe": "linear",
    "linear_cv_probe": "repeated",
    "corrected_standard_error": "repeated",
    "split_triples": "repeated",
    "mlp_probe": "mlp",
    "ncm_probe": "ncm",
    "similarity_spearman": "similarity",
}

__all__ = ["FEATURE_PROBES", "FEATURE_PROBE_NAMES", "FEATURE_PROBE_TASKS", "REPEATED_SPLIT_PROBES", *_HOMES]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    if name == "FEATURE_PROBES":
        return {probe: __getattr__(f"{probe}_probe") for probe in FEATURE_PROBE_NAMES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
