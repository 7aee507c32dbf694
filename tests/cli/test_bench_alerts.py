"""The benchmarks' fresh-id copies of real alerts: distinct objects with the same light
curves and stamps, in the survey's own format."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from lanner.bench_alerts import (
    SOURCE_ID_BASE,
    SOURCE_STRIDE,
    fresh_id_packets,
    fresh_ztf_object_id,
    onsky_v10_paths,
)
from lanner.ingest import assemble, iter_packets

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


def _per_alert(table, column: str, n: int) -> list[list[object]]:  # type: ignore[no-untyped-def]
    rows = table["row"].to_pylist()
    values = table[column].to_pylist()
    out: list[list[object]] = [[] for _ in range(n)]
    for r, v in zip(rows, values, strict=True):
        out[r].append(v)
    return [sorted(v, key=repr) for v in out]


def test_fresh_ztf_copies_are_distinct_objects_with_the_same_light_curves() -> None:
    packets = list(iter_packets([SAMPLE]))
    source = assemble(packets, None).batch
    m, n = len(source), 2 * len(source) + 7
    fresh = assemble(fresh_id_packets(packets, n), None)
    assert fresh.dead_letters == [] and len(fresh.batch) == n
    ids = fresh.batch.alerts["object_id"].to_pylist()
    assert len(set(ids)) == n and ids[:2] == [fresh_ztf_object_id(0), fresh_ztf_object_id(1)]
    assert not set(ids) & set(source.alerts["object_id"].to_pylist())
    assert fresh.batch.alerts["alert_id"].to_pylist() == [
        SOURCE_ID_BASE + k * SOURCE_STRIDE for k in range(n)
    ]
    copies = [k % m for k in range(n)]
    for name, column in (("detections", "mjd"), ("upper_limits", "mjd")):
        was = _per_alert(getattr(source, name), column, m)
        now = _per_alert(getattr(fresh.batch, name), column, n)
        assert now == [was[c] for c in copies], name
    assert fresh.batch.alerts["mjd"].to_pylist() == [
        source.alerts["mjd"][c].as_py() for c in copies
    ]
    stamps = pc.sum(pc.binary_length(fresh.batch.cutouts["data"])).as_py()
    assert stamps > 2 * pc.sum(pc.binary_length(source.cutouts["data"])).as_py()


def test_fresh_ztf_object_ids_count_in_letters() -> None:
    assert fresh_ztf_object_id(0) == "ZTF99aaaaaaa"
    assert fresh_ztf_object_id(27) == "ZTF99aaaaabb"
    assert fresh_ztf_object_id(26**7 - 1) == "ZTF99zzzzzzz"
    with pytest.raises(ValueError, match="26\\*\\*7"):
        fresh_ztf_object_id(26**7)


def test_ztf_and_rubin_alerts_are_not_mixed(shared_dir: Path) -> None:
    rubin = list(iter_packets(onsky_v10_paths(shared_dir)[:1]))[:2]
    with pytest.raises(ValueError, match="mix ZTF and Rubin"):
        fresh_id_packets(list(iter_packets([SAMPLE]))[:2] + rubin, 10)
