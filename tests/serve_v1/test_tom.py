"""Lanner's TOM Toolkit plugin in a throw-away TOM project (tomtoolkit from the package
index), against a live ``lanner serve`` over the bundled real Rubin alerts: the TOM finds
the broker, validates its form, fetches alerts by cone, by WHERE clause and by saved
filter, makes targets as its own view does, and stores their photometry."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.serve_v1.conftest import V1, archive_rows
from tests.serve_v1.tom_project import make_project, run_in_tom

SCRIPT = """
from tom_alerts.alerts import get_service_class
from tom_alerts.models import BrokerQuery
from tom_dataproducts.models import ReducedDatum
from tom_targets.models import Target

broker_class = get_service_class("Lanner")
form_class = broker_class.form
empty = form_class({{"query_name": "q", "broker": "Lanner"}})
cone_form = form_class({{"query_name": "cone", "broker": "Lanner", "cone_ra": {ra},
                         "cone_dec": {dec}, "cone_radius": 2}})
out = {{"empty_valid": empty.is_valid(), "empty_errors": empty.non_field_errors(),
        "cone_valid": cone_form.is_valid()}}
query = cone_form.save()
alerts, feedback = broker_class().fetch_alerts(BrokerQuery.objects.get(pk=query.pk).parameters)
alerts = list(alerts)
generic = [broker_class().to_generic_alert(a) for a in alerts]
out["cone"] = [{{"id": g.id, "name": g.name, "ra": g.ra, "dec": g.dec, "mag": g.mag,
                 "url": g.url}} for g in generic]
out["cone_feedback"] = feedback
# What the TOM's "create target from alert" view does:
target, extras, aliases = generic[0].to_target()
target.save(extras=extras, names=aliases)
broker_class().process_reduced_data(target, alerts[0])
broker_class().process_reduced_data(target, alerts[0])  # twice: stored once
out["target"] = {{"name": target.name, "ra": target.ra, "dec": target.dec}}
out["photometry"] = sorted(
    (d.value["magnitude"], d.value["filter"])
    for d in ReducedDatum.objects.filter(target=target, data_type="photometry")
)
sql, sql_feedback = broker_class().fetch_alerts({{"sqlquery": "latest_psfFlux > 10000"}})
out["sql"] = sorted(a["diaObjectId"] for a in sql)
saved, _ = broker_class().fetch_alerts({{"filter_id": {filter_id}}})
out["saved"] = sorted(a["diaObjectId"] for a in saved)
bad, bad_feedback = broker_class().fetch_alerts({{"sqlquery": "gmagg > 1"}})
out["bad"] = [list(bad), bad_feedback]
out["targets"] = Target.objects.count()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def tom(v1_sqlite: V1, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tom")
    return make_project(root, f"{v1_sqlite.url}/api", v1_sqlite.people["alice"].token)


def test_tom_fetches_alerts_and_makes_targets(v1_sqlite: V1, tom: Path) -> None:
    ((oid, ra, dec),) = archive_rows(
        v1_sqlite.db_url,
        'SELECT "diaObjectId", ra, decl FROM objects ORDER BY "diaObjectId" LIMIT 1',
    )
    out = run_in_tom(tom, SCRIPT.format(ra=ra, dec=dec, filter_id=v1_sqlite.bright_id))
    assert out["empty_valid"] is False
    assert out["empty_errors"] == ["Give RA and Dec, a WHERE clause, or a saved filter."]
    assert out["cone_valid"] is True and out["cone_feedback"] == ""
    first = out["cone"][0]
    assert first["id"] == oid and first["name"] == str(oid)
    assert math.isclose(first["ra"], ra) and math.isclose(first["dec"], dec)
    assert first["url"].endswith(f"/objects/{oid}/")
    assert out["target"] == {"name": str(oid), "ra": first["ra"], "dec": first["dec"]}
    fluxes = archive_rows(
        v1_sqlite.db_url,
        f'SELECT flux, band FROM detections WHERE "diaObjectId" = {oid} AND flux > 0',
    )
    expected = sorted((31.4 - 2.5 * math.log10(f), b) for f, b in fluxes)  # type: ignore[arg-type]
    assert [(round(m, 6), b) for m, b in out["photometry"]] == [
        (round(m, 6), b) for m, b in expected
    ]
    bright = sorted(
        int(r[0])  # type: ignore[call-overload]
        for r in archive_rows(
            v1_sqlite.db_url, 'SELECT "diaObjectId" FROM objects WHERE "latest_psfFlux" > 10000'
        )
    )
    assert out["sql"] == bright and out["saved"] == bright
    assert out["bad"][0] == [] and "gmagg" in out["bad"][1]
    assert out["targets"] == 1
