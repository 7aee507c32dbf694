"""The channel and target of a filter, and parsing of output options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from lanner.distribute.base import OutputOptions
from lanner.distribute.router import channel_of, filter_target, output_options
from lanner.distribute.topic_names import topic_name


@dataclass
class Flt:
    filter_id: int
    owner_id: int
    name: str
    output: str
    output_options: str | None = None


@pytest.mark.parametrize(
    ("output", "options", "channel"),
    [
        ("kafka", None, "kafka"),
        ("email", '{"email": "a@b.c"}', "email"),
        ("email", '{"email": "a@b.c", "email_mode": "daily"}', "digest"),
        ("webhook", '{"webhook_url": "http://x/y", "webhook_body": "slack"}', "webhook"),
        ("none", None, None),
    ],
)
def test_each_filter_has_one_channel(output: str, options: str | None, channel: str) -> None:
    target = filter_target(Flt(2, 5, "b", output, options), "objectId")
    assert target.topic == topic_name(5, "b") and target.object_id_column == "objectId"
    assert channel_of(target.outputs) == channel


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
