"""Typed declarations of a similarity or geometry measure: :class:`MeasureProperties`.

A measure's :class:`~transferscope.metrics.registry.MetricInfo` carries one
:class:`MeasureProperties` (``info.measure``): its kind, symmetry, metric axioms,
range, value on identical inputs and, as :class:`Invariances`, the transformations
in :data:`TRANSFORMS` that leave it unchanged. ``tests/test_measure_properties.py``
checks every declaration over the registry in both directions, so a declaration is
a promise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["TRANSFORMS", "KINDS", "Invariances", "MeasureProperties"]


@dataclass(frozen=True)
class Invariances:
    """Which transformations leave a measure unchanged: one flag per name in :data:`TRANSFORMS`.

    For a similarity ``s(X, Y)`` the transformation is applied to ``Y`` alone; for a
    geometry ``g(X)`` to ``X``.

    Attributes
    ----------
    orthogonal : bool
        ``Y -> Y Q`` for an orthogonal ``Q``.
    isotropic_scaling : bool
        ``Y -> c Y`` for a number ``c > 0``.
    translation : bool
        ``Y -> Y + 1 b^T``: a vector added to every row.
    invertible_linear : bool
        ``Y -> Y A`` for an invertible ``A``.
    permutation : bool
        The feature columns permuted.
    sample_order : bool
        The rows permuted (of both ``X`` and ``Y`` for a similarity).

    Examples
    --------
    >>> from transferscope.metrics import Invariances
    >>> inv = Invariances.all_except("invertible_linear")
    >>> inv.orthogonal, inv["invertible_linear"]
    (True, False)
    >>> Invariances.only("isotropic_scaling", "sample_order").names()
    ('isotropic_scaling', 'sample_order')
    """

    orthogonal: bool
    isotropic_scaling: bool
    translation: bool
    invertible_linear: bool
    permutation: bool
    sample_order: bool

    def __post_init__(self) -> None:
        for name, value in self.as_dict().items():
            if not isinstance(value, bool):
                raise TypeError(f"Invariances.{name} must be True or False, got {value!r}")

    @classmethod
    def all_except(cls, *names: str) -> Invariances:
        """Invariant to every transformation except ``names``.

        Raises
        ------
        ValueError
            If a name is not in :data:`TRANSFORMS`.
        """
        excluded = _checked(names)
        return cls(**{t: t not in excluded for t in TRANSFORMS})

    @classmethod
    def only(cls, *names: str) -> Invariances:
        """Invariant to ``names`` alone.

        Raises
        ------
        ValueError
            If a name is not in :data:`TRANSFORMS`.
        """
        included = _checked(names)
        return cls(**{t: t in included for t in TRANSFORMS})

    def __getitem__(self, name: str) -> bool:
        """The flag of transformation ``name`` (a :class:`KeyError` for a name not in :data:`TRANSFORMS`)."""
        if name not in TRANSFORMS:
            raise KeyError(name)
        return bool(getattr(self, name))

    def as_dict(self) -> dict[str, bool]:
        """``{transformation: flag}`` in the order of :data:`TRANSFORMS`."""
        return {t: getattr(self, t) for t in TRANSFORMS}

    def names(self) -> tuple[str, ...]:
        """The transformations declared invariant, in the order of :data:`TRANSFORMS`."""
        return tuple(t for t in TRANSFORMS if getattr(self, t))


#: Transformations whose (non-)invariance a similarity or geometry measure declares
#: (the fields of :class:`Invariances`). "permutation" permutes feature columns;
#: "sample_order" permutes the rows (of both X and Y for a similarity).
TRANSFORMS: tuple[str, ...] = tuple(f.name for f in fields(Invariances))

#: What a measure's value is: a similarity (larger = more alike) or a distance
#: (0 = identical) between two representations, or a geometry statistic of one.
KINDS = ("similarity", "distance", "geometry")


def _checked(names: tuple[str, ...]) -> frozenset[str]:
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transformation(s) {', '.join(map(repr, unknown))}; known: {', '.join(TRANSFORMS)}")
    return frozenset(names)


@dataclass(frozen=True, kw_only=True)
class MeasureProperties:
    """Declared properties of one similarity or geometry measure.

    Attributes
    ----------
    kind : {"similarity", "distance", "geometry"}
        ``"similarity"`` (larger = more alike) or ``"distance"`` (0 = identical) for a
        measure of two representations; ``"geometry"`` for a statistic of one.
    symmetric : bool
        ``s(X, Y) == s(Y, X)``; False for a geometry measure (one argument).
    is_metric : bool
        A distance obeying the triangle inequality (on equivalence classes).
    range : tuple of (float or None, float or None)
        ``(low, high)`` bounds of the default value, ``None`` where unbounded.
    identity : float or None
        The value of ``s(X, X)``; None where it is not a fixed number (and for geometry).
    invariant : Invariances
        The transformations that leave the value unchanged.
    min_samples : int, default=0
        Rows the declarations need to show (the property tests draw at least this many).
    requires_equal_dims : bool, default=False
        ``X`` and ``Y`` must have the same number of columns (the same space).

    Examples
    --------
    >>> from transferscope.metrics import Invariances, MeasureProperties, get_metric
    >>> get_metric("procrustes").measure.invariant.orthogonal
    True
    >>> MeasureProperties.geometry(range=(0.0, None), invariant=Invariances.only("sample_order")).kind
    'geometry'
    """

    kind: str
    symmetric: bool
    is_metric: bool
    range: tuple[float | None, float | None]
    identity: float | None
    invariant: Invariances
    min_samples: int = 0
    requires_equal_dims: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("symmetric", "is_metric", "requires_equal_dims"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.invariant, Invariances):
            raise TypeError(f"invariant must be an Invariances, got {type(self.invariant).__name__}")
        low, high = self.range
        if low is not None and high is not None and not low < high:
            raise ValueError(f"range must have low < high, got {self.range!r}")
        if not isinstance(self.min_samples, int) or isinstance(self.min_samples, bool) or self.min_samples < 0:
            raise ValueError(f"min_samples must be a non-negative int, got {self.min_samples!r}")
        if self.kind == "geometry" and (self.symmetric or self.is_metric or self.identity is not None
                                        or self.requires_equal_dims):
            raise ValueError("a geometry measure has one argument: no symmetry, metric axioms, identity "
                             "value or equal dimensions to declare")

    @classmethod
    def geometry(
        cls,
        *,
        range: tuple[float | None, float | None],
        invariant: Invariances,
        min_samples: int = 0,
    ) -> MeasureProperties:
        """Properties of a geometry measure ``g(X)``: its range and invariances alone."""
        return cls(kind="geometry", symmetric=False, is_metric=False, range=range, identity=None,
                   invariant=invariant, min_samples=min_samples)
