"""Encoders fine-tuned here on a built-in target: ``finetuned:TARGET:BASE``.

``finetuned:vader-polarity:st:PATH`` is the encoder ``BASE`` (a local Hugging Face /
sentence-transformers directory, with or without the ``st:`` / ``hf:`` prefix, or a text
transformer of the offline zoo by name: ``finetuned:vader-polarity:mpnet``) after full
fine-tuning on the built-in classification target ``TARGET``
(:func:`~transferscope.probes.finetune_text.finetune_text_probe` on its seeded 60/20/20 split, the
checkpoint of the best validation accuracy kept), saved under ``<cache>/finetuned/<key>/`` and
read as a transformers model (``hf:``). The key hashes the base weights, the target's inputs and
labels and every training setting, so a changed base or setting trains a new model; the entry is
written to a temporary folder and renamed into place, so an interrupted training leaves nothing.

``finetuned:digits10:zoo:m-mnist10`` is a digit-zoo CNN after full fine-tuning on a built-in
image target (:func:`~transferscope.probes.finetune.finetune_probe` with :data:`ZOO_FINETUNE_SETTINGS`
on the same split, a new head for the target's classes), saved as ``model.safetensors`` beside
``meta.json`` (the head's classes) and read back as a zoo encoder.

``finetuned:TARGET@SEED:BASE`` is the same fine-tune trained with another seed (the training's
random order, initial head and dropout; the 60/20/20 split stays the one of seed 0): a re-seeded
twin, the null against which ``transferscope drift --null reseed`` measures what a fine-tune changed.

Such an encoder has seen its source target's labels: a benchmark never evaluates it on that
target, nor on a target with the same inputs (:func:`leaks_into`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from transferscope.errors import InputError

__all__ = ["FINETUNE_SETTINGS", "ZOO_FINETUNE_SETTINGS", "FINETUNED_PREFIX", "is_zoo_base", "is_trained",
           "finetuned_zoo_encoder", "parse_finetuned_spec", "finetune_seed", "reseeded", "finetuned_entry",
           "finetuned_model_dir", "leaks_into"]

FINETUNED_PREFIX = "finetuned:"
#: How the sources are fine-tuned (full fine-tuning, AdamW, the best validation epoch kept).
FINETUNE_SETTINGS: dict[str, Any] = {"mode": "full", "epochs": 2, "lr": [5e-5], "batch_size": 16, "max_length": 64,
                                     "seed": 0}
#: How digit-zoo CNNs are fine-tuned (the vision suite's recipe: full, Adam, the best validation epoch).
ZOO_FINETUNE_SETTINGS: dict[str, Any] = {"mode": "full", "epochs": 5, "lr": [1e-3, 3e-3], "batch_size": 64,
                                         "seed": 0}


def is_zoo_base(base: str) -> bool:
    """Whether the ``BASE`` of a ``finetuned:`` spec is a digit-zoo model (``zoo:NAME``)."""
    return base.startswith("zoo:")


def parse_finetuned_spec(spec: str) -> tuple[str, str]:
    """``"finetuned:TARGET:BASE"`` (or ``TARGET@SEED``) -> ``(TARGET, BASE)``; one InputError naming
    what is wrong.

    Examples
    --------
    >>> parse_finetuned_spec("finetuned:vader-polarity:st:/models/minilm")
    ('vader-polarity', 'st:/models/minilm')
    >>> parse_finetuned_spec("finetuned:vader-polarity@1:minilm")
    ('vader-polarity', 'minilm')
    """
    from transferscope.datasets.builtin import BUILTIN_DATASETS

    rest = spec.removeprefix(FINETUNED_PREFIX)
    target, sep, base = rest.partition(":")
    if not sep or not target or not base:
        raise InputError(f"model {spec!r}: write finetuned:TARGET:BASE, e.g. finetuned:vader-polarity:st:PATH")
    target, _ = _target_and_seed(spec, target)
    if target not in BUILTIN_DATASETS:
        raise InputError(f"model {spec!r}: {target!r} is not a built-in dataset "
                         f"({', '.join(sorted(BUILTIN_DATASETS))})")
    return target, base


def _target_and_seed(spec: str, target: str) -> tuple[str, int]:
    name, at, seed = target.partition("@")
    if not at:
        return name, int(FINETUNE_SETTINGS["seed"])
    if not (seed.isascii() and seed.isdigit()) or len(seed) > 9:
        raise InputError(f"model {spec!r}: the seed after '@' must be a whole number from 0, got {seed!r}")
    return name, int(seed)


def finetune_seed(spec: str) -> int:
    """The training seed of a ``finetuned:`` spec (0 unless ``TARGET@SEED`` says otherwise).

    Examples
    --------
    >>> finetune_seed("finetuned:vader-polarity:minilm"), finetune_seed("finetuned:vader-polarity@3:minilm")
    (0, 3)
    """
    parse_finetuned_spec(spec)
    return _target_and_seed(spec, spec.removeprefix(FINETUNED_PREFIX).partition(":")[0])[1]


def reseeded(spec: str, seed: int | None = None) -> str:
    """The same fine-tune trained with ``seed`` (default: the spec's seed + 1).

    Examples
    --------
    >>> reseeded("finetuned:vader-polarity:st:/m"), reseeded("finetuned:vader-polarity@1:st:/m", 7)
    ('finetuned:vader-polarity@1:st:/m', 'finetuned:vader-polarity@7:st:/m')
    """
    if not isinstance(spec, str) or not spec.startswith(FINETUNED_PREFIX):
        raise InputError(f"model {spec!r} is not fine-tuned here (finetuned:TARGET:BASE), so it cannot be re-seeded; "
                         "give its re-seeded twin yourself")
    target, base = parse_finetuned_spec(spec)
    new = finetune_seed(spec) + 1 if seed is None else int(seed)
    return f"{FINETUNED_PREFIX}{target}@{new}:{base}"


def leaks_into(model: str, target: str) -> bool:
    """Whether ``model`` was fine-tuned on ``target`` or on a dataset with the same inputs (e.g.
    vader-polarity and vader-valence: the same words), so that its features have seen the target's
    labels. Always False for a model that is not ``finetuned:``.

    Examples
    --------
    >>> leaks_into("finetuned:vader-polarity:st:x", "vader-valence"), leaks_into("tfidf", "vader-valence")
    (True, False)
    """
    if not model.startswith(FINETUNED_PREFIX):
        return False
    source, _ = parse_finetuned_spec(model)
    return source == target or _same_inputs(source, target)


@functools.cache
def _same_inputs(source: str, target: str) -> bool:
    """Whether two built-in datasets share most of their inputs (computed once per pair)."""
    from transferscope.datasets.builtin import load_builtin

    try:
        a, b = load_builtin(source), load_builtin(target)
    except InputError:
        return False
    inputs_a = {str(x) for x in a.inputs} if not hasattr(a.inputs, "shape") else None
    inputs_b = {str(x) for x in b.inputs} if not hasattr(b.inputs, "shape") else None
    if inputs_a is None or inputs_b is None:
        return a.fingerprint() == b.fingerprint()
    return len(inputs_a & inputs_b) >= 0.5 * min(len(inputs_a), len(inputs_b))


def finetuned_entry(spec: str, *, cache_dir: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]]:
    """The cache folder of the model ``spec`` names (``finetuned:TARGET:BASE``), whether or not it
    is trained yet, and what training it needs (``target``, the ``base`` directory, the ``data``)."""
    from transferscope.datasets.builtin import load_builtin
    from transferscope.extraction.cache import default_cache_dir
    from transferscope.extraction.specs import build_encoder
    from transferscope.extraction.versions import library_versions
    from transferscope.hashing import hash_fields

    target, base = parse_finetuned_spec(spec)
    seed = finetune_seed(spec)
    data = load_builtin(target)
    if data.task != "classification":
        raise InputError(f"model {spec!r}: fine-tuning sources are classification targets; {target} is {data.task}")
    root = default_cache_dir(cache_dir)
    versions = library_versions()
    if is_zoo_base(base):
        if data.modality != "image":
            raise InputError(f"model {spec!r}: a digit-zoo model is fine-tuned on an image target; {target} is "
                             f"{data.modality}")
        settings = {**ZOO_FINETUNE_SETTINGS, "seed": seed}
        key = hash_fields({"base": build_encoder(base, cache_dir=str(root)).identity(), "target": target,
                           "data": data.fingerprint(), "settings": settings, "torch": versions.get("torch")})
        return root / "finetuned" / key, {"target": target, "base": base, "data": data, "settings": settings}
    directory = _text_base_dir(base, root)
    settings = {**FINETUNE_SETTINGS, "seed": seed}
    key = hash_fields({"base": build_encoder(f"hf:{directory}", cache_dir=str(root)).identity(), "target": target,
                       "data": data.fingerprint(), "settings": settings,
                       "torch": versions.get("torch"), "transformers": versions.get("transformers")})
    return root / "finetuned" / key, {"target": target, "base": directory, "data": data, "settings": settings}


def _text_base_dir(base: str, root: Path) -> Path:
    """The model folder of a text ``BASE``: a zoo transformer by name (``minilm``, ``mpnet``), else a
    local directory or hub id, with or without ``st:`` / ``hf:``."""
    from transferscope.extraction.hf import resolve_model_dir
    from transferscope.extraction.model_zoo import MODEL_ZOO, is_zoo_name, zoo_model_dir

    if is_zoo_name(base):
        model = MODEL_ZOO[base]
        if model.kind != "text" or model.layers == 0:
            raise InputError(f"finetuned:...:{base}: only the zoo's text transformers can be fine-tuned "
                             f"({', '.join(m.name for m in MODEL_ZOO.values() if m.kind == 'text' and m.layers)}), "
                             f"not {base}")
        return zoo_model_dir(base, cache_dir=str(root))
    path = base.split(":", 1)[1] if base.split(":", 1)[0] in ("st", "hf") else base
    return Path(resolve_model_dir(path))


def is_trained(entry: Path, base: str) -> bool:
    """Whether the folder ``entry`` of a ``finetuned:`` model with ``base`` holds a complete model."""
    weights = "model.safetensors" if is_zoo_base(base) else "config.json"
    return (entry / "meta.json").is_file() and (entry / weights).is_file()


def finetuned_model_dir(spec: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The trained folder of ``spec``; one InputError when it is not trained yet (training is a
    probe, above this layer: :func:`transferscope.workflows.engine.finetuned_sources.ensure_finetuned`,
    which every command calls before it builds the encoder)."""
    entry, _ = finetuned_entry(spec, cache_dir=cache_dir)
    if is_trained(entry, parse_finetuned_spec(spec)[1]):
        return entry
    raise InputError(f"model {spec!r} is not fine-tuned yet in this cache; "
                     "transferscope.workflows.engine.finetuned_sources.ensure_finetuned(spec) trains it")


def finetuned_zoo_encoder(spec: str, *, cache_dir: str | os.PathLike[str] | None = None, batch_size: int = 256,
                          device: str | None = None) -> Any:
    """The trained ``finetuned:TARGET:zoo:NAME`` model as a zoo encoder named ``spec`` (its layers
    are the base's; its head predicts the target's classes)."""
    import json

    from safetensors.torch import load_file

    from transferscope.extraction.zoo import ZooEncoder, build_zoo_net, zoo_spec
    from transferscope.torch_support import require_torch

    entry = finetuned_model_dir(spec, cache_dir=cache_dir)
    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    zoo = zoo_spec(parse_finetuned_spec(spec)[1].removeprefix("zoo:"))
    torch = require_torch()
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten; keep the caller's RNG
        model = build_zoo_net(zoo, len(meta["classes"]))
    model.load_state_dict(load_file(str(entry / "model.safetensors"), device="cpu"), strict=True)
    model.eval()
    return ZooEncoder(model, zoo, batch_size=batch_size, device=device, name=spec)
