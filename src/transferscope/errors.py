"""Exceptions raised by transferscope.

Every error caused by what the user passed in is an :class:`InputError`: a
``ValueError`` whose message names the argument and what was expected. The
command line turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = ["InputError", "MissingExtraError"]


class InputError(ValueError):
    """Bad input: the message names the argument and what was expected."""


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` line."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the optional dependency '{module}': "
            f"pip install 'transferscope[{extra}]'"
        )
        self.module = module
        self.extra = extra
