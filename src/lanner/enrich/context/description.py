"""Human-readable sentences for the context rows, built column-wise with Arrow compute.

Input: the per-position context columns (numpy arrays). Output: ``description`` (a sentence)
and ``summary`` (a quick-look phrase) arrays. No side effects.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ARCSEC = "\u2033"
# Built once: passing keyword options to pyarrow.compute on each call costs an import lookup.
_EMIT_NULL = pc.JoinOptions(null_handling="emit_null")
_EMPTY = pa.scalar("", pa.string())


def _fmt(values: np.ndarray, digits: int) -> pa.Array:
    """Numbers rounded to ``digits`` as strings; NULL where NaN."""
    arr = pa.array(np.asarray(values, dtype=np.float64), from_pandas=True)
    return pc.cast(pc.round(arr, digits), pa.string())


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate element-wise; NULL if any part is NULL."""
    # Literal strings go in as Arrow scalars: converting Python objects inside the kernel
    # call triggers an import lookup per call.
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, _EMPTY, options=_EMIT_NULL)


def _optional(*parts: pa.Array | str) -> pa.Array:
    """Concatenate, or an empty string where any part is NULL."""
    return pc.fill_null(_join(*parts), _EMPTY)


def _choose(mask: np.ndarray, a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask, type=pa.bool_()), a, b)


def describe(values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Description sentence and summary phrase of each context row (NULL where the row's
    classification is NULL)."""
    cls = np.asarray(values["classification"], dtype=object)
    n = cls.size
    known = np.asarray([c is not None for c in cls])
    cls_s = _text(cls)
    rel = np.asarray(values["classificationReliability"], dtype=np.float64)
    sep = _fmt(values["separationArcsec"], 2)
    north = np.asarray(values["northSeparationArcsec"], dtype=np.float64)
    east = np.asarray(values["eastSeparationArcsec"], dtype=np.float64)
    ns = pa.array(np.where(north >= 0, "N", "S"))
    ew = pa.array(np.where(east >= 0, "E", "W"))
    offset = _optional(
        " (", ns, _fmt(np.abs(north), 2), ARCSEC, " ", ew, _fmt(np.abs(east), 2), ARCSEC, ")"
    )
    cat = _text(values["catalogue_table_name"])
    oid = pc.fill_null(_text(values["catalogue_object_id"]), "(unnamed)")
    otype = pc.fill_null(_text(values["catalogue_object_type"]), "source")
    subtype = _optional(", type ", _text(values["catalogue_object_subtype"]))
    mag = _optional(", ", _text(values["MagFilter"]), " = ", _fmt(values["Mag"], 2), " mag")
    dist = _optional(", ", _fmt(values["distance"], 1), " Mpc")
    z = _optional(", z = ", _fmt(values["z"], 4))
    kpc = _optional(" (", _fmt(values["physical_separation_kpc"], 1), " kpc)")
    source = _join(otype, " ", oid, " in ", cat, subtype, mag, dist, z)

    synonym = _join("The transient is synonymous with ", source, ": ", sep, ARCSEC, " away.")
    core = _join(
        "The transient sits on the core of ",
        source,
        ": ",
        sep,
        ARCSEC,
        offset,
        " from its centre; a nuclear transient or AGN activity.",
    )
    sn = _join(
        "The transient is possibly associated with ",
        source,
        ": ",
        sep,
        ARCSEC,
        kpc,
        offset,
        " from its centre; a supernova-like transient in or near this galaxy.",
    )
    bs = _join(
        "The transient lies ",
        sep,
        ARCSEC,
        offset,
        " from bright ",
        source,
        ", inside its halo; it may be an artefact of the star.",
    )
    assoc = _join(
        "The transient is possibly associated with ", source, ": ", sep, ARCSEC, offset, " away."
    )
    orphan = pa.array(["No catalogued source lies within the search radii of the transient."] * n)

    text = assoc
    text = _choose(cls == "BS", bs, text)
    text = _choose(cls == "SN", sn, text)
    text = _choose(rel == 1, synonym, text)
    text = _choose(cls == "NT", core, text)
    text = _choose(cls == "ORPHAN", orphan, text)
    text = _choose(known, text, pa.nulls(n, pa.string()))

    short = _join(cls_s, ": ", sep, ARCSEC, " from ", cat, " ", oid)
    short = _choose(cls == "ORPHAN", pa.array(["ORPHAN: no catalogued source"] * n), short)
    short = _choose(known, short, pa.nulls(n, pa.string()))
    return np.asarray(text.to_pylist(), dtype=object), np.asarray(short.to_pylist(), dtype=object)
