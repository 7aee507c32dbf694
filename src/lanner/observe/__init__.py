"""Observing a running broker: Prometheus metrics (:mod:`lanner.observe.metrics`) and
structured logs (:mod:`lanner.observe.logs`)."""
