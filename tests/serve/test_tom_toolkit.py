"""TOM Toolkit's unmodified Lasair module (tomtoolkit 3.1.0) fetches alerts and makes a
target against a Lanner ZTF instance.

TOM Toolkit pins its own versions of the science stack, so it runs in a virtual
environment of its own, as at a TOM site: ``LANNER_TOM_VENV`` (made there on first use
with ``pip install tomtoolkit==3.1.0``, several minutes; reused afterwards; default
``~/.cache/lanner-tests/tomtoolkit-3.1.0``). The site is a throw-away Django project in
the test's temporary folder, made from TOM's own ``tom_setup`` templates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serve.archive_facts import busiest_object, rows, within
from tests.serve.conftest import Instance

TOM_VERSION = "3.1.0"
HERE = Path(__file__).resolve().parent / "tom"


def tom_python() -> Path:
    """The Python of a TOM Toolkit installation, made once if missing."""
    default = Path.home() / ".cache" / "lanner-tests" / f"tomtoolkit-{TOM_VERSION}"
    venv = Path(os.environ.get("LANNER_TOM_VENV", default))
    python = venv / "bin" / "python"
    probe = [
        str(python),
        "-c",
        f"from importlib.metadata import version; assert version('tomtoolkit') == '{TOM_VERSION}'",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"tomtoolkit=={TOM_VERSION}"], check=True
    )
    print(f"tomtoolkit {TOM_VERSION} installed in {time.monotonic() - start:.0f} s")
    return python


def test_tom_fetches_alerts_and_makes_a_target(ztf: Instance, tmp_path: Path) -> None:
    python = tom_python()
    site = tmp_path / "site"
    subprocess.run([str(python), str(HERE / "make_site.py"), str(site)], check=True)
    object_id, ra, dec = busiest_object(ztf.db_url, "ztf")
    near = within(ztf.db_url, "ztf", ra, dec, 10.0)
    sql = "ncand >= 20"
    truth = sorted(r[0] for r in rows(ztf.db_url, "SELECT objectId FROM objects WHERE ncand >= 20"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tomsite.settings",
        "PYTHONPATH": str(site),
        "LASAIR_API_KEY": ztf.people["power"].token,
        "LANNER_URL": ztf.server.url,
    }
    run = subprocess.run(
        [str(python), str(HERE / "run_lasair_broker.py"), str(ra), str(dec), "10", sql],
        capture_output=True,
        text=True,
        env=env,
        cwd=site,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["cone_feedback"] == "" and out["sql_feedback"] == ""
    assert [a["alert_id"] for a in out["cone"]] == near and near[0] == object_id
    first = out["cone"][0]
    assert first["ra"] == pytest.approx(ra) and first["mag"] is not None
    assert out["sql_ids"] == truth and len(truth) > 1
    assert out["generic"][0]["id"] == object_id
    assert out["target"]["name"] == object_id
    assert out["target"]["ra"] == pytest.approx(ra) and out["target"]["dec"] == pytest.approx(dec)
    # TOM sends its token in query strings: the server's log never shows it.
    assert ztf.people["power"].token not in ztf.server.log_text()
    assert "token=***" in ztf.server.log_text()
