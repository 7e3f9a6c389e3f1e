"""A triangular matrix product through BLAS that releases the GIL.

``left @ triu(square)`` costs half a full product in BLAS's ``strmm``. SciPy exposes it as
``scipy.linalg.blas.strmm``, but that wrapper holds the GIL for the whole call, so products run in
threads (one target per thread in :func:`transferscope.workflows.meta.meta_evaluate`) run one at
a time. The same routine is published for compiled callers in ``scipy.linalg.cython_blas``; called
through :mod:`ctypes` (which releases the GIL around a foreign call) it runs side by side.
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any

import numpy as np

__all__ = ["upper_triangular_product"]


@cache
def _strmm() -> Any:
    """BLAS ``strmm`` from SciPy's Cython BLAS table, as a ctypes function; None if SciPy does not
    publish it."""
    import scipy.linalg.cython_blas as cython_blas

    capsule = getattr(cython_blas, "__pyx_capi__", {}).get("strmm")
    if capsule is None:
        return None
    get_name, get_pointer = ctypes.pythonapi.PyCapsule_GetName, ctypes.pythonapi.PyCapsule_GetPointer
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    address = get_pointer(capsule, get_name(capsule))
    flag, size = ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)
    return ctypes.CFUNCTYPE(None, flag, flag, flag, flag, size, size, ctypes.POINTER(ctypes.c_float),
                            ctypes.c_void_p, size, ctypes.c_void_p, size)(address)


def upper_triangular_product(left: Any, square: Any, *, scale: float = 1.0, overwrite: bool = False) -> np.ndarray:
    """``scale * left @ triu(square)`` in float32: only the upper triangle of ``square`` (its
    diagonal included) is read, and half the multiplications of a full product are made.

    Parameters
    ----------
    left : array of shape (m, n)
    square : array of shape (n, n)
    scale : float
        A factor applied in the product (saves a pass over ``square``).
    overwrite : bool
        Write the product over ``left`` where it is a C-ordered float32 array (saves a copy).

    Returns
    -------
    numpy.ndarray of shape (m, n), float32

    Examples
    --------
    >>> left = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> upper_triangular_product(left, np.array([[1.0, 1.0], [9.0, 1.0]])).tolist()
    [[1.0, 3.0], [3.0, 7.0]]
    """
    # BLAS writes over its right-hand operand: a copy of left unless it may be overwritten.
    out = (np.asarray if overwrite else np.array)(left, dtype=np.float32, order="C")
    matrix = np.ascontiguousarray(square, dtype=np.float32)
    if out.ndim != 2 or matrix.shape != (out.shape[1], out.shape[1]):
        raise ValueError(f"left must be (m, n) and square (n, n), got {out.shape} and {matrix.shape}")
    strmm = _strmm()
    if strmm is None or out.size == 0:
        return (out @ np.triu(matrix)) * np.float32(scale)
    # Row-major buffers read as column-major are the transposes: out' = triu(square)' left', a
    # lower-triangular matrix on the left.
    rows, cols = ctypes.c_int(out.shape[1]), ctypes.c_int(out.shape[0])
    strmm(b"L", b"L", b"N", b"N", ctypes.byref(rows), ctypes.byref(cols), ctypes.byref(ctypes.c_float(scale)),
          matrix.ctypes.data, ctypes.byref(rows), out.ctypes.data, ctypes.byref(rows))
    return out
