"""Schemathesis against a live server, from its own OpenAPI document: no server error
(5xx) and no response outside its schema, on the Rubin and the ZTF instance.

Every check runs but ``positive_data_acceptance``: a value can match the schema and still
be refused with a 400 that says why (SQL the validator rejects, an object id of the wrong
form), which is the documented answer, not a fault.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve.conftest import Instance

EXAMPLES = 15
SEED = 20260601


@pytest.mark.parametrize("name", ["lsst", "ztf"])
def test_schemathesis(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    instance: Instance = request.getfixturevalue(name)
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a test dependency"
    token = instance.people["power"].token
    cmd = [st, "run", f"{instance.api}/openapi.json", "-H", f"Authorization: Token {token}"]
    cmd += ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]
    cmd += ["--max-examples", str(EXAMPLES), "--seed", str(SEED)]
    cmd += ["--phases", "examples,coverage,fuzzing", "--report", "junit"]
    # sherlock/position/ loads the context catalogues on a worker's first call
    cmd += ["--request-timeout", "120", "--suppress-health-check", "too_slow"]
    run = subprocess.run(
        [*cmd, "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-6000:]
    assert "API Operations" in run.stdout and " 0 generated" not in run.stdout
