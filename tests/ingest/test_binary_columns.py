"""Image stamps become one Arrow binary column with a single copy, and are bound to the
database as views into it, not copies: the values are the same either way."""

from __future__ import annotations

import importlib
import os
import sqlite3

import pyarrow as pa
import pytest

from lanner.store import database

# The module (the package exports its function of the same name).
assemble = importlib.import_module("lanner.ingest.assemble")


def test_binary_array_equals_arrows_own_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    data: list[object] = [os.urandom(n) for n in (5, 0, 17, 3, 40, 1)]
    expected = pa.array(data, pa.binary())
    assert assemble.binary_array(data).combine_chunks().equals(expected)
    # Past the chunk size a new chunk starts (Arrow's 32-bit offsets); a value larger than
    # the chunk size gets a chunk of its own.
    monkeypatch.setattr(assemble, "BINARY_CHUNK_BYTES", 20)
    chunked = assemble.binary_array(data)
    assert [len(c) for c in chunked.chunks] == [2, 2, 1, 1]
    assert [c.buffers()[2].size for c in chunked.chunks] == [5, 20, 40, 1]
    assert chunked.combine_chunks().equals(expected)
    assert len(assemble.binary_array([])) == 0
    # Anything but bytes goes through Arrow's own conversion.
    assert assemble.binary_array(["ab", b"c"]).to_pylist() == [b"ab", b"c"]


def test_blobs_are_views_of_the_values_with_nulls_kept() -> None:
    values = [b"abc", None, b"", b"defgh", b"ij"]
    column = pa.chunked_array([pa.array(values[:2], pa.binary()), pa.array(values[2:])])
    sliced = pa.chunked_array([pa.array(values, pa.binary()).slice(1, 3)])
    blobs = database._blobs(column)
    assert all(b is None or isinstance(b, memoryview) for b in blobs)
    assert [None if b is None else bytes(b) for b in blobs] == values
    assert [None if b is None else bytes(b) for b in database._blobs(sliced)] == values[1:4]
    empty = pa.chunked_array([pa.array([b"", None], pa.binary())])
    assert [None if b is None else bytes(b) for b in database._blobs(empty)] == [b"", None]
    # SQLite stores a view as the BLOB it points to.
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (i INTEGER, b BLOB)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(blobs)))
    assert [r[0] for r in con.execute("SELECT b FROM t ORDER BY i")] == values
