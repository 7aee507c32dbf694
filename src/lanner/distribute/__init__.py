"""Distribute: each active filter's matches out to the people who asked for them.

:mod:`lanner.distribute.base` holds the contract (``FilterTarget``, ``OutputOptions``,
``DeliveryReport``, the ``Delivery`` protocol); the channels are
:mod:`lanner.distribute.kafka` (a topic per filter, named by
:mod:`lanner.distribute.topic_names`, JSON from :mod:`lanner.distribute.json_payload`),
:mod:`lanner.distribute.email` and :mod:`lanner.distribute.webhook`;
:mod:`lanner.distribute.router` hands the pipeline's matches to them.
"""
