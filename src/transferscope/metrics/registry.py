"""Registry of metrics: name -> function + declared properties.

Tests iterate over this registry and check every declared property, so a
declaration is a promise. Add a metric by calling :func:`register` in the
module of its family (see ``transferability/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transferscope.errors import InputError

__all__ = ["MetricInfo", "register", "register_package", "get_metric", "list_metrics", "FAMILIES", "TRANSFORMS"]

FAMILIES = ("transferability", "similarity", "geometry")

#: Transformations whose (non-)invariance a similarity or geometry measure
#: declares in ``properties["invariant"]``. For a similarity ``s(X, Y)`` the
#: transformation is applied to ``Y`` alone; for a geometry ``g(X)`` to ``X``.
#: "permutation" permutes feature columns; "sample_order" permutes the rows
#: (of both X and Y for a similarity).
TRANSFORMS = (
    "orthogonal",
    "isotropic_scaling",
    "translation",
    "invertible_linear",
    "permutation",
    "sample_order",
)


@dataclass(frozen=True)
class MetricInfo:
    """Declared properties of one metric."""

    name: str
    family: str
    func: Callable[..., float]
    summary: str
    citation: str
    task_types: tuple[str, ...] = ()
    needs_source_probs: bool = False
    higher_is_better: bool = True
    deterministic_given_seed: bool = True
    uses_seed: bool = False
    complexity: str = ""
    unreliable_when: str = ""
    #: A transferability estimator whose value does not change when the features are
    #: multiplied by a positive number (or that ignores the features). Features of extreme
    #: magnitude are then rescaled exactly; for the others they are refused by name.
    scale_invariant: bool = False
    properties: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """A flat description, for tables and JSON.

        Similarity and geometry measures add their declared properties: kind,
        symmetry, metric axioms, range and the transforms they are invariant to.
        """
        row: dict[str, Any] = {
            "name": self.name,
            "family": self.family,
            "task_types": ",".join(self.task_types),
            "needs_source_probs": self.needs_source_probs,
            "higher_is_better": self.higher_is_better,
            "scale_invariant": self.scale_invariant,
            "deterministic_given_seed": self.deterministic_given_seed,
            "complexity": self.complexity,
            "summary": self.summary,
            "citation": self.citation,
            "unreliable_when": self.unreliable_when,
        }
        if self.family != "transferability":
            props = self.properties
            low, high = props.get("range", (None, None))
            row.update({
                "kind": props.get("kind", ""),
                "symmetric": props.get("symmetric", ""),
                "is_metric": props.get("is_metric", ""),
                "range": f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]",
                "invariant_to": ",".join(t for t in TRANSFORMS if props.get("invariant", {}).get(t)),
            })
        return row


_REGISTRY: dict[str, MetricInfo] = {}


def register(info: MetricInfo) -> MetricInfo:
    """Add ``info`` to the registry; names are unique across families."""
    if info.family not in FAMILIES:
        raise ValueError(f"unknown family {info.family!r}")
    if info.name in _REGISTRY:
        raise ValueError(f"metric {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


def register_package(package: str, path: Any) -> None:
    """Import every public module of ``package`` and register its ``METRICS``.

    Each module of a family package defines its functions and a list
    ``METRICS`` of :class:`MetricInfo`; modules whose name starts with ``_``
    are private helpers. The functions stay in their modules (import them as
    ``from transferscope.metrics.similarity.cka import cka``): putting them on
    the package would shadow the modules of the same name.
    """
    import importlib
    import pkgutil

    for module_info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{module_info.name}")
        for info in getattr(module, "METRICS", []):
            register(info)


def get_metric(name: str, family: str | None = None) -> MetricInfo:
    """Look up a metric by name (case-insensitive), optionally within a family."""
    _load_families()
    key = str(name).strip().lower()
    info = _REGISTRY.get(key)
    if info is None or (family is not None and info.family != family):
        known = sorted(n for n, i in _REGISTRY.items() if family is None or i.family == family)
        raise InputError(f"unknown metric {name!r}; known: {', '.join(known)}")
    return info


def list_metrics(family: str | None = None) -> list[MetricInfo]:
    """All registered metrics, optionally of one family, sorted by name."""
    _load_families()
    if family is not None and family not in FAMILIES:
        raise InputError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    return sorted(
        (i for i in _REGISTRY.values() if family is None or i.family == family),
        key=lambda i: i.name,
    )


def _load_families() -> None:
    # Importing a family package registers its metrics.
    from transferscope.metrics import geometry, similarity, transferability  # noqa: F401
