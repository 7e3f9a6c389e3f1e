"""Declarative benchmark suites: candidates x targets x estimators x ground truth.

A suite is a YAML file or a dictionary::

    name: my-suite
    candidates:                    # model specs as for `transferscope rank`
      - {model: "st:{minilm}", layers: all, poolings: [mean, cls]}
      - {model: tfidf}
    targets: [sentence-polarity, word-language]     # built-in dataset names
    estimators: all                # or a list; "all" = every applicable one
    exclude: [nleep]               # estimators to leave out of "all"
    probe: linear                  # knn, ncm, mlp, or finetune (models with weights are fine-tuned)
    finetune: {epochs: 5, lr: [0.001, 0.003]}   # options of probes.finetune_probe
    seeds: [0]
    max_samples: null              # stratified subsample of each target
    priors: {tfidf: 0.0, "st:{minilm}": 22.7e6}   # static baseline per model

``{minilm}`` expands to the local path of the shipped all-MiniLM-L6-v2.
Built in: ``text``; ``imagenet-11x11`` (the literature's benchmark) checks for
torchvision, its weights and ``$TRANSFERSCOPE_DATA_DIR`` and says what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transferscope.errors import InputError

__all__ = ["Suite", "CandidateSpec", "load_suite", "BUILTIN_SUITES", "SUITE_PROBES"]

#: Ground truths a suite can use: probes on frozen features, or fine-tuning models with weights.
SUITE_PROBES = ("linear", "knn", "ncm", "mlp", "finetune")


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
        )


def _expand(text: str) -> str:
    if "{minilm}" in text:
        from transferscope.workflows.demo import demo_model_path

        text = text.replace("{minilm}", demo_model_path())
    return text


TEXT_SUITE: dict[str, Any] = {
    "name": "text",
    "description": "Every layer and pooling of the shipped MiniLM encoder, the same architecture with "
                   "random weights, TF-IDF+SVD and hashing baselines, on four real text tasks.",
    "candidates": [
        {"model": "st:{minilm}", "layers": "all", "poolings": ["mean", "cls", "max", "last"]},
        {"model": "random:{minilm}", "layers": "all", "poolings": ["mean"]},
        {"model": "tfidf"},
        {"model": "hashing"},
    ],
    "targets": ["sentence-polarity", "word-language", "vader-polarity", "vader-valence"],
    "estimators": "all",
    "exclude": ["nleep", "pactran", "cv_probe"],  # minutes per cell at N = 7,520; run them by name
    # Static baseline: parameter count (22.7 M for the MiniLM architecture, 0 for the baselines).
    "priors": {"st:{minilm}": 22.7e6, "random:{minilm}": 22.7e6, "tfidf": 0.0, "hashing": 0.0},
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

BUILTIN_SUITES: dict[str, dict[str, Any]] = {"text": TEXT_SUITE, "vision": VISION_SUITE}


def _zoo_parameter_counts(spec: dict[str, Any]) -> dict[str, float]:
    """Static prior of the vision suite: parameter count of the backbone (0 for fixed extractors)."""
    from transferscope.datasets.digits import TASKS
    from transferscope.extraction.zoo import build_zoo_net, zoo_spec

    priors: dict[str, float] = {}
    for cand in spec["candidates"]:
        model = cand["model"]
        if model.startswith("zoo:"):
            zspec = zoo_spec(model.removeprefix("zoo:"))
            net = build_zoo_net(zspec, TASKS[zspec.source_task].n_classes)
            priors[model] = float(sum(p.numel() for name, p in net.named_parameters()
                                      if not name.startswith("head")))
        else:
            priors[model] = 0.0
    return priors


def load_suite(source: str | os.PathLike[str] | dict[str, Any]) -> Suite:
    """A built-in suite by name, a YAML file, or a dictionary."""
    if isinstance(source, dict):
        return Suite.from_dict(source)
    text = str(source)
    if text == "imagenet-11x11":
        # The literature's 11 ImageNet models x 11 targets with published fine-tuning accuracies
        # (transferscope.workflows.literature). Checked without downloading anything.
        from transferscope.workflows.literature import check_imagenet_11x11_available

        check_imagenet_11x11_available(os.environ.get("TRANSFERSCOPE_DATA_DIR"))
        raise InputError("imagenet-11x11: weights and datasets are present, but extracting torchvision "
                         "features inside a suite is not implemented yet; use "
                         "transferscope.workflows.literature.published_table() for the ground truth")
    if text in BUILTIN_SUITES:
        spec = dict(BUILTIN_SUITES[text])
        if text == "vision":
            spec["priors"] = _zoo_parameter_counts(spec)
        return Suite.from_dict(spec)
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(f"suite '{text}' is neither a built-in suite ({', '.join(BUILTIN_SUITES)}) "
                         "nor a YAML file")
    try:
        import yaml
    except ImportError:
        from transferscope.errors import MissingExtraError

        raise MissingExtraError("pyyaml", "scale") from None
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"could not parse suite file '{text}': {str(exc).splitlines()[0]}") from None
    return Suite.from_dict(spec)
