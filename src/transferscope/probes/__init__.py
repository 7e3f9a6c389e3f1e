"""Ground-truth protocols: fit on frozen features, report measured transfer.

Every protocol returns a :class:`ProbeResult` with the headline score, all
metrics, and every setting that changes a number.
"""

from __future__ import annotations

from transferscope.probes.fewshot import fewshot_probe
from transferscope.probes.finetune_text import finetune_text_probe
from transferscope.probes.knn import knn_probe
from transferscope.probes.linear import ProbeResult, linear_probe
from transferscope.probes.mlp import mlp_probe
from transferscope.probes.ncm import ncm_probe
from transferscope.probes.similarity import similarity_spearman

#: Protocols on frozen features with the signature ``probe(features, labels, *, splits, [task])``,
#: selectable as a suite's ground truth.
FEATURE_PROBES = {"linear": linear_probe, "knn": knn_probe, "ncm": ncm_probe, "mlp": mlp_probe}

__all__ = [
    "FEATURE_PROBES",
    "finetune_text_probe","ProbeResult", "fewshot_probe", "knn_probe", "linear_probe", "mlp_probe", "ncm_probe",
           "similarity_spearman"]
