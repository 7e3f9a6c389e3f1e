"""Word-similarity targets of a benchmark suite (``wordsim353``, ``simlex999``).

A similarity target is a set of word pairs with human ratings. Its ground truth needs no
training: the Spearman correlation between the cosines of the pair's embeddings and the
ratings (:func:`~transferscope.probes.similarity.similarity_spearman`), with the noise of a
finite pair set measured on random halves of the pairs
(:func:`~transferscope.probes.similarity.half_split_spearman`), so the meta-evaluation's
intervals carry the truth's noise as they do for the repeated-split probes.

The estimators need a labelled target, so they score one row per pair: the element-wise
product of the unit-normalised embeddings
(:func:`~transferscope.probes.similarity.pair_product_features`, whose row sum is the cosine)
against the rating, as a regression. That is our choice, recorded in every cell's settings:
it asks whether a linear read-out of the pair explains the ratings, which the plain cosine
is one instance of.

Each distinct word is encoded once; the cell key is that of the pair set (its pairs and
ratings), the feature cache key that of the word list.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from transferscope.datasets.dataset import Dataset
from transferscope.datasets.similarity_sets import WORD_SIMILARITY_SETS, load_word_similarity
from transferscope.hashing import hash_inputs
from transferscope.probes.similarity import half_split_spearman, pair_product_features, similarity_spearman
from transferscope.workflows.engine.candidates import Candidate

__all__ = ["PAIR_TARGETS", "PAIR_FEATURES", "PairTarget", "load_pair_target", "is_pair_target"]

#: The word-similarity sets a suite can name as targets.
PAIR_TARGETS = tuple(WORD_SIMILARITY_SETS)

#: How the estimators see a pair (recorded in every cell's settings).
PAIR_FEATURES = "product of unit-normalised embeddings (row sum = cosine), rating as regression target"

HALF_SPLIT_REPEATS = 5  # 5 x 2 halves of the pairs: the truth's noise, as for the repeated probes


def is_pair_target(target: str) -> bool:
    """Whether ``target`` names a word-similarity set."""
    return target in PAIR_TARGETS


@dataclass(frozen=True, eq=False)
class PairTarget:
    """A word-similarity set as a benchmark target.

    Attributes
    ----------
    pairs : Dataset
        One sample per pair (input ``"word_a<TAB>word_b"``), the rating as a regression label:
        what the estimators score and what the cell key hashes.
    words : list of str
        The distinct words, encoded once each.
    first, second : numpy.ndarray of int
        Row of each pair's first and second word in ``words``.
    """

    pairs: Dataset
    words: list[str]
    first: np.ndarray
    second: np.ndarray

    @property
    def words_fingerprint(self) -> str:
        """The feature-cache key of the words."""
        return hash_inputs(self.words)

    def pair_candidate(self, word_candidate: Candidate) -> Candidate:
        """``word_candidate`` with one row per pair (:data:`PAIR_FEATURES`) for the estimators."""
        feats = np.asarray(word_candidate.features, dtype=np.float64)
        return dataclasses.replace(word_candidate, features=pair_product_features(feats[self.first],
                                                                                  feats[self.second]),
                                   source_probs=None)

    def truth(self, word_candidate: Candidate, *, seed: int) -> dict[str, Any]:
        """The ground-truth row's value and settings: Spearman of the cosines on all pairs, and on
        :data:`HALF_SPLIT_REPEATS` x 2 random halves (``split_scores``)."""
        feats = np.asarray(word_candidate.features, dtype=np.float64)
        a, b, human = feats[self.first], feats[self.second], self.pairs.labels
        result = similarity_spearman(a, b, human)
        halves = half_split_spearman(a, b, human, repeats=HALF_SPLIT_REPEATS, seed=seed)
        return {"value": result.score,
                "settings": {**result.settings, "pearson": result.metrics["pearson"],
                             "split": f"{HALF_SPLIT_REPEATS} x 2 random halves of the pairs",
                             "split_scores": halves, "seed": seed, "estimator_features": PAIR_FEATURES}}


def load_pair_target(name: str) -> PairTarget:
    """The built-in word-similarity set ``name`` as a :class:`PairTarget`.

    Examples
    --------
    >>> from transferscope.workflows.pair_targets import load_pair_target
    >>> target = load_pair_target("simlex999")
    >>> len(target.pairs), target.pairs.task, len(target.words)
    (999, 'regression', 1028)
    """
    word_a, word_b, scores = pairs = load_word_similarity(name)
    words = pairs.words()
    row = {w: i for i, w in enumerate(words)}
    dataset = Dataset(name, [f"{a}\t{b}" for a, b in zip(word_a, word_b, strict=True)], scores,
                      task="regression", source=pairs.source, licence=pairs.licence,
                      description=pairs.description)
    return PairTarget(dataset, words, np.array([row[w] for w in word_a]), np.array([row[w] for w in word_b]))
