"""Transferability estimators: one module per family, registered here."""

from __future__ import annotations

from transferscope.metrics.registry import MetricInfo, register
from transferscope.metrics.transferability.hscore import hscore
from transferscope.metrics.transferability.knn import knn_loo
from transferscope.metrics.transferability.logme import logme

__all__ = ["logme", "hscore", "knn_loo"]

register(
    MetricInfo(
        name="logme",
        family="transferability",
        func=logme,
        summary="Log marginal evidence of a Bayesian linear model on the features, per sample.",
        citation="You et al., LogME: Practical Assessment of Pre-trained Models for "
        "Transfer Learning, ICML 2021",
        task_types=("classification", "regression"),
        complexity="O(N D min(N, D) + min(N, D)^3)",
    )
)
register(
    MetricInfo(
        name="hscore",
        family="transferability",
        func=hscore,
        summary="tr(cov(F)^+ cov(E[F|y])): feature variance explained by class means.",
        citation="Bao et al., An Information-Theoretic Approach to Transferability in "
        "Task Transfer Learning, ICIP 2019",
        task_types=("classification",),
        complexity="O(N D^2 + D^3)",
        unreliable_when="N <= D + 1 (saturates at C - 1)",
    )
)
register(
    MetricInfo(
        name="knn",
        family="transferability",
        func=knn_loo,
        summary="Leave-one-out k-nearest-neighbour accuracy (R^2 for regression), cosine.",
        citation="Kornblith, Shlens & Le, Do Better ImageNet Models Transfer Better?, "
        "CVPR 2019 (kNN as a transfer proxy)",
        task_types=("classification", "regression"),
        complexity="O(N^2 D) brute force, chunked",
    )
)
