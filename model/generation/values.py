"""Reading one JSON value of a request: a numpy scalar as the Python value
it holds, and a number checked against its bounds. Shared by the request
(request.py) and its controls (controls.py); each problem raises
RequestError naming the field, with the value quoted short."""

from __future__ import annotations

import math

import numpy as np

from ..errors import RequestError, quote


def plain(value, field: str):
    """A numpy scalar as the Python value it holds (pretty_midi gives np.int64
    programs); a numpy array is refused, since no field of the contract is one."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        raise RequestError(
            field, f"expected a single value, got an array of shape {tuple(value.shape)}"
        )
    return value


def number(
    value,
    field: str,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    lo_open: bool = False,
):
    value = plain(value, field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(field, f"expected a number, got {type(value).__name__} {quote(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RequestError(field, f"expected a finite number, got {value!r}")
        if integer:
            if not value.is_integer():
                raise RequestError(field, f"expected an integer, got {value!r}")
            value = int(value)
    # an int of any size compares exactly with ints and floats: no overflow here
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise RequestError(field, f"must be {'>' if lo_open else '>='} {lo}, got {quote(value)}")
    if hi is not None and value > hi:
        raise RequestError(field, f"must be <= {hi}, got {quote(value)}")
    if not integer:
        try:
            value = float(value)
        except OverflowError:
            raise RequestError(field, f"expected a finite number, got {quote(value)}") from None
    return value
