"""A throw-away TOM Toolkit project for the TOM tests: a separate virtual environment with
the tomtoolkit release from the package index (it pins older astropy and numpy than
Lanner's), kept between runs, and a Django project written in a temporary folder.

Input: the TOM release, Lanner's source folder. Output: :func:`tom_python` (the
interpreter of that environment, made on first use), :func:`make_project` (a project whose
``settings.py`` points ``BROKERS['LANNER']`` at a server), :func:`run_in_tom` (runs a
script there after ``migrate``, returns its JSON output). Side effects: a virtual
environment under the system's temporary folder, subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

TOM_RELEASE = "3.1.0"
SRC = Path(__file__).resolve().parents[2] / "src"
VENV = Path(tempfile.gettempdir()) / f"lanner-tom-venv-{TOM_RELEASE}"


def tom_python() -> Path:
    """The Python of an environment with ``tomtoolkit=={TOM_RELEASE}`` (made once)."""
    python = VENV / "bin" / "python"
    ready = VENV / ".ready"
    if ready.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"tomtoolkit=={TOM_RELEASE}", "httpx",
         "pyyaml"],
        check=True, capture_output=True,
    )  # fmt: skip
    ready.write_text(TOM_RELEASE)
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
