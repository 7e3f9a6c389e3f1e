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
from transferscope.extraction.image_classifier import (
    ImageClassifierEncoder,
    library_version,
    load_hub_safetensors,
    weights_fields,
)
from transferscope.extraction.torchvision_models import RANDOM_WEIGHTS
from transferscope.hashing import hash_fields
from transferscope.torch_support import require_torch

__all__ = ["TimmEncoder", "parse_timm_spec"]


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
            repo = str((module.pretrained_cfg or {}).get("hf_hub_id") or "")
            self.checkpoint, self._sha256 = load_hub_safetensors(module, repo, "model.safetensors", spec=f"timm:{name}",
                                                                 random_spec=f"timm:{name}:none")
        self.transform = create_transform(**resolve_data_config({}, model=module))
        stages = [f["module"] for f in getattr(module, "feature_info", []) if f.get("module")]
        display = display or f"timm:{name}" + ("" if pretrained else ":none")
        self._wrap(module, name=display, batch_size=batch_size, device=device, stages=stages or None)

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {"adapter": self.adapter, "model": self.model_name, "classifier": self.classifier,
                                     "structure": hash_fields({"repr": repr(self.module)}),
                                     "libraries": {p: library_version(p) for p in ("timm", "torchvision", "pillow")}}
            self._identity = {**ident, **weights_fields(self._sha256, seed=self.seed, module=self.module)}
        return dict(self._identity)
