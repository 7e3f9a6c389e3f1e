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
    """A dependency is missing; the message gives the ``pip install`` line.

    ``extra`` names the optional extra that provides ``module``; ``None`` means
    ``module`` is a core dependency (``package`` is its name on PyPI), so the
    installation itself is broken.

    Examples
    --------
    >>> str(MissingExtraError("ray", "scale"))
    "this feature needs the optional dependency 'ray': pip install 'transferscope[scale]'"
    >>> print(MissingExtraError("faiss", None, package="faiss-cpu"))
    transferscope needs 'faiss', a core dependency that is not installed (a broken installation): pip install faiss-cpu
    """

    def __init__(self, module: str, extra: str | None, *, package: str | None = None) -> None:
        if extra is None:
            message = (f"transferscope needs '{module}', a core dependency that is not installed "
                       f"(a broken installation): pip install {package or module}")
        else:
            message = f"this feature needs the optional dependency '{module}': pip install 'transferscope[{extra}]'"
        super().__init__(message)
        self.module = module
        self.extra = extra
