"""Helpers that start real servers for Lanner's tests (no pytest dependency)."""
