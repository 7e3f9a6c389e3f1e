"""Adapters for Hugging Face transformers and sentence-transformers models.

Every hidden layer is read through ``output_hidden_states``: ``embeddings`` is
the embedding output and ``layer_i`` the output of block ``i``. A checkpoint
saved as a sequence classifier also has the pseudo-layer ``head``: the softmax
of its classification head, which estimators such as LEEP and NCE take as
``source_probs``. Token poolings
are attention-mask aware. A model is found as a local directory, or through the
Hugging Face hub cache; the cache identity is a hash of the files in the model
directory, so two revisions can never share an entry.

Describing a model needs neither torch nor transformers: the layer count and
the architectures are read from ``config.json`` (transformers' ``AutoConfig``
only where the file does not state them), and the weights' hash is remembered
by file path, size and times (:func:`~transferscope.hashing.hash_files`),
so a rerun served from the cache imports neither library.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.encoder import (
    HEAD_LAYER,
    HEAD_POOLING,
    LAYERS_MEAN,
    ProgressCallback,
    check_request,
)
from transferscope.hashing import hash_fields, hash_files
from transferscope.torch_support import pick_device, quiet_transformers, require_torch, seed_everything

__all__ = ["HFEncoder", "SentenceTransformerEncoder", "resolve_model_dir", "check_loaded_weights",
           "check_tokenizer_knows_words", "check_safetensors", "PICKLED_WEIGHTS", "ALLOW_DOWNLOAD_VAR", "HEAD_LAYER",
           "HEAD_POOLING"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_SKIP_FILES = {"README.md", ".gitattributes"}
#: Where configs state the number of blocks (transformers maps these names onto
#: ``num_hidden_layers`` through each config class's ``attribute_map``).
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers")


def check_loaded_weights(info: dict[str, Any], path: Any) -> None:
    """Refuse a checkpoint whose weights and config disagree (``from_pretrained``'s loading info).

    transformers fills every tensor the config declares but the weights lack with random values,
    with only a log line: a ``config.json`` claiming 7 layers over weights holding 2 would have
    layers 3-7 ranked as if pretrained, a claimed classification head would feed LEEP a random
    one. Missing tensors are refused, except the pooler's (a checkpoint saved without its pooler:
    no transferscope feature reads it). Unexpected tensors are refused when they are blocks of the
    encoder (weights of more layers than the config declares); other extras (a pretraining head
    such as ``cls.predictions``) are what a base model leaves unused.
    """
    missing = sorted(k for k in info.get("missing_keys", ()) if "pooler" not in k)
    extra = sorted(k for k in info.get("unexpected_keys", ()) if re.search(r"(^|\.)(layer|layers|h|block)\.\d+\.", k))
    for keys, what in ((missing, "lacks {n} tensor(s) its config declares, which would be random"),
                       (extra, "holds {n} tensor(s) of layers its config does not declare")):
        if keys:
            shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
            raise InputError(f"model '{path}': the checkpoint {what.format(n=len(keys))} ({shown}); its config.json "
                             "and its weights disagree")


#: Words every real text tokenizer splits into something other than its unknown token.
_PROBE_TEXT = "the of and to in is 1 2 3 . , a"


def check_tokenizer_knows_words(tokenizer: Any, path: Any) -> None:
    """Refuse a tokenizer that maps the most common words, digits and punctuation all to its unknown
    token: a model folder without its tokenizer files gets such an empty-vocabulary tokenizer, and
    every input would then be ``[UNK] [UNK] ...``, silently ranked as if it were the model."""
    unknown = getattr(tokenizer, "unk_token_id", None)
    if unknown is None:
        return
    ids = tokenizer(_PROBE_TEXT, add_special_tokens=False)["input_ids"]
    if ids and all(i == unknown for i in ids):
        raise InputError(f"model '{path}': its tokenizer turns every word into {tokenizer.unk_token} (the folder "
                         "lacks its tokenizer files: tokenizer.json, vocab.txt, ...); copy them from the model it "
                         "was trained from")


#: Weight files that are pickles (read with ``torch.load``): never loaded.
PICKLED_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")


def check_safetensors(path: Path) -> None:
    """Refuse a model folder whose weights are only pickles: transferscope never unpickles a file
    (not even through ``torch.load(weights_only=True)``); its weights must be ``.safetensors``."""
    if any(path.rglob("*.safetensors")):
        return
    pickles = sorted({p.name for pattern in PICKLED_WEIGHTS for p in path.glob(pattern)})
    if pickles:
        raise InputError(f"model '{path}' holds its weights only as pickles ({', '.join(pickles[:3])}), which "
                         "transferscope never loads; convert them to safetensors first, e.g. python -c \"import "
                         "transformers as t; t.AutoModel.from_pretrained('DIR').save_pretrained('DIR-safe')\" in an "
                         "environment you trust")


def _require_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise MissingExtraError("transformers", "text") from None
    return transformers


#: Set to 1 to let a hub id absent from the local cache be downloaded (never by default).
ALLOW_DOWNLOAD_VAR = "TRANSFERSCOPE_ALLOW_DOWNLOAD"


def resolve_model_dir(model: str, *, revision: str | None = None) -> Path:
    """Local directory of ``model``: a path, or a hub id found in the HF cache (fetched to it only
    when ``$TRANSFERSCOPE_ALLOW_DOWNLOAD`` is 1: a typo never reaches the network)."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise InputError(f"model path '{model}' is not a model directory (no config.json)")
        return path.resolve()
    if not _REPO_ID.match(model) or model.startswith((".", "/", "~")):
        raise InputError(f"model path '{model}' does not exist")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MissingExtraError("huggingface_hub", "text") from None
    try:
        return Path(snapshot_download(model, revision=revision, local_files_only=True))
    except Exception:  # noqa: BLE001 - not in the local cache; the hub only when the user asked for it
        pass
    if os.environ.get(ALLOW_DOWNLOAD_VAR, "") != "1":
        import difflib

        from transferscope.extraction.model_zoo import MODEL_ZOO
        from transferscope.extraction.specs import NO_WEIGHTS

        close = difflib.get_close_matches(model, [*MODEL_ZOO, *NO_WEIGHTS], n=1)
        hint = f"did you mean '{close[0]}'? Or: " if close else ""
        raise InputError(f"model '{model}' is not a local directory nor in the Hugging Face cache, and transferscope "
                         f"never contacts the network unless asked: {hint}set {ALLOW_DOWNLOAD_VAR}=1 to download it "
                         "from the hub")
    try:
        return Path(snapshot_download(model, revision=revision))
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing to the user
        raise InputError(
            f"model '{model}' is not a local directory and could not be loaded from the "
            f"Hugging Face hub ({type(exc).__name__}); pass a local model directory"
        ) from None


def _model_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and p.name not in _SKIP_FILES]


class HFEncoder:
    """Any Hugging Face ``AutoModel``: all hidden layers, token poolings.

    Parameters
    ----------
    model : str
        Local model directory or hub id.
    revision : str, optional
        Hub revision (branch, tag or commit).
    random_init : bool, default=False
        Use the same architecture with randomly initialised weights (a baseline).
    seed : int, default=0
        Seed of the random initialisation.
    max_length : int, default=128
        Tokens kept per input (truncation).
    batch_size : int, default=32
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; auto-detected when omitted.
    trust_remote_code : bool, default=False
        Run model code shipped with the checkpoint; off unless asked for.
    name : str, optional
        Display name; defaults to ``model`` (prefixed ``random-init:`` for the baseline).
    cache_dir : str, optional
        Cache folder where the weights' content hash is remembered (default:
        ``$TRANSFERSCOPE_CACHE_DIR`` or the user cache, as for the feature cache).

    Examples
    --------
    >>> from transferscope.extraction.hf import HFEncoder
    >>> enc = HFEncoder("/path/to/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> enc.layer_names()  # doctest: +SKIP
    ['embeddings', 'layer_1', 'layer_2', 'layer_3', 'layer_4', 'layer_5', 'layer_6']
    """

    adapter = "hf"
    modality = "text"

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        random_init: bool = False,
        seed: int = 0,
        max_length: int = 128,
        batch_size: int = 32,
        device: str | None = None,
        trust_remote_code: bool = False,
        name: str | None = None,
        cache_dir: str | None = None,
    ) -> None:
        if max_length < 1:
            raise InputError(f"max_length must be >= 1, got {max_length}")
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        self.source = str(model)
        self.path = resolve_model_dir(str(model), revision=revision)
        self.revision = revision
        self.random_init = random_init
        self.seed = seed
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.trust_remote_code = trust_remote_code
        self.name = name or (f"random-init:{self.source}" if random_init else self.source)
        self.cache_dir = cache_dir
        self._config_json: dict[str, Any] | None = None
        self._config: Any = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._identity: dict[str, Any] | None = None

    # -- description ---------------------------------------------------------

    def _load_config(self) -> Any:
        if self._config is None:
            transformers = _require_transformers()
            try:
                self._config = transformers.AutoConfig.from_pretrained(
                    self.path, trust_remote_code=self.trust_remote_code
                )
            except (OSError, ValueError) as exc:
                raise InputError(f"could not read the model config in '{self.path}': {exc}") from None
        return self._config

    def _read_config_json(self) -> dict[str, Any]:
        """``config.json`` as a dict (read once; no transformers needed)."""
        if self._config_json is None:
            try:
                config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"could not read the model config in '{self.path}': {exc}") from None
            if not isinstance(config, dict):
                raise InputError(f"the model config in '{self.path}' is not a JSON object")
            self._config_json = config
        return self._config_json

    def _num_layers(self) -> int:
        config = self._read_config_json()
        for key in _LAYER_KEYS:
            value = config.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                if value < 1:
                    raise InputError(f"the model config in '{self.path}' says {key}: {value}; a model has at least "
                                     "one layer")
                return value
        # Not stated at the top of the file: the config class decides (its defaults, text_config).
        loaded = self._load_config()
        for attr in _LAYER_KEYS:
            value = getattr(loaded, attr, None)
            if isinstance(value, int):
                return value
        text = getattr(loaded, "text_config", None)
        if text is not None and isinstance(getattr(text, "num_hidden_layers", None), int):
            return int(text.num_hidden_layers)
        raise InputError(f"cannot tell the number of layers of the model in '{self.path}'")

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {"adapter": self.adapter, "random_init": self.random_init}
            if self.random_init:
                # The architecture is config.json (the transformers version is in every cache key).
                config = dict(self._read_config_json())
                config.pop("_name_or_path", None)
                ident["config_json"] = hash_fields(config)
                ident["seed"] = self.seed
                if self.trust_remote_code:  # the architecture may be code shipped beside the config
                    ident["code"] = hash_files(sorted(self.path.glob("*.py")), memo_dir=self._memo_dir())
            else:
                ident["weights"] = hash_files(_model_files(self.path), memo_dir=self._memo_dir())
            self._identity = ident
        return dict(self._identity)

    def _memo_dir(self) -> Path:
        from transferscope.extraction.cache import default_cache_dir

        return default_cache_dir(self.cache_dir)

    def layer_names(self) -> list[str]:
        return ["embeddings"] + [f"layer_{i}" for i in range(1, self._num_layers() + 1)]

    def has_classification_head(self) -> bool:
        """True when the checkpoint is a sequence classifier (its softmax gives ``source_probs``)."""
        if self.random_init:
            return False
        architectures = self._read_config_json().get("architectures") or []
        return any(str(a).endswith("ForSequenceClassification") for a in architectures)

    def pooled_layers(self) -> list[str]:
        return self.layer_names()

    def preprocessing(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "truncation": True, "tokenizer": "model"}

    # -- computation ---------------------------------------------------------

    def _load(self) -> None:
        if self._model is not None:
            return
        transformers = _require_transformers()
        torch = require_torch()
        device = pick_device(self.device)
        if not self.random_init:
            check_safetensors(self.path)
        try:
            with quiet_transformers():
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    self.path, trust_remote_code=self.trust_remote_code
                )
                if self.random_init:
                    seed_everything(self.seed)
                    model = transformers.AutoModel.from_config(
                        self._load_config(), trust_remote_code=self.trust_remote_code
                    )
                elif self.has_classification_head():
                    model, info = transformers.AutoModelForSequenceClassification.from_pretrained(
                        self.path, trust_remote_code=self.trust_remote_code, output_loading_info=True,
                        use_safetensors=True
                    )
                    check_loaded_weights(info, self.path)
                else:
                    model, info = transformers.AutoModel.from_pretrained(
                        self.path, trust_remote_code=self.trust_remote_code, output_loading_info=True,
                        use_safetensors=True
                    )
                    check_loaded_weights(info, self.path)
        except (OSError, ValueError) as exc:
            raise InputError(f"could not load the model in '{self.path}': {exc}") from None
        check_tokenizer_knows_words(tokenizer, self.path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        if getattr(model.config, "is_encoder_decoder", False):
            model = model.get_encoder()
        model.to(device=device, dtype=torch.float32).eval()
        self._tokenizer, self._model, self._device = tokenizer, model, device

    def _hidden_states(self, batch: list[str]) -> tuple[Sequence[Any], Any, dict[str, Any]]:
        """Run one batch; return hidden states, attention mask and the raw outputs."""
        enc = self._tokenizer(
            batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self._device)
        out = self._model(**enc, output_hidden_states=True)
        extra = {}
        logits = getattr(out, "logits", None)
        if logits is not None:
            extra[HEAD_LAYER] = logits.float().softmax(dim=-1)
        return out.hidden_states, enc["attention_mask"], extra

    def encode(
        self,
        inputs: Sequence[Any],
        *,
        layers: Sequence[str],
        poolings: Sequence[str],
        progress: ProgressCallback | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        """Features of ``inputs`` (strings) for each requested ``(layer, pooling)``."""
        torch = require_torch()
        from transferscope.extraction.pooling import pool_tokens

        texts = [str(x) for x in inputs]
        names = self.layer_names()
        check_request(self, layers, poolings)
        self._load()
        keys = self.output_keys(layers, poolings)
        out = {key: np.empty((len(texts), 0), dtype=np.float32) for key in keys}
        parts: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in keys}
        # Batch inputs of similar length together, then restore the order.
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = [texts[i] for i in idx]
                hidden, mask, extra = self._hidden_states(batch)
                for layer, pooling in keys:
                    if layer in names:
                        pooled = pool_tokens(hidden[names.index(layer)], mask, pooling)
                    elif layer == LAYERS_MEAN:
                        pooled = torch.stack([pool_tokens(h, mask, pooling) for h in hidden[1:]]).mean(dim=0)
                    else:
                        pooled = extra[layer]
                    parts[(layer, pooling)].append(pooled.float().cpu().numpy())
                if progress is not None:
                    progress(len(batch))
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        for key in keys:
            if parts[key]:
                out[key] = np.concatenate(parts[key])[inverse]
        return out

    def all_layers(self) -> list[str]:
        """Every layer name that :meth:`encode` accepts (``layers-mean``; ``head`` for classifiers)."""
        return self.layer_names() + [LAYERS_MEAN] + ([HEAD_LAYER] if self.has_classification_head() else [])

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys = [(layer, pooling) for layer in layers if layer != HEAD_LAYER for pooling in poolings]
        if HEAD_LAYER in layers:
            keys.append((HEAD_LAYER, HEAD_POOLING))
        return keys


class SentenceTransformerEncoder(HFEncoder):
    """A sentence-transformers model: all hidden layers of its transformer plus
    ``output``, the model's own sentence embedding (its pooling and normalisation),
    recorded with pooling ``native``.

    With ``random_init`` it is the same pipeline over seeded random weights (the ``random:`` twin
    of a sentence-transformers model): the transformer is built from its config after
    ``seed_everything(seed)``, as :class:`HFEncoder` builds it (the same weights, so the same
    per-layer features), and any module of the pipeline with parameters (a Dense head) is reset;
    the twin has the pretrained model's layers, ``output`` included."""

    adapter = "sentence-transformers"

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        if self.random_init and "pipeline" not in ident:  # the pooling and normalisation are the pipeline's
            pipeline = [p for p in [self.path / "modules.json", *sorted(self.path.glob("*/config.json")),
                                    self.path / "sentence_bert_config.json"] if p.is_file()]
            ident["pipeline"] = hash_files(pipeline, memo_dir=self._memo_dir())
            self._identity = ident
        return dict(ident)

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingExtraError("sentence_transformers", "text") from None
        require_torch()
        device = pick_device(self.device)
        check_safetensors(Path(self.path))
        try:
            with quiet_transformers():
                model = SentenceTransformer(
                    str(self.path), device=device, trust_remote_code=self.trust_remote_code,
                    model_kwargs={"use_safetensors": True}
                )
        except (OSError, ValueError) as exc:
            raise InputError(f"could not load the sentence-transformers model in '{self.path}': {exc}") from None
        model.max_seq_length = self.max_length
        if self.random_init:
            self._randomise(model)
        model.eval()
        # The Transformer module then adds every hidden state as "all_layer_embeddings".
        model[0].auto_model.config.output_hidden_states = True
        self._model, self._device = model, device

    def _randomise(self, model: Any) -> None:
        """Seeded random weights in place of the pretrained ones (class notes)."""
        transformers = _require_transformers()
        seed_everything(self.seed)
        with quiet_transformers():
            random = transformers.AutoModel.from_config(self._load_config(),
                                                        trust_remote_code=self.trust_remote_code).to(model.device)
        # sentence-transformers >= 5 holds the network as `model` (`auto_model` is a read-only alias of it)
        alias = isinstance(getattr(type(model[0]), "auto_model", None), property)
        setattr(model[0], "model" if alias else "auto_model", random)
        if model[0].auto_model is not random:
            raise InputError(f"could not give the sentence-transformers model in '{self.path}' random weights: its "
                             "transformer module holds the network under another name")
        for module in list(model)[1:]:
            for part in module.modules():
                if hasattr(part, "reset_parameters"):
                    part.reset_parameters()

    def has_classification_head(self) -> bool:
        return False

    def all_layers(self) -> list[str]:
        return self.layer_names() + [LAYERS_MEAN, "output"]

    def output_keys(self, layers: Sequence[str], poolings: Sequence[str]) -> list[tuple[str, str]]:
        keys = [(layer, pooling) for layer in layers if layer != "output" for pooling in poolings]
        if "output" in layers:
            keys.append(("output", "native"))
        return keys

    def _hidden_states(self, batch: list[str]) -> tuple[Sequence[Any], Any, dict[str, Any]]:
        model = self._model
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = prepare(batch)
        features = {k: (v.to(self._device) if hasattr(v, "to") else v) for k, v in features.items()}
        out = model(features)
        if "all_layer_embeddings" not in out:
            raise InputError(f"the sentence-transformers model in '{self.path}' does not expose hidden states")
        return out["all_layer_embeddings"], features["attention_mask"], {"output": out["sentence_embedding"]}
