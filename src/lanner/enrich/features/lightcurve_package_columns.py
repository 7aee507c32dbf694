"""The columns of the light-curve package's features, declared without the package.

Input: a survey. Output: the :class:`~lanner.schema.columns.Column` of every value
:class:`lanner.enrich.features.lightcurve_package.LightCurvePackageFeatures` computes, in
the package's output order (each extractor's outputs, band by band), so that reading the
schema needs neither ``light_curve`` nor any other science package; the enricher checks at
first use that the package gives exactly these names. No side effects.
"""

from __future__ import annotations

from lanner.batch import Survey
from lanner.schema.columns import Column

#: Bands per survey, in column order.
SURVEY_BANDS: dict[str, tuple[str, ...]] = {
    "ztf": ("g", "r"),
    "lsst": ("u", "g", "r", "i", "z", "y"),
}

#: Brightness unit of each survey's light curves.
SURVEY_UNIT: dict[str, str] = {"ztf": "mag", "lsst": "nJy"}

#: Output name -> (description, unit pattern, minimum number of points), for every value the
#: extractors below produce. ``{u}`` is the brightness unit, ``{u}/day`` its rate.
FEATURES: dict[str, tuple[str, str | None, int]] = {
    "mean": ("Mean brightness", "{u}", 1),
    "weighted_mean": ("Mean brightness weighted by inverse squared error", "{u}", 1),
    "standard_deviation": ("Standard deviation of brightness (unbiased)", "{u}", 2),
    "median": ("Median brightness", "{u}", 1),
    "amplitude": ("Half the range between maximum and minimum brightness", "{u}", 1),
    "beyond_1_std": ("Fraction of points more than one standard deviation from the mean", None, 2),
    "cusum": ("Range of the cumulative sums of standardised brightness", None, 2),
    "inter_percentile_range_10": (
        "Range between the 10th and 90th brightness percentiles",
        "{u}",
        1,
    ),
    "kurtosis": ("Unbiased excess kurtosis of brightness", None, 4),
    "linear_trend": ("Slope of a least-squares line, errors ignored", "{u}/day", 3),
    "linear_trend_sigma": ("Error of linear_trend", "{u}/day", 3),
    "linear_trend_noise": ("Standard deviation of the residuals of linear_trend", "{u}", 3),
    "linear_fit_slope": ("Slope of a line fitted with the brightness errors", "{u}/day", 3),
    "linear_fit_slope_sigma": ("Error of linear_fit_slope", "{u}/day", 3),
    "linear_fit_reduced_chi2": ("Reduced chi-square of linear_fit_slope's line", None, 3),
    "magnitude_percentage_ratio_40_5": (
        "Ratio of the 40-60 and 5-95 percentile ranges of brightness",
        None,
        1,
    ),
    "magnitude_percentage_ratio_20_10": (
        "Ratio of the 20-80 and 10-90 percentile ranges of brightness",
        None,
        1,
    ),
    "maximum_slope": (
        "Largest absolute brightness change per day between consecutive points",
        "{u}/day",
        2,
    ),
    "median_absolute_deviation": (
        "Median absolute deviation of brightness from its median",
        "{u}",
        1,
    ),
    "median_buffer_range_percentage_10": (
        "Fraction of points within 10% of the amplitude from the median",
        None,
        1,
    ),
    "percent_amplitude": ("Largest absolute deviation of brightness from its median", "{u}", 1),
    "mean_variance": ("Standard deviation of brightness over its mean", None, 2),
    "anderson_darling_normal": ("Unbiased Anderson-Darling statistic of normality", None, 4),
    "chi2": ("Reduced chi-square of a constant brightness", None, 2),
    "skew": ("Unbiased skewness of brightness", None, 3),
    "stetson_k": ("Stetson K: mean absolute weighted deviation over its RMS", None, 2),
}


_GROUPED = {
    "linear_trend": ("linear_trend", "linear_trend_sigma", "linear_trend_noise"),
    "linear_fit_slope": ("linear_fit_slope", "linear_fit_slope_sigma", "linear_fit_reduced_chi2"),
}


#: Outputs of each extractor, in the package's order (two extractors give three values).
EXTRACTOR_OUTPUTS: tuple[tuple[str, ...], ...] = tuple(
    _GROUPED.get(name, (name,))
    for name in FEATURES
    if not any(name in g[1:] for g in _GROUPED.values())
)


def column_name(package_name: str) -> str:
    """Lanner column of a package output name such as ``stetson_K_g``: ``lc_stetson_k_g``."""
    return "lc_" + package_name.lower()


def package_names(bands: tuple[str, ...]) -> list[str]:
    """Output names of the package for ``bands`` (lower case), in its order."""
    return [f"{out}_{band}" for group in EXTRACTOR_OUTPUTS for band in bands for out in group]


def package_columns(survey: Survey) -> tuple[Column, ...]:
    """The columns of the ``survey``'s light-curve package features."""
    producer = f"lightcurve_package_{survey}"
    unit = SURVEY_UNIT[survey]
    columns = []
    for package_name in package_names(SURVEY_BANDS[survey]):
        feature, band = package_name.rsplit("_", 1)
        description, unit_pattern, min_points = FEATURES[feature]
        columns.append(
            Column(
                column_name(package_name),
                "double",
                f"{description}, {band} band (light-curve package; NULL with fewer than "
                f"{min_points} points)",
                unit_pattern.format(u=unit) if unit_pattern else None,
                producer=producer,
            )
        )
    return tuple(columns)
