"""Transferability estimators: one module per estimator family.

Each module defines its functions and a list ``METRICS`` of
:class:`~transferscope.metrics.registry.MetricInfo`; every module of this
package is imported here and its ``METRICS`` registered, so adding an
estimator means adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from transferscope.metrics.registry import register

__all__: list[str] = []

for _module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module_info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_module_info.name}")
    for _info in getattr(_module, "METRICS", []):
        register(_info)
        globals()[_info.func.__name__] = _info.func
        __all__.append(_info.func.__name__)
