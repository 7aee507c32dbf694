"""E-mail digests received by a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from lanner.distribute.base import FilterTarget, OutputOptions
from lanner.distribute.email import EmailDelivery, EmailSettings
from lanner.testing.tansu import free_port

RUBIN_ID = 169298433221853273


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: object, session: object, envelope: object
    ) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        raw = content if isinstance(content, bytes) else content.encode()
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(raw))  # type: ignore[attr-defined]
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[EmailSettings, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield EmailSettings(host="127.0.0.1", port=port, sender="broker@lanner.test"), inbox
    finally:
        controller.stop()


def mail_target(mode: str = "immediate") -> FilterTarget:
    outputs = OutputOptions(kafka=False, email="astro@example.org", email_mode=mode)  # type: ignore[arg-type]
    return FilterTarget(3, "Red <novae>", "lanner_3_red_novae_x", outputs, "diaObjectId")


def parts(message: Message) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_subtype()] = payload.decode(
                part.get_content_charset() or "utf-8"
            )
    return found


def test_immediate_digest_is_received_with_both_bodies(
    smtp: tuple[EmailSettings, Inbox],
) -> None:
    settings, inbox = smtp
    matches = [{"diaObjectId": RUBIN_ID, "gmag": 18.5}, {"diaObjectId": 7, "gmag": 20.0}]
    report = EmailDelivery(settings).deliver(mail_target(), matches)
    assert report.ok and report.sent == 2 and report.bytes_sent > 0
    assert len(inbox.messages) == 1
    sender, rcpts, message = inbox.messages[0]
    assert sender == "broker@lanner.test" and rcpts == ["astro@example.org"]
    assert message["Subject"] == "Lanner: 2 match(es) for filter Red <novae>"
    bodies = parts(message)
    assert set(bodies) == {"plain", "html"}
    assert f"{RUBIN_ID}\t18.5" in bodies["plain"]
    assert "diaObjectId\tgmag" in bodies["plain"]
    assert f"<td>{RUBIN_ID}</td>" in bodies["html"]
    assert "Red &lt;novae&gt;" in bodies["html"]  # escaped, not markup


def test_daily_digest_collects_batches_into_one_mail(smtp: tuple[EmailSettings, Inbox]) -> None:
    settings, inbox = smtp
    delivery = EmailDelivery(settings)
    tgt = mail_target("daily")
    assert delivery.deliver(tgt, [{"diaObjectId": 1}]).queued == 1
    assert delivery.deliver(tgt, [{"diaObjectId": RUBIN_ID}]).queued == 1
    assert inbox.messages == []
    reports = delivery.send_daily()
    assert [r.sent for r in reports] == [2]
    assert len(inbox.messages) == 1
    plain = parts(inbox.messages[0][2])["plain"]
    assert "matched 2 object(s)" in plain and str(RUBIN_ID) in plain
    assert delivery.send_daily() == []  # nothing left


def test_unreachable_server_is_reported() -> None:
    settings = EmailSettings(host="127.0.0.1", port=free_port(), timeout_s=2)
    report = EmailDelivery(settings).deliver(mail_target(), [{"diaObjectId": 1}])
    assert report.failed == 1 and "SMTP 127.0.0.1" in report.errors[0]


def test_password_comes_only_from_the_environment(
    smtp: tuple[EmailSettings, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, inbox = smtp
    monkeypatch.delenv("LANNER_TEST_SMTP_PW", raising=False)
    with_user = EmailSettings(
        host=settings.host,
        port=settings.port,
        username="lanner",
        password_env="LANNER_TEST_SMTP_PW",
    )
    report = EmailDelivery(with_user).deliver(mail_target(), [{"diaObjectId": 1}])
    assert report.failed == 1 and "$LANNER_TEST_SMTP_PW" in report.errors[0]
    assert inbox.messages == []
