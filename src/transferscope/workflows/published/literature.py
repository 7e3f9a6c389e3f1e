"""The literature's ImageNet model-selection benchmark: 11 torchvision models x 11 targets.

LogME (You et al., ICML 2021; JMLR 2022), SFDA (Shao et al., ECCV 2022) and ETran
(Gholami et al., ICCV 2023) rank ImageNet-supervised torchvision models by how well they
fine-tune on small classification targets, and score a transferability estimator by the
weighted Kendall tau (``scipy.stats.weightedtau``) between its scores and the fine-tuning
accuracies. This module gives those *published* numbers, copied from the authors' own
repositories (nothing here is re-measured or recalled), so that an estimator run through
transferscope can be compared with the literature without fine-tuning 121 models.

The numbers are package data: CSV files in ``transferscope/workflows/published/``
(:data:`PUBLISHED_FILES`, read with :func:`read_published`), one row per published cell,
each row with the ``source`` (``<repository>@<commit>:<path>``) it was copied from and a
``#`` header comment naming the paper, the file and its caveats. The tables below are built
from them on first use, never at import.

What the sources hold (see :data:`PROVENANCE` for repository, commit and path):

* :data:`PUBLISHED_FINETUNE_ACCURACY`: the SFDA / ETran ground truth, 11 models x 11
  targets, complete. Its targets are Aircraft, Caltech101, Stanford Cars, CIFAR-10,
  CIFAR-100, DTD, Flowers-102, Food-101, Oxford-IIIT Pets, SUN397 and **VOC2007**
  (multi-label, mAP). **Birdsnap is not part of it**, and no file in the reference
  repositories gives per-model fine-tuning accuracies on Birdsnap (the LogME paper's
  Birdsnap results exist only as a scatter plot image); see :data:`MISSING`.
* :data:`TLLIB_MODEL_SELECTION_BENCHMARK`: thuml's Transfer-Learning-Library re-run of
  the LogME protocol, 10 models (no ResNet-34) x 8 targets, with fine-tuned accuracies,
  per-model LogME / H-score / LEEP / NCE scores and the published Pearson and weighted tau.
  These are the only published per-model LogME scores found next to a published weighted
  tau; they let a test check that :func:`transferscope.rank_correlation` reproduces it.
* :data:`ETRAN_CIFAR100_NOTEBOOK`: the per-model LDA and energy scores printed in ETran's
  notebook for CIFAR-100 and the weighted tau (0.900) it reports for their combination.

The model called "MNASNet" in these sources is torchvision's ``mnasnet1_0`` (MNASNet-B1,
depth multiplier 1.0, per torchvision's documentation), not MNASNet-A1.

Nothing in this module downloads anything: :func:`check_imagenet_11x11_available` only
looks for the torchvision weights and datasets that are already on disk. The built-in suite
``imagenet-11x11`` (:func:`transferscope.workflows.suite.load_suite`) runs the estimators on
those models and targets and scores them against :data:`PUBLISHED_FINETUNE_ACCURACY`
(ground truth ``probe: published``).
"""

from __future__ import annotations

import csv
import functools
import importlib
import importlib.resources
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from transferscope.datasets.vision_targets import VISION_TARGET_DIRS, missing_target_files
from transferscope.errors import InputError

__all__ = [
    "IMAGENET_11X11_MODELS",
    "IMAGENET_11X11_TARGETS",
    "IMAGENET_11X11_DATA_DIRS",
    "PUBLISHED_FINETUNE_ACCURACY",
    "TLLIB_MODEL_SELECTION_BENCHMARK",
    "ETRAN_CIFAR100_NOTEBOOK",
    "PROVENANCE",
    "MISSING",
    "CITATIONS",
    "PUBLISHED_FILES",
    "INSTALL_LINE",
    "check_imagenet_11x11_available",
    "published_table",
    "published_model_key",
    "published_finetune_accuracy",
    "read_published",
]

#: The pip line that installs what the benchmark needs (torch, torchvision, pillow): the one pair of
#: releases whose torchvision imports on the project's machines. The Makefile's VISION_PIN
#: (`make install-vision`) and the README use the same line; a test keeps the three equal.
INSTALL_LINE = "pip install torch==2.14.1 torchvision==0.29.1 pillow"

# ---------------------------------------------------------------------------------------
# Models: key (as spelled in the sources' tables) -> (torchvision builder, weights enum).
# The keys and the builders are those of SFDA's / ETran's ``models/group1`` and of LogME's
# ``ranking.py`` (``models_hub``). The sources load the original torchvision ImageNet
# checkpoints (ETran README lists e.g. resnet50-19c8e357.pth, inception_v3_google-1a9a5a14.pth);
# the weights enum below is the torchvision >= 0.13 name of those ImageNet-1k V1 weights
# (for ResNets and Inception-v3 torchvision now serves them under other file names).
# ---------------------------------------------------------------------------------------
IMAGENET_11X11_MODELS: dict[str, tuple[str, str]] = {
    "resnet34": ("resnet34", "ResNet34_Weights.IMAGENET1K_V1"),
    "resnet50": ("resnet50", "ResNet50_Weights.IMAGENET1K_V1"),
    "resnet101": ("resnet101", "ResNet101_Weights.IMAGENET1K_V1"),
    "resnet152": ("resnet152", "ResNet152_Weights.IMAGENET1K_V1"),
    "densenet121": ("densenet121", "DenseNet121_Weights.IMAGENET1K_V1"),
    "densenet169": ("densenet169", "DenseNet169_Weights.IMAGENET1K_V1"),
    "densenet201": ("densenet201", "DenseNet201_Weights.IMAGENET1K_V1"),
    "mnasnet1_0": ("mnasnet1_0", "MNASNet1_0_Weights.IMAGENET1K_V1"),
    "mobilenet_v2": ("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1"),
    "googlenet": ("googlenet", "GoogLeNet_Weights.IMAGENET1K_V1"),
    "inception_v3": ("inception_v3", "Inception_V3_Weights.IMAGENET1K_V1"),
}

# ---------------------------------------------------------------------------------------
# Targets: key (as in the sources) -> (torchvision dataset class, split / metric notes).
# Splits and metrics are those of SFDA's get_dataloader.py (``get_data``) and datasets/*.py.
# ---------------------------------------------------------------------------------------
IMAGENET_11X11_TARGETS: dict[str, tuple[str, str]] = {
    "aircraft": ("FGVCAircraft", "FGVC-Aircraft 2013b, 100 variants; official train/val/test lists "
                                 "(images_variant_<split>.txt); metric: mean per-class accuracy"),
    "caltech101": ("Caltech101", "102 categories; 30 training images per class drawn with "
                                 "np.random.seed(0) (SFDA datasets/caltech101.py), the rest test; "
                                 "metric: mean per-class accuracy"),
    "cars": ("StanfordCars", "196 classes; official train/test (cars_train_annos.mat / "
                             "cars_test_annos_withlabels.mat); metric: accuracy"),
    "cifar10": ("CIFAR10", "official 50k train / 10k test, read from the binary version "
                           "(cifar-10-binary.tar.gz; the python version is pickled); metric: accuracy"),
    "cifar100": ("CIFAR100", "official 50k train / 10k test, fine labels, read from the binary version "
                             "(cifar-100-binary.tar.gz; the python version is pickled); metric: accuracy"),
    "dtd": ("DTD", "47 classes; partition 1 (train1/val1/test1.txt); metric: accuracy"),
    "flowers": ("Flowers102", "102 classes; official setid.mat trnid/valid/tstid; "
                              "metric: mean per-class accuracy"),
    "food": ("Food101", "101 classes; official meta/train.json / meta/test.json; metric: accuracy"),
    "pets": ("OxfordIIITPet", "37 classes; official trainval / test; metric: mean per-class accuracy"),
    "sun397": ("SUN397", "397 classes; partition 01 (Training_01.txt / Testing_01.txt, from the "
                         "SUN397 partition files, which torchvision's SUN397 does not use); metric: accuracy"),
    "voc2007": ("VOCDetection", "year='2007', 20 classes as multi-label targets; trainval / test; "
                                "metric: mAP"),
}

#: Where each target must already be under ``data_root``: the folder torchvision's dataset
#: class reads (``root`` = ``data_root``), as in torchvision 0.29's dataset sources, except
#: CIFAR-10/100, read from their *binary* versions (``cifar-10-batches-bin``,
#: ``cifar-100-binary``) because the "python" versions are pickles, which are never loaded.
#: :mod:`transferscope.datasets.vision_targets` reads them (files, splits, labels).
IMAGENET_11X11_DATA_DIRS: dict[str, str] = dict(VISION_TARGET_DIRS)

#: What was looked for in the reference repositories and not found.
MISSING: dict[str, str] = {
    "birdsnap": (
        "No per-model fine-tuning accuracy on Birdsnap was found in TencentARC/SFDA, mgholamikn/ETran, "
        "thuml/LogME or thuml/Transfer-Learning-Library: the SFDA/ETran 11x11 table has VOC2007 instead, "
        "and LogME's README shows its Birdsnap results only as a scatter plot (imgs/image-20210222204141915.png). "
        "torchvision has no Birdsnap dataset class either."
    ),
    "tllib:resnet34": "Transfer-Learning-Library's tables cover 10 models: ResNet-34 is not among them.",
    "tllib:flowers,food,voc2007,birdsnap": "Transfer-Learning-Library's tables cover 8 targets only.",
}

# ---------------------------------------------------------------------------------------
# Provenance of every table below. Each file was read in the snapshot at ``commit``;
# ``last_changed`` is the newest commit touching that file in the same history (for pytorch/vision,
# whose history is too large to fetch here, the commit read: its files were read from an index of
# stored versions, one commit per file, each holding the weights enums with their ``_metrics``).
# ---------------------------------------------------------------------------------------
PROVENANCE: dict[str, dict[str, str]] = {
    "sfda": {
        "repository": "TencentARC/SFDA",
        "commit": "3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59",
        "path": "tw_group1.py",
        "last_changed": "eb1eee0a7e02883842d2e9fe387edb34345f202d",
        "what": "finetune_acc: fine-tuning accuracy of 11 ImageNet torchvision models on 11 targets "
                "(SFDA, ECCV 2022); the same dict is in mgholamikn/ETran@d4551ed8f41f4ed6eba08b9cc1a78bae178acd19:tw.py",
    },
    "etran": {
        "repository": "mgholamikn/ETran",
        "commit": "d4551ed8f41f4ed6eba08b9cc1a78bae178acd19",
        "path": "tw.py",
        "last_changed": "a63361e1cd0e090b9d0462bf6e3bdf4dc547b22d",
        "what": "finetune_acc, identical to TencentARC/SFDA tw_group1.py (ETran, ICCV 2023)",
    },
    "etran_notebook": {
        "repository": "mgholamikn/ETran",
        "commit": "d4551ed8f41f4ed6eba08b9cc1a78bae178acd19",
        "path": "ETran.ipynb",
        "last_changed": "a63361e1cd0e090b9d0462bf6e3bdf4dc547b22d",
        "what": "cell outputs: per-model 'lda' and 'energy' scores on cifar100 and "
                "'Kendall  dataset:cifar100    :0.900' for their combination (tw.py -me etran)",
    },
    "tllib": {
        "repository": "thuml/Transfer-Learning-Library",
        "commit": "c4aa59eb565650a552b809411601d0589efbbfe4",
        "path": "examples/model_selection/README.md",
        "last_changed": "48c707a0a83d71f0ab64d1db75efb67bd4973105",
        "what": "'Model Ranking Benchmark on <target>' tables: fine-tuned accuracy, HScore, LEEP, LogME, "
                "NCE per model, and the Pearson correlation and weighted Kendall tau per estimator",
    },
    "mteb_paper": {
        "repository": "embeddings-benchmark/mtebpaper",
        "commit": "6a5f049459d08998791da57a089c1f254ee67472",
        "path": "plotstables/avg_table.txt",
        "last_changed": "75bf809a3ee0a842f5c123e1bf8dec85c7523686",
        "what": "the MTEB paper's average table (56 English datasets): rows MiniLM-L6 and MPNet",
    },
    "mteb_leaderboard": {
        "repository": "embeddings-benchmark/leaderboard",
        "commit": "5012f81248cec89e127f2f1667edd5a89db953d5",
        "path": "boards_data/en/data_overall/default.jsonl",
        "last_changed": "5012f81248cec89e127f2f1667edd5a89db953d5",
        "what": "the old MTEB leaderboard's final overall table, column 'Average (56 datasets)'",
    },
    "sbert_models": {
        "repository": "UKPLab/sentence-transformers",
        "commit": "85ec64559f4414aa536eca4bf53538291e0a333f",
        "path": "docs/_static/html/models_en_sentence_embeddings.html",
        "last_changed": "707830a898bfc8b7dcca90cfb80d0d62e377d016",
        "what": "the 'Original Models' table: sentence embeddings (14 datasets), semantic search (6 datasets)",
    },
    "efficientnet_lite": {
        "repository": "tensorflow/tpu",
        "commit": "7dc921f846c9e4071f3884b768a7ddf521272a49",
        "path": "models/official/efficientnet/lite/README.md",
        "last_changed": "d2603551b84f35231f1da274bb4d86f17e407f24",
        "what": "EfficientNet-Lite0..4 ImageNet accuracy (FP32 and INT8)",
    },
    "dinov2": {
        "repository": "facebookresearch/dinov2",
        "commit": "b8931f7bf91576930313be2c6d6af376033b35f0",
        "path": "README.md",
        "last_changed": "b8931f7bf91576930313be2c6d6af376033b35f0",
        "what": "pretrained backbones: ImageNet k-NN and linear probe accuracy",
    },
    "torchvision_resnet": {
        "repository": "pytorch/vision",
        "commit": "8c118f16b43ef496f8310ac11943c86bbfd377a6",
        "path": "torchvision/models/resnet.py",
        "last_changed": "8c118f16b43ef496f8310ac11943c86bbfd377a6",
        "what": "ResNet34/50/101/152 IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
    "torchvision_mnasnet": {
        "repository": "pytorch/vision",
        "commit": "8c118f16b43ef496f8310ac11943c86bbfd377a6",
        "path": "torchvision/models/mnasnet.py",
        "last_changed": "8c118f16b43ef496f8310ac11943c86bbfd377a6",
        "what": "MNASNet1_0 IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
    "torchvision_densenet": {
        "repository": "pytorch/vision",
        "commit": "96c85bed8babbc42bd8233d11ad9e9d89a64ae20",
        "path": "torchvision/models/densenet.py",
        "last_changed": "96c85bed8babbc42bd8233d11ad9e9d89a64ae20",
        "what": "DenseNet121/169/201 IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
    "torchvision_googlenet": {
        "repository": "pytorch/vision",
        "commit": "96c85bed8babbc42bd8233d11ad9e9d89a64ae20",
        "path": "torchvision/models/googlenet.py",
        "last_changed": "96c85bed8babbc42bd8233d11ad9e9d89a64ae20",
        "what": "GoogLeNet IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
    "torchvision_mobilenetv2": {
        "repository": "pytorch/vision",
        "commit": "b45892298a8d12c506461daf70d193d9701292d5",
        "path": "torchvision/models/mobilenetv2.py",
        "last_changed": "b45892298a8d12c506461daf70d193d9701292d5",
        "what": "MobileNet_V2 IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
    "torchvision_inception": {
        "repository": "pytorch/vision",
        "commit": "ac33f9e324952a3fd1d858d12adfda323c5c155d",
        "path": "torchvision/models/inception.py",
        "last_changed": "ac33f9e324952a3fd1d858d12adfda323c5c155d",
        "what": "Inception_V3 IMAGENET1K_V1 weights meta: ImageNet-1K acc@1",
    },
}

CITATIONS: dict[str, str] = {
    "logme": "You, K., Liu, Y., Wang, J., Long, M. LogME: Practical Assessment of Pre-trained Models for "
             "Transfer Learning. ICML 2021.",
    "logme_jmlr": "You, K., Liu, Y., Zhang, Z., Wang, J., Jordan, M. I., Long, M. Ranking and Tuning Pre-trained "
                  "Models: A New Paradigm for Exploiting Model Hubs. JMLR 2022.",
    "sfda": "Shao, W. et al. Not All Models Are Equal: Predicting Model Transferability in a Self-challenging "
            "Fisher Space. ECCV 2022. Code: https://github.com/TencentARC/SFDA",
    "etran": "Gholami, M., Akbari, M., Wang, X., Kamranian, B., Zhang, Y. ETran: Energy-Based Transferability "
             "Estimation. ICCV 2023, pp. 18613-18622. Code: https://github.com/mgholamikn/ETran",
    "tllib": "Jiang, J., Shu, Y., Wang, J., Long, M. Transferability in Deep Learning: A Survey. 2022. "
             "Code: https://github.com/thuml/Transfer-Learning-Library (examples/model_selection)",
    "kornblith": "Kornblith, S., Shlens, J., Le, Q. V. Do Better ImageNet Models Transfer Better? CVPR 2019 "
                 "(origin of the target datasets and of the fine-tuning protocol).",
}

# ---------------------------------------------------------------------------------------
# The published numbers themselves are package data: CSV files in
# transferscope/workflows/published/, one row per published cell, each row with the
# ``source`` (``<repository>@<commit>:<path>``) it was copied from, and a header comment
# (``#`` lines) with the paper, the file and section, and the caveats. They are read on
# first use (module ``__getattr__``), never at import.
# ---------------------------------------------------------------------------------------

#: The package-data files of published numbers and their columns, in order. Every row of
#: every file has a non-empty ``source``: ``<repository>@<commit>:<path>`` of :data:`PROVENANCE`.
PUBLISHED_FILES: dict[str, tuple[str, ...]] = {
    # Table 1: SFDA / ETran ground truth (fine-tuning accuracy, %), 11 models x 11 targets.
    "sfda_finetune_accuracy.csv": ("target", "model", "finetune_accuracy", "source"),
    # Table 2: Transfer-Learning-Library's model-selection benchmark, 10 models x 8 targets:
    # per-model accuracy and estimator scores, and per-estimator published correlations.
    "tllib_model_scores.csv": ("target", "model", "finetune_accuracy", "logme", "hscore", "leep", "nce", "source"),
    "tllib_correlations.csv": ("target", "estimator", "pearson", "weighted_tau", "source"),
    # Table 3: ETran's notebook, CIFAR-100 only: per-model scores and their published combination.
    "etran_cifar100_scores.csv": ("target", "model", "lda", "energy", "source"),
    "etran_cifar100_combination.csv": ("target", "energy_weight", "lda_weight", "weighted_tau", "source"),
    # Table 4: published benchmark scores of the offline zoo's models (priors: model facts).
    "model_facts.csv": ("model", "fact", "value", "note", "source"),
}

_PUBLISHED_DIR = "transferscope/workflows/published"  # for messages: the files sit beside this module
_TLLIB_SCORES = ("finetune_accuracy", "logme", "hscore", "leep", "nce")
_TLLIB_CORRELATIONS = ("pearson", "weighted_tau")


@functools.cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of the package-data file ``name`` (parsed once), checked against :data:`PUBLISHED_FILES`."""
    resource = importlib.resources.files("transferscope.workflows.published").joinpath(name)
    text = resource.read_text(encoding="utf-8")
    reader = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    rows = tuple(reader)
    if tuple(reader.fieldnames or ()) != PUBLISHED_FILES[name]:
        raise RuntimeError(f"the package-data file {_PUBLISHED_DIR}/{name} of transferscope has the columns "
                           f"{reader.fieldnames}, expected {list(PUBLISHED_FILES[name])}: reinstall transferscope")
    return rows


def read_published(name: str) -> list[dict[str, str]]:
    """The rows of one package-data file of published numbers, as the file holds them.

    Parameters
    ----------
    name : str
        A file of :data:`PUBLISHED_FILES`, e.g. ``"sfda_finetune_accuracy.csv"``.

    Returns
    -------
    list of dict
        One dict per row, ``{column: text}`` with the columns of :data:`PUBLISHED_FILES`
        (numbers as written in the file; its ``#`` comment lines are left out), in the file's
        order. The dicts are fresh copies: changing them changes nothing else.

    Raises
    ------
    InputError
        When ``name`` is not one of :data:`PUBLISHED_FILES`.

    Examples
    --------
    >>> rows = read_published("sfda_finetune_accuracy.csv")
    >>> len(rows), rows[0]["target"], rows[0]["model"], rows[0]["finetune_accuracy"]
    (121, 'aircraft', 'resnet34', '84.06')
    >>> rows[0]["source"]
    'TencentARC/SFDA@3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59:tw_group1.py'
    """
    if name not in PUBLISHED_FILES:
        raise InputError(f"name must be one of {', '.join(PUBLISHED_FILES)}, got {name!r}")
    return [dict(row) for row in _rows(name)]


@functools.cache
def _sfda_finetune_accuracy() -> dict[str, dict[str, float]]:
    """:data:`PUBLISHED_FINETUNE_ACCURACY`: target -> model -> accuracy (%), in the source's order."""
    table: dict[str, dict[str, float]] = {}
    for row in _rows("sfda_finetune_accuracy.csv"):
        table.setdefault(row["target"], {})[row["model"]] = float(row["finetune_accuracy"])
    return table


@functools.cache
def _tllib_benchmark() -> dict[str, dict[str, dict[str, float]]]:
    """:data:`TLLIB_MODEL_SELECTION_BENCHMARK`: target -> quantity -> model (or estimator) -> value."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for row in _rows("tllib_model_scores.csv"):
        columns = table.setdefault(row["target"], {c: {} for c in _TLLIB_SCORES + _TLLIB_CORRELATIONS})
        for column in _TLLIB_SCORES:
            columns[column][row["model"]] = float(row[column])
    for row in _rows("tllib_correlations.csv"):
        for column in _TLLIB_CORRELATIONS:
            table[row["target"]][column][row["estimator"]] = float(row[column])
    return table


@functools.cache
def _etran_notebook() -> dict[str, Any]:
    """:data:`ETRAN_CIFAR100_NOTEBOOK`: the notebook's per-model scores and their published combination."""
    (combination,) = _rows("etran_cifar100_combination.csv")
    scores = [row for row in _rows("etran_cifar100_scores.csv") if row["target"] == combination["target"]]
    return {
        "target": combination["target"],
        "lda": {row["model"]: float(row["lda"]) for row in scores},
        "energy": {row["model"]: float(row["energy"]) for row in scores},
        "combination": {"energy": float(combination["energy_weight"]), "lda": float(combination["lda_weight"])},
        "weighted_tau": float(combination["weighted_tau"]),
    }


#: The tables read from the package data, by the module attribute that holds them.
_LAZY_TABLES: dict[str, Callable[[], Any]] = {
    "PUBLISHED_FINETUNE_ACCURACY": _sfda_finetune_accuracy,
    "TLLIB_MODEL_SELECTION_BENCHMARK": _tllib_benchmark,
    "ETRAN_CIFAR100_NOTEBOOK": _etran_notebook,
}

if TYPE_CHECKING:
    PUBLISHED_FINETUNE_ACCURACY: dict[str, dict[str, float]]
    TLLIB_MODEL_SELECTION_BENCHMARK: dict[str, dict[str, dict[str, float]]]
    ETRAN_CIFAR100_NOTEBOOK: dict[str, Any]


def __getattr__(name: str) -> Any:
    """The published tables (:data:`PUBLISHED_FINETUNE_ACCURACY`, ...), read from the package data on first use."""
    if name in _LAZY_TABLES:
        return _LAZY_TABLES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_TABLES))


_TABLES = ("sfda", "tllib", "all")


def _import_vision() -> tuple[Any, Any]:
    """``(torch, torchvision)``, or an :class:`InputError` naming the install line."""
    try:
        torch = importlib.import_module("torch")
        torchvision = importlib.import_module("torchvision")
    except ImportError as exc:  # includes ModuleNotFoundError and broken binary installs
        raise InputError(
            f"The ImageNet 11x11 transferability benchmark needs torch and torchvision, which cannot be "
            f"imported here ({exc}). Install them with `{INSTALL_LINE}` (or the optional extra: "
            f"`pip install 'transferscope[vision]'`), then place the ImageNet weights of the 11 models in "
            f"torch.hub.get_dir()/checkpoints and the target datasets under data_root beforehand: "
            f"transferscope never downloads them."
        ) from exc
    return torch, torchvision


def _checkpoint_name(torchvision: Any, weights_name: str) -> str:
    """The file name torch.hub caches ``weights_name`` under (the last part of its URL)."""
    try:
        weights = torchvision.models.get_weight(weights_name)
    except (AttributeError, KeyError, ValueError) as exc:
        raise InputError(
            f"this torchvision ({getattr(torchvision, '__version__', '?')}) does not know the weights "
            f"{weights_name!r}; the benchmark expects torchvision >= 0.13, e.g. `{INSTALL_LINE}`"
        ) from exc
    return os.path.basename(urlparse(weights.url).path)


def check_imagenet_11x11_available(data_root: str | None) -> None:
    """Raise :class:`~transferscope.errors.InputError` unless the 11x11 benchmark can run offline.

    Checks, without downloading anything, that torch and torchvision import, that the ImageNet
    weights of the 11 models of :data:`IMAGENET_11X11_MODELS` are in torch.hub's checkpoint
    cache (``torch.hub.get_dir()/checkpoints``, the folder torchvision loads them from), and
    that every target of :data:`IMAGENET_11X11_TARGETS` is under ``data_root`` in the folder
    torchvision's dataset class reads (:data:`IMAGENET_11X11_DATA_DIRS`), with the index files
    that :func:`transferscope.datasets.vision_targets.load_vision_target` reads. All problems
    found are reported together in one message.

    Parameters
    ----------
    data_root : str or None
        The folder passed as ``root`` to torchvision's dataset classes. ``None`` is an error
        (once torchvision imports), since the datasets cannot be found without it.

    Returns
    -------
    None
        Returns only when everything is present.

    Raises
    ------
    InputError
        When torchvision (or torch) is not importable (the message gives
        ``pip install torch==2.14.1 torchvision==0.29.1`` and ``transferscope[vision]``), or
        when weights or datasets are missing (the message lists them and where they belong).

    Examples
    --------
    >>> import importlib.util
    >>> from transferscope.errors import InputError
    >>> if importlib.util.find_spec("torchvision") is None:
    ...     try:
    ...         check_imagenet_11x11_available("/nonexistent")
    ...     except InputError as err:
    ...         print("pip install torch==2.14.1 torchvision==0.29.1" in str(err))
    ... else:
    ...     print(True)
    True
    """
    torch, torchvision = _import_vision()
    problems: list[str] = []

    checkpoint_dir = Path(torch.hub.get_dir()) / "checkpoints"
    missing_weights = []
    for name, (_builder, weights_name) in IMAGENET_11X11_MODELS.items():
        filename = _checkpoint_name(torchvision, weights_name)
        if not (checkpoint_dir / filename).is_file():
            missing_weights.append(f"{name} ({weights_name} -> {filename})")
    if missing_weights:
        problems.append(
            f"{len(missing_weights)} of {len(IMAGENET_11X11_MODELS)} model weights are not in the torch.hub cache "
            f"{checkpoint_dir}: {', '.join(missing_weights)}; copy them there from a machine with network access "
            f"(where `torchvision.models.get_weight(name).get_state_dict()` fetches them) or set TORCH_HOME"
        )

    if data_root is None:
        problems.append(
            "data_root is None: pass the folder that holds the target datasets in torchvision's layout "
            f"({', '.join(f'{k}: <data_root>/{v}' for k, v in IMAGENET_11X11_DATA_DIRS.items())})"
        )
    else:
        root = Path(data_root).expanduser()
        if not root.is_dir():
            problems.append(f"data_root {str(root)!r} is not a directory")
        else:
            missing_data = []
            for key, folder in IMAGENET_11X11_DATA_DIRS.items():
                missing = missing_target_files(key, root)
                if missing == ["."]:
                    missing_data.append(f"{key} (<data_root>/{folder})")
                elif missing:
                    missing_data.append(f"{key} (<data_root>/{folder} lacks {', '.join(missing)})")
            if missing_data:
                problems.append(
                    f"{len(missing_data)} of {len(IMAGENET_11X11_DATA_DIRS)} target datasets are not complete under "
                    f"data_root {str(root)!r}: {', '.join(missing_data)}; put them there beforehand (torchvision's "
                    f"dataset classes with download=True do it on a machine with network access; CIFAR-10/100 in "
                    f"their binary versions, cifar-10-binary.tar.gz and cifar-100-binary.tar.gz, because the python "
                    f"versions are pickles, which transferscope never loads; SUN397 with its partition files "
                    f"Training_01.txt / Testing_01.txt)"
                )

    if problems:
        raise InputError(
            "The ImageNet 11x11 transferability benchmark cannot run offline here, and transferscope never "
            "downloads weights or data: " + "; ".join(problems) + "."
        )


def published_table(source: str = "sfda") -> Any:
    """The published fine-tuning accuracies in long form.

    Parameters
    ----------
    source : {"sfda", "tllib", "all"}
        ``"sfda"``: :data:`PUBLISHED_FINETUNE_ACCURACY` (SFDA / ETran, 11 models x 11 targets);
        ``"tllib"``: the ``finetune_accuracy`` of :data:`TLLIB_MODEL_SELECTION_BENCHMARK`
        (10 models x 8 targets); ``"all"``: both, one after the other.

    Returns
    -------
    pandas.DataFrame
        Columns ``target``, ``model``, ``finetune_accuracy`` (percent, as published) and
        ``source`` (``"<repository>@<commit>:<path>"``), one row per published cell, in
        the sources' order.

    Examples
    --------
    >>> from transferscope.workflows.published.literature import published_table
    >>> table = published_table()
    >>> table.shape
    (121, 4)
    >>> list(table.columns)
    ['target', 'model', 'finetune_accuracy', 'source']
    >>> table["target"].nunique(), table["model"].nunique()
    (11, 11)
    >>> len(published_table("tllib")), len(published_table("all"))
    (80, 201)
    """
    import pandas as pd

    if source not in _TABLES:
        raise InputError(f"source must be one of {', '.join(_TABLES)}, got {source!r}")
    files = {"sfda": ["sfda_finetune_accuracy.csv"], "tllib": ["tllib_model_scores.csv"]}
    names = files["sfda"] + files["tllib"] if source == "all" else files[source]
    rows = [{"target": row["target"], "model": row["model"], "finetune_accuracy": float(row["finetune_accuracy"]),
             "source": row["source"]} for name in names for row in _rows(name)]
    return pd.DataFrame(rows, columns=["target", "model", "finetune_accuracy", "source"])


def published_model_key(builder: str, weights: str | None) -> str | None:
    """The model key of :data:`PUBLISHED_FINETUNE_ACCURACY` for a torchvision builder and weights.

    Parameters
    ----------
    builder : str
        A torchvision builder, e.g. ``"resnet50"``.
    weights : str or None
        ``"IMAGENET1K_V1"`` or ``"ResNet50_Weights.IMAGENET1K_V1"``: the weights the published
        models were fine-tuned from. Other weights (``DEFAULT`` is ``IMAGENET1K_V2`` for
        several ResNets) and random weights have no published accuracy.

    Returns
    -------
    str or None
        The key (``"resnet50"``), or None when the table has no such model.

    Examples
    --------
    >>> published_model_key("resnet50", "IMAGENET1K_V1"), published_model_key("resnet50", "IMAGENET1K_V2")
    ('resnet50', None)
    >>> published_model_key("densenet121", "DenseNet121_Weights.IMAGENET1K_V1")
    'densenet121'
    """
    for key, (name, full) in IMAGENET_11X11_MODELS.items():
        if name == builder and weights in (full, full.split(".", 1)[1]):
            return key
    return None


def published_finetune_accuracy(target: str, model: str) -> tuple[float, str]:
    """The published fine-tuning accuracy (percent) of ``model`` on ``target`` and its source.

    Parameters
    ----------
    target : str
        A target of :data:`PUBLISHED_FINETUNE_ACCURACY` (``"cifar10"``, ...).
    model : str
        A model key of the table (``"resnet50"``; see :func:`published_model_key`).

    Returns
    -------
    (float, str)
        The accuracy as published (mAP for ``voc2007``) and ``"<repository>@<commit>:<path>"``.

    Examples
    --------
    >>> value, source = published_finetune_accuracy("cifar10", "resnet50")
    >>> value, source.split("@")[0]
    (96.28, 'TencentARC/SFDA')
    """
    table = _sfda_finetune_accuracy()
    if target not in table:
        raise InputError(f"target must be one of {', '.join(table)} for the published "
                         f"fine-tuning accuracies, got {target!r}")
    row = table[target]
    if model not in row:
        raise InputError(f"model must be one of {', '.join(row)} for the published fine-tuning accuracies, "
                         f"got {model!r}")
    return float(row[model]), _origin("sfda")


def _origin(key: str) -> str:
    p = PROVENANCE[key]
    return f"{p['repository']}@{p['commit']}:{p['path']}"
