"""Logging of the long-running commands: one line per event, as text or JSON.

Input: log records of the ``lanner`` loggers; ids passed as ``extra`` (``alert_id``,
``filter_id``, ``filter``, ``origin``, ``reason``, ``dead_letters``) become fields of the
JSON line. Output: lines on stderr. Side effects: sets the handler and level of the
``lanner`` logger (records still propagate to the root logger's handlers, if any).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

#: Attributes of every LogRecord: anything else was passed as ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send log records at ``level`` or above to stderr, as ``text`` or ``json`` lines."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("lanner-stderr")
    logger = logging.getLogger("lanner")
    logger.handlers[:] = [h for h in logger.handlers if h.get_name() != "lanner-stderr"]
    logger.addHandler(handler)
    logger.setLevel(level.upper())
