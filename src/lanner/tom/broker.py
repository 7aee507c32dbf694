"""A TOM Toolkit broker module for Lanner's Rubin instances.

Input: the TOM's settings ``BROKERS['LANNER']`` (``api_url``: the API's base URL ending in
``/api``; ``api_key``: a Lanner token) and a query made with :class:`LannerBrokerForm` —
a cone (RA, Dec, radius), a WHERE clause on ``objects``, or one of your saved filters.
Output: alerts (one per object, from ``object/``), ``GenericAlert`` rows for the TOM's
query page, targets named by ``diaObjectId`` at ``diaObject.ra/decl``, and photometry
(``ReducedDatum`` rows of type ``photometry``: AB magnitude ``31.4 − 2.5 log10(psfFlux/nJy)``
with its error, band, MJD). Side effects: HTTP calls through
:class:`lanner.client.LannerClient`; ``process_reduced_data`` writes ``ReducedDatum`` rows.

Unlike TOM's Lasair module (ZTF shapes only, a hard-coded URL), this one speaks Lanner's
Rubin shapes, takes its URL from the settings, and reports the server's refusals (bad SQL,
throttling) to the TOM page as broker feedback instead of failing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

from astropy.time import Time
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from tom_alerts.alerts import GenericAlert, GenericBroker, GenericQueryForm

from lanner.client.errors import LannerError
from lanner.client.rest import LannerClient

#: Most objects one query turns into alerts.
MAX_ALERTS = 1000


def ab_mag(
    flux_njy: float | None, err_njy: float | None = None
) -> tuple[float | None, float | None]:
    """AB magnitude (and its 1-sigma error) of a flux in nJy; None for a flux ≤ 0 or NaN."""
    if flux_njy is None or not math.isfinite(flux_njy) or flux_njy <= 0:
        return None, None
    mag = 31.4 - 2.5 * math.log10(flux_njy)
    if err_njy is None or not math.isfinite(err_njy):
        return mag, None
    return mag, 2.5 / math.log(10) * err_njy / flux_njy


def lanner_settings() -> dict[str, str]:
    """``BROKERS['LANNER']``: ``api_url`` and ``api_key``; a clear error if missing."""
    conf = getattr(settings, "BROKERS", {}).get("LANNER")
    if not conf or not conf.get("api_url") or not conf.get("api_key"):
        raise LannerError(
            "Requires BROKERS['LANNER'] = {'api_url': 'https://<lanner>/api', 'api_key': "
            "'<your token>'} in settings.py"
        )
    return {"api_url": str(conf["api_url"]), "api_key": str(conf["api_key"])}


def client() -> LannerClient:
    conf = lanner_settings()
    return LannerClient(conf["api_key"], conf["api_url"])


class LannerBrokerForm(GenericQueryForm):
    """A cone, a WHERE clause on ``objects``, or a saved filter's id."""

    cone_ra = forms.FloatField(required=False, label="RA", help_text="Decimal degrees")
    cone_dec = forms.FloatField(required=False, label="Dec", help_text="Decimal degrees")
    cone_radius = forms.FloatField(
        required=False, label="Radius", help_text="Arcsec (at most 1000)", initial=10
    )
    sqlquery = forms.CharField(
        required=False,
        label="WHERE clause on objects",
        help_text="e.g. nDiaSources > 3 AND latest_psfFlux > 10000",
    )
    filter_id = forms.IntegerField(
        required=False, label="Saved filter", help_text="Id of one of your Lanner filters"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            HTML("<p>Query a Lanner broker: a cone, a WHERE clause, or a saved filter.</p>"),
            self.common_layout,
            Fieldset(
                "Cone search",
                Row(
                    Column("cone_ra", css_class="form-group col-md-4 mb-0"),
                    Column("cone_dec", css_class="form-group col-md-4 mb-0"),
                    Column("cone_radius", css_class="form-group col-md-4 mb-0"),
                    css_class="row",
                ),
            ),
            Div("sqlquery"),
            Div("filter_id"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        cone = cleaned.get("cone_ra") is not None and cleaned.get("cone_dec") is not None
        if not (cone or cleaned.get("sqlquery") or cleaned.get("filter_id") is not None):
            raise forms.ValidationError("Give RA and Dec, a WHERE clause, or a saved filter.")
        return cleaned


class LannerBroker(GenericBroker):
    """The Lanner broker (Rubin): cone, query and saved filters through Lanner's API."""

    name = "Lanner"
    form = LannerBrokerForm
    score_description = "Number of detections (nDiaSources) of the object."

    def fetch_alerts(self, parameters: dict[str, Any]) -> tuple[Iterator[dict[str, Any]], str]:
        """The objects a query finds, each as Lanner's ``object/`` answer (lite)."""
        try:
            api = client()
        except LannerError as exc:
            return iter([]), str(exc)
        with api:
            try:
                ids = self._object_ids(api, parameters)
                alerts = [api.object(i, lite=True) for i in ids[:MAX_ALERTS]]
            except LannerError as exc:
                return iter([]), exc.message
        feedback = "" if ids else "No objects found."
        if len(ids) > MAX_ALERTS:
            feedback = f"{len(ids)} objects found; the first {MAX_ALERTS} are shown."
        return iter(alerts), feedback

    @staticmethod
    def _object_ids(api: LannerClient, parameters: dict[str, Any]) -> list[int]:
        ra, dec = parameters.get("cone_ra"), parameters.get("cone_dec")
        if ra not in (None, "") and dec not in (None, ""):
            radius = parameters.get("cone_radius") or 10
            found = api.cone(float(ra), float(dec), float(radius), "all")
            return [int(o["object"]) for o in found.get("objects", [])]
        if parameters.get("filter_id") not in (None, ""):
            rows = api.run_filter(int(parameters["filter_id"]), limit=MAX_ALERTS + 1)
            return list(dict.fromkeys(int(r["diaObjectId"]) for r in rows if "diaObjectId" in r))
        conditions = str(parameters.get("sqlquery") or "").strip()
        rows = api.query("diaObjectId", "objects", conditions, limit=MAX_ALERTS + 1)
        return [int(r["diaObjectId"]) for r in rows]

    def fetch_alert(self, alert_id: Any) -> dict[str, Any]:
        with client() as api:
            answer: dict[str, Any] = api.object(int(alert_id), lite=True)
        return answer

    def to_generic_alert(self, alert: dict[str, Any]) -> GenericAlert:
        oid = int(alert["diaObjectId"])
        obj = alert.get("diaObject") or {}
        sources = alert.get("diaSourcesList") or []  # newest first
        latest = sources[0] if sources else {}
        mag, _ = ab_mag(latest.get("psfFlux"))
        when = latest.get("midpointMjdTai") or obj.get("lastDiaSourceMjdTai")
        base = lanner_settings()["api_url"].rstrip("/")
        base = base[: -len("/api")] if base.endswith("/api") else base
        return GenericAlert(
            timestamp=Time(when, format="mjd").datetime if when else None,
            id=oid,
            name=str(oid),
            ra=obj.get("ra"),
            dec=obj.get("decl"),
            mag=mag,
            score=(alert.get("lasairData") or {}).get("nDiaSources", len(sources)),
            url=f"{base}/objects/{oid}/",
        )

    def to_target(self, alert: dict[str, Any]) -> Any:
        """An unsaved ``Target`` named by the ``diaObjectId``, with no extras or aliases."""
        return self.to_generic_alert(alert).to_target()

    def process_reduced_data(self, target: Any, alert: dict[str, Any] | None = None) -> None:
        """Store the object's detections as photometry of ``target`` (once each)."""
        from tom_dataproducts.models import ReducedDatum

        if alert is None:
            alert = self.fetch_alert(target.name)
        for source in alert.get("diaSourcesList") or []:
            mag, err = ab_mag(source.get("psfFlux"), source.get("psfFluxErr"))
            if mag is None:
                continue
            value = {"magnitude": mag, "filter": source.get("band"), "telescope": "Rubin"}
            if err is not None:
                value["error"] = err
            ReducedDatum.objects.get_or_create(
                target=target,
                data_type="photometry",
                source_name=self.name,
                source_location=str(source.get("diaSourceId", "")),
                timestamp=Time(source["midpointMjdTai"], format="mjd").to_datetime(timezone=dt.UTC),
                value=value,
            )
