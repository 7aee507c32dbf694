"""Routing of pipeline matches to channels, and parsing of output options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from lanner.distribute.base import DeliveryReport, FilterTarget, OutputOptions
from lanner.distribute.router import MatchRouter, output_options
from lanner.distribute.topic_names import topic_name


@dataclass
class Flt:
    filter_id: int
    owner_id: int
    name: str
    output: str


@dataclass
class M:
    filter: Flt
    values: dict[str, Any]


@dataclass
class Recording:
    calls: list[tuple[FilterTarget, list[dict[str, Any]]]] = field(default_factory=list)

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        self.calls.append((target, matches))
        return DeliveryReport("rec", target.filter_name, sent=len(matches))


def test_matches_grouped_per_filter_and_sent_on_chosen_channels() -> None:
    kafka, webhook = Recording(), Recording()
    a, b, c = Flt(1, 5, "a", "kafka"), Flt(2, 5, "b", "webhook"), Flt(3, 6, "c", "none")
    options = {
        1: OutputOptions(kafka=True),
        2: output_options("webhook", '{"webhook_url": "http://x/y", "webhook_body": "slack"}'),
        3: output_options("none"),
    }
    router = MatchRouter(
        {"kafka": kafka, "webhook": webhook}, "objectId", options_for=lambda f: options[f.filter_id]
    )
    router.deliver(
        [
            M(a, {"objectId": "ZTF1"}),
            M(b, {"objectId": "ZTF2"}),
            M(a, {"objectId": "ZTF3"}),
            M(c, {}),
        ]
    )
    assert [(t.filter_name, rows) for t, rows in kafka.calls] == [
        ("a", [{"objectId": "ZTF1"}, {"objectId": "ZTF3"}])
    ]
    ((target, rows),) = webhook.calls
    assert target.topic == topic_name(5, "b") and target.outputs.webhook_body == "slack"
    assert rows == [{"objectId": "ZTF2"}]
    assert [r.sent for r in router.reports] == [2, 1]


@pytest.mark.parametrize(
    ("output", "options", "message"),
    [
        ("fax", None, "unknown output"),
        ("email", {}, "needs an 'email'"),
        ("webhook", {"webhook_url": ""}, "needs a 'webhook_url'"),
        ("kafka", {"colour": "red"}, "unknown output option"),
    ],
)
def test_bad_output_options_are_explained(output: str, options: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        output_options(output, options)


def test_output_options_from_json() -> None:
    opts = output_options("kafka", '{"payload": "lite", "daily_quota_bytes": 1000000}')
    assert opts == OutputOptions(kafka=True, payload="lite", daily_quota_bytes=1_000_000)
    mail = output_options("email", {"email": "a@b.c", "email_mode": "daily"})
    assert not mail.kafka and mail.email == "a@b.c" and mail.email_mode == "daily"
