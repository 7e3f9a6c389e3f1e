"""Similarity between two representations of the same inputs: one module per family.

Every measure takes ``(X, Y)`` with the same number of rows (row ``i`` of both
is input ``i``) and declares in ``MetricInfo.measure``, a
:class:`~transferscope.metrics.properties.MeasureProperties`:

- ``kind``: ``"similarity"`` (larger = more alike) or ``"distance"`` (0 = identical);
- ``symmetric``: ``s(X, Y) == s(Y, X)``;
- ``is_metric``: a distance obeying the triangle inequality (on equivalence classes);
- ``range``: ``(low, high)`` bounds, ``None`` where unbounded;
- ``identity``: the value of ``s(X, X)``;
- ``invariant``: an :class:`~transferscope.metrics.properties.Invariances`, one flag per
  name in :data:`~transferscope.metrics.properties.TRANSFORMS`, applied to ``Y`` alone;
- ``min_samples``, ``requires_equal_dims``: rows the declarations need to show, and
  whether ``X`` and ``Y`` must have the same columns.

Tests iterate over the registry and check each declaration in both directions.
"""

from __future__ import annotations

from transferscope.metrics.registry import register_package

__all__: list[str] = []

register_package(__name__, __path__)
