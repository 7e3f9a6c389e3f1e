"""Registry of metrics: name -> function + declared properties.

Tests iterate over this registry and check every declared property, so a
declaration is a promise. Add a metric by calling :func:`register` in the
module of its family (see ``transferability/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from transferscope.errors import InputError
from transferscope.metrics.properties import TRANSFORMS, Invariances, MeasureProperties

__all__ = [
    "MetricInfo",
    "MeasureProperties",
    "Invariances",
    "register",
    "register_package",
    "get_metric",
    "list_metrics",
    "FAMILIES",
    "TRANSFORMS",
]

FAMILIES = ("transferability", "similarity", "geometry")


@dataclass(frozen=True)
class MetricInfo:
    """Declared properties of one metric.

    Attributes
    ----------
    uses_features : bool, default=True
        False for a transferability baseline that ignores the features by design.
    required_options : Mapping
        Options a call needs (``{name: a valid value}``), e.g. the prior of a static baseline;
        the registry-wide tests pass them.
    ignores_class_separation : bool, default=False
        A transferability estimator that measures within-class spread only, so that
        moving the classes apart leaves it unchanged.
    measure : MeasureProperties or None
        The declarations of a similarity or geometry measure (required there); None for
        a transferability estimator.
    """

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
    uses_features: bool = True
    required_options: Mapping[str, Any] = field(default_factory=dict)
    ignores_class_separation: bool = False
    measure: MeasureProperties | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_options", MappingProxyType(dict(self.required_options)))
        if self.family == "transferability":
            if self.measure is not None:
                raise ValueError(f"{self.name}: a transferability estimator declares no measure properties")
            return
        if self.family not in FAMILIES:
            return  # register() names the unknown family
        if not isinstance(self.measure, MeasureProperties):
            raise ValueError(f"{self.name}: a {self.family} measure must declare measure=MeasureProperties(...)")
        if (self.measure.kind == "geometry") != (self.family == "geometry"):
            raise ValueError(f"{self.name}: a {self.family} measure cannot be of kind {self.measure.kind!r}")
        if self.family == "similarity" and self.higher_is_better != (self.measure.kind == "similarity"):
            raise ValueError(f"{self.name}: higher_is_better must be True for a similarity and False for a distance")
        if not self.uses_features or self.ignores_class_separation:
            raise ValueError(f"{self.name}: uses_features and ignores_class_separation are for transferability")

    @property
    def takes_task(self) -> bool:
        """Whether ``func`` takes ``task=``: by declaration, every estimator of several task types
        that looks at the data does (tests/test_registry.py checks it against the signatures)."""
        return self.family == "transferability" and len(self.task_types) > 1 and self.uses_features

    def as_row(self) -> dict[str, Any]:
        """A flat description, for tables and JSON.

        Similarity and geometry measures add their declared properties: kind,
        symmetry, metric axioms (empty for geometry), range and the transforms
        they are invariant to.
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
        if self.measure is not None:
            m = self.measure
            pair = self.family == "similarity"
            low, high = m.range
            row.update({
                "kind": m.kind if pair else "",
                "symmetric": m.symmetric if pair else "",
                "is_metric": m.is_metric if pair else "",
                "range": f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]",
                "invariant_to": ",".join(m.invariant.names()),
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
