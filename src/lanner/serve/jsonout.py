"""Standard JSON out of archive values: ``NaN``/infinities become ``null``, 64-bit ids stay
exact integers, times become ISO 8601 text.

Input: rows and dicts read from the store (Python, NumPy or date values). Output: a
:class:`LannerJSONResponse` body. Side effects: none.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse


def clean(value: Any) -> Any:
    """``value`` with every float made finite or ``None``, NumPy scalars made Python and
    times made ISO text (dict keys become text)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        return clean(value.item())
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return None  # binary columns (cutouts) are served as files, not in JSON
    return str(value)


def dumps(value: Any) -> bytes:
    return json.dumps(clean(value), allow_nan=False, separators=(",", ":")).encode()


class LannerJSONResponse(JSONResponse):
    """JSON that browsers, JavaScript and strict parsers accept."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
