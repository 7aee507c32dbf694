"""Lanner's web server: the Lasair-compatible REST API under ``/api/``, Lanner's own API
under ``/api/v1/``, the web site, ``/metrics`` and the OpenAPI document.

:func:`lanner.serve.app.create_app` builds the application (a factory, so that every
worker process of ``lanner serve`` builds its own); :mod:`lanner.serve.auth` has the
authentication dependencies, :mod:`lanner.serve.accounts` the passwords, tokens and
sessions. Importing this package imports no web framework (the schema reads
:mod:`lanner.serve.tables`).
"""
