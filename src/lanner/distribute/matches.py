"""Filter matches as the outbox records them, whichever stage found them (a batch's
filters, or the re-run after an annotation).

Input: :class:`~lanner.filter.active.FilterMatch` objects. Output:
:class:`~lanner.store.outbox.MatchRow` values: the selected values, why the filter fired,
the light curve / alert its payload option sends (JSON text) and its channel. No side
effects. Kept apart from :mod:`lanner.pipeline` so that a process recording matches (the
annotations API) does not import the whole pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lanner.distribute.base import ALERT_KEY, LIGHTCURVE_KEY, OutputOptions, shape_match
from lanner.distribute.json_payload import to_json_bytes
from lanner.distribute.router import channel_of, output_options
from lanner.store.outbox import MatchRow

if TYPE_CHECKING:
    from lanner.filter.active import FilterMatch
    from lanner.filter.saved import SavedFilter


def outputs_of(flt: SavedFilter) -> OutputOptions:
    """A filter's output options; options that do not parse (saved before they were
    validated) are kept as plain: the delivery worker fails those matches with the reason."""
    try:
        return output_options(flt.output, flt.output_options)
    except ValueError:
        return OutputOptions(kafka=flt.output == "kafka")


def payload_of(flt: SavedFilter) -> str:
    """The payload option (plain, lite, full) of a filter's output settings."""
    return outputs_of(flt).payload


def json_text(value: dict[str, Any]) -> str:
    """JSON with exact 64-bit ids and NaN as null."""
    return to_json_bytes(value).decode()


def match_rows(matches: Sequence[FilterMatch]) -> list[MatchRow]:
    """Matches as the outbox records them: the selected values, why the filter fired,
    the light curve / alert its payload option sends, and its channel."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for m in matches:
        outputs = outputs_of(m.filter)
        values = {k: v for k, v in m.values.items() if k not in (LIGHTCURVE_KEY, ALERT_KEY)}
        extra = {
            k: v
            for k, v in shape_match(m.values, outputs.payload, "").items()
            if k in (LIGHTCURVE_KEY, ALERT_KEY)
        }
        rows.append(
            MatchRow(
                filter_id=m.filter.filter_id,
                alert_id=m.alert_id,
                object_id=m.object_id,
                matched_at=now,
                payload=json_text(values),
                why=json_text(m.why),
                attachments=json_text(extra) if extra else None,
                channel=channel_of(outputs)
                or (None if m.filter.output == "none" else m.filter.output),
            )
        )
    return rows
