"""Agreement study of Lanner's sky context on the ZTF Bright Transient Survey (BTS).

Classifies the 5,417 BTS positions with the packaged library and compares:

* with the objects' TNS classes (SN-type transients should come out SN/NT/ORPHAN, stars
  VS/BS/CV, AGN as AGN/NT);
* with the real Sherlock (qub-sherlock 3.1.0) run on the same positions and catalogues
  (``shared/reference/sherlock/results/ztf_bts_sherlock.csv``).

Usage::

    python scripts/context_agreement.py [SHARED_DIR] > agreement.md

Prints Markdown tables (used in docs/context.md).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

from lanner.enrich.context import ContextClassifier

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["SN", "NT", "ORPHAN", "AGN", "VS", "BS", "CV"]
GROUPS = {
    "SN Ia": ("SN Ia",),
    "SN II/Ib/c/IIn/SLSN": (
        "SN II",
        "SN Ib",
        "SN Ic",
        "SN IIn",
        "SN IIb",
        "SLSN",
        "SN Ibn",
        "SN Ic-BL",
        "SN Ib/c",
    ),
    "TDE": ("TDE",),
    "AGN/QSO": ("AGN", "QSO", "Blazar", "BL Lac"),
    "CV/nova": ("CV", "Nova", "nova", "CV Candidate", "LRN", "ILRT"),
    "star": ("star", "Star", "YSO", "M dwarf", "Varstar", "stellar"),
}


def group_of(tns_type: str) -> str:
    tns_type = tns_type.rstrip("?")
    for name, prefixes in GROUPS.items():
        if any(
            tns_type == p or tns_type.startswith(p + "-") or tns_type.startswith(p + " ")
            for p in prefixes
        ):
            return name
    return "unclassified" if tns_type in ("-", "") else "other"


def main() -> None:
    shared = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("LANNER_SHARED", REPO.parent / "shared"))
    )
    bts = pacsv.read_csv(shared / "data/catalogs/transients/ztf_bts_explorer_2022-09-01.csv.gz")
    peer = pacsv.read_csv(shared / "reference/sherlock/results/ztf_bts_sherlock.csv")
    peer_class = dict(
        zip(peer["name"].to_pylist(), peer["classification"].to_pylist(), strict=True)
    )
    ids = bts["ZTFID"].to_pylist()
    ra = bts["ra_deg"].to_numpy().astype(float)
    dec = bts["dec_deg"].to_numpy().astype(float)
    types = [str(t) for t in bts["type"].to_pylist()]
    ours = ContextClassifier().classify(ra, dec, survey="ztf")
    cls = ours["classification"].to_pylist()
    cats = ours["catalogue_table_name"].to_pylist()
    objs = ours["catalogue_object_id"].to_pylist()
    seps = ours["separationArcsec"].to_pylist()

    print("| TNS group | n | " + " | ".join(CLASSES) + " |")
    print("|---|---:|" + "---:|" * len(CLASSES))
    by_group: dict[str, Counter[str]] = {}
    for t, c in zip(types, cls, strict=True):
        by_group.setdefault(group_of(t), Counter())[c] += 1
    for g in [*GROUPS, "other", "unclassified"]:
        counts = by_group.get(g, Counter())
        n = sum(counts.values())
        print(f"| {g} | {n} | " + " | ".join(str(counts[c]) for c in CLASSES) + " |")

    peer_cls = [peer_class.get(i, "missing") for i in ids]
    agree = sum(a == b for a, b in zip(cls, peer_cls, strict=True))
    print(
        f"\nSame class as the real Sherlock: {agree} of {len(ids)} "
        f"({100 * agree / len(ids):.1f}%)\n"
    )
    pairs = Counter(zip(peer_cls, cls, strict=True))
    print("| Sherlock \u2192 Lanner | n |\n|---|---:|")
    for (a, b), n in sorted(pairs.items(), key=lambda kv: -kv[1]):
        print(f"| {a} \u2192 {b} | {n} |")
    peer_cat = dict(
        zip(peer["name"].to_pylist(), peer["matched_catalogue"].to_pylist(), strict=True)
    )
    print("\nEvery disagreement:\n")
    print("| object | Sherlock | Lanner | Lanner's match | separation [\u2033] |")
    print("|---|---|---|---|---:|")
    for i, a, b, c, o, sep in zip(ids, peer_cls, cls, cats, objs, seps, strict=True):
        if a == b:
            continue
        theirs = f" ({peer_cat.get(i)})" if peer_cat.get(i) else ""
        where = f"{c} {o}" if c else ""
        shown = f"{sep:.1f}" if sep is not None else ""
        print(f"| {i} | {a}{theirs} | {b} | {where} | {shown} |")
    matched = np.asarray([c != "ORPHAN" for c in cls])
    print(f"\nMatched to any catalogue: {int(matched.sum())} of {len(ids)}")
    shared_alerts(shared)


def shared_alerts(shared: Path) -> None:
    """Classes of the shared real alerts, ZTF with and without the packets' PS1 neighbour."""
    from lanner.enrich.context.enricher import SkyContext
    from lanner.ingest import read_alerts

    with_ps1, without = SkyContext(), SkyContext(use_packet_neighbours=False)
    print("\n| alerts | n | " + " | ".join(CLASSES) + " |")
    print("|---|---:|" + "---:|" * len(CLASSES))
    for survey in ("ztf", "lsst"):
        paths = sorted((shared / "data/alerts" / survey).rglob("*.avro"))
        batch = read_alerts(paths, survey=survey)
        runs = [("catalogues + PS1 neighbour", with_ps1), ("catalogues only", without)]
        for label, enricher in runs if survey == "ztf" else runs[1:]:
            counts = Counter(enricher(batch)["classification"].to_pylist())
            row = " | ".join(str(counts[c]) for c in CLASSES)
            print(f"| {survey.upper()} {label} | {len(batch)} | {row} |")


if __name__ == "__main__":
    main()
