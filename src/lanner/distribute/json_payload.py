"""JSON encoding of match messages that keeps 64-bit ids exact.

Input: dicts of Python, numpy and pyarrow scalars as filters produce them.
Output: UTF-8 JSON bytes. Integers (Python, numpy int64/uint64) are written as
JSON numbers digit for digit, never through float, so a Rubin ``diaObjectId``
such as 169298433221853273 survives; NaN and infinities become ``null`` (JSON has
no NaN); bytes become base64 text; dates become ISO 8601. No side effects.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` recursively into types :mod:`json` writes exactly."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)  # exact for every int64/uint64
    if isinstance(value, np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    as_py = getattr(value, "as_py", None)  # pyarrow scalars
    if callable(as_py):
        return to_jsonable(as_py())
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json_bytes(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON with exact integers and no NaN."""
    return json.dumps(
        to_jsonable(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
