"""Every alert file in the shared data decodes, or is dead-lettered with a stated reason."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from lanner.ingest import assemble, iter_packets

ELASTICC = "ELAsTiCC simulation, not a Rubin alert schema"


def manifest(alerts_dir: Path) -> list[dict[str, str]]:
    with open(alerts_dir / "MANIFEST.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_every_shared_alert_is_accounted_for(alerts_dir: Path, survey: str) -> None:
    rows = [r for r in manifest(alerts_dir) if r["local_path"].startswith(survey + "/")]
    expected = sum(int(r["n_alerts"]) for r in rows)
    result = assemble(iter_packets([alerts_dir / survey]), survey)  # type: ignore[arg-type]
    assert len(result.batch) + len(result.dead_letters) == expected
    reasons = Counter(d.reason for d in result.dead_letters)
    if survey == "ztf":
        assert not reasons, reasons
    else:
        # The only Rubin-family files that are refused are ELAsTiCC simulations (82 alerts).
        elasticc = sum(int(r["n_alerts"]) for r in rows if r["group"] == "elasticc")
        assert reasons == Counter({f"unsupported schema elasticc.v0_9.alert: {ELASTICC}": elasticc})


#: Fink wrote diaObject.diaObjectId or ssSource.ssObjectId as float64 in some files of these
#: groups; MANIFEST.tsv lists those ids rounded to the nearest float64 (PROVENANCE.md), while
#: Lanner stores the exact int64 copy that diaSource carries.
FLOAT_ID_GROUPS = ("ffilters", "fsci")
FLOAT_ID_FIELDS = (("diaObject", "diaObjectId"), ("ssSource", "ssObjectId"))


def _float_id_fields(path: Path) -> list[tuple[str, str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return [
        (struct, field)
        for struct, field in FLOAT_ID_FIELDS
        if struct in schema.names
        and pa.types.is_floating(schema.field(struct).type.field(field).type)
    ]


def _float_id_files(alerts_dir: Path) -> list[Path]:
    return [
        alerts_dir / r["local_path"]
        for r in manifest(alerts_dir)
        if r["group"] in FLOAT_ID_GROUPS
        and r["local_path"].endswith(".parquet")
        and _float_id_fields(alerts_dir / r["local_path"])
    ]


def test_object_ids_match_the_manifest(alerts_dir: Path) -> None:
    """Each file's objects come out with the ids the manifest lists (64-bit ids exact)."""
    float_files = {p.relative_to(alerts_dir).as_posix() for p in _float_id_files(alerts_dir)}
    assert len(float_files) == 2, float_files
    for survey in ("ztf", "lsst"):
        rows = [
            r
            for r in manifest(alerts_dir)
            if r["local_path"].startswith(survey + "/") and r["group"] != "elasticc"
        ]
        batch = assemble(iter_packets([alerts_dir / survey]), survey).batch  # type: ignore[arg-type]
        got = set(batch.alerts["object_id"].to_pylist())
        want: set[object] = set()
        want_rounded: set[float] = set()
        for r in rows:
            # Long lists end with "…(+N)" in the manifest: compare the ids it spells out.
            for oid in (o for o in r["object_ids"].split(",") if o and not o.startswith("…")):
                # "ss:N": a solar-system source without diaObject, stored under ssObjectId.
                if survey == "ztf":
                    want.add(oid)
                elif r["local_path"] in float_files:
                    want_rounded.add(float(int(oid.removeprefix("ss:"))))
                else:
                    want.add(int(oid.removeprefix("ss:")))
        assert want <= got, sorted(map(str, want - got))[:5]
        assert want_rounded <= {float(i) for i in got if isinstance(i, int)}


def test_float64_object_ids_come_from_the_exact_integer_copy(alerts_dir: Path) -> None:
    """Where a packet's id is a float64, the stored id is diaSource's exact int64 copy."""
    import pyarrow.parquet as pq

    for path in _float_id_files(alerts_dir):
        rows = pq.read_table(path).to_pylist()
        exact = {
            r["diaSource"]["diaObjectId"] or r["diaSource"]["ssObjectId"]
            for struct, _ in _float_id_fields(path)
            for r in rows
            if r[struct] is not None
        }
        assert any(i > 2**53 and float(i) != i for i in exact)  # the float copy is not exact
        batch = assemble(iter_packets([path]), "lsst").batch
        assert exact <= set(batch.alerts["object_id"].to_pylist())


def test_every_ztf_schema_version_is_seen(alerts_dir: Path) -> None:
    batch = assemble(iter_packets([alerts_dir / "ztf"]), "ztf").batch
    versions = set(batch.alerts["schema"].to_pylist())
    for v in (
        "ztf-legacy",
        "ztf-2.0",
        "ztf-3.0",
        "ztf-3.1",
        "ztf-3.2",
        "ztf-3.3",
        "ztf-3.5",
        "ztf-4.01",
        "ztf-4.02",
    ):
        assert v in versions


def test_every_rubin_schema_version_is_seen(alerts_dir: Path) -> None:
    batch = assemble(iter_packets([alerts_dir / "lsst"]), "lsst").batch
    versions = set(batch.alerts["schema"].to_pylist())
    for major, minor in [
        (7, 0),
        (7, 1),
        (7, 2),
        (7, 3),
        (7, 4),
        (8, 0),
        (9, 0),
        (10, 0),
        (11, 0),
        (11, 1),
    ]:
        assert f"lsst.v{major}_{minor}" in versions
