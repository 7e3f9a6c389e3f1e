"""torchvision classification models as encoders, with weights from the local torch.hub cache only.

:class:`TorchvisionEncoder` builds ``torchvision.models.get_model(builder, weights=...)``,
preprocesses images exactly as the weights prescribe (``weights.transforms()``: resize,
centre crop, ImageNet normalisation) and reads, through the forward hooks of
:class:`~transferscope.extraction.torch_hooks.TorchModuleEncoder`:

* ``penultimate``: the input of the final classifier (the pre-classifier features that
  LogME, SFDA and ETran score; 2,048 for ResNet-50, 1,024 for DenseNet-121, ...);
* the stages of the backbone (``layer1`` .. ``layer4``, ``features.denseblock3``, ...),
  feature maps pooled over space (``mean`` or ``max``);
* ``head`` (:data:`~transferscope.extraction.encoder.HEAD_LAYER`, pooling ``softmax``): the
  ImageNet classifier's softmax, the ``source_probs`` of LEEP and NCE.

The final classifier is the last ``torch.nn.Linear`` of the model (``fc`` of ResNet,
GoogLeNet and Inception-v3; ``classifier`` of DenseNet; ``classifier.1`` of MobileNetV2 and
MNASNet). An ``Identity`` called ``penultimate`` is inserted in front of it, so the hook
machinery reads its input like any other layer; the weights are unchanged.

**Nothing is downloaded.** The weights file must already be in torch.hub's checkpoint cache
(``torch.hub.get_dir()/checkpoints``, i.e. ``$TORCH_HOME/hub/checkpoints``), under the name
torchvision would download it to. While the model is built, the weights' ``get_state_dict``
(which would call ``torch.hub.load_state_dict_from_url``: a download when the file is
absent, and a full-pickle ``torch.load``) is replaced by a reader of that local file with
``torch.load(weights_only=True)``; the file's sha256 is checked against the hash prefix in
its name, as torch.hub does. The model identity in the feature cache is that sha256.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle  # only for its exception type: nothing is unpickled except by torch.load(weights_only=True)
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.image_classifier import (
    PENULTIMATE,
    ImageClassifierEncoder,
    library_version,
    weights_fields,
)
from transferscope.hashing import file_sha256, hash_fields
from transferscope.torch_support import require_torch

__all__ = [
    "TorchvisionEncoder",
    "PENULTIMATE",
    "RANDOM_WEIGHTS",
    "parse_torchvision_spec",
    "checkpoint_path",
]

#: Spellings of "no pretrained weights" (a seeded random initialisation) in a spec.
RANDOM_WEIGHTS = ("none", "random")

_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")  # torch.hub's HASH_REGEX
_PATCH_LOCK = threading.Lock()


def parse_torchvision_spec(text: str) -> tuple[str, str | None]:
    """``"torchvision:BUILDER[:WEIGHTS]"`` -> ``(builder, weights)``.

    ``WEIGHTS`` is a member of the builder's weights enum (``IMAGENET1K_V1``, ``DEFAULT``),
    its full name (``ResNet50_Weights.IMAGENET1K_V1``), or ``none`` / ``random`` for a
    seeded random initialisation (returned as ``None``). Omitted, it is ``DEFAULT``.

    Examples
    --------
    >>> parse_torchvision_spec("torchvision:resnet50:IMAGENET1K_V1")
    ('resnet50', 'IMAGENET1K_V1')
    >>> parse_torchvision_spec("torchvision:mobilenet_v2")
    ('mobilenet_v2', 'DEFAULT')
    >>> parse_torchvision_spec("torchvision:densenet121:none")
    ('densenet121', None)
    """
    prefix, _, rest = text.strip().partition(":")
    builder, _, weights = rest.partition(":")
    if prefix != "torchvision" or not re.fullmatch(r"[A-Za-z0-9_]+", builder or ""):
        raise InputError(f"model {text!r} must look like torchvision:BUILDER[:WEIGHTS], "
                         "e.g. torchvision:resnet50:IMAGENET1K_V1")
    weights = weights.strip() or "DEFAULT"
    if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?", weights):
        raise InputError(f"weights {weights!r} in model {text!r} must be a weights name such as "
                         "IMAGENET1K_V1, ResNet50_Weights.IMAGENET1K_V1, DEFAULT or none")
    return builder, None if weights.lower() in RANDOM_WEIGHTS else weights


def _models_module() -> Any:
    try:
        return importlib.import_module("torchvision.models")
    except ImportError:
        raise MissingExtraError("torchvision", "vision") from None


def checkpoint_path(weights: Any) -> Path:
    """Where torch.hub caches ``weights`` (``torch.hub.get_dir()/checkpoints/<file of its url>``).

    Examples
    --------
    >>> import types
    >>> checkpoint_path(types.SimpleNamespace(url="https://x.invalid/models/r50-0676ba61.pth")).name
    'r50-0676ba61.pth'
    """
    torch = require_torch()
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


@contextlib.contextmanager
def _local_state_dict(weights: Any, path: Path) -> Iterator[None]:
    """Within the block, ``weights.get_state_dict(...)`` reads ``path`` with ``weights_only=True``."""
    torch = require_torch()
    cls = type(weights)

    def get_state_dict(self: Any, *args: Any, **kwargs: Any) -> Any:
        return torch.load(str(path), map_location="cpu", weights_only=True)

    with _PATCH_LOCK:
        had_own = "get_state_dict" in cls.__dict__
        previous = cls.__dict__.get("get_state_dict")
        cls.get_state_dict = get_state_dict
        try:
            yield
        finally:
            if had_own:
                cls.get_state_dict = previous
            else:
                delattr(cls, "get_state_dict")


class TorchvisionEncoder(ImageClassifierEncoder):
    """A torchvision classifier as an encoder of images (see the module docs).

    Parameters
    ----------
    builder : str
        A torchvision model builder (``torchvision.models.list_models()``), e.g. ``"resnet50"``.
    weights : str or None, default="DEFAULT"
        A member of the builder's weights enum (``"IMAGENET1K_V1"``), its full name
        (``"ResNet50_Weights.IMAGENET1K_V1"``), or ``None`` for a random initialisation
        seeded by ``seed`` (preprocessed with the transforms of the builder's ``DEFAULT``
        weights). Pretrained weights must be in torch.hub's checkpoint cache already.
    seed : int, default=0
        Seeds the random initialisation (``weights=None`` only).
    batch_size : int, default=32
    device : str, optional
        ``cuda``, ``mps`` or ``cpu``; the fastest available when omitted.
    num_workers : int, default=4
        Threads that decode and preprocess the images of a batch (PIL releases the GIL).
    name : str, optional
        Display name; ``torchvision:<builder>:<weights>`` when omitted.

    Attributes
    ----------
    builder, weights_name : str
        The builder and the full weights name (``None`` for random weights).
    checkpoint : pathlib.Path or None
        The weights file read.
    transform : callable
        ``weights.transforms()``: PIL image -> normalised ``(3, H, W)`` float tensor.

    Raises
    ------
    InputError
        When the builder or the weights are unknown, or the weights file is not in the
        torch.hub cache (the message names the file and where it belongs), or is corrupt.
    MissingExtraError
        When torchvision or pillow cannot be imported.

    Examples
    --------
    >>> import importlib.util
    >>> from PIL import Image
    >>> if importlib.util.find_spec("torchvision") is None:  # the same shapes, without torchvision
    ...     print([(("head", "softmax"), (1, 1000)), (("penultimate", "none"), (1, 512))])
    ... else:
    ...     enc = TorchvisionEncoder("resnet18", weights=None)  # random weights: nothing to read
    ...     out = enc.encode([Image.new("RGB", (64, 48))], layers=["penultimate", "head"], poolings=["mean"])
    ...     print(sorted((k, v.shape) for k, v in out.items()))
    [(('head', 'softmax'), (1, 1000)), (('penultimate', 'none'), (1, 512))]
    """

    adapter = "torchvision"

    def __init__(
        self,
        builder: str,
        *,
        weights: str | None = "DEFAULT",
        seed: int = 0,
        batch_size: int = 32,
        device: str | None = None,
        num_workers: int = 4,
        name: str | None = None,
    ) -> None:
        torch = require_torch()
        models = _models_module()
        try:
            enum_cls = models.get_model_weights(builder)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            raise InputError(f"builder {builder!r} is not a torchvision classification model with weights "
                             f"({exc}); see torchvision.models.list_models()") from None
        chosen = "DEFAULT" if weights is None else weights
        try:
            weights_obj = enum_cls.verify(chosen)
        except (ValueError, KeyError, TypeError, AttributeError):
            known = ", ".join(getattr(enum_cls, "__members__", {}))
            raise InputError(f"weights {chosen!r} are not weights of {builder} (known: {known})") from None
        self.builder = builder
        self.seed = int(seed)
        self.num_workers = max(int(num_workers), 1)
        self.transform = weights_obj.transforms()
        if weights is None:
            self.weights_name: str | None = None
            self.checkpoint: Path | None = None
            self._sha256: str | None = None
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                module = models.get_model(builder, weights=None)
        else:
            self.weights_name = f"{type(weights_obj).__name__}.{weights_obj.name}"
            path = checkpoint_path(weights_obj)
            if not path.is_file():
                raise InputError(
                    f"weights {self.weights_name} are not in the torch.hub cache: {path} does not exist. "
                    "transferscope never downloads weights: copy the file there from a machine with network "
                    "access (where torchvision.models.get_weight(name).get_state_dict() fetches it), or point "
                    "TORCH_HOME at a cache that has it")
            sha = file_sha256(path)
            expected = _HASH_IN_NAME.search(path.name)
            if expected is not None and not sha.startswith(expected.group(1)):
                raise InputError(f"weights file {path} is corrupt or incomplete: its sha256 {sha[:12]}... "
                                 f"does not start with {expected.group(1)!r}, the hash in its name")
            self.checkpoint, self._sha256 = path, sha
            try:
                with _local_state_dict(weights_obj, path):
                    module = models.get_model(builder, weights=weights_obj)
            except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(f"could not load weights file {path} for {builder} with "
                                 f"torch.load(weights_only=True): {str(exc).splitlines()[0]}") from None
        label = "none" if weights is None else weights
        self._wrap(module, name=name or f"torchvision:{builder}:{label}", batch_size=batch_size, device=device)

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {
                "adapter": self.adapter,
                "builder": self.builder,
                "weights": self.weights_name,
                "classifier": self.classifier,
                "structure": hash_fields({"repr": repr(self.module)}),
                # Decoding and resizing change the numbers too (the cache key's versions omit these).
                "libraries": {name: library_version(name) for name in ("torchvision", "pillow")},
            }
            self._identity = {**ident, **weights_fields(self._sha256, seed=self.seed, module=self.module)}
        return dict(self._identity)
