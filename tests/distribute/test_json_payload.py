"""JSON messages keep 64-bit ids exact and never emit NaN."""

from __future__ import annotations

import json
import math
from pathlib import Path

import fastavro
import numpy as np
import pyarrow as pa
import pytest

from lanner.distribute.json_payload import to_json_bytes

RUBIN_ID = 169298433221853273  # diaObjectId of the Rubin v9 sample alert


def test_big_ids_are_written_digit_for_digit() -> None:
    assert float(RUBIN_ID) != RUBIN_ID  # a float round trip would corrupt it
    values = {
        "python": RUBIN_ID,
        "int64": np.int64(RUBIN_ID),
        "uint64": np.uint64(2**64 - 1),
        "arrow": pa.scalar(RUBIN_ID, pa.int64()),
        "array": np.array([RUBIN_ID, -RUBIN_ID], dtype=np.int64),
    }
    text = to_json_bytes(values).decode()
    assert text.count("169298433221853273") == 5  # four values, two array items
    assert "18446744073709551615" in text
    back = json.loads(text)
    assert back["python"] == back["int64"] == back["arrow"] == RUBIN_ID
    assert back["array"] == [RUBIN_ID, -RUBIN_ID]


def test_nan_and_infinity_become_null() -> None:
    text = to_json_bytes({"a": math.nan, "b": np.float32("inf"), "c": [1.5, np.nan]})
    assert json.loads(text) == {"a": None, "b": None, "c": [1.5, None]}


def test_bytes_and_unknown_types() -> None:
    assert json.loads(to_json_bytes({"b": b"\x00\xff"})) == {"b": "AP8="}
    with pytest.raises(TypeError, match="cannot write"):
        to_json_bytes({"x": object()})


def test_real_rubin_alert_id_survives(alerts_dir: Path) -> None:
    path = (
        alerts_dir
        / "lsst/alercebroker__pipeline/libs/lsst_schema_parser/tests/sample_data/sample_v9.avro"
    )
    with path.open("rb") as handle:
        alert = next(iter(fastavro.reader(handle)))
    assert isinstance(alert, dict)
    object_id = alert["diaObject"]["diaObjectId"]
    assert object_id == RUBIN_ID
    decoded = json.loads(to_json_bytes({"diaObjectId": np.array([object_id])[0]}))
    assert decoded["diaObjectId"] == RUBIN_ID
