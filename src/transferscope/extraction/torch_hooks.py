"""Generic adapter: any ``torch.nn.Module``, features from forward hooks.

Inputs are arrays (or anything ``torch.as_tensor`` takes) stacked along the
first axis; ``layers`` name submodules (``dict(module.named_modules())``).
Outputs are pooled by shape: (B, H) is kept, (B, T, H) is pooled over tokens,
(B, C, H, W) over space (``mean`` or ``max``), other shapes are flattened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from transferscope.errors import InputError
from transferscope.extraction.encoder import POOLINGS, ProgressCallback
from transferscope.hashing import hash_fields
from transferscope.torch_support import pick_device, require_torch

__all__ = ["TorchModuleEncoder", "weights_hash", "load_weights"]


def weights_hash(module: Any) -> str:
    """sha256 of a module's ``state_dict``: every tensor's name, dtype, shape and bytes.

    The identity of a module whose weights come from no file (random
    initialisation, weights set in memory): equal weights give equal digests.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    str
        The hex digest.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> weights_hash(net) == weights_hash(torch.nn.Linear(3, 2))
    False
    >>> twin = torch.nn.Linear(3, 2)
    >>> _ = twin.load_state_dict(net.state_dict())
    >>> weights_hash(net) == weights_hash(twin)
    True
    """
    import hashlib

    torch = require_torch()
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def load_weights(module: Any, state: dict[str, Any], *, what: str) -> None:
    """Load ``state`` into ``module`` exactly (``strict=True``): one InputError that names the missing
    and unexpected keys, or the tensor of the wrong shape, instead of a silently partial model.

    Examples
    --------
    >>> import torch
    >>> load_weights(torch.nn.Linear(2, 1), {"weight": torch.zeros(1, 2)}, what="w.bin")
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: w.bin do not match the architecture: missing keys ['bias']
    """
    expected = set(module.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        parts = [f"{label} {keys}" for label, keys in (("missing keys", missing), ("unexpected keys", unexpected))
                 if keys]
        raise InputError(f"{what} do not match the architecture: " + "; ".join(parts))
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # a tensor of the wrong shape
        raise InputError(f"{what} do not match the architecture: {exc}") from None


class TorchModuleEncoder:
    """Features of named submodules of any ``torch.nn.Module``.

    Parameters
    ----------
    module : torch.nn.Module
    layers : sequence of str
        Names of submodules to read, in model order.
    name : str
        Display name.
    batch_size : int, default=64
    device : str, optional

    Examples
    --------
    >>> import numpy as np, torch
    >>> from transferscope.extraction.torch_hooks import TorchModuleEncoder
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> enc = TorchModuleEncoder(net, layers=["0", "2"], name="mlp")
    >>> out = enc.encode(np.ones((5, 4), np.float32), layers=["0"], poolings=["mean"])
    >>> out[("0", "mean")].shape
    (5, 8)
    """

    adapter = "torch"

    def __init__(
        self,
        module: Any,
        *,
        layers: Sequence[str],
        name: str,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        torch = require_torch()
        if not isinstance(module, torch.nn.Module):
            raise InputError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        available = dict(module.named_modules())
        missing = [layer for layer in layers if layer not in available]
        if missing:
            raise InputError(f"unknown layer(s) {', '.join(missing)}; the module has: "
                             f"{', '.join(n for n in available if n)}")
        self.module = module
        self.layers = list(layers)
        self.name = name
        self.batch_size = batch_size
        self.device = device

    def identity(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "class": f"{type(self.module).__module__}.{type(self.module).__qualname__}",
            "weights": weights_hash(self.module),
            "structure": hash_fields({"repr": repr(self.module)}),
        }

    def layer_names(self) -> list[str]:
        return list(self.layers)

    def pooled_layers(self) -> list[str]:
        return list(self.layers)

    def all_layers(self) -> list[str]:
        return list(self.layers)

    def preprocessing(self) -> dict[str, Any]:
        return {"input": "as given"}

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        return [(layer, pooling) for layer in layers for pooling in poolings]

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        torch = require_torch()
        for pooling in poolings:
            if pooling not in POOLINGS:
                raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        device = pick_device(self.device)
        self.module.to(device).eval()
        submodules = dict(self.module.named_modules())
        captured: dict[str, Any] = {}
        handles = []
        for layer in layers:
            if layer not in submodules:
                raise InputError(f"unknown layer {layer!r}")

            def hook(_m: Any, _a: Any, output: Any, layer: str = layer) -> None:
                captured[layer] = output[0] if isinstance(output, (tuple, list)) else output

            handles.append(submodules[layer].register_forward_hook(hook))
        parts: dict[tuple[str, str], list[np.ndarray]] = {(l, p): [] for l in layers for p in poolings}
        try:
            with torch.inference_mode():
                for start in range(0, len(inputs), self.batch_size):
                    batch = torch.as_tensor(np.asarray(inputs[start : start + self.batch_size])).to(device)
                    self.module(batch)
                    for layer in layers:
                        out = captured[layer].float()
                        for pooling in poolings:
                            parts[(layer, pooling)].append(_pool_any(out, pooling).cpu().numpy())
                    if progress is not None:
                        progress(batch.shape[0])
        finally:
            for handle in handles:
                handle.remove()
        return {key: np.concatenate(value).astype(np.float32) for key, value in parts.items()}


def _pool_any(out: Any, pooling: str) -> Any:
    if out.ndim == 2:
        return out
    if out.ndim == 3:
        from transferscope.extraction.pooling import pool_tokens  # imports torch

        return pool_tokens(out, None, pooling)
    if out.ndim == 4:
        flat = out.flatten(2)  # (B, C, H*W)
        return flat.amax(dim=2) if pooling == "max" else flat.mean(dim=2)
    return out.flatten(1)
