"""Route a batch's filter matches to each filter's delivery channels.

Input: the pipeline's matches for one batch (objects with ``.filter`` — a saved
filter with ``filter_id``, ``owner_id``, ``name``, ``output`` — and ``.values``,
the selected columns) and, per filter, its output options (the ``filters``
table's ``output`` and ``output_options`` JSON). Output: one call per filter and
channel of :meth:`lanner.distribute.base.Delivery.deliver`; the reports are kept
in :attr:`MatchRouter.reports`. Side effects: those of the channels.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lanner.distribute.base import (
    OUTPUTS,
    Delivery,
    DeliveryReport,
    FilterTarget,
    OutputOptions,
)
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


class MatchLike(Protocol):
    filter: Any
    values: dict[str, Any]


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


class MatchRouter:
    """The pipeline's delivery hook: groups matches by filter and calls the channels.

    Parameters
    ----------
    channels
        Channel name (``"kafka"``, ``"email"``, ``"webhook"``) to delivery.
    object_id_column
        Name of the object id among the selected columns (``objectId``/``diaObjectId``).
    options_for
        Returns a filter's :class:`OutputOptions`; by default built from its
        ``output`` alone.
    topic_prefix
        Prefix of the filter topics.
    """

    def __init__(
        self,
        channels: Mapping[str, Delivery],
        object_id_column: str,
        options_for: Callable[[FilterLike], OutputOptions] | None = None,
        topic_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.channels = dict(channels)
        self.object_id_column = object_id_column
        self.options_for = options_for or (lambda flt: output_options(flt.output))
        self.topic_prefix = topic_prefix
        self.reports: list[DeliveryReport] = []

    def target(self, flt: FilterLike) -> FilterTarget:
        """The delivery view of a saved filter."""
        return FilterTarget(
            owner_id=flt.owner_id,
            filter_name=flt.name,
            topic=topic_name(flt.owner_id, flt.name, self.topic_prefix),
            outputs=self.options_for(flt),
            object_id_column=self.object_id_column,
        )

    def deliver(self, matches: Sequence[MatchLike]) -> None:
        """Send each filter's matches on its channels; reports go to :attr:`reports`."""
        grouped: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        for match in matches:
            _, rows = grouped.setdefault(match.filter.filter_id, (match.filter, []))
            rows.append(match.values)
        for flt, rows in grouped.values():
            target = self.target(flt)
            wanted = {
                "kafka": target.outputs.kafka,
                "email": target.outputs.email is not None,
                "webhook": target.outputs.webhook_url is not None,
            }
            for name, on in wanted.items():
                if on and name in self.channels:
                    self.reports.append(self.channels[name].deliver(target, rows))
