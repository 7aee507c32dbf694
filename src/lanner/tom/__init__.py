"""TOM Toolkit plugin for Lanner's Rubin instances (optional extra ``tom``).

:class:`lanner.tom.broker.LannerBroker` is a ``tom_alerts`` broker module: add
``'lanner.tom.broker.LannerBroker'`` to ``TOM_ALERT_CLASSES`` and
``BROKERS['LANNER'] = {'api_url': 'https://…/api', 'api_key': '…'}`` to the TOM's settings.
Importing this package loads nothing (Django is needed only by :mod:`lanner.tom.broker`).
"""
