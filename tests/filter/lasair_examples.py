"""Lasair's public example filters, verbatim, with where each comes from.

Every filter printed in the documentation of lsst-uk/lasair-lsst (``docs/source``) and
lsst-uk/lasair4 (``docs/source``) and in their tests, as the three strings of Lasair's
filter form (``selected``, ``tables``, ``conditions``; the web form's SELECT, the tables it
names and WHERE). Where a page gives only the SELECT and WHERE parts, ``tables`` are those
the page says the filter uses (a watchlist as ``watchlist:N`` with its page's id).
``runs`` says whether Lanner runs it unchanged; when it does not, ``why`` says why — in each
such case the filter does not run on Lasair either (a column Lasair does not have, SQL that
MySQL rejects) — and ``error`` is a piece of Lanner's message. Fragments of a longer WHERE
(lines starting with ``AND``) are not listed on their own; the whole clause is.
"""

from __future__ import annotations

from dataclasses import dataclass

LSST_DOCS = "lsst-uk/lasair-lsst docs/source/"
ZTF_DOCS = "lsst-uk/lasair4 docs/source/"


@dataclass(frozen=True)
class LasairExample:
    name: str
    source: str
    survey: str
    selected: str
    tables: str
    conditions: str
    runs: bool = True
    why: str = ""
    #: Text the error message must contain when ``runs`` is False.
    error: str = ""


EXAMPLES: tuple[LasairExample, ...] = (
    LasairExample(
        "lsst make_filter: bright g",
        LSST_DOCS + "core_functions/make_filter.md",
        "lsst",
        "objects.diaObjectId, objects.g_psfFlux, mjdnow()-objects.lastDiaSourceMjdTai AS since",
        "objects",
        "objects.g_psfFlux > 200000",
    ),
    LasairExample(
        "lsst make_filter: bright g, latest first",
        LSST_DOCS + "core_functions/make_filter.md",
        "lsst",
        "objects.diaObjectId, objects.g_psfFlux, mjdnow()-objects.lastDiaSourceMjdTai AS since",
        "objects",
        "objects.g_psfFlux > 200000\nORDER BY objects.lastDiaSourceMjdTai DESC",
    ),
    LasairExample(
        "lsst make_filter: fastfinder annotator",
        LSST_DOCS + "core_functions/make_filter.md",
        "lsst",
        "objects.objectId,\n"
        "JSON_EXTRACT(fastfinder.classdict, '$.lsst-r.absolute_peak_mag_val') as absrmag",
        "objects, annotator:fastfinder",
        "JSON_EXTRACT(fastfinder.classdict, '$.lsst-r.absolute_peak_mag_val') < -19",
        runs=False,
        why="the JSON path '$.lsst-r...' needs the key quoted ('$.\"lsst-r\"...'; MySQL "
        "rejects it too), and objects.objectId is the ZTF id (Lasair-LSST: diaObjectId)",
        error="JSON_EXTRACT needs a literal path",
    ),
    LasairExample(
        "lsst quickstart: front page",
        LSST_DOCS + "quickstart.md",
        "lsst",
        "objects.diaObjectId,\nobjects.ra, objects.decl,\n"
        "mjdnow()-objects.lastDiaSourceMjdTai AS age,\n"
        "sherlock_classifications.classification AS class",
        "objects, sherlock_classifications",
        "mjdnow() - objects.lastDiaSourceMjdTai < 7\n"
        "AND (objects.g_psfFlux > 100000 OR objects.r_psfFlux > 100000)\n"
        "AND objects.nDiaSources > 1\n"
        'AND sherlock_classifications.classification in ("SN", "NT", "CV", "AGN")',
    ),
    LasairExample(
        "lsst quickstart: front page, latest first",
        LSST_DOCS + "quickstart.md",
        "lsst",
        "objects.diaObjectId,\nobjects.ra, objects.decl,\n"
        "mjdnow()-objects.lastDiaSourceMjdTai AS age,\n"
        "sherlock_classifications.classification AS class",
        "objects, sherlock_classifications",
        "mjdnow() - objects.lastDiaSourceMjdTai < 7\n"
        "AND (objects.g_psfFlux > 100000 OR objects.r_psfFlux > 100000)\n"
        "AND objects.nDiaSources > 1\n"
        'AND sherlock_classifications.classification in ("SN", "NT", "CV", "AGN")\n'
        "ORDER BY lastDiaSourceMjdTai DESC",
    ),
    LasairExample(
        "lsst cookbook: SN II from TNS",
        LSST_DOCS + "cookbook.md",
        "lsst",
        "objects.diaObjectId, \n"
        "crossmatch_tns.tns_prefix, crossmatch_tns.tns_name, crossmatch_tns.type",
        "objects, crossmatch_tns",
        'crossmatch_tns.type = "SN II"\nORDER BY lastDiaSourceMJD DESC',
        runs=False,
        why="orders by lastDiaSourceMJD: Lasair-LSST's column is lastDiaSourceMjdTai",
        error="lastDiaSourceMJD",
    ),
    LasairExample(
        "lsst cookbook: several TNS types",
        LSST_DOCS + "cookbook.md",
        "lsst",
        "objects.diaObjectId, \n"
        "crossmatch_tns.tns_prefix, crossmatch_tns.tns_name, crossmatch_tns.type",
        "objects, crossmatch_tns",
        'crossmatch_tns.type in ["SN II", "AGN"]',
        # MySQL rejects the brackets; Lanner reads them as the list the page means.
        why="runs in Lanner only: MySQL rejects IN [...]; Lanner reads it as IN (...)",
    ),
    LasairExample(
        "lsst cookbook: TDE, the collected WHERE",
        LSST_DOCS + "cookbook.md",
        "lsst",
        "objects.diaObjectId",
        "objects, sherlock_classifications",
        "    mjdnow() - objects.lastDiaSourceMJD < 7\n"
        "AND mjdnow() - objects.firstDiaSourceMJD < 30\n"
        "AND objects.BBBRiseRate > 0.2\n"
        "AND objects.latestPairColourTemp > 10  \n"
        "AND objects.penultimatePairColourTemp > 10\n"
        "AND sherlock_classifications.classification in ('SN', 'NT')\n"
        "AND peakExtCorrAbsMag < -19  ",
        runs=False,
        why="lastDiaSourceMJD, firstDiaSourceMJD and peakExtCorrAbsMag are not Lasair-LSST "
        "columns (lastDiaSourceMjdTai, firstDiaSourceMjdTai, absMag)",
        error="lastDiaSourceMJD",
    ),
    LasairExample(
        "lsst cookbook: TDE fast riser, with comments",
        LSST_DOCS + "cookbook.md",
        "lsst",
        "objects.diaObjectId",
        "objects",
        "    mjdnow() - objects.lastDiaSourceMJD < 7   # must be diaSource in last 7 days\n"
        "AND mjdnow() - objects.firstDiaSourceMJD < 30 # nothing before 30 days ago\n"
        "AND objects.BBBRiseRate > 0.2                 # magnitudes per day",
        runs=False,
        why="lastDiaSourceMJD and firstDiaSourceMJD are not Lasair-LSST columns",
        error="lastDiaSourceMJD",
    ),
    LasairExample(
        "lsst porting: the ZTF WHERE ported to LSST",
        LSST_DOCS + "more_info/porting_from_ztf.md",
        "lsst",
        "objects.diaObjectId",
        "objects, sherlock_classifications",
        'sherlock_classifications.classification = "AGN"\n'
        "AND objects.nSources >= 1\n"
        "AND objects.decl < 10\n"
        "AND objects.g_latestMJD > mjdnow() - 7\n"
        "AND (objects.r_psfFlux > 50000 OR objects.g_psfFlux > 50000)\n"
        "AND (objects-ext.r_psfFluxSigma > 10000)\n"
        "AND objects.BBBRiseRate > 0.2",
        runs=False,
        why="objects.nSources is not a Lasair-LSST column (nDiaSources), and "
        "objects-ext.r_psfFluxSigma is a subtraction, not a column (Lanner has "
        "objects.r_psfFluxSigma)",
        error="nSources",
    ),
    LasairExample(
        "ztf porting: the Lasair-ZTF WHERE",
        LSST_DOCS + "more_info/porting_from_ztf.md",
        "ztf",
        "objects.objectId",
        "objects, sherlock_classifications",
        'sherlock_classifications.classification = "AGN"\n'
        "AND objects.ncand >= 1\n"
        "AND objects.decmean < 10\n"
        "AND objects.jdgmax > jdnow() - 7\n"
        "AND (objects.rmag < 20.0 OR objects.gmag < 20.0)\n"
        "AND ((objects.magrmax- objects.magrmin) > 0.5)\n"
        "AND objects.dmdt_g >= 1.5",
    ),
    LasairExample(
        "ztf cookbook: outbursts of Gaia white dwarfs",
        LSST_DOCS + "cookbook.md",
        "ztf",
        "objects.objectId",
        "objects, watchlist:1021",
        "objects.jdmax > jdnow()-365\n"
        "and (objects.dmdt_g > 0.2 OR objects.dmdt_r > 0.2)\n"
        "and objects.ncandgp > 10",
    ),
    LasairExample(
        "ztf client: query",
        LSST_DOCS + "core_functions/client.md",
        "ztf",
        "objectId, gmag",
        "objects",
        "gmag < 12.0",
    ),
    LasairExample(
        "ztf client: watchlist hits",
        LSST_DOCS + "core_functions/client.md",
        "ztf",
        "objects.objectId, watchlist_hits.name, watchlist_hits.arcsec",
        "objects,watchlists:139",
        "",
        runs=False,
        why="'watchlists:139' is not a table: Lasair's form names a watchlist 'watchlist:139'",
        error="watchlists:139",
    ),
    LasairExample(
        "ztf rest-api: query",
        LSST_DOCS + "core_functions/rest-api.md",
        "ztf",
        "objectId,gmag",
        "objects",
        "gmag<12.0",
    ),
    LasairExample(
        "ztf make_filter: bright g",
        ZTF_DOCS + "core_functions/make_filter.md",
        "ztf",
        "objects.objectId, objects.gmag, jdnow()-objects.jdmax AS since",
        "objects",
        "objects.gmag < 12",
    ),
    LasairExample(
        "ztf make_filter: bright g, latest first",
        ZTF_DOCS + "core_functions/make_filter.md",
        "ztf",
        "objects.objectId, objects.gmag, jdnow()-objects.jdmax AS since",
        "objects",
        "objects.gmag < 12\nORDER BY objects.jdmax DESC",
    ),
    LasairExample(
        "ztf quickstart: front page",
        ZTF_DOCS + "quickstart.md",
        "ztf",
        "objects.objectId,\nobjects.ramean, objects.decmean,\nobjects.gmag, objects.rmag,\n"
        "jdnow()-objects.jdmax AS age,\nsherlock_classifications.classification AS class",
        "objects, sherlock_classifications",
        "objects.jdmax > jdnow() - 7\n"
        "AND (objects.gmag < 17 OR objects.rmag < 17)\n"
        "AND objects.ncandgp > 1\n"
        'AND sherlock_classifications.classification in ("SN", "NT", \n"CV", "AGN")',
    ),
    LasairExample(
        "ztf querying: watchlist and galactic latitude",
        ZTF_DOCS + "concepts/querying.md",
        "ztf",
        "objects.objectId, watchlist_hits.name, objects.glatmean",
        "objects, watchlist:139",
        "glatmean > 20\nORDER BY glatmean",
    ),
)

#: Full statements from Lasair's docs and tests that are not filters of Lasair's tables.
STATEMENTS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "ztf make_filter: JSON_EXTRACT illustration",
        ZTF_DOCS + "core_functions/make_filter.md",
        "ztf",
        "SELECT JSON_EXTRACT(jdoc, '$.color') AS color FROM jtable\n"
        "WHERE\nJSON_EXTRACT(jdoc, '$.size') > 4;",
        "jtable",
    ),
    (
        "lsst test_ann_filters: query_for_object input",
        "lsst-uk/lasair-lsst tests/unit/pipeline/filter/annotation/test_ann_filters.py",
        "lsst",
        "SELECT objects.diaObjectId, objects.nDiaSources FROM objects"
        "WHERE objects.nDiaSources > 1 Order\nBy objects.nDiaSources",
        # The test's adjacent strings join to "FROM objectsWHERE objects.nDiaSources": the
        # parser stops at the "." after that alias.
        "line 1 column 74",
    ),
)
