"""Images into a pretrained image model's pixels: one preprocessing for the zoo's image models.

Accepted inputs, each one image: a path or PIL image, an ``H x W`` / ``H x W x 3`` uint8 array (0..255),
or a float array ``C x H x W`` (C = 1 or 3) / ``H x W`` with values in [0, 1], which is how the
built-in digit targets hold their images (:mod:`transferscope.datasets.digits`). Grey images are
repeated over the three channels.

Every image is then resized (shorter side to ``resize``, bilinear with antialiasing), centre-cropped
to ``size`` x ``size`` and normalised by the model's channel mean and standard deviation: the
standard ImageNet evaluation transform (resize 256, crop 224).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.torch_support import require_torch

__all__ = ["ImagePreprocessing", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _as_unit_array(item: Any) -> np.ndarray:
    """One image as float32 ``(3, H, W)`` in [0, 1]."""
    if isinstance(item, (str, os.PathLike)) or type(item).__module__.startswith("PIL."):
        try:
            from PIL import Image
        except ImportError:
            raise InputError("reading image files needs Pillow: pip install pillow") from None
        try:
            if isinstance(item, (str, os.PathLike)):
                with Image.open(item) as img:
                    item = np.asarray(img.convert("RGB"))
            else:
                item = np.asarray(item.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise InputError(f"could not read image '{item}': {exc}") from None
    if not isinstance(item, np.ndarray):
        raise InputError(f"inputs must be images (paths, PIL images or arrays), got {type(item).__name__}")
    if item.dtype == np.uint8:
        if item.ndim == 2:
            item = item[:, :, None]
        if item.ndim != 3 or item.shape[2] not in (1, 3, 4):
            raise InputError(f"uint8 image arrays must be HxW or HxWx3, got shape {item.shape}")
        chw = item[:, :, :3].transpose(2, 0, 1).astype(np.float32) / 255.0
    elif np.issubdtype(item.dtype, np.floating):
        chw = item[None] if item.ndim == 2 else item
        if chw.ndim != 3 or chw.shape[0] not in (1, 3):
            raise InputError(f"float image arrays must be CxHxW (C = 1 or 3) or HxW in [0, 1], got shape {item.shape}")
        if not np.isfinite(chw).all() or chw.min() < 0 or chw.max() > 1:
            raise InputError("float image arrays must hold finite values in [0, 1]")
        chw = chw.astype(np.float32)
    else:
        raise InputError(f"image arrays must be uint8 (0..255) or float in [0, 1], got {item.dtype}")
    return np.repeat(chw, 3, axis=0) if chw.shape[0] == 1 else chw


class ImagePreprocessing:
    """Resize the shorter side to ``resize``, centre-crop ``size``, normalise (module notes).

    Examples
    --------
    >>> import numpy as np
    >>> prep = ImagePreprocessing(size=8, resize=8)
    >>> prep([np.ones((1, 16, 16), np.float32), np.zeros((4, 4, 3), np.uint8)]).shape
    (2, 3, 8, 8)
    """

    def __init__(self, *, size: int = 224, resize: int = 256, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        self.size, self.resize = int(size), int(resize)
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)

    def describe(self) -> dict[str, Any]:
        return {"resize_shorter_side": self.resize, "center_crop": self.size, "interpolation": "bilinear, antialias",
                "mean": list(self.mean), "std": list(self.std), "grey": "repeated over 3 channels",
                "inputs": "paths, PIL images, uint8 HxW(x3), float CxHxW in [0, 1]"}

    def __call__(self, items: Sequence[Any]) -> np.ndarray:
        """``items`` as float32 ``(N, 3, size, size)``."""
        torch = require_torch()
        out = np.empty((len(items), 3, self.size, self.size), dtype=np.float32)
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        for i, item in enumerate(items):
            image = torch.from_numpy(_as_unit_array(item))[None]
            h, w = image.shape[-2:]
            scale = self.resize / min(h, w)
            new = (max(self.size, round(h * scale)), max(self.size, round(w * scale)))
            image = torch.nn.functional.interpolate(image, size=new, mode="bilinear", align_corners=False,
                                                    antialias=True)[0]
            top, left = (new[0] - self.size) // 2, (new[1] - self.size) // 2
            image = image[:, top : top + self.size, left : left + self.size]
            out[i] = ((image - mean) / std).numpy()
        return out
