"""Transferability estimators: one module per estimator family.

Each module defines its functions and a list ``METRICS`` of
:class:`~transferscope.metrics.registry.MetricInfo`; every module of this
package is imported here and its ``METRICS`` registered, so adding an
estimator means adding a module.
"""

from __future__ import annotations

from transferscope.metrics.registry import register_package

__all__: list[str] = []

register_package(__name__, __path__)
