"""Geometry of one representation: one module per family.

Every measure takes ``X`` (samples x dimensions) and declares in
``MetricInfo.measure`` (``MeasureProperties.geometry(...)``, of kind ``"geometry"``):

- ``range``: ``(low, high)`` bounds, ``None`` where unbounded;
- ``invariant``: an :class:`~transferscope.metrics.properties.Invariances`, one flag per
  name in :data:`~transferscope.metrics.properties.TRANSFORMS`, applied to ``X``.

Tests iterate over the registry and check each declaration in both directions.
"""

from __future__ import annotations

from transferscope.metrics.registry import register_package

__all__: list[str] = []

register_package(__name__, __path__)
