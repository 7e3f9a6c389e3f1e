"""Fine-tuning a candidate's model as measured transfer: the one dispatch the benchmark and
``select`` share.

Text encoders with weights (Hugging Face / sentence-transformers) are fine-tuned with
:func:`~transferscope.probes.finetune_text.finetune_text_probe`, PyTorch modules (the digit zoo,
torchvision) with :func:`~transferscope.probes.finetune.finetune_probe`; fixed extractors
(TF-IDF, HOG, ...) have no weights to fine-tune. Results go through the score cache, keyed by
the model's identity, the data, the labels, the splits, the settings and the seed.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.hashing import hash_fields
from transferscope.workflows.engine.score_cache import ScoreCache, labels_fingerprint

__all__ = ["can_finetune", "finetune_transfer"]

_TEXT_ADAPTERS = ("hf", "sentence-transformers")


def can_finetune(encoder: Any) -> bool:
    """Whether ``encoder`` has weights :func:`finetune_transfer` can fine-tune."""
    return getattr(encoder, "adapter", "") in _TEXT_ADAPTERS or getattr(encoder, "module", None) is not None


def finetune_transfer(encoder: Any, data: Dataset, splits: tuple[np.ndarray, ...], *, seed: int,
                      options: Mapping[str, Any] | None = None, cache: ScoreCache | None = None,
                      progress: bool = False) -> dict[str, Any]:
    """The fine-tuned test score of ``encoder``'s model on ``data`` (``splits`` = train, val, test).

    Parameters
    ----------
    encoder : Encoder
        An encoder for which :func:`can_finetune` holds.
    data : Dataset
    splits : (train, val, test) index arrays
    seed : int
    options : mapping, optional
        Fine-tuning options (``epochs``, ``lr``, ...); those the model's fine-tuning function does
        not take are ignored (text models: :func:`~transferscope.probes.finetune_text.finetune_text_probe`;
        modules: ``mode="full"``, 5 epochs, learning rates 1e-3 and 3e-3 unless given).
    cache : ScoreCache, optional
    progress : bool, default=False
        Show the fine-tuning's steps on stderr (a bar on a terminal, lines in a log).

    Returns
    -------
    dict
        ``value`` (test accuracy or R^2) and ``settings`` (``truth: "fine-tuned"`` and the probe's settings).

    Raises
    ------
    InputError
        When the encoder has no weights to fine-tune.
    """
    from transferscope.errors import InputError

    options = dict(options or {})
    if getattr(encoder, "adapter", "") in _TEXT_ADAPTERS:
        from transferscope.probes.finetune_text import finetune_text_probe

        accepted = inspect.signature(finetune_text_probe).parameters
        metric, used = "finetune_text", {k: v for k, v in options.items() if k in accepted}

        def run(report: Any) -> Any:
            return finetune_text_probe(str(encoder.path), data.inputs, data.labels, splits=splits, seed=seed,
                                       random_init=encoder.random_init, progress=report, **used)
    elif getattr(encoder, "module", None) is not None:
        from transferscope.probes.finetune import finetune_probe

        module = encoder.module
        metric, used = "finetune", {"mode": "full", "epochs": 5, "lr": [1e-3, 3e-3], **options}

        def run(report: Any) -> Any:
            lr = used["lr"]
            rest = {k: v for k, v in used.items() if k != "lr"}
            return finetune_probe(lambda: module, data.inputs, data.labels, splits=splits, seed=seed,
                                  lr=tuple(lr) if isinstance(lr, list) else lr, progress=report, **rest)
    else:
        raise InputError(f"model {getattr(encoder, 'name', encoder)!r} is a fixed extractor: it has no weights "
                         "to fine-tune")

    def compute() -> dict[str, Any]:
        from transferscope.extraction.progress import step_progress

        with step_progress(f"fine-tuning {getattr(encoder, 'name', 'the model')} on {data.name}",
                           enabled=progress) as report:
            result = run(report)
        return {"value": result.score, "settings": {"truth": "fine-tuned", **result.settings}}

    return ScoreCache.fetch(cache, compute, model=encoder.identity(), dataset=data.fingerprint(),
                            labels=labels_fingerprint(data.labels),
                            splits=hash_fields({"s": [np.asarray(s).tolist() for s in splits]}),
                            metric=metric, options=used, seed=seed, required=("value", "settings"))
