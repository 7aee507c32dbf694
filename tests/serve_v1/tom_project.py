"""A throw-away TOM Toolkit project for the TOM plugin's tests: the virtual environment of
the TOM tests (tomtoolkit from the package index pins older astropy and numpy than
Lanner's; see ``tests/serve/test_tom_toolkit.py``), and a Django project written in a
temporary folder.

Input: Lanner's source folder. Output: :func:`tom_python` (the interpreter of the
shared TOM environment), :func:`make_project` (a project whose
``settings.py`` points ``BROKERS['LANNER']`` at a server), :func:`run_in_tom` (runs a
script there after ``migrate``, returns its JSON output). Side effects: httpx added
to that environment if missing, subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"


def tom_python() -> Path:
    """The Python of the TOM Toolkit environment the Lasair-module tests use
    (``LANNER_TOM_VENV``, made on first use), with httpx, which the plugin needs."""
    from tests.serve.test_tom_toolkit import tom_python as shared_tom_python

    python = shared_tom_python()
    probe = [str(python), "-c", "import httpx, yaml"]
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "httpx", "pyyaml"],
            check=True,
            capture_output=True,
        )
    return python


SETTINGS = """\
from tom_base.settings import *  # noqa: F403 - the TOM's own defaults

INSTALLED_APPS = [*INSTALLED_APPS, *[a for a in ("tom_alerts",) if a not in INSTALLED_APPS]]
SECRET_KEY = "throw-away"
DEBUG = False
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
TOM_ALERT_CLASSES = ["lanner.tom.broker.LannerBroker", "tom_alerts.brokers.lasair.LasairBroker"]
BROKERS = {{"LANNER": {{"api_url": {api_url!r}, "api_key": {token!r}}},
           "LASAIR": {{"api_key": {token!r}}}}}
"""


def make_project(root: Path, api_url: str, token: str) -> Path:
    """A TOM project in ``root`` (settings module ``tomproject.settings``)."""
    package = root / "tomproject"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        SETTINGS.format(db=str(root / "tom.sqlite3"), api_url=api_url, token=token)
    )
    return root


def run_in_tom(project: Path, script: str, timeout: float = 300) -> Any:
    """Run ``script`` in the project after ``migrate``; it prints one JSON document last."""
    prelude = textwrap.dedent(
        """\
        import json, django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tomproject.settings",
        "PYTHONPATH": os.pathsep.join([str(project), str(SRC)]),
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(
        [str(tom_python()), "-c", prelude + textwrap.dedent(script)],
        cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
