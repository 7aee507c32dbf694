"""Times in ``object/`` answers: calendar text, or null for a time no calendar holds."""

from __future__ import annotations

import math

from lanner.serve.objects import _utc


def test_an_mjd_becomes_utc_text() -> None:
    assert _utc(60000.5) == "2023-02-25 12:00:00"


def test_placeholder_and_missing_times_are_null_not_errors() -> None:
    # Some shared alerts carry placeholder times this far out; an object page must not fail.
    assert _utc(1.48e9) is None
    assert _utc(math.nan) is None
    assert _utc(None) is None
