"""Growing column lists that the survey adapters fill, one alert at a time.

Decoding is the one place a Python loop over alerts is unavoidable (fastavro hands back one
dict per alert); the adapters only append scalars here, and everything derived (fluxes from
magnitudes, sorting, de-duplication) is done afterwards on whole columns in
:mod:`lanner.ingest.assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AdapterError(Exception):
    """An alert that decoded but cannot be mapped; the message is the dead-letter reason."""


def require(record: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    """Raise :class:`AdapterError` naming every required field that is absent or null."""
    missing = [n for n in names if record.get(n) is None]
    if missing:
        raise AdapterError(f"missing required field(s) {', '.join(where + n for n in missing)}")


@dataclass
class LightCurveColumns:
    """Columns of one light-curve table, as Python lists."""

    row: list[int] = field(default_factory=list)
    source_id: list[int | None] = field(default_factory=list)
    mjd: list[float] = field(default_factory=list)
    band: list[str] = field(default_factory=list)
    ra: list[float | None] = field(default_factory=list)
    dec: list[float | None] = field(default_factory=list)
    #: Survey-native measurement: ZTF magnitude and its error, Rubin flux [nJy] and error.
    value: list[float | None] = field(default_factory=list)
    error: list[float | None] = field(default_factory=list)
    #: ZTF isdiffpos sign (+1/-1) or photometric zero point for forced photometry.
    aux: list[float | None] = field(default_factory=list)
    reliability: list[float | None] = field(default_factory=list)

    def add(
        self,
        row: int,
        source_id: int | None,
        mjd: float,
        band: str,
        ra: float | None,
        dec: float | None,
        value: float | None,
        error: float | None,
        aux: float | None = None,
        reliability: float | None = None,
    ) -> None:
        self.row.append(row)
        self.source_id.append(source_id)
        self.mjd.append(mjd)
        self.band.append(band)
        self.ra.append(ra)
        self.dec.append(dec)
        self.value.append(value)
        self.error.append(error)
        self.aux.append(aux)
        self.reliability.append(reliability)

    def __len__(self) -> int:
        return len(self.row)


@dataclass
class BatchColumns:
    """Everything the adapters collect for one batch."""

    alerts: dict[str, list[Any]] = field(default_factory=dict)
    detections: LightCurveColumns = field(default_factory=LightCurveColumns)
    forced: LightCurveColumns = field(default_factory=LightCurveColumns)
    upper_limits: LightCurveColumns = field(default_factory=LightCurveColumns)
    cutouts: dict[str, list[Any]] = field(
        default_factory=lambda: {"row": [], "kind": [], "data": []}
    )
    packets: list[dict[str, Any]] = field(default_factory=list)

    def alert(self, values: dict[str, Any]) -> None:
        """Append one alert row; every alert of a batch must give the same keys."""
        if not self.alerts:
            for key in values:
                self.alerts[key] = []
        for key, column in self.alerts.items():
            column.append(values[key])

    def cutout(self, row: int, kind: str, data: bytes) -> None:
        self.cutouts["row"].append(row)
        self.cutouts["kind"].append(kind)
        self.cutouts["data"].append(data)

    def rollback(self, n_alerts: int, sizes: tuple[int, int, int, int]) -> None:
        """Drop what a failing alert appended (it goes to the dead letters instead)."""
        for column in self.alerts.values():
            del column[n_alerts:]
        for table, size in zip(
            (self.detections, self.forced, self.upper_limits), sizes[:3], strict=True
        ):
            for values in vars(table).values():
                del values[size:]
        for values in self.cutouts.values():
            del values[sizes[3] :]
        del self.packets[n_alerts:]

    def sizes(self) -> tuple[int, int, int, int]:
        return (
            len(self.detections),
            len(self.forced),
            len(self.upper_limits),
            len(self.cutouts["row"]),
        )
