"""Fixed image representations that need no training and no torch: the vision baselines.

* :class:`RawPixelsEncoder`: the pixels, flattened (layer ``pixels``).
* :class:`PCAEncoder`: PCA of the flattened pixels, fitted (unsupervised, seeded) on the
  inputs it encodes (layer ``pca``).
* :class:`HOGEncoder`: histograms of oriented gradients, ``skimage.feature.hog`` (layer ``hog``).
* :class:`ScatteringEncoder`: the 2-D wavelet scattering transform of Bruna & Mallat
  (kymatio's NumPy frontend, ``J = 2`` by default), flattened (layer ``scattering``).

Inputs are images as an array ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with
C in {1, 3} (or a sequence of such images). HOG and scattering see grayscale images (the
mean over channels). Every encoder returns one layer with pooling ``none``, and its
``identity()`` holds its parameters and the version of the library that computes it, so
the feature cache never confuses two settings.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import ProgressCallback

__all__ = ["RawPixelsEncoder", "PCAEncoder", "HOGEncoder", "ScatteringEncoder", "VISION_BASELINES"]


def _as_array(inputs: Sequence[Any] | np.ndarray) -> np.ndarray:
    arr = inputs if isinstance(inputs, np.ndarray) else np.stack([np.asarray(x) for x in inputs])
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim not in (3, 4):
        raise InputError(f"inputs must be images of shape (N, H, W), (N, C, H, W) or (N, H, W, C), "
                         f"got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError("inputs is empty")
    if not np.isfinite(arr).all():
        raise InputError("inputs contain NaN or inf")
    return arr


def _as_gray(inputs: Sequence[Any] | np.ndarray) -> np.ndarray:
    """``(N, H, W)`` float32: channels (first or last axis, 1 or 3 of them) averaged."""
    arr = _as_array(inputs)
    if arr.ndim == 3:
        return arr
    if arr.shape[1] in (1, 3):
        return arr.mean(axis=1)
    if arr.shape[3] in (1, 3):
        return arr.mean(axis=3)
    raise InputError(f"cannot find a channel axis (size 1 or 3) in images of shape {arr.shape}")


class _SingleLayer:
    """Shared plumbing: one layer, pooling ``none``."""

    layer = ""
    adapter = ""
    modality = "image"
    chunkable = True

    def layer_names(self) -> list[str]:
        return [self.layer]

    def pooled_layers(self) -> list[str]:
        return []

    def all_layers(self) -> list[str]:
        return self.layer_names()

    def preprocessing(self) -> dict[str, Any]:
        return {"input": "images as given, float32"}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        unknown = [layer for layer in layers if layer != self.layer]
        if unknown:
            raise InputError(f"unknown layer(s) {', '.join(unknown)}; {self.name} has only {self.layer!r}")
        return [(self.layer, "none")]

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        self.output_keys(layers, poolings)
        features = self._features(inputs)
        if progress is not None:
            progress(len(features))
        return {(self.layer, "none"): np.ascontiguousarray(features, dtype=np.float32)}

    def _features(self, inputs: Sequence[Any]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class RawPixelsEncoder(_SingleLayer):
    """The pixels themselves, flattened: the "no representation" reference point.

    Examples
    --------
    >>> import numpy as np
    >>> enc = RawPixelsEncoder()
    >>> enc.encode(np.zeros((2, 1, 16, 16)), layers=["pixels"], poolings=["none"])[("pixels", "none")].shape
    (2, 256)
    """

    layer = "pixels"
    adapter = "raw-pixels"

    def __init__(self) -> None:
        self.name = "pixels"

    def identity(self) -> dict[str, Any]:
        return {"adapter": self.adapter, "numpy": np.__version__}

    def _features(self, inputs: Sequence[Any]) -> np.ndarray:
        arr = _as_array(inputs)
        return arr.reshape(arr.shape[0], -1)


class PCAEncoder(_SingleLayer):
    """PCA of the flattened pixels, fitted on the inputs it encodes (no labels seen).

    Parameters
    ----------
    n_components : int, default=32
        Output dimensions (capped at min(n_samples, n_pixels)).
    whiten : bool, default=False
        Scale components to unit variance.
    seed : int, default=0
        Seed of the randomised solver (used when scikit-learn picks it).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 1, 8, 8))
    >>> PCAEncoder(n_components=5).encode(x, layers=["pca"], poolings=["none"])[("pca", "none")].shape
    (20, 5)
    """

    layer = "pca"
    adapter = "pca"
    chunkable = False  # fitted on all inputs at once

    def __init__(self, *, n_components: int = 32, whiten: bool = False, seed: int = 0) -> None:
        if int(n_components) < 1:
            raise InputError(f"n_components must be >= 1, got {n_components}")
        self.n_components = int(n_components)
        self.whiten = bool(whiten)
        self.seed = int(seed)
        self.name = f"pca-{self.n_components}"

    def identity(self) -> dict[str, Any]:
        import sklearn

        return {"adapter": self.adapter, "n_components": self.n_components, "whiten": self.whiten,
                "seed": self.seed, "sklearn": sklearn.__version__, "numpy": np.__version__}

    def _features(self, inputs: Sequence[Any]) -> np.ndarray:
        from sklearn.decomposition import PCA

        arr = _as_array(inputs)
        flat = arr.reshape(arr.shape[0], -1).astype(np.float64)
        k = min(self.n_components, flat.shape[0], flat.shape[1])
        return PCA(n_components=k, whiten=self.whiten, random_state=self.seed).fit_transform(flat)


class HOGEncoder(_SingleLayer):
    """Histograms of oriented gradients (Dalal & Triggs, 2005) via ``skimage.feature.hog``.

    Parameters
    ----------
    orientations : int, default=9
    pixels_per_cell : tuple of int, default=(4, 4)
    cells_per_block : tuple of int, default=(2, 2)
    block_norm : str, default="L2-Hys"

    Examples
    --------
    >>> import numpy as np
    >>> import pytest; _ = pytest.importorskip("skimage")
    >>> x = np.random.default_rng(0).random((3, 1, 16, 16))
    >>> HOGEncoder().encode(x, layers=["hog"], poolings=["none"])[("hog", "none")].shape
    (3, 324)
    """

    layer = "hog"
    adapter = "hog"

    def __init__(self, *, orientations: int = 9, pixels_per_cell: tuple[int, int] = (4, 4),
                 cells_per_block: tuple[int, int] = (2, 2), block_norm: str = "L2-Hys") -> None:
        if int(orientations) < 1:
            raise InputError(f"orientations must be >= 1, got {orientations}")
        self.orientations = int(orientations)
        self.pixels_per_cell = tuple(int(v) for v in pixels_per_cell)
        self.cells_per_block = tuple(int(v) for v in cells_per_block)
        if block_norm not in ("L1", "L1-sqrt", "L2", "L2-Hys"):
            raise InputError(f"block_norm must be one of L1, L1-sqrt, L2, L2-Hys, got {block_norm!r}")
        self.block_norm = block_norm
        self.name = "hog"

    def identity(self) -> dict[str, Any]:
        return {"adapter": self.adapter, "orientations": self.orientations,
                "pixels_per_cell": list(self.pixels_per_cell), "cells_per_block": list(self.cells_per_block),
                "block_norm": self.block_norm, "scikit-image": _skimage_version()}

    def preprocessing(self) -> dict[str, Any]:
        return {"input": "grayscale (mean over channels), float32"}

    def _features(self, inputs: Sequence[Any]) -> np.ndarray:
        hog = _require_hog()
        gray = _as_gray(inputs)
        cells = (gray.shape[1] // self.pixels_per_cell[0], gray.shape[2] // self.pixels_per_cell[1])
        if cells[0] < self.cells_per_block[0] or cells[1] < self.cells_per_block[1]:
            raise InputError(f"images of {gray.shape[1]}x{gray.shape[2]} pixels are too small for HOG with "
                             f"pixels_per_cell={self.pixels_per_cell}, cells_per_block={self.cells_per_block}")
        return np.stack([
            hog(img, orientations=self.orientations, pixels_per_cell=self.pixels_per_cell,
                cells_per_block=self.cells_per_block, block_norm=self.block_norm, feature_vector=True)
            for img in gray
        ])


class ScatteringEncoder(_SingleLayer):
    """2-D wavelet scattering coefficients (kymatio, NumPy frontend), flattened.

    For a 16 x 16 input with ``J=2, L=8, max_order=2`` there are 81 channels on a 4 x 4
    grid: 1,296 features.

    Parameters
    ----------
    J : int, default=2
        Number of scales (the output grid is subsampled by ``2**J``).
    L : int, default=8
        Number of orientations.
    max_order : {1, 2}, default=2

    Examples
    --------
    >>> import numpy as np
    >>> import pytest; _ = pytest.importorskip("kymatio")
    >>> x = np.random.default_rng(0).random((2, 1, 16, 16))
    >>> ScatteringEncoder().encode(x, layers=["scattering"], poolings=["none"])[("scattering", "none")].shape
    (2, 1296)
    """

    layer = "scattering"
    adapter = "scattering2d"

    def __init__(self, *, J: int = 2, L: int = 8, max_order: int = 2) -> None:
        if int(J) < 1:
            raise InputError(f"J must be >= 1, got {J}")
        if int(L) < 1:
            raise InputError(f"L must be >= 1, got {L}")
        if max_order not in (1, 2):
            raise InputError(f"max_order must be 1 or 2, got {max_order}")
        self.J = int(J)
        self.L = int(L)
        self.max_order = int(max_order)
        self.name = f"scattering-J{self.J}"

    def identity(self) -> dict[str, Any]:
        return {"adapter": self.adapter, "J": self.J, "L": self.L, "max_order": self.max_order,
                "frontend": "numpy", "kymatio": _kymatio_version()}

    def preprocessing(self) -> dict[str, Any]:
        return {"input": "grayscale (mean over channels), float32"}

    def _features(self, inputs: Sequence[Any]) -> np.ndarray:
        gray = _as_gray(inputs)
        side = 2**self.J
        if gray.shape[1] < side or gray.shape[2] < side:
            raise InputError(f"images of {gray.shape[1]}x{gray.shape[2]} pixels are too small for J={self.J}")
        transform = _scattering(self.J, self.L, self.max_order, gray.shape[1], gray.shape[2])
        out = np.asarray(transform(np.ascontiguousarray(gray, dtype=np.float32)))
        return out.reshape(out.shape[0], -1)


#: Name -> factory of each baseline with its default parameters.
VISION_BASELINES = {
    "pixels": RawPixelsEncoder,
    "pca": PCAEncoder,
    "hog": HOGEncoder,
    "scattering": ScatteringEncoder,
}


def _require_hog() -> Any:
    try:
        from skimage.feature import hog
    except ImportError:
        raise MissingExtraError("scikit-image", "vision-zoo") from None
    return hog


def _skimage_version() -> str:
    try:
        import skimage
    except ImportError:
        raise MissingExtraError("scikit-image", "vision-zoo") from None
    return str(skimage.__version__)


def _kymatio_version() -> str:
    try:
        import kymatio
    except ImportError:
        raise MissingExtraError("kymatio", "vision-zoo") from None
    return str(kymatio.__version__)


def _scattering_class() -> Any:
    try:
        from kymatio.numpy import Scattering2D
    except ImportError as first:
        # kymatio 0.3.0's ``kymatio.numpy`` also imports its 3-D frontend, which needs
        # ``scipy.special.sph_harm`` (removed in SciPy 1.17); the 2-D frontend does not.
        try:
            from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D as Scattering2D
        except ImportError:
            raise MissingExtraError("kymatio", "vision-zoo") from first
    return Scattering2D


@functools.lru_cache(maxsize=8)
def _scattering(J: int, L: int, max_order: int, height: int, width: int) -> Any:
    return _scattering_class()(J=J, shape=(height, width), L=L, max_order=max_order)
