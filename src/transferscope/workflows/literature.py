"""The literature's ImageNet model-selection benchmark: 11 torchvision models x 11 targets.

LogME (You et al., ICML 2021; JMLR 2022), SFDA (Shao et al., ECCV 2022) and ETran
(Gholami et al., ICCV 2023) rank ImageNet-supervised torchvision models by how well they
fine-tune on small classification targets, and score a transferability estimator by the
weighted Kendall tau (``scipy.stats.weightedtau``) between its scores and the fine-tuning
accuracies. This module holds those *published* numbers, copied from the authors' own
repositories (nothing here is re-measured or recalled), so that an estimator run through
transferscope can be compared with the literature without fine-tuning 121 models.

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

import importlib
import os
from pathlib import Path
from typing import Any
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
    "INSTALL_LINE",
    "check_imagenet_11x11_available",
    "published_table",
    "published_model_key",
    "published_finetune_accuracy",
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
# ``last_changed`` is the newest commit touching that file in the same history.
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
# Table 1 -- SFDA / ETran ground truth (fine-tuning accuracy, %), 11 models x 11 targets.
# Source: TencentARC/SFDA @ 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59, tw_group1.py, dict ``finetune_acc``
# (identical dict: mgholamikn/ETran @ d4551ed8f41f4ed6eba08b9cc1a78bae178acd19, tw.py).
# Copied value for value (Python drops trailing zeros: the source's 93.1 is written 93.1).
# Hyper-parameters were selected by a grid search per model and target (SFDA finetune_group1.py).
# ---------------------------------------------------------------------------------------
PUBLISHED_FINETUNE_ACCURACY: dict[str, dict[str, float]] = {
    "aircraft": {
        "resnet34": 84.06, "resnet50": 84.64, "resnet101": 85.53, "resnet152": 86.29, "densenet121": 84.66,
        "densenet169": 84.19, "densenet201": 85.38, "mnasnet1_0": 66.48, "mobilenet_v2": 79.68,
        "googlenet": 80.32, "inception_v3": 80.15,
    },
    "caltech101": {
        "resnet34": 91.15, "resnet50": 91.98, "resnet101": 92.38, "resnet152": 93.1, "densenet121": 91.5,
        "densenet169": 92.51, "densenet201": 93.14, "mnasnet1_0": 89.34, "mobilenet_v2": 88.64,
        "googlenet": 90.85, "inception_v3": 92.75,
    },
    "cars": {
        "resnet34": 88.63, "resnet50": 89.09, "resnet101": 89.47, "resnet152": 89.88, "densenet121": 89.34,
        "densenet169": 89.02, "densenet201": 89.44, "mnasnet1_0": 72.58, "mobilenet_v2": 86.44,
        "googlenet": 87.76, "inception_v3": 87.74,
    },
    "cifar10": {
        "resnet34": 96.12, "resnet50": 96.28, "resnet101": 97.39, "resnet152": 97.53, "densenet121": 96.45,
        "densenet169": 96.77, "densenet201": 97.02, "mnasnet1_0": 92.59, "mobilenet_v2": 94.74,
        "googlenet": 95.54, "inception_v3": 96.18,
    },
    "cifar100": {
        "resnet34": 81.94, "resnet50": 82.8, "resnet101": 84.88, "resnet152": 85.66, "densenet121": 82.75,
        "densenet169": 84.26, "densenet201": 84.88, "mnasnet1_0": 72.04, "mobilenet_v2": 78.11,
        "googlenet": 79.84, "inception_v3": 81.49,
    },
    "dtd": {
        "resnet34": 72.96, "resnet50": 74.72, "resnet101": 74.8, "resnet152": 76.44, "densenet121": 74.18,
        "densenet169": 74.72, "densenet201": 76.04, "mnasnet1_0": 70.12, "mobilenet_v2": 71.72,
        "googlenet": 72.53, "inception_v3": 72.85,
    },
    "flowers": {
        "resnet34": 95.2, "resnet50": 96.26, "resnet101": 96.53, "resnet152": 96.86, "densenet121": 97.02,
        "densenet169": 97.32, "densenet201": 97.1, "mnasnet1_0": 95.39, "mobilenet_v2": 96.2,
        "googlenet": 95.76, "inception_v3": 95.73,
    },
    "food": {
        "resnet34": 81.99, "resnet50": 84.45, "resnet101": 85.58, "resnet152": 86.28, "densenet121": 84.99,
        "densenet169": 85.84, "densenet201": 86.71, "mnasnet1_0": 71.35, "mobilenet_v2": 81.12,
        "googlenet": 79.3, "inception_v3": 81.76,
    },
    "pets": {
        "resnet34": 93.5, "resnet50": 93.88, "resnet101": 93.92, "resnet152": 94.42, "densenet121": 93.07,
        "densenet169": 93.62, "densenet201": 94.03, "mnasnet1_0": 91.08, "mobilenet_v2": 91.28,
        "googlenet": 91.38, "inception_v3": 92.14,
    },
    "sun397": {
        "resnet34": 61.02, "resnet50": 63.54, "resnet101": 63.76, "resnet152": 64.82, "densenet121": 63.26,
        "densenet169": 64.1, "densenet201": 64.57, "mnasnet1_0": 56.56, "mobilenet_v2": 60.29,
        "googlenet": 59.89, "inception_v3": 59.98,
    },
    "voc2007": {
        "resnet34": 84.6, "resnet50": 85.8, "resnet101": 85.68, "resnet152": 86.32, "densenet121": 85.28,
        "densenet169": 85.77, "densenet201": 85.67, "mnasnet1_0": 81.06, "mobilenet_v2": 82.8,
        "googlenet": 82.58, "inception_v3": 83.84,
    },
}

# ---------------------------------------------------------------------------------------
# Table 2 -- Transfer-Learning-Library's model-selection benchmark, 10 models x 8 targets.
# Source: thuml/Transfer-Learning-Library @ c4aa59eb565650a552b809411601d0589efbbfe4,
# examples/model_selection/README.md, sections "Model Ranking Benchmark on <target>".
# Row names mapped to torchvision builders as in that directory's logme.sh
# (GoogleNet -> googlenet, Inception V3 -> inception_v3, MNasNet -> mnasnet1_0, ...).
# "finetune_accuracy" is the "Finetuned Acc" column (%); "logme", "hscore", "leep", "nce" are the
# per-model estimator scores; "pearson" / "weighted_tau" are the published correlations per estimator.
# Caveat kept as published: on DTD the NCE column repeats the LogME column, yet their weighted
# taus differ (0.550 vs 0.083), so that row cannot be internally consistent.
# ---------------------------------------------------------------------------------------
TLLIB_MODEL_SELECTION_BENCHMARK: dict[str, dict[str, dict[str, float]]] = {
    "aircraft": {
        "finetune_accuracy": {
            "googlenet": 82.7, "inception_v3": 88.8, "resnet50": 86.6, "resnet101": 85.6, "resnet152": 85.3,
            "densenet121": 85.4, "densenet169": 84.5, "densenet201": 84.6, "mobilenet_v2": 82.8,
            "mnasnet1_0": 72.8,
        },
        "logme": {
            "googlenet": 0.934, "inception_v3": 0.953, "resnet50": 0.946, "resnet101": 0.948,
            "resnet152": 0.95, "densenet121": 0.938, "densenet169": 0.943, "densenet201": 0.942,
            "mobilenet_v2": 0.941, "mnasnet1_0": 0.948,
        },
        "hscore": {
            "googlenet": 28.37, "inception_v3": 43.89, "resnet50": 46.23, "resnet101": 46.13,
            "resnet152": 46.25, "densenet121": 31.53, "densenet169": 41.81, "densenet201": 46.01,
            "mobilenet_v2": 34.43, "mnasnet1_0": 35.28,
        },
        "leep": {
            "googlenet": -4.31, "inception_v3": -4.202, "resnet50": -4.215, "resnet101": -4.23,
            "resnet152": -4.23, "densenet121": -4.228, "densenet169": -4.245, "densenet201": -4.206,
            "mobilenet_v2": -4.198, "mnasnet1_0": -4.192,
        },
        "nce": {
            "googlenet": -4.248, "inception_v3": -4.17, "resnet50": -4.201, "resnet101": -4.222,
            "resnet152": -4.229, "densenet121": -4.215, "densenet169": -4.27, "densenet201": -4.189,
            "mobilenet_v2": -4.208, "mnasnet1_0": -4.195,
        },
        "pearson": {
            "hscore": 0.688, "leep": 0.127, "logme": 0.582, "nce": 0.173,
        },
        "weighted_tau": {
            "hscore": 0.664, "leep": -0.264, "logme": 0.595, "nce": 0.002,
        },
    },
    "caltech101": {
        "finetune_accuracy": {
            "googlenet": 91.7, "inception_v3": 94.3, "resnet50": 91.8, "resnet101": 93.1, "resnet152": 93.2,
            "densenet121": 91.9, "densenet169": 92.5, "densenet201": 93.4, "mobilenet_v2": 89.1,
            "mnasnet1_0": 91.5,
        },
        "logme": {
            "googlenet": 1.228, "inception_v3": 1.387, "resnet50": 1.262, "resnet101": 1.305,
            "resnet152": 1.324, "densenet121": 1.172, "densenet169": 1.212, "densenet201": 1.228,
            "mobilenet_v2": 1.15, "mnasnet1_0": 1.178,
        },
        "hscore": {
            "googlenet": 75.88, "inception_v3": 93.73, "resnet50": 91.65, "resnet101": 92.54,
            "resnet152": 92.91, "densenet121": 75.02, "densenet169": 86.37, "densenet201": 89.9,
            "mobilenet_v2": 75.82, "mnasnet1_0": 77.0,
        },
        "leep": {
            "googlenet": -1.462, "inception_v3": -1.119, "resnet50": -1.02, "resnet101": -0.899,
            "resnet152": -0.875, "densenet121": -0.979, "densenet169": -0.864, "densenet201": -0.914,
            "mobilenet_v2": -1.115, "mnasnet1_0": -1.043,
        },
        "nce": {
            "googlenet": -0.665, "inception_v3": -0.56, "resnet50": -0.616, "resnet101": -0.603,
            "resnet152": -0.605, "densenet121": -0.609, "densenet169": -0.58, "densenet201": -0.59,
            "mobilenet_v2": -0.693, "mnasnet1_0": -0.69,
        },
        "pearson": {
            "hscore": 0.748, "leep": 0.324, "logme": 0.794, "nce": 0.843,
        },
        "weighted_tau": {
            "hscore": 0.721, "leep": 0.127, "logme": 0.697, "nce": 0.81,
        },
    },
    "cifar10": {
        "finetune_accuracy": {
            "googlenet": 96.2, "inception_v3": 97.5, "resnet50": 96.8, "resnet101": 97.7, "resnet152": 97.9,
            "densenet121": 97.2, "densenet169": 97.4, "densenet201": 97.4, "mobilenet_v2": 95.7,
            "mnasnet1_0": 96.8,
        },
        "logme": {
            "googlenet": 0.293, "inception_v3": 0.349, "resnet50": 0.388, "resnet101": 0.463,
            "resnet152": 0.469, "densenet121": 0.302, "densenet169": 0.343, "densenet201": 0.369,
            "mobilenet_v2": 0.291, "mnasnet1_0": 0.304,
        },
        "hscore": {
            "googlenet": 5.911, "inception_v3": 6.363, "resnet50": 6.567, "resnet101": 6.901,
            "resnet152": 6.945, "densenet121": 6.21, "densenet169": 6.547, "densenet201": 6.706,
            "mobilenet_v2": 5.928, "mnasnet1_0": 6.018,
        },
        "leep": {
            "googlenet": -1.385, "inception_v3": -1.259, "resnet50": -1.01, "resnet101": -0.829,
            "resnet152": -0.838, "densenet121": -1.035, "densenet169": -0.934, "densenet201": -0.888,
            "mobilenet_v2": -1.1, "mnasnet1_0": -1.066,
        },
        "nce": {
            "googlenet": -1.139, "inception_v3": -1.06, "resnet50": -1.007, "resnet101": -0.838,
            "resnet152": -0.851, "densenet121": -1.006, "densenet169": -0.946, "densenet201": -0.866,
            "mobilenet_v2": -1.089, "mnasnet1_0": -1.086,
        },
        "pearson": {
            "hscore": 0.839, "leep": 0.604, "logme": 0.733, "nce": 0.786,
        },
        "weighted_tau": {
            "hscore": 0.8, "leep": 0.638, "logme": 0.785, "nce": 0.714,
        },
    },
    "cifar100": {
        "finetune_accuracy": {
            "googlenet": 83.2, "inception_v3": 86.6, "resnet50": 84.5, "resnet101": 87.0, "resnet152": 87.6,
            "densenet121": 84.8, "densenet169": 85.0, "densenet201": 86.0, "mobilenet_v2": 80.8,
            "mnasnet1_0": 83.9,
        },
        "logme": {
            "googlenet": 1.037, "inception_v3": 1.07, "resnet50": 1.099, "resnet101": 1.13,
            "resnet152": 1.133, "densenet121": 1.029, "densenet169": 1.051, "densenet201": 1.061,
            "mobilenet_v2": 1.039, "mnasnet1_0": 1.051,
        },
        "hscore": {
            "googlenet": 29.33, "inception_v3": 36.47, "resnet50": 40.2, "resnet101": 43.8,
            "resnet152": 44.19, "densenet121": 32.13, "densenet169": 37.51, "densenet201": 39.75,
            "mobilenet_v2": 30.36, "mnasnet1_0": 32.05,
        },
        "leep": {
            "googlenet": -3.234, "inception_v3": -2.995, "resnet50": -2.612, "resnet101": -2.365,
            "resnet152": -2.41, "densenet121": -2.665, "densenet169": -2.494, "densenet201": -2.47,
            "mobilenet_v2": -2.8, "mnasnet1_0": -2.732,
        },
        "nce": {
            "googlenet": -2.751, "inception_v3": -2.615, "resnet50": -2.516, "resnet101": -2.285,
            "resnet152": -2.369, "densenet121": -2.504, "densenet169": -2.418, "densenet201": -2.305,
            "mobilenet_v2": -2.653, "mnasnet1_0": -2.643,
        },
        "pearson": {
            "hscore": 0.815, "leep": 0.513, "logme": 0.698, "nce": 0.705,
        },
        "weighted_tau": {
            "hscore": 0.775, "leep": 0.659, "logme": 0.79, "nce": 0.654,
        },
    },
    "dtd": {
        "finetune_accuracy": {
            "googlenet": 73.6, "inception_v3": 77.2, "resnet50": 75.2, "resnet101": 76.2, "resnet152": 75.4,
            "densenet121": 74.9, "densenet169": 74.8, "densenet201": 74.5, "mobilenet_v2": 72.9,
            "mnasnet1_0": 72.8,
        },
        "logme": {
            "googlenet": 0.682, "inception_v3": 0.691, "resnet50": 0.695, "resnet101": 0.689,
            "resnet152": 0.698, "densenet121": 0.67, "densenet169": 0.686, "densenet201": 0.689,
            "mobilenet_v2": 0.664, "mnasnet1_0": 0.679,
        },
        "hscore": {
            "googlenet": 34.61, "inception_v3": 57.17, "resnet50": 78.26, "resnet101": 117.23,
            "resnet152": 32.3, "densenet121": 35.23, "densenet169": 43.36, "densenet201": 45.96,
            "mobilenet_v2": 37.99, "mnasnet1_0": 38.03,
        },
        "leep": {
            "googlenet": -2.333, "inception_v3": -2.135, "resnet50": -1.985, "resnet101": -1.974,
            "resnet152": -1.924, "densenet121": -2.001, "densenet169": -1.817, "densenet201": -1.926,
            "mobilenet_v2": -2.098, "mnasnet1_0": -2.033,
        },
        "nce": {
            "googlenet": 0.682, "inception_v3": 0.691, "resnet50": 0.695, "resnet101": 0.689,
            "resnet152": 0.698, "densenet121": 0.67, "densenet169": 0.686, "densenet201": 0.689,
            "mobilenet_v2": 0.664, "mnasnet1_0": 0.679,
        },
        "pearson": {
            "hscore": 0.532, "leep": 0.217, "logme": 0.617, "nce": 0.471,
        },
        "weighted_tau": {
            "hscore": 0.416, "leep": -0.004, "logme": 0.55, "nce": 0.083,
        },
    },
    "pets": {
        "finetune_accuracy": {
            "googlenet": 91.9, "inception_v3": 93.5, "resnet50": 92.5, "resnet101": 94.0, "resnet152": 94.5,
            "densenet121": 92.9, "densenet169": 93.1, "densenet201": 92.8, "mobilenet_v2": 90.5,
            "mnasnet1_0": 89.4,
        },
        "logme": {
            "googlenet": 0.854, "inception_v3": 1.119, "resnet50": 0.952, "resnet101": 0.985,
            "resnet152": 1.009, "densenet121": 0.797, "densenet169": 0.829, "densenet201": 0.86,
            "mobilenet_v2": 0.765, "mnasnet1_0": 0.785,
        },
        "hscore": {
            "googlenet": 28.02, "inception_v3": 33.29, "resnet50": 32.55, "resnet101": 32.76,
            "resnet152": 32.86, "densenet121": 27.09, "densenet169": 30.09, "densenet201": 31.25,
            "mobilenet_v2": 27.83, "mnasnet1_0": 27.95,
        },
        "leep": {
            "googlenet": -1.064, "inception_v3": -0.888, "resnet50": -0.805, "resnet101": -0.769,
            "resnet152": -0.732, "densenet121": -0.837, "densenet169": -0.779, "densenet201": -0.81,
            "mobilenet_v2": -0.902, "mnasnet1_0": -0.854,
        },
        "nce": {
            "googlenet": -0.815, "inception_v3": -0.711, "resnet50": -0.721, "resnet101": -0.717,
            "resnet152": -0.679, "densenet121": -0.753, "densenet169": -0.699, "densenet201": -0.716,
            "mobilenet_v2": -0.822, "mnasnet1_0": -0.812,
        },
        "pearson": {
            "hscore": 0.427, "leep": -0.127, "logme": 0.589, "nce": 0.501,
        },
        "weighted_tau": {
            "hscore": 0.425, "leep": -0.143, "logme": 0.502, "nce": 0.119,
        },
    },
    "cars": {
        "finetune_accuracy": {
            "googlenet": 91.0, "inception_v3": 92.3, "resnet50": 91.7, "resnet101": 91.7, "resnet152": 92.0,
            "densenet121": 91.5, "densenet169": 91.5, "densenet201": 91.0, "mobilenet_v2": 91.0,
            "mnasnet1_0": 88.5,
        },
        "logme": {
            "googlenet": 1.246, "inception_v3": 1.259, "resnet50": 1.253, "resnet101": 1.255,
            "resnet152": 1.26, "densenet121": 1.249, "densenet169": 1.252, "densenet201": 1.251,
            "mobilenet_v2": 1.25, "mnasnet1_0": 1.254,
        },
        "hscore": {
            "googlenet": 41.47, "inception_v3": 73.68, "resnet50": 72.94, "resnet101": 73.98,
            "resnet152": 76.17, "densenet121": 45.82, "densenet169": 63.4, "densenet201": 70.5,
            "mobilenet_v2": 51.12, "mnasnet1_0": 51.91,
        },
        "leep": {
            "googlenet": -4.612, "inception_v3": -4.268, "resnet50": -4.366, "resnet101": -4.281,
            "resnet152": -4.215, "densenet121": -4.437, "densenet169": -4.286, "densenet201": -4.319,
            "mobilenet_v2": -4.463, "mnasnet1_0": -4.423,
        },
        "nce": {
            "googlenet": -4.312, "inception_v3": -4.11, "resnet50": -4.221, "resnet101": -4.218,
            "resnet152": -4.142, "densenet121": -4.271, "densenet169": -4.175, "densenet201": -4.151,
            "mobilenet_v2": -4.306, "mnasnet1_0": -4.338,
        },
        "pearson": {
            "hscore": 0.503, "leep": 0.433, "logme": 0.274, "nce": 0.695,
        },
        "weighted_tau": {
            "hscore": 0.638, "leep": 0.703, "logme": 0.654, "nce": 0.75,
        },
    },
    "sun397": {
        "finetune_accuracy": {
            "googlenet": 62.0, "inception_v3": 65.7, "resnet50": 64.7, "resnet101": 64.8, "resnet152": 66.0,
            "densenet121": 62.3, "densenet169": 63.0, "densenet201": 64.7, "mobilenet_v2": 60.5,
            "mnasnet1_0": 60.7,
        },
        "logme": {
            "googlenet": 1.621, "inception_v3": 1.648, "resnet50": 1.638, "resnet101": 1.642,
            "resnet152": 1.646, "densenet121": 1.614, "densenet169": 1.623, "densenet201": 1.624,
            "mobilenet_v2": 1.617, "mnasnet1_0": 1.625,
        },
        "hscore": {
            "googlenet": 71.35, "inception_v3": 114.21, "resnet50": 110.39, "resnet101": 113.63,
            "resnet152": 116.51, "densenet121": 72.16, "densenet169": 95.8, "densenet201": 103.09,
            "mobilenet_v2": 75.9, "mnasnet1_0": 80.91,
        },
        "leep": {
            "googlenet": -3.744, "inception_v3": -3.372, "resnet50": -3.198, "resnet101": -3.103,
            "resnet152": -3.056, "densenet121": -3.311, "densenet169": -3.165, "densenet201": -3.205,
            "mobilenet_v2": -3.338, "mnasnet1_0": -3.234,
        },
        "nce": {
            "googlenet": -3.055, "inception_v3": -2.844, "resnet50": -2.894, "resnet101": -2.837,
            "resnet152": -2.822, "densenet121": -2.945, "densenet169": -2.903, "densenet201": -2.896,
            "mobilenet_v2": -2.968, "mnasnet1_0": -2.933,
        },
        "pearson": {
            "hscore": 0.913, "leep": 0.428, "logme": 0.824, "nce": 0.782,
        },
        "weighted_tau": {
            "hscore": 0.918, "leep": 0.581, "logme": 0.748, "nce": 0.873,
        },
    },
}

# ---------------------------------------------------------------------------------------
# Table 3 -- ETran's notebook, CIFAR-100 only.
# Source: mgholamikn/ETran @ d4551ed8f41f4ed6eba08b9cc1a78bae178acd19, ETran.ipynb, outputs of
# ``evaluate_metric.py -me lda`` / ``-me energy`` and ``tw.py -me etran`` ("Kendall ... :0.900").
# tw.py min-max scales each score over the 11 models and combines them as
# 0.15 * energy + 0.85 * lda before scipy.stats.weightedtau against Table 1's cifar100 column.
# ---------------------------------------------------------------------------------------
ETRAN_CIFAR100_NOTEBOOK: dict[str, Any] = {
    "target": "cifar100",
    "lda": {
        "inception_v3": 0.5647104345294157, "mobilenet_v2": 0.5699002258152691,
        "mnasnet1_0": 0.5740491800510599, "densenet121": 0.6017176899516314,
        "densenet169": 0.6286933801452933, "densenet201": 0.6485151591252194, "resnet34": 0.6219420768138157,
        "resnet50": 0.6036970906337595, "resnet101": 0.6492925412784959, "resnet152": 0.6546569199906442,
        "googlenet": 0.5388035301733872,
    },
    "energy": {
        "inception_v3": 7.904757499694824, "mobilenet_v2": 7.450751304626465,
        "mnasnet1_0": 7.297618389129639, "densenet121": 7.891053676605225, "densenet169": 8.134984970092773,
        "densenet201": 8.102324485778809, "resnet34": 7.3428730964660645, "resnet50": 7.9704909324646,
        "resnet101": 7.963034629821777, "resnet152": 8.039751052856445, "googlenet": 7.18940544128418,
    },
    "combination": {"energy": 0.15, "lda": 0.85},
    "weighted_tau": 0.900,
}

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
    >>> from transferscope.workflows.literature import published_table
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
    rows: list[dict[str, Any]] = []
    if source in ("sfda", "all"):
        origin = _origin("sfda")
        for target, accuracies in PUBLISHED_FINETUNE_ACCURACY.items():
            rows.extend({"target": target, "model": model, "finetune_accuracy": float(acc), "source": origin}
                        for model, acc in accuracies.items())
    if source in ("tllib", "all"):
        origin = _origin("tllib")
        for target, table in TLLIB_MODEL_SELECTION_BENCHMARK.items():
            rows.extend({"target": target, "model": model, "finetune_accuracy": float(acc), "source": origin}
                        for model, acc in table["finetune_accuracy"].items())
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
    if target not in PUBLISHED_FINETUNE_ACCURACY:
        raise InputError(f"target must be one of {', '.join(PUBLISHED_FINETUNE_ACCURACY)} for the published "
                         f"fine-tuning accuracies, got {target!r}")
    row = PUBLISHED_FINETUNE_ACCURACY[target]
    if model not in row:
        raise InputError(f"model must be one of {', '.join(row)} for the published fine-tuning accuracies, "
                         f"got {model!r}")
    return float(row[model]), _origin("sfda")


def _origin(key: str) -> str:
    p = PROVENANCE[key]
    return f"{p['repository']}@{p['commit']}:{p['path']}"
