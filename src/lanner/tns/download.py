"""Download the TNS public objects files as a TNS bot does.

Input: the settings (``tns_url``, ``tns_api_key``, ``tns_bot_id``, ``tns_bot_name``) and
which file: the whole catalogue (``tns_public_objects.csv.zip``, rebuilt daily), one day's
additions and changes (``tns_public_objects_YYYYMMDD.csv.zip``, kept a month) or one hour's
(``tns_public_objects_HH.csv.zip``). Output: the file's bytes. Side effects: one HTTP
``POST`` with the form field ``api_key`` and the ``User-Agent`` TNS asks bots to send
(``tns_marker{"tns_id": ..., "type": "bot", "name": ...}``). The key is never logged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from lanner.settings import Settings

#: Seconds to wait for the TNS server.
TIMEOUT = 300.0


class TnsDownloadError(RuntimeError):
    """A download that failed; the message says what to check."""


def file_name(full: bool = False, daily: str | None = None, hourly: int | None = None) -> str:
    """The name of the file to fetch (exactly one of ``full``, ``daily``, ``hourly``)."""
    if sum((full, daily is not None, hourly is not None)) != 1:
        raise ValueError("give exactly one of full, daily (YYYYMMDD) or hourly (HH)")
    if full:
        return "tns_public_objects.csv.zip"
    if daily is not None:
        day = daily.replace("-", "")
        try:
            dt.datetime.strptime(day, "%Y%m%d")
        except ValueError as exc:
            raise ValueError(f"--daily {daily!r}: give a date as YYYYMMDD") from exc
        return f"tns_public_objects_{day}.csv.zip"
    assert hourly is not None
    if not 0 <= hourly <= 23:
        raise ValueError(f"--hourly {hourly}: give an hour 0-23")
    return f"tns_public_objects_{hourly:02d}.csv.zip"


def user_agent(bot_id: str, bot_name: str) -> str:
    """TNS's bot marker (the ``User-Agent`` of every request)."""
    marker = json.dumps({"tns_id": int(bot_id), "type": "bot", "name": bot_name})
    return f"tns_marker{marker}"


def download(settings: Settings, name: str) -> bytes:
    """POST for the file ``name`` under ``settings.tns_url``; return its bytes."""
    if not (settings.tns_api_key and settings.tns_bot_id and settings.tns_bot_name):
        raise TnsDownloadError(
            "downloading from the TNS needs a bot: set LANNER_TNS_API_KEY (or "
            "LANNER_TNS_API_KEY_FILE), LANNER_TNS_BOT_ID and LANNER_TNS_BOT_NAME"
        )
    if not re.fullmatch(r"\d+", settings.tns_bot_id):
        raise TnsDownloadError(f"LANNER_TNS_BOT_ID={settings.tns_bot_id!r} is not a number")
    base = settings.tns_url
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise TnsDownloadError(f"LANNER_TNS_URL={base!r} is not an http(s) URL")
    url = base.rstrip("/") + "/" + name
    body = urllib.parse.urlencode({"api_key": settings.tns_api_key}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "User-Agent": user_agent(settings.tns_bot_id, settings.tns_bot_name),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        hint = {
            401: "check the API key and bot id",
            403: "check the API key and bot id",
            404: "the file is not there (a daily file is kept one month)",
            429: "TNS throttles bots: try again later",
        }.get(exc.code, "try again later")
        raise TnsDownloadError(f"{url}: HTTP {exc.code} {exc.reason}: {hint}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TnsDownloadError(f"{url}: cannot download ({exc})") from exc
