"""Make a throw-away TOM Toolkit site from TOM's own ``tom_setup`` templates.

Run by the Python of a TOM Toolkit installation with one argument, the site's folder.
Writes ``tomsite/settings.py`` and ``tomsite/urls.py`` as ``manage.py tom_setup`` would
(non-interactively), an empty ``custom_code`` app, and the Lasair broker's settings.
"""

import pathlib
import sys

import django
import tom_setup
from django.template import Context, Engine

site = pathlib.Path(sys.argv[1])
templates = pathlib.Path(tom_setup.__file__).parent / "templates" / "tom_setup"
context = Context(
    {
        "PROJECT_NAME": "tomsite",
        "SECRET_KEY": "test-only-not-secret",
        "TARGET_TYPE": "SIDEREAL",
        "HINTS_ENABLED": False,
        "CUSTOM_CODE_APP_NAME": "custom_code",
        "DJANGO_VERSION": django.get_version(),
        "CREATE_DATE": "the test",
    }
)
engine = Engine()
(site / "tomsite").mkdir(parents=True)
(site / "tomsite" / "__init__.py").write_text("")
(site / "custom_code").mkdir()
(site / "custom_code" / "__init__.py").write_text("")
for name in ("settings", "urls"):
    text = engine.from_string((templates / f"{name}.tmpl").read_text()).render(context)
    (site / "tomsite" / f"{name}.py").write_text(text)
with (site / "tomsite" / "settings.py").open("a") as out:
    out.write(
        "\nBROKERS = {'LASAIR': {'api_key': os.environ['LASAIR_API_KEY']}}\n"
        "TOM_ALERT_CLASSES = ['tom_alerts.brokers.lasair.LasairBroker']\n"
    )
