"""Drive TOM Toolkit's unmodified Lasair module against a Lanner server; print JSON.

Run by the Python of a TOM Toolkit installation in a site made by ``make_site.py``
(``DJANGO_SETTINGS_MODULE=tomsite.settings``), with ``LASAIR_API_KEY`` and ``LANNER_URL``
set, and arguments RA DEC RADIUS SQL. Only ``LASAIR_URL`` is changed: the module's constant, as a
TOM site would point it elsewhere.
"""

import json
import os
import sys

import django
import requests

django.setup()

from django.core.management import call_command  # noqa: E402
from tom_alerts.brokers import lasair  # noqa: E402
from tom_targets.models import Target  # noqa: E402

call_command("migrate", verbosity=0)
lasair.LASAIR_URL = os.environ["LANNER_URL"]
ra, dec, radius, sql = sys.argv[1:5]
broker = lasair.LasairBroker()
by_cone, cone_feedback = broker.fetch_alerts(
    {"cone_ra": ra, "cone_dec": dec, "cone_radius": radius}
)
by_cone = list(by_cone)
by_sql, sql_feedback = broker.fetch_alerts({"sqlquery": sql})
by_sql = list(by_sql)
generic = [broker.to_generic_alert(a) for a in by_cone]
first = by_cone[0]["alert_id"]
token = os.environ["LASAIR_API_KEY"]
objects = requests.get(
    f"{lasair.LASAIR_URL}/api/objects/?objectIds={first}&token={token}&format=json", timeout=60
).json()
target = broker.to_target(objects[0])
stored = Target.objects.get(name=first)
print(
    json.dumps(
        {
            "cone": by_cone,
            "cone_feedback": cone_feedback,
            "sql_ids": sorted(a["alert_id"] for a in by_sql),
            "sql_feedback": sql_feedback,
            "generic": [{"id": g.id, "ra": g.ra, "mag": g.mag, "url": g.url} for g in generic],
            "target": {"name": stored.name, "ra": stored.ra, "dec": stored.dec, "id": target.id},
        }
    )
)
