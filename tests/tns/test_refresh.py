"""``lanner tns refresh`` and ``lanner tns import`` end to end: the download is served by a
local HTTP server from a recorded file, which checks the bot's key and marker."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lanner.store import open_store
from lanner.tns.recorded import Row, tns_file

Served = dict[str, object]


@pytest.fixture()
def tns_server(bts: list[Row]) -> Iterator[tuple[str, Served]]:
    """A TNS stand-in serving the BTS file as tns_public_objects_05.csv.zip."""
    files = {"/files/tns_public_objects_05.csv.zip": tns_file(bts[:300], zipped=True)}
    seen: Served = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            seen.update(path=self.path, agent=self.headers["User-Agent"], form=form)
            if form.get("api_key") != ["secret-key"]:
                self.send_error(401, "Unauthorized")
                return
            body = files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files/", seen
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_downloads_as_a_bot_and_imports(
    cli: Callable[..., str],
    lanner_home: Path,
    tns_server: tuple[str, Served],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, seen = tns_server
    monkeypatch.setenv("LANNER_TNS_URL", url)
    monkeypatch.setenv("LANNER_TNS_BOT_ID", "12345")
    monkeypatch.setenv("LANNER_TNS_BOT_NAME", "lanner_bot")
    out = cli("tns", "refresh", "--hourly", "5", ok=False)
    assert "LANNER_TNS_API_KEY" in out  # no key: says which setting to give
    monkeypatch.setenv("LANNER_TNS_API_KEY", "wrong")
    out = cli("tns", "refresh", "--hourly", "5", ok=False)
    assert "HTTP 401" in out and "wrong" not in out
    key_file = lanner_home.parent / "tns.key"
    key_file.write_text("secret-key\n")
    monkeypatch.delenv("LANNER_TNS_API_KEY")
    monkeypatch.setenv("LANNER_TNS_API_KEY_FILE", str(key_file))
    out = cli("tns", "refresh", "--hourly", "5")
    assert "300 rows read" in out and "297 new" in out, out
    assert seen["path"] == "/files/tns_public_objects_05.csv.zip"
    assert seen["agent"] == 'tns_marker{"tns_id": 12345, "type": "bot", "name": "lanner_bot"}'
    out = cli("tns", "refresh", "--daily", "20220901", ok=False)
    assert "HTTP 404" in out and "one month" in out
    out = cli("tns", "refresh", "--daily", "2022-13-01", ok=False)
    assert "YYYYMMDD" in out
    out = cli("tns", "refresh", "--full", "--hourly", "3", ok=False)
    assert "exactly one" in out
    store = open_store(f"sqlite:///{lanner_home / 'lanner.db'}", create=False)
    n = store.con.execute("SELECT count(*) FROM crossmatch_tns").fetchone()[0]
    store.close()
    assert n == 297


def test_import_command_reads_files_and_rejects_others(
    cli: Callable[..., str], tmp_path: Path, bts: list[Row]
) -> None:
    path = tmp_path / "tns_public_objects.csv"
    path.write_bytes(tns_file(bts[:100], columns=21))
    out = cli("tns", "import", str(path))
    assert "100 rows read" in out and "99 new" in out, out
    out = cli("tns", "import", str(path))
    assert "0 new, 0 changed" in out and "99 unchanged" in out
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    out = cli("tns", "import", str(bad), ok=False)
    assert "no column" in out and "timestamp line" in out
