"""Where a filter's matches go: its output options, delivery target and channel.

Input: a saved filter (``filter_id``, ``owner_id``, ``name``, ``output`` and the
``output_options`` JSON of the ``filters`` table). Output: :class:`OutputOptions`, the
:class:`FilterTarget` the channels take, and the name of the filter's channel. No side
effects; the sending is :mod:`lanner.distribute.outbox`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from lanner.distribute.base import OUTPUTS, FilterTarget, OutputOptions
from lanner.distribute.topic_names import DEFAULT_PREFIX, topic_name

#: Keys of ``output_options`` JSON that map onto :class:`OutputOptions` fields.
_OPTION_KEYS = (
    "payload",
    "daily_quota_bytes",
    "email",
    "email_mode",
    "webhook_url",
    "webhook_body",
)


class FilterLike(Protocol):
    @property
    def filter_id(self) -> int: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def output(self) -> str: ...
    @property
    def output_options(self) -> str | None: ...


def output_options(output: str, options: Mapping[str, Any] | str | None = None) -> OutputOptions:
    """Build :class:`OutputOptions` from a filter's ``output`` and ``output_options``.

    Parameters
    ----------
    output
        ``"none"``, ``"kafka"``, ``"email"`` or ``"webhook"``; Kafka is used only
        when it is ``"kafka"``.
    options
        A mapping or its JSON text, with any of ``payload``, ``daily_quota_bytes``,
        ``email``, ``email_mode``, ``webhook_url``, ``webhook_body``.

    Raises
    ------
    ValueError
        For an unknown output, an unknown option key, or e-mail/webhook without
        an address.
    """
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}: use none, kafka, email or webhook")
    parsed: dict[str, Any] = dict(
        json.loads(options) if isinstance(options, str) else options or {}
    )
    unknown = sorted(set(parsed) - set(_OPTION_KEYS))
    if unknown:
        raise ValueError(f"unknown output option(s) {unknown}; known: {list(_OPTION_KEYS)}")
    if output == "email" and not parsed.get("email"):
        raise ValueError("output 'email' needs an 'email' address in the options")
    if output == "webhook" and not parsed.get("webhook_url"):
        raise ValueError("output 'webhook' needs a 'webhook_url' in the options")
    if output != "email":
        parsed.pop("email", None)
    if output != "webhook":
        parsed.pop("webhook_url", None)
    return OutputOptions(kafka=output == "kafka", **parsed)


def filter_target(
    flt: FilterLike, object_id_column: str, topic_prefix: str = DEFAULT_PREFIX
) -> FilterTarget:
    """The delivery view of a saved filter: owner, name, topic and output options.

    Raises
    ------
    ValueError
        If the filter's stored output options do not parse (see :func:`output_options`).
    """
    return FilterTarget(
        owner_id=flt.owner_id,
        filter_name=flt.name,
        topic=topic_name(flt.owner_id, flt.name, topic_prefix),
        outputs=output_options(flt.output, flt.output_options),
        object_id_column=object_id_column,
    )


def channel_of(outputs: OutputOptions) -> str | None:
    """The channel a filter's matches go to: ``kafka``, ``email`` (one e-mail per delivery
    pass), ``digest`` (the daily e-mail of ``lanner digest send``), ``webhook``, or ``None``."""
    if outputs.kafka:
        return "kafka"
    if outputs.email is not None:
        return "digest" if outputs.email_mode == "daily" else "email"
    if outputs.webhook_url is not None:
        return "webhook"
    return None
