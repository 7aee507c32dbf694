"""``LannerClient``: every call of Lanner's REST API from Python.

Input: the API's base URL (``…/api``, as the ``lasair`` client takes) and a token (or a
credentials file, :mod:`lanner.client.credentials`). Output: decoded JSON (dicts and
lists, exact 64-bit ids), or tables: ``format="astropy"`` gives an
:class:`astropy.table.Table`, ``format="pandas"`` a :class:`pandas.DataFrame` (pandas is
optional). Errors are typed (:mod:`lanner.client.errors`). Side effects: HTTP requests
(one ``httpx.Client``, reused; close it with :meth:`LannerClient.close` or ``with``).

The Lasair calls (:meth:`cone`, :meth:`query`, :meth:`object`, :meth:`sherlock_object`,
:meth:`sherlock_position`, :meth:`annotate`, :meth:`annotate_list`) take the ``lasair``
client's arguments and return the server's answer unchanged; the others are Lanner's
own, under ``/api/v1/`` (watchlists, watchmaps, filters, annotators, light curves,
cutouts, schema, status).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from lanner.client.credentials import load_credentials
from lanner.client.errors import LannerBadRequest, LannerConnectionError, error_for

Format = Literal["json", "astropy", "pandas"]
Kind = Literal["Science", "Template", "Difference"]
DEFAULT_ENDPOINT = "http://127.0.0.1:8000/api"


def tabulate(rows: Sequence[Mapping[str, Any]], format: Format) -> Any:
    """``rows`` (a list of dicts) as they are, as an astropy Table, or a pandas DataFrame.

    In a Table, a column of integers stays int64 (exact ids), a missing value (``None``)
    is masked, and nested values (lists, dicts) are kept as JSON text.
    """
    if format == "json":
        return rows
    if format == "pandas":
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the user's install
            raise ImportError("format='pandas' needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records(list(rows))
    if format == "astropy":
        from astropy.table import Table

        names = list(dict.fromkeys(k for r in rows for k in r))
        return Table([_column([r.get(n) for r in rows]) for n in names], names=names)
    raise ValueError(f"format must be json, astropy or pandas, not {format!r}")


def _column(values: list[Any]) -> Any:
    import numpy as np
    from astropy.table import MaskedColumn

    mask = [v is None for v in values]
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if kinds <= {bool}:
        fill: Any = False
        dtype: Any = bool
    elif kinds <= {int}:
        fill, dtype = 0, np.int64
    elif kinds <= {int, float}:
        fill, dtype = np.nan, float
    elif kinds <= {str}:
        fill, dtype = "", str
    else:
        fill, dtype = "", str
        values = [v if isinstance(v, str) or v is None else json.dumps(v) for v in values]
    data = np.array([fill if m else v for v, m in zip(values, mask, strict=True)], dtype=dtype)
    return MaskedColumn(data, mask=mask)


class LannerClient:
    """Client of one Lanner server.

    Parameters
    ----------
    token
        Your API token (``lanner account token`` or ``auth-token/``); None for the
        routes that need none.
    endpoint
        The API's base URL, ending in ``/api``.
    timeout
        Seconds to wait for each answer.
    """

    def __init__(
        self, token: str | None = None, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 60.0
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.base = (
            self.endpoint[: -len("/api")] if self.endpoint.endswith("/api") else self.endpoint
        )
        headers = {"Authorization": f"Token {token}"} if token else {}
        self._http = httpx.Client(headers=headers, timeout=timeout)

    @classmethod
    def from_config(cls, path: str | Path | None = None, **kwargs: Any) -> LannerClient:
        """A client from the ``token`` and ``api_url`` of a credentials file."""
        creds = load_credentials(path)
        if creds.api_url is None:
            raise ValueError("the credentials file has no 'api_url'")
        return cls(creds.token, creds.api_url, **kwargs)

    @classmethod
    def login(cls, username: str, password: str, endpoint: str = DEFAULT_ENDPOINT) -> LannerClient:
        """A client with a new token made from a user name and password (``auth-token/``)."""
        with cls(None, endpoint) as anonymous:
            token = anonymous._call(
                "POST", "/api/auth-token/", data={"username": username, "password": password}
            )["token"]
        return cls(token, endpoint)

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self._send(method, path, **kwargs)
        if not reply.content:
            return None
        kind = reply.headers.get("content-type", "")
        return reply.json() if kind.startswith("application/json") else reply.content

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.base + path
        try:
            reply = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise LannerConnectionError(f"no answer from {url} in time: {exc}") from exc
        except httpx.TransportError as exc:
            raise LannerConnectionError(f"cannot reach {url}: {exc}") from exc
        if reply.status_code >= 400:
            try:
                body: Any = reply.json()
            except ValueError:
                body = reply.text
            raise error_for(reply.status_code, body, reply.headers.get("retry-after"))
        return reply

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LannerClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()

    # -- Lasair's calls --------------------------------------------------------------------

    def cone(self, ra: float, dec: float, radius: float = 5, requestType: str = "all") -> Any:
        """Objects within ``radius`` arcsec of (``ra``, ``dec``) [deg]: ``all``,
        ``nearest`` or ``count``, in the server's Lasair shape."""
        data = {"ra": ra, "dec": dec, "radius": radius, "requestType": requestType}
        return self._call("POST", "/api/cone/", data=data)

    def query(
        self, selected: str, tables: str, conditions: str, limit: int = 1000,
        offset: int = 0, format: Format = "json",
    ) -> Any:  # fmt: skip
        """Rows of a filter run on the archive (clamped to your tier's row cap)."""
        data = {"selected": selected, "tables": tables, "conditions": conditions,
                "limit": limit, "offset": offset}  # fmt: skip
        return tabulate(self._call("POST", "/api/query/", data=data), format)

    def object(
        self, objectId: int | str, lite: bool = True, lasair_added: bool = True,
        reliabilityThreshold: float | None = None,
    ) -> Any:  # fmt: skip
        """An object's data and light curve, in the server's Lasair shape."""
        data: dict[str, Any] = {"objectId": objectId, "lite": lite, "lasair_added": lasair_added}
        if reliabilityThreshold is not None:
            data["reliabilityThreshold"] = reliabilityThreshold
        return self._call("POST", "/api/object/", data=data)

    def sherlock_object(self, objectId: int | str, lite: bool = True) -> Any:
        """The sky context (Sherlock classification, crossmatches) of an object."""
        return self._call(
            "POST", "/api/sherlock/object/", data={"objectId": objectId, "lite": lite}
        )

    def sherlock_position(self, ra: float, dec: float, lite: bool = True) -> Any:
        """The sky context of a position."""
        data = {"ra": ra, "dec": dec, "lite": lite}
        return self._call("POST", "/api/sherlock/position/", data=data)

    def annotate(
        self, topic: str, objectId: int | str, classification: str, version: str = "0.1",
        explanation: str = "", classdict: Mapping[str, Any] | None = None, url: str = "",
    ) -> Any:  # fmt: skip
        """Annotate an object as annotator ``topic`` (which you must own or write to)."""
        return self._call("POST", "/api/annotate/", data=self._annotation(
            topic, objectId, classification, version, explanation, classdict, url))  # fmt: skip

    def annotate_list(self, annotations: Iterable[Mapping[str, Any]]) -> Any:
        """Several annotations in one call (each a dict of :meth:`annotate`'s arguments)."""
        items = [
            self._annotation(
                a["topic"],
                a["objectId"],
                a["classification"],
                a.get("version", "0.1"),
                a.get("explanation", ""),
                a.get("classdict"),
                a.get("url", ""),
            )
            for a in annotations
        ]
        return self._call("POST", "/api/annotatelist/", json={"annotations": items})

    @staticmethod
    def _annotation(
        topic: str, objectId: Any, classification: str, version: str, explanation: str,
        classdict: Mapping[str, Any] | None, url: str,
    ) -> dict[str, Any]:  # fmt: skip
        if not classification:
            raise LannerBadRequest("classification is empty", None, {"classification": [
                "This field may not be blank."]})  # fmt: skip
        return {"topic": topic, "objectId": objectId, "classification": classification,
                "version": version, "explanation": explanation,
                "classdict": json.dumps(dict(classdict or {})), "url": url}  # fmt: skip

    # -- watchlists and watchmaps ----------------------------------------------------------

    def watchlists(self, format: Format = "json") -> Any:
        """Your watchlists and the public ones."""
        return tabulate(self._call("GET", "/api/v1/watchlists/"), format)

    def watchlist(self, wl_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/watchlists/{int(wl_id)}/")

    def add_watchlist(
        self, name: str, cones: str | bytes | Path, *, radius: float = 5.0,
        public: bool = False, active: bool = False, description: str = "",
        filename: str = "watchlist.csv",
    ) -> dict[str, Any]:  # fmt: skip
        """Upload a watchlist: ``cones`` is a file path, or the file's text/bytes (CSV
        ``RA, Dec, ID[, radius]``, VOTable or FITS)."""
        data, filename = _file(cones, filename)
        form = {"name": name, "radius": str(radius), "public": str(public).lower(),
                "active": str(active).lower(), "description": description}  # fmt: skip
        files = {"file": (filename, data)}
        return self._call("POST", "/api/v1/watchlists/", data=form, files=files)

    def watchlist_hits(self, wl_id: int, limit: int = 1000, format: Format = "json") -> Any:
        rows = self._call("GET", f"/api/v1/watchlists/{int(wl_id)}/hits/", params={"limit": limit})
        return tabulate(rows, format)

    def set_watchlist_active(self, wl_id: int, active: bool = True) -> dict[str, Any]:
        action = "activate" if active else "deactivate"
        return self._call("POST", f"/api/v1/watchlists/{int(wl_id)}/{action}/")

    def delete_watchlist(self, wl_id: int) -> None:
        self._call("DELETE", f"/api/v1/watchlists/{int(wl_id)}/")

    def watchmaps(self, format: Format = "json") -> Any:
        """Your watchmaps and the public ones."""
        return tabulate(self._call("GET", "/api/v1/watchmaps/"), format)

    def watchmap(self, ar_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/watchmaps/{int(ar_id)}/")

    def add_watchmap(
        self, name: str, moc: str | bytes | Path, *, public: bool = False,
        active: bool = False, description: str = "", filename: str = "watchmap.fits",
    ) -> dict[str, Any]:  # fmt: skip
        """Upload a watchmap: ``moc`` is a file path, FITS bytes, or a MOC string, or a
        ``mocpy.MOC``."""
        if hasattr(moc, "to_string"):
            moc = moc.to_string("ascii")
        data, filename = _file(moc, filename)
        form = {"name": name, "public": str(public).lower(), "active": str(active).lower(),
                "description": description}  # fmt: skip
        files = {"file": (filename, data)}
        return self._call("POST", "/api/v1/watchmaps/", data=form, files=files)

    def watchmap_hits(self, ar_id: int, limit: int = 1000, format: Format = "json") -> Any:
        rows = self._call("GET", f"/api/v1/watchmaps/{int(ar_id)}/hits/", params={"limit": limit})
        return tabulate(rows, format)

    def set_watchmap_active(self, ar_id: int, active: bool = True) -> dict[str, Any]:
        action = "activate" if active else "deactivate"
        return self._call("POST", f"/api/v1/watchmaps/{int(ar_id)}/{action}/")

    def delete_watchmap(self, ar_id: int) -> None:
        self._call("DELETE", f"/api/v1/watchmaps/{int(ar_id)}/")

    # -- filters ---------------------------------------------------------------------------

    def filters(self, format: Format = "json") -> Any:
        """Your filters and the public ones."""
        return tabulate(self._call("GET", "/api/v1/filters/"), format)

    def filter(self, filter_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/filters/{int(filter_id)}/")

    def add_filter(
        self, name: str, sql: str | None = None, *, selected: str | None = None,
        tables: str | None = None, conditions: str = "", description: str = "",
        public: bool = False, active: bool = False, output: str = "none",
        output_options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Save a filter: one SELECT in ``sql``, or Lasair's ``selected``/``tables``/
        ``conditions``. Refused SQL raises :class:`LannerBadRequest` saying what to fix."""
        options = None if output_options is None else dict(output_options)
        body = {"name": name, "sql": sql, "selected": selected, "tables": tables,
                "conditions": conditions, "description": description, "public": public,
                "active": active, "output": output, "output_options": options}  # fmt: skip
        return self._call("POST", "/api/v1/filters/", json=body)

    def edit_filter(self, filter_id: int, **changes: Any) -> dict[str, Any]:
        """Change ``sql``, ``description``, ``public``, ``output`` or ``output_options``."""
        return self._call("PATCH", f"/api/v1/filters/{int(filter_id)}/", json=changes)

    def set_filter_active(self, filter_id: int, active: bool = True) -> dict[str, Any]:
        action = "activate" if active else "deactivate"
        return self._call("POST", f"/api/v1/filters/{int(filter_id)}/{action}/")

    def run_filter(
        self, filter_id: int, limit: int = 1000, offset: int = 0, format: Format = "json"
    ) -> Any:
        """Run a saved filter on the archive now: its rows."""
        answer = self._call(
            "POST",
            f"/api/v1/filters/{int(filter_id)}/run/",
            json={"limit": limit, "offset": offset},
        )
        return tabulate(answer["rows"], format)

    def backtest(
        self, filter_id: int, since: float | str, until: float | str | None = None,
        batch_size: int = 1000,
    ) -> dict[str, Any]:  # fmt: skip
        """What a filter would have sent, batch by batch, from ``since`` (MJD or ISO)."""
        body = {"since": str(since), "until": None if until is None else str(until),
                "batch_size": batch_size}  # fmt: skip
        return self._call("POST", f"/api/v1/filters/{int(filter_id)}/backtest/", json=body)

    def filter_matches(self, filter_id: int, limit: int = 100, format: Format = "json") -> Any:
        """A filter's matches, newest first: delivery state, values and ``why``."""
        rows = self._call(
            "GET", f"/api/v1/filters/{int(filter_id)}/matches/", params={"limit": limit}
        )
        return tabulate(rows, format)

    def delete_filter(self, filter_id: int) -> None:
        self._call("DELETE", f"/api/v1/filters/{int(filter_id)}/")

    # -- data ------------------------------------------------------------------------------

    def annotators(self, format: Format = "json") -> Any:
        return tabulate(self._call("GET", "/api/v1/annotators/"), format)

    def annotator(self, topic: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/annotators/{httpx.URL(topic).path}/")

    def lightcurve(
        self, objectId: int | str, format: Literal["json", "csv", "astropy", "pandas"] = "json"
    ) -> Any:
        """An object's light curve. ``json``: ``{id, detections, forced_photometry,
        upper_limits}``; ``csv``: the server's CSV text; ``astropy``/``pandas``: one table
        with a ``kind`` column."""
        path = f"/api/v1/objects/{objectId}/lightcurve/"
        if format == "csv":
            return self._send("GET", path, params={"format": "csv"}).text
        answer = self._call("GET", path)
        if format == "json":
            return answer
        rows = [
            {"kind": kind, **row}
            for kind in ("detections", "forced_photometry", "upper_limits")
            for row in answer.get(kind, [])
        ]
        return tabulate(rows, format)

    def cutout(
        self, sourceId: int, kind: Kind = "Difference",
        format: Literal["fits", "png", "hdulist"] = "fits",
    ) -> Any:  # fmt: skip
        """A cutout: FITS bytes, PNG bytes, or an astropy ``HDUList``."""
        if format == "png":
            return self._send("GET", f"/api/v1/cutouts/{int(sourceId)}/{kind}.png").content
        data = self._send("GET", f"/fits/{int(sourceId)}_cutout{kind}").content
        if format == "fits":
            return data
        import io

        from astropy.io import fits

        return fits.HDUList.fromstring(io.BytesIO(data).getvalue())

    def schema(self, table: str | None = None) -> dict[str, Any]:
        """Every table and column (type, unit, description), or one table's."""
        path = "/api/v1/schema/" + (f"{table}/" if table else "")
        return self._call("GET", path)

    def status(self) -> dict[str, Any]:
        """The broker's survey, archive size, newest alert and activity."""
        return self._call("GET", "/api/v1/status/")


def _file(source: str | bytes | Path, filename: str) -> tuple[bytes, str]:
    if isinstance(source, Path):
        return source.read_bytes(), source.name
    if isinstance(source, bytes):
        return source, filename
    return source.encode("utf-8"), filename
