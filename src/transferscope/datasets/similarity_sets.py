"""Human-rated word pairs for the word-similarity protocol (no training needed).

The two classic sets ship as test data inside the PyPI package ``gensim`` (in the
``demo`` extra), so nothing is downloaded at run time. The files are read as
they are: words keep their case (WordSim-353 has ``CD``, ``FBI``, ...), and every
row is kept, including WordSim-353's ``money``/``cash`` pair, which the file
lists twice (ratings 9.15 and 9.08, from the collection's two rater sets).

gensim is located with :func:`importlib.util.find_spec`, never imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transferscope.errors import InputError, MissingExtraError

__all__ = [
    "WordPairs",
    "WordSimilaritySet",
    "WORD_SIMILARITY_SETS",
    "load_word_similarity",
    "load_wordsim353",
    "load_simlex999",
]


@dataclass(frozen=True)
class WordSimilaritySet:
    """Description of a built-in word-similarity set and where its file lives."""

    name: str
    filename: str
    n_pairs: int
    scale: tuple[float, float]
    description: str
    source: str
    licence: str
    package: str = "gensim"


@dataclass(frozen=True, eq=False)
class WordPairs:
    """Word pairs and their mean human rating, with provenance.

    Unpacks as ``word_a, word_b, scores = pairs``.
    """

    name: str
    word_a: list[str]
    word_b: list[str]
    scores: np.ndarray
    source: str
    licence: str
    description: str
    scale: tuple[float, float]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.word_a, self.word_b, self.scores))

    def __len__(self) -> int:
        return len(self.word_a)

    def words(self) -> list[str]:
        """The distinct words of both columns, in first-seen order (encode each once)."""
        return list(dict.fromkeys(self.word_a + self.word_b))


WORD_SIMILARITY_SETS: dict[str, WordSimilaritySet] = {
    s.name: s
    for s in (
        WordSimilaritySet(
            "wordsim353", "wordsim353.tsv", 353, (0.0, 10.0),
            "353 English word pairs with the mean relatedness rating of 13-16 raters (0-10); "
            "rewards association as well as similarity.",
            "Finkelstein et al., Placing Search in Context: The Concept Revisited, ACM TOIS 20(1), "
            "2002 (WordSimilarity-353 Test Collection); the copy in gensim's test data "
            "(gensim/test/test_data/wordsim353.tsv)",
            "gensim LGPL-2.1-only; the collection carries no licence of its own and is distributed "
            "by its authors for research use (cite the paper)",
        ),
        WordSimilaritySet(
            "simlex999", "simlex999.txt", 999, (0.0, 10.0),
            "999 English word pairs (666 noun, 222 verb, 111 adjective) with the mean similarity "
            "rating (0-10); related but dissimilar pairs (clothes, closet) score low.",
            "Hill, Reichart & Korhonen, SimLex-999: Evaluating Semantic Models with (Genuine) "
            "Similarity Estimation, Computational Linguistics 41(4), 2015; the copy in gensim's "
            "test data (gensim/test/test_data/simlex999.txt)",
            "gensim LGPL-2.1-only; the set carries no licence of its own and is distributed by its "
            "authors for research use (cite the paper)",
        ),
    )
}


def _gensim_test_data() -> Path:
    spec = importlib.util.find_spec("gensim")
    if spec is None or spec.origin is None:
        raise MissingExtraError("gensim", "demo")
    return Path(spec.origin).parent / "test" / "test_data"


def _read_pairs(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    word_a: list[str] = []
    word_b: list[str] = []
    scores: list[float] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise InputError(f"{path}: line {number} should be 'word<TAB>word<TAB>score'")
        word_a.append(parts[0].strip())
        word_b.append(parts[1].strip())
        scores.append(float(parts[2]))
    return word_a, word_b, np.asarray(scores, dtype=np.float64)


def load_word_similarity(name: str) -> WordPairs:
    """Load a built-in word-similarity set by name (``wordsim353`` or ``simlex999``).

    Parameters
    ----------
    name : {"wordsim353", "simlex999"}

    Returns
    -------
    WordPairs
        ``word_a`` and ``word_b`` (lists of str), ``scores`` (float64 array of mean
        human ratings), and ``source`` / ``licence`` / ``description``. Unpacks as
        ``word_a, word_b, scores``.

    Raises
    ------
    InputError
        For an unknown ``name``.
    MissingExtraError
        When gensim (the ``demo`` extra) is not installed.

    Examples
    --------
    >>> from transferscope.datasets.similarity_sets import load_word_similarity
    >>> word_a, word_b, scores = load_word_similarity("simlex999")
    >>> len(word_a), word_a[1], word_b[1], float(scores[1])
    (999, 'smart', 'intelligent', 9.2)
    """
    info = WORD_SIMILARITY_SETS.get(name) if isinstance(name, str) else None
    if info is None:
        raise InputError(
            f"name must be one of {', '.join(map(repr, sorted(WORD_SIMILARITY_SETS)))}, got {name!r}"
        )
    word_a, word_b, scores = _read_pairs(_gensim_test_data() / info.filename)
    if len(word_a) != info.n_pairs:  # a changed upstream file must not pass unnoticed
        raise InputError(f"{info.filename} holds {len(word_a)} pairs; expected {info.n_pairs}")
    return WordPairs(info.name, word_a, word_b, scores, info.source, info.licence,
                     info.description, info.scale)


def load_wordsim353() -> WordPairs:
    """WordSim-353: 353 pairs rated for relatedness (see :func:`load_word_similarity`).

    Examples
    --------
    >>> from transferscope.datasets.similarity_sets import load_wordsim353
    >>> pairs = load_wordsim353()
    >>> len(pairs), pairs.word_a[0], pairs.word_b[0], float(pairs.scores[0])
    (353, 'love', 'sex', 6.77)
    """
    return load_word_similarity("wordsim353")


def load_simlex999() -> WordPairs:
    """SimLex-999: 999 pairs rated for similarity (see :func:`load_word_similarity`).

    Examples
    --------
    >>> from transferscope.datasets.similarity_sets import load_simlex999
    >>> len(load_simlex999())
    999
    """
    return load_word_similarity("simlex999")
