"""E-mail digests of a filter's matches, sent through SMTP.

Input: a :class:`FilterTarget` with an e-mail address and its matches. Output: a
multipart message (plain text and HTML) listing the matches as a table, sent with
:mod:`smtplib` to the SMTP server of :class:`EmailSettings`. Mode ``immediate``
sends one digest per batch with matches; mode ``daily`` keeps the matches in a
:class:`DigestBuffer` and :meth:`EmailDelivery.send_daily` sends one digest per
filter (call it once a day). The SMTP password is read from an environment
variable, never from settings files. Failures are reported, not raised.
"""

from __future__ import annotations

import hashlib
import html
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from lanner.distribute.base import (
    ALERT_KEY,
    LIGHTCURVE_KEY,
    MATCH_ID_KEY,
    DeliveryReport,
    FilterTarget,
    utc_now,
)
from lanner.distribute.json_payload import to_jsonable

#: Matches listed in one e-mail; the rest are counted in a closing line.
MAX_ROWS_PER_EMAIL = 500


@dataclass(frozen=True)
class EmailSettings:
    """How to reach the SMTP server.

    Attributes
    ----------
    host, port
        SMTP server (port 25/587 plain or STARTTLS, 465 implicit TLS).
    sender
        ``From`` address.
    username
        Login name, or ``None`` for no authentication.
    password
        The password (from the settings: the environment or a file).
    password_env
        Name of the environment variable holding the password, read when ``password``
        is not given.
    security
        ``"none"``, ``"starttls"`` or ``"ssl"``.
    timeout_s
        Socket timeout (s).
    """

    host: str = "localhost"
    port: int = 25
    sender: str = "lanner@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str = "LANNER_SMTP_PASSWORD"
    security: str = "none"
    timeout_s: float = 30.0


class DigestBuffer:
    """Matches waiting for a daily digest, per filter (in memory)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[int, str], tuple[FilterTarget, list[dict[str, Any]]]] = {}

    def add(self, target: FilterTarget, matches: Sequence[dict[str, Any]]) -> None:
        """Keep ``matches`` for ``target``'s next digest."""
        key = (target.owner_id, target.filter_name)
        _, kept = self._pending.setdefault(key, (target, []))
        kept.extend(matches)

    def drain(self) -> list[tuple[FilterTarget, list[dict[str, Any]]]]:
        """Return and forget everything kept."""
        pending, self._pending = list(self._pending.values()), {}
        return pending


def render_digest(target: FilterTarget, matches: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The plain-text and HTML bodies listing ``matches`` (selected columns only)."""
    shown = [
        {k: to_jsonable(v) for k, v in m.items() if k not in (LIGHTCURVE_KEY, ALERT_KEY)}
        for m in matches[:MAX_ROWS_PER_EMAIL]
    ]
    columns: list[str] = []
    for row in shown:
        columns.extend(c for c in row if c not in columns)
    more = len(matches) - len(shown)
    intro = f"Filter '{target.filter_name}' matched {len(matches)} object(s) ({utc_now()})."
    text_lines = [intro, "", "\t".join(columns)]
    text_lines += ["\t".join(_cell(row.get(c)) for c in columns) for row in shown]
    if more:
        text_lines.append(f"... and {more} more")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in shown
    )
    tail = f"<p>... and {more} more</p>" if more else ""
    html_body = (
        f"<html><body><p>{html.escape(intro)}</p>"
        f"<table border='1'><tr>{head}</tr>{body_rows}</table>{tail}</body></html>"
    )
    return "\n".join(text_lines) + "\n", html_body


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


class EmailDelivery:
    """E-mail channel of the :class:`~lanner.distribute.base.Delivery` protocol."""

    channel = "email"

    def __init__(
        self, settings: EmailSettings, buffer: DigestBuffer | None = None, keep_daily: bool = True
    ) -> None:
        self.settings = settings
        self.buffer = buffer if buffer is not None else DigestBuffer()
        #: False when daily digests are built from the archive's recorded matches
        #: (``lanner digest send``) rather than kept in this process's memory.
        self.keep_daily = keep_daily

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        """Send a digest now (``immediate``) or keep the matches (``daily``)."""
        report = DeliveryReport(self.channel, target.filter_name)
        if not matches or target.outputs.email is None:
            return report
        if target.outputs.email_mode == "daily":
            if self.keep_daily:
                self.buffer.add(target, matches)
            report.queued = len(matches)
            return report
        return self.send_digest(target, matches)

    def send_daily(self) -> list[DeliveryReport]:
        """Send one digest per filter with kept matches; call once a day."""
        return [self.send_digest(target, matches) for target, matches in self.buffer.drain()]

    def send_digest(
        self, target: FilterTarget, matches: Sequence[Mapping[str, Any]]
    ) -> DeliveryReport:
        """Send one digest of ``matches`` now."""
        report = DeliveryReport(self.channel, target.filter_name, attempts=1)
        message = self.build_message(target, matches)
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            report.failed = len(matches)
            report.errors.append(f"SMTP {self.settings.host}:{self.settings.port}: {exc}")
            return report
        if refused:
            report.failed = len(matches)
            report.errors.append(f"recipient refused: {refused}")
            return report
        report.sent = len(matches)
        report.bytes_sent = len(message.as_bytes())
        report.delivered = list(range(len(matches)))
        return report

    def build_message(
        self, target: FilterTarget, matches: Sequence[Mapping[str, Any]]
    ) -> EmailMessage:
        """The digest e-mail for ``matches`` of ``target``."""
        assert target.outputs.email is not None
        text, html_body = render_digest(target, matches)
        message = EmailMessage()
        message["Subject"] = f"Lanner: {len(matches)} match(es) for filter {target.filter_name}"
        message["From"] = self.settings.sender
        message["To"] = target.outputs.email
        ids = sorted(str(m[MATCH_ID_KEY]) for m in matches if MATCH_ID_KEY in m)
        if ids:
            # The same matches sent again carry the same Message-ID: mail clients and
            # archives drop the repeat.
            digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
            message["Message-ID"] = f"<lanner-{digest}@{self.settings.sender.split('@')[-1]}>"
        message.set_content(text)
        message.add_alternative(html_body, subtype="html")
        return message

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.username:
            password = s.password or os.environ.get(s.password_env)
            if password is None:
                smtp.close()
                raise smtplib.SMTPException(
                    f"SMTP user {s.username!r} set but ${s.password_env} is not"
                )
            smtp.login(s.username, password)
        return smtp
