"""timm image models as encoders (``timm:NAME``), with weights from the local Hugging Face cache only.

:class:`TimmEncoder` builds ``timm.create_model(NAME, pretrained=False)`` and, unless the spec
ends in ``:none`` (a seeded random initialisation), loads the weights of its pretrained config
from the Hugging Face hub cache (``$HF_HUB_CACHE``, ``~/.cache/huggingface/hub``): the
``model.safetensors`` of the config's ``hf_hub_id`` (e.g. ``timm/resnet50.a1_in1k``), read with
safetensors (no pickle) and loaded with ``strict=True``. **Nothing is downloaded**: a missing
file is one message naming the repository and the cache. Images are preprocessed with timm's
own transform for the model (``resolve_data_config`` + ``create_transform``).

Layers: the model's ``feature_info`` stages (``layer1`` .. ``layer4`` of a ResNet,
``blocks.0`` .. ``blocks.11`` of a ViT; feature maps pooled over space, tokens over tokens),
``penultimate`` (the input of the classifier) and ``head`` (its softmax, for LEEP / NCE);
see :class:`~transferscope.extraction.image_classifier.ImageClassifierEncoder`. The identity in
the feature cache is the sha256 of the weights file (or the seed and a hash of the random weights).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.image_classifier import ImageClassifierEncoder, library_version
from transferscope.extraction.torch_hooks import weights_hash
from transferscope.extraction.torchvision_models import RANDOM_WEIGHTS, file_sha256
from transferscope.hashing import hash_fields
from transferscope.torch_support import require_torch

__all__ = ["TimmEncoder", "parse_timm_spec", "timm_weights_file"]


def parse_timm_spec(text: str) -> tuple[str, bool]:
    """``"timm:NAME[:none]"`` -> ``(name, pretrained)``.

    Examples
    --------
    >>> parse_timm_spec("timm:resnet50.a1_in1k")
    ('resnet50.a1_in1k', True)
    >>> parse_timm_spec("timm:vit_small_patch16_224:none")
    ('vit_small_patch16_224', False)
    """
    prefix, _, rest = text.strip().partition(":")
    name, _, weights = rest.partition(":")
    if prefix != "timm" or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name or ""):
        raise InputError(f"model {text!r} must look like timm:NAME[:none], e.g. timm:resnet50.a1_in1k")
    if weights and weights.lower() not in RANDOM_WEIGHTS:
        raise InputError(f"model {text!r}: the only weights option is ':none' (random weights); the pretrained "
                         "weights are named in NAME (e.g. timm:resnet50.a1_in1k)")
    return name, not weights


def _timm() -> Any:
    try:
        import timm
    except ImportError:
        raise MissingExtraError("timm", "vision") from None
    return timm


def timm_weights_file(model: Any) -> tuple[str, Path | None]:
    """``(hf_hub_id, path)`` of the pretrained weights of a timm ``model`` in the local Hugging
    Face cache; ``path`` is None when they are not there."""
    repo = (model.pretrained_cfg or {}).get("hf_hub_id")
    if not repo:
        raise InputError(f"timm model {model.pretrained_cfg.get('architecture')!r} has no Hugging Face weights "
                         "to read offline; use ':none' for random weights")
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, "model.safetensors")
    return repo, Path(found) if isinstance(found, str) else None


class TimmEncoder(ImageClassifierEncoder):
    """A timm model as an encoder of images (module notes).

    Parameters
    ----------
    name : str
        A timm model name, with its pretrained tag if any (``"resnet50.a1_in1k"``).
    pretrained : bool, default=True
        Read the pretrained weights from the local Hugging Face cache; False: seeded random weights.
    seed : int, default=0
    batch_size : int, default=32
    device : str, optional
    num_workers : int, default=4
    display : str, optional
        Display name; ``timm:<name>`` (``:none`` for random weights) when omitted.

    Raises
    ------
    InputError
        When the model is unknown or its weights are not in the local cache.
    MissingExtraError
        When timm (or pillow) cannot be imported.
    """

    adapter = "timm"

    def __init__(self, name: str, *, pretrained: bool = True, seed: int = 0, batch_size: int = 32,
                 device: str | None = None, num_workers: int = 4, display: str | None = None) -> None:
        torch = require_torch()
        timm = _timm()
        from timm.data import create_transform, resolve_data_config

        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                module = timm.create_model(name, pretrained=False)
        except RuntimeError as exc:  # timm's "Unknown model"
            raise InputError(f"timm has no model {name!r} ({' '.join(str(exc).split())[:160]}); "
                             "see timm.list_models()") from None
        self.seed, self.model_name, self.num_workers = int(seed), name, max(int(num_workers), 1)
        self.checkpoint: Path | None = None
        self._sha256: str | None = None
        if pretrained:
            repo, path = timm_weights_file(module)
            if path is None:
                raise InputError(
                    f"the weights of timm:{name} ({repo}, model.safetensors) are not in the local Hugging Face "
                    "cache (HF_HUB_CACHE, default ~/.cache/huggingface/hub). transferscope never downloads "
                    f"weights: run huggingface_hub.snapshot_download('{repo}') on a machine with network access "
                    f"and copy the cache here, or use timm:{name}:none for random weights")
            from safetensors.torch import load_file

            try:
                module.load_state_dict(load_file(str(path), device="cpu"), strict=True)
            except (RuntimeError, OSError) as exc:
                raise InputError(f"could not load {path} into timm:{name}: {str(exc).splitlines()[0]}") from None
            self.checkpoint, self._sha256 = path, file_sha256(path)
        self.transform = create_transform(**resolve_data_config({}, model=module))
        stages = [f["module"] for f in getattr(module, "feature_info", []) if f.get("module")]
        display = display or f"timm:{name}" + ("" if pretrained else ":none")
        self._wrap(module, name=display, batch_size=batch_size, device=device, stages=stages or None)

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {"adapter": self.adapter, "model": self.model_name, "classifier": self.classifier,
                                     "structure": hash_fields({"repr": repr(self.module)}),
                                     "libraries": {p: library_version(p) for p in ("timm", "torchvision", "pillow")}}
            if self._sha256 is not None:
                ident["weights_sha256"] = self._sha256
            else:
                ident.update({"seed": self.seed, "random_weights": weights_hash(self.module)})
            self._identity = ident
        return dict(self._identity)
