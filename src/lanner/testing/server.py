"""A real ``lanner serve`` on a loopback port, for tests and benchmarks.

Input: a database URL (the archive must exist), the number of worker processes and extra
environment variables. Output: a running :class:`LiveServer` whose ``url`` is
``http://127.0.0.1:<port>``; its log (stderr and stdout of the server) is kept in a file,
``log_text()``. Side effects: a subprocess (``python -m lanner serve``) and its workers,
stopped by :meth:`LiveServer.stop` (or leaving the ``with`` block).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``lanner serve --db URL`` on 127.0.0.1, started by :meth:`start`."""

    def __init__(
        self,
        db_url: str,
        *,
        workers: int = 2,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.db_url = db_url
        self.workers = workers
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="lanner-serve-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self._log.read_text(errors="replace")

    def start(self) -> LiveServer:
        self.port = free_port()
        env = {**os.environ, **self.env}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the server makes its own
        cmd = [
            sys.executable, "-m", "lanner", "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--db", self.db_url, "--workers", str(self.workers),
        ]  # fmt: skip
        with self._log.open("wb") as out:
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lanner serve exited at start:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"lanner serve not ready in {self.startup_timeout} s:\n{self.log_text()}"
        )

    def stop(self) -> None:
        """Stop the server and its workers (SIGTERM to its process group, then SIGKILL)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
