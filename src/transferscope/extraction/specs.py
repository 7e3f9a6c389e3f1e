"""Model specifications: a spec string into an Encoder, its layers and poolings chosen.

Accepted forms:

* ``NAME`` of the offline model zoo (``minilm``, ``mpnet``, ``glove``, ``dinov2-s``, ...;
  ``transferscope models`` lists them), when no file or folder of that name exists here;
  ``random:NAME`` is a network of the zoo with seeded random weights
  (:mod:`transferscope.extraction.model_zoo`);
* ``PATH`` or hub id: a sentence-transformers model when its directory has
  ``modules.json``, else a Hugging Face transformers model;
* ``hf:PATH`` / ``st:PATH``: force the transformers / sentence-transformers adapter;
* ``random:PATH``: the same architecture with random weights (a baseline);
* ``tfidf``: character n-gram TF-IDF + SVD (a baseline without pretraining);
* ``hashing``: hashed character n-grams + TF-IDF + SVD (no fitted vocabulary);
* ``zoo:NAME``: a small CNN of the built-in digit zoo (trained on first use, cached);
* ``torchvision:BUILDER[:WEIGHTS]``: a torchvision classifier (``torchvision:resnet50:IMAGENET1K_V1``;
  ``WEIGHTS`` defaults to ``DEFAULT``, ``none`` is a seeded random initialisation), its weights
  read from the local torch.hub cache, never downloaded
  (:class:`~transferscope.extraction.torchvision_models.TorchvisionEncoder`);
* ``timm:NAME[:none]``: a timm model (``timm:resnet50.a1_in1k``), weights from the local Hugging
  Face cache only (:class:`~transferscope.extraction.timm_models.TimmEncoder`);
* ``open_clip:ARCH:TAG`` (``:none`` for random weights): an OpenCLIP image tower, weights from the
  local Hugging Face cache only (:class:`~transferscope.extraction.open_clip_models.OpenClipEncoder`);
* ``pixels``, ``pca``, ``hog``, ``scattering``: fixed image extractors;
* ``finetuned:TARGET:BASE``: the text encoder or digit-zoo model (``zoo:NAME``) ``BASE`` fine-tuned
  here on the built-in target ``TARGET`` (trained on first use, cached;
  :mod:`transferscope.extraction.finetuned`);
* ``SPEC#COMPRESSION``: any of the above with its outputs truncated or quantised as a vector
  index stores them: ``st:PATH#pca128``, ``tfidf#prefix64+int8``, ``MODEL#binary``
  (:mod:`transferscope.extraction.compression`; the uncompressed features are cached once).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.extraction.encoder import HEAD_LAYER, LAYERS_MEAN, POOLINGS, Encoder

__all__ = ["build_encoder", "select_layers", "natural_layer", "check_poolings", "parameter_count", "NO_WEIGHTS"]

#: Specs of extractors that have no pretrained weights (parameter count 0).
NO_WEIGHTS = ("tfidf", "tfidf-svd", "hashing", "hashing-svd", "pixels", "pca", "hog", "scattering")


def build_encoder(
    spec: str | Encoder,
    *,
    seed: int = 0,
    max_length: int = 128,
    batch_size: int = 32,
    device: str | None = None,
    trust_remote_code: bool = False,
    cache_dir: str | None = None,
    use_cache: bool = True,
) -> Encoder:
    """An :class:`~transferscope.extraction.Encoder` for ``spec`` (see module docs).

    ``cache_dir`` is where trained zoo weights and the content hashes of model
    weights are kept (default: ``$TRANSFERSCOPE_CACHE_DIR`` or the user cache); with
    ``use_cache=False`` a compressed encoder does not cache the features it compresses.
    """
    if not isinstance(spec, str):
        return spec
    text = spec.strip()
    if not text:
        raise InputError("model must not be empty")
    from transferscope.extraction.compressed_encoder import COMPRESSION_SEPARATOR, CompressedEncoder

    base, sep, compression = text.rpartition(COMPRESSION_SEPARATOR)
    if sep and base.strip() and compression and not Path(text).exists():
        inner = build_encoder(base.strip(), seed=seed, max_length=max_length, batch_size=batch_size, device=device,
                              trust_remote_code=trust_remote_code, cache_dir=cache_dir, use_cache=use_cache)
        return CompressedEncoder(inner, compression, cache_dir=cache_dir, use_cache=use_cache)
    if text in ("tfidf", "tfidf-svd"):
        from transferscope.extraction.baselines import TfidfSvdEncoder

        return TfidfSvdEncoder(seed=seed)
    if text in ("hashing", "hashing-svd"):
        from transferscope.extraction.baselines import HashingSvdEncoder

        return HashingSvdEncoder(seed=seed)
    if text in ("pixels", "pca", "hog", "scattering"):
        from transferscope.extraction.vision_baselines import VISION_BASELINES

        cls = VISION_BASELINES[text]
        return cls(seed=seed) if text == "pca" else cls()
    if text.startswith("zoo:"):
        from transferscope.extraction.zoo import zoo_encoder, zoo_spec

        return zoo_encoder(zoo_spec(text.removeprefix("zoo:")), cache_dir=cache_dir, batch_size=batch_size,
                           device=device)
    if text.startswith("finetuned:"):
        from transferscope.extraction.finetuned import finetuned_zoo_encoder, is_zoo_base, parse_finetuned_spec

        if is_zoo_base(parse_finetuned_spec(text)[1]):  # a text base is read below, as a transformers model
            return finetuned_zoo_encoder(text, cache_dir=cache_dir, batch_size=batch_size, device=device)
    if text.startswith("timm:"):
        from transferscope.extraction.timm_models import TimmEncoder, parse_timm_spec

        name, pretrained = parse_timm_spec(text)
        return TimmEncoder(name, pretrained=pretrained, seed=seed, batch_size=batch_size, device=device, display=text)
    if text.startswith("open_clip:"):
        from transferscope.extraction.open_clip_models import OpenClipEncoder, parse_open_clip_spec

        arch, tag = parse_open_clip_spec(text)
        return OpenClipEncoder(arch, tag, seed=seed, batch_size=batch_size, device=device, display=text)
    if text.startswith("torchvision:"):
        from transferscope.extraction.torchvision_models import TorchvisionEncoder, parse_torchvision_spec

        builder, weights = parse_torchvision_spec(text)
        return TorchvisionEncoder(builder, weights=weights, seed=seed, batch_size=batch_size, device=device,
                                  name=text)
    from transferscope.extraction.model_zoo import is_zoo_name, zoo_encoder

    random_zoo = text.startswith("random:") and is_zoo_name(text.removeprefix("random:"))
    if is_zoo_name(text) or random_zoo:
        return zoo_encoder(text.removeprefix("random:"), random_init=random_zoo, seed=seed, max_length=max_length,
                           batch_size=batch_size, device=device, cache_dir=cache_dir)
    from transferscope.extraction.hf import HFEncoder, SentenceTransformerEncoder, resolve_model_dir

    common: dict[str, Any] = {"max_length": max_length, "batch_size": batch_size, "device": device,
                              "trust_remote_code": trust_remote_code, "cache_dir": cache_dir}
    if text.startswith("finetuned:"):
        from transferscope.extraction.finetuned import finetuned_model_dir

        return HFEncoder(str(finetuned_model_dir(text, cache_dir=cache_dir)), name=text, **common)
    prefix, sep, rest = text.partition(":")
    if sep and prefix in ("hf", "st", "random") and rest:
        if prefix == "random":  # the twin of a sentence-transformers model keeps its pipeline (and its output)
            st = (Path(resolve_model_dir(rest)) / "modules.json").is_file()
            return (SentenceTransformerEncoder if st else HFEncoder)(rest, random_init=True, seed=seed, name=text,
                                                                     **common)
        cls = HFEncoder if prefix == "hf" else SentenceTransformerEncoder
        return cls(rest, name=text, **common)
    directory = resolve_model_dir(text)
    cls = SentenceTransformerEncoder if (Path(directory) / "modules.json").is_file() else HFEncoder
    return cls(text, name=text, **common)


def parameter_count(spec: str) -> float | None:
    """Parameters of the weights behind ``spec``, counted without building the model: 0 for the
    extractors of :data:`NO_WEIGHTS`; a digit-zoo CNN (``zoo:NAME``) from its architecture; a model of
    the offline zoo (:mod:`~transferscope.extraction.model_zoo`) or its ``random:`` twin from the
    zoo's entry; a local folder (``st:`` / ``hf:`` prefixes allowed) from the shapes of the
    floating-point tensors in its ``.safetensors`` headers (integer buffers such as position ids
    are not parameters). None when unknown (a hub id, a folder without safetensors).

    Examples
    --------
    >>> parameter_count("tfidf"), parameter_count("random:minilm") == parameter_count("minilm")
    (0.0, True)
    """
    text = spec.strip()
    if text in NO_WEIGHTS:
        return 0.0
    if text.startswith("zoo:"):
        from transferscope.extraction.zoo import zoo_parameter_count, zoo_spec

        return float(zoo_parameter_count(zoo_spec(text.removeprefix("zoo:"))))
    from transferscope.extraction.model_zoo import MODEL_ZOO

    entry = MODEL_ZOO.get(text.removeprefix("random:"))
    if entry is not None:
        return float(entry.parameters)
    prefix, sep, rest = text.partition(":")
    folder = Path(rest if sep and prefix in ("hf", "st", "random") else text).expanduser()
    files = sorted(folder.rglob("*.safetensors")) if folder.is_dir() else []
    if not files:
        return None
    from safetensors import safe_open

    total = 0
    for file in files:
        with safe_open(str(file), framework="numpy") as weights:
            for name in weights.keys():
                tensor = weights.get_slice(name)
                if tensor.get_dtype().startswith(("F", "BF")):  # integer tensors are buffers (position ids)
                    total += int(np.prod(tensor.get_shape()))
    return float(total)


def natural_layer(encoder: Encoder) -> str:
    """The layer a user would take from ``encoder`` without asking: the model's own output
    (a sentence-transformers or static model's ``output``, DINOv2's class token), else an image
    classifier's ``penultimate``, else the last layer.

    Examples
    --------
    >>> from transferscope.extraction.baselines import TfidfSvdEncoder
    >>> natural_layer(TfidfSvdEncoder())
    'tfidf-svd'
    """
    available = encoder.all_layers()
    for name in ("output", "penultimate"):
        if name in available:
            return name
    return encoder.layer_names()[-1]


def select_layers(encoder: Encoder, layers: str | Sequence[str | int]) -> list[str]:
    """Resolve ``"all"``, ``"last"``, ``"natural"`` (:func:`natural_layer`), ``"mean"`` (the pseudo-layer
    :data:`~transferscope.extraction.encoder.LAYERS_MEAN`), names or integer indices into ``encoder``'s
    layer names."""
    available = encoder.all_layers()
    if isinstance(layers, int) and not isinstance(layers, bool):
        layers = [layers]
    if not isinstance(layers, (str, Sequence, np.ndarray)):
        raise InputError(f"layers must be 'all', 'last', a layer name or index, or a list of them, got {layers!r}")
    if isinstance(layers, str):
        if layers == "all":
            return [layer for layer in available if layer not in (HEAD_LAYER, LAYERS_MEAN)]
        if layers == "last":
            return [encoder.layer_names()[-1]]
        if layers == "natural":
            return [natural_layer(encoder)]
        if layers == "mean":
            if LAYERS_MEAN not in available:
                raise InputError(f"layers 'mean' (the mean of every block's output) needs a transformer; "
                                 f"{encoder.name} has: {', '.join(available)}")
            return [LAYERS_MEAN]
        layers = [part.strip() for part in layers.split(",") if part.strip()]
    chosen: list[str] = []
    names = encoder.layer_names()
    for item in layers:
        if isinstance(item, int) or (isinstance(item, str) and item.lstrip("-").isdigit()):
            i = int(item)
            if not -len(names) <= i < len(names):
                raise InputError(f"layer index {i} is out of range for {encoder.name} ({len(names)} layers)")
            chosen.append(names[i])
        elif item in available:
            chosen.append(str(item))
        else:
            raise InputError(f"unknown layer {item!r} for {encoder.name}; layers: {', '.join(available)}")
    if not chosen:
        raise InputError("layers must name at least one layer")
    return list(dict.fromkeys(chosen))


def check_poolings(poolings: str | Sequence[str]) -> list[str]:
    """``"mean,cls"`` or a sequence -> a checked list of token poolings."""
    if not isinstance(poolings, (str, Sequence)):
        raise InputError(f"pooling must be a name or a list of names among {', '.join(POOLINGS)}, got {poolings!r}")
    pools = [p.strip() if isinstance(p, str) else p for p in
             (poolings.split(",") if isinstance(poolings, str) else list(poolings))]
    if not pools:
        raise InputError("pooling must name at least one pooling")
    for pooling in pools:
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    return pools
