"""JSON as other programs read it: a number that is not finite (NaN, infinity) becomes null, as
``json.dumps`` would otherwise write ``NaN``, which is not JSON (a latency percentile of no
decisions, an accuracy of an empty split). Every JSON the tool prints or writes goes through here."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["json_text", "finite"]


def finite(obj: Any) -> Any:
    """``obj`` with every non-finite float (NumPy's too) inside dicts, lists and tuples as None."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, float) or _numpy_float(obj):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def _numpy_float(obj: Any) -> bool:
    """A NumPy float scalar, told without importing NumPy (command lines that print JSON start fast)."""
    return type(obj).__module__ == "numpy" and getattr(obj, "ndim", None) == 0 and obj.dtype.kind == "f"


def json_text(obj: Any, indent: int | None = None, default: Callable[[Any], Any] | None = None) -> str:
    """``obj`` as strict JSON (see the module docstring)."""
    return json.dumps(finite(obj), indent=indent, default=default, allow_nan=False)
