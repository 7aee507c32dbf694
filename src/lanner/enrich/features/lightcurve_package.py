"""Standard light-curve features of the ``light-curve`` package, per band, for both surveys.

Input: ``AlertBatch.detections``. Output: ``lc_<feature>_<band>`` columns of the ``objects``
table, one row per alert. No side effects.

The feature set is the one of Malanchev et al. (2021, MNRAS 502, 5147, appendix A), which the
package's authors (SNAD) and Fink's anomaly-detection module use: 22 extractors giving 26
values per band. ZTF light curves are the positive detections' PSF magnitudes (``magpsf``,
``sigmapsf``) in g and r — a negative difference's ``magpsf`` is the magnitude of a flux of
the opposite sign and would fake variability. Rubin light curves are the detections' signed
difference fluxes [nJy] in u, g, r, i, z, y, so features in magnitude units become nJy.

The whole batch goes to the package in one ``Extractor.many`` call on an Arrow
``List<Struct<t, m, sigma, band>>`` array (zero-copy, one thread: the pipeline scales by
processes). Each feature is evaluated per band independently; a band with too few points for
a feature (see :data:`lanner.enrich.features.lightcurve_package_columns.FEATURES`) gives NULL
for that feature only, as does any infinite value (for example the slope error of points
that all share one time). The package is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch, Survey, row_offsets
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.lightcurve_package_columns import (
    SURVEY_BANDS,
    column_name,
    package_columns,
)
from lanner.enrich.features.ztf_detections import time_ordered

#: Detections columns read (``mag`` also orders simultaneous points for both surveys).
LIGHT_CURVE_COLUMNS = [
    "row",
    "source_id",
    "mjd",
    "band",
    "is_positive",
    "mag",
    "mag_err",
    "flux",
    "flux_err",
]


def _extractors(bands: Sequence[str], lc: Any) -> list[Any]:
    """The feature set of Malanchev et al. (2021), each evaluated per band."""
    b = list(bands)
    return [
        lc.Mean(bands=b),
        lc.WeightedMean(bands=b),
        lc.StandardDeviation(bands=b),
        lc.Median(bands=b),
        lc.Amplitude(bands=b),
        lc.BeyondNStd(nstd=1, bands=b),
        lc.Cusum(bands=b),
        lc.InterPercentileRange(quantile=0.1, bands=b),
        lc.Kurtosis(bands=b),
        lc.LinearTrend(bands=b),
        lc.LinearFit(bands=b),
        lc.MagnitudePercentageRatio(quantile_numerator=0.4, quantile_denominator=0.05, bands=b),
        lc.MagnitudePercentageRatio(quantile_numerator=0.2, quantile_denominator=0.1, bands=b),
        lc.MaximumSlope(bands=b),
        lc.MedianAbsoluteDeviation(bands=b),
        lc.MedianBufferRangePercentage(quantile=0.1, bands=b),
        lc.PercentAmplitude(bands=b),
        lc.MeanVariance(bands=b),
        lc.AndersonDarlingNormal(bands=b),
        lc.ReducedChi2(bands=b),
        lc.Skew(bands=b),
        lc.StetsonK(bands=b),
    ]


def _first_at_each_time(points: pa.Table) -> np.ndarray:
    """Mask keeping the first point of each (alert, band, time) in a (row, t)-sorted table.

    The package cannot take a zero time step (``MaximumSlope`` aborts the whole call when
    all points of a band share one time), and repeated times do occur in real packets.
    """
    row = np.asarray(points["row"].to_numpy(), dtype=np.int64)
    t = np.asarray(points["t"].to_numpy(), dtype=np.float64)
    band = pc.dictionary_encode(points["band"]).combine_chunks().indices.to_numpy()
    order = np.lexsort((t, band, row))
    same = np.zeros(row.size, dtype=bool)
    same[1:] = (
        (row[order][1:] == row[order][:-1])
        & (band[order][1:] == band[order][:-1])
        & (t[order][1:] == t[order][:-1])
    )
    keep = np.ones(row.size, dtype=bool)
    keep[order[same]] = False
    return keep


class LightCurvePackageFeatures(ObjectFeatureEnricher):
    """The ``light-curve`` package's standard features per band for one survey.

    Parameters
    ----------
    survey
        ``"ztf"`` (magnitudes of positive detections, g and r) or ``"lsst"`` (difference
        fluxes [nJy], u to y).
    """

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.name = f"lightcurve_package_{survey}"
        self.surveys: frozenset[Survey] = frozenset({survey})
        self.bands = SURVEY_BANDS[survey]
        self.declared_columns = package_columns(survey)
        self._extractor: Any = None
        self._package_names: list[str] = []

    def extractor(self) -> Any:
        """The package's extractor, built on first use; it must give the declared names."""
        if self._extractor is None:
            import light_curve as lc

            extractor = lc.Extractor(*_extractors(self.bands, lc))
            names = list(extractor.names)
            declared = [c.name for c in self.declared_columns]
            if [column_name(n) for n in names] != declared:
                raise RuntimeError(
                    f"the light-curve package gives {names}, not the declared columns "
                    f"{declared}: update lightcurve_package_columns.py"
                )
            self._extractor, self._package_names = extractor, names
        return self._extractor

    def light_curves(self, batch: AlertBatch) -> pa.ListArray:
        """Every alert's light curve as one Arrow list of (t, m, sigma, band) structs.

        ``t`` is MJD [day]; ``m``/``sigma`` are magnitudes [mag] for ZTF, fluxes [nJy] for
        Rubin. Points without a finite time, value or positive error are left out, and of
        points of one band at one time only the first in :func:`time_ordered` order.
        """
        det = time_ordered(batch.detections.select(LIGHT_CURVE_COLUMNS))
        if self.survey == "ztf":
            value, error = det["mag"], det["mag_err"]
            keep = pc.fill_null(det["is_positive"].cast(pa.bool_()), False)
        else:
            value, error = det["flux"], det["flux_err"]
            keep = pa.chunked_array([pa.array(np.ones(det.num_rows, dtype=bool))])
        t = pc.fill_null(det["mjd"].cast(pa.float64()), np.nan)
        m = pc.fill_null(value.cast(pa.float64()), np.nan)
        s = pc.fill_null(error.cast(pa.float64()), np.nan)
        keep = pc.and_(keep, pc.is_in(det["band"], value_set=pa.array(self.bands)))
        keep = pc.fill_null(keep, False)
        for arr in (t, m, s):
            keep = pc.and_(keep, pc.is_finite(arr))
        keep = pc.and_(keep, pc.greater(s, 0.0))
        selected = pa.table(
            {"row": det["row"], "t": t, "m": m, "sigma": s, "band": det["band"].cast(pa.string())}
        ).filter(keep)
        selected = selected.filter(_first_at_each_time(selected))
        offsets = row_offsets(selected, len(batch)).astype(np.int32)
        points = pa.StructArray.from_arrays(
            [selected[name].combine_chunks() for name in ("t", "m", "sigma", "band")],
            names=["t", "m", "sigma", "band"],
        )
        return pa.ListArray.from_arrays(pa.array(offsets), points)

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        if len(batch) == 0:  # the package refuses an empty list of light curves
            return {c.name: [] for c in self.declared_columns}
        curves = self.light_curves(batch)
        extractor = self.extractor()
        result = np.asarray(
            extractor.many(
                curves,
                arrow_fields={"t": "t", "m": "m", "sigma": "sigma", "band": "band"},
                fill_value=np.nan,
                n_jobs=1,
            ),
            dtype=np.float64,
        ).reshape(len(batch), len(self._package_names))
        result[~np.isfinite(result)] = np.nan
        values: dict[str, object] = {
            column_name(name): result[:, j] for j, name in enumerate(self._package_names)
        }
        return values
